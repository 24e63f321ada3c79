// The comparison worker's message handling in plain Node, over a real MessageChannel
// (node:worker_threads), as the page and its worker talk: pixel buffers are transferred (the page's
// copy is detached), the engine's verdicts come back as reports on the page's clock, and a malformed
// or impossible request is dropped with a reason while the core keeps working.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { parseComparisonReport, type ComparisonReport, type ComparisonRequest } from '../../../common/comparison-protocol';
import { CONFIRM_MS, SETTLE_MS, type PixelRect } from '../../../common/divergence';
import { ComparisonCore, onPageTimeline, REPORT_HEARTBEAT_MS } from '../../../renderer/divergence/comparison-core';
import { IntervalClock } from '../support/fake-clocks';

const WIDTH = 64;
const HEIGHT = 48;
const PAGE_TIME_ORIGIN_MS = 1_700_000_000_000;

/** The page's end of the channel: posts requests (with transfers) and collects the worker's reports. */
class PageEnd {
  readonly received: ComparisonReport[] = [];
  private waiters: (() => void)[] = [];
  constructor(private readonly port: MessagePort) {
    port.on('message', (message: unknown) => {
      const parsed = parseComparisonReport(message);
      assert.ok(parsed.ok, parsed.ok ? '' : parsed.problem);
      this.received.push(parsed.message);
      for (const wake of this.waiters.splice(0)) wake();
    });
  }
  post(request: ComparisonRequest | Record<string, unknown>, transfer: ArrayBuffer[] = []): void {
    this.port.postMessage(request, transfer);
  }
  /** Resolves once `count` reports have arrived in all. */
  async reports(count: number): Promise<ComparisonReport[]> {
    return this.until((received) => received.length >= count);
  }
  /** Resolves with every report received once `done` holds for them. */
  async until(done: (received: readonly ComparisonReport[]) => boolean): Promise<ComparisonReport[]> {
    while (!done(this.received)) await new Promise<void>((resolve) => this.waiters.push(resolve));
    return [...this.received];
  }
}

/** A core on one end of a MessageChannel, the page on the other; time origins as in a browser. */
function connect() {
  const { port1, port2 } = new MessageChannel();
  const clock = new IntervalClock();
  const warnings: string[] = [];
  const origins: number[] = [];
  /** Every report as the core posted it (synchronously, before the channel carries it). */
  const posted: ComparisonReport[] = [];
  // Requests are carried out in arrival order; the test waits for them with a round trip (a tick's report).
  const core = new ComparisonCore({
    post: (report) => {
      posted.push(report);
      port2.postMessage(report);
    },
    clockFor: (pageTimeOriginMs) => {
      origins.push(pageTimeOriginMs);
      return clock;
    },
    warn: (message) => warnings.push(message),
  });
  port2.on('message', (message: unknown) => core.handle(message));
  const page = new PageEnd(port1);
  const close = (): void => {
    core.dispose();
    port1.close();
    port2.close();
  };
  return { clock, core, page, warnings, origins, posted, close };
}

/** A whole screen of one grey level, with a black rectangle painted on it. */
function screen(level: number, black: PixelRect | null = null): Uint8ClampedArray {
  const rgba = new Uint8ClampedArray(WIDTH * HEIGHT * 4).fill(level);
  if (black !== null) {
    for (let y = black.y; y < black.y + black.height; y++) rgba.fill(0, (y * WIDTH + black.x) * 4, (y * WIDTH + black.x + black.width) * 4);
  }
  return rgba;
}

const WHOLE: PixelRect = { x: 0, y: 0, width: WIDTH, height: HEIGHT };
const CELL: PixelRect = { x: 16, y: 16, width: 8, height: 8 };

describe('ComparisonCore over a MessageChannel', { timeout: 30_000 }, () => {
  it('takes transferred pixels without a copy on the page side, and reports the outlier after settle + confirm', async (t) => {
    const { clock, page, origins, close } = connect();
    t.after(close);
    page.post({ type: 'configure', options: {}, tickMs: 100, pageTimeOriginMs: PAGE_TIME_ORIGIN_MS });
    page.post({ type: 'start' });
    for (const id of ['r1', 'r2', 'r3']) {
      const pixels = screen(255, id === 'r2' ? CELL : null);
      page.post({ type: 'size', replicaId: id, width: WIDTH, height: HEIGHT, atMs: 0 });
      page.post({ type: 'update', replicaId: id, rects: [WHOLE], pixels: [pixels], atMs: 0 }, [pixels.buffer as ArrayBuffer]);
      assert.equal(pixels.byteLength, 0, 'the buffer moved to the worker: nothing left (and nothing copied) on the page');
    }
    page.post({ type: 'tick' });
    const [first] = await page.reports(1);
    assert.deepEqual(origins, [PAGE_TIME_ORIGIN_MS], 'the clock was built for the page time origin');
    assert.ok(first?.type === 'report' && first.events.length === 0 && first.updates === 3);
    clock.advance(SETTLE_MS + CONFIRM_MS);
    const hasDivergence = (reports: readonly ComparisonReport[]): boolean => reports.some((report) => report.type === 'report' && report.state.divergences.length > 0);
    const reports = await page.until(hasDivergence);
    const flagged = reports.flatMap((report) => (report.type === 'report' ? report.events : [])).find((event) => event.type === 'divergence');
    assert.ok(flagged?.type === 'divergence', JSON.stringify(reports));
    assert.deepEqual(flagged.divergence.outliers, ['r2']);
    assert.deepEqual(flagged.divergence.regions, [CELL]);
    assert.equal(flagged.atMs, SETTLE_MS + CONFIRM_MS, 'judged at the time it fell due, on the page clock');
    const last = reports.at(-1);
    assert.ok(last?.type === 'report' && last.state.divergences.length === 1 && !last.state.allAgree);
  });

  it('drops a malformed or premature request with a reason, and keeps working', async (t) => {
    const { page, warnings, close } = connect();
    t.after(close);
    page.post({ type: 'size', replicaId: 'r1', width: WIDTH, height: HEIGHT, atMs: 0 });
    page.post({ type: 'configure', options: { settleMs: -1 }, tickMs: 100, pageTimeOriginMs: 0 });
    page.post({ type: 'configure', options: {}, tickMs: 100, pageTimeOriginMs: 0 });
    page.post({ type: 'update', replicaId: 'r1', rects: [CELL], pixels: [new Uint8ClampedArray(4)], atMs: 0 });
    page.post({ type: 'update', replicaId: 'nobody', rects: [CELL], pixels: [new Uint8ClampedArray(CELL.width * CELL.height * 4)], atMs: 0 });
    page.post({ type: 'tick', extra: true });
    page.post({ type: 'tick' });
    const reports = await page.reports(6);
    const problems = reports.flatMap((report) => (report.type === 'problem' ? [report.problem] : []));
    assert.equal(problems.length, 5, JSON.stringify(problems));
    assert.match(problems[0] ?? '', /not configured yet/);
    assert.match(problems[1] ?? '', /\$\.options\.settleMs/);
    assert.match(problems[2] ?? '', /expected 256 bytes for a 8×8 rectangle/);
    assert.match(problems[3] ?? '', /unknown replica nobody/);
    assert.match(problems[4] ?? '', /unexpected field "extra"/);
    assert.equal(reports[5]?.type, 'report', 'a good tick after the bad requests is answered');
    assert.equal(warnings.length, 5, 'each drop is logged');
  });

  it('reports what the page must learn at once, and a quiet tick only with the heartbeat', async (t) => {
    const { clock, core, posted, close } = connect();
    t.after(close);
    core.handle({ type: 'configure', options: {}, tickMs: 100, pageTimeOriginMs: 0 });
    core.handle({ type: 'start' });
    for (const id of ['r1', 'r2', 'r3']) {
      core.handle({ type: 'size', replicaId: id, width: WIDTH, height: HEIGHT, atMs: 0 });
      core.handle({ type: 'update', replicaId: id, rects: [WHOLE], pixels: [screen(255)], atMs: 0 });
    }
    // The first tick carries the three updates (the page paces its frames by them).
    clock.advance(100);
    const first = posted.at(-1);
    assert.ok(first?.type === 'report' && first.updates === 3 && first.ticks === 1, JSON.stringify(first));
    // Agreement is judged (settle + confirm); from then on nothing changes.
    clock.advance(SETTLE_MS + CONFIRM_MS + 100);
    const settled = posted.length;
    clock.advance(5 * REPORT_HEARTBEAT_MS);
    const quiet = posted.slice(settled);
    assert.equal(quiet.length, 5, `one report per heartbeat, not one per tick: ${JSON.stringify(quiet)}`);
    for (const report of quiet) {
      assert.ok(report.type === 'report' && report.events.length === 0 && report.updates === 0);
      assert.equal(report.ticks, REPORT_HEARTBEAT_MS / 100, 'each covers the quiet ticks since the one before');
    }
    // An update is told on the next tick, whenever the heartbeat is due.
    const updatedAtMs = clock.now();
    const reportsBefore = posted.length;
    core.handle({ type: 'update', replicaId: 'r2', rects: [CELL], pixels: [screen(0).subarray(0, CELL.width * CELL.height * 4)], atMs: updatedAtMs });
    clock.advance(100);
    assert.equal(posted.length, reportsBefore + 1);
    const told = posted.at(-1);
    assert.ok(told?.type === 'report' && told.updates === 1 && told.tickStartMs - updatedAtMs <= 100, JSON.stringify(told));
    // Asked for, a tick is answered whatever it holds.
    const before = posted.length;
    core.handle({ type: 'tick' });
    assert.equal(posted.length, before + 1);
    // The changed cell confirms as r2's divergence: reported as it happens.
    clock.advance(SETTLE_MS + CONFIRM_MS + 100);
    const flagged = posted.slice(before + 1).find((report) => report.type === 'report' && report.events.some((event) => event.type === 'divergence'));
    assert.ok(flagged?.type === 'report' && flagged.state.divergences[0]?.outliers.join() === 'r2', JSON.stringify(posted.slice(before + 1)));
  });

  it('stops its timers on dispose and ignores what comes after', async (t) => {
    const { clock, core, page, posted, close } = connect();
    t.after(close);
    page.post({ type: 'configure', options: {}, tickMs: 100, pageTimeOriginMs: 0 });
    page.post({ type: 'start' });
    page.post({ type: 'tick' });
    await page.reports(1);
    assert.ok(clock.pending > 0, 'the tick timer runs');
    core.handle({ type: 'dispose' });
    assert.equal(clock.pending, 0);
    core.handle({ type: 'tick' });
    clock.advance(1000);
    assert.equal(posted.length, 1, 'nothing reported after dispose');
  });
});

/** A stand-in snapshot: the pixels a read-back would give. */
class FakeBitmap {
  closed = false;
  readonly width = WIDTH;
  readonly height = HEIGHT;
  constructor(readonly pixels: Uint8ClampedArray) {}
  close(): void {
    this.closed = true;
  }
}

describe("ComparisonCore reading snapshots back ('frame')", { timeout: 30_000 }, () => {
  it('reads each snapshot, gives the engine its pixels, then releases them, in that order', () => {
    const clock = new IntervalClock();
    const reports: ComparisonReport[] = [];
    const calls: string[] = [];
    const released: Uint8ClampedArray[] = [];
    const core = new ComparisonCore({
      post: (report) => reports.push(report),
      clockFor: () => clock,
      warn: (message) => calls.push(`warn ${message}`),
      bitmaps: {
        isBitmap: (value): value is never => value instanceof FakeBitmap,
        read: (bitmap) => {
          calls.push('read');
          return (bitmap as unknown as FakeBitmap).pixels;
        },
        release: (pixels) => {
          calls.push('release');
          released.push(pixels);
          // What the worker does: the memory is gone once released.
          pixels.fill(0);
        },
      },
    });
    try {
      core.handle({ type: 'configure', options: {}, tickMs: 100, pageTimeOriginMs: PAGE_TIME_ORIGIN_MS });
      core.handle({ type: 'start' });
      const read: Uint8ClampedArray[] = [];
      for (const id of ['r1', 'r2', 'r3']) {
        const pixels = screen(255, id === 'r2' ? CELL : null);
        read.push(pixels);
        core.handle({ type: 'size', replicaId: id, width: WIDTH, height: HEIGHT, atMs: 0 });
        core.handle({ type: 'frame', replicaId: id, rects: [WHOLE], bitmaps: [new FakeBitmap(pixels)], atMs: 0 });
      }
      assert.deepEqual(calls, ['read', 'release', 'read', 'release', 'read', 'release']);
      assert.deepEqual(released, read, 'each read-back released once');
      clock.advance(SETTLE_MS + CONFIRM_MS);
      core.handle({ type: 'tick' });
      const flagged = reports.flatMap((report) => (report.type === 'report' ? report.events : [])).find((event) => event.type === 'divergence');
      assert.ok(flagged?.type === 'divergence', `the engine had copied the pixels before they were released: ${JSON.stringify(reports)}`);
      assert.deepEqual(flagged.divergence.outliers, ['r2']);
      assert.deepEqual(flagged.divergence.regions, [CELL]);
    } finally {
      core.dispose();
    }
  });

  /**
   * Three replicas showing one orange picture: r1 through an 'update' (RGBA, as getImageData reads
   * it), r2 and r3 through snapshots read back as BGRA (r3 with a black cell). The outliers the core
   * with `pixelOrder` reports once the divergence is due.
   */
  function outliersWhenMixed(pixelOrder: 'rgba' | 'bgra'): string[] {
    const orange = (black: PixelRect | null, order: 'rgba' | 'bgra'): Uint8ClampedArray => {
      const pixels = screen(255, black);
      for (let index = 0; index < pixels.length; index += 4) {
        if (pixels[index] === 0) continue;
        pixels.set(order === 'rgba' ? [240, 140, 20, 255] : [20, 140, 240, 255], index);
      }
      return pixels;
    };
    const clock = new IntervalClock();
    const reports: ComparisonReport[] = [];
    const core = new ComparisonCore({
      post: (report) => reports.push(report),
      clockFor: () => clock,
      pixelOrder,
      bitmaps: { isBitmap: (value): value is never => value instanceof FakeBitmap, read: (bitmap) => (bitmap as unknown as FakeBitmap).pixels },
    });
    try {
      core.handle({ type: 'configure', options: {}, tickMs: 100, pageTimeOriginMs: PAGE_TIME_ORIGIN_MS });
      core.handle({ type: 'start' });
      for (const id of ['r1', 'r2', 'r3']) core.handle({ type: 'size', replicaId: id, width: WIDTH, height: HEIGHT, atMs: 0 });
      core.handle({ type: 'update', replicaId: 'r1', rects: [WHOLE], pixels: [orange(null, 'rgba')], atMs: 0 });
      core.handle({ type: 'frame', replicaId: 'r2', rects: [WHOLE], bitmaps: [new FakeBitmap(orange(null, 'bgra'))], atMs: 0 });
      core.handle({ type: 'frame', replicaId: 'r3', rects: [WHOLE], bitmaps: [new FakeBitmap(orange(CELL, 'bgra'))], atMs: 0 });
      clock.advance(SETTLE_MS + CONFIRM_MS);
      core.handle({ type: 'tick' });
      const last = reports.at(-1);
      assert.ok(last?.type === 'report');
      return last.state.divergences.flatMap((divergence) => divergence.outliers).sort();
    } finally {
      core.dispose();
    }
  }

  it('in BGRA order, swaps the red and blue of RGBA updates: they agree with the BGRA snapshots of the same picture', () => {
    assert.deepEqual(outliersWhenMixed('bgra'), ['r3']);
    // Without the swap, the update's orange is the snapshots' blue: r1 would be the one that differs.
    assert.notDeepEqual(outliersWhenMixed('rgba'), ['r3']);
  });
});

describe('onPageTimeline', { timeout: 10_000 }, () => {
  it("reads another context's clock on the page's time line", () => {
    let workerNowMs = 5;
    // The worker started 1 250.5 ms after the page: its 5 ms is the page's 1 255.5 ms.
    const now = onPageTimeline(() => workerNowMs, PAGE_TIME_ORIGIN_MS + 1250.5, PAGE_TIME_ORIGIN_MS);
    assert.equal(now(), 1255.5);
    workerNowMs = 105;
    assert.equal(now(), 1355.5);
  });
});
