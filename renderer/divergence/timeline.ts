// The divergence timeline's data: one plain entry per divergence event of the session
// (new / changed / resolved / consensus) and per replica lost or back, newest first and bounded, with
// the screenshots taken at confirmation as object URL strings. Pure functions over plain data:
// tested in plain Node.

import type { Divergence, DivergenceEvent, PixelRect } from '../../common/divergence';

/** Entries kept per session; older ones are dropped (and their object URLs revoked). */
export const MAX_TIMELINE_ENTRIES = 100;
/**
 * Entries whose screenshots stay in memory (the newest ones that have any): a replica that keeps
 * diverging anew must not pile up 100 × N full-screen PNGs. Older entries keep their text; their
 * pictures stay in the evidence folder on disk.
 */
export const MAX_PICTURED_TIMELINE_ENTRIES = 20;
/** Regions kept per entry; more are merged into their bounding box (the count stays exact). */
export const MAX_TIMELINE_REGIONS = 256;

/** What happened: a divergence event, or a replica's connection lost / back (comparison covers fewer or more). */
export type TimelineKind = 'new' | 'changed' | 'resolved' | 'consensus' | 'lost' | 'back';

/** One replica's screen at confirmation. */
export interface TimelineScreenshot {
  readonly replicaId: string;
  /**
   * 'capturing': the PNG is being encoded; 'ready': `url` is an object URL; 'failed': no picture;
   * 'released': let go to bound memory (MAX_PICTURED_TIMELINE_ENTRIES; the evidence folder has it).
   */
  readonly state: 'capturing' | 'ready' | 'failed' | 'released';
  readonly url: string | null;
}

/** Where the back end keeps the event's evidence. */
export interface TimelineEvidence {
  /** 'pending': not answered yet; 'none': not a new divergence; 'saved': folder started; 'failed': see error. */
  readonly state: 'pending' | 'none' | 'saved' | 'failed';
  readonly folder: string | null;
  readonly error: string | null;
}

/** One event of the timeline (plain data: the store holds it). */
export interface TimelineEntry {
  /** Increasing within a session. */
  readonly id: number;
  readonly kind: TimelineKind;
  /** Wall-clock time of the event (ms since the epoch). */
  readonly atMs: number;
  readonly divergenceId: string | null;
  readonly divergenceKind: 'pixels' | 'size' | null;
  readonly outliers: readonly string[];
  readonly agreeing: readonly string[];
  readonly noMajority: boolean;
  /** The regions (at most MAX_TIMELINE_REGIONS; see regionCount). */
  readonly regions: readonly PixelRect[];
  /** How many regions the engine reported. */
  readonly regionCount: number;
  /**
   * The last input sequence number sent before the event (none sent: null). Shown as "after input
   * #N": the input preceded the event, it did not necessarily cause it (an out-of-band change).
   */
  readonly inputSeq: number | null;
  readonly screenshots: readonly TimelineScreenshot[];
  readonly evidence: TimelineEvidence;
  /** How many later "changed" events of the same divergence were folded into this entry (see foldChange). */
  readonly updates: number;
  /** For 'lost' / 'back': the replica; else null. */
  readonly replicaId: string | null;
  /** For 'lost': why the connection ended; else null. */
  readonly reason: string | null;
}

/** What the caller knows besides the event. */
export interface TimelineEntryContext {
  readonly id: number;
  readonly atMs: number;
  readonly inputSeq: number | null;
  /** For 'divergence-resolved': the divergence as last reported (the event carries only its id). */
  readonly resolved?: Divergence;
  /** Replicas whose screens are being captured (new divergences). */
  readonly screenshotIds?: readonly string[];
}

function keptRegions(regions: readonly PixelRect[]): PixelRect[] {
  const plain = regions.map((region) => ({ x: region.x, y: region.y, width: region.width, height: region.height }));
  if (plain.length <= MAX_TIMELINE_REGIONS) return plain;
  const left = Math.min(...plain.map((region) => region.x));
  const top = Math.min(...plain.map((region) => region.y));
  const right = Math.max(...plain.map((region) => region.x + region.width));
  const bottom = Math.max(...plain.map((region) => region.y + region.height));
  return [{ x: left, y: top, width: right - left, height: bottom - top }];
}

/** The entry of one engine event. */
export function timelineEntryOf(event: DivergenceEvent, context: TimelineEntryContext): TimelineEntry {
  const divergence = event.type === 'divergence' ? event.divergence : event.type === 'divergence-resolved' ? (context.resolved ?? null) : null;
  const kind: TimelineKind = event.type === 'divergence' ? event.change : event.type === 'divergence-resolved' ? 'resolved' : 'consensus';
  const screenshotIds = event.type === 'divergence' && event.change === 'new' ? (context.screenshotIds ?? []) : [];
  return {
    id: context.id,
    kind,
    atMs: context.atMs,
    divergenceId: divergence?.id ?? (event.type === 'divergence-resolved' ? event.id : null),
    divergenceKind: divergence?.kind ?? null,
    outliers: [...(divergence?.outliers ?? [])],
    agreeing: [...(divergence?.agreeing ?? [])],
    noMajority: divergence?.noMajority ?? false,
    regions: keptRegions(divergence?.regions ?? []),
    regionCount: divergence?.regions.length ?? 0,
    inputSeq: context.inputSeq,
    screenshots: screenshotIds.map((replicaId) => ({ replicaId, state: 'capturing', url: null })),
    evidence: { state: kind === 'new' ? 'pending' : 'none', folder: null, error: null },
    updates: 0,
    replicaId: null,
    reason: null,
  };
}

/** The entry of a replica's connection lost (with why) or back. */
export function connectionEntryOf(kind: 'lost' | 'back', replicaId: string, reason: string | null, context: Pick<TimelineEntryContext, 'id' | 'atMs' | 'inputSeq'>): TimelineEntry {
  return {
    id: context.id,
    kind,
    atMs: context.atMs,
    divergenceId: null,
    divergenceKind: null,
    outliers: [],
    agreeing: [],
    noMajority: false,
    regions: [],
    regionCount: 0,
    inputSeq: context.inputSeq,
    screenshots: [],
    evidence: { state: 'none', folder: null, error: null },
    updates: 0,
    replicaId,
    reason: kind === 'lost' ? reason : null,
  };
}

/**
 * The entry a "changed" divergence event folds into: the newest entry of the same divergence
 * ('new' or 'changed') when it is less than `windowMs` old, so a region still growing just after
 * it was reported updates that entry instead of adding one per step. Null: add an entry.
 */
export function foldTargetOf(entries: readonly TimelineEntry[], divergenceId: string, atMs: number, windowMs: number): TimelineEntry | null {
  const latest = entries.find((entry) => entry.divergenceId === divergenceId);
  if (latest === undefined || (latest.kind !== 'new' && latest.kind !== 'changed')) return null;
  return atMs - latest.atMs < windowMs ? latest : null;
}

/** The entry with a later state of its divergence folded in (regions, who agrees; its time and screens stay). */
export function foldChange(entry: TimelineEntry, divergence: Divergence): TimelineEntry {
  return {
    ...entry,
    outliers: [...divergence.outliers],
    agreeing: [...divergence.agreeing],
    noMajority: divergence.noMajority,
    regions: keptRegions(divergence.regions),
    regionCount: divergence.regions.length,
    updates: entry.updates + 1,
  };
}

/** Puts `entry` first and keeps at most `max` entries; returns the entries dropped (oldest). */
export function prependTimelineEntry(
  entries: readonly TimelineEntry[],
  entry: TimelineEntry,
  max = MAX_TIMELINE_ENTRIES,
): { readonly entries: readonly TimelineEntry[]; readonly dropped: readonly TimelineEntry[] } {
  const all = [entry, ...entries];
  return { entries: all.slice(0, Math.max(0, max)), dropped: all.slice(Math.max(0, max)) };
}

/** Replaces the entry `id` by `change(entry)` (unchanged when absent, e.g. dropped meanwhile). */
export function updateTimelineEntry(entries: readonly TimelineEntry[], id: number, change: (entry: TimelineEntry) => TimelineEntry): readonly TimelineEntry[] {
  const index = entries.findIndex((entry) => entry.id === id);
  if (index < 0) return entries;
  const next = [...entries];
  next[index] = change(entries[index] as TimelineEntry);
  return next;
}

/** The entry with one screenshot's outcome. */
export function withScreenshot(entry: TimelineEntry, replicaId: string, url: string | null): TimelineEntry {
  return {
    ...entry,
    screenshots: entry.screenshots.map((shot) => (shot.replicaId === replicaId ? { replicaId, state: url === null ? 'failed' : 'ready', url } : shot)),
  };
}

/**
 * Lets go of the screenshots of every entry past the `keep` newest that have screenshots; returns the
 * entries and the object URLs to revoke. Entries without screenshots (resolved, consensus) do not count.
 */
export function releaseOldScreenshots(
  entries: readonly TimelineEntry[],
  keep = MAX_PICTURED_TIMELINE_ENTRIES,
): { readonly entries: readonly TimelineEntry[]; readonly revoke: readonly string[] } {
  let pictured = 0;
  const revoke: string[] = [];
  let changed = false;
  const next = entries.map((entry) => {
    if (!entry.screenshots.some((shot) => shot.state !== 'released')) return entry;
    pictured += 1;
    if (pictured <= keep) return entry;
    changed = true;
    revoke.push(...objectUrlsOf(entry));
    return { ...entry, screenshots: entry.screenshots.map((shot) => ({ replicaId: shot.replicaId, state: 'released' as const, url: null })) };
  });
  return { entries: changed ? next : entries, revoke };
}

/** Every object URL an entry holds (to revoke when it goes). */
export function objectUrlsOf(entry: TimelineEntry): string[] {
  return entry.screenshots.flatMap((shot) => (shot.url === null ? [] : [shot.url]));
}

/** One line saying what happened: "Demo 2 diverges — 1 region", "All replicas agree again", "Demo 2 lost (connection refused) — …". */
export function describeTimelineEntry(entry: TimelineEntry, nameOf: (replicaId: string) => string): string {
  if (entry.kind === 'consensus') return 'All replicas agree again';
  if (entry.kind === 'lost') return `${nameOf(entry.replicaId ?? '')} lost${entry.reason === null ? '' : ` (${entry.reason})`} — not compared until it is back`;
  if (entry.kind === 'back') return `${nameOf(entry.replicaId ?? '')} back — compared again`;
  const names = entry.outliers.map(nameOf);
  const list = names.length <= 1 ? (names[0] ?? 'a replica') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1] ?? ''}`;
  const where = entry.divergenceKind === 'size' ? 'desktop size' : entry.regionCount === 1 ? '1 region' : `${entry.regionCount} regions`;
  if (entry.kind === 'resolved') return `${list} ${names.length === 1 ? 'agrees' : 'agree'} again`;
  if (entry.noMajority) return `No majority: ${list} disagree (${where})`;
  const verb = entry.kind === 'new' ? (names.length === 1 ? 'diverges' : 'diverge') : names.length === 1 ? 'still diverges, changed' : 'still diverge, changed';
  return `${list} ${verb} — ${where}`;
}

/** Which live comparison an entry suggests: its first outlier against its majority (none: the view picks). */
export function diffTargetOf(entry: TimelineEntry): { readonly subjectId: string; readonly referenceId: string | null } | null {
  const subjectId = entry.outliers[0];
  if (subjectId === undefined) return null;
  return { subjectId, referenceId: entry.noMajority ? (entry.outliers[1] ?? null) : (entry.agreeing[0] ?? null) };
}
