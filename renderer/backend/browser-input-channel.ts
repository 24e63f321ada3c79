// A session's input channel over the browser shell's WebSocket (/<secret>/input): binary frames carry
// input (common/input/input-frame.ts), text frames JSON InputChannelControl (sync / synced). Runs in the renderer.

import { STREAM_UPSTREAM_LIMIT_BYTES, type InputChannelControl, type InputChannelHandlers, type InputChannelPort } from '../../common/contract';
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
    if (finished || typeof event.data !== 'string') return;
    let control: Partial<InputChannelControl> | null = null;
    try {
      control = JSON.parse(event.data) as Partial<InputChannelControl>;
    } catch {
      control = null;
    }
    if (control?.type === 'synced' && typeof control.token === 'number') handlers.onSynced(control.token);
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
      const control: InputChannelControl = { type: 'sync', token };
      sendOrQueue(JSON.stringify(control));
    },
    close(): void {
      if (finished) return;
      finished = true;
      socket.close(1000, 'closed by RetroVisor');
    },
  };
}
