// Builds the divergence timeline of one open session from the reporter's events: an entry per
// event (a "changed" one just after its divergence was reported folds into that entry), an entry per
// replica lost or back, the reporter's own PNG captures turned into object URLs (never captured
// twice), the evidence folder once the back end answers. Revokes the URLs of dropped entries and all
// of them on dispose.
// Runs in the renderer, DOM-free (URLs and the clock passed in): tested in plain Node.

import { CONFIRM_MS, type Divergence } from '../../common/divergence';
import type { ReportedEvent } from './divergence-reporter';
import {
  connectionEntryOf,
  foldChange,
  foldTargetOf,
  MAX_PICTURED_TIMELINE_ENTRIES,
  MAX_TIMELINE_ENTRIES,
  objectUrlsOf,
  prependTimelineEntry,
  releaseOldScreenshots,
  timelineEntryOf,
  updateTimelineEntry,
  withScreenshot,
  type TimelineEntry,
} from './timeline';

/** Object URLs (URL.createObjectURL / revokeObjectURL in the page). */
export interface ObjectUrls {
  create(blob: Blob): string;
  revoke(url: string): void;
}

/** The page's object URLs. */
export const PAGE_OBJECT_URLS: ObjectUrls = {
  create: (blob) => URL.createObjectURL(blob),
  revoke: (url) => URL.revokeObjectURL(url),
};

/** What the recorder needs. */
export interface TimelineRecorderOptions {
  /** Every new list of entries (newest first): the store's setTimeline. */
  readonly publish: (entries: readonly TimelineEntry[]) => void;
  readonly urls?: ObjectUrls;
  /** Wall-clock time in ms. */
  readonly now?: () => number;
  readonly maxEntries?: number;
  /** Entries whose screenshots stay in memory (MAX_PICTURED_TIMELINE_ENTRIES). */
  readonly maxPicturedEntries?: number;
  /**
   * A "changed" event this soon after its divergence's entry updates that entry instead of adding
   * one: the session's confirm window (CONFIRM_MS by default).
   */
  readonly foldWindowMs?: number;
}

/** The timeline of one session. */
export class TimelineRecorder {
  private entries: readonly TimelineEntry[] = [];
  private nextId = 1;
  private disposed = false;
  /** The last report of each divergence still shown (a resolved event names only the id). */
  private readonly known = new Map<string, Divergence>();
  private readonly urls: ObjectUrls;
  private readonly now: () => number;

  constructor(private readonly options: TimelineRecorderOptions) {
    this.urls = options.urls ?? PAGE_OBJECT_URLS;
    this.now = options.now ?? (() => Date.now());
  }

  /** The entries now, newest first. */
  get current(): readonly TimelineEntry[] {
    return this.entries;
  }

  /** Adds an entry per reported event (in order) and follows its screenshots and evidence. */
  record(reported: readonly ReportedEvent[]): void {
    if (this.disposed || reported.length === 0) return;
    for (const { event, inputSeq, screens, evidence } of reported) {
      let resolved: Divergence | undefined;
      if (event.type === 'divergence') this.known.set(event.divergence.id, event.divergence);
      if (event.type === 'divergence-resolved') {
        resolved = this.known.get(event.id);
        this.known.delete(event.id);
      }
      const atMs = this.now();
      if (event.type === 'divergence' && event.change === 'changed') {
        const target = foldTargetOf(this.entries, event.divergence.id, atMs, this.options.foldWindowMs ?? CONFIRM_MS);
        if (target !== null) {
          this.entries = updateTimelineEntry(this.entries, target.id, (entry) => foldChange(entry, event.divergence));
          // A change that amends the evidence comes with the screens as they are now: they replace the entry's.
          for (const screen of screens) {
            void screen.png.then(
              (blob) => this.screenshotArrived(target.id, screen.replicaId, blob),
              () => undefined,
            );
          }
          continue;
        }
      }
      const id = this.nextId++;
      const entry = timelineEntryOf(event, { id, atMs, inputSeq, resolved, screenshotIds: screens.map((screen) => screen.replicaId) });
      this.add(entry);
      for (const screen of screens) {
        void screen.png.then(
          (blob) => this.screenshotArrived(id, screen.replicaId, blob),
          () => this.screenshotArrived(id, screen.replicaId, null),
        );
      }
      void evidence.then((outcome) => this.change(id, (current) => ({ ...current, evidence: { state: outcome.state, folder: outcome.folder, error: outcome.error } })));
    }
    this.options.publish(this.entries);
  }

  /** A replica's connection was lost (with why) or is back: comparison covers fewer, or more, replicas. */
  recordConnection(kind: 'lost' | 'back', replicaId: string, reason: string | null, inputSeq: number | null): void {
    if (this.disposed) return;
    this.add(connectionEntryOf(kind, replicaId, reason, { id: this.nextId++, atMs: this.now(), inputSeq }));
    this.options.publish(this.entries);
  }

  /** Puts an entry first, within the bounds (entries and pictures), revoking what goes. */
  private add(entry: TimelineEntry): void {
    const { entries, dropped } = prependTimelineEntry(this.entries, entry, this.options.maxEntries ?? MAX_TIMELINE_ENTRIES);
    const released = releaseOldScreenshots(entries, this.options.maxPicturedEntries ?? MAX_PICTURED_TIMELINE_ENTRIES);
    this.entries = released.entries;
    for (const gone of dropped) for (const url of objectUrlsOf(gone)) this.urls.revoke(url);
    for (const url of released.revoke) this.urls.revoke(url);
  }

  /** Revokes every object URL; nothing is recorded afterwards (late captures are not turned into URLs). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const entry of this.entries) for (const url of objectUrlsOf(entry)) this.urls.revoke(url);
    this.entries = [];
    this.known.clear();
  }

  private screenshotArrived(id: number, replicaId: string, blob: Blob | null): void {
    // The entry may be gone already (dropped, session closed) or its pictures let go: then no URL is made at all.
    const entry = this.entries.find((candidate) => candidate.id === id);
    if (this.disposed || entry === undefined) return;
    if (entry.screenshots.some((shot) => shot.replicaId === replicaId && shot.state === 'released')) return;
    // A later screen of the same replica (the divergence grew) replaces the earlier one: a failed capture keeps it.
    const earlier = entry.screenshots.find((shot) => shot.replicaId === replicaId)?.url ?? null;
    if (blob === null && earlier !== null) return;
    const url = blob === null ? null : this.urls.create(blob);
    if (earlier !== null) this.urls.revoke(earlier);
    this.change(id, (entry) => withScreenshot(entry, replicaId, url));
  }

  private change(id: number, update: (entry: TimelineEntry) => TimelineEntry): void {
    if (this.disposed) return;
    const next = updateTimelineEntry(this.entries, id, update);
    if (next === this.entries) return;
    this.entries = next;
    this.options.publish(this.entries);
  }
}
