// The browser shell's RPC socket: calls go out as common/rpc.ts messages, a drop fails pending
// calls and raises the lost-back-end signal, and errors never carry the secret. Plain Node.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BACKEND_LOST_MESSAGE } from '../../../renderer/backend/backend-connection';
import { connectBrowserShell } from '../../../renderer/backend/browser-shell';
import type { BrowserShellEndpoints } from '../../../renderer/backend/shell-location';
import { FakeWebSocket } from './fake-web-socket';

const ENDPOINTS: BrowserShellEndpoints = {
  rpcUrl: 'ws://127.0.0.1:1/TOPSECRET/rpc',
  streamUrl: (streamId) => `ws://127.0.0.1:1/TOPSECRET/stream/${streamId}`,
  inputUrl: 'ws://127.0.0.1:1/TOPSECRET/input',
};

function start(onLost: (reason: string) => void = () => {}) {
  const sockets: FakeWebSocket[] = [];
  const connection = connectBrowserShell(ENDPOINTS, onLost, (url) => {
    const socket = new FakeWebSocket(url);
    sockets.push(socket);
    return socket;
  });
  return { connection, sockets };
}

describe('connectBrowserShell', { timeout: 60_000 }, () => {
  it('resolves once the RPC socket opens and carries calls and results', async () => {
    const { connection, sockets } = start();
    const rpc = sockets[0];
    assert.ok(rpc);
    assert.equal(rpc.url, ENDPOINTS.rpcUrl);
    rpc.open();
    const backend = await connection;
    assert.equal(backend.shell, 'browser');
    const answer = backend.api.closeSession({ sessionId: 's1' });
    const [call] = rpc.sentControls() as { kind: string; id: number; name: string; request: unknown }[];
    assert.deepEqual({ kind: call?.kind, name: call?.name, request: call?.request }, { kind: 'call', name: 'closeSession', request: { sessionId: 's1' } });
    rpc.receive(JSON.stringify({ kind: 'result', id: call?.id, ok: true, value: null }));
    assert.equal(await answer, null);
  });

  it('opens each stream on its own socket below the secret', async () => {
    const { connection, sockets } = start();
    sockets[0]?.open();
    const backend = await connection;
    backend.openStream('st7', { onOpen: () => {}, onData: () => {}, onClose: () => {} });
    assert.equal(sockets[1]?.url, 'ws://127.0.0.1:1/TOPSECRET/stream/st7');
  });

  it('signals a lost back end once the socket drops, and fails pending and later calls', async () => {
    const lost: string[] = [];
    const { connection, sockets } = start((reason) => lost.push(reason));
    sockets[0]?.open();
    const backend = await connection;
    const pending = backend.api.getStartup();
    sockets[0]?.drop();
    assert.deepEqual(lost, [BACKEND_LOST_MESSAGE]);
    await assert.rejects(pending, { message: BACKEND_LOST_MESSAGE });
    await assert.rejects(backend.api.getStartup(), { message: BACKEND_LOST_MESSAGE });
  });

  it('rejects without naming the URL (it holds the secret) when the socket never opens', async () => {
    const lost: string[] = [];
    const { connection, sockets } = start((reason) => lost.push(reason));
    sockets[0]?.drop();
    await assert.rejects(connection, (error: Error) => !error.message.includes('TOPSECRET'));
    assert.deepEqual(lost, []);
  });
});
