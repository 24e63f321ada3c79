// The workspace's words about the whole session: the comparison status is never green "all agree"
// while a replica is not connected, the main area says which replicas cannot be reached and why, and
// the broadcast badge never invites typing when nothing receives it.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Divergence } from '../../../common/divergence';
import { initialReplicaView, withReplicaState, type ReplicaView } from '../../../renderer/store';
import { broadcastBadgeText, comparisonStatus, unreachableReplicas } from '../../../renderer/workspace/session-status';

const nameOf = (id: string): string => ({ r1: 'xterm 1', r2: 'xterm 2', r3: 'xterm 3' })[id] ?? id;
const D1: Divergence = { id: 'd1', kind: 'pixels', regions: [{ x: 8, y: 16, width: 30, height: 32 }], outliers: ['r2'], agreeing: ['r1', 'r3'], groups: [['r1', 'r3'], ['r2']], noMajority: false, sinceMs: 0, sizes: [] };

function view(id: string, endpoint: string): ReplicaView {
  return initialReplicaView({ id, label: id, endpoint, tunnel: false, hasPassword: false });
}

describe('session status', { timeout: 10_000 }, () => {
  it('is green "All replicas agree" only when every replica is connected', () => {
    assert.deepEqual(comparisonStatus([], 3, 3, nameOf), { text: 'All replicas agree', tone: 'all', diverged: false });
    assert.deepEqual(comparisonStatus([], 2, 3, nameOf), { text: '2 of 3 connected · the connected ones agree', tone: 'some', diverged: false });
    assert.equal(comparisonStatus([], 1, 3, nameOf).tone, 'some');
    assert.equal(comparisonStatus([], 0, 1, nameOf).tone, 'none');
    assert.equal(comparisonStatus([], 1, 1, nameOf).tone, 'some', 'one replica alone is not "agreement"');
  });

  it('a divergence is red, and says when not every replica is compared', () => {
    assert.deepEqual(comparisonStatus([D1], 3, 3, nameOf), { text: '1 region disagrees — xterm 2 is the outlier', tone: 'none', diverged: true });
    assert.equal(comparisonStatus([D1], 3, 4, nameOf).text, '1 region disagrees — xterm 2 is the outlier · 3 of 4 connected');
  });

  it('lists the replicas nobody can reach, with why, once none is on its first attempt', () => {
    const refused = withReplicaState(view('r1', '127.0.0.1:5999'), { name: 'disconnected', reason: 'connection refused', attempt: 0 });
    const retrying = withReplicaState(refused, { name: 'reconnecting', reason: 'connection refused', attempt: 1, retryAtMs: 3000 });
    const firstAttempt = withReplicaState(view('r2', '127.0.0.1:5901'), { name: 'connecting', attempt: 0 });
    assert.equal(unreachableReplicas(['r1', 'r2'], { r1: retrying, r2: firstAttempt }, 1000), null, 'a first attempt is under way: the spinner');
    const again = withReplicaState(retrying, { name: 'connecting', attempt: 1 });
    assert.deepEqual(unreachableReplicas(['r1'], { r1: again }, 1000), [{ id: 'r1', label: 'r1', endpoint: '127.0.0.1:5999', reason: 'connection refused (connecting (attempt 2))' }]);
    assert.deepEqual(unreachableReplicas(['r1'], { r1: retrying }, 1000)?.map((replica) => replica.reason), ['connection refused (reconnecting in 2 s)']);
    const connected = withReplicaState(firstAttempt, { name: 'connected', width: 800, height: 600, attempt: 0, sinceMs: 0 });
    assert.equal(unreachableReplicas(['r1', 'r2'], { r1: retrying, r2: connected }, 1000), null, 'one is connected');
  });

  it('the badge invites typing only when some replica receives it', () => {
    assert.equal(broadcastBadgeText({ enabled: true, targets: 0, total: 1, connected: 0, soloLabel: null, focused: false, captured: false }), 'No input: the replica is not connected');
    assert.equal(broadcastBadgeText({ enabled: true, targets: 0, total: 3, connected: 0, soloLabel: null, focused: false, captured: false }), 'No input: none of 3 replicas is connected');
    assert.equal(broadcastBadgeText({ enabled: true, targets: 2, total: 3, connected: 2, soloLabel: 'xterm 1', focused: false, captured: false }), 'Broadcasting to 2 of 3 · click the screen to type');
    assert.equal(broadcastBadgeText({ enabled: true, targets: 2, total: 3, connected: 2, soloLabel: 'xterm 1', focused: true, captured: false }), 'Broadcasting to 2 of 3 · Enter or click to type');
    assert.equal(
      broadcastBadgeText({ enabled: true, targets: 2, total: 3, connected: 2, soloLabel: 'xterm 1', focused: true, captured: true }),
      'Broadcasting to 2 of 3 · Ctrl+Alt to release the keyboard',
    );
    assert.equal(broadcastBadgeText({ enabled: false, targets: 1, total: 3, connected: 3, soloLabel: 'xterm 1', focused: true, captured: true }), 'Input to xterm 1 only · Ctrl+Alt to release the keyboard');
  });
});
