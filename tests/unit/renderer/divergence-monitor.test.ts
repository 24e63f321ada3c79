// The renderer's divergence monitor and reporter in plain Node: fake screens (pixel sources over
// RGBA buffers) and a fake clock. Damaged rectangles reach the engine, its events reach the store
// callback and the back end in order, and a new divergence ships every connected screen as evidence.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DivergenceReport, DivergenceScreen } from '../../../common/contract';
import type { DivergenceEvent, DivergenceState, PixelRect } from '../../../common/divergence';
import { DivergenceMonitor, type MonitorClock, type PixelSource } from '../../../renderer/divergence/divergence-monitor';
import { DivergenceReporter } from '../../../renderer/divergence/divergence-reporter';

const WIDTH = 64;
const HEIGHT = 48;

/** A screen in memory: what a noVNC canvas would hold. Counts what was read. */
class FakeScreen implements PixelSource {
  readonly rgba: Uint8ClampedArray;
  readPixels = 0;

  constructor(
    public width = WIDTH,
    public height = HEIGHT,
  ) {
    this.rgba = new Uint8ClampedArray(width * height * 4).fill(255);
  }

  /** Paints a rectangle black; returns it (the damage of that paint). */
  paint(rect: PixelRect): PixelRect {
    for (let y = rect.y; y < rect.y + rect.height; y++) {
      for (let x = rect.x; x < rect.x + rect.width; x++) this.rgba.fill(0, (y * this.width + x) * 4, (y * this.width + x) * 4 + 3);
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

/** A clock whose time moves only when the test says; the interval runs on advance(). */
class FakeClock implements MonitorClock {
  nowMs = 1000;
  private callback: (() => void) | null = null;
  private intervalMs = 0;
  private nextRunMs = 0;
  now(): number {
    return this.nowMs;
  }
  setInterval(callback: () => void, intervalMs: number): unknown {
    this.callback = callback;
    this.intervalMs = intervalMs;
    this.nextRunMs = this.nowMs + intervalMs;
    return 1;
  }
  clearInterval(): void {
    this.callback = null;
  }
  get running(): boolean {
    return this.callback !== null;
  }
  advance(ms: number): void {
    const end = this.nowMs + ms;
    while (this.callback !== null && this.nextRunMs <= end) {
      this.nowMs = this.nextRunMs;
      this.nextRunMs += this.intervalMs;
      this.callback();
    }
    this.nowMs = end;
  }
}

function setup() {
  const clock = new FakeClock();
  const batches: { events: readonly DivergenceEvent[]; state: DivergenceState }[] = [];
  const monitor = new DivergenceMonitor({ clock, onEvents: (events, state) => batches.push({ events, state }) });
  const screens = new Map(['r1', 'r2', 'r3'].map((id) => [id, new FakeScreen()]));
  for (const [id, screen] of screens) monitor.connect(id, screen, WIDTH, HEIGHT);
  monitor.start();
  return { clock, batches, monitor, screens, screen: (id: string) => screens.get(id) as FakeScreen };
}

describe('DivergenceMonitor', () => {
  it('reads each screen once on connect, then only the damaged rectangles', () => {
    const { monitor, screen } = setup();
    assert.equal(screen('r1').readPixels, WIDTH * HEIGHT);
    monitor.damage('r1', [screen('r1').paint({ x: 4, y: 4, width: 6, height: 5 })]);
    assert.equal(screen('r1').readPixels, WIDTH * HEIGHT + 30);
    // Damage past the edge is clipped; damage of an unknown replica is ignored.
    monitor.damage('r1', [{ x: 60, y: 44, width: 10, height: 10 }]);
    monitor.damage('nobody', [{ x: 0, y: 0, width: 4, height: 4 }]);
    assert.equal(screen('r1').readPixels, WIDTH * HEIGHT + 30 + 16);
    monitor.dispose();
  });

  it('flags the one replica that drew something else, after settle and confirm, and reports consensus when it is undone', () => {
    const { clock, batches, monitor, screen } = setup();
    const cell: PixelRect = { x: 18, y: 20, width: 6, height: 13 };
    monitor.damage('r2', [screen('r2').paint(cell)]);
    clock.advance(900);
    assert.equal(batches.length, 0, 'not yet confirmed (settle 400 + confirm 600 ms)');
    clock.advance(400);
    const divergence = batches.flatMap((batch) => batch.events).find((event) => event.type === 'divergence');
    assert.ok(divergence?.type === 'divergence' && divergence.change === 'new');
    assert.deepEqual(divergence.divergence.outliers, ['r2']);
    assert.deepEqual(divergence.divergence.regions, [cell]);
    assert.equal(monitor.state.divergences.length, 1);
    // r1 and r3 draw the same: everyone agrees again.
    monitor.damage('r1', [screen('r1').paint(cell)]);
    monitor.damage('r3', [screen('r3').paint(cell)]);
    clock.advance(1500);
    assert.ok(batches.flatMap((batch) => batch.events).some((event) => event.type === 'consensus'));
    assert.equal(monitor.state.allAgree, true);
    monitor.dispose();
    assert.equal(clock.running, false, 'dispose stops the timer');
  });

  it('drops a disconnected replica from the comparison and skips damage until a resize is announced', () => {
    const { clock, batches, monitor, screen } = setup();
    monitor.damage('r3', [screen('r3').paint({ x: 0, y: 0, width: 8, height: 8 })]);
    monitor.disconnect('r3');
    clock.advance(2000);
    assert.equal(batches.length, 0, 'the leaver is not compared');
    // The canvas grew before the state change: its damage is skipped, then the whole screen is read.
    const r1 = screen('r1');
    r1.width = WIDTH * 2;
    const readBefore = r1.readPixels;
    monitor.damage('r1', [{ x: 0, y: 0, width: 8, height: 8 }]);
    assert.equal(r1.readPixels, readBefore);
    monitor.dispose();
  });
});

describe('DivergenceReporter', () => {
  it('reports in order, and ships every screen of a new divergence into its evidence folder', async () => {
    const calls: string[] = [];
    const reports: DivergenceReport[] = [];
    const screens: DivergenceScreen[] = [];
    const reporter = new DivergenceReporter({
      sessionId: 's1',
      api: {
        reportDivergence: async (report) => {
          reports.push(report);
          calls.push(`report ${report.kind}`);
          return { evidenceId: report.change === 'new' ? 'e1' : null };
        },
        saveDivergenceScreen: async (screen) => {
          screens.push(screen);
          calls.push(`screen ${screen.replicaId}`);
        },
      },
      lastInputSeq: () => 42,
      screenIds: () => ['r1', 'r2'],
      captureScreen: async (replicaId) => (replicaId === 'r2' ? 'iVBORw0KGgo=' : null),
      warn: () => undefined,
    });
    const divergence = { id: 'd1', kind: 'pixels' as const, regions: [{ x: 1, y: 2, width: 3, height: 4 }], outliers: ['r2'], agreeing: ['r1', 'r3'], groups: [['r1', 'r3'], ['r2']], noMajority: false, sinceMs: 0, sizes: [] };
    reporter.handle([
      { type: 'divergence', change: 'new', divergence, atMs: 1 },
      { type: 'divergence-resolved', id: 'd1', atMs: 2 },
      { type: 'consensus', atMs: 2 },
    ]);
    await reporter.flush();
    assert.deepEqual(calls, ['report divergence', 'screen r2', 'report consensus']);
    assert.deepEqual(reports[0], {
      sessionId: 's1',
      kind: 'divergence',
      divergenceId: 'd1',
      change: 'new',
      divergenceKind: 'pixels',
      outliers: ['r2'],
      agreeing: ['r1', 'r3'],
      regions: [{ x: 1, y: 2, width: 3, height: 4 }],
      noMajority: false,
      inputSeq: 42,
    });
    assert.deepEqual(screens, [{ sessionId: 's1', evidenceId: 'e1', replicaId: 'r2', pngBase64: 'iVBORw0KGgo=' }]);
  });
});
