// The few words the start screen shows for how a saved profile's last session went.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeSessionOutcome } from '../../../common/session-outcome';

const IDS = ['r1', 'r2', 'r3'];

describe('session outcome', { timeout: 10_000 }, () => {
  it('says could not connect, who did not connect, who diverged, no majority, all agreed', () => {
    const input = { replicaIds: IDS, everConnected: new Set<string>(), divergence: null, compared: true };
    assert.equal(describeSessionOutcome(input), 'could not connect');
    assert.equal(describeSessionOutcome({ ...input, everConnected: new Set(['r1']) }), 'r2, r3 did not connect');
    const all = new Set(IDS);
    assert.equal(describeSessionOutcome({ ...input, everConnected: all, divergence: { outliers: ['r2'], noMajority: false } }), 'r2 diverged');
    assert.equal(describeSessionOutcome({ ...input, everConnected: all, divergence: { outliers: ['r1', 'r2', 'r3'], noMajority: true } }), 'no majority');
    assert.equal(describeSessionOutcome({ ...input, everConnected: all }), 'all agreed');
    assert.equal(describeSessionOutcome({ ...input, everConnected: all, compared: false }), 'all connected');
  });
});
