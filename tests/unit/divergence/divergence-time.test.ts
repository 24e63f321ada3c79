// The engine in time, with a fake clock: a lagging replica is not a divergence, a blinking cursor
// whose phase differs between replicas is not one either (no mask needed), a real difference
// next to it — or inside its tile — still is, and consensus is announced when the outlier is fixed.
// Every suite runs on the JavaScript loops and on the WebAssembly SIMD kernels.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BLINK_WINDOW_MS, CONFIRM_MS, SETTLE_MS, type DivergenceOptions } from '../../../common/divergence';
import { ENGINE_VARIANTS, type EngineVariant } from './engines';
import { BlinkingCursor, Replicas, cellRect, glyphBox, type Colour } from './screens';

const RED: Colour = [200, 0, 0, 255];
const THREE = ['r1', 'r2', 'r3'];
/** Distinct phases, as three servers that started their consoles at different moments. */
const PHASES = { r1: 0, r2: 90, r3: 170 };
/**
 * Harmless cases are checked with no confirmation delay at all: the blink rule alone must keep
 * them quiet (CONFIRM_MS would otherwise hide short slips).
 */
const NO_CONFIRM: DivergenceOptions = { confirmMs: 0 };

/** Every suite below, on one engine variant (JavaScript or the SIMD kernels): same cases, same results. */
function engineSuites(variant: EngineVariant): void {
  function settled(ids: readonly string[] = THREE, options: DivergenceOptions = {}): Replicas {
    const replicas = new Replicas(ids, 128, 64, { ...variant.options, ...options });
    replicas.runUntil(1000);
    return replicas;
  }

  describe(`divergence over time: lag [${variant.name}]`, { timeout: 60_000 }, () => {
    it('a keystroke reaching the replicas 18–50 ms apart is no divergence', () => {
      const replicas = settled();
      const arrivals: [string, number][] = [['r1', 1018], ['r2', 1035], ['r3', 1050]];
      replicas.runWith(5000, (nowMs) => {
        for (const [id, atMs] of arrivals) if (nowMs === atMs) replicas.type([id], 2, 1, 'k');
      }, 1);
      assert.deepEqual(replicas.events, []);
      assert.equal(replicas.engine.stats.comparedTiles > 0, true, 'the typed cell was compared');
    });

    it('a replica lagging by more than the settle window but converging before confirmation is no divergence', () => {
      const replicas = settled();
      replicas.type(['r1', 'r2'], 2, 1, 'k');
      replicas.runUntil(1000 + SETTLE_MS + CONFIRM_MS - 100);
      replicas.type(['r3'], 2, 1, 'k');
      replicas.runUntil(6000);
      assert.deepEqual(replicas.events, []);
    });

    it('a replica that stays behind is flagged, then consensus when it catches up', () => {
      const replicas = settled();
      replicas.type(['r1', 'r2'], 2, 1, 'k');
      replicas.runUntil(1000 + SETTLE_MS + CONFIRM_MS);
      const [flagged] = replicas.engine.state.divergences;
      assert.deepEqual(flagged?.outliers, ['r3']);
      assert.deepEqual(flagged?.regions, [glyphBox(2, 1)]);
      replicas.runUntil(3000);
      replicas.type(['r3'], 2, 1, 'k');
      replicas.runUntil(3000 + SETTLE_MS - 50);
      assert.equal(replicas.engine.state.divergences.length, 1, 'still shown while r3 redraws');
      replicas.runUntil(3000 + SETTLE_MS);
      assert.deepEqual(
        replicas.events.map((event) => event.type),
        ['divergence', 'divergence-resolved', 'consensus'],
      );
      assert.equal(replicas.engine.state.allAgree, true);
    });

    it('a region that never stops changing is not judged', () => {
      const replicas = settled();
      let shade = 0;
      replicas.runWith(6000, (nowMs) => {
        if (nowMs % 100 !== 0) return;
        shade = (shade + 37) % 256;
        replicas.paint(['r3'], { x: 60, y: 30, width: 4, height: 4 }, [shade, 0, 0, 255]);
      });
      assert.deepEqual(replicas.events, []);
      replicas.runUntil(6000 + SETTLE_MS + CONFIRM_MS);
      assert.deepEqual(replicas.engine.state.divergences[0]?.outliers, ['r3'], 'once it stops, it is');
    });
  });

  describe(`divergence over time: blinking cursor [${variant.name}]`, { timeout: 60_000 }, () => {
    it('three replicas blinking out of phase agree (no mask)', () => {
      const replicas = settled(THREE, NO_CONFIRM);
      const cursor = new BlinkingCursor(replicas, 2, 5, PHASES);
      replicas.runWith(12_000, (nowMs) => cursor.step(nowMs));
      assert.deepEqual(replicas.events, []);
    });

    it('two replicas blinking out of phase agree', () => {
      const replicas = settled(['r1', 'r2'], NO_CONFIRM);
      const cursor = new BlinkingCursor(replicas, 2, 5, { r1: 0, r2: 125 });
      replicas.runWith(12_000, (nowMs) => cursor.step(nowMs));
      assert.deepEqual(replicas.events, []);
    });

    it('a slow blink (on longer than the settle window), opposite phases, agrees once its cycle shows', () => {
      // While the first cycle is not yet seen, a 700 ms state looks settled: only confirmation
      // (CONFIRM_MS) covers that start; after one blink window, the blink rule alone does.
      const slow = { r1: 0, r2: 30, r3: 700 };
      const unconfirmed = settled(THREE, NO_CONFIRM);
      const cursor = new BlinkingCursor(unconfirmed, 2, 5, slow, 700);
      unconfirmed.runWith(15_000, (nowMs) => cursor.step(nowMs));
      const afterStart = unconfirmed.events.filter((event) => event.atMs > 1000 + BLINK_WINDOW_MS + 700);
      assert.deepEqual(afterStart, []);
      assert.equal(unconfirmed.engine.state.allAgree, true);
      const replicas = settled();
      const defaultCursor = new BlinkingCursor(replicas, 2, 5, slow, 700);
      replicas.runWith(15_000, (nowMs) => defaultCursor.step(nowMs));
      assert.deepEqual(replicas.events, []);
    });

    it('a cursor hidden on every replica, whatever its phase was, is no divergence', () => {
      const replicas = settled(THREE, NO_CONFIRM);
      const cursor = new BlinkingCursor(replicas, 2, 5, PHASES);
      replicas.runWith(4000, (nowMs) => cursor.step(nowMs));
      // r1 hides it while shown; r2 and r3 were already dark for 80–160 ms: for a moment r1 still
      // looks like blinking while the others look settled.
      const hiddenAtMs: Record<string, number> = { r1: 4240, r2: 4255, r3: 4270 };
      replicas.runWith(9000, (nowMs) => {
        for (const id of THREE) if (nowMs === hiddenAtMs[id]) cursor.hide(id);
        cursor.step(nowMs);
      }, 1);
      assert.deepEqual(replicas.events, []);
    });

    it('typing on every replica (18–50 ms apart) while the cursor blinks is no divergence', () => {
      const replicas = settled(THREE, NO_CONFIRM);
      // Cells 4 and 5 share tile column 2, cells 6 and 7 tile column 3: the cursor moves inside its
      // tile, across a tile edge, and inside again; r3 is dark when the first key arrives, r1 lit.
      const cursor = new BlinkingCursor(replicas, 2, 4, PHASES);
      const lagMs: Record<string, number> = { r1: 18, r2: 35, r3: 50 };
      replicas.runWith(16_000, (nowMs) => {
        cursor.step(nowMs);
        for (const id of THREE) {
          for (const [index, typedAtMs] of [4100, 6000, 9000].entries()) {
            if (nowMs !== typedAtMs + lagMs[id]!) continue;
            // The console draws the character where the cursor was and moves the cursor on.
            cursor.moveTo(id, 5 + index);
            replicas.type([id], 4 + index, 2, 'abc'[index]!);
          }
        }
      }, 1);
      assert.deepEqual(replicas.events, []);
    });

    it('a real one-character difference next to the blinking cursor is flagged on exactly that character', () => {
      const replicas = settled();
      const cursor = new BlinkingCursor(replicas, 2, 5, PHASES);
      replicas.runWith(4000, (nowMs) => cursor.step(nowMs));
      // Cell 2 is in tile column 1 (x 16..31); the cursor (cell 5, x 40..47) in tile column 2.
      replicas.type(['r2'], 2, 2, 'z');
      replicas.runWith(8000, (nowMs) => cursor.step(nowMs));
      const divergences = replicas.engine.state.divergences;
      assert.equal(divergences.length, 1);
      assert.deepEqual(divergences[0]?.regions, [glyphBox(2, 2)]);
      assert.deepEqual(divergences[0]?.outliers, ['r2']);
      const flaggedAtMs = replicas.events[0]?.atMs ?? Infinity;
      assert.ok(flaggedAtMs <= 4000 + SETTLE_MS + CONFIRM_MS + 50, `flagged at ${flaggedAtMs}`);
    });

    it('a difference inside the cursor tile is flagged when the states it cycles through differ', () => {
      const replicas = settled();
      const cursor = new BlinkingCursor(replicas, 2, 5, PHASES);
      replicas.runWith(4000, (nowMs) => cursor.step(nowMs));
      // Cell 4 shares tile column 2 (x 32..47) with the cursor at cell 5.
      replicas.type(['r3'], 4, 2, 'z');
      replicas.runWith(9000, (nowMs) => cursor.step(nowMs));
      const divergences = replicas.engine.state.divergences;
      assert.equal(divergences.length, 1);
      assert.deepEqual(divergences[0]?.outliers, ['r3']);
      assert.deepEqual(divergences[0]?.regions, [{ x: 32, y: 32, width: 16, height: 16 }], 'the blinking tile, whole');
      const flaggedAtMs = replicas.events[0]?.atMs ?? Infinity;
      assert.ok(flaggedAtMs <= 4000 + BLINK_WINDOW_MS + CONFIRM_MS + 100, `flagged at ${flaggedAtMs}`);
    });

    it('a replica whose cursor stops blinking is flagged, once it has been still for a blink window', () => {
      const replicas = settled();
      const cursor = new BlinkingCursor(replicas, 2, 5, PHASES);
      replicas.runWith(4000, (nowMs) => cursor.step(nowMs));
      cursor.stop('r1');
      replicas.runWith(10_000, (nowMs) => cursor.step(nowMs));
      const divergences = replicas.engine.state.divergences;
      assert.deepEqual(divergences[0]?.outliers, ['r1']);
      assert.deepEqual(divergences[0]?.regions, [{ x: 32, y: 32, width: 16, height: 16 }]);
    });

    it('consensus once the outlier is fixed, with the cursor still blinking', () => {
      const replicas = settled();
      const cursor = new BlinkingCursor(replicas, 2, 5, PHASES);
      replicas.type(['r2'], 1, 2, 'z');
      replicas.runWith(5000, (nowMs) => cursor.step(nowMs));
      assert.deepEqual(replicas.engine.state.divergences[0]?.outliers, ['r2']);
      // The user erases the stray character on r2.
      replicas.paint(['r2'], cellRect(1, 2), [0, 0, 170, 255]);
      replicas.runWith(7000, (nowMs) => cursor.step(nowMs));
      assert.deepEqual(
        replicas.events.map((event) => event.type),
        ['divergence', 'divergence-resolved', 'consensus'],
      );
    });

    it('a one-off flash on one replica during blinking is no divergence once it is gone', () => {
      const replicas = settled();
      const cursor = new BlinkingCursor(replicas, 2, 5, PHASES);
      replicas.runWith(3000, (nowMs) => cursor.step(nowMs));
      replicas.paint(['r3'], { x: 70, y: 10, width: 4, height: 4 }, RED);
      replicas.runWith(3200, (nowMs) => cursor.step(nowMs));
      replicas.paint(['r3'], { x: 70, y: 10, width: 4, height: 4 }, [0, 0, 170, 255]);
      replicas.runWith(8000, (nowMs) => cursor.step(nowMs));
      assert.deepEqual(replicas.events, []);
    });
  });

  describe(`divergence over time: when the next decision falls due [${variant.name}]`, { timeout: 60_000 }, () => {
    it('names the moment a written tile settles, then the moment its disagreement confirms, then nothing', () => {
      const replicas = settled();
      replicas.runUntil(5000);
      assert.equal(replicas.engine.nextDecisionMs, Infinity, 'quiet, agreeing screens: nothing due');
      replicas.nowMs = 5010;
      replicas.paint(['r2'], cellRect(2, 1), RED);
      assert.equal(replicas.engine.nextDecisionMs, 5010 + SETTLE_MS, 'the written tile settles after the settle window');
      // A tick before then changes nothing and still names the same moment.
      replicas.events.push(...replicas.engine.tick(5200));
      assert.equal(replicas.engine.nextDecisionMs, 5010 + SETTLE_MS);
      // Ticked exactly then: the disagreement is seen on settled screens, and confirms CONFIRM_MS later.
      replicas.events.push(...replicas.engine.tick(5010 + SETTLE_MS));
      assert.equal(replicas.engine.nextDecisionMs, 5010 + SETTLE_MS + CONFIRM_MS);
      assert.equal(replicas.events.length, 0, 'pending, not yet reported');
      replicas.events.push(...replicas.engine.tick(5010 + SETTLE_MS + CONFIRM_MS));
      const flagged = replicas.events.find((event) => event.type === 'divergence');
      assert.ok(flagged?.type === 'divergence', 'flagged at exactly settle + confirm after the write');
      assert.deepEqual(flagged.divergence.outliers, ['r2']);
      assert.equal(replicas.engine.nextDecisionMs, Infinity, 'confirmed: nothing more due');
    });

    it('looks again at a compared tile within the blink window only while some replica may be blinking', () => {
      const replicas = settled();
      replicas.runUntil(5000);
      // The same cell repainted on every replica after a quiet while: compared once settled, then left alone.
      replicas.nowMs = 5010;
      replicas.paint(THREE, cellRect(2, 1), RED);
      replicas.runUntil(5010 + SETTLE_MS);
      assert.ok(replicas.engine.stats.lastTickTiles > 0, 'the settled tile was looked at');
      const compared = replicas.engine.stats.comparedTiles;
      replicas.runUntil(5010 + SETTLE_MS + 300);
      assert.equal(replicas.engine.stats.lastTickTiles, 0, 'every replica plainly settled and agreeing: nothing to watch');
      assert.equal(replicas.engine.stats.comparedTiles, compared);
      // Repainted within the blink window with new pixels (hot, fingerprinted, but no earlier state
      // came back): no blink is possible before the next write, so once compared it is left alone.
      replicas.nowMs = 5600;
      replicas.paint(THREE, cellRect(2, 1), [0, 0, 200, 255]);
      replicas.runUntil(5600 + SETTLE_MS + 100);
      assert.equal(replicas.engine.stats.lastTickTiles, 0, 'a new state on every replica, compared: nothing to watch');
      // Back to red within the blink window: an earlier state came back, so it may be a blink, and
      // the tile is watched on every tick until the blink window has passed.
      replicas.nowMs = 6200;
      replicas.paint(THREE, cellRect(2, 1), RED);
      replicas.runUntil(6200 + SETTLE_MS + 300);
      assert.ok(replicas.engine.stats.lastTickTiles > 0, 'a tile that may be blinking stays watched');
      replicas.runUntil(6200 + BLINK_WINDOW_MS + 200);
      assert.equal(replicas.engine.stats.lastTickTiles, 0, 'and is left alone once its blink window has passed');
      assert.equal(replicas.events.length, 0, 'no divergence all along');
    });
  });
}

for (const variant of ENGINE_VARIANTS) engineSuites(variant);
