// The diff view's default reference (majority, no majority, composite, alone), in plain Node.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Divergence } from '../../../common/divergence';
import { defaultDiffReference } from '../../../renderer/divergence/diff-reference';

function divergence(outliers: string[], agreeing: string[], noMajority = false): Divergence {
  return { id: 'd1', kind: 'pixels', regions: [{ x: 0, y: 0, width: 4, height: 4 }], outliers, agreeing, groups: [agreeing, outliers], noMajority, sinceMs: 0, sizes: [] };
}

describe('defaultDiffReference', { timeout: 60_000 }, () => {
  const connected = ['r1', 'r2', 'r3'];

  it('takes a replica of the agreeing majority for an outlier, the composite reference when it is one of them', () => {
    assert.deepEqual(defaultDiffReference('r2', [divergence(['r2'], ['r1', 'r3'])], connected, 'r3'), { referenceId: 'r3', reason: 'majority' });
    assert.deepEqual(defaultDiffReference('r2', [divergence(['r2'], ['r1', 'r3'])], connected, 'r2'), { referenceId: 'r1', reason: 'majority' });
  });

  it('skips majority replicas that are not connected', () => {
    assert.deepEqual(defaultDiffReference('r2', [divergence(['r2'], ['r1', 'r3'])], ['r2', 'r3'], null), { referenceId: 'r3', reason: 'majority' });
  });

  it('names no reference where there is no majority: the user picks', () => {
    assert.deepEqual(defaultDiffReference('r1', [divergence(['r1', 'r2'], [], true)], ['r1', 'r2'], 'r1'), { referenceId: null, reason: 'no-majority' });
  });

  it('uses the composite reference for a replica that agrees, else the first other connected replica', () => {
    assert.deepEqual(defaultDiffReference('r3', [divergence(['r2'], ['r1', 'r3'])], connected, 'r1'), { referenceId: 'r1', reason: 'composite' });
    assert.deepEqual(defaultDiffReference('r1', [], connected, 'r1'), { referenceId: 'r2', reason: 'other' });
    assert.deepEqual(defaultDiffReference('r1', [], ['r1'], 'r1'), { referenceId: null, reason: 'alone' });
  });
});
