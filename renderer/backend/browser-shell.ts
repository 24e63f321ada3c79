// The browser shell's side of the contract: RPC over one WebSocket (/<secret>/rpc, common/rpc.ts
// messages as text), one WebSocket per replica stream and one per session's input channel. Runs in the renderer.

import { createRpcClient } from '../../common/rpc';
import { BACKEND_LOST_MESSAGE, type BackendConnection } from './backend-connection';
import { openBrowserInputChannel } from './browser-input-channel';
import { openBrowserStream } from './browser-stream';
import type { BrowserShellEndpoints } from './shell-location';
import type { SocketFactory } from './web-socket-like';

/** How long the RPC socket may take to open before the back end counts as unreachable. */
export const RPC_CONNECT_TIMEOUT_MS = 10_000;

/**
 * Opens the RPC socket and resolves once it is up. `onConnectionLost` fires once if it drops later;
 * every pending and later call then fails. Error messages never include the URL (it holds the secret).
 */
export function connectBrowserShell(
  endpoints: BrowserShellEndpoints,
  onConnectionLost: (reason: string) => void,
  openSocket: SocketFactory,
): Promise<BackendConnection> {
  const inputUrl = endpoints.inputUrl;
  return new Promise<BackendConnection>((resolve, reject) => {
    const socket = openSocket(endpoints.rpcUrl);
    const client = createRpcClient((raw) => socket.send(raw));
    let settled = false;
    const timeout = setTimeout(() => {
      if (settled) return;
      settled = true;
      socket.close();
      reject(new Error('the RetroVisor back end did not answer'));
    }, RPC_CONNECT_TIMEOUT_MS);

    socket.onopen = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timeout);
      resolve({
        api: client.api,
        shell: 'browser',
        openStream: (streamId, handlers) => openBrowserStream(endpoints.streamUrl(streamId), handlers, openSocket),
        openInputChannel: inputUrl === null ? null : (handlers) => openBrowserInputChannel(inputUrl, handlers, openSocket),
      });
    };
    socket.onmessage = (event) => {
      if (typeof event.data === 'string') client.receive(event.data);
    };
    socket.onerror = () => {
      // The close event follows.
    };
    socket.onclose = () => {
      client.fail(BACKEND_LOST_MESSAGE);
      clearTimeout(timeout);
      if (!settled) {
        settled = true;
        reject(new Error('could not reach the RetroVisor back end'));
        return;
      }
      onConnectionLost(BACKEND_LOST_MESSAGE);
    };
  });
}
