// The one-line status the toolbar and `retrovisor run` show for the divergence report.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeDivergenceState, type Divergence } from '../../../common/divergence';

function divergence(fields: Partial<Divergence>): Divergence {
  return { id: 'd1', kind: 'pixels', regions: [{ x: 0, y: 0, width: 1, height: 1 }], outliers: [], agreeing: [], groups: [], noMajority: false, sinceMs: 0, sizes: [], ...fields };
}

describe('describeDivergenceState', { timeout: 60_000 }, () => {
  it('says when all agree', () => {
    assert.equal(describeDivergenceState({ divergences: [], allAgree: true }), 'all agree');
  });

  it('names the outlier and counts regions', () => {
    const two = divergence({ outliers: ['r2'], agreeing: ['r1', 'r3'], regions: [{ x: 0, y: 0, width: 1, height: 1 }, { x: 5, y: 5, width: 1, height: 1 }] });
    assert.equal(describeDivergenceState({ divergences: [two], allAgree: false }), '2 regions disagree — r2 is the outlier');
    const one = divergence({ outliers: ['r2', 'r5'], agreeing: ['r1', 'r3', 'r4'] });
    assert.equal(describeDivergenceState({ divergences: [one], allAgree: false }), '1 region disagrees — r2, r5 are the outliers');
  });

  it('calls nobody good without a majority, and uses the labels given', () => {
    const split = divergence({ outliers: ['r1', 'r2'], noMajority: true });
    const labels: Record<string, string> = { r1: 'KVM', r2: 'Xen' };
    assert.equal(describeDivergenceState({ divergences: [split], allAgree: false }), 'no majority: r1, r2 disagree');
    assert.equal(describeDivergenceState({ divergences: [split], allAgree: false }, (id) => labels[id] ?? id), 'no majority: KVM, Xen disagree');
  });

  it('describes desktop-size mismatches with the sizes, and joins several divergences', () => {
    const sizes = [
      { replicaId: 'r1', widthPx: 1024, heightPx: 768 },
      { replicaId: 'r2', widthPx: 1024, heightPx: 768 },
      { replicaId: 'r3', widthPx: 800, heightPx: 600 },
    ];
    const size = divergence({ kind: 'size', outliers: ['r3'], agreeing: ['r1', 'r2'], sizes });
    const pixels = divergence({ id: 'd2', outliers: ['r2'], agreeing: ['r1', 'r3'] });
    assert.equal(
      describeDivergenceState({ divergences: [size, pixels], allAgree: false }),
      'desktop size differs — r3 is the outlier (800×600; others 1024×768); 1 region disagrees — r2 is the outlier',
    );
    const twoWay = divergence({ kind: 'size', outliers: ['r1', 'r3'], noMajority: true, sizes: [sizes[0]!, sizes[2]!] });
    assert.equal(describeDivergenceState({ divergences: [twoWay], allAgree: false }), 'desktop sizes differ, no majority: r1 1024×768, r3 800×600');
  });
});
