// The lifecycle of one stream relay (main/stream-relay.ts) as a transition table: which event may
// happen in which state, and the state it leads to. Pure, and allocation-free on the data path
// (states and events are strings), since every data frame goes through it.

/**
 * - connecting: the VNC server is being reached; UI bytes are queued.
 * - open: bytes flow both ways.
 * - draining: the server ended its side; bytes still held for the UI are delivered, for a bounded time.
 * - closed: the stream is over (its reason was sent to the UI where it could be).
 */
export type StreamRelayState = 'connecting' | 'open' | 'draining' | 'closed';

/** Everything that happens to a relay, from the UI, the server socket, the input channel or a timer. */
export type StreamRelayEvent =
  /** A data frame from the UI. */
  | 'viewer-data'
  /** The UI acknowledged bytes. */
  | 'viewer-ack'
  /** The UI asked to close the stream. */
  | 'viewer-close'
  /** The UI side is gone (its socket or port closed). */
  | 'viewer-gone'
  /** The UI broke the protocol (a frame over the bound, too much before open, an ack of more than was sent). */
  | 'viewer-broke-protocol'
  | 'connected'
  | 'connect-failed'
  /** Bytes from the server. */
  | 'server-data'
  /** The server ended its side of the connection. */
  | 'server-ended'
  /** Everything held for the UI after the server ended has been sent. */
  | 'drained'
  /** The UI did not read the server's last bytes in time. */
  | 'drain-timeout'
  | 'server-error'
  | 'server-closed'
  /** The server stopped reading and the upstream queue overflowed. */
  | 'server-stalled'
  /** Input from the input channel, to be written to the server. */
  | 'input'
  /** The back end closes the stream (StreamRelay.close). */
  | 'close'
  /** A callback threw. */
  | 'internal-error';

export const STREAM_RELAY_STATES: readonly StreamRelayState[] = ['connecting', 'open', 'draining', 'closed'];
export const STREAM_RELAY_EVENTS: readonly StreamRelayEvent[] = [
  'viewer-data',
  'viewer-ack',
  'viewer-close',
  'viewer-gone',
  'viewer-broke-protocol',
  'connected',
  'connect-failed',
  'server-data',
  'server-ended',
  'drained',
  'drain-timeout',
  'server-error',
  'server-closed',
  'server-stalled',
  'input',
  'close',
  'internal-error',
];

/** Events that end the stream from any state that is not closed yet. */
const ENDINGS = {
  'viewer-close': 'closed',
  'viewer-gone': 'closed',
  'viewer-broke-protocol': 'closed',
  close: 'closed',
  'internal-error': 'closed',
} as const;

/** The table: an event missing from a state's row is refused in that state. */
export const STREAM_RELAY_TRANSITIONS: { readonly [S in StreamRelayState]: { readonly [E in StreamRelayEvent]?: StreamRelayState } } = {
  connecting: {
    ...ENDINGS,
    'viewer-data': 'connecting',
    // Nothing was sent yet: an ack of more than 0 bytes is then a protocol breach, found by the relay.
    'viewer-ack': 'connecting',
    connected: 'open',
    'connect-failed': 'closed',
  },
  open: {
    ...ENDINGS,
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
    ...ENDINGS,
    'viewer-data': 'draining',
    'viewer-ack': 'draining',
    drained: 'closed',
    'drain-timeout': 'closed',
    'server-error': 'closed',
    // The socket may close fully before the UI has read the last bytes: keep delivering them.
    'server-closed': 'draining',
    'server-stalled': 'closed',
    input: 'draining',
  },
  closed: {
    // What closing causes by itself: the UI side's close, the destroyed socket's close, the aborted
    // connect's failure, and a second close() (documented as safe).
    'viewer-gone': 'closed',
    'server-closed': 'closed',
    'connect-failed': 'closed',
    close: 'closed',
  },
};

/** The state `event` leads to from `state`, or null when the table refuses it there. */
export function nextStreamRelayState(state: StreamRelayState, event: StreamRelayEvent): StreamRelayState | null {
  return STREAM_RELAY_TRANSITIONS[state][event] ?? null;
}
