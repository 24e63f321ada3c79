// The renderer's divergence monitor and reporter in plain Node: fake screens (pixel sources over
// RGBA buffers) and a fake clock. Damaged rectangles reach the engine, its events reach the store
// callback and the back end in order, and a new divergence ships every connected screen as evidence.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DivergenceReport, DivergenceScreen } from '../../../common/contract';
import { CONFIRM_MS, SETTLE_MS, type DivergenceEvent, type DivergenceState, type PixelRect } from '../../../common/divergence';
import { validateProfile, type DivergenceSettings } from '../../../common/profile';
import { DivergenceMonitor, engineOptionsOf, type MonitorClock, type PixelSource } from '../../../renderer/divergence/divergence-monitor';
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
  private readonly timeouts = new Map<number, { atMs: number; callback: () => void }>();
  private nextTimeoutId = 1;
  /** When each tick-causing timer fired (interval or one-shot). */
  readonly firedAtMs: number[] = [];
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
  setTimeout(callback: () => void, delayMs: number): unknown {
    const id = this.nextTimeoutId++;
    this.timeouts.set(id, { atMs: this.nowMs + delayMs, callback });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timeouts.delete(handle as number);
  }
  get running(): boolean {
    return this.callback !== null || this.timeouts.size > 0;
  }
  /** Moves time on by `ms`, running the interval and the one-shot timers in time order. */
  advance(ms: number): void {
    const end = this.nowMs + ms;
    for (;;) {
      let next: { atMs: number; run: () => void } | null = null;
      if (this.callback !== null && this.nextRunMs <= end) {
        const callback = this.callback;
        next = { atMs: this.nextRunMs, run: () => ((this.nextRunMs += this.intervalMs), callback()) };
      }
      for (const [id, timeout] of this.timeouts) {
        if (timeout.atMs <= end && (next === null || timeout.atMs < next.atMs)) next = { atMs: timeout.atMs, run: () => (this.timeouts.delete(id), timeout.callback()) };
      }
      if (next === null) break;
      this.nowMs = next.atMs;
      this.firedAtMs.push(next.atMs);
      next.run();
    }
    this.nowMs = end;
  }
}

/** A profile's `divergence` object, validated as a user's file would be. */
function settingsFrom(divergence: unknown): DivergenceSettings {
  const result = validateProfile({ version: 1, name: 't', replicas: [{ id: 'r1', vnc: { host: '127.0.0.1', port: 5901 } }], divergence });
  assert.ok(result.ok && result.profile.divergence, JSON.stringify(result));
  return result.profile.divergence;
}

/** Sets every channel of a rectangle to `level` (grey); returns it (the damage of that paint). */
function shade(screen: FakeScreen, rect: PixelRect, level: number): PixelRect {
  for (let y = rect.y; y < rect.y + rect.height; y++) {
    for (let x = rect.x; x < rect.x + rect.width; x++) screen.rgba.fill(level, (y * screen.width + x) * 4, (y * screen.width + x) * 4 + 3);
  }
  return rect;
}

function setup(settings?: DivergenceSettings) {
  const clock = new FakeClock();
  const batches: { events: readonly DivergenceEvent[]; state: DivergenceState }[] = [];
  const monitor = new DivergenceMonitor({
    clock,
    onEvents: (events, state) => batches.push({ events, state }),
    ...(settings === undefined ? {} : { enabled: settings.enabled, engine: engineOptionsOf(settings) }),
  });
  const screens = new Map(['r1', 'r2', 'r3'].map((id) => [id, new FakeScreen()]));
  for (const [id, screen] of screens) monitor.connect(id, screen, WIDTH, HEIGHT);
  monitor.start();
  return { clock, batches, monitor, screens, screen: (id: string) => screens.get(id) as FakeScreen };
}

describe('DivergenceMonitor', { timeout: 60_000 }, () => {
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

  it('ticks when a verdict falls due between regular ticks: flagged exactly settle + confirm after the damage', () => {
    const { clock, batches, monitor, screen } = setup();
    clock.advance(2050); // the connect-time reads settled; now half-way between two regular ticks
    const paintedAtMs = clock.nowMs;
    monitor.damage('r2', [screen('r2').paint({ x: 18, y: 20, width: 6, height: 13 })]);
    clock.advance(SETTLE_MS + CONFIRM_MS - 1);
    assert.equal(batches.length, 0, 'not before settle + confirm');
    clock.advance(1);
    assert.equal(batches.length, 1, 'flagged at the moment it fell due, not at the next 100 ms tick');
    const event = batches[0]?.events[0];
    assert.ok(event?.type === 'divergence' && event.atMs === paintedAtMs + SETTLE_MS + CONFIRM_MS);
    assert.ok(clock.firedAtMs.includes(paintedAtMs + SETTLE_MS), 'a tick of its own when the tile settled');
    monitor.dispose();
    assert.equal(clock.running, false, 'dispose stops the one-shot timer too');
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

describe("DivergenceMonitor with a profile's settings", { timeout: 60_000 }, () => {
  /** Every divergence confirmed so far, latest last. */
  const confirmed = (batches: readonly { events: readonly DivergenceEvent[] }[]) =>
    batches.flatMap((batch) => batch.events).flatMap((event) => (event.type === 'divergence' ? [event.divergence] : []));

  it('compares nothing when the profile turns comparison off: no engine, no reads, no timer', () => {
    const { clock, batches, monitor, screen } = setup(settingsFrom({ enabled: false }));
    assert.equal(monitor.enabled, false);
    assert.equal(clock.running, false, 'no tick timer');
    assert.equal(screen('r1').readPixels + screen('r2').readPixels + screen('r3').readPixels, 0, 'connect read nothing');
    monitor.damage('r2', [screen('r2').paint({ x: 0, y: 0, width: 32, height: 32 })]);
    monitor.tick();
    clock.advance(5000);
    assert.equal(screen('r2').readPixels, 0, 'damage read nothing');
    assert.equal(batches.length, 0);
    assert.deepEqual(monitor.state, { divergences: [], allAgree: true });
    monitor.dispose();
  });

  it('does not flag a difference inside an ignore region, and still flags one outside it', () => {
    const { clock, batches, monitor, screen } = setup(settingsFrom({ ignoreRegions: [{ x: 40, y: 0, width: 24, height: 16, label: 'clock' }] }));
    assert.equal(monitor.enabled, true);
    // A "clock" that differs on r2, wholly inside the region, and one straddling its edge (x 36..43).
    monitor.damage('r2', [screen('r2').paint({ x: 44, y: 2, width: 12, height: 10 }), screen('r2').paint({ x: 36, y: 20, width: 8, height: 4 })]);
    clock.advance(1500);
    const divergences = confirmed(batches);
    assert.equal(divergences.length, 1);
    assert.deepEqual(divergences[0]?.outliers, ['r2']);
    // Only the straddling paint below the region, all of it (the region covers rows 0..15 only).
    assert.deepEqual(divergences[0]?.regions, [{ x: 36, y: 20, width: 8, height: 4 }]);
    monitor.dispose();
  });

  it('clips a difference partly inside an ignore region to its uncovered pixels', () => {
    const { clock, batches, monitor, screen } = setup(settingsFrom({ ignoreRegions: [{ x: 40, y: 0, width: 24, height: 48 }] }));
    monitor.damage('r3', [screen('r3').paint({ x: 36, y: 20, width: 8, height: 4 })]);
    clock.advance(1500);
    assert.deepEqual(confirmed(batches)[0]?.regions, [{ x: 36, y: 20, width: 4, height: 4 }]);
    assert.deepEqual(confirmed(batches)[0]?.outliers, ['r3']);
    monitor.dispose();
  });

  it('applies the tolerance: a few levels apart is equal, more is a divergence', () => {
    const { clock, batches, monitor, screen } = setup(settingsFrom({ tolerance: { maxChannelDelta: 8, maxDifferingPixelsPerTile: 0 } }));
    monitor.damage('r1', [shade(screen('r1'), { x: 0, y: 0, width: 8, height: 8 }, 250)]);
    clock.advance(2000);
    assert.equal(confirmed(batches).length, 0, '255 vs 250 is within 8 levels');
    monitor.damage('r1', [shade(screen('r1'), { x: 0, y: 0, width: 8, height: 8 }, 240)]);
    clock.advance(2000);
    assert.deepEqual(confirmed(batches)[0]?.outliers, ['r1']);
    assert.deepEqual(confirmed(batches)[0]?.regions, [{ x: 0, y: 0, width: 8, height: 8 }]);
    monitor.dispose();
  });

  it('judges with the profile\'s settle and confirm times', () => {
    const { clock, batches, monitor, screen } = setup(settingsFrom({ settleMs: 100, confirmMs: 0 }));
    monitor.damage('r2', [screen('r2').paint({ x: 4, y: 4, width: 4, height: 4 })]);
    clock.advance(50);
    assert.equal(confirmed(batches).length, 0, 'not settled yet');
    clock.advance(150);
    assert.deepEqual(confirmed(batches)[0]?.outliers, ['r2'], 'flagged 200 ms after the change, long before the default 1 s');
    monitor.dispose();
    // The same change with the defaults is still unjudged at 200 ms.
    const defaults = setup(settingsFrom({}));
    defaults.monitor.damage('r2', [defaults.screen('r2').paint({ x: 4, y: 4, width: 4, height: 4 })]);
    defaults.clock.advance(200);
    assert.equal(confirmed(defaults.batches).length, 0);
    defaults.clock.advance(1000);
    assert.equal(confirmed(defaults.batches).length, 1);
    defaults.monitor.dispose();
  });
});

describe('DivergenceReporter', { timeout: 60_000 }, () => {
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
      captureScreen: async (replicaId) => (replicaId === 'r2' ? new Blob([Buffer.from('iVBORw0KGgo=', 'base64')], { type: 'image/png' }) : null),
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

  it('sends the screens again when the divergence grows within the confirm window, and only then', async () => {
    let nowMs = 1_000;
    const reports: DivergenceReport[] = [];
    const screens: string[] = [];
    const reporter = new DivergenceReporter({
      sessionId: 's1',
      api: {
        reportDivergence: async (report) => {
          reports.push(report);
          return { evidenceId: report.change === 'new' || report.amendsEvidence === true ? 'e1' : null };
        },
        saveDivergenceScreen: async (screen) => {
          screens.push(`${reports.length}:${screen.replicaId}`);
        },
      },
      lastInputSeq: () => 7,
      screenIds: () => ['r1', 'r2'],
      captureScreen: async () => new Blob([Buffer.from('iVBORw0KGgo=', 'base64')], { type: 'image/png' }),
      amendWindowMs: 600,
      now: () => nowMs,
      warn: () => undefined,
    });
    const at = (width: number) => ({ id: 'd1', kind: 'pixels' as const, regions: [{ x: 0, y: 0, width, height: 16 }], outliers: ['r2'], agreeing: ['r1'], groups: [['r1'], ['r2']], noMajority: false, sinceMs: 0, sizes: [] });
    reporter.handle([{ type: 'divergence', change: 'new', divergence: at(1), atMs: 1 }]);
    nowMs = 1_017;
    const [grown] = reporter.handle([{ type: 'divergence', change: 'changed', divergence: at(24), atMs: 2 }]);
    assert.equal(grown?.screens.length, 2, 'the timeline gets the screens as they are now');
    nowMs = 2_000;
    const [late] = reporter.handle([{ type: 'divergence', change: 'changed', divergence: at(40), atMs: 3 }]);
    assert.equal(late?.screens.length, 0);
    await reporter.flush();
    assert.deepEqual(reports.map((report) => [report.change, report.amendsEvidence ?? false]), [['new', false], ['changed', true], ['changed', false]]);
    assert.deepEqual(screens, ['1:r1', '1:r2', '2:r1', '2:r2'], 'screens after the new report, then again after the amending change');
  });
});
