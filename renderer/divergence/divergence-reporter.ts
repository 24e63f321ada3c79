// Tells the back end about the divergence engine's events: each new or changed divergence
// and each return to consensus, in order; for a new one, every connected replica's screen as a PNG
// for the evidence folder. Hands each event, its captures and the evidence folder on to the timeline.
// Runs in the renderer, DOM-free (screens come through `captureScreen`).

import type { BackendApi, DivergenceReport } from '../../common/contract';
import { MAX_EVIDENCE_PNG_BASE64_CHARS, MAX_REPORTED_REGIONS } from '../../common/contract';
import { CONFIRM_MS, type Divergence, type DivergenceEvent } from '../../common/divergence';
import { boundingRect } from '../vnc/damage';

/** What the reporter needs from the workspace. */
export interface DivergenceReporterOptions {
  readonly sessionId: string;
  readonly api: Pick<BackendApi, 'reportDivergence' | 'saveDivergenceScreen'>;
  /** The last input broadcast sequence number used, or null before any input. */
  readonly lastInputSeq: () => number | null;
  /** The replicas whose screens go into evidence (the connected ones). */
  readonly screenIds: () => readonly string[];
  /** Starts encoding a replica's screen as it is NOW: resolves with a PNG blob, or null (no screen). */
  readonly captureScreen: (replicaId: string) => Promise<Blob | null>;
  readonly warn?: (message: string) => void;
  /**
   * How long after a divergence's 'new' report a change of it amends that report's evidence (its
   * record and screens are sent again): the session's confirm window, as the timeline folds the change
   * into the same entry. Default CONFIRM_MS.
   */
  readonly amendWindowMs?: number;
  /** Milliseconds, for the amend window. Default performance.now. */
  readonly now?: () => number;
}

/** A replica's screen captured when a new divergence was confirmed (the evidence PNG, also the timeline's). */
export interface CapturedScreen {
  readonly replicaId: string;
  /** The PNG; null when the replica had no screen or encoding failed. */
  readonly png: Promise<Blob | null>;
}

/** Where the back end keeps an event's evidence, once it answered. */
export interface EvidenceOutcome {
  /** 'saved': the folder was started; 'none': the event has no evidence (not new); 'failed': see error. */
  readonly state: 'saved' | 'none' | 'failed';
  /** The folder's path as the back end answered it (null when it did not name one). */
  readonly folder: string | null;
  readonly error: string | null;
}

/** One engine event as handed on (to the timeline). */
export interface ReportedEvent {
  readonly event: DivergenceEvent;
  /** The last input sequence number sent when the event fired. */
  readonly inputSeq: number | null;
  /** New divergences, and changes that amend them: every connected replica's screen; other events: none. */
  readonly screens: readonly CapturedScreen[];
  /** Settles once the back end answered the report (never rejects). */
  readonly evidence: Promise<EvidenceOutcome>;
}

const NO_EVIDENCE: EvidenceOutcome = { state: 'none', folder: null, error: null };

/** The report of one divergence event (regions past MAX_REPORTED_REGIONS merged into their bounding box). */
export function divergenceReport(sessionId: string, divergence: Divergence, change: 'new' | 'changed', inputSeq: number | null): DivergenceReport {
  const regions = divergence.regions.length <= MAX_REPORTED_REGIONS ? divergence.regions : [boundingRect(divergence.regions)];
  return {
    sessionId,
    kind: 'divergence',
    divergenceId: divergence.id,
    change,
    divergenceKind: divergence.kind,
    outliers: [...divergence.outliers],
    agreeing: [...divergence.agreeing],
    regions: regions.map((region) => ({ x: region.x, y: region.y, width: region.width, height: region.height })),
    noMajority: divergence.noMajority,
    ...(inputSeq === null ? {} : { inputSeq }),
  };
}

/** Sends the engine's events to the back end, one at a time in the order they happened. */
export class DivergenceReporter {
  private queue: Promise<void> = Promise.resolve();
  private closed = false;
  /** When each divergence still in its amend window was reported new. */
  private readonly reportedNewAt = new Map<string, number>();

  constructor(private readonly options: DivergenceReporterOptions) {}

  /**
   * Queues the reports of a batch of engine events (screens of new divergences are captured now) and
   * returns every event with its captures and its evidence outcome (for the timeline).
   */
  handle(events: readonly DivergenceEvent[]): ReportedEvent[] {
    if (this.closed) return [];
    const reported: ReportedEvent[] = [];
    for (const event of events) {
      const inputSeq = this.options.lastInputSeq();
      if (event.type === 'divergence-resolved') {
        this.reportedNewAt.delete(event.id);
        reported.push({ event, inputSeq, screens: [], evidence: Promise.resolve(NO_EVIDENCE) });
        continue;
      }
      let report: DivergenceReport =
        event.type === 'consensus'
          ? { sessionId: this.options.sessionId, kind: 'consensus', outliers: [], agreeing: [], regions: [], noMajority: false }
          : divergenceReport(this.options.sessionId, event.divergence, event.change, inputSeq);
      const amends = event.type === 'divergence' && event.change === 'changed' && this.withinAmendWindow(event.divergence.id);
      if (amends) report = { ...report, amendsEvidence: true };
      if (event.type === 'divergence' && event.change === 'new') this.reportedNewAt.set(event.divergence.id, this.now());
      const captured = event.type === 'divergence' && (event.change === 'new' || amends);
      const screens = captured ? this.options.screenIds().map((replicaId) => ({ replicaId, png: this.capture(replicaId) })) : [];
      let settle: (outcome: EvidenceOutcome) => void = () => undefined;
      const evidence = new Promise<EvidenceOutcome>((resolve) => (settle = resolve));
      this.queue = this.queue.then(() => this.send(report, screens, settle));
      reported.push({ event, inputSeq, screens, evidence });
    }
    return reported;
  }

  /** True while `divergenceId`'s 'new' report is recent enough for a change to amend its evidence. */
  private withinAmendWindow(divergenceId: string): boolean {
    const at = this.reportedNewAt.get(divergenceId);
    if (at === undefined) return false;
    if (this.now() - at <= (this.options.amendWindowMs ?? CONFIRM_MS)) return true;
    this.reportedNewAt.delete(divergenceId);
    return false;
  }

  private now(): number {
    return (this.options.now ?? (() => performance.now()))();
  }

  /** Resolves when everything queued so far was sent (or failed). */
  flush(): Promise<void> {
    return this.queue;
  }

  /** Sends nothing more. */
  close(): void {
    this.closed = true;
  }

  private capture(replicaId: string): Promise<Blob | null> {
    return this.options.captureScreen(replicaId).catch((error: unknown) => {
      this.warn(`cannot capture ${replicaId}'s screen: ${String(error)}`);
      return null;
    });
  }

  private async send(report: DivergenceReport, screens: readonly CapturedScreen[], settle: (outcome: EvidenceOutcome) => void): Promise<void> {
    if (this.closed) {
      settle({ state: 'failed', folder: null, error: 'the session closed before the report was sent' });
      return;
    }
    let evidenceId: string | null;
    let evidenceFolder: string | null;
    try {
      const answer = await this.options.api.reportDivergence(report);
      evidenceId = answer.evidenceId;
      evidenceFolder = answer.evidenceFolder ?? null;
    } catch (error) {
      this.warn(`the back end refused a divergence report: ${String(error)}`);
      settle({ state: 'failed', folder: null, error: `the back end refused the report: ${errorText(error)}` });
      return;
    }
    const isNew = report.kind === 'divergence' && report.change === 'new';
    if (evidenceId === null) {
      settle(isNew ? { state: 'failed', folder: null, error: 'the back end could not start an evidence folder (its log says why)' } : NO_EVIDENCE);
      return;
    }
    settle({ state: 'saved', folder: evidenceFolder, error: null });
    for (const screen of screens) {
      const blob = await screen.png;
      if (blob === null || this.closed) continue;
      const pngBase64 = await blobToBase64(blob);
      if (pngBase64.length > MAX_EVIDENCE_PNG_BASE64_CHARS) {
        this.warn(`${screen.replicaId}'s screen is too large for the evidence (${pngBase64.length} base64 characters)`);
        continue;
      }
      try {
        await this.options.api.saveDivergenceScreen({ sessionId: this.options.sessionId, evidenceId, replicaId: screen.replicaId, pngBase64 });
      } catch (error) {
        this.warn(`the back end could not save ${screen.replicaId}'s screen: ${String(error)}`);
      }
    }
  }

  private warn(message: string): void {
    (this.options.warn ?? ((text: string) => console.warn(text)))(`[divergence] ${message}`);
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A blob's bytes as base64. */
export async function blobToBase64(blob: Blob): Promise<string> {
  const bytes = new Uint8Array(await blob.arrayBuffer());
  let binary = '';
  for (let offset = 0; offset < bytes.length; offset += 0x8000) binary += String.fromCharCode(...bytes.subarray(offset, offset + 0x8000));
  return btoa(binary);
}

/** Encodes a canvas as it is now as a PNG blob (toBlob snapshots the canvas when called). */
export function canvasToPngBlob(canvas: HTMLCanvasElement): Promise<Blob | null> {
  if (canvas.width === 0 || canvas.height === 0) return Promise.resolve(null);
  return new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/png'));
}
