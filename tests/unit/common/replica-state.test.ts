// The replica connection state machine: the legal paths a session takes, the backoff it computes,
// and the refusal of transitions that make no sense.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  RECONNECT_MAX_DELAY_MS,
  STABLE_CONNECTION_MS,
  describeReplicaState,
  reconnectDelayMs,
  transition,
  type ReplicaEvent,
  type ReplicaState,
} from '../../../common/replica-state';

function apply(events: readonly ReplicaEvent[], start: ReplicaState = { name: 'idle' }): ReplicaState {
  return events.reduce((state, event) => {
    const result = transition(state, event);
    assert.ok(result.ok, result.ok ? '' : result.error);
    return result.state;
  }, start);
}

describe('replica state machine', { timeout: 60_000 }, () => {
  it('connects, with and without a password', () => {
    assert.deepEqual(apply([{ type: 'connect' }, { type: 'connected', width: 640, height: 400, nowMs: 5 }]), { name: 'connected', width: 640, height: 400, attempt: 0, sinceMs: 5 });
    assert.equal(
      apply([{ type: 'connect' }, { type: 'credentials-required' }, { type: 'credentials-supplied' }, { type: 'connected', width: 1, height: 1, nowMs: 0 }]).name,
      'connected',
    );
  });

  it('goes through disconnected and reconnecting with growing, bounded backoff', () => {
    const dropped = apply([{ type: 'connect' }, { type: 'connected', width: 640, height: 400, nowMs: 0 }, { type: 'dropped', reason: 'server closed', nowMs: STABLE_CONNECTION_MS }]);
    assert.deepEqual(dropped, { name: 'disconnected', reason: 'server closed', attempt: 0 });
    const waiting = apply([{ type: 'schedule-retry', nowMs: 10_000 }], dropped);
    assert.deepEqual(waiting, { name: 'reconnecting', reason: 'server closed', attempt: 1, retryAtMs: 11_000 });
    assert.equal(describeReplicaState(waiting, 9_100), 'reconnecting in 2 s');
    // A failed attempt keeps counting: the next delay doubles.
    const second = apply([{ type: 'retry-due' }, { type: 'dropped', reason: 'refused', nowMs: 19_000 }, { type: 'schedule-retry', nowMs: 20_000 }], waiting);
    assert.deepEqual(second, { name: 'reconnecting', reason: 'refused', attempt: 2, retryAtMs: 22_000 });
    assert.deepEqual([1, 2, 3, 4, 5, 30].map(reconnectDelayMs), [1000, 2000, 4000, 8000, 8000, 8000]);
    assert.equal(Math.max(...Array.from({ length: 100 }, (_, index) => reconnectDelayMs(index))), RECONNECT_MAX_DELAY_MS);
  });

  it('does not retry after an authentication failure, until asked', () => {
    const failed = apply([{ type: 'connect' }, { type: 'credentials-required' }, { type: 'credentials-supplied' }, { type: 'security-failure', reason: 'wrong password' }]);
    assert.deepEqual(failed, { name: 'auth-failed', reason: 'wrong password' });
    // The server then closes the socket: still an auth failure, and no retry can be scheduled.
    assert.deepEqual(apply([{ type: 'dropped', reason: 'closed', nowMs: 0 }], failed), failed);
    assert.equal(transition(failed, { type: 'schedule-retry', nowMs: 0 }).ok, false);
    assert.equal(apply([{ type: 'connect' }], failed).name, 'connecting');
  });

  it('refuses illegal transitions and keeps the state', () => {
    const idle: ReplicaState = { name: 'idle' };
    const result = transition(idle, { type: 'connected', width: 1, height: 1, nowMs: 0 });
    assert.equal(result.ok, false);
    assert.equal(result.state, idle);
    assert.match(result.ok ? '' : result.error, /"connected" in state "idle"/);
    assert.equal(transition({ name: 'connected', width: 1, height: 1, attempt: 0, sinceMs: 0 }, { type: 'connect' }).ok, false);
    assert.equal(transition({ name: 'connecting', attempt: 0 }, { type: 'retry-due' }).ok, false);
  });

  it('tracks desktop resizes while connected', () => {
    assert.deepEqual(apply([{ type: 'resized', width: 800, height: 600 }], { name: 'connected', width: 640, height: 400, attempt: 0, sinceMs: 7 }), {
      name: 'connected',
      width: 800,
      height: 600,
      attempt: 0,
      sinceMs: 7,
    });
  });

  it('keeps backing off when a server accepts and then fails at once, resets after a stable connection', () => {
    // A hostile or broken server: connects, then fails within a second, again and again.
    let state: ReplicaState = apply([{ type: 'connect' }]);
    const delays: number[] = [];
    let nowMs = 0;
    for (let round = 0; round < 5; round++) {
      state = apply([{ type: 'connected', width: 640, height: 400, nowMs }, { type: 'dropped', reason: 'garbage', nowMs: nowMs + 50 }, { type: 'schedule-retry', nowMs: nowMs + 50 }], state);
      assert.equal(state.name, 'reconnecting');
      if (state.name === 'reconnecting') {
        delays.push(state.retryAtMs - (nowMs + 50));
        nowMs = state.retryAtMs;
      }
      state = apply([{ type: 'retry-due' }], state);
    }
    assert.deepEqual(delays, [1000, 2000, 4000, 8000, 8000]);
    // A connection that lasts resets the backoff.
    state = apply([{ type: 'connected', width: 640, height: 400, nowMs }, { type: 'dropped', reason: 'bye', nowMs: nowMs + STABLE_CONNECTION_MS }, { type: 'schedule-retry', nowMs: nowMs + STABLE_CONNECTION_MS }], state);
    assert.equal(state.name === 'reconnecting' ? state.retryAtMs - (nowMs + STABLE_CONNECTION_MS) : -1, 1000);
  });
});
