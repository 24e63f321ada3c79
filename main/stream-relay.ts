// Relays bytes between a VNC server socket and the UI side of a replica stream with the flow control
// of common/contract.ts (a bounded window toward the UI, a bounded queue toward the server), plus the
// UI-side endpoint interface both shells implement and its `ws` implementation. Node-side.

import type { Duplex } from 'node:stream';
import { WebSocket, type RawData } from 'ws';
import {
  MAX_STREAM_FRAME_BYTES,
  STREAM_UPSTREAM_LIMIT_BYTES,
  STREAM_WINDOW_BYTES,
  type StreamControl,
} from '../common/contract';
import { errorMessage, type Logger } from './logger';

/** Longest control frame accepted from the UI (an ack or a close with a short reason). */
export const MAX_CONTROL_FRAME_CHARS = 2048;
/** Longest close reason accepted from the UI. */
const MAX_CLOSE_REASON_CHARS = 1024;
/** After the server ends, bytes still held for the UI are delivered for at most this long. */
export const DRAIN_AFTER_END_TIMEOUT_MS = 30_000;

/**
 * The UI side of one replica stream, as a shell carries it (the browser shell: a `ws` WebSocket with
 * binary frames for data and text frames for JSON StreamControl; Electron: a MessagePortMain with
 * Uint8Array data and StreamControl objects).
 */
export interface StreamEndpoint {
  /**
   * Bytes toward the UI (server → RFB client). `bytes` may be a view into a larger buffer: an
   * endpoint that posts it elsewhere must send only this view's range.
   */
  sendData(bytes: Uint8Array): void;
  sendControl(control: StreamControl): void;
  /** Closes the UI side; onClose listeners fire. Safe to call more than once. */
  close(): void;
  /** Bytes from the UI (RFB client → server). */
  onData(listener: (bytes: Uint8Array) => void): void;
  /** Acknowledgements (and a possible close request) from the UI, already validated. */
  onControl(listener: (control: StreamControl) => void): void;
  /** The UI side is gone (also fired, soon, for a listener added after it closed). */
  onClose(listener: () => void): void;
}

/** Checks an untrusted control message (parsed JSON or a posted object); null when malformed. */
export function parseStreamControl(input: unknown): StreamControl | null {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return null;
  const message = input as Record<string, unknown>;
  switch (message.type) {
    case 'ack':
      return typeof message.bytes === 'number' && Number.isSafeInteger(message.bytes) && message.bytes >= 0
        ? { type: 'ack', bytes: message.bytes }
        : null;
    case 'open':
      return { type: 'open' };
    case 'close':
      return typeof message.reason === 'string' && message.reason.length <= MAX_CLOSE_REASON_CHARS
        ? { type: 'close', reason: message.reason }
        : null;
    default:
      return null;
  }
}

/** Options of wsStreamEndpoint. */
export interface WsStreamEndpointOptions {
  /** Largest binary frame accepted from the UI. Default MAX_STREAM_FRAME_BYTES. */
  readonly maxFrameBytes?: number;
  readonly logger?: Logger;
}

// WebSocket close codes (RFC 6455 §7.4.1).
const WS_NORMAL_CLOSURE = 1000;
const WS_POLICY_VIOLATION = 1008;
const WS_MESSAGE_TOO_BIG = 1009;

function rawDataBytes(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/**
 * A StreamEndpoint over a server-side `ws` WebSocket: binary frames carry data, text frames carry
 * JSON StreamControl. A malformed or oversized frame closes the socket (1008/1009), which ends only
 * this stream.
 */
export function wsStreamEndpoint(socket: WebSocket, options: WsStreamEndpointOptions = {}): StreamEndpoint {
  const maxFrameBytes = options.maxFrameBytes ?? MAX_STREAM_FRAME_BYTES;
  const dataListeners = new Set<(bytes: Uint8Array) => void>();
  const controlListeners = new Set<(control: StreamControl) => void>();
  const closeListeners = new Set<() => void>();
  let closed = socket.readyState === WebSocket.CLOSING || socket.readyState === WebSocket.CLOSED;
  socket.binaryType = 'nodebuffer';

  const refuse = (code: number, reason: string): void => {
    options.logger?.warn('closing a stream socket', { reason });
    if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) socket.close(code, reason);
  };

  socket.on('message', (data: RawData, isBinary: boolean) => {
    if (closed) return;
    if (isBinary) {
      const bytes = rawDataBytes(data);
      if (bytes.length > maxFrameBytes) {
        refuse(WS_MESSAGE_TOO_BIG, 'stream frame too large');
        return;
      }
      for (const listener of dataListeners) listener(bytes);
      return;
    }
    const size = Array.isArray(data) ? data.reduce((sum, part) => sum + part.length, 0) : data.byteLength;
    // UTF-8 takes at least one byte per character: the byte size bounds the text size.
    if (size > MAX_CONTROL_FRAME_CHARS * 4) {
      refuse(WS_POLICY_VIOLATION, 'malformed stream control frame');
      return;
    }
    const text = rawDataBytes(data).toString('utf8');
    let parsed: unknown;
    try {
      parsed = text.length > MAX_CONTROL_FRAME_CHARS ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const control = parseStreamControl(parsed);
    if (control === null) {
      refuse(WS_POLICY_VIOLATION, 'malformed stream control frame');
      return;
    }
    for (const listener of controlListeners) listener(control);
  });
  // ws emits 'close' after 'error'; the listener keeps an error from crashing the process.
  socket.on('error', (error: Error) => {
    options.logger?.warn('stream socket error', { error });
  });
  socket.on('close', () => {
    if (closed) return;
    closed = true;
    for (const listener of closeListeners) listener();
  });

  return {
    sendData(bytes) {
      if (socket.readyState === WebSocket.OPEN) socket.send(bytes, { binary: true });
    },
    sendControl(control) {
      if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(control), { binary: false });
    },
    close() {
      if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) socket.close(WS_NORMAL_CLOSURE);
    },
    onData(listener) {
      dataListeners.add(listener);
    },
    onControl(listener) {
      controlListeners.add(listener);
    },
    onClose(listener) {
      if (closed) queueMicrotask(listener);
      else closeListeners.add(listener);
    },
  };
}

/** Options of startStreamRelay (the defaults are the contract's constants). */
export interface StreamRelayOptions {
  readonly logger: Logger;
  /** Bytes toward the UI not yet acknowledged, at most. Default STREAM_WINDOW_BYTES. */
  readonly windowBytes?: number;
  /** Largest data frame sent to (and accepted from) the UI. Default MAX_STREAM_FRAME_BYTES. */
  readonly maxFrameBytes?: number;
  /** Bytes queued toward a server that is not reading before the stream is closed. Default STREAM_UPSTREAM_LIMIT_BYTES. */
  readonly upstreamLimitBytes?: number;
  /** How long bytes still held for the UI are kept after the server ended. Default DRAIN_AFTER_END_TIMEOUT_MS. */
  readonly drainAfterEndMs?: number;
}

/** A running relay. */
export interface StreamRelay {
  /** Resolves with the reason the stream ended, once the server socket is destroyed. */
  readonly done: Promise<string>;
  /** Ends the stream: the UI gets `{type:'close', reason}`, then both sides are closed. */
  close(reason: string): void;
  /**
   * Writes input from the input channel (whole RFB messages) to the server socket in one write. The
   * UI's own frames are written whole too, so the two interleave only at message boundaries. The
   * upstream limit applies; returns false, writing nothing, unless the server is reached and the
   * stream is open.
   */
  writeInput(bytes: Uint8Array): boolean;
}

/**
 * Connects (through `connect`) and relays one stream. The UI gets `{type:'open'}` once the server is
 * reached, then data frames of at most maxFrameBytes, never more than windowBytes unacknowledged (the
 * server socket is paused meanwhile); it gets `{type:'close', reason}` before the endpoint is closed
 * when the server ends, fails or stops reading. Everything that goes wrong ends only this stream.
 */
export function startStreamRelay(
  endpoint: StreamEndpoint,
  connect: (signal: AbortSignal) => Promise<Duplex>,
  options: StreamRelayOptions,
): StreamRelay {
  const logger = options.logger;
  const windowBytes = options.windowBytes ?? STREAM_WINDOW_BYTES;
  const maxFrameBytes = options.maxFrameBytes ?? MAX_STREAM_FRAME_BYTES;
  const upstreamLimitBytes = options.upstreamLimitBytes ?? STREAM_UPSTREAM_LIMIT_BYTES;
  const drainAfterEndMs = options.drainAfterEndMs ?? DRAIN_AFTER_END_TIMEOUT_MS;

  const abort = new AbortController();
  let phase: 'connecting' | 'open' | 'closed' = 'connecting';
  let socket: Duplex | null = null;
  /** Bytes sent to the UI and not yet acknowledged. */
  let inFlight = 0;
  /** Server bytes read but not yet sent to the UI (the window was full). */
  const held: Uint8Array[] = [];
  /** UI bytes that arrived before the server connection was up. */
  const early: Uint8Array[] = [];
  let earlyBytes = 0;
  let serverEnded = false;
  let drainTimer: NodeJS.Timeout | null = null;
  let bytesDown = 0;
  let bytesUp = 0;
  let resolveDone: (reason: string) => void = () => undefined;
  const done = new Promise<string>((resolve) => {
    resolveDone = resolve;
  });

  function finish(reason: string, notifyEndpoint: boolean): void {
    if (phase === 'closed') return;
    phase = 'closed';
    abort.abort();
    if (drainTimer) clearTimeout(drainTimer);
    held.length = 0;
    early.length = 0;
    socket?.destroy();
    if (notifyEndpoint) {
      try {
        endpoint.sendControl({ type: 'close', reason });
        endpoint.close();
      } catch (error) {
        logger.debug('the stream endpoint failed while closing', { error });
      }
    }
    logger.info('stream closed', { reason, bytesDown, bytesUp });
    resolveDone(reason);
  }

  /** Runs a callback; an exception ends this stream only, never the process. */
  function guarded<Args extends unknown[]>(callback: (...args: Args) => void): (...args: Args) => void {
    return (...args: Args) => {
      try {
        callback(...args);
      } catch (error) {
        logger.error('stream relay failure', { error });
        finish(`internal error: ${errorMessage(error)}`, true);
      }
    };
  }

  /** Sends as much of `chunk` as the window allows; returns what is left (empty when all went). */
  function deliver(chunk: Uint8Array): Uint8Array {
    let offset = 0;
    while (offset < chunk.length && phase !== 'closed') {
      const room = windowBytes - inFlight;
      if (room <= 0) break;
      const size = Math.min(room, maxFrameBytes, chunk.length - offset);
      inFlight += size;
      bytesDown += size;
      endpoint.sendData(chunk.subarray(offset, offset + size));
      offset += size;
    }
    return chunk.subarray(offset);
  }

  function flushHeld(): void {
    while (held.length > 0 && inFlight < windowBytes && phase !== 'closed') {
      const rest = deliver(held[0]!);
      if (rest.length > 0) held[0] = rest;
      else held.shift();
    }
    if (phase === 'closed') return;
    if (held.length === 0 && serverEnded) {
      finish('the VNC server closed the connection', true);
      return;
    }
    if (held.length === 0 && inFlight < windowBytes && socket?.isPaused()) socket.resume();
  }

  const onServerData = guarded((chunk: Buffer) => {
    if (phase !== 'open') return;
    if (held.length > 0) held.push(chunk);
    else {
      const rest = deliver(chunk);
      if (rest.length > 0) held.push(rest);
    }
    if (held.length > 0 || inFlight >= windowBytes) socket?.pause();
  });

  function writeUpstream(bytes: Uint8Array): void {
    if (!socket) return;
    bytesUp += bytes.length;
    socket.write(bytes);
    if (socket.writableLength > upstreamLimitBytes) {
      const queuedMiB = (socket.writableLength / (1024 * 1024)).toFixed(1);
      logger.warn('VNC server stopped reading; closing its stream', { queuedBytes: socket.writableLength });
      finish(`the VNC server stopped reading: ${queuedMiB} MiB of input is waiting for it`, true);
    }
  }

  endpoint.onData(
    guarded((bytes: Uint8Array) => {
      if (phase === 'closed') return;
      if (bytes.length > maxFrameBytes) {
        finish(`the viewer sent a ${bytes.length}-byte frame; at most ${maxFrameBytes} are allowed`, true);
        return;
      }
      if (phase === 'connecting') {
        earlyBytes += bytes.length;
        if (earlyBytes > upstreamLimitBytes) {
          finish('the viewer sent too much before the VNC server was reached', true);
          return;
        }
        early.push(bytes);
        return;
      }
      writeUpstream(bytes);
    }),
  );

  endpoint.onControl(
    guarded((control: StreamControl) => {
      if (phase === 'closed') return;
      switch (control.type) {
        case 'ack':
          if (control.bytes > inFlight) {
            finish(`the viewer acknowledged ${control.bytes} bytes but only ${inFlight} were unacknowledged`, true);
            return;
          }
          inFlight -= control.bytes;
          flushHeld();
          return;
        case 'close':
          finish(control.reason.length > 0 ? control.reason : 'the viewer closed the stream', true);
          return;
        case 'open':
          // Only the back end opens streams; a UI that says so is ignored.
          return;
      }
    }),
  );

  endpoint.onClose(() => finish('the viewer closed the stream', false));

  const onConnected = guarded((connected: Duplex) => {
    if (phase === 'closed') {
      connected.destroy();
      return;
    }
    socket = connected;
    phase = 'open';
    connected.on(
      'error',
      guarded((error: Error & { code?: string }) => {
        const reason =
          error.code === 'ECONNRESET' ? 'the VNC server reset the connection' : `the connection to the VNC server failed: ${error.message}`;
        finish(reason, true);
      }),
    );
    connected.on(
      'end',
      guarded(() => {
        serverEnded = true;
        if (held.length === 0) {
          finish('the VNC server closed the connection', true);
          return;
        }
        // Deliver what the server sent last (e.g. its reason for refusing), for a bounded time.
        drainTimer = setTimeout(() => finish('the VNC server closed the connection (the viewer did not read its last bytes)', true), drainAfterEndMs);
        drainTimer.unref();
      }),
    );
    connected.on(
      'close',
      guarded(() => {
        if (serverEnded && held.length > 0) return;
        finish('the connection to the VNC server closed', true);
      }),
    );
    endpoint.sendControl({ type: 'open' });
    logger.info('stream open');
    for (const bytes of early.splice(0)) writeUpstream(bytes);
    if (phase !== 'open') return;
    connected.on('data', onServerData);
  });

  const onConnectFailed = (error: unknown): void => {
    logger.info('cannot reach the VNC server', { error });
    finish(errorMessage(error), true);
  };

  // Through a promise chain, so even a connect function that throws synchronously ends only this stream.
  Promise.resolve(abort.signal).then(connect).then(onConnected, onConnectFailed);

  return {
    done,
    close(reason: string) {
      finish(reason, true);
    },
    writeInput(bytes: Uint8Array): boolean {
      if (phase !== 'open' || socket === null) return false;
      try {
        writeUpstream(bytes);
      } catch (error) {
        logger.error('stream relay failure', { error });
        finish(`internal error: ${errorMessage(error)}`, true);
      }
      return phase === 'open';
    },
  };
}
