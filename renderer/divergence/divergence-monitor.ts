// Feeds one workspace's comparison (a DivergenceEngine in the comparison worker, or in the page as a
// fallback) from the replicas' screens: on every framebuffer update exactly the damaged rectangles
// are read from that replica's canvas and posted, their buffers transferred; the engine's reports
// come back as messages and are mirrored here. The remediation manager can take a replica out of
// the vote and wait for listed replicas to agree. Runs in the renderer's page, but DOM-free (pixels
// through PixelSource, timers through the clock, the worker through a ComparisonLink): tested in plain Node.

import { parseComparisonReport, comparisonOptionsOf, type ComparisonReport, type ComparisonRequest, type TransferredBitmap } from '../../common/comparison-protocol';
import { CONFIRM_MS, SETTLE_MS, clipToFramebuffer, type Divergence, type DivergenceEvent, type DivergenceOptions, type DivergenceState, type PixelRect } from '../../common/divergence';
import type { DivergenceSettings } from '../../common/profile';
import { benchProbe, type BenchProbe } from './bench-probe';
import { ComparisonCore, type ComparisonClock } from './comparison-core';
import { mergeDamage } from './damage-merge';

/**
 * How often the engine is ticked regularly (blink cycles are judged on these). Verdicts that fall due
 * in between (a tile settling, a disagreement confirming: the engine's nextDecisionMs) get a tick of
 * their own at that time, so they are not up to 100 ms late.
 */
export const DIVERGENCE_TICK_MS = 100;

/**
 * At most this many bytes of snapshots on their way to the worker and not yet carried out (8 full
 * 1920×1080 frames). Past it, a replica's damage waits (joined with what follows) until the worker
 * has caught up, then its screen is taken as it is then: a worker that falls behind costs latency,
 * never an unbounded queue of frames.
 */
export const MAX_BYTES_IN_FLIGHT = 8 * 1920 * 1080 * 4;

/**
 * Damage of at most this many bytes (a typed character, a caret, a cursor cell) is read on the page
 * with getImageData and posted as pixels, rather than snapshot for the worker to read back: a read
 * of a few kilobytes costs the page microseconds, while a snapshot costs a bitmap, its transfer and
 * a VideoFrame in the worker, several times the whole comparison of such a rectangle.
 */
export const SMALL_READ_MAX_BYTES = 64 * 1024;

/** Where a replica's pixels are read: its noVNC canvas (see canvasPixelSource). */
export interface PixelSource {
  /** The current framebuffer size. */
  readonly width: number;
  readonly height: number;
  /**
   * RGBA pixels of `rect` (inside the framebuffer), row by row: getImageData(rect).data. The array
   * is handed over to the comparison (its buffer transferred when it owns all of it): keep no reference.
   */
  read(rect: PixelRect): Uint8ClampedArray;
  /**
   * Optional: a snapshot of `rect` taken now, resolved later (createImageBitmap), for a comparison
   * that reads it back itself (the worker): the page's thread then copies nothing.
   */
  snapshot?(rect: PixelRect): Promise<TransferredBitmap>;
}

/** Time, an interval timer and one-shot timers, passed in so tests control them. */
export type MonitorClock = ComparisonClock;

/** One open connection to a comparison (a worker, or a ComparisonCore in the page). */
export interface ComparisonLink {
  /** Whether it takes snapshots ('frame' requests) and reads them back itself. */
  readonly readsBitmaps?: boolean;
  /** Posts a request; `transfer` lists the buffers and bitmaps handed over with it (moved, not copied). */
  send(request: ComparisonRequest, transfer: readonly Transferable[]): void;
  /** Ends the comparison (the worker is terminated). */
  close(): void;
}

/**
 * Opens a comparison: `receive` gets every message it posts (unparsed: the monitor parses it),
 * `fail` is called once if it dies or cannot start. May throw when it cannot be opened at all.
 */
export type ComparisonLinkFactory = (receive: (message: unknown) => void, fail: (reason: string) => void) => ComparisonLink;

/** The comparison in the page itself, on `clock`, synchronous: the tests' default and the fallback when the worker is unavailable. */
export function inPageComparison(clock: MonitorClock, warn?: (message: string) => void): ComparisonLinkFactory {
  return (receive) => {
    const core = new ComparisonCore({ post: (report) => receive(report), clockFor: () => clock, ...(warn === undefined ? {} : { warn }) });
    return { send: (request) => core.handle(request), close: () => core.dispose() };
  };
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
  /**
   * Where the engine runs: the page passes workerComparison() (renderer/divergence/comparison-worker-link.ts).
   * Default: in the page, on `clock`. When the given comparison fails (cannot start, dies), the
   * monitor falls back to the in-page comparison and registers every screen with it again.
   */
  readonly comparison?: ComparisonLinkFactory;
  /** Bytes of frames in flight to a worker before damage waits (default MAX_BYTES_IN_FLIGHT). */
  readonly maxBytesInFlight?: number;
  /** Damage up to this many bytes is read on the page rather than snapshot (default SMALL_READ_MAX_BYTES). */
  readonly smallReadMaxBytes?: number;
  /** Where problems are reported: a canvas that cannot be read (skipped, not fatal), a malformed message, a worker failing. */
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
  private link: ComparisonLink | null = null;
  /** Whether the link in use is the in-page fallback (no further fallback when it fails). */
  private inPage = false;
  private readonly clock: MonitorClock;
  private readonly replicas = new Map<string, Tracked>();
  private started = false;
  private disposed = false;
  /** The comparison's latest report (a mirror of the engine's state and held-back divergences). */
  private mirror: DivergenceState = NOTHING_COMPARED;
  private held: readonly Divergence[] = [];
  /** Replicas out of the vote (the manager isolated them): tracked, but not in the engine. */
  private readonly nonVoting = new Set<string>();
  private readonly agreementWaiters = new Set<AgreementWaiter>();
  /**
   * Checks the waiters every tick interval while there are any: the comparison reports only what
   * changes, and a quiet period ends, or a replica's screen becomes judged, with no report at all.
   */
  private agreementTimer: unknown = null;
  /** A screen the engine just got is judged only after it settled and a disagreement had time to confirm. */
  private readonly judgeMs: number;
  /** Bench only (off in normal use): records the reports' tick timings. */
  private readonly probe: BenchProbe | null;
  /**
   * Requests wait here, in order, behind a snapshot not resolved yet (createImageBitmap is
   * asynchronous): the comparison gets every request in the order the page made it.
   */
  private outbox: Promise<void> = Promise.resolve();
  private waitingInOutbox = 0;
  /** Bytes of each frame sent to a worker and not yet reported carried out, oldest first; and their sum. */
  private readonly inFlight: { readonly bytes: number }[] = [];
  private inFlightBytes = 0;
  /** Damage waiting for the worker to catch up, per replica. */
  private readonly deferred = new Map<string, PixelRect[]>();

  constructor(private readonly options: DivergenceMonitorOptions) {
    this.clock = options.clock ?? PAGE_CLOCK;
    this.judgeMs = (options.engine?.settleMs ?? SETTLE_MS) + (options.engine?.confirmMs ?? CONFIRM_MS);
    this.probe = options.enabled === false ? null : benchProbe();
    if (options.enabled !== false) this.open(options.comparison ?? null);
    // Bench only: times the damage reads and posts on this thread.
    if (this.probe !== null) this.probe.instrumentMonitor(this);
  }

  /** The engine's current report (as last posted by the comparison). */
  get state(): DivergenceState {
    return this.mirror;
  }

  /** Whether this monitor compares anything (false when the profile turned comparison off). */
  get enabled(): boolean {
    return this.options.enabled !== false;
  }

  /** Whether the comparison runs in the page's own thread (the in-page default, or the fallback after a worker failed). */
  get comparesInPage(): boolean {
    return this.inPage;
  }

  /** Starts the comparison's tick timer. */
  start(): void {
    if (this.started || this.disposed || this.link === null) return;
    this.started = true;
    this.send({ type: 'start' });
  }

  /**
   * A replica is connected with this source and size (also on every resize): it is registered with
   * the engine, and its whole current screen is read once (later, only damage). A replica out of the
   * vote is only remembered, and registered when it votes again.
   */
  connect(replicaId: string, source: PixelSource, width: number, height: number): void {
    if (this.disposed || this.link === null || !(width > 0 && height > 0)) return;
    const tracked = this.replicas.get(replicaId);
    if (tracked !== undefined && tracked.source === source && tracked.width === width && tracked.height === height) return;
    this.replicas.set(replicaId, { source, width, height, comparedSinceMs: Infinity });
    if (!this.nonVoting.has(replicaId)) this.register(replicaId);
    this.checkAgreement();
  }

  /** A replica left (disconnected, closed): it is no longer compared. */
  disconnect(replicaId: string): void {
    this.deferred.delete(replicaId);
    if (!this.replicas.delete(replicaId) || this.disposed) return;
    this.send({ type: 'remove', replicaId, atMs: this.clock.now() });
    this.checkAgreement();
  }

  /** One framebuffer update of a replica reached its canvas: these rectangles changed. */
  damage(replicaId: string, rects: readonly PixelRect[]): void {
    if (this.disposed) return;
    this.feed(replicaId, rects, this.clock.now());
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
      this.deferred.delete(replicaId);
      const tracked = this.replicas.get(replicaId);
      if (tracked !== undefined) tracked.comparedSinceMs = Infinity;
      this.send({ type: 'remove', replicaId, atMs: this.clock.now() });
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
   * checked on every report of the comparison (after every tick) and every change. After
   * `timeoutMs`: `{ agreed: false, outliers }`, the listed replicas that were in a divergence or not
   * compared then. Rejects when comparison is off.
   */
  awaitAgreement(replicaIds: readonly string[], quietMs: number, timeoutMs: number): Promise<AgreementResult> {
    if (!this.enabled) return Promise.reject(new Error("this session's profile turned divergence detection off, so agreement cannot be judged"));
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
          this.forgetWaiter(waiter);
          resolve(result);
        },
        fail: (error) => {
          this.clock.clearTimeout(timer);
          this.forgetWaiter(waiter);
          reject(error);
        },
      };
      this.agreementWaiters.add(waiter);
      this.agreementTimer ??= this.clock.setInterval(() => this.checkAgreement(), this.options.tickMs ?? DIVERGENCE_TICK_MS);
      this.checkAgreement();
    });
  }

  private forgetWaiter(waiter: AgreementWaiter): void {
    this.agreementWaiters.delete(waiter);
    if (this.agreementWaiters.size > 0 || this.agreementTimer === null) return;
    this.clock.clearInterval(this.agreementTimer);
    this.agreementTimer = null;
  }

  /** Asks the comparison to tick once now (its own timers tick it regularly; tests may call this). */
  tick(): void {
    if (this.disposed) return;
    this.send({ type: 'tick' });
  }

  /** Ends the comparison and forgets every replica; waiting awaitAgreement calls fail. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const link = this.link;
    this.link = null;
    link?.close();
    this.replicas.clear();
    for (const waiter of [...this.agreementWaiters]) waiter.fail(new Error('the session closed'));
  }

  /** Opens the comparison (the given one, else in the page) and configures it. */
  private open(factory: ComparisonLinkFactory | null): void {
    const inPage = factory === null;
    let link: ComparisonLink;
    try {
      link = (factory ?? inPageComparison(this.clock))(
        (message) => {
          if (this.link === link) this.receive(message);
        },
        (reason) => {
          if (this.link === link) this.failOver(reason);
        },
      );
    } catch (error) {
      if (inPage) throw error;
      this.failOver(`the comparison worker cannot start: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    this.link = link;
    this.inPage = inPage;
    this.send({ type: 'configure', options: comparisonOptionsOf(this.options.engine ?? {}), tickMs: this.options.tickMs ?? DIVERGENCE_TICK_MS, pageTimeOriginMs: pageTimeOriginMs() });
  }

  /**
   * The worker failed: compare in the page from now on (slower for the UI, but divergences are still
   * detected). The new engine gets every voting screen whole; what the old one reported is resolved.
   */
  private failOver(reason: string): void {
    if (this.disposed) return;
    this.options.warn?.(`[divergence] ${reason}; comparing in the page instead`);
    const failed = this.link;
    this.link = null;
    this.inFlight.length = 0;
    this.inFlightBytes = 0;
    this.deferred.clear();
    try {
      failed?.close();
    } catch (error) {
      this.options.warn?.(`[divergence] cannot close the failed comparison: ${error instanceof Error ? error.message : String(error)}`);
    }
    this.open(null);
    if (this.started) this.send({ type: 'start' });
    const now = this.clock.now();
    for (const [replicaId, tracked] of this.replicas) {
      tracked.comparedSinceMs = Infinity;
      if (!this.nonVoting.has(replicaId)) this.register(replicaId);
    }
    if (this.mirror.divergences.length > 0) {
      const resolved: DivergenceEvent[] = [...this.mirror.divergences.map((divergence): DivergenceEvent => ({ type: 'divergence-resolved', id: divergence.id, atMs: now })), { type: 'consensus', atMs: now }];
      this.mirror = NOTHING_COMPARED;
      this.held = [];
      this.options.onEvents(resolved, this.mirror);
    }
    this.checkAgreement();
  }

  /** A message from the comparison: parsed strictly; a malformed one is dropped with a logged reason. */
  private receive(message: unknown): void {
    if (this.disposed) return;
    const parsed = parseComparisonReport(message);
    if (!parsed.ok) {
      this.options.warn?.(`[divergence] dropped a malformed message from the comparison: ${parsed.problem}`);
      return;
    }
    const report: ComparisonReport = parsed.message;
    if (report.type === 'problem') {
      this.options.warn?.(`[divergence] the comparison refused a request: ${report.problem}`);
      return;
    }
    this.mirror = report.state;
    this.held = report.held;
    this.caughtUp(report.updates);
    this.probe?.recordTick(report.tickStartMs, report.ticks, report.tickMs, report.events);
    if (report.events.length > 0) this.options.onEvents(report.events, report.state);
    this.checkAgreement();
  }

  /** The worker carried out `count` more frames: their bytes leave the budget, and waiting damage goes out. */
  private caughtUp(count: number): void {
    for (let done = 0; done < count && this.inFlight.length > 0; done++) this.inFlightBytes -= this.inFlight.shift()?.bytes ?? 0;
    this.sendDeferred();
  }

  /** Damage that waited for room in the budget goes out now, as the screens are now (it may wait again). */
  private sendDeferred(): void {
    if (this.deferred.size === 0 || this.disposed) return;
    const waiting = [...this.deferred];
    this.deferred.clear();
    const now = this.clock.now();
    for (const [replicaId, rects] of waiting) this.feed(replicaId, rects, now);
  }

  /** A frame that will never reach the worker: out of the bytes in flight. */
  private forgetInFlight(entry: { readonly bytes: number }): void {
    const index = this.inFlight.indexOf(entry);
    if (index < 0) return;
    this.inFlight.splice(index, 1);
    this.inFlightBytes -= entry.bytes;
    this.sendDeferred();
  }

  private send(request: ComparisonRequest, transfer: readonly Transferable[] = []): void {
    if (this.waitingInOutbox === 0) {
      this.link?.send(request, transfer);
      return;
    }
    this.sendWhenReady(Promise.resolve({ request, transfer }));
  }

  /** Queues a request still being made (snapshots); it goes after everything queued before it, and before anything after. */
  private sendWhenReady(pending: Promise<{ request: ComparisonRequest; transfer: readonly Transferable[] } | null>): void {
    const link = this.link;
    this.waitingInOutbox++;
    this.outbox = Promise.all([this.outbox, pending]).then(
      ([, item]) => {
        this.waitingInOutbox--;
        if (item === null) return;
        // A comparison replaced meanwhile got every screen whole: what was queued for the old one is dropped (its snapshots released).
        if (link !== null && this.link === link && !this.disposed) link.send(item.request, item.transfer);
        else if (item.request.type === 'frame') for (const bitmap of item.request.bitmaps) bitmap.close();
      },
      (error: unknown) => {
        this.waitingInOutbox--;
        this.options.warn?.(`[divergence] cannot snapshot a screen: ${error instanceof Error ? error.message : String(error)}`);
      },
    );
  }

  /** Registers a tracked replica with the engine and reads its whole screen. */
  private register(replicaId: string): void {
    const tracked = this.replicas.get(replicaId);
    if (tracked === undefined || this.link === null) return;
    const now = this.clock.now();
    tracked.comparedSinceMs = now;
    // The whole screen is read below: damage waiting from before is part of it.
    this.deferred.delete(replicaId);
    this.send({ type: 'size', replicaId, width: tracked.width, height: tracked.height, atMs: now });
    this.feed(replicaId, [{ x: 0, y: 0, width: tracked.width, height: tracked.height }], now);
  }

  /** The listed replicas that do not agree now: not connected, not compared (long enough), or an outlier. */
  private disagreeing(replicaIds: readonly string[]): string[] {
    const now = this.clock.now();
    const outliers = new Set<string>();
    // A divergence held back until its region settled is a disagreement already (see the engine).
    for (const divergence of [...this.mirror.divergences, ...this.held]) for (const id of divergence.outliers) outliers.add(id);
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

  /** Reads the damaged rectangles of a voting replica and posts them in one message, their buffers transferred. */
  private feed(replicaId: string, rects: readonly PixelRect[], nowMs: number): void {
    const tracked = this.replicas.get(replicaId);
    // Out of the vote: the engine does not know it (and must not).
    if (tracked === undefined || this.link === null || this.nonVoting.has(replicaId)) return;
    // A resize not yet announced to us: the canvas no longer matches what the engine holds.
    if (tracked.source.width !== tracked.width || tracked.source.height !== tracked.height) return;
    const clippedRects: PixelRect[] = [];
    for (const rect of rects) {
      const clipped = clipToFramebuffer(rect, tracked.width, tracked.height);
      if (clipped !== null) clippedRects.push(clipped);
    }
    if (clippedRects.length === 0) return;
    // One read or snapshot per joined rectangle, not per 64×64 tile of a full-screen update.
    const damaged = mergeDamage(clippedRects);
    let inFlight: { readonly bytes: number } | null = null;
    if (this.link.readsBitmaps === true) {
      // Paced by what the worker has carried out: past the budget the damage waits, joined with what follows.
      const bytes = damaged.reduce((sum, rect) => sum + rect.width * rect.height * 4, 0);
      const waiting = this.deferred.get(replicaId);
      if (waiting !== undefined || (this.inFlight.length > 0 && this.inFlightBytes + bytes > (this.options.maxBytesInFlight ?? MAX_BYTES_IN_FLIGHT))) {
        this.deferred.set(replicaId, mergeDamage([...(waiting ?? []), ...damaged]));
        return;
      }
      inFlight = { bytes };
      this.inFlight.push(inFlight);
      this.inFlightBytes += bytes;
    }
    const snapshot = tracked.source.snapshot?.bind(tracked.source);
    if (this.link.readsBitmaps === true && snapshot !== undefined && inFlight !== null && inFlight.bytes > (this.options.smallReadMaxBytes ?? SMALL_READ_MAX_BYTES)) {
      // The snapshots are taken now (the canvas as it is); the worker reads them back.
      const sent = inFlight;
      const pending = Promise.allSettled(damaged.map((rect) => snapshot(rect))).then((results) => {
        const taken = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
        const failed = results.find((result) => result.status === 'rejected');
        if (failed !== undefined) {
          // Nothing goes: release what was taken, and give the frame's bytes back to the budget.
          for (const bitmap of taken) bitmap.close();
          if (sent !== null) this.forgetInFlight(sent);
          throw failed.reason;
        }
        return { request: { type: 'frame', replicaId, rects: damaged, bitmaps: taken, atMs: nowMs } satisfies ComparisonRequest, transfer: taken as unknown as Transferable[] };
      });
      this.sendWhenReady(pending);
      return;
    }
    const read: PixelRect[] = [];
    const pixels: Uint8ClampedArray[] = [];
    const transfer: ArrayBuffer[] = [];
    for (const clipped of damaged) {
      let rgba: Uint8ClampedArray;
      try {
        rgba = tracked.source.read(clipped);
      } catch (error) {
        this.options.warn?.(`[divergence] cannot read ${replicaId}'s screen: ${error instanceof Error ? error.message : String(error)}`);
        continue;
      }
      // getImageData's array owns its whole buffer: moved as is. A view into a larger buffer is copied (never detach what is not ours).
      const owned = rgba.buffer instanceof ArrayBuffer && rgba.byteOffset === 0 && rgba.byteLength === rgba.buffer.byteLength ? rgba : rgba.slice();
      read.push(clipped);
      pixels.push(owned);
      transfer.push(owned.buffer as ArrayBuffer);
    }
    if (read.length > 0) this.send({ type: 'update', replicaId, rects: read, pixels, atMs: nowMs }, transfer);
  }
}

/** The page's clock origin in epoch milliseconds (the worker converts its own clock with it). */
function pageTimeOriginMs(): number {
  return typeof performance === 'object' && Number.isFinite(performance.timeOrigin) ? performance.timeOrigin : 0;
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
    // A snapshot copies no pixels into JavaScript; the worker reads it back. The defaults keep it cheap:
    // the canvas is opaque, so no premultiplication change is needed, and the whole canvas needs no crop.
    snapshot: (rect) => (rect.x === 0 && rect.y === 0 && rect.width === canvas.width && rect.height === canvas.height ? createImageBitmap(canvas) : createImageBitmap(canvas, rect.x, rect.y, rect.width, rect.height)),
  };
}
