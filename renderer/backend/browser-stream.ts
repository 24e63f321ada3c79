// A replica byte stream over the browser shell's WebSocket (/<secret>/stream/<id>): binary frames
// carry data, text frames carry JSON StreamControl messages. Runs in the renderer.

import {
  MAX_STREAM_FRAME_BYTES,
  STREAM_UPSTREAM_LIMIT_BYTES,
  type ByteStream,
  type ByteStreamHandlers,
  type StreamControlFromUi,
} from '../../common/contract';
import { MALFORMED_STREAM_CONTROL_REASON, parseControlText, parseStreamControlFromBackend } from '../../common/wire-control';
import { SOCKET_CONNECTING, SOCKET_OPEN, type SocketFactory } from './web-socket-like';

/** The reason given when the server stops reading and RetroVisor's upstream queue overflows. */
export const UPSTREAM_OVERFLOW_REASON = 'the VNC server stopped reading what RetroVisor sends';

/**
 * Opens the stream's WebSocket. `handlers.onOpen` fires when the back end says the VNC server is
 * reached; `handlers.onClose` fires once, unless the UI closed the stream itself.
 */
export function openBrowserStream(url: string, handlers: ByteStreamHandlers, openSocket: SocketFactory): ByteStream {
  const socket = openSocket(url);
  socket.binaryType = 'arraybuffer';
  let finished = false;
  let opened = false;
  // Frames the UI sends before the socket is up (noVNC waits for the server, so normally none).
  const early: Uint8Array<ArrayBuffer>[] = [];

  const finish = (reason: string): void => {
    if (finished) return;
    finished = true;
    handlers.onClose(reason);
  };

  const sendFrames = (bytes: Uint8Array<ArrayBuffer>): void => {
    for (let offset = 0; offset < bytes.byteLength; offset += MAX_STREAM_FRAME_BYTES) {
      socket.send(bytes.subarray(offset, Math.min(bytes.byteLength, offset + MAX_STREAM_FRAME_BYTES)));
    }
    if (socket.bufferedAmount > STREAM_UPSTREAM_LIMIT_BYTES) {
      finish(UPSTREAM_OVERFLOW_REASON);
      socket.close(1000, 'upstream limit');
    }
  };

  socket.onopen = () => {
    for (const bytes of early.splice(0)) sendFrames(bytes);
  };
  socket.onmessage = (event) => {
    if (finished) return;
    if (typeof event.data === 'string') {
      const control = parseControlText(event.data, parseStreamControlFromBackend);
      if (!control.ok || (control.message.type === 'open' && opened)) {
        // A back end that breaks the protocol is not guessed at: this stream ends, saying so.
        finish(control.ok ? `${MALFORMED_STREAM_CONTROL_REASON} ("open" twice)` : `${MALFORMED_STREAM_CONTROL_REASON} (${control.problem})`);
        socket.close(1000, 'malformed control message');
      } else if (control.message.type === 'open') {
        opened = true;
        handlers.onOpen();
      } else {
        finish(control.message.reason);
        socket.close(1000, 'closed by the back end');
      }
      return;
    }
    if (event.data instanceof ArrayBuffer) handlers.onData(new Uint8Array(event.data));
  };
  socket.onclose = (event) => {
    finish(event.reason.length > 0 ? event.reason : `the stream to the back end closed${event.code ? ` (code ${event.code})` : ''}`);
  };
  socket.onerror = () => {
    // A close event always follows, with what little the browser tells.
  };

  return {
    send(bytes: Uint8Array): void {
      if (finished) return;
      const copy = new Uint8Array(bytes);
      if (socket.readyState === SOCKET_CONNECTING) early.push(copy);
      else if (socket.readyState === SOCKET_OPEN) sendFrames(copy);
    },
    ack(bytes: number): void {
      if (finished || socket.readyState !== SOCKET_OPEN || bytes <= 0) return;
      const control: StreamControlFromUi = { type: 'ack', bytes };
      socket.send(JSON.stringify(control));
    },
    close(): void {
      if (finished) return;
      finished = true;
      socket.close(1000, 'closed by RetroVisor');
    },
  };
}
