// The divergence monitor's side of a remediation: a replica out of the vote is not compared (and a
// reconnect does not bring it back) until it votes again with its current screen, and
// awaitAgreement answers once the listed replicas have agreed for a quiet window, or who did not.
// Plain Node: fake screens, a fake clock.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CONFIRM_MS, SETTLE_MS, type DivergenceEvent, type PixelRect } from '../../../common/divergence';
import { DIVERGENCE_TICK_MS, DivergenceMonitor, type AgreementResult, type PixelSource } from '../../../renderer/divergence/divergence-monitor';
import { IntervalClock } from '../support/fake-clocks';

const WIDTH = 64;
const HEIGHT = 48;
/** A screen the engine just got is judged this long after (settle + confirm, the defaults). */
const JUDGE_MS = SETTLE_MS + CONFIRM_MS;

/** A screen in memory: what a noVNC canvas would hold. Counts what was read. */
class FakeScreen implements PixelSource {
  readonly rgba: Uint8ClampedArray;
  readPixels = 0;
  constructor(
    readonly width = WIDTH,
    readonly height = HEIGHT,
  ) {
    this.rgba = new Uint8ClampedArray(width * height * 4).fill(255);
  }
  /** Sets a rectangle to `level` (grey); returns it (the damage of that paint). */
  paint(rect: PixelRect, level = 0): PixelRect {
    for (let y = rect.y; y < rect.y + rect.height; y++) {
      for (let x = rect.x; x < rect.x + rect.width; x++) this.rgba.fill(level, (y * this.width + x) * 4, (y * this.width + x) * 4 + 3);
    }
    return rect;
  }
  read(rect: PixelRect): Uint8ClampedArray {
    this.readPixels += rect.width * rect.height;
    const out = new Uint8ClampedArray(rect.width * rect.height * 4);
    for (let row = 0; row < rect.height; row++) {
      const start = ((rect.y + row) * this.width + rect.x) * 4;
      out.set(this.rgba.subarray(start, start + rect.width * 4), row * rect.width * 4);
    }
    return out;
  }
}

/** Lets promise continuations run. */
const settlePromises = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function setup(options: { enabled?: boolean } = {}) {
  // The comparison's tick interval and the monitor's agreement check both run on it.
  const clock = new IntervalClock(1000);
  const events: DivergenceEvent[] = [];
  const monitor = new DivergenceMonitor({ clock, onEvents: (batch) => void events.push(...batch), ...(options.enabled === false ? { enabled: false } : {}) });
  const screens = new Map(['r1', 'r2', 'r3'].map((id) => [id, new FakeScreen()]));
  const screen = (id: string): FakeScreen => screens.get(id) as FakeScreen;
  for (const [id, fake] of screens) monitor.connect(id, fake, WIDTH, HEIGHT);
  monitor.start();
  /** Waits for agreement, recording when and how it was answered. */
  const wait = (replicaIds: string[], quietMs: number, timeoutMs: number) => {
    const outcome: { result: AgreementResult | null; error: Error | null; atMs: number | null } = { result: null, error: null, atMs: null };
    monitor.awaitAgreement(replicaIds, quietMs, timeoutMs).then(
      (result) => {
        outcome.result = result;
        outcome.atMs = clock.nowMs;
      },
      (error: Error) => {
        outcome.error = error;
      },
    );
    return outcome;
  };
  const outliersNow = (): string[] => [...new Set(monitor.state.divergences.flatMap((divergence) => divergence.outliers))];
  return { clock, events, monitor, screen, wait, outliersNow };
}

const CELL: PixelRect = { x: 16, y: 16, width: 8, height: 8 };

describe('DivergenceMonitor voting and agreement', { timeout: 30_000 }, () => {
  it('a replica out of the vote is not compared, even across a reconnect, until it votes again with its current screen', { timeout: 5_000 }, () => {
    const { clock, monitor, screen, outliersNow } = setup();
    monitor.damage('r2', [screen('r2').paint(CELL)]);
    clock.advance(JUDGE_MS + 200);
    assert.deepEqual(outliersNow(), ['r2']);
    monitor.setVoting('r2', false);
    assert.equal(monitor.isVoting('r2'), false);
    clock.advance(JUDGE_MS + 200);
    assert.deepEqual(outliersNow(), [], 'without r2 everyone left agrees');
    // Reverted and reconnected: a new canvas. connect() only remembers it.
    const reconnected = new FakeScreen();
    reconnected.paint({ x: 0, y: 0, width: 8, height: 8 });
    monitor.connect('r2', reconnected, WIDTH, HEIGHT);
    monitor.damage('r2', [reconnected.paint({ x: 40, y: 0, width: 8, height: 8 })]);
    clock.advance(JUDGE_MS + 200);
    assert.equal(reconnected.readPixels, 0, 'not read while out of the vote');
    assert.deepEqual(outliersNow(), []);
    monitor.setVoting('r2', true);
    assert.equal(reconnected.readPixels, WIDTH * HEIGHT, 'its current screen is read whole');
    clock.advance(JUDGE_MS + 200);
    assert.deepEqual(outliersNow(), ['r2'], 'compared again, with the screen it has now');
    monitor.dispose();
  });

  it('agrees once the listed replicas were compared and agreed for the quiet window', { timeout: 5_000 }, async () => {
    const { clock, wait, monitor } = setup();
    const startMs = clock.nowMs;
    const outcome = wait(['r1', 'r2', 'r3'], 500, 10_000);
    clock.advance(JUDGE_MS + 400);
    await settlePromises();
    assert.equal(outcome.result, null, 'a screen just connected is not judged yet, then the quiet window runs');
    clock.advance(200);
    await settlePromises();
    assert.deepEqual(outcome.result, { agreed: true, outliers: [] });
    assert.ok((outcome.atMs ?? 0) - startMs >= JUDGE_MS + 500 && (outcome.atMs ?? 0) - startMs <= JUDGE_MS + 500 + DIVERGENCE_TICK_MS);
    monitor.dispose();
  });

  it('restarts the quiet window when a listed replica disagrees, and answers the outliers after the timeout', { timeout: 5_000 }, async () => {
    const { clock, wait, monitor, screen } = setup();
    clock.advance(JUDGE_MS + 100);
    const agreeing = wait(['r1', 'r3'], 2000, 3000);
    const all = wait(['r1', 'r2', 'r3'], 2000, 3000);
    clock.advance(500);
    monitor.damage('r2', [screen('r2').paint(CELL)]);
    clock.advance(JUDGE_MS + 200);
    await settlePromises();
    assert.equal(all.result, null);
    clock.advance(1400);
    await settlePromises();
    assert.deepEqual(agreeing.result, { agreed: true, outliers: [] }, 'r2 is not among them');
    assert.deepEqual(all.result, { agreed: false, outliers: ['r2'] });
    // r2 draws what the others have: the window starts again from there.
    const again = wait(['r1', 'r2', 'r3'], 1000, 10_000);
    monitor.damage('r1', [screen('r1').paint(CELL)]);
    monitor.damage('r3', [screen('r3').paint(CELL)]);
    clock.advance(JUDGE_MS);
    await settlePromises();
    assert.equal(again.result, null);
    clock.advance(1100 + DIVERGENCE_TICK_MS);
    await settlePromises();
    assert.deepEqual(again.result, { agreed: true, outliers: [] });
    assert.equal(clock.intervals, 1, "answered waits leave no check behind: only the comparison's tick runs");
    assert.equal(clock.timeouts <= 1, true, 'and no timeout (one decision tick at most)');
    monitor.dispose();
  });

  it('counts a replica out of the vote or disconnected as not agreeing', { timeout: 5_000 }, async () => {
    const { clock, wait, monitor, screen } = setup();
    monitor.setVoting('r2', false);
    monitor.disconnect('r3');
    const outcome = wait(['r1', 'r2', 'r3'], 100, 3000);
    clock.advance(3000);
    await settlePromises();
    assert.deepEqual(outcome.result, { agreed: false, outliers: ['r2', 'r3'] });
    const later = wait(['r1', 'r2', 'r3'], 100, 5000);
    monitor.setVoting('r2', true);
    monitor.connect('r3', screen('r3'), WIDTH, HEIGHT);
    clock.advance(JUDGE_MS + 100 + DIVERGENCE_TICK_MS);
    await settlePromises();
    assert.deepEqual(later.result, { agreed: true, outliers: [] });
    monitor.dispose();
  });

  it('refuses to judge when comparison is off, and fails waits when the session closes', { timeout: 5_000 }, async () => {
    const off = setup({ enabled: false });
    await assert.rejects(off.monitor.awaitAgreement(['r1'], 0, 1000), /turned divergence detection off/);
    off.monitor.dispose();
    const { monitor } = setup();
    const waiting = monitor.awaitAgreement(['r1', 'r2'], 1000, 10_000);
    monitor.dispose();
    await assert.rejects(waiting, /the session closed/);
  });
});
