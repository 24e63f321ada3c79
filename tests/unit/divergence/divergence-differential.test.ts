// The SIMD engine against the JavaScript engine, fed the same random sessions: 2 to 13 replicas,
// frame sizes of every kind (widths not multiples of 4 or 16), tile sizes, tolerances at their
// edges, ignore regions, blinking, resizes, replicas leaving and coming back. Every tick's events,
// the state, what is held back and when the next decision falls due must be identical.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DivergenceEngine, type DivergenceOptions, type Tolerance } from '../../../common/divergence';
import { type PixelRect } from '../../../common/divergence/pixel-rect';
import { seededRandom as random } from '../../fuzz/rfb-mutators';
import { KERNELS } from './engines';

/** A few colours, and variants of the first one at and just past a tolerance's edge (and alpha-only). */
function palette(maxDelta: number): number[][] {
  const edge = Math.max(0, maxDelta);
  return [
    [0, 0, 170, 255],
    [170, 170, 170, 255],
    [200, 0, 0, 255],
    [Math.min(255, edge), 0, 170, 255],
    [0, Math.min(255, edge + 1), 170, 255],
    [0, 0, 170, 0],
    [0, 0, Math.max(0, 170 - edge), 255],
  ];
}

interface Session {
  readonly count: number;
  readonly widthPx: number;
  readonly heightPx: number;
  readonly options: DivergenceOptions;
}

/** Runs one random session on both engines; returns how many events they produced. */
function runSession(seed: number): number {
  const next = random(seed);
  const pick = <T,>(values: readonly T[]): T => values[(next() * values.length) | 0]!;
  const count = 2 + ((next() * 12) | 0);
  const widthPx = pick([1, 3, 5, 15, 16, 17, 33, 47, 64, 70, 101]);
  const heightPx = pick([1, 2, 9, 16, 31, 40]);
  const maxDelta = pick([0, 1, 8, 30, 255]);
  const tolerance: Tolerance | null = next() < 0.4 ? null : { maxChannelDelta: maxDelta, maxDifferingPixelsPerTile: pick([0, 0, 1, 3]) };
  const ignoreRegions: PixelRect[] = next() < 0.3 ? [{ x: (next() * widthPx) | 0, y: (next() * heightPx) | 0, width: 1 + ((next() * 20) | 0), height: 1 + ((next() * 10) | 0) }] : [];
  const session: Session = {
    count,
    widthPx,
    heightPx,
    options: { tileSizePx: pick([4, 5, 8, 16, 16, 16]), tolerance, ignoreRegions, confirmMs: pick([0, 200, 600]) },
  };
  const colours = palette(maxDelta);
  const js = new DivergenceEngine(session.options);
  const simd = new DivergenceEngine({ ...session.options, kernels: KERNELS });
  const engines = [js, simd];
  const sizes = new Map<string, [number, number]>();
  const ids = Array.from({ length: count }, (_, index) => `r${index + 1}`);
  for (const id of ids) {
    sizes.set(id, [widthPx, heightPx]);
    for (const engine of engines) engine.setReplicaSize(id, widthPx, heightPx, 0);
  }
  // A blinking tile: some replicas toggle it every `blinkMs`, each with its own phase.
  const blink = { rect: { x: (next() * widthPx) | 0, y: (next() * heightPx) | 0, width: 2, height: 2 }, everyMs: pick([150, 250, 400]), who: ids.filter(() => next() < 0.4) };
  let events = 0;
  for (let nowMs = 10; nowMs <= 6000; nowMs += 10) {
    const label = `seed ${seed} at ${nowMs} ms (${count} replicas, ${widthPx}×${heightPx}, ${JSON.stringify(session.options)})`;
    const roll = next();
    if (roll < 0.08) {
      // A drawing on every replica, or all but a few (an outlier), maybe partly off-screen.
      const colour = pick(colours);
      const odd = pick(colours);
      const rect = { x: ((next() * (widthPx + 4)) | 0) - 2, y: ((next() * (heightPx + 4)) | 0) - 2, width: 1 + ((next() * 24) | 0), height: 1 + ((next() * 12) | 0) };
      const outliers = next() < 0.5 ? ids.filter(() => next() < 0.2) : [];
      for (const id of ids) if (sizes.has(id)) paint(engines, id, rect, outliers.includes(id) ? odd : colour, nowMs);
    } else if (roll < 0.085) {
      // A replica changes size (maybe to one nobody else has), or back.
      const id = pick(ids);
      const size: [number, number] = next() < 0.5 ? [widthPx, heightPx] : [1 + ((next() * 120) | 0), 1 + ((next() * 50) | 0)];
      sizes.set(id, size);
      for (const engine of engines) engine.setReplicaSize(id, size[0], size[1], nowMs);
    } else if (roll < 0.088) {
      // A replica leaves, or comes back blank.
      const id = pick(ids);
      if (sizes.delete(id)) for (const engine of engines) engine.removeReplica(id, nowMs);
      else {
        sizes.set(id, [widthPx, heightPx]);
        for (const engine of engines) engine.setReplicaSize(id, widthPx, heightPx, nowMs);
      }
    } else if (roll < 0.09) {
      const changed: Tolerance | null = next() < 0.5 ? null : { maxChannelDelta: pick([0, maxDelta]), maxDifferingPixelsPerTile: pick([0, 2]) };
      for (const engine of engines) engine.setTolerance(changed);
    } else if (roll < 0.092) {
      const regions = next() < 0.5 ? [] : [{ x: (next() * widthPx) | 0, y: 0, width: 3, height: heightPx }];
      for (const engine of engines) engine.setIgnoreRegions(regions);
    }
    if (nowMs % blink.everyMs === 0) {
      for (const [index, id] of blink.who.entries()) {
        if (!sizes.has(id)) continue;
        const on = Math.floor((nowMs + index * 30) / blink.everyMs) % 2 === 0;
        paint(engines, id, blink.rect, on ? colours[2]! : colours[0]!, nowMs);
      }
    }
    if (nowMs % 50 === 0 || nowMs === Math.ceil(js.nextDecisionMs / 10) * 10) {
      const expected = js.tick(nowMs);
      assert.deepEqual(simd.tick(nowMs), expected, label);
      events += expected.length;
      assert.deepEqual(simd.state, js.state, label);
      assert.deepEqual(simd.heldDivergences, js.heldDivergences, label);
      assert.equal(simd.nextDecisionMs, js.nextDecisionMs, label);
      assert.equal(simd.stats.comparedTiles, js.stats.comparedTiles, label);
    }
  }
  return events;
}

/** Fills `rect` (clipped by the engine) with one colour on one replica of both engines. */
function paint(engines: readonly DivergenceEngine[], id: string, rect: PixelRect, colour: readonly number[], nowMs: number): void {
  const pixels = new Uint8ClampedArray(rect.width * rect.height * 4);
  for (let offset = 0; offset < pixels.length; offset += 4) pixels.set(colour, offset);
  for (const engine of engines) engine.update(id, rect, pixels, nowMs);
}

describe('SIMD engine = JavaScript engine', { timeout: 120_000 }, () => {
  it('gives the same events, state and timing on 120 random sessions', () => {
    let events = 0;
    let sessionsWithEvents = 0;
    for (let seed = 1; seed <= 120; seed++) {
      const produced = runSession(seed);
      events += produced;
      if (produced > 0) sessionsWithEvents += 1;
    }
    // The sessions must exercise the engine: most of them report and resolve divergences.
    assert.ok(sessionsWithEvents > 60, `only ${sessionsWithEvents} of 120 sessions produced events`);
    assert.ok(events > 500, `only ${events} events`);
  });
});
