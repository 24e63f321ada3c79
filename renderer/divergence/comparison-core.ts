// The comparison worker's brain: owns the DivergenceEngine and its tick timing, takes the page's
// requests (parsed strictly, a bad one is dropped and reported) and posts a report after every tick
// that has something to tell the page (and at least once a second, so the page knows it is alive).
// DOM-free, clock passed in: runs in the dedicated worker, in the page as a fallback, and in plain Node tests.

import { DivergenceEngine, type DivergenceOptions, type DivergenceState } from '../../common/divergence';
import { compileCompareKernels, type CompareKernels, type KernelBytes } from '../../common/divergence/compare-kernels';
import { swapRedAndBlue, type PixelOrder } from '../../common/divergence/pixel-order';
import { parseComparisonRequest, type BitmapCheck, type ComparisonReport, type ComparisonRequest, type TransferredBitmap } from '../../common/comparison-protocol';

/** Time, an interval timer and one-shot timers, passed in so tests control them. */
export interface ComparisonClock {
  now(): number;
  setInterval(callback: () => void, intervalMs: number): unknown;
  clearInterval(handle: unknown): void;
  setTimeout(callback: () => void, delayMs: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * A clock reading on the page's time line from one with another origin (a worker's performance.now()
 * starts at the worker's own timeOrigin): page time = own time + (own origin − page origin).
 */
export function onPageTimeline(ownNow: () => number, ownTimeOriginMs: number, pageTimeOriginMs: number): () => number {
  const offsetMs = ownTimeOriginMs - pageTimeOriginMs;
  return () => ownNow() + offsetMs;
}

/** The SIMD kernels' module bytes, given by the bundle's entry point (none: the JavaScript loops). */
let kernelBytes: KernelBytes | null = null;
/** The kernels compiled from them (undefined: not tried yet; null: no WebAssembly SIMD here). */
let compiledKernels: CompareKernels | null | undefined;

/**
 * Gives the runtime's entry point's kernel bytes (the worker and the page import them from the build:
 * `retrovisor-wasm:compare-kernels`); every engine built afterwards uses them. Plain Node code that
 * never calls this (unit tests of the worker's protocol) gets the JavaScript loops.
 */
export function provideComparisonKernels(bytes: KernelBytes): void {
  kernelBytes = bytes;
  compiledKernels = undefined;
}

/**
 * The comparison's WebAssembly SIMD kernels, compiled on first use; null where no bytes were given or
 * the runtime has no WebAssembly SIMD (the engine then runs its JavaScript loops, same results).
 */
export function comparisonKernels(): CompareKernels | null {
  if (kernelBytes === null) return null;
  compiledKernels ??= compileCompareKernels(kernelBytes);
  return compiledKernels;
}

/**
 * Builds the engine: the ONE place a comparison engine is constructed for a session (in the worker,
 * or in the page when the worker is unavailable), so engine-wide choices are made here: the SIMD
 * kernels whenever the runtime has them (options.kernels, when given, wins: tests pick a path).
 */
export function createDivergenceEngine(options: DivergenceOptions): DivergenceEngine {
  return new DivergenceEngine({ kernels: comparisonKernels(), ...options });
}

/**
 * The longest a running comparison stays silent: a report goes out at least this often even when no
 * tick had anything to tell, well within the page's watchdog (WORKER_SILENCE_MS).
 */
export const REPORT_HEARTBEAT_MS = 1000;

/** What the core needs: where its reports go, its clock (given the page's clock origin), and where problems are logged. */
export interface ComparisonCoreOptions {
  readonly post: (report: ComparisonReport) => void;
  /** The clock on the page's time line: `pageTimeOriginMs` is the page's performance.timeOrigin. */
  readonly clockFor: (pageTimeOriginMs: number) => ComparisonClock;
  readonly warn?: (message: string) => void;
  /**
   * The byte order the engine holds (default RGBA). 'update' pixels come as getImageData gives them,
   * RGBA, and have their red and blue swapped in place when it is BGRA; `bitmaps.read` returns this
   * order itself. The verdicts are the same in either (pixel-order.ts).
   */
  readonly pixelOrder?: PixelOrder;
  /**
   * Where snapshots ('frame' requests) can be read back (the worker: an OffscreenCanvas): the check
   * that a value is one, and its pixels. Absent: 'frame' requests are refused.
   */
  readonly bitmaps?: {
    readonly isBitmap: BitmapCheck;
    /** The snapshot's pixels, in `pixelOrder`. */
    read(bitmap: TransferredBitmap): Uint8ClampedArray;
    /** Called with what `read` returned (in `pixelOrder`) once the engine has copied it (the worker frees it at once). */
    release?(pixels: Uint8ClampedArray): void;
  };
}

interface Running {
  readonly engine: DivergenceEngine;
  readonly clock: ComparisonClock;
  readonly tickMs: number;
}

/** One session's comparison: configure, then feed it sizes and updates; it ticks and reports. */
export class ComparisonCore {
  private running: Running | null = null;
  private timer: unknown = null;
  /** The one-shot tick for the engine's next decision, and when it fires. */
  private decisionTimer: unknown = null;
  private decisionAtMs = Infinity;
  /** The latest time handed to the engine: its time never runs backwards (a message may arrive after a tick). */
  private engineNowMs = -Infinity;
  private updateMs = 0;
  private updates = 0;
  /** The ticks since the last report and their time; the divergences that report held, and when it went. */
  private ticksUnreported = 0;
  private tickMsUnreported = 0;
  private reportedDivergences: DivergenceState['divergences'] | null = null;
  private reportedHeld = 0;
  private reportedAtMs = -Infinity;
  private disposed = false;

  constructor(private readonly options: ComparisonCoreOptions) {}

  /** One posted message: parsed, then carried out; a malformed one is dropped with a logged and reported reason. */
  handle(input: unknown): void {
    const parsed = parseComparisonRequest(input, this.options.bitmaps?.isBitmap ?? null);
    if (!parsed.ok) {
      this.closeBitmaps(input);
      // A refused frame is done with too, as far as the page's pacing goes.
      const type = typeof input === 'object' && input !== null ? (input as { type?: unknown }).type : undefined;
      if (type === 'update' || type === 'frame') this.updates++;
      this.problem(`dropped a malformed request: ${parsed.problem}`);
      return;
    }
    try {
      this.apply(parsed.message);
    } catch (error) {
      this.problem(`cannot carry out "${parsed.message.type}": ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      // Counted done even when it failed: the page paces what it sends by this count.
      if (parsed.message.type === 'update' || parsed.message.type === 'frame') this.updates++;
      if (parsed.message.type === 'frame') for (const bitmap of parsed.message.bitmaps) bitmap.close();
    }
  }

  // A refused 'frame' still holds snapshots: release what looks like one.
  private closeBitmaps(input: unknown): void {
    const isBitmap = this.options.bitmaps?.isBitmap;
    const bitmaps = typeof input === 'object' && input !== null ? (input as { bitmaps?: unknown }).bitmaps : undefined;
    if (isBitmap === undefined || !Array.isArray(bitmaps)) return;
    for (const item of bitmaps as unknown[]) if (isBitmap(item)) item.close();
  }

  private apply(request: ComparisonRequest): void {
    if (this.disposed) return;
    if (request.type === 'configure') {
      if (this.running !== null) throw new Error('already configured');
      this.running = { engine: createDivergenceEngine(request.options), clock: this.options.clockFor(request.pageTimeOriginMs), tickMs: request.tickMs };
      return;
    }
    if (request.type === 'dispose') {
      this.dispose();
      return;
    }
    const running = this.running;
    if (running === null) throw new Error('not configured yet');
    switch (request.type) {
      case 'start':
        if (this.timer === null) this.timer = running.clock.setInterval(() => this.tick(), running.tickMs);
        break;
      case 'size':
        running.engine.setReplicaSize(request.replicaId, request.width, request.height, this.engineTime(request.atMs));
        break;
      case 'remove':
        running.engine.removeReplica(request.replicaId, this.engineTime(request.atMs));
        break;
      case 'update': {
        const nowMs = this.engineTime(request.atMs);
        const startMs = running.clock.now();
        const bgra = this.options.pixelOrder === 'bgra';
        request.rects.forEach((rect, index) => {
          const pixels = request.pixels[index] as Uint8ClampedArray;
          // The request's buffers were transferred here: they are this core's to convert in place.
          if (bgra) swapRedAndBlue(pixels);
          running.engine.update(request.replicaId, rect, pixels, nowMs);
        });
        this.updateMs += running.clock.now() - startMs;
        break;
      }
      case 'frame': {
        const reader = this.options.bitmaps;
        if (reader === undefined) throw new Error('bitmaps cannot be read here');
        const nowMs = this.engineTime(request.atMs);
        const startMs = running.clock.now();
        request.rects.forEach((rect, index) => {
          const pixels = reader.read(request.bitmaps[index] as TransferredBitmap);
          running.engine.update(request.replicaId, rect, pixels, nowMs);
          reader.release?.(pixels);
        });
        this.updateMs += running.clock.now() - startMs;
        break;
      }
      case 'tick':
        // Asked for: answered with a report, whatever it holds.
        this.tick(true);
        return;
    }
    this.scheduleDecision();
  }

  /**
   * Memory of the engine's for the pixels of a snapshot about to be handled (DivergenceEngine.
   * stagingPixels): read back straight into it, they are compared without another copy. Null
   * before 'configure', after 'dispose' and without the kernels.
   */
  stagingPixels(bytes: number): Uint8ClampedArray | null {
    if (this.running === null || this.disposed) return null;
    return this.running.engine.stagingPixels(bytes);
  }

  /**
   * Ticks the engine, then reports when the page has something to learn: events, requests carried out
   * (the page paces its frames by them), other divergences than last reported (the engine builds a
   * new list whenever its report may have changed), held-back divergences (and once more when they
   * are gone), `always`, or REPORT_HEARTBEAT_MS since the last report. A quiet tick posts nothing:
   * each report is a task on the page's main thread.
   */
  private tick(always = false): void {
    const running = this.running;
    if (running === null || this.disposed) return;
    const startMs = this.engineTime(running.clock.now());
    const events = running.engine.tick(startMs);
    const state = running.engine.state;
    const held = running.engine.heldDivergences;
    this.ticksUnreported++;
    this.tickMsUnreported += Math.max(0, running.clock.now() - startMs);
    const tells =
      always ||
      events.length > 0 ||
      this.updates > 0 ||
      state.divergences !== this.reportedDivergences ||
      held.length > 0 ||
      this.reportedHeld > 0 ||
      startMs - this.reportedAtMs >= REPORT_HEARTBEAT_MS;
    if (tells) {
      const report: ComparisonReport = {
        type: 'report',
        events,
        state,
        held,
        tickStartMs: startMs,
        ticks: this.ticksUnreported,
        tickMs: this.tickMsUnreported,
        updateMs: this.updateMs,
        updates: this.updates,
      };
      this.updateMs = 0;
      this.updates = 0;
      this.ticksUnreported = 0;
      this.tickMsUnreported = 0;
      this.reportedDivergences = state.divergences;
      this.reportedHeld = held.length;
      this.reportedAtMs = startMs;
      this.options.post(report);
    }
    this.scheduleDecision();
  }

  /** Stops the timers and drops the engine; later requests are ignored. */
  dispose(): void {
    const clock = this.running?.clock;
    if (clock !== undefined && this.timer !== null) clock.clearInterval(this.timer);
    if (clock !== undefined && this.decisionTimer !== null) clock.clearTimeout(this.decisionTimer);
    this.timer = null;
    this.decisionTimer = null;
    this.running = null;
    this.disposed = true;
  }

  private engineTime(atMs: number): number {
    this.engineNowMs = Math.max(this.engineNowMs, atMs);
    return this.engineNowMs;
  }

  // One pending one-shot tick, at the engine's earliest due decision (moved earlier when one comes due sooner).
  private scheduleDecision(): void {
    const running = this.running;
    if (running === null || this.timer === null || this.disposed) return;
    const dueMs = running.engine.nextDecisionMs;
    if (!Number.isFinite(dueMs) || dueMs >= this.decisionAtMs) return;
    if (this.decisionTimer !== null) running.clock.clearTimeout(this.decisionTimer);
    this.decisionAtMs = dueMs;
    this.decisionTimer = running.clock.setTimeout(() => {
      this.decisionTimer = null;
      this.decisionAtMs = Infinity;
      this.tick();
    }, Math.max(0, dueMs - running.clock.now()));
  }

  /** Logs a problem and posts it to the page (which logs it there). */
  problem(message: string): void {
    this.options.warn?.(`[comparison] ${message}`);
    this.options.post({ type: 'problem', problem: message });
  }
}
