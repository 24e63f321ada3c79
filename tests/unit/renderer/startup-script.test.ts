// The startup script's quorum: with every replica connected it runs on all; after the connect timeout
// it runs on a connected strict majority and names the others; never on half or on one of two; and
// `--require-all` keeps the strict rule.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scriptQuorum } from '../../../renderer/input/startup-script';

const THREE = ['r1', 'r2', 'r3'];

describe('the startup script quorum', { timeout: 5_000 }, () => {
  it('runs on every replica when none is missing', () => {
    assert.deepEqual(scriptQuorum(THREE, [], false, 60_000), { without: [] });
    assert.deepEqual(scriptQuorum(THREE, [], true, 60_000), { without: [] });
  });

  it('runs on a connected strict majority and names the replicas left out', () => {
    assert.deepEqual(scriptQuorum(THREE, ['r3'], false, 60_000), { without: ['r3'] });
    assert.deepEqual(scriptQuorum(['a', 'b', 'c', 'd', 'e'], ['b', 'e'], false, 60_000), { without: ['b', 'e'] });
  });

  it('does not run on half of the replicas, one of two, or a minority', () => {
    for (const [replicas, missing] of [
      [['r1', 'r2'], ['r2']],
      [['r1', 'r2', 'r3', 'r4'], ['r3', 'r4']],
      [THREE, ['r2', 'r3']],
    ] as const) {
      const result = scriptQuorum(replicas, missing, false, 30_000);
      assert.ok('error' in result, `${replicas.length} replicas, ${missing.length} missing`);
      assert.match(result.error, /not a strict majority: the script did not run/);
      assert.match(result.error, /within 30 s/);
    }
  });

  it('requires every replica with --require-all', () => {
    const result = scriptQuorum(THREE, ['r3'], true, 60_000);
    assert.ok('error' in result);
    assert.match(result.error, /r3.*--require-all was given: the script did not run/);
  });
});
