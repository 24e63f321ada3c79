// One server-side `ws` WebSocket as the UI side of a stream or of the input channel: binary frames
// are data (size-bounded, handed on as they arrive), text frames are JSON control messages checked by
// one parser of common/wire-control.ts. What both `ws` endpoints share lives here. Node-side.

import { WebSocket, type RawData } from 'ws';
import { MAX_CONTROL_FRAME_CHARS, parseControlText, type ControlParser } from '../common/wire-control';
import type { Logger } from './logger';

// WebSocket close codes (RFC 6455 §7.4.1).
export const WS_NORMAL_CLOSURE = 1000;
export const WS_POLICY_VIOLATION = 1008;
export const WS_MESSAGE_TOO_BIG = 1009;
/** A WebSocket close reason is at most 123 bytes of UTF-8. */
export const MAX_WS_CLOSE_REASON_BYTES = 123;
/** UTF-8 takes at most three bytes per UTF-16 code unit: a text frame larger than this is too long before decoding. */
const MAX_CONTROL_FRAME_BYTES = MAX_CONTROL_FRAME_CHARS * 3;

/** `reason` cut to MAX_WS_CLOSE_REASON_BYTES of UTF-8 without splitting a character. */
export function clipWsCloseReason(reason: string): string {
  const bytes = Buffer.from(reason, 'utf8');
  if (bytes.length <= MAX_WS_CLOSE_REASON_BYTES) return reason;
  let end = MAX_WS_CLOSE_REASON_BYTES;
  // Back up over continuation bytes (10xxxxxx) to the start of the character that did not fit.
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8');
}

/** The bytes of a `ws` message, without a copy when it is one Buffer (the usual case). */
function rawDataBytes(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

function rawDataSize(data: RawData): number {
  return Array.isArray(data) ? data.reduce((sum, part) => sum + part.length, 0) : data.byteLength;
}

/** Options of wsEndpoint. */
export interface WsEndpointOptions<Control> {
  /** What the socket carries, for log lines and close reasons ("stream", "input channel"). */
  readonly what: string;
  /** Largest binary frame accepted; a larger one closes the socket (1009). */
  readonly maxBinaryBytes: number;
  /** The parser of what the UI may send on this socket (common/wire-control.ts). */
  readonly parseControl: ControlParser<Control>;
  /** The close reason when that parser refuses a text frame. */
  readonly refusedControlReason: string;
  readonly logger?: Logger;
}

/** A `ws` WebSocket seen as binary data plus checked control messages. */
export interface WsEndpoint<Control> {
  /** A binary frame from the UI (at most maxBinaryBytes; a view, never copied). */
  readonly onBinary: (listener: (bytes: Buffer) => void) => void;
  /** A text frame from the UI that its parser accepted. */
  readonly onControl: (listener: (control: Control) => void) => void;
  /** The socket closed (fired once; soon for a listener added after that). */
  readonly onClose: (listener: () => void) => void;
  readonly sendBinary: (bytes: Uint8Array) => void;
  readonly sendControl: (control: object) => void;
  /** Closes with `code` and `reason` (clipped to a WebSocket close reason); nothing once closing. */
  readonly close: (code: number, reason: string) => void;
}

/**
 * Wraps a server-side `ws` WebSocket: a binary frame over the bound closes it (1009), a text frame
 * that is too long, not JSON, or not a message the UI may send closes it as a policy violation
 * (1008), with a warning in the log. Either way only this socket ends.
 */
export function wsEndpoint<Control>(socket: WebSocket, options: WsEndpointOptions<Control>): WsEndpoint<Control> {
  const { what, maxBinaryBytes, parseControl, refusedControlReason, logger } = options;
  const binaryListeners: ((bytes: Buffer) => void)[] = [];
  const controlListeners: ((control: Control) => void)[] = [];
  const closeListeners: (() => void)[] = [];
  let closed = socket.readyState === WebSocket.CLOSING || socket.readyState === WebSocket.CLOSED;
  socket.binaryType = 'nodebuffer';

  const close = (code: number, reason: string): void => {
    if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) socket.close(code, clipWsCloseReason(reason));
  };
  const refuse = (code: number, reason: string, problem: string): void => {
    logger?.warn(`closing a ${what} socket`, { reason, problem });
    close(code, reason);
  };

  socket.on('message', (data: RawData, isBinary: boolean) => {
    // Once closing (refused, or closed by the back end) nothing more is handed on: frames the UI sent
    // before it saw the close frame are dropped with the socket.
    if (closed || socket.readyState !== WebSocket.OPEN) return;
    if (isBinary) {
      const bytes = rawDataBytes(data);
      if (bytes.length > maxBinaryBytes) {
        refuse(WS_MESSAGE_TOO_BIG, `${what} frame too large`, `${bytes.length} bytes; at most ${maxBinaryBytes}`);
        return;
      }
      for (const listener of binaryListeners) listener(bytes);
      return;
    }
    const size = rawDataSize(data);
    const parsed =
      size > MAX_CONTROL_FRAME_BYTES
        ? { ok: false as const, problem: `a control frame of ${size} bytes` }
        : parseControlText(rawDataBytes(data).toString('utf8'), parseControl);
    if (!parsed.ok) {
      refuse(WS_POLICY_VIOLATION, refusedControlReason, parsed.problem);
      return;
    }
    for (const listener of controlListeners) listener(parsed.message);
  });
  // ws emits 'close' after 'error'; the listener keeps an error from crashing the process.
  socket.on('error', (error: Error) => logger?.warn(`${what} socket error`, { error }));
  socket.on('close', () => {
    if (closed) return;
    closed = true;
    for (const listener of closeListeners) listener();
  });

  return {
    onBinary: (listener) => void binaryListeners.push(listener),
    onControl: (listener) => void controlListeners.push(listener),
    onClose(listener) {
      if (closed) queueMicrotask(listener);
      else closeListeners.push(listener);
    },
    sendBinary(bytes) {
      if (socket.readyState === WebSocket.OPEN) socket.send(bytes, { binary: true });
    },
    sendControl(control) {
      if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(control), { binary: false });
    },
    close,
  };
}
