// The engine over real pixel buffers, in space: tiles and dirty tracking, exact vs tolerance,
// ignore regions, majority with N = 2..8, desktop-size mismatch, and how regions merge. Every
// suite runs twice: on the JavaScript loops and on the WebAssembly SIMD kernels.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CONFIRM_MS, DivergenceEngine, SETTLE_MS, type Divergence, type DivergenceOptions } from '../../../common/divergence';
import { ENGINE_VARIANTS, type EngineVariant } from './engines';
import { BACKGROUND, Replicas, crop, fillRect, glyphBox, solidFrame, type Colour } from './screens';

const RED: Colour = [200, 0, 0, 255];
const GREEN: Colour = [0, 200, 0, 255];
const JUDGED_MS = SETTLE_MS + CONFIRM_MS;

function ids(count: number): string[] {
  return Array.from({ length: count }, (_, index) => `r${index + 1}`);
}

/** Every suite below, on one engine variant (JavaScript or the SIMD kernels): same cases, same results. */
function engineSuites(variant: EngineVariant): void {
  /** Settles the initial frames, then returns the lab. */
  function lab(count: number, widthPx = 128, heightPx = 64, options: DivergenceOptions = {}): Replicas {
    const replicas = new Replicas(ids(count), widthPx, heightPx, { ...variant.options, ...options });
    replicas.runUntil(1000);
    assert.deepEqual(replicas.events, [], 'identical blank screens never diverge');
    return replicas;
  }

  function only(replicas: Replicas): Divergence {
    const divergences = replicas.engine.state.divergences;
    assert.equal(divergences.length, 1, `expected one divergence, got ${JSON.stringify(divergences)}`);
    return divergences[0]!;
  }

  describe(`divergence engine: where [${variant.name}]`, { timeout: 60_000 }, () => {
    it('flags one differing character, on exactly its pixels, naming the outlier, after settle + confirm', () => {
      const replicas = lab(3);
      replicas.type(['r3'], 3, 1, 'x');
      replicas.type(['r1', 'r2'], 3, 1, ' ');
      replicas.runUntil(1000 + JUDGED_MS - 50);
      assert.equal(replicas.engine.state.allAgree, true, 'not before SETTLE_MS + CONFIRM_MS');
      replicas.runUntil(1000 + JUDGED_MS);
      const divergence = only(replicas);
      assert.deepEqual(divergence.regions, [glyphBox(3, 1)]);
      assert.deepEqual(divergence.outliers, ['r3']);
      assert.deepEqual(divergence.agreeing, ['r1', 'r2']);
      assert.equal(divergence.noMajority, false);
      assert.equal(divergence.sinceMs, 1000 + SETTLE_MS);
      assert.deepEqual(
        replicas.events.map((event) => event.type),
        ['divergence'],
      );
    });

    it('compares only tiles that changed, each once per change', () => {
      const replicas = lab(3);
      const before = replicas.engine.stats.comparedTiles;
      replicas.runUntil(3000);
      assert.equal(replicas.engine.stats.comparedTiles, before, 'nothing changed: nothing compared');
      replicas.paint(['r1', 'r2', 'r3'], { x: 20, y: 20, width: 4, height: 4 }, RED);
      replicas.runUntil(5000);
      assert.equal(replicas.engine.stats.comparedTiles - before, 1, 'one tile damaged on every replica: one tile compared');
      replicas.paint(['r1', 'r2', 'r3'], { x: 30, y: 30, width: 4, height: 4 }, RED);
      replicas.runUntil(7000);
      assert.equal(replicas.engine.stats.comparedTiles - before, 5, 'a 4×4 square across a tile corner: four tiles');
      assert.equal(replicas.engine.state.allAgree, true);
    });

    it('a redraw with the same pixels is no divergence and clears nothing it should not', () => {
      const replicas = lab(3);
      replicas.paint(['r1', 'r2', 'r3'], { x: 0, y: 0, width: 128, height: 64 }, BACKGROUND);
      replicas.runUntil(3000);
      assert.deepEqual(replicas.events, []);
    });

    it('a repaint of identical pixels is no change: nothing compared, nothing to decide, verdicts not held back', () => {
      const replicas = lab(3);
      replicas.paint(['r3'], { x: 40, y: 8, width: 8, height: 8 }, RED);
      replicas.runUntil(1000 + JUDGED_MS);
      assert.deepEqual(only(replicas).outliers, ['r3']);
      const compared = replicas.engine.stats.comparedTiles;
      // Every replica resends its whole screen, unchanged, long after the last change (a cold write).
      replicas.runUntil(5000);
      for (const id of ids(3)) replicas.engine.update(id, { x: 0, y: 0, width: 128, height: 64 }, replicas.frame(id), 5000);
      assert.equal(replicas.engine.nextDecisionMs, Infinity, 'no tile changed: no decision comes due');
      replicas.runUntil(5000 + JUDGED_MS);
      assert.equal(replicas.engine.stats.comparedTiles, compared, 'no tile compared again');
      assert.deepEqual(only(replicas).outliers, ['r3'], 'the divergence stays');
      // A repaint that changes one pixel, inside a damage rectangle of the whole screen: that tile alone.
      replicas.change('r1', { x: 0, y: 0, width: 128, height: 64 }, (frame) => frame.set(RED, (33 * 128 + 70) * 4));
      replicas.runUntil(5000 + 2 * JUDGED_MS);
      assert.equal(replicas.engine.stats.comparedTiles - compared, 1, 'one tile changed in a full-screen damage: one compared');
    });

    it('compares pixels read back into its own memory (stagingPixels) in place, and stages the others', () => {
      const replicas = lab(3);
      const staged = replicas.engine.stagingPixels(128 * 64 * 4);
      assert.equal(staged === null, variant.name === 'js', 'a staging view with the kernels only');
      fillRect(replicas.frame('r2'), 128, { x: 64, y: 32, width: 3, height: 3 }, GREEN);
      const pixels = staged ?? new Uint8ClampedArray(128 * 64 * 4);
      pixels.set(replicas.frame('r2'));
      const stagedBefore = replicas.engine.stats.stagedBytes;
      replicas.engine.update('r2', { x: 0, y: 0, width: 128, height: 64 }, pixels, 1000);
      assert.equal(replicas.engine.stats.stagedBytes, stagedBefore, 'pixels in its memory, or no kernels: nothing staged');
      replicas.runUntil(1000 + JUDGED_MS);
      assert.deepEqual(only(replicas).regions, [{ x: 64, y: 32, width: 3, height: 3 }]);
      assert.deepEqual(only(replicas).outliers, ['r2']);
      replicas.paint(['r1'], { x: 0, y: 0, width: 8, height: 8 }, GREEN);
      assert.equal(replicas.engine.stats.stagedBytes - stagedBefore, variant.name === 'js' ? 0 : 8 * 8 * 4, 'pixels from the heap are staged with the kernels');
      if (staged !== null) {
        assert.throws(() => replicas.engine.stagingPixels(1.5), /bad staging size/);
        assert.equal(replicas.engine.stagingPixels(16)!.byteOffset, staged.byteOffset, 'a smaller request: the same block');
        // Sized to the largest framebuffer from the first request: a full frame does not move it.
        assert.equal(replicas.engine.stagingPixels(128 * 64 * 4)!.byteOffset, staged.byteOffset);
        const bigger = replicas.engine.stagingPixels(256 * 256 * 4)!;
        assert.equal(bigger.length, 256 * 256 * 4);
      }
    });

    it('handles frames whose size is not a multiple of the tile size', () => {
      const replicas = lab(3, 100, 50);
      replicas.paint(['r2'], { x: 97, y: 47, width: 3, height: 3 }, RED);
      replicas.runUntil(1000 + JUDGED_MS);
      assert.deepEqual(only(replicas).regions, [{ x: 97, y: 47, width: 3, height: 3 }]);
      assert.deepEqual(only(replicas).outliers, ['r2']);
    });
  });

  describe(`divergence engine: exact or tolerant [${variant.name}]`, { timeout: 60_000 }, () => {
    const SLIGHTLY_OFF: Colour = [BACKGROUND[0] + 3, BACKGROUND[1], BACKGROUND[2] + 2, 255];

    it('is exact by default: a colour 3 levels off is a divergence', () => {
      const replicas = lab(3);
      replicas.paint(['r2'], { x: 40, y: 8, width: 8, height: 8 }, SLIGHTLY_OFF);
      replicas.runUntil(1000 + JUDGED_MS);
      assert.deepEqual(only(replicas).regions, [{ x: 40, y: 8, width: 8, height: 8 }]);
    });

    it('with a tolerance, accepts small colour distances but not large ones', () => {
      const replicas = lab(3, 128, 64, { tolerance: { maxChannelDelta: 4, maxDifferingPixelsPerTile: 0 } });
      replicas.paint(['r2'], { x: 40, y: 8, width: 8, height: 8 }, SLIGHTLY_OFF);
      replicas.runUntil(3000);
      assert.equal(replicas.engine.state.allAgree, true);
      replicas.paint(['r2'], { x: 70, y: 40, width: 2, height: 2 }, RED);
      replicas.runUntil(5000);
      assert.deepEqual(only(replicas).regions, [{ x: 70, y: 40, width: 2, height: 2 }]);
    });

    it('with a differing-pixel allowance, accepts a few differing pixels per tile', () => {
      const replicas = lab(3, 128, 64, { tolerance: { maxChannelDelta: 0, maxDifferingPixelsPerTile: 4 } });
      replicas.paint(['r3'], { x: 2, y: 2, width: 2, height: 2 }, RED);
      replicas.runUntil(3000);
      assert.equal(replicas.engine.state.allAgree, true, '4 pixels: allowed');
      replicas.paint(['r3'], { x: 5, y: 5, width: 1, height: 1 }, RED);
      replicas.runUntil(5000);
      assert.deepEqual(only(replicas).regions, [{ x: 2, y: 2, width: 4, height: 4 }], '5 pixels: the tile disagrees');
    });

    it('switches tolerance at run time and judges again', () => {
      const replicas = lab(3);
      replicas.paint(['r2'], { x: 40, y: 8, width: 8, height: 8 }, SLIGHTLY_OFF);
      replicas.runUntil(3000);
      assert.equal(replicas.engine.state.divergences.length, 1);
      replicas.engine.setTolerance({ maxChannelDelta: 4, maxDifferingPixelsPerTile: 0 });
      replicas.runUntil(3100);
      assert.equal(replicas.engine.state.allAgree, true);
      assert.equal(replicas.events.at(-1)?.type, 'consensus');
    });
  });

  describe(`divergence engine: ignore regions [${variant.name}]`, { timeout: 60_000 }, () => {
    const CLOCK = { x: 96, y: 0, width: 32, height: 16 };

    it('never flags a difference inside an ignore region', () => {
      const replicas = lab(3, 128, 64, { ignoreRegions: [CLOCK] });
      replicas.paint(['r1'], { x: 100, y: 2, width: 20, height: 10 }, RED);
      replicas.paint(['r2'], { x: 100, y: 2, width: 20, height: 10 }, GREEN);
      replicas.runUntil(4000);
      assert.deepEqual(replicas.events, []);
    });

    it('flags only the part of a difference outside an ignore region, even inside a partly ignored tile', () => {
      // The region covers the left half of the tile at (16, 16); the difference straddles its edge.
      const replicas = lab(3, 128, 64, { ignoreRegions: [{ x: 16, y: 16, width: 8, height: 16 }] });
      replicas.paint(['r3'], { x: 20, y: 20, width: 8, height: 4 }, RED);
      replicas.runUntil(1000 + JUDGED_MS);
      assert.deepEqual(only(replicas).regions, [{ x: 24, y: 20, width: 4, height: 4 }]);
    });

    it('setting an ignore region over a confirmed divergence clears it', () => {
      const replicas = lab(3);
      replicas.paint(['r3'], { x: 100, y: 2, width: 4, height: 4 }, RED);
      replicas.runUntil(3000);
      assert.equal(replicas.engine.state.divergences.length, 1);
      replicas.engine.setIgnoreRegions([CLOCK]);
      replicas.runUntil(3100);
      assert.equal(replicas.engine.state.allAgree, true);
      replicas.engine.setIgnoreRegions([]);
      replicas.runUntil(3200 + JUDGED_MS);
      assert.equal(replicas.engine.state.divergences.length, 1, 'and it comes back when the region is removed');
    });
  });

  describe(`divergence engine: majority [${variant.name}]`, { timeout: 60_000 }, () => {
    const SPOT = { x: 50, y: 20, width: 6, height: 6 };

    it('two replicas that differ: both flagged, neither called good', () => {
      const replicas = lab(2);
      replicas.paint(['r2'], SPOT, RED);
      replicas.runUntil(1000 + JUDGED_MS);
      const divergence = only(replicas);
      assert.equal(divergence.noMajority, true);
      assert.deepEqual(divergence.outliers, ['r1', 'r2']);
      assert.deepEqual(divergence.agreeing, []);
    });

    for (let count = 3; count <= 8; count++) {
      it(`N = ${count}, one replica differs: it alone is the outlier`, () => {
        const replicas = lab(count);
        const outlier = `r${Math.ceil(count / 2)}`;
        replicas.paint([outlier], SPOT, RED);
        replicas.runUntil(1000 + JUDGED_MS);
        const divergence = only(replicas);
        assert.deepEqual(divergence.outliers, [outlier]);
        assert.deepEqual(divergence.agreeing, ids(count).filter((id) => id !== outlier));
        assert.deepEqual(divergence.regions, [SPOT]);
      });
    }

    it('N = 4 split 2/2: no majority, all four flagged', () => {
      const replicas = lab(4);
      replicas.paint(['r2', 'r4'], SPOT, RED);
      replicas.runUntil(1000 + JUDGED_MS);
      const divergence = only(replicas);
      assert.equal(divergence.noMajority, true);
      assert.deepEqual(divergence.outliers, ['r1', 'r2', 'r3', 'r4']);
      assert.deepEqual(divergence.groups, [['r1', 'r3'], ['r2', 'r4']]);
    });

    it('N = 8, three outliers in two groups: all three named, grouped', () => {
      const replicas = lab(8);
      replicas.paint(['r2', 'r7'], SPOT, RED);
      replicas.paint(['r5'], SPOT, GREEN);
      replicas.runUntil(1000 + JUDGED_MS);
      const divergence = only(replicas);
      assert.deepEqual(divergence.outliers, ['r2', 'r5', 'r7']);
      assert.deepEqual(divergence.groups, [['r1', 'r3', 'r4', 'r6', 'r8'], ['r2', 'r7'], ['r5']]);
    });

    it('different outliers in different places: one divergence each', () => {
      const replicas = lab(5);
      replicas.paint(['r2'], { x: 0, y: 0, width: 3, height: 3 }, RED);
      replicas.paint(['r4'], { x: 100, y: 40, width: 3, height: 3 }, RED);
      replicas.runUntil(1000 + JUDGED_MS);
      const divergences = replicas.engine.state.divergences.map((divergence) => [divergence.outliers, divergence.regions]);
      assert.deepEqual(divergences, [
        [['r2'], [{ x: 0, y: 0, width: 3, height: 3 }]],
        [['r4'], [{ x: 100, y: 40, width: 3, height: 3 }]],
      ]);
    });
  });

  describe(`divergence engine: regions [${variant.name}]`, { timeout: 60_000 }, () => {
    it('merges a difference spanning four tiles into one rectangle', () => {
      const replicas = lab(3);
      replicas.paint(['r1'], { x: 10, y: 10, width: 30, height: 12 }, RED);
      replicas.runUntil(1000 + JUDGED_MS);
      assert.deepEqual(only(replicas).regions, [{ x: 10, y: 10, width: 30, height: 12 }]);
      assert.deepEqual(only(replicas).outliers, ['r1']);
    });

    it('keeps separate differences with the same outlier as separate rectangles of one divergence', () => {
      const replicas = lab(3);
      // Bottom-right first: the engine must not rely on damage arriving in reading order.
      replicas.paint(['r2'], { x: 66, y: 34, width: 5, height: 5 }, RED);
      replicas.paint(['r2'], { x: 2, y: 2, width: 3, height: 3 }, RED);
      replicas.runUntil(1000 + JUDGED_MS);
      assert.deepEqual(only(replicas).regions, [
        { x: 2, y: 2, width: 3, height: 3 },
        { x: 66, y: 34, width: 5, height: 5 },
      ]);
    });

    it('covers an L-shaped difference with two rectangles, not its bounding box', () => {
      const replicas = lab(3);
      replicas.paint(['r2'], { x: 0, y: 0, width: 32, height: 16 }, RED);
      replicas.paint(['r2'], { x: 0, y: 16, width: 16, height: 16 }, RED);
      replicas.runUntil(1000 + JUDGED_MS);
      assert.deepEqual(only(replicas).regions, [
        { x: 0, y: 0, width: 32, height: 16 },
        { x: 0, y: 16, width: 16, height: 16 },
      ]);
    });

    it('reports a changed divergence when it grows, with the same id', () => {
      const replicas = lab(3);
      replicas.paint(['r2'], { x: 2, y: 2, width: 3, height: 3 }, RED);
      replicas.runUntil(1000 + JUDGED_MS);
      const first = only(replicas);
      replicas.paint(['r2'], { x: 5, y: 2, width: 20, height: 3 }, RED);
      replicas.runUntil(4000);
      const grown = only(replicas);
      assert.equal(grown.id, first.id);
      assert.deepEqual(grown.regions, [{ x: 2, y: 2, width: 23, height: 3 }]);
      const last = replicas.events.at(-1);
      assert.ok(last?.type === 'divergence' && last.change === 'changed');
    });
  });

  describe(`divergence engine: desktop size [${variant.name}]`, { timeout: 60_000 }, () => {
    it('a replica with another desktop size is a divergence naming it; the others are still compared', () => {
      const replicas = lab(3);
      replicas.engine.setFrame('r3', 64, 64, solidFrame(64, 64), replicas.nowMs);
      replicas.paint(['r2'], { x: 4, y: 4, width: 2, height: 2 }, RED);
      replicas.runUntil(1000 + JUDGED_MS);
      const [size, pixels] = replicas.engine.state.divergences;
      assert.equal(size?.kind, 'size');
      assert.deepEqual(size?.outliers, ['r3']);
      assert.deepEqual(size?.sizes, [
        { replicaId: 'r1', widthPx: 128, heightPx: 64 },
        { replicaId: 'r2', widthPx: 128, heightPx: 64 },
        { replicaId: 'r3', widthPx: 64, heightPx: 64 },
      ]);
      // r1 and r2 differ, r3 is not comparable: 1 of 3 is no majority.
      assert.equal(pixels?.kind, 'pixels');
      assert.equal(pixels?.noMajority, true);
      assert.deepEqual(pixels?.outliers, ['r1', 'r2']);
    });

    it('two replicas of different sizes: no majority', () => {
      const replicas = lab(2);
      replicas.engine.setReplicaSize('r2', 640, 480, replicas.nowMs);
      replicas.runUntil(1000 + JUDGED_MS);
      const divergence = only(replicas);
      assert.equal(divergence.kind, 'size');
      assert.equal(divergence.noMajority, true);
      assert.deepEqual(divergence.outliers, ['r1', 'r2']);
    });

    it('a resize that every replica makes within the settle window is no divergence; resizing back ends one', () => {
      const replicas = lab(3);
      for (const [index, id] of ids(3).entries()) {
        replicas.nowMs += index * 30;
        replicas.engine.setFrame(id, 96, 64, solidFrame(96, 64), replicas.nowMs);
      }
      replicas.runUntil(4000);
      assert.equal(replicas.events.length, 0, 'no event');
      replicas.engine.setFrame('r1', 128, 64, solidFrame(128, 64), replicas.nowMs);
      replicas.runUntil(6000);
      assert.deepEqual(only(replicas).outliers, ['r1']);
      replicas.engine.setFrame('r1', 96, 64, solidFrame(96, 64), replicas.nowMs);
      replicas.runUntil(8000);
      assert.equal(replicas.events.at(-1)?.type, 'consensus');
    });
  });

  describe(`divergence engine: input [${variant.name}]`, { timeout: 60_000 }, () => {
    it('accepts ImageData-like Uint8ClampedArray and unaligned Uint8Array views, clips rectangles', () => {
      const engine = new DivergenceEngine(variant.options);
      for (const id of ['r1', 'r2', 'r3']) engine.setFrame(id, 32, 32, solidFrame(32, 32), 0);
      const red = solidFrame(8, 8, RED);
      const unaligned = new Uint8Array(red.length + 1).subarray(1);
      unaligned.set(red);
      engine.update('r3', { x: 28, y: 28, width: 8, height: 8 }, unaligned, 100);
      engine.tick(100 + SETTLE_MS);
      engine.tick(100 + JUDGED_MS);
      assert.deepEqual(engine.state.divergences[0]?.regions, [{ x: 28, y: 28, width: 4, height: 4 }]);
    });

    it('refuses pixel buffers of the wrong length and unknown replicas', () => {
      const engine = new DivergenceEngine(variant.options);
      engine.setReplicaSize('r1', 16, 16, 0);
      assert.throws(() => engine.update('r1', { x: 0, y: 0, width: 4, height: 4 }, new Uint8Array(60), 0), RangeError);
      assert.throws(() => engine.update('r9', { x: 0, y: 0, width: 1, height: 1 }, new Uint8Array(4), 0), RangeError);
    });

    it('a removed outlier leaves consensus behind', () => {
      const replicas = lab(3);
      replicas.paint(['r3'], { x: 4, y: 4, width: 2, height: 2 }, RED);
      replicas.runUntil(3000);
      assert.equal(replicas.engine.state.divergences.length, 1);
      replicas.engine.removeReplica('r3', replicas.nowMs);
      replicas.runUntil(3050);
      assert.deepEqual(replicas.engine.state.divergences, []);
      assert.equal(replicas.events.at(-1)?.type, 'consensus');
    });

    it('reads the crop helper back exactly (the tests feed what getImageData would)', () => {
      const frame = solidFrame(4, 4);
      fillRect(frame, 4, { x: 1, y: 1, width: 2, height: 2 }, RED);
      assert.deepEqual([...crop(frame, 4, { x: 1, y: 1, width: 1, height: 1 })], [...RED]);
    });
  });

  describe(`divergence engine: replicas joining and leaving [${variant.name}]`, { timeout: 60_000 }, () => {
    it('a majority member reconnecting keeps the divergence shown: no false consensus', () => {
      const replicas = lab(4);
      replicas.paint(['r4'], { x: 4, y: 4, width: 2, height: 2 }, RED);
      replicas.runUntil(3000);
      const before = only(replicas);
      replicas.engine.removeReplica('r2', replicas.nowMs);
      replicas.runUntil(3200);
      assert.deepEqual(only(replicas).outliers, ['r4']);
      assert.equal(only(replicas).id, before.id);
      replicas.engine.setFrame('r2', 128, 64, replicas.frame('r2'), replicas.nowMs);
      replicas.runUntil(6000);
      assert.deepEqual(only(replicas).outliers, ['r4']);
      assert.equal(only(replicas).id, before.id);
      assert.deepEqual(
        replicas.events.map((event) => event.type),
        ['divergence', 'divergence', 'divergence'],
        'new, then changed (r2 left the majority), then changed (r2 back)',
      );
    });

    it('a newcomer that differs is named once judged', () => {
      const replicas = lab(3);
      const odd = solidFrame(128, 64);
      fillRect(odd, 128, { x: 60, y: 30, width: 5, height: 5 }, GREEN);
      replicas.engine.setFrame('r4', 128, 64, odd, replicas.nowMs);
      replicas.engine.setFrame('r5', 128, 64, solidFrame(128, 64), replicas.nowMs);
      replicas.runUntil(1000 + JUDGED_MS);
      assert.deepEqual(only(replicas).outliers, ['r4']);
      assert.deepEqual(only(replicas).regions, [{ x: 60, y: 30, width: 5, height: 5 }]);
    });
  });

  describe(`divergence engine: a divergence is reported once its region has settled [${variant.name}]`, { timeout: 10_000 }, () => {
    /** Advances to `untilMs` in 10 ms steps, ticking at every step (as the monitor's decision timer does). */
    function tickEvery10Ms(replicas: Replicas, untilMs: number, each: (nowMs: number) => void = () => undefined): void {
      while (replicas.nowMs + 10 <= untilMs) {
        replicas.nowMs += 10;
        each(replicas.nowMs);
        replicas.events.push(...replicas.engine.tick(replicas.nowMs));
      }
    }

    it('characters typed 20 ms apart on one replica: one "new" event holding all of them, no "changed"', () => {
      // The first character's tile confirms 20 ms before the others: without the hold it was reported
      // alone (a sliver) and the rest came as "changed".
      const replicas = lab(3);
      tickEvery10Ms(replicas, replicas.nowMs + 2000, (nowMs) => {
        if (nowMs === 1010) replicas.type(['r2'], 1, 1, 'z');
        if (nowMs === 1030) replicas.type(['r2'], 5, 1, 'z');
        if (nowMs === 1050) replicas.type(['r2'], 9, 1, 'z');
      });
      assert.deepEqual(
        replicas.events.map((event) => (event.type === 'divergence' ? event.change : event.type)),
        ['new'],
      );
      const first = replicas.events[0]!;
      assert.ok(first.type === 'divergence');
      assert.deepEqual(first.divergence.regions, [glyphBox(1, 1), glyphBox(5, 1), glyphBox(9, 1)]);
      assert.deepEqual(first.divergence.outliers, ['r2']);
      assert.equal(first.atMs, 1050 + SETTLE_MS + CONFIRM_MS, 'reported when the last of them confirmed');
    });

    it('while held, the divergence is not in the report but is listed as held', () => {
      const replicas = lab(3);
      tickEvery10Ms(replicas, 1010 + SETTLE_MS + CONFIRM_MS, (nowMs) => {
        if (nowMs === 1010) replicas.type(['r2'], 1, 1, 'z');
        if (nowMs === 1100) replicas.type(['r2'], 4, 1, 'z');
      });
      assert.deepEqual(replicas.engine.state.divergences, []);
      assert.deepEqual(replicas.engine.heldDivergences.map((divergence) => divergence.outliers), [['r2']]);
      tickEvery10Ms(replicas, 1100 + SETTLE_MS + CONFIRM_MS);
      assert.equal(only(replicas).regions.length, 2);
      assert.deepEqual(replicas.engine.heldDivergences, []);
    });

    it('a region that keeps growing is reported at the latest CONFIRM_MS after it was first confirmed', () => {
      // A character every 200 ms on r2 alone, each in a tile of its own: there is always another tile
      // of the same split pending.
      const replicas = lab(3, 256, 64);
      let column = 0;
      tickEvery10Ms(replicas, 5000, (nowMs) => {
        if (nowMs >= 1010 && nowMs <= 4000 && (nowMs - 1010) % 200 === 0) replicas.type(['r2'], (column++ * 2) % 32, 2, 'q');
      });
      const news = replicas.events.filter((event) => event.type === 'divergence' && event.change === 'new');
      assert.equal(news.length, 1);
      assert.equal(news[0]!.atMs, 1010 + SETTLE_MS + 2 * CONFIRM_MS);
    });

    it('no "consensus" while a new divergence is held: the last one resolving then is not agreement', () => {
      const replicas = lab(3);
      const spot = { x: 100, y: 40, width: 2, height: 2 };
      tickEvery10Ms(replicas, 5000, (nowMs) => {
        if (nowMs === 1010) replicas.paint(['r3'], spot, RED);
        // r2 diverges in two cells 90 ms apart; r3 is fixed while r2's split is held.
        if (nowMs === 2300) replicas.type(['r2'], 1, 1, 'z');
        if (nowMs === 2390) replicas.type(['r2'], 4, 1, 'z');
        if (nowMs === 2950) replicas.paint(['r3'], spot, BACKGROUND);
      });
      assert.deepEqual(
        replicas.events.map((event) => (event.type === 'divergence' ? `${event.change} ${event.divergence.outliers.join()}` : event.type)),
        ['new r3', 'divergence-resolved', 'new r2'],
      );
    });
  });
}

for (const variant of ENGINE_VARIANTS) engineSuites(variant);
