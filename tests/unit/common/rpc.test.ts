// The contract over a message pipe, both ends in memory: every call round-trips, requests are
// checked against their declared shape, errors come back as errors, events reach listeners.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CALL_NAMES, ipcChannel, type ContractHandlers, type OpenResult } from '../../../common/contract';
import { BackendError, createRpcClient, decodeRpcMessage, dispatchCall, encodeEvent } from '../../../common/rpc';

const FAILED: OpenResult = { ok: false, problems: [{ path: '$', message: 'nope' }] };

function fakeHandlers(log: string[]): ContractHandlers {
  return {
    getStartup: async () => ({ shell: 'browser', version: '0.0.0', headless: false, startupSession: null }),
    openProfileFile: async ({ path }) => {
      log.push(`open ${path}`);
      return FAILED;
    },
    openProfileText: async ({ sourceName }) => {
      log.push(`text ${sourceName}`);
      return FAILED;
    },
    quickConnect: async ({ endpoints }) => {
      log.push(`quick ${endpoints}`);
      return FAILED;
    },
    closeSession: async () => undefined,
    openReplicaStream: async ({ replicaId }) => ({ streamId: `stream-${replicaId}` }),
    getReplicaPassword: async () => {
      throw new Error('VNC_PW is not set');
    },
    reportReplicaState: async (report) => {
      log.push(`report ${report.replicaId} ${report.state}`);
    },
  };
}

function pair(log: string[]) {
  const handlers = fakeHandlers(log);
  const client = createRpcClient((raw) => {
    const message = decodeRpcMessage(raw);
    assert.ok(message && message.kind === 'call');
    void dispatchCall(handlers, message).then((result) => client.receive(JSON.stringify(result)));
  });
  return client;
}

describe('contract over RPC', () => {
  it('has a distinct IPC channel per call', () => {
    const channels = CALL_NAMES.map((name) => ipcChannel(name));
    assert.equal(new Set(channels).size, channels.length);
  });

  it('round-trips calls and their results', async () => {
    const log: string[] = [];
    const { api } = pair(log);
    assert.equal((await api.getStartup()).shell, 'browser');
    assert.deepEqual(await api.openReplicaStream({ sessionId: 's', replicaId: 'r2' }), { streamId: 'stream-r2' });
    await api.reportReplicaState({ sessionId: 's', replicaId: 'r1', state: 'connected', width: 640, height: 400 });
    await api.quickConnect({ endpoints: 'h:1' });
    assert.deepEqual(log, ['report r1 connected', 'quick h:1']);
  });

  it('turns handler errors into rejected calls', async () => {
    const { api } = pair([]);
    await assert.rejects(api.getReplicaPassword({ sessionId: 's', replicaId: 'r1' }), (error: unknown) => {
      assert.ok(error instanceof BackendError);
      assert.equal(error.message, 'VNC_PW is not set');
      return true;
    });
  });

  it('checks request shapes before any handler runs', async () => {
    const log: string[] = [];
    const { api } = pair(log);
    const sneaky = api.reportReplicaState as unknown as (request: unknown) => Promise<void>;
    await assert.rejects(sneaky({ sessionId: 's', replicaId: 'r1', state: 'pwned' }), /bad request: state: unknown state/);
    await assert.rejects(sneaky({ sessionId: 's', replicaId: 'r1', state: 'connected', width: -5 }), /bad request: width/);
    const open = api.openProfileFile as unknown as (request: unknown) => Promise<void>;
    await assert.rejects(open({ path: 42 }), /bad request: path/);
    await assert.rejects(open(null), /bad request/);
    assert.deepEqual(log, []);
  });

  it('drops malformed and unknown messages', () => {
    for (const raw of ['', 'nope', '[]', '{"kind":"call","id":1,"name":"eval","request":{}}', '{"kind":"call","id":"x","name":"getStartup"}', '{"kind":"result","id":1,"ok":false}', `{"kind":"event","name":"toString"}`]) {
      assert.equal(decodeRpcMessage(raw), null, raw);
    }
  });

  it('delivers events to their listeners until unsubscribed', () => {
    const client = createRpcClient(() => undefined);
    const seen: string[] = [];
    const stop = client.api.on('notice', (notice) => seen.push(notice.message));
    client.receive(encodeEvent('notice', { level: 'info', message: 'one' }));
    stop();
    client.receive(encodeEvent('notice', { level: 'info', message: 'two' }));
    assert.deepEqual(seen, ['one']);
  });

  it('fails pending and later calls when the pipe is gone', async () => {
    const client = createRpcClient(() => undefined);
    const pending = client.api.getStartup();
    client.fail('back end gone');
    await assert.rejects(pending, /back end gone/);
    await assert.rejects(client.api.getStartup(), /back end gone/);
  });
});
