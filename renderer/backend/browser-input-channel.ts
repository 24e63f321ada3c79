// A session's input channel over the browser shell's WebSocket (/<secret>/input): binary frames carry
// input (common/input/input-frame.ts), text frames JSON InputChannelControl (sync / synced). Runs in the renderer.

import { STREAM_UPSTREAM_LIMIT_BYTES, type InputChannelControlFromUi, type InputChannelHandlers, type InputChannelPort } from '../../common/contract';
import { MALFORMED_INPUT_CONTROL_REASON, parseControlText, parseInputChannelControlFromBackend } from '../../common/wire-control';
import { SOCKET_CONNECTING, SOCKET_OPEN, type SocketFactory } from './web-socket-like';

/** Opens the input channel's socket; frames sent while it connects are sent once it is open. */
export function openBrowserInputChannel(url: string, handlers: InputChannelHandlers, openSocket: SocketFactory): InputChannelPort {
  const socket = openSocket(url);
  socket.binaryType = 'arraybuffer';
  let finished = false;
  // Frames and syncs sent before the socket is up, in order (the socket opens within milliseconds,
  // before any replica has finished its handshake, so normally none).
  const early: (Uint8Array<ArrayBuffer> | string)[] = [];
  let earlyBytes = 0;

  const finish = (reason: string): void => {
    if (finished) return;
    finished = true;
    early.length = 0;
    handlers.onClose(reason);
  };
  const sendOrQueue = (message: Uint8Array<ArrayBuffer> | string): void => {
    if (finished) return;
    if (socket.readyState === SOCKET_OPEN) {
      socket.send(message);
    } else if (socket.readyState === SOCKET_CONNECTING) {
      earlyBytes += typeof message === 'string' ? message.length : message.byteLength;
      if (earlyBytes > STREAM_UPSTREAM_LIMIT_BYTES) {
        finish('the input channel did not open in time');
        socket.close(1000, 'upstream limit');
        return;
      }
      early.push(message);
    }
  };

  socket.onopen = () => {
    for (const message of early.splice(0)) socket.send(message);
  };
  socket.onmessage = (event) => {
    if (finished) return;
    // The back end sends text only (syncs answered); anything else is a protocol breach that ends the channel.
    const control =
      typeof event.data === 'string'
        ? parseControlText(event.data, parseInputChannelControlFromBackend)
        : { ok: false as const, problem: 'a binary frame' };
    if (!control.ok) {
      finish(`${MALFORMED_INPUT_CONTROL_REASON} (${control.problem})`);
      socket.close(1000, 'malformed control message');
    } else if (control.message.type === 'synced') {
      handlers.onSynced(control.message.token);
    } else {
      finish(control.message.reason);
      socket.close(1000, 'closed by the back end');
    }
  };
  socket.onclose = (event) => {
    finish(event.reason.length > 0 ? event.reason : `the input channel closed${event.code ? ` (code ${event.code})` : ''}`);
  };
  socket.onerror = () => {
    // A close event always follows.
  };

  return {
    send(frame: Uint8Array): void {
      sendOrQueue(frame.buffer instanceof ArrayBuffer ? (frame as Uint8Array<ArrayBuffer>) : new Uint8Array(frame));
    },
    sync(token: number): void {
      const control: InputChannelControlFromUi = { type: 'sync', token };
      sendOrQueue(JSON.stringify(control));
    },
    close(): void {
      if (finished) return;
      finished = true;
      socket.close(1000, 'closed by RetroVisor');
    },
  };
}
