// Bench-only timing probe for divergence detection end to end (the benchmark `npm run bench
// -- --only divergence`): per framebuffer update, the time noVNC spent receiving, decoding and drawing
// it, then what reading its damaged rectangles and posting them to the comparison cost on the page's
// thread after the damage tap, and each engine tick (timed where the engine runs, reported back). Off unless the bench page set BENCH_PROBE_GLOBAL before the app loaded; then it
// is installed once per RFB and per monitor (when off, nothing of it runs per update). Runs in the
// renderer; DOM-free (the clock is passed in), tested in plain Node.

import type { DivergenceEvent, PixelRect } from '../../common/divergence';

/** The page global the bench sets (page.addInitScript) to ask for the probe; absent in normal use. */
export const BENCH_PROBE_GLOBAL = '__retrovisorBenchProbe';

/** What the bench puts into BENCH_PROBE_GLOBAL; the page adds `probe` for the bench to read. */
export interface BenchProbeRequest {
  readonly enabled: true;
  probe?: BenchProbe;
}

/** Milliseconds: a monotonic clock and its epoch origin (performance.now / performance.timeOrigin). */
export interface ProbeClock {
  now(): number;
  readonly originEpochMs: number;
}

/** One framebuffer update that reached a canvas (the damage tap fired). */
export interface UpdateTiming {
  /** The replica, when a monitor was fed with it (comparison on). */
  replicaId: string | null;
  /** The tap, in epoch milliseconds (comparable across processes on one machine). */
  readonly tapEpochMs: number;
  /** Time spent in noVNC's receive handler for this update: receive queue, decoding, drawing, flip. */
  readonly noVncMs: number;
  /** Damaged pixels and rectangles, as the tap reported them. */
  readonly areaPx: number;
  readonly rectCount: number;
  /**
   * DivergenceMonitor.damage on the page's thread: getImageData of each damaged rectangle + posting
   * them (+ engine.update when the comparison runs in the page; 0 when not compared).
   */
  monitorMs: number;
  /** Always 0: engine.update runs in the comparison worker, its time is in the ticks' reports (kept for the bench's columns). */
  engineUpdateMs: number;
}

/** One engine tick. */
/** One report of the comparison: the engine ticks since the report before, the latest starting at `startEpochMs`. */
export interface TickTiming {
  readonly startEpochMs: number;
  /** How many ticks the report covers (a quiet tick is not reported on its own), and their time in all. */
  readonly ticks: number;
  readonly durationMs: number;
  /** Event types the tick returned ('divergence:new', 'divergence:changed', 'divergence-resolved', 'consensus'). */
  readonly events: readonly string[];
  /** The divergences the tick reported new or changed. */
  readonly divergences: readonly { readonly id: string; readonly outliers: readonly string[]; readonly regions: readonly PixelRect[] }[];
}

/** What the bench drains from the page. */
export interface ProbeRecords {
  readonly updates: UpdateTiming[];
  readonly ticks: TickTiming[];
}

/** The part of a DivergenceMonitor the probe wraps (an instance method, replaced per instance). */
export interface ProbedMonitor {
  damage(replicaId: string, rects: readonly PixelRect[]): void;
}


const PAGE_PROBE_CLOCK: ProbeClock = {
  now: () => performance.now(),
  get originEpochMs() {
    return performance.timeOrigin;
  },
};

let pageProbe: BenchProbe | null | undefined;

/** The page's probe when the bench asked for one, else null (looked up once per page). */
export function benchProbe(): BenchProbe | null {
  if (pageProbe !== undefined) return pageProbe;
  const request = (globalThis as Record<string, unknown>)[BENCH_PROBE_GLOBAL];
  if (typeof request === 'object' && request !== null && (request as Partial<BenchProbeRequest>).enabled === true) {
    pageProbe = new BenchProbe(PAGE_PROBE_CLOCK);
    (request as BenchProbeRequest).probe = pageProbe;
  } else {
    pageProbe = null;
  }
  return pageProbe;
}

/** Collects timings; the bench takes them with `take()`. */
export class BenchProbe {
  private updates: UpdateTiming[] = [];
  private ticks: TickTiming[] = [];
  /** The update whose tap callback is running (the monitor's damage happens inside it). */
  private current: UpdateTiming | null = null;

  constructor(private readonly clock: ProbeClock) {}

  /** Everything recorded since the last take. */
  take(): ProbeRecords {
    const records = { updates: this.updates, ticks: this.ticks };
    this.updates = [];
    this.ticks = [];
    return records;
  }

  /** A probe for one RFB connection: wrap its receive handler and its damage tap callback. */
  client(): ClientProbe {
    return new ClientProbe(this, this.clock);
  }

  /** Replaces the monitor's damage on this instance with a timed one (the page-thread cost of each update). */
  instrumentMonitor(monitor: ProbedMonitor): void {
    const damage = monitor.damage.bind(monitor);
    const clock = this.clock;
    monitor.damage = (replicaId, rects) => {
      const record = this.current;
      const startMs = clock.now();
      damage(replicaId, rects);
      if (record === null) return;
      record.replicaId = replicaId;
      record.monitorMs += clock.now() - startMs;
    };
  }

  /** One report's ticks: when the latest started (page clock), how many and how long in all, what they returned. */
  recordTick(startMs: number, ticks: number, durationMs: number, events: readonly DivergenceEvent[]): void {
    const divergences = [];
    for (const event of events) {
      if (event.type === 'divergence') divergences.push({ id: event.divergence.id, outliers: event.divergence.outliers, regions: event.divergence.regions });
    }
    this.ticks.push({
      startEpochMs: this.clock.originEpochMs + startMs,
      ticks,
      durationMs,
      events: events.map((event) => (event.type === 'divergence' ? `divergence:${event.change}` : event.type)),
      divergences,
    });
  }

  /** The damage tap fired: a new update record, current while its callback runs. */
  beginUpdate(tapMs: number, noVncMs: number, rects: readonly PixelRect[]): UpdateTiming {
    let areaPx = 0;
    for (const rect of rects) areaPx += rect.width * rect.height;
    const record: UpdateTiming = {
      replicaId: null,
      tapEpochMs: this.clock.originEpochMs + tapMs,
      noVncMs,
      areaPx,
      rectCount: rects.length,
      monitorMs: 0,
      engineUpdateMs: 0,
    };
    this.updates.push(record);
    this.current = record;
    return record;
  }

  /** The tap's callback returned. */
  endUpdate(): void {
    this.current = null;
  }
}

/**
 * One RFB connection's share: the time spent inside noVNC's receive handler is summed up to the damage
 * tap and charged to that update (an update spread over many messages is charged all of them); what
 * runs inside the tap's callback (the composite, the monitor) is not noVNC's and is left out.
 */
export class ClientProbe {
  private sliceStartMs: number | null = null;
  private spentMs = 0;

  constructor(
    private readonly probe: BenchProbe,
    private readonly clock: ProbeClock,
  ) {}

  /** noVNC's receive handler (Websock's 'message' handler), timed. */
  wrapReceive(handler: () => void): () => void {
    return () => {
      if (this.sliceStartMs !== null) {
        handler();
        return;
      }
      this.sliceStartMs = this.clock.now();
      try {
        handler();
      } finally {
        this.spentMs += this.clock.now() - this.sliceStartMs;
        this.sliceStartMs = null;
      }
    };
  }

  /** The damage tap's callback (one framebuffer update reached the canvas), timed apart from noVNC. */
  wrapUpdate(callback: (rects: readonly PixelRect[]) => void): (rects: readonly PixelRect[]) => void {
    return (rects) => {
      const tapMs = this.clock.now();
      if (this.sliceStartMs !== null) this.spentMs += tapMs - this.sliceStartMs;
      this.probe.beginUpdate(tapMs, this.spentMs, rects);
      this.spentMs = 0;
      try {
        callback(rects);
      } finally {
        this.probe.endUpdate();
        if (this.sliceStartMs !== null) this.sliceStartMs = this.clock.now();
      }
    };
  }
}
