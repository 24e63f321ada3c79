// Relays bytes between a VNC server socket and the UI side of a replica stream with the flow control
// of common/contract.ts (a bounded window toward the UI, a bounded queue toward the server), plus the
// UI-side endpoint interface both shells implement and its `ws` implementation. Node-side.

import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import {
  MAX_STREAM_FRAME_BYTES,
  STREAM_UPSTREAM_LIMIT_BYTES,
  STREAM_WINDOW_BYTES,
  type StreamControlFromBackend,
  type StreamControlFromUi,
} from '../common/contract';
import { clipControlReason, parseStreamControlFromUi, REFUSED_STREAM_CONTROL_REASON } from '../common/wire-control';
import { errorMessage, type Logger } from './logger';
import { nextStreamRelayState, type StreamRelayEvent, type StreamRelayState } from './stream-relay-lifecycle';
import { wsEndpoint, WS_NORMAL_CLOSURE } from './ws-endpoint';

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
  sendControl(control: StreamControlFromBackend): void;
  /** Closes the UI side; onClose listeners fire. Safe to call more than once. */
  close(): void;
  /** Bytes from the UI (RFB client → server). */
  onData(listener: (bytes: Uint8Array) => void): void;
  /** Acknowledgements (and a possible close request) from the UI, already checked (common/wire-control.ts). */
  onControl(listener: (control: StreamControlFromUi) => void): void;
  /** The UI side is gone (also fired, soon, for a listener added after it closed). */
  onClose(listener: () => void): void;
}

/** Options of wsStreamEndpoint. */
export interface WsStreamEndpointOptions {
  /** Largest binary frame accepted from the UI. Default MAX_STREAM_FRAME_BYTES. */
  readonly maxFrameBytes?: number;
  readonly logger?: Logger;
}

/**
 * A StreamEndpoint over a server-side `ws` WebSocket (main/ws-endpoint.ts): binary frames carry data,
 * text frames JSON StreamControlFromUi. A malformed control frame closes the socket (1008), an oversized
 * data frame too (1009), which ends only this stream.
 */
export function wsStreamEndpoint(socket: WebSocket, options: WsStreamEndpointOptions = {}): StreamEndpoint {
  const endpoint = wsEndpoint(socket, {
    what: 'stream',
    maxBinaryBytes: options.maxFrameBytes ?? MAX_STREAM_FRAME_BYTES,
    parseControl: parseStreamControlFromUi,
    refusedControlReason: REFUSED_STREAM_CONTROL_REASON,
    ...(options.logger ? { logger: options.logger } : {}),
  });
  return {
    sendData: endpoint.sendBinary,
    sendControl: endpoint.sendControl,
    close: () => endpoint.close(WS_NORMAL_CLOSURE, ''),
    onData: endpoint.onBinary,
    onControl: endpoint.onControl,
    onClose: endpoint.onClose,
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
  /** Where the stream is in its lifecycle; changed only by `step` (main/stream-relay-lifecycle.ts). */
  let state: StreamRelayState = 'connecting';
  let socket: Duplex | null = null;
  /** Bytes sent to the UI and not yet acknowledged. */
  let inFlight = 0;
  /** Server bytes read but not yet sent to the UI (the window was full). */
  const held: Uint8Array[] = [];
  /** UI bytes that arrived before the server connection was up. */
  const early: Uint8Array[] = [];
  let earlyBytes = 0;
  let drainTimer: NodeJS.Timeout | null = null;
  let bytesDown = 0;
  let bytesUp = 0;
  let resolveDone: (reason: string) => void = () => undefined;
  const done = new Promise<string>((resolve) => {
    resolveDone = resolve;
  });

  /**
   * Applies `event` through the transition table. One the table refuses is logged (a warning while
   * the stream lives, debug once it is closed: the UI or the socket raced the close) and changes
   * nothing; the caller then does nothing either.
   */
  function step(event: StreamRelayEvent): boolean {
    const next = nextStreamRelayState(state, event);
    if (next === null) {
      if (state === 'closed') logger.debug('stream relay: event refused in this state', { state, event });
      else logger.warn('stream relay: event refused in this state', { state, event });
      return false;
    }
    state = next;
    return true;
  }

  /** Steps with an event that ends the stream; the first that reaches 'closed' releases everything. */
  function finish(event: StreamRelayEvent, reason: string, notifyEndpoint: boolean): void {
    const before = state;
    if (!step(event) || before === 'closed' || state !== 'closed') return;
    abort.abort();
    if (drainTimer) clearTimeout(drainTimer);
    held.length = 0;
    early.length = 0;
    socket?.destroy();
    if (notifyEndpoint) {
      try {
        endpoint.sendControl({ type: 'close', reason: clipControlReason(reason) });
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
        finish('internal-error', `internal error: ${errorMessage(error)}`, true);
      }
    };
  }

  /** Sends as much of `chunk` as the window allows; returns what is left (empty when all went). */
  function deliver(chunk: Uint8Array): Uint8Array {
    let offset = 0;
    while (offset < chunk.length && state !== 'closed') {
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
    while (held.length > 0 && inFlight < windowBytes && state !== 'closed') {
      const rest = deliver(held[0]!);
      if (rest.length > 0) held[0] = rest;
      else held.shift();
    }
    if (state === 'closed') return;
    if (held.length === 0 && state === 'draining') {
      finish('drained', 'the VNC server closed the connection', true);
      return;
    }
    if (held.length === 0 && inFlight < windowBytes && socket?.isPaused()) socket.resume();
  }

  const onServerData = guarded((chunk: Buffer) => {
    if (!step('server-data')) return;
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
      finish('server-stalled', `the VNC server stopped reading: ${queuedMiB} MiB of input is waiting for it`, true);
    }
  }

  endpoint.onData(
    guarded((bytes: Uint8Array) => {
      if (!step('viewer-data')) return;
      if (bytes.length > maxFrameBytes) {
        finish('viewer-broke-protocol', `the viewer sent a ${bytes.length}-byte frame; at most ${maxFrameBytes} are allowed`, true);
        return;
      }
      if (state === 'connecting') {
        earlyBytes += bytes.length;
        if (earlyBytes > upstreamLimitBytes) {
          finish('viewer-broke-protocol', 'the viewer sent too much before the VNC server was reached', true);
          return;
        }
        early.push(bytes);
        return;
      }
      writeUpstream(bytes);
    }),
  );

  endpoint.onControl(
    guarded((control: StreamControlFromUi) => {
      switch (control.type) {
        case 'ack':
          if (!step('viewer-ack')) return;
          if (control.bytes > inFlight) {
            finish('viewer-broke-protocol', `the viewer acknowledged ${control.bytes} bytes but only ${inFlight} were unacknowledged`, true);
            return;
          }
          inFlight -= control.bytes;
          flushHeld();
          return;
        case 'close':
          finish('viewer-close', control.reason.length > 0 ? control.reason : 'the viewer closed the stream', true);
          return;
      }
    }),
  );

  endpoint.onClose(() => finish('viewer-gone', 'the viewer closed the stream', false));

  const onConnected = guarded((connected: Duplex) => {
    if (!step('connected')) {
      connected.destroy();
      return;
    }
    socket = connected;
    connected.on(
      'error',
      guarded((error: Error & { code?: string }) => {
        const reason =
          error.code === 'ECONNRESET' ? 'the VNC server reset the connection' : `the connection to the VNC server failed: ${error.message}`;
        finish('server-error', reason, true);
      }),
    );
    connected.on(
      'end',
      guarded(() => {
        if (!step('server-ended')) return;
        if (held.length === 0) {
          finish('drained', 'the VNC server closed the connection', true);
          return;
        }
        // Deliver what the server sent last (e.g. its reason for refusing), for a bounded time.
        drainTimer = setTimeout(
          () => finish('drain-timeout', 'the VNC server closed the connection (the viewer did not read its last bytes)', true),
          drainAfterEndMs,
        );
        drainTimer.unref();
      }),
    );
    // While draining the table keeps the stream open until the held bytes are read or time out.
    connected.on('close', guarded(() => finish('server-closed', 'the connection to the VNC server closed', true)));
    endpoint.sendControl({ type: 'open' });
    logger.info('stream open');
    for (const bytes of early.splice(0)) writeUpstream(bytes);
    if (state !== 'open') return;
    connected.on('data', onServerData);
  });

  const onConnectFailed = (error: unknown): void => {
    // After a close the connect is aborted: its failure is expected and not news.
    if (state !== 'closed') logger.info('cannot reach the VNC server', { error });
    finish('connect-failed', errorMessage(error), true);
  };

  // Through a promise chain, so even a connect function that throws synchronously ends only this stream.
  Promise.resolve(abort.signal).then(connect).then(onConnected, onConnectFailed);

  return {
    done,
    close(reason: string) {
      finish('close', reason, true);
    },
    writeInput(bytes: Uint8Array): boolean {
      if (!step('input')) return false;
      try {
        writeUpstream(bytes);
      } catch (error) {
        logger.error('stream relay failure', { error });
        finish('internal-error', `internal error: ${errorMessage(error)}`, true);
      }
      return state !== 'closed';
    },
  };
}
