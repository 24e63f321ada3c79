// The lifecycle of one shared SSH connection to an L0 (L0Connection in main/ssh-l0.ts) as a
// transition table over its state names. Pure; the connection keeps each state's data (the attempt
// in progress, the authenticated client) in a discriminated union next to it.

/**
 * - idle: no connection (never connected, dropped, or closed for being idle); the next use connects.
 * - connecting: one connect attempt that every concurrent user shares.
 * - ready: an authenticated client that every user shares.
 * - closed: refuses every use, for good.
 */
export type L0ConnectionStateName = 'idle' | 'connecting' | 'ready' | 'closed';

export type L0ConnectionEvent =
  /** A tunnel or a command needs the client. */
  | 'use'
  /** A handshake authenticated with the pinned host key: its client becomes the shared one. */
  | 'handshake-ready'
  /** The connect attempt failed (its error goes to every waiting user). */
  | 'connect-failed'
  /** The shared client's connection closed. */
  | 'dropped'
  /** No channel was open for the idle time: the client is ended. */
  | 'idle-timeout'
  /** The connection is closed for good (its pool is shutting down). */
  | 'close';

export const L0_CONNECTION_STATES: readonly L0ConnectionStateName[] = ['idle', 'connecting', 'ready', 'closed'];
export const L0_CONNECTION_EVENTS: readonly L0ConnectionEvent[] = ['use', 'handshake-ready', 'connect-failed', 'dropped', 'idle-timeout', 'close'];

/** The table: an event missing from a state's row is refused in that state. */
export const L0_CONNECTION_TRANSITIONS: { readonly [S in L0ConnectionStateName]: { readonly [E in L0ConnectionEvent]?: L0ConnectionStateName } } = {
  idle: { use: 'connecting', close: 'closed' },
  connecting: { use: 'connecting', 'handshake-ready': 'ready', 'connect-failed': 'idle', close: 'closed' },
  ready: { use: 'ready', dropped: 'idle', 'idle-timeout': 'idle', close: 'closed' },
  // An attempt that was under way when the connection closed still ends (close() waits for it);
  // closing twice is allowed. Using it, or a handshake completing after the close, is refused.
  closed: { 'connect-failed': 'closed', close: 'closed' },
};

/** The state `event` leads to from `state`, or null when the table refuses it there. */
export function nextL0ConnectionState(state: L0ConnectionStateName, event: L0ConnectionEvent): L0ConnectionStateName | null {
  return L0_CONNECTION_TRANSITIONS[state][event] ?? null;
}
