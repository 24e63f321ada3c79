// The bench-only timing probe in plain Node: noVNC's time is charged to the update it belongs to (and
// what the damage tap feeds is not), a monitor built while the bench asked for the probe reports its
// reads and posts, and the ticks its comparison reported; nothing is recorded for a monitor with comparison off.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PixelRect } from '../../../common/divergence';
import { BENCH_PROBE_GLOBAL, BenchProbe, benchProbe, type BenchProbeRequest, type ProbeClock } from '../../../renderer/divergence/bench-probe';
import { DivergenceMonitor, type MonitorClock, type PixelSource } from '../../../renderer/divergence/divergence-monitor';

/** A clock that moves only when the test spends time. */
class SteppedClock implements ProbeClock {
  nowMs = 0;
  readonly originEpochMs = 1_000_000;
  now(): number {
    return this.nowMs;
  }
  spend(ms: number): void {
    this.nowMs += ms;
  }
}

const CELL: PixelRect = { x: 16, y: 16, width: 8, height: 16 };

describe('BenchProbe: noVNC time per update', { timeout: 60_000 }, () => {
  it('charges the receive handler up to the tap to that update, and leaves out what the tap callback does', () => {
    const clock = new SteppedClock();
    const probe = new BenchProbe(clock);
    const client = probe.client();
    const fed: (readonly PixelRect[])[] = [];
    const onUpdate = client.wrapUpdate((rects) => {
      fed.push(rects);
      clock.spend(7); // the composite and the monitor: not noVNC's
    });
    // One update spread over two messages (3 + 2 ms), the tap at the end of the second, then 1 ms more
    // of noVNC in the same message (the next request), charged to the next update.
    const receive = client.wrapReceive(() => clock.spend(3));
    receive();
    clock.spend(50); // waiting for the network: nobody's
    const receiveAndFinish = client.wrapReceive(() => {
      clock.spend(2);
      onUpdate([CELL, { x: 0, y: 0, width: 4, height: 4 }]);
      clock.spend(1);
    });
    receiveAndFinish();
    const secondUpdate = client.wrapReceive(() => {
      clock.spend(4);
      onUpdate([CELL]);
    });
    secondUpdate();

    const { updates } = probe.take();
    assert.equal(fed.length, 2);
    assert.equal(updates.length, 2);
    assert.equal(updates[0]?.noVncMs, 5);
    assert.equal(updates[0]?.areaPx, 8 * 16 + 16);
    assert.equal(updates[0]?.rectCount, 2);
    assert.equal(updates[0]?.tapEpochMs, 1_000_000 + 55);
    assert.equal(updates[1]?.noVncMs, 5, '1 ms after the first tap + 4 ms of its own message');
    assert.equal(updates[0]?.replicaId, null, 'no monitor was fed');
    assert.deepEqual(probe.take().updates, [], 'take drains');
  });
});

describe('BenchProbe: a monitor built while the bench asked for it', { timeout: 60_000 }, () => {
  // Set before the first benchProbe() of this process, as the bench's init script does in the page.
  const request: BenchProbeRequest = { enabled: true };
  (globalThis as Record<string, unknown>)[BENCH_PROBE_GLOBAL] = request;

  const WIDTH = 64;
  const HEIGHT = 48;
  const screen = (fill: number): PixelSource & { rgba: Uint8ClampedArray } => {
    const rgba = new Uint8ClampedArray(WIDTH * HEIGHT * 4).fill(fill);
    return {
      rgba,
      width: WIDTH,
      height: HEIGHT,
      read: (rect) => {
        const out = new Uint8ClampedArray(rect.width * rect.height * 4);
        for (let row = 0; row < rect.height; row++) {
          const start = ((rect.y + row) * WIDTH + rect.x) * 4;
          out.set(rgba.subarray(start, start + rect.width * 4), row * rect.width * 4);
        }
        return out;
      },
    };
  };
  const monitorClock = (): MonitorClock & { nowMs: number } => ({
    nowMs: 0,
    now() {
      return this.nowMs;
    },
    setInterval: () => 1,
    clearInterval: () => undefined,
    setTimeout: () => 2,
    clearTimeout: () => undefined,
  });

  it('records each damaged update with its replica and page-thread time, and every reported tick with its divergences', () => {
    const probe = benchProbe();
    assert.ok(probe !== null && request.probe === probe, 'the page global asks for the probe and receives it');
    const clock = monitorClock();
    const monitor = new DivergenceMonitor({ clock, onEvents: () => undefined });
    const screens = { r1: screen(255), r2: screen(255), r3: screen(255) };
    for (const [id, source] of Object.entries(screens)) monitor.connect(id, source, WIDTH, HEIGHT);
    probe.take();

    // r2 draws a cell the others do not; the tap's callback feeds the monitor as the workspace does.
    screens.r2.rgba.fill(0, 0, 4 * WIDTH * 16);
    const onUpdate = probe.client().wrapUpdate((rects) => monitor.damage('r2', rects));
    onUpdate([{ x: 0, y: 0, width: WIDTH, height: 16 }]);
    for (const atMs of [100, 500, 1200]) {
      clock.nowMs = atMs;
      monitor.tick();
    }

    const { updates, ticks } = probe.take();
    assert.equal(updates.length, 1);
    const update = updates[0];
    assert.equal(update?.replicaId, 'r2');
    assert.equal(update?.areaPx, WIDTH * 16);
    // The page's share (reading and posting the damage); engine.update's time is the comparison's, reported with the ticks.
    assert.ok(update !== undefined && update.monitorMs > 0 && update.engineUpdateMs === 0, JSON.stringify(update));
    assert.equal(ticks.length, 3);
    assert.deepEqual(ticks.map((tick) => tick.startEpochMs), [100, 500, 1200].map((atMs) => performance.timeOrigin + atMs), 'each tick at its time on the page clock, as an epoch time');
    const flagged = ticks.find((tick) => tick.events.includes('divergence:new'));
    assert.deepEqual(flagged?.divergences[0]?.outliers, ['r2']);
    assert.deepEqual(flagged?.divergences[0]?.regions, [{ x: 0, y: 0, width: WIDTH, height: 16 }]);
    monitor.dispose();
  });

  it('records nothing for a monitor whose comparison is off (no engine to time)', () => {
    const probe = benchProbe();
    assert.ok(probe !== null);
    probe.take();
    const monitor = new DivergenceMonitor({ enabled: false, clock: monitorClock(), onEvents: () => undefined });
    monitor.connect('r1', screen(0), WIDTH, HEIGHT);
    probe.client().wrapUpdate((rects) => monitor.damage('r1', rects))([CELL]);
    monitor.tick();
    const { updates, ticks } = probe.take();
    assert.equal(updates.length, 1, 'the tap still counts the update');
    assert.equal(updates[0]?.replicaId, null);
    assert.equal(updates[0]?.monitorMs, 0);
    assert.equal(ticks.length, 0);
    monitor.dispose();
  });
});
