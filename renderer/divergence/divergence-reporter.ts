// Tells the back end about the divergence engine's events (issue 5): each new or changed divergence
// and each return to consensus, in order; for a new one, every connected replica's screen as a PNG
// for the evidence folder. Runs in the renderer, DOM-free (screens come through `captureScreen`).

import type { BackendApi, DivergenceReport } from '../../common/contract';
import { MAX_EVIDENCE_PNG_BASE64_CHARS, MAX_REPORTED_REGIONS } from '../../common/contract';
import type { Divergence, DivergenceEvent } from '../../common/divergence';
import { boundingRect } from '../vnc/damage';

/** What the reporter needs from the workspace. */
export interface DivergenceReporterOptions {
  readonly sessionId: string;
  readonly api: Pick<BackendApi, 'reportDivergence' | 'saveDivergenceScreen'>;
  /** The last input broadcast sequence number used, or null before any input. */
  readonly lastInputSeq: () => number | null;
  /** The replicas whose screens go into evidence (the connected ones). */
  readonly screenIds: () => readonly string[];
  /** Starts encoding a replica's screen as it is NOW: resolves with base64 PNG, or null (no screen). */
  readonly captureScreen: (replicaId: string) => Promise<string | null>;
  readonly warn?: (message: string) => void;
}

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

  constructor(private readonly options: DivergenceReporterOptions) {}

  /** Queues the reports of a batch of engine events (screens of new divergences are captured now). */
  handle(events: readonly DivergenceEvent[]): void {
    if (this.closed) return;
    for (const event of events) {
      if (event.type === 'divergence-resolved') continue;
      const report: DivergenceReport =
        event.type === 'consensus'
          ? { sessionId: this.options.sessionId, kind: 'consensus', outliers: [], agreeing: [], regions: [], noMajority: false }
          : divergenceReport(this.options.sessionId, event.divergence, event.change, this.options.lastInputSeq());
      const screens = event.type === 'divergence' && event.change === 'new' ? this.options.screenIds().map((replicaId) => ({ replicaId, png: this.capture(replicaId) })) : [];
      this.queue = this.queue.then(() => this.send(report, screens));
    }
  }

  /** Resolves when everything queued so far was sent (or failed). */
  flush(): Promise<void> {
    return this.queue;
  }

  /** Sends nothing more. */
  close(): void {
    this.closed = true;
  }

  private capture(replicaId: string): Promise<string | null> {
    return this.options.captureScreen(replicaId).catch((error: unknown) => {
      this.warn(`cannot capture ${replicaId}'s screen: ${String(error)}`);
      return null;
    });
  }

  private async send(report: DivergenceReport, screens: readonly { replicaId: string; png: Promise<string | null> }[]): Promise<void> {
    if (this.closed) return;
    let evidenceId: string | null;
    try {
      ({ evidenceId } = await this.options.api.reportDivergence(report));
    } catch (error) {
      this.warn(`the back end refused a divergence report: ${String(error)}`);
      return;
    }
    if (evidenceId === null) return;
    for (const screen of screens) {
      const pngBase64 = await screen.png;
      if (pngBase64 === null || this.closed) continue;
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

/** Encodes a canvas as it is now as base64 PNG (toBlob snapshots the canvas when called). */
export function canvasToPngBase64(canvas: HTMLCanvasElement): Promise<string | null> {
  if (canvas.width === 0 || canvas.height === 0) return Promise.resolve(null);
  return new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/png')).then(async (blob) => {
    if (blob === null) return null;
    const bytes = new Uint8Array(await blob.arrayBuffer());
    let binary = '';
    for (let offset = 0; offset < bytes.length; offset += 0x8000) binary += String.fromCharCode(...bytes.subarray(offset, offset + 0x8000));
    return btoa(binary);
  });
}
