// The page ↔ comparison-worker messages in plain Node: each direction's strict parser takes exactly
// the well-formed messages (a real engine report included) and refuses anything else with a reason
// naming where the problem is.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { comparisonOptionsOf, parseComparisonReport, parseComparisonRequest } from '../../../common/comparison-protocol';
import { DivergenceEngine } from '../../../common/divergence';

const CELL = { x: 16, y: 16, width: 8, height: 8 };

/** A real engine's report after one replica of three drew a cell alone. */
function engineReport() {
  const engine = new DivergenceEngine({ settleMs: 0, confirmMs: 0 });
  for (const id of ['r1', 'r2', 'r3']) {
    engine.setReplicaSize(id, 64, 48, 0);
    const pixels = new Uint8ClampedArray(64 * 48 * 4).fill(id === 'r2' ? 0 : 255);
    engine.update(id, { x: 0, y: 0, width: 64, height: 48 }, pixels, 0);
  }
  const events = [...engine.tick(1), ...engine.tick(2)];
  return { type: 'report', events, state: engine.state, held: engine.heldDivergences, tickStartMs: 2, ticks: 1, tickMs: 0.5, updateMs: 1, updates: 3 };
}

function problemOf(result: { ok: boolean; problem?: string }): string {
  assert.equal(result.ok, false, 'refused');
  return result.problem ?? '';
}

describe('parseComparisonRequest', { timeout: 10_000 }, () => {
  it('accepts every request the page sends', () => {
    const pixels = new Uint8ClampedArray(CELL.width * CELL.height * 4);
    const requests = [
      { type: 'configure', options: comparisonOptionsOf({ settleMs: 100, tolerance: { maxChannelDelta: 8, maxDifferingPixelsPerTile: 2 }, ignoreRegions: [{ x: 1, y: 2, width: 3, height: 4 }] }), tickMs: 100, pageTimeOriginMs: 1_700_000_000_000.5 },
      { type: 'start' },
      { type: 'size', replicaId: 'r1', width: 1920, height: 1080, atMs: 12.5 },
      { type: 'update', replicaId: 'r1', rects: [CELL], pixels: [pixels], atMs: 13 },
      { type: 'remove', replicaId: 'r1', atMs: 14 },
      { type: 'tick' },
      { type: 'dispose' },
    ];
    for (const request of requests) {
      const parsed = parseComparisonRequest(request);
      assert.ok(parsed.ok, JSON.stringify(parsed));
      assert.deepEqual(parsed.message, request);
    }
  });

  it('posts ignore regions without their labels, and leaves out options the engine builds itself', () => {
    const labelled = { x: 1, y: 2, width: 3, height: 4, label: 'clock' };
    assert.deepEqual(comparisonOptionsOf({ ignoreRegions: [labelled], confirmMs: 0 }), { ignoreRegions: [{ x: 1, y: 2, width: 3, height: 4 }], confirmMs: 0 });
  });

  it('refuses malformed requests, saying where', () => {
    const pixels = new Uint8ClampedArray(CELL.width * CELL.height * 4);
    const cases: [unknown, RegExp][] = [
      [null, /\$: expected an object, found null/],
      [[], /\$: expected an object, found an array/],
      [new Map(), /not a plain object/],
      [{ type: 'explode' }, /unexpected message type/],
      [{ type: 'tick', extra: 1 }, /unexpected field "extra"/],
      [{ type: 'size', replicaId: 'r1', width: 0, height: 10, atMs: 0 }, /\$\.width: expected an integer from 1/],
      [{ type: 'size', replicaId: 'x'.repeat(65), width: 10, height: 10, atMs: 0 }, /\$\.replicaId/],
      [{ type: 'size', replicaId: 'r1', width: 10, height: 10, atMs: Number.NaN }, /\$\.atMs: expected a finite number/],
      [{ type: 'update', replicaId: 'r1', rects: [CELL], pixels: [new Uint8Array(256)], atMs: 0 }, /\$\.pixels\[0\]: expected a Uint8ClampedArray/],
      [{ type: 'update', replicaId: 'r1', rects: [CELL, CELL], pixels: [pixels], atMs: 0 }, /1 pixel buffers for 2 rectangles/],
      [{ type: 'update', replicaId: 'r1', rects: [{ ...CELL, width: 9 }], pixels: [pixels], atMs: 0 }, /expected 288 bytes for a 9×8 rectangle, found 256/],
      [{ type: 'update', replicaId: 'r1', rects: [{ ...CELL, x: -1 }], pixels: [pixels], atMs: 0 }, /\$\.rects\[0\]\.x/],
      [{ type: 'update', replicaId: 'r1', rects: Array.from({ length: 4097 }, () => CELL), pixels: [], atMs: 0 }, /\$\.rects: more than 4096 items/],
      [{ type: 'configure', options: { tolerance: { maxChannelDelta: 300, maxDifferingPixelsPerTile: 0 } }, tickMs: 100, pageTimeOriginMs: 0 }, /\$\.options\.tolerance\.maxChannelDelta/],
      [{ type: 'configure', options: { kernels: {} }, tickMs: 100, pageTimeOriginMs: 0 }, /\$\.options: unexpected field "kernels"/],
      [{ type: 'configure', options: {}, tickMs: 0, pageTimeOriginMs: 0 }, /\$\.tickMs: must be > 0/],
      [{ type: 'remove', replicaId: 'r1' }, /missing field "atMs"/],
    ];
    for (const [input, expected] of cases) assert.match(problemOf(parseComparisonRequest(input)), expected, JSON.stringify(input)?.slice(0, 80));
  });
});

describe('parseComparisonReport', { timeout: 10_000 }, () => {
  it("accepts a real engine's report and a problem", () => {
    const report = engineReport();
    assert.ok(report.events.some((event) => event.type === 'divergence'), 'the engine flagged r2');
    const parsed = parseComparisonReport(structuredClone(report));
    assert.ok(parsed.ok, JSON.stringify(parsed));
    assert.deepEqual(parsed.message, report);
    assert.deepEqual(parseComparisonReport({ type: 'problem', problem: 'bad' }), { ok: true, message: { type: 'problem', problem: 'bad' } });
  });

  it('refuses malformed reports, saying where', () => {
    const report = engineReport();
    const divergence = report.state.divergences[0];
    assert.ok(divergence !== undefined);
    const cases: [unknown, RegExp][] = [
      [{ ...report, extra: true }, /unexpected field "extra"/],
      [{ ...report, state: { divergences: [], allAgree: false } }, /\$\.state\.allAgree: contradicts/],
      [{ ...report, state: { divergences: [{ ...divergence, kind: 'colour' }], allAgree: false } }, /\$\.state\.divergences\[0\]\.kind/],
      [{ ...report, held: [{ ...divergence, outliers: [7] }] }, /\$\.held\[0\]\.outliers\[0\]/],
      [{ ...report, events: [{ type: 'consensus' }] }, /\$\.events\[0\]: missing field "atMs"/],
      [{ ...report, events: [{ type: 'divergence', change: 'gone', divergence, atMs: 1 }] }, /\$\.events\[0\]\.change/],
      [{ ...report, tickMs: -1 }, /\$\.tickMs: expected a number ≥ 0/],
      [{ ...report, ticks: 0 }, /\$\.ticks: expected an integer from 1/],
      [{ type: 'problem', problem: 42 }, /\$\.problem: expected a string/],
      [{ type: 'ready' }, /unexpected message type/],
    ];
    for (const [input, expected] of cases) assert.match(problemOf(parseComparisonReport(input)), expected);
  });
});
