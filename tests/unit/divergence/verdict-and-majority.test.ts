// The confirmation state machine (a disagreement is reported only after it held, settled, for
// CONFIRM_MS) and the majority rule (strict majority, else everyone flagged and nobody "good").

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PartitionRegistry } from '../../../common/divergence/partition';
import { AGREE, UNJUDGEABLE, UNJUDGED, nextVerdict, type Observation, type Verdict } from '../../../common/divergence/tile-verdict';

const ids = (count: number): string[] => Array.from({ length: count }, (_, index) => `r${index + 1}`);

function split(labels: readonly number[], replicaCount = labels.length) {
  return new PartitionRegistry(ids(labels.length), replicaCount).fromLabels(Uint8Array.from(labels));
}

describe('majority', { timeout: 60_000 }, () => {
  it('two replicas that differ: both flagged, no majority', () => {
    const partition = split([0, 1]);
    assert.equal(partition.noMajority, true);
    assert.deepEqual(partition.outliers, ['r1', 'r2']);
    assert.deepEqual(partition.agreeing, []);
  });

  it('three replicas, one differs: that one is the outlier', () => {
    const partition = split([0, 1, 0]);
    assert.equal(partition.noMajority, false);
    assert.deepEqual(partition.outliers, ['r2']);
    assert.deepEqual(partition.agreeing, ['r1', 'r3']);
    assert.equal(partition.key, 'r1,r3|r2');
  });

  it('three replicas, all different: no majority', () => {
    assert.deepEqual(split([0, 1, 2]).outliers, ['r1', 'r2', 'r3']);
  });

  it('four replicas split 2/2: no majority; 3/1: one outlier', () => {
    assert.equal(split([0, 0, 1, 1]).noMajority, true);
    assert.deepEqual(split([0, 0, 1, 1]).outliers, ['r1', 'r2', 'r3', 'r4']);
    assert.deepEqual(split([0, 1, 0, 0]).outliers, ['r2']);
  });

  it('eight replicas, three outliers in two groups: named, grouped, majority first', () => {
    const partition = split([0, 1, 0, 0, 2, 0, 1, 0]);
    assert.deepEqual(partition.outliers, ['r2', 'r5', 'r7']);
    assert.deepEqual(partition.agreeing, ['r1', 'r3', 'r4', 'r6', 'r8']);
    assert.deepEqual(partition.groups, [['r1', 'r3', 'r4', 'r6', 'r8'], ['r2', 'r7'], ['r5']]);
  });

  it('eight replicas split 4/4 or 4/3/1: no strict majority', () => {
    assert.equal(split([0, 0, 0, 0, 1, 1, 1, 1]).noMajority, true);
    assert.equal(split([0, 0, 0, 0, 1, 1, 1, 2]).noMajority, true);
  });

  it('every N from 2 to 8 with one outlier: named when N ≥ 3, no majority at N = 2', () => {
    for (let count = 2; count <= 8; count++) {
      const labels = Array.from({ length: count }, (_, index) => (index === count - 1 ? 1 : 0));
      const partition = split(labels);
      if (count === 2) assert.equal(partition.noMajority, true);
      else assert.deepEqual(partition.outliers, [`r${count}`], `N = ${count}`);
    }
  });

  it('counts replicas left out of the comparison (another desktop size) in the majority base', () => {
    // r1..r3 compared, five replicas in all: 2 of 5 is no majority.
    assert.equal(split([0, 0, 1], 5).noMajority, true);
    assert.equal(split([0, 0, 0, 1], 5).noMajority, false);
  });

  it('interns: the same split is the same object', () => {
    const registry = new PartitionRegistry(ids(3), 3);
    assert.equal(registry.fromLabels(Uint8Array.from([0, 1, 0])), registry.fromLabels(Uint8Array.from([0, 1, 0])));
    assert.notEqual(registry.fromLabels(Uint8Array.from([0, 1, 0])), registry.fromLabels(Uint8Array.from([0, 0, 1])));
  });
});

describe('verdict state machine', { timeout: 60_000 }, () => {
  const registry = new PartitionRegistry(ids(3), 3);
  const r3Differs = registry.fromLabels(Uint8Array.from([0, 0, 1]));
  const r2Differs = registry.fromLabels(Uint8Array.from([0, 1, 0]));
  const CONFIRM = 600;
  const run = (steps: readonly [number, Observation][], start: Verdict = UNJUDGED): Verdict =>
    steps.reduce((verdict, [nowMs, observation]) => nextVerdict(verdict, observation, nowMs, CONFIRM), start);

  it('confirms a disagreement only after it held for the confirm time', () => {
    assert.equal(run([[0, r3Differs.disagreement]]).name, 'pending');
    assert.equal(run([[0, r3Differs.disagreement], [599, r3Differs.disagreement]]).name, 'pending');
    const confirmed = run([[0, r3Differs.disagreement], [600, r3Differs.disagreement]]);
    assert.deepEqual(confirmed, { name: 'diverged', partition: r3Differs, sinceMs: 0, next: null });
  });

  it('starts over when the tile stops being judgeable or the split changes before confirmation', () => {
    assert.equal(run([[0, r3Differs.disagreement], [300, UNJUDGEABLE], [700, r3Differs.disagreement]]).name, 'pending');
    assert.equal(run([[0, r3Differs.disagreement], [300, UNJUDGEABLE], [700, r3Differs.disagreement], [900, r3Differs.disagreement]]).name, 'pending');
    const changed = run([[0, r3Differs.disagreement], [500, r2Differs.disagreement], [700, r2Differs.disagreement]]);
    assert.deepEqual(changed, { name: 'pending', partition: r2Differs, sinceMs: 500 });
  });

  it('clears at once when the replicas agree', () => {
    const diverged = run([[0, r3Differs.disagreement], [600, r3Differs.disagreement]]);
    assert.equal(nextVerdict(diverged, AGREE, 700, CONFIRM).name, 'agree');
  });

  it('keeps a confirmed divergence shown while the tile changes, and replaces it only once the new split is confirmed', () => {
    const diverged = run([[0, r3Differs.disagreement], [600, r3Differs.disagreement]]);
    assert.equal(nextVerdict(diverged, UNJUDGEABLE, 700, CONFIRM), diverged);
    const switching = run([[1000, r2Differs.disagreement], [1500, r2Differs.disagreement]], diverged);
    assert.equal(switching.name === 'diverged' && switching.partition, r3Differs);
    const switched = run([[1600, r2Differs.disagreement]], switching);
    assert.deepEqual(switched, { name: 'diverged', partition: r2Differs, sinceMs: 1000, next: null });
  });

  it('reports at the first settled disagreement when the confirm time is zero', () => {
    assert.equal(nextVerdict(UNJUDGED, r3Differs.disagreement, 0, 0).name, 'diverged');
  });
});
