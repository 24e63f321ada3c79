// The transition tables of the stream relay and of the shared L0 SSH connection: every state × event
// pair, allowed (and where to) or refused, written out here so a change to a table is a change to
// this test. Plain Node.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  L0_CONNECTION_EVENTS,
  L0_CONNECTION_STATES,
  nextL0ConnectionState,
  type L0ConnectionEvent,
  type L0ConnectionStateName,
} from '../../../main/l0-connection-lifecycle';
import { nextStreamRelayState, STREAM_RELAY_EVENTS, STREAM_RELAY_STATES, type StreamRelayEvent, type StreamRelayState } from '../../../main/stream-relay-lifecycle';

/** Checks a whole table against `expected` (a missing pair must be refused). */
function checkTable<S extends string, E extends string>(
  states: readonly S[],
  events: readonly E[],
  next: (state: S, event: E) => S | null,
  expected: { readonly [K in S]: { readonly [F in E]?: S } },
): void {
  for (const state of states) {
    for (const event of events) {
      assert.equal(next(state, event), expected[state][event] ?? null, `"${event}" in state "${state}"`);
    }
  }
}

describe('stream relay transition table', { timeout: 10_000 }, () => {
  it('allows exactly these transitions and refuses every other state × event pair', () => {
    const ends = { 'viewer-close': 'closed', 'viewer-gone': 'closed', 'viewer-broke-protocol': 'closed', close: 'closed', 'internal-error': 'closed' } as const;
    const expected: { readonly [S in StreamRelayState]: { readonly [E in StreamRelayEvent]?: StreamRelayState } } = {
      connecting: { ...ends, 'viewer-data': 'connecting', 'viewer-ack': 'connecting', connected: 'open', 'connect-failed': 'closed' },
      open: {
        ...ends,
        'viewer-data': 'open',
        'viewer-ack': 'open',
        'server-data': 'open',
        'server-ended': 'draining',
        'server-error': 'closed',
        'server-closed': 'closed',
        'server-stalled': 'closed',
        input: 'open',
      },
      draining: {
        ...ends,
        'viewer-data': 'draining',
        'viewer-ack': 'draining',
        drained: 'closed',
        'drain-timeout': 'closed',
        'server-error': 'closed',
        'server-closed': 'draining',
        'server-stalled': 'closed',
        input: 'draining',
      },
      closed: { 'viewer-gone': 'closed', 'server-closed': 'closed', 'connect-failed': 'closed', close: 'closed' },
    };
    checkTable(STREAM_RELAY_STATES, STREAM_RELAY_EVENTS, nextStreamRelayState, expected);
  });

  it('lists every state and event once', () => {
    assert.equal(new Set(STREAM_RELAY_STATES).size, 4);
    assert.equal(new Set(STREAM_RELAY_EVENTS).size, STREAM_RELAY_EVENTS.length);
  });

  it('never leaves closed, and every live state can reach closed', () => {
    for (const event of STREAM_RELAY_EVENTS) assert.ok([null, 'closed'].includes(nextStreamRelayState('closed', event)), event);
    for (const state of STREAM_RELAY_STATES) assert.equal(nextStreamRelayState(state, 'close'), 'closed', state);
  });
});

describe('L0 connection transition table', { timeout: 10_000 }, () => {
  it('allows exactly these transitions and refuses every other state × event pair', () => {
    const expected: { readonly [S in L0ConnectionStateName]: { readonly [E in L0ConnectionEvent]?: L0ConnectionStateName } } = {
      idle: { use: 'connecting', close: 'closed' },
      connecting: { use: 'connecting', 'handshake-ready': 'ready', 'connect-failed': 'idle', close: 'closed' },
      ready: { use: 'ready', dropped: 'idle', 'idle-timeout': 'idle', close: 'closed' },
      closed: { 'connect-failed': 'closed', close: 'closed' },
    };
    checkTable(L0_CONNECTION_STATES, L0_CONNECTION_EVENTS, nextL0ConnectionState, expected);
  });

  it('never leaves closed', () => {
    for (const event of L0_CONNECTION_EVENTS) assert.ok([null, 'closed'].includes(nextL0ConnectionState('closed', event)), event);
  });
});
