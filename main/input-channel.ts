// The back end's side of the UI's one input channel: each frame (common/input/input-frame.ts) is
// checked whole, then its targets' RFB bytes are written to their streams' server sockets in one
// synchronous loop. Plus the UI-side endpoint interface both shells implement and its `ws` form. Node-side.

import type { WebSocket } from 'ws';
import type { InputChannelControlFromBackend } from '../common/contract';
import { MAX_INPUT_FRAME_BYTES, parseInputFrame } from '../common/input/input-frame';
import { parseInputChannelControlFromUi, REFUSED_INPUT_CONTROL_REASON } from '../common/wire-control';
import type { Logger } from './logger';
import type { StreamRelay } from './stream-relay';
import { wsEndpoint, WS_NORMAL_CLOSURE, WS_POLICY_VIOLATION } from './ws-endpoint';

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

/**
 * An InputChannelEndpoint over a server-side `ws` WebSocket (main/ws-endpoint.ts): binary frames
 * carry input, text frames a JSON sync (common/wire-control.ts); anything else closes it (1008, or
 * 1009 for a frame over MAX_INPUT_FRAME_BYTES). The socket's own maxPayload should be
 * MAX_INPUT_FRAME_BYTES too.
 */
export function wsInputChannelEndpoint(socket: WebSocket, logger?: Logger): InputChannelEndpoint {
  const endpoint = wsEndpoint(socket, {
    what: 'input channel',
    maxBinaryBytes: MAX_INPUT_FRAME_BYTES,
    parseControl: parseInputChannelControlFromUi,
    refusedControlReason: REFUSED_INPUT_CONTROL_REASON,
    ...(logger ? { logger } : {}),
  });
  return {
    onFrame: endpoint.onBinary,
    onSync: (listener) => endpoint.onControl((control) => listener(control.token)),
    sendSynced(token) {
      const control: InputChannelControlFromBackend = { type: 'synced', token };
      endpoint.sendControl(control);
    },
    onClose: endpoint.onClose,
    close: (reason, refused) => endpoint.close(refused ? WS_POLICY_VIOLATION : WS_NORMAL_CLOSURE, reason),
  };
}
