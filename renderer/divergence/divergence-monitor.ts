// Feeds one workspace's DivergenceEngine (common/divergence) from the replicas' screens: on every
// framebuffer update exactly the damaged rectangles are read from that replica's canvas and handed
// over; a timer ticks the engine and passes its events on. The remediation manager can take a
// replica out of the vote and wait for listed replicas to agree. Runs in the renderer, but DOM-free
// (the pixels come through PixelSource, the timers through the clock): tested in plain Node.

import { CONFIRM_MS, DivergenceEngine, SETTLE_MS, clipToFramebuffer, type DivergenceEvent, type DivergenceOptions, type DivergenceState, type PixelRect } from '../../common/divergence';
import type { DivergenceSettings } from '../../common/profile';
import { benchProbe } from './bench-probe';

/**
 * How often the engine is ticked regularly (blink cycles are judged on these). Verdicts that fall due
 * in between (a tile settling, a disagreement confirming: the engine's nextDecisionMs) get a tick of
 * their own at that time, so they are not up to 100 ms late.
 */
export const DIVERGENCE_TICK_MS = 100;

/** Where a replica's pixels are read: its noVNC canvas (see canvasPixelSource). */
export interface PixelSource {
  /** The current framebuffer size. */
  readonly width: number;
  readonly height: number;
  /** RGBA pixels of `rect` (inside the framebuffer), row by row: getImageData(rect).data. */
  read(rect: PixelRect): Uint8ClampedArray;
}

/** Time, an interval timer and one-shot timers, passed in so tests control them. */
export interface MonitorClock {
  now(): number;
  setInterval(callback: () => void, intervalMs: number): unknown;
  clearInterval(handle: unknown): void;
  setTimeout(callback: () => void, delayMs: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The page's clock. */
export const PAGE_CLOCK: MonitorClock = {
  now: () => performance.now(),
  setInterval: (callback, intervalMs) => setInterval(callback, intervalMs),
  clearInterval: (handle) => clearInterval(handle as ReturnType<typeof setInterval>),
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** What the monitor needs: where events go, and optionally the engine's settings and the clock. */
export interface DivergenceMonitorOptions {
  /** Every non-empty batch of engine events, with the report after them. */
  readonly onEvents: (events: readonly DivergenceEvent[], state: DivergenceState) => void;
  readonly engine?: DivergenceOptions;
  /** false (a profile's `divergence.enabled`): no engine, no canvas reads, no timer. Default true. */
  readonly enabled?: boolean;
  readonly clock?: MonitorClock;
  readonly tickMs?: number;
  /** Where a failed read is reported (a canvas that cannot be read is skipped, not fatal). */
  readonly warn?: (message: string) => void;
}

/** The engine options a profile's divergence settings stand for. */
export function engineOptionsOf(settings: DivergenceSettings): DivergenceOptions {
  return { tolerance: settings.tolerance, ignoreRegions: settings.ignoreRegions, settleMs: settings.settleMs, confirmMs: settings.confirmMs };
}

/** The report of a monitor that compares nothing. */
const NOTHING_COMPARED: DivergenceState = { divergences: [], allAgree: true };

/** awaitAgreement's answer: whether the replicas agreed, else which of them did not (or were not compared). */
export interface AgreementResult {
  readonly agreed: boolean;
  readonly outliers: readonly string[];
}

interface Tracked {
  source: PixelSource;
  width: number;
  height: number;
  /** When the engine got this screen whole (Infinity: not in the engine, it does not vote). */
  comparedSinceMs: number;
}

interface AgreementWaiter {
  readonly replicaIds: readonly string[];
  readonly quietMs: number;
  /** Since when every listed replica has agreed without a break (null: not now). */
  agreeingSinceMs: number | null;
  readonly finish: (result: AgreementResult) => void;
  readonly fail: (error: Error) => void;
}

/** The divergence detection of one open session: feed it, and it reports. */
export class DivergenceMonitor {
  /** null when comparison is off for the session. */
  private readonly engine: DivergenceEngine | null;
  private readonly clock: MonitorClock;
  private readonly replicas = new Map<string, Tracked>();
  private timer: unknown = null;
  /** The one-shot tick for the engine's next decision, and when it fires. */
  private decisionTimer: unknown = null;
  private decisionAtMs = Infinity;
  private disposed = false;
  /** Replicas out of the vote (the manager isolated them): tracked, but not in the engine. */
  private readonly nonVoting = new Set<string>();
  private readonly agreementWaiters = new Set<AgreementWaiter>();
  /** A screen the engine just got is judged only after it settled and a disagreement had time to confirm. */
  private readonly judgeMs: number;

  constructor(private readonly options: DivergenceMonitorOptions) {
    this.engine = options.enabled === false ? null : new DivergenceEngine(options.engine);
    this.clock = options.clock ?? PAGE_CLOCK;
    this.judgeMs = (options.engine?.settleMs ?? SETTLE_MS) + (options.engine?.confirmMs ?? CONFIRM_MS);
    // Bench only (off in normal use): times the damage reads, engine.update and engine.tick.
    if (this.engine !== null) benchProbe()?.instrumentMonitor(this, this.engine);
  }

  /** The engine's current report. */
  get state(): DivergenceState {
    return this.engine?.state ?? NOTHING_COMPARED;
  }

  /** Whether this monitor compares anything (false when the profile turned comparison off). */
  get enabled(): boolean {
    return this.engine !== null;
  }

  /** Starts the tick timer. */
  start(): void {
    if (this.timer !== null || this.disposed || this.engine === null) return;
    this.timer = this.clock.setInterval(() => this.tick(), this.options.tickMs ?? DIVERGENCE_TICK_MS);
    this.scheduleDecision();
  }

  /**
   * A replica is connected with this source and size (also on every resize): it is registered with
   * the engine, and its whole current screen is read once (later, only damage). A replica out of the
   * vote is only remembered, and registered when it votes again.
   */
  connect(replicaId: string, source: PixelSource, width: number, height: number): void {
    if (this.disposed || this.engine === null || !(width > 0 && height > 0)) return;
    const tracked = this.replicas.get(replicaId);
    if (tracked !== undefined && tracked.source === source && tracked.width === width && tracked.height === height) return;
    this.replicas.set(replicaId, { source, width, height, comparedSinceMs: Infinity });
    if (!this.nonVoting.has(replicaId)) this.register(replicaId);
    this.checkAgreement();
  }

  /** A replica left (disconnected, closed): it is no longer compared. */
  disconnect(replicaId: string): void {
    if (!this.replicas.delete(replicaId) || this.disposed) return;
    this.engine?.removeReplica(replicaId, this.clock.now());
    this.checkAgreement();
  }

  /** One framebuffer update of a replica reached its canvas: these rectangles changed. */
  damage(replicaId: string, rects: readonly PixelRect[]): void {
    if (this.disposed) return;
    this.feed(replicaId, rects, this.clock.now());
    this.scheduleDecision();
  }

  /**
   * Takes a replica out of the vote (false: the engine forgets it, and connect() does not bring it
   * back) or gives it its vote again (true: registered with its current screen, read whole).
   */
  setVoting(replicaId: string, voting: boolean): void {
    if (this.disposed) return;
    if (!voting) {
      if (this.nonVoting.has(replicaId)) return;
      this.nonVoting.add(replicaId);
      const tracked = this.replicas.get(replicaId);
      if (tracked !== undefined) tracked.comparedSinceMs = Infinity;
      this.engine?.removeReplica(replicaId, this.clock.now());
      this.scheduleDecision();
    } else {
      if (!this.nonVoting.delete(replicaId)) return;
      if (this.replicas.has(replicaId)) this.register(replicaId);
    }
    this.checkAgreement();
  }

  /** Whether the replica has a vote (true unless setVoting(false) took it). */
  isVoting(replicaId: string): boolean {
    return !this.nonVoting.has(replicaId);
  }

  /**
   * Resolves `{ agreed: true }` once every listed replica is connected and compared (voting, its
   * screen judged at least once: settle + confirm after the engine got it) and none of them is an
   * outlier of a current divergence — without a break for `quietMs` on this monitor's clock,
   * checked on every tick and change. After `timeoutMs`: `{ agreed: false, outliers }`, the listed
   * replicas that were in a divergence or not compared then. Rejects when comparison is off.
   */
  awaitAgreement(replicaIds: readonly string[], quietMs: number, timeoutMs: number): Promise<AgreementResult> {
    if (this.engine === null) return Promise.reject(new Error("this session's profile turned divergence detection off, so agreement cannot be judged"));
    if (this.disposed) return Promise.reject(new Error('the session closed'));
    const ids = [...new Set(replicaIds)];
    return new Promise<AgreementResult>((resolve, reject) => {
      const timer = this.clock.setTimeout(() => {
        waiter.finish({ agreed: false, outliers: this.disagreeing(ids) });
      }, timeoutMs);
      const waiter: AgreementWaiter = {
        replicaIds: ids,
        quietMs,
        agreeingSinceMs: null,
        finish: (result) => {
          this.clock.clearTimeout(timer);
          this.agreementWaiters.delete(waiter);
          resolve(result);
        },
        fail: (error) => {
          this.clock.clearTimeout(timer);
          this.agreementWaiters.delete(waiter);
          reject(error);
        },
      };
      this.agreementWaiters.add(waiter);
      this.checkAgreement();
    });
  }

  /** Ticks the engine once (the timer calls it; tests may too). */
  tick(): void {
    if (this.disposed || this.engine === null) return;
    const events = this.engine.tick(this.clock.now());
    if (events.length > 0) this.options.onEvents(events, this.engine.state);
    this.scheduleDecision();
    this.checkAgreement();
  }

  /** Stops the timer and forgets every replica; waiting awaitAgreement calls fail. */
  dispose(): void {
    if (this.timer !== null) this.clock.clearInterval(this.timer);
    this.timer = null;
    if (this.decisionTimer !== null) this.clock.clearTimeout(this.decisionTimer);
    this.decisionTimer = null;
    this.disposed = true;
    this.replicas.clear();
    for (const waiter of [...this.agreementWaiters]) waiter.fail(new Error('the session closed'));
  }

  /** Registers a tracked replica with the engine and reads its whole screen. */
  private register(replicaId: string): void {
    const tracked = this.replicas.get(replicaId);
    if (tracked === undefined || this.engine === null) return;
    const now = this.clock.now();
    tracked.comparedSinceMs = now;
    this.engine.setReplicaSize(replicaId, tracked.width, tracked.height, now);
    this.feed(replicaId, [{ x: 0, y: 0, width: tracked.width, height: tracked.height }], now);
    this.scheduleDecision();
  }

  /** The listed replicas that do not agree now: not connected, not compared (long enough), or an outlier. */
  private disagreeing(replicaIds: readonly string[]): string[] {
    const now = this.clock.now();
    const outliers = new Set<string>();
    // A divergence held back until its region settled is a disagreement already (see the engine).
    for (const divergence of [...this.state.divergences, ...(this.engine?.heldDivergences ?? [])]) for (const id of divergence.outliers) outliers.add(id);
    return replicaIds.filter((id) => {
      const tracked = this.replicas.get(id);
      return tracked === undefined || now - tracked.comparedSinceMs < this.judgeMs || outliers.has(id);
    });
  }

  private checkAgreement(): void {
    if (this.agreementWaiters.size === 0) return;
    const now = this.clock.now();
    for (const waiter of [...this.agreementWaiters]) {
      if (this.disagreeing(waiter.replicaIds).length > 0) {
        waiter.agreeingSinceMs = null;
        continue;
      }
      waiter.agreeingSinceMs ??= now;
      if (now - waiter.agreeingSinceMs >= waiter.quietMs) waiter.finish({ agreed: true, outliers: [] });
    }
  }

  // One pending one-shot tick, at the engine's earliest due decision (moved earlier when one comes due sooner).
  private scheduleDecision(): void {
    if (this.engine === null || this.timer === null || this.disposed) return;
    const dueMs = this.engine.nextDecisionMs;
    if (!Number.isFinite(dueMs) || dueMs >= this.decisionAtMs) return;
    if (this.decisionTimer !== null) this.clock.clearTimeout(this.decisionTimer);
    this.decisionAtMs = dueMs;
    this.decisionTimer = this.clock.setTimeout(() => {
      this.decisionTimer = null;
      this.decisionAtMs = Infinity;
      this.tick();
    }, Math.max(0, dueMs - this.clock.now()));
  }

  private feed(replicaId: string, rects: readonly PixelRect[], nowMs: number): void {
    const tracked = this.replicas.get(replicaId);
    // Out of the vote: the engine does not know it (and must not).
    if (tracked === undefined || this.engine === null || this.nonVoting.has(replicaId)) return;
    // A resize not yet announced to us: the canvas no longer matches what the engine holds.
    if (tracked.source.width !== tracked.width || tracked.source.height !== tracked.height) return;
    for (const rect of rects) {
      const clipped = clipToFramebuffer(rect, tracked.width, tracked.height);
      if (clipped === null) continue;
      let pixels: Uint8ClampedArray;
      try {
        pixels = tracked.source.read(clipped);
      } catch (error) {
        this.options.warn?.(`[divergence] cannot read ${replicaId}'s screen: ${error instanceof Error ? error.message : String(error)}`);
        continue;
      }
      this.engine.update(replicaId, clipped, pixels, nowMs);
    }
  }
}

/** A PixelSource over a canvas (noVNC's visible canvas holds the framebuffer 1:1). */
export function canvasPixelSource(canvas: HTMLCanvasElement): PixelSource {
  let context: CanvasRenderingContext2D | null = null;
  return {
    get width() {
      return canvas.width;
    },
    get height() {
      return canvas.height;
    },
    read(rect) {
      context ??= canvas.getContext('2d');
      if (context === null) throw new Error('the canvas has no 2d context');
      return context.getImageData(rect.x, rect.y, rect.width, rect.height).data;
    },
  };
}
