// Recent quick-connect endpoint sets: canonical form, most recent first, no duplicates, a handful,
// and a list read back from disk checked entry by entry.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_RECENT_ENDPOINT_SETS, canonicalEndpointSet, forgetEndpointSet, readRecentEndpointSets, rememberEndpointSet } from '../../../common/recent-endpoints';

describe('recent endpoint sets', { timeout: 5_000 }, () => {
  it('writes a set as host::port in the order typed, whatever form was used', { timeout: 1_000 }, () => {
    assert.deepEqual(canonicalEndpointSet('127.0.0.1:1, vm-b::5905\n[::1]:2 host'), ['127.0.0.1::5901', 'vm-b::5905', '[::1]::5902', 'host::5900']);
    assert.equal(canonicalEndpointSet('  '), null);
    assert.equal(canonicalEndpointSet('host:x'), null);
    assert.equal(canonicalEndpointSet(Array.from({ length: 9 }, (_unused, index) => `h:${index}`).join(' ')), null);
  });

  it('keeps the most recent first, one copy of each set, at most a handful', { timeout: 1_000 }, () => {
    let recent: string[][] = [];
    for (let index = 0; index < MAX_RECENT_ENDPOINT_SETS + 2; index++) recent = rememberEndpointSet(recent, [`h::${5900 + index}`]);
    assert.equal(recent.length, MAX_RECENT_ENDPOINT_SETS);
    assert.deepEqual(recent[0], [`h::${5900 + MAX_RECENT_ENDPOINT_SETS + 1}`]);
    recent = rememberEndpointSet(recent, ['h::5905']);
    assert.deepEqual(recent[0], ['h::5905']);
    assert.equal(recent.filter((entry) => entry[0] === 'h::5905').length, 1);
    assert.equal(recent.length, MAX_RECENT_ENDPOINT_SETS);
    // The order of endpoints matters (the first is the reference replica).
    recent = rememberEndpointSet([['a::1', 'b::2']], ['b::2', 'a::1']);
    assert.equal(recent.length, 2);
    assert.deepEqual(forgetEndpointSet(recent, ['a::1', 'b::2']), [['b::2', 'a::1']]);
  });

  it('reads back only well-formed sets from an edited file', { timeout: 1_000 }, () => {
    assert.deepEqual(readRecentEndpointSets({ not: 'a list' }), []);
    assert.deepEqual(
      readRecentEndpointSets([['127.0.0.1::5901'], 'text', [1, 2], ['127.0.0.1:1'], ['127.0.0.1::5901'], [], ['x::5900', 'y::5900']]),
      [['127.0.0.1::5901'], ['x::5900', 'y::5900']],
    );
  });
});
