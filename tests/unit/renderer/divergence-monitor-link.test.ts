// The divergence monitor's side of the comparison protocol in plain Node: damage is posted with its
// buffers in the transfer list (a view into a larger buffer is copied, never detached), snapshots go
// to a worker in order and paced by what it has carried out, small damage is read on the page, a malformed message from the comparison
// is dropped with a logged reason, and a comparison that dies or cannot start is replaced by one in
// the page that gets every screen again and still flags divergences.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ComparisonRequest } from '../../../common/comparison-protocol';
import { CONFIRM_MS, SETTLE_MS, type DivergenceEvent, type PixelRect } from '../../../common/divergence';
import { DivergenceMonitor, inPageComparison, type ComparisonLinkFactory, type PixelSource } from '../../../renderer/divergence/divergence-monitor';
import { IntervalClock, settlePromises } from '../support/fake-clocks';

const WIDTH = 64;
const HEIGHT = 48;
const JUDGE_MS = SETTLE_MS + CONFIRM_MS;
const CELL: PixelRect = { x: 16, y: 16, width: 8, height: 8 };

/** A screen in memory; `slices` makes read() return views into one larger buffer. */
class FakeScreen implements PixelSource {
  readonly rgba = new Uint8ClampedArray(WIDTH * HEIGHT * 4).fill(255);
  readonly width = WIDTH;
  readonly height = HEIGHT;
  readPixels = 0;
  constructor(private readonly slices = false) {}
  paint(rect: PixelRect): PixelRect {
    for (let y = rect.y; y < rect.y + rect.height; y++) this.rgba.fill(0, (y * WIDTH + rect.x) * 4, (y * WIDTH + rect.x + rect.width) * 4);
    return rect;
  }
  read(rect: PixelRect): Uint8ClampedArray {
    this.readPixels += rect.width * rect.height;
    const out = this.slices ? new Uint8ClampedArray(rect.width * rect.height * 4 + 16).subarray(8, 8 + rect.width * rect.height * 4) : new Uint8ClampedArray(rect.width * rect.height * 4);
    for (let row = 0; row < rect.height; row++) out.set(this.rgba.subarray(((rect.y + row) * WIDTH + rect.x) * 4, ((rect.y + row) * WIDTH + rect.x + rect.width) * 4), row * rect.width * 4);
    return out;
  }
}

/**
 * A worker-like link: it takes snapshots and records what it is sent; `report(updates)` posts the
 * report that says it carried out that many frames.
 */
function snapshotWorker(): { sent: ComparisonRequest[]; worker: ComparisonLinkFactory; report: (updates: number) => void } {
  const sent: ComparisonRequest[] = [];
  let receive: (message: unknown) => void = () => undefined;
  const worker: ComparisonLinkFactory = (onMessage) => {
    receive = onMessage;
    return { readsBitmaps: true, send: (request) => void sent.push(request), close: () => undefined };
  };
  const report = (updates: number): void => receive({ type: 'report', events: [], state: { divergences: [], allAgree: true }, held: [], tickStartMs: 0, ticks: 1, tickMs: 0, updateMs: 0, updates });
  return { sent, worker, report };
}

/** What a link was sent, and the hooks to make it misbehave. */
interface Recorder {
  readonly sent: { request: ComparisonRequest; transfer: readonly Transferable[] }[];
  /** Posts `message` to the monitor as if the comparison had sent it. */
  inject(message: unknown): void;
  /** Reports the comparison dead. */
  kill(reason: string): void;
}

/** A link that records what it is sent and passes it on to a comparison in the page on `clock`. */
function recordingLink(clock: IntervalClock): { factory: ComparisonLinkFactory; recorder: Recorder } {
  const recorder: { sent: Recorder['sent']; inject: (message: unknown) => void; kill: (reason: string) => void } = { sent: [], inject: () => undefined, kill: () => undefined };
  const factory: ComparisonLinkFactory = (receive, fail) => {
    const inner = inPageComparison(clock)(receive, fail);
    recorder.inject = receive;
    recorder.kill = fail;
    return {
      send: (request, transfer) => {
        recorder.sent.push({ request, transfer });
        inner.send(request, transfer);
      },
      close: () => inner.close(),
    };
  };
  return { factory, recorder };
}

function setup(options: { comparison?: ComparisonLinkFactory; slices?: boolean; clock?: IntervalClock } = {}) {
  const clock = options.clock ?? new IntervalClock(1000);
  const events: DivergenceEvent[] = [];
  const warnings: string[] = [];
  const monitor = new DivergenceMonitor({
    clock,
    onEvents: (batch) => void events.push(...batch),
    warn: (message) => void warnings.push(message),
    ...(options.comparison === undefined ? {} : { comparison: options.comparison }),
  });
  const screens = new Map(['r1', 'r2', 'r3'].map((id) => [id, new FakeScreen(options.slices ?? false)]));
  const screen = (id: string): FakeScreen => screens.get(id) as FakeScreen;
  for (const [id, fake] of screens) monitor.connect(id, fake, WIDTH, HEIGHT);
  monitor.start();
  const outliers = (): string[][] => events.flatMap((event) => (event.type === 'divergence' ? [[...event.divergence.outliers]] : []));
  return { clock, events, warnings, monitor, screen, outliers };
}

describe('DivergenceMonitor over the comparison protocol', { timeout: 30_000 }, () => {
  it('posts the damaged pixels with their buffers transferred; a view into a larger buffer is copied first', () => {
    for (const slices of [false, true]) {
      const clock = new IntervalClock(1000);
      const { factory, recorder } = recordingLink(clock);
      const { monitor, screen } = setup({ comparison: factory, slices, clock });
      recorder.sent.length = 0;
      monitor.damage('r2', [screen('r2').paint(CELL)]);
      const [update] = recorder.sent;
      assert.ok(update?.request.type === 'update', JSON.stringify(update?.request.type));
      assert.deepEqual(update.request.rects, [CELL]);
      const [pixels] = update.request.pixels;
      assert.ok(pixels !== undefined);
      assert.deepEqual(update.transfer, [pixels.buffer], 'the one buffer is in the transfer list');
      assert.equal(pixels.buffer.byteLength, CELL.width * CELL.height * 4, slices ? 'a copy of just the rectangle' : 'the read buffer itself');
      monitor.dispose();
    }
  });

  it('drops a malformed message from the comparison with a logged reason, and keeps its report', () => {
    const clock = new IntervalClock(1000);
    const { factory, recorder } = recordingLink(clock);
    const { monitor, screen, warnings, outliers } = setup({ comparison: factory, clock });
    monitor.damage('r2', [screen('r2').paint(CELL)]);
    clock.advance(JUDGE_MS + 100);
    assert.deepEqual(outliers(), [['r2']]);
    recorder.inject({ type: 'report', events: [], state: { divergences: [], allAgree: true }, held: [] });
    recorder.inject({ type: 'problem', problem: 'could not carry out "update"' });
    assert.equal(monitor.state.divergences.length, 1, 'the mirror kept the last good report');
    assert.equal(warnings.length, 2, warnings.join('\n'));
    assert.match(warnings[0] ?? '', /dropped a malformed message from the comparison: \$: missing field "tickStartMs"/);
    assert.match(warnings[1] ?? '', /the comparison refused a request: could not carry out "update"/);
    monitor.dispose();
  });

  it('falls back to the page when the comparison dies: every screen is read again, what it showed is resolved, detection goes on', () => {
    const clock = new IntervalClock(1000);
    const { factory, recorder } = recordingLink(clock);
    const { monitor, screen, warnings, events, outliers } = setup({ comparison: factory, clock });
    monitor.damage('r2', [screen('r2').paint(CELL)]);
    clock.advance(JUDGE_MS + 100);
    assert.equal(monitor.comparesInPage, false);
    assert.deepEqual(outliers(), [['r2']]);
    const readBefore = screen('r1').readPixels;

    recorder.kill('the comparison worker failed: out of memory');
    assert.equal(monitor.comparesInPage, true);
    assert.match(warnings.join('\n'), /out of memory; comparing in the page instead/);
    assert.equal(screen('r1').readPixels - readBefore, WIDTH * HEIGHT, 'the whole screen went to the new comparison');
    assert.deepEqual(events.slice(-2).map((event) => event.type), ['divergence-resolved', 'consensus']);
    assert.equal(monitor.state.allAgree, true);
    // The old link is ignored from now on; the new comparison judges r2's screen again.
    recorder.inject({ type: 'problem', problem: 'late' });
    clock.advance(JUDGE_MS + 100);
    assert.deepEqual(outliers(), [['r2'], ['r2']]);
    assert.equal(warnings.length, 1);
    monitor.dispose();
    assert.equal(clock.pending, 0, 'the fallback comparison stopped its timers');
  });

  it('compares in the page when the comparison cannot even be opened', () => {
    const failing: ComparisonLinkFactory = () => {
      throw new Error('Worker is not defined');
    };
    const { monitor, screen, warnings, clock, outliers } = setup({ comparison: failing });
    assert.equal(monitor.comparesInPage, true);
    assert.match(warnings[0] ?? '', /cannot start: Worker is not defined; comparing in the page instead/);
    monitor.damage('r3', [screen('r3').paint(CELL)]);
    clock.advance(JUDGE_MS + 100);
    assert.deepEqual(outliers(), [['r3']]);
    monitor.dispose();
  });

  it('sends snapshots in order, and holds damage back past the bytes in flight until the worker reports it caught up', async () => {
    const clock = new IntervalClock(1000);
    // Carries nothing out until the test posts its report.
    const { sent, worker, report } = snapshotWorker();
    const snapshot = (rect: PixelRect) => Promise.resolve({ width: rect.width, height: rect.height, close: () => undefined });
    // (Every rectangle snapshot, however small.)
    const monitor = new DivergenceMonitor({ clock, onEvents: () => undefined, comparison: worker, maxBytesInFlight: WIDTH * HEIGHT * 4, smallReadMaxBytes: 0 });
    const screens = ['r1', 'r2'].map((id) => ({ id, source: Object.assign(new FakeScreen(), { snapshot }) }));
    for (const { id, source } of screens) monitor.connect(id, source, WIDTH, HEIGHT);
    monitor.disconnect('r2');
    await settlePromises();
    const kinds = (): string[] => sent.map((request) => (request.type === 'frame' || request.type === 'size' || request.type === 'remove' ? `${request.type} ${request.replicaId}` : request.type));
    // r2's whole screen waited (r1's filled the budget); its removal is not overtaken by anything.
    assert.deepEqual(kinds(), ['configure', 'size r1', 'frame r1', 'size r2', 'remove r2']);
    const r1 = screens[0]?.source as FakeScreen;
    monitor.damage('r1', [r1.paint({ x: 0, y: 0, width: 8, height: 8 })]);
    monitor.damage('r1', [r1.paint({ x: 8, y: 0, width: 8, height: 8 })]);
    await settlePromises();
    assert.equal(sent.length, 5, 'nothing more while the budget is spent');
    report(1);
    await settlePromises();
    const last = sent.at(-1);
    assert.ok(last?.type === 'frame' && last.replicaId === 'r1', kinds().join(', '));
    assert.deepEqual(last.rects, [{ x: 0, y: 0, width: 16, height: 8 }], 'the waiting damage, joined, in one frame');
    monitor.dispose();
  });

  it('reads small damage on the page and snapshots the rest, in the order the damage came', async () => {
    const clock = new IntervalClock(1000);
    const { sent, worker, report } = snapshotWorker();
    // Snapshots resolve only when the test says: a small read must not overtake one.
    const pending: (() => void)[] = [];
    const snapshot = (rect: PixelRect) => new Promise<{ width: number; height: number; close: () => void }>((resolve) => pending.push(() => resolve({ width: rect.width, height: rect.height, close: () => undefined })));
    const source = Object.assign(new FakeScreen(), { snapshot });
    const monitor = new DivergenceMonitor({ clock, onEvents: () => undefined, comparison: worker, smallReadMaxBytes: 8 * 8 * 4 });
    monitor.connect('r1', source, WIDTH, HEIGHT);
    monitor.damage('r1', [source.paint({ x: 0, y: 0, width: 8, height: 8 })]);
    await settlePromises();
    const kinds = (): string[] => sent.flatMap((request) => (request.type === 'frame' || request.type === 'update' ? [`${request.type} ${request.rects.map((rect) => `${rect.width}×${rect.height}`).join(' ')}`] : []));
    // The small rectangle was read when it was damaged; it waits behind the whole screen's snapshot.
    assert.equal(source.readPixels, 64);
    assert.deepEqual(kinds(), [], 'nothing goes before the snapshot of the whole screen is taken');
    pending.shift()?.();
    await settlePromises();
    assert.deepEqual(kinds(), [`frame ${WIDTH}×${HEIGHT}`, 'update 8×8']);
    const update = sent.at(-1);
    assert.ok(update?.type === 'update');
    assert.deepEqual([...update.pixels[0]!.subarray(0, 4)], [0, 0, 0, 0], 'the small rectangle as the canvas held it');
    // A rectangle one pixel over the limit is snapshot.
    monitor.damage('r1', [source.paint({ x: 8, y: 8, width: 9, height: 8 })]);
    pending.shift()?.();
    await settlePromises();
    assert.deepEqual(kinds().at(-1), 'frame 9×8');
    // Both kinds count against the bytes in flight, and are given back by the worker's reports.
    report(3);
    monitor.dispose();
  });

  it('gives a failed snapshot back to the budget and releases the others of its update', async () => {
    const clock = new IntervalClock(1000);
    const warnings: string[] = [];
    const { sent, worker, report: caughtUp } = snapshotWorker();
    const closed: PixelRect[] = [];
    const snapshot = (rect: PixelRect) => (rect.x === 32 ? Promise.reject(new Error('the canvas is gone')) : Promise.resolve({ width: rect.width, height: rect.height, close: () => void closed.push(rect) }));
    const frames = (): number => sent.filter((request) => request.type === 'frame').length;
    const monitor = new DivergenceMonitor({ clock, onEvents: () => undefined, comparison: worker, maxBytesInFlight: WIDTH * HEIGHT * 4, smallReadMaxBytes: 0, warn: (message) => void warnings.push(message) });
    // r1's whole screen cannot be taken: its frame never goes, and r2's, which waited behind it, does.
    monitor.connect('r1', Object.assign(new FakeScreen(), { snapshot: () => Promise.reject(new Error('no canvas')) }), WIDTH, HEIGHT);
    const source = Object.assign(new FakeScreen(), { snapshot });
    monitor.connect('r2', source, WIDTH, HEIGHT);
    await settlePromises();
    assert.match(warnings.join('\n'), /cannot snapshot a screen: no canvas/);
    assert.equal(frames(), 1, "r2's whole screen went once r1's failed frame left the budget");
    caughtUp(1);
    // Two pieces, one of which cannot be taken: nothing of the update goes, the piece taken is released.
    monitor.damage('r2', [source.paint({ x: 0, y: 0, width: 4, height: 4 }), source.paint({ x: 32, y: 32, width: 4, height: 4 })]);
    await settlePromises();
    assert.equal(frames(), 1);
    assert.deepEqual(closed, [{ x: 0, y: 0, width: 4, height: 4 }]);
    // Its bytes were given back: a full screen's worth still goes at once.
    monitor.damage('r2', [source.paint({ x: 0, y: 0, width: WIDTH, height: HEIGHT })]);
    await settlePromises();
    assert.equal(frames(), 2);
    monitor.dispose();
  });
});
