// The Electron shell's IPC adapter and security policy, driven without Electron: every contract call
// is served, only from the trusted sender, with requests checked; streams arrive on MessagePorts.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CALL_NAMES, INPUT_IPC_CHANNEL, STREAM_IPC_CHANNEL, ipcChannel, type ContractHandlers, type EventName, type EventPayload } from '../../../common/contract';
import { REFUSED_INPUT_CONTROL_REASON, REFUSED_STREAM_CONTROL_REASON } from '../../../common/wire-control';
import type { Backend } from '../../../main/backend';
import { DesktopStatusService } from '../../../main/backend/desktop-status-service';
import { createLogger } from '../../../main/logger';
import { PreferencesStore } from '../../../main/preferences';
import type { InputChannelEndpoint } from '../../../main/input-channel';
import type { StreamEndpoint } from '../../../main/stream-relay';
import { bindContract, isTrustedSender, type IpcEventLike, type IpcMainLike, type MainMessagePort } from '../../../electron/ipc';
import { APP_ENTRY_URL, isAppUrl, secureWebPreferences } from '../../../electron/security-policy';

type Handler = (event: IpcEventLike, request: unknown) => Promise<unknown>;
type Listener = (event: IpcEventLike, message: unknown) => void;

function fakeIpcMain() {
  const handlers = new Map<string, Handler>();
  const listeners = new Map<string, Listener>();
  const ipcMain: IpcMainLike = {
    handle: (channel, handler) => void handlers.set(channel, handler),
    on: (channel, listener) => void listeners.set(channel, listener),
    removeHandler: (channel) => void handlers.delete(channel),
    removeAllListeners: (channel) => void listeners.delete(channel),
  };
  return { ipcMain, handlers, listeners };
}

/** A MainMessagePort whose posted messages and closes are recorded; `send` delivers a message from the UI. */
function fakePort(): { port: MainMessagePort; posted: unknown[]; send: (data: unknown) => void; closes: () => number } {
  const posted: unknown[] = [];
  const listeners: Record<string, ((event: { data: unknown }) => void)[]> = { message: [], close: [] };
  let closed = 0;
  const port: MainMessagePort = {
    postMessage: (message) => void posted.push(message),
    on: (event: string, listener: (event: { data: unknown }) => void) => void listeners[event]!.push(listener),
    start: () => undefined,
    close: () => void closed++,
  };
  return {
    port,
    posted,
    send: (data) => {
      for (const listener of listeners.message!) listener({ data });
    },
    closes: () => closed,
  };
}

function fakeBackend(attached: { streamId: string; endpoint: StreamEndpoint }[], inputChannels: InputChannelEndpoint[] = []) {
  const eventListeners = new Map<EventName, ((payload: never) => void)[]>();
  const handlers = Object.fromEntries(CALL_NAMES.map((name) => [name, async (request: unknown) => ({ name, request })])) as unknown as ContractHandlers;
  const backend: Backend = {
    handlers,
    attachStream: (streamId, endpoint) => void attached.push({ streamId, endpoint }),
    attachInputChannel: (endpoint) => void inputChannels.push(endpoint),
    onReplicaReport: () => () => undefined,
    onInputRecorded: () => () => undefined,
    onScriptResult: () => () => undefined,
    onDivergenceReport: () => () => undefined,
    onManagerEvent: () => () => undefined,
    emit: <K extends EventName>(event: K, payload: EventPayload<K>) => {
      for (const listener of eventListeners.get(event) ?? []) listener(payload as never);
    },
    emitNotice: () => undefined,
    resumeLatestSession: () => undefined,
    onEvent: <K extends EventName>(event: K, listener: (payload: EventPayload<K>) => void) => {
      const list = eventListeners.get(event) ?? [];
      list.push(listener);
      eventListeners.set(event, list);
      return () => eventListeners.set(event, (eventListeners.get(event) ?? []).filter((item) => item !== listener));
    },
    demo: { lab: null },
    secrets: {
      status: async () => ({ available: false, reason: 'not in this test', hint: '' }),
      store: async () => undefined,
      lookup: async () => null,
      remove: async () => undefined,
      removeProfile: async () => undefined,
    },
    desktop: new DesktopStatusService(createLogger({ sink: () => undefined })),
    // Never written: nothing in these tests changes a preference.
    preferences: new PreferencesStore('/nonexistent/retrovisor-ipc-test', createLogger({ sink: () => undefined })),
    close: async () => undefined,
  };
  return backend;
}

const trustedSender = { id: 'main-window' };
const trusted: IpcEventLike = { sender: trustedSender, senderFrame: { url: APP_ENTRY_URL } };

function bind() {
  const fake = fakeIpcMain();
  const attached: { streamId: string; endpoint: StreamEndpoint }[] = [];
  const sent: [string, unknown][] = [];
  const refused: string[] = [];
  const inputChannels: InputChannelEndpoint[] = [];
  const backend = fakeBackend(attached, inputChannels);
  const binding = bindContract({
    ipcMain: fake.ipcMain,
    backend,
    // The check electron/main.ts binds, with this fake window's webContents.
    isTrustedSender: (event) => isTrustedSender(event, trustedSender),
    sendToWindow: (channel, payload) => void sent.push([channel, payload]),
    onRefused: (what) => void refused.push(what),
  });
  return { ...fake, attached, inputChannels, sent, refused, backend, binding };
}

describe('Electron IPC adapter', { timeout: 10_000 }, () => {
  it('serves every contract call on its own channel', async () => {
    const { handlers } = bind();
    assert.deepEqual([...handlers.keys()].sort(), CALL_NAMES.map((name) => ipcChannel(name)).sort());
    const result = await handlers.get(ipcChannel('openReplicaStream'))!(trusted, { sessionId: 's', replicaId: 'r1' });
    assert.deepEqual(result, { name: 'openReplicaStream', request: { sessionId: 's', replicaId: 'r1' } });
  });

  it('refuses calls from another frame, another page or another window', async () => {
    const { handlers, refused } = bind();
    const call = handlers.get(ipcChannel('getStartup'))!;
    await assert.rejects(call({ sender: trustedSender, senderFrame: { url: 'https://evil.example/' } }, undefined), /untrusted sender/);
    await assert.rejects(call({ sender: { id: 'other' }, senderFrame: { url: APP_ENTRY_URL } }, undefined), /untrusted sender/);
    await assert.rejects(call({ sender: trustedSender, senderFrame: null }, undefined), /untrusted sender/);
    assert.equal(refused.length, 3);
  });

  it('trusts only the window\'s own webContents showing an app URL', () => {
    assert.equal(isTrustedSender(trusted, trustedSender), true);
    assert.equal(isTrustedSender({ sender: trustedSender, senderFrame: { url: `${APP_ENTRY_URL}#/elsewhere` } }, trustedSender), true);
    assert.equal(isTrustedSender({ sender: trustedSender, senderFrame: { url: 'https://evil.example/' } }, trustedSender), false);
    assert.equal(isTrustedSender({ sender: trustedSender, senderFrame: { url: 'file:///etc/passwd' } }, trustedSender), false);
    assert.equal(isTrustedSender({ sender: trustedSender, senderFrame: { url: 'not a url' } }, trustedSender), false);
    assert.equal(isTrustedSender({ sender: trustedSender, senderFrame: null }, trustedSender), false);
    assert.equal(isTrustedSender({ sender: { id: 'main-window' }, senderFrame: { url: APP_ENTRY_URL } }, trustedSender), false, 'a look-alike is another window');
  });

  it('checks request shapes before the back end sees them', async () => {
    const { handlers } = bind();
    await assert.rejects(handlers.get(ipcChannel('openProfileFile'))!(trusted, { path: ['/etc/passwd'] }), /path: expected a string/);
  });

  it('attaches a stream from a trusted MessagePort and relays data and acks', () => {
    const { listeners, attached } = bind();
    const { port, posted, send } = fakePort();
    listeners.get(STREAM_IPC_CHANNEL)!({ ...trusted, ports: [port] }, { streamId: 'abc' });
    assert.equal(attached.length, 1);
    assert.equal(attached[0]!.streamId, 'abc');
    const received: string[] = [];
    attached[0]!.endpoint.onData((bytes) => received.push(Buffer.from(bytes).toString()));
    attached[0]!.endpoint.onControl((control) => received.push(JSON.stringify(control)));
    send(new Uint8Array(Buffer.from('RFB 003.008\n')));
    send({ type: 'ack', bytes: 12 });
    attached[0]!.endpoint.sendData(new Uint8Array([1, 2]));
    assert.deepEqual(received, ['RFB 003.008\n', '{"type":"ack","bytes":12}']);
    assert.deepEqual(posted, [new Uint8Array([1, 2])]);
  });

  it('ends a stream whose UI sends a malformed control message, telling the UI why, and logs it', () => {
    const { listeners, attached, refused } = bind();
    const { port, posted, send, closes } = fakePort();
    listeners.get(STREAM_IPC_CHANNEL)!({ ...trusted, ports: [port] }, { streamId: 'abc' });
    const seen: string[] = [];
    attached[0]!.endpoint.onData(() => seen.push('data'));
    attached[0]!.endpoint.onControl((control) => seen.push(control.type));
    attached[0]!.endpoint.onClose(() => seen.push('closed'));
    send({ type: 'ack', bytes: 1 });
    // Only the back end says "open": from the UI it is a protocol breach.
    send({ type: 'open' });
    send({ type: 'ack', bytes: 1 });
    send(new Uint8Array(1));
    assert.deepEqual(seen, ['ack', 'closed']);
    assert.deepEqual(posted, [{ type: 'close', reason: REFUSED_STREAM_CONTROL_REASON }]);
    assert.equal(closes(), 1);
    assert.match(refused.at(-1)!, /malformed stream control message \(unexpected type "open"/);
  });

  it('refuses a stream request without a port or from an untrusted sender', () => {
    const { listeners, attached, refused } = bind();
    let closed = 0;
    const port = { postMessage: () => undefined, on: () => undefined, start: () => undefined, close: () => void closed++ } as unknown as MainMessagePort;
    listeners.get(STREAM_IPC_CHANNEL)!({ sender: { id: 'other' }, senderFrame: { url: APP_ENTRY_URL }, ports: [port] }, { streamId: 'abc' });
    listeners.get(STREAM_IPC_CHANNEL)!({ ...trusted, ports: [] }, { streamId: 'abc' });
    assert.equal(attached.length, 0);
    assert.equal(refused.length, 2);
    assert.equal(closed, 1);
  });

  it('attaches the input channel from a trusted MessagePort: frames, syncs, and a close with its reason for anything else', () => {
    const { listeners, inputChannels, refused } = bind();
    const { port, posted, send, closes } = fakePort();
    listeners.get(INPUT_IPC_CHANNEL)!({ sender: { id: 'other' }, senderFrame: { url: APP_ENTRY_URL }, ports: [port] }, null);
    assert.equal(inputChannels.length, 0);
    assert.equal(refused.length, 1);
    listeners.get(INPUT_IPC_CHANNEL)!({ ...trusted, ports: [port] }, null);
    assert.equal(inputChannels.length, 1);
    const endpoint = inputChannels[0]!;
    const seen: string[] = [];
    endpoint.onFrame((frame) => seen.push(`frame ${frame.byteLength}`));
    endpoint.onSync((token) => {
      seen.push(`sync ${token}`);
      endpoint.sendSynced(token);
    });
    endpoint.onClose(() => seen.push('closed'));
    send(new Uint8Array(9));
    send({ type: 'sync', token: 3 });
    send({ type: 'sync', token: -1 });
    send(new Uint8Array(1));
    assert.deepEqual(seen, ['frame 9', 'sync 3', 'closed']);
    assert.deepEqual(posted, [{ type: 'synced', token: 3 }, { type: 'close', reason: REFUSED_INPUT_CONTROL_REASON }]);
    assert.match(refused.at(-1)!, /malformed input channel message/);
    assert.equal(closes(), 2, 'the untrusted port and the misbehaving one');
  });

  it('forwards back-end events to the window and stops on dispose', () => {
    const { backend, sent, binding, handlers } = bind();
    backend.emit('notice', { level: 'info', message: 'hello' });
    binding.dispose();
    backend.emit('notice', { level: 'info', message: 'after' });
    assert.deepEqual(sent, [[ipcChannel('notice'), { level: 'info', message: 'hello' }]]);
    assert.equal(handlers.size, 0);
  });
});

describe('window security policy', { timeout: 10_000 }, () => {
  it('isolates, sandboxes and keeps Node out of every window', () => {
    const preferences = secureWebPreferences('/app/preload.cjs');
    assert.equal(preferences.contextIsolation, true);
    assert.equal(preferences.sandbox, true);
    assert.equal(preferences.nodeIntegration, false);
    assert.equal(preferences.webSecurity, true);
    assert.equal(preferences.webviewTag, false);
    assert.equal(preferences.preload, '/app/preload.cjs');
  });

  it('recognises only the app origin as the app', () => {
    assert.ok(isAppUrl(APP_ENTRY_URL));
    assert.ok(isAppUrl('app://retrovisor/app.js'));
    for (const url of ['app://evil/index.html', 'https://retrovisor/', 'file:///index.html', 'not a url', 'app://retrovisor.evil/']) {
      assert.equal(isAppUrl(url), false, url);
    }
  });
});
