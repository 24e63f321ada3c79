// The back end's side of the UI's one input channel: each frame (common/input/input-frame.ts) is
// checked whole, then its targets' RFB bytes are written to their streams' server sockets in one
// synchronous loop. Plus the UI-side endpoint interface both shells implement and its `ws` form. Node-side.

import { WebSocket, type RawData } from 'ws';
import type { InputChannelControl } from '../common/contract';
import { MAX_INPUT_FRAME_BYTES, parseInputFrame } from '../common/input/input-frame';
import type { Logger } from './logger';
import type { StreamRelay } from './stream-relay';

/** The UI side of an input channel as a shell carries it (a `ws` WebSocket, an Electron MessagePort). */
export interface InputChannelEndpoint {
  /** Binary frames from the UI (anything else but a sync already made the endpoint close itself). */
  onFrame(listener: (frame: Uint8Array) => void): void;
  /** The UI asks to hear `synced` once every earlier frame is written. */
  onSync(listener: (token: number) => void): void;
  sendSynced(token: number): void;
  /** The UI side is gone (also fired, soon, for a listener added after it closed). */
  onClose(listener: () => void): void;
  /**
   * Closes the channel, telling the UI why where the transport can; `refused` when the UI broke the
   * protocol. Safe to call more than once.
   */
  close(reason: string, refused: boolean): void;
}

/** What an input channel may write to: the open streams this back end attached, by id. */
export type InputStreamLookup = (streamId: string) => StreamRelay | undefined;

/** What one input channel did (logged when it closes; tests read it). */
export interface InputChannelCounters {
  frames: number;
  /** Targets written to an open stream. */
  written: number;
  /** Targets naming a stream that is not attached or no longer open: nothing written. */
  dropped: number;
}

/**
 * Serves one input channel: a frame is parsed whole before anything is written (a malformed frame
 * closes the channel and writes nothing); each target goes to its stream's server socket in one write
 * (relay.writeInput: upstream limit and closed state honoured), all targets in one synchronous loop.
 * A target naming an unknown, foreign or finished stream gets nothing; the others still do.
 */
export function serveInputChannel(endpoint: InputChannelEndpoint, streamOf: InputStreamLookup, logger: Logger): InputChannelCounters {
  const counters: InputChannelCounters = { frames: 0, written: 0, dropped: 0 };
  let closed = false;
  endpoint.onFrame((frame) => {
    if (closed) return;
    const parsed = parseInputFrame(frame);
    if (!parsed.ok) {
      closed = true;
      logger.warn('closing the input channel: malformed frame', { problem: parsed.reason });
      endpoint.close(`the back end refused an input frame: ${parsed.reason}`, true);
      return;
    }
    counters.frames++;
    // Streams are looked up before the first write and nothing else runs between two writes: the
    // loop's length is the skew between the first and the last replica (on loopback each write also
    // runs the receiver's side of TCP, ~10–50 µs).
    const writes = parsed.targets.map(({ streamId, bytes }) => ({ relay: streamOf(streamId), bytes }));
    let dropped = 0;
    for (const { relay, bytes } of writes) {
      if (relay?.writeInput(bytes) === true) counters.written++;
      else dropped++;
    }
    if (dropped > 0) {
      counters.dropped += dropped;
      // A stream that ended a moment ago is the usual cause; ids are secrets, so one that was never
      // attached here is indistinguishable (and gets nothing either).
      logger.debug('input for a stream that is not open was dropped', { targets: dropped });
    }
  });
  // Frames are written as they arrive, in order: by the time a sync arrives, all earlier ones are.
  endpoint.onSync((token) => {
    if (!closed) endpoint.sendSynced(token);
  });
  endpoint.onClose(() => {
    closed = true;
    logger.info('input channel closed', { ...counters });
  });
  return counters;
}

/** Longest text frame accepted on the input channel (a sync request). */
const MAX_INPUT_CONTROL_CHARS = 256;

/** Checks an untrusted control message from the UI: only a sync request, with a safe integer token. */
export function parseInputSync(input: unknown): number | null {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return null;
  const message = input as Record<string, unknown>;
  return message.type === 'sync' && typeof message.token === 'number' && Number.isSafeInteger(message.token) && message.token >= 0 ? message.token : null;
}

// WebSocket close codes (RFC 6455 §7.4.1).
const WS_NORMAL_CLOSURE = 1000;
const WS_UNSUPPORTED_DATA = 1003;
const WS_POLICY_VIOLATION = 1008;
/** A WebSocket close reason is at most 123 bytes of UTF-8. */
const MAX_WS_CLOSE_REASON_BYTES = 123;

function rawDataBytes(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/**
 * An InputChannelEndpoint over a server-side `ws` WebSocket: binary frames carry input, text frames
 * JSON InputChannelControl (a sync; anything else closes it, 1003). The socket's own maxPayload
 * should be MAX_INPUT_FRAME_BYTES, checked here again.
 */
export function wsInputChannelEndpoint(socket: WebSocket, logger?: Logger): InputChannelEndpoint {
  const frameListeners = new Set<(frame: Uint8Array) => void>();
  const syncListeners = new Set<(token: number) => void>();
  const closeListeners = new Set<() => void>();
  let closed = socket.readyState === WebSocket.CLOSING || socket.readyState === WebSocket.CLOSED;
  socket.binaryType = 'nodebuffer';

  const closeSocket = (code: number, reason: string): void => {
    if (socket.readyState !== WebSocket.OPEN && socket.readyState !== WebSocket.CONNECTING) return;
    socket.close(code, Buffer.from(reason, 'utf8').subarray(0, MAX_WS_CLOSE_REASON_BYTES).toString('utf8').replace(/\uFFFD$/, ''));
  };

  socket.on('message', (data: RawData, isBinary: boolean) => {
    if (closed) return;
    const bytes = rawDataBytes(data);
    if (isBinary && bytes.length <= MAX_INPUT_FRAME_BYTES) {
      for (const listener of frameListeners) listener(bytes);
      return;
    }
    let token: number | null = null;
    if (!isBinary && bytes.length <= MAX_INPUT_CONTROL_CHARS) {
      try {
        token = parseInputSync(JSON.parse(bytes.toString('utf8')));
      } catch {
        token = null;
      }
    }
    if (token === null) {
      logger?.warn('closing the input channel: neither an input frame nor a sync');
      closeSocket(WS_UNSUPPORTED_DATA, 'not an input frame');
      return;
    }
    for (const listener of syncListeners) listener(token);
  });
  // ws emits 'close' after 'error'; the listener keeps an error from crashing the process.
  socket.on('error', (error: Error) => logger?.warn('input channel socket error', { error }));
  socket.on('close', () => {
    if (closed) return;
    closed = true;
    for (const listener of closeListeners) listener();
  });
  return {
    onFrame(listener) {
      frameListeners.add(listener);
    },
    onSync(listener) {
      syncListeners.add(listener);
    },
    sendSynced(token) {
      const control: InputChannelControl = { type: 'synced', token };
      if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(control), { binary: false });
    },
    onClose(listener) {
      if (closed) queueMicrotask(listener);
      else closeListeners.add(listener);
    },
    close(reason, refused) {
      closeSocket(refused ? WS_POLICY_VIOLATION : WS_NORMAL_CLOSURE, reason);
    },
  };
}
