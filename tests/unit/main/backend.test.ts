// The back end end to end in plain Node: profiles opened from files, text and quick connect (with
// problems at JSON paths), passwords from the environment, and replica streams attached by single-use
// id through the browser shell's `ws` endpoint to a fake RFB server on 127.0.0.1.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocket, WebSocketServer } from 'ws';
import { MAX_STREAM_FRAME_BYTES, type OpenResult, type ReplicaStatusReport, type SessionInfo, type StreamControl } from '../../../common/contract';
import { invokeHandler } from '../../../common/rpc';
import { createBackend, type Backend } from '../../../main/backend';
import { LibsecretStore } from '../../../main/keyring/libsecret-store';
import { createLogger } from '../../../main/logger';
import { MemorySecretStore } from '../support/memory-secret-store';
import { wsStreamEndpoint } from '../../../main/stream-relay';

const logLines: string[] = [];
const logger = createLogger({ sink: (line) => logLines.push(line), level: 'debug' });
let folder = '';
const cleanups: (() => Promise<void> | void)[] = [];

before(async () => {
  folder = await mkdtemp(path.join(os.tmpdir(), 'retrovisor-backend-'));
});

after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await rm(folder, { recursive: true, force: true });
});

function newBackend(overrides: Partial<Parameters<typeof createBackend>[0]> = {}): Backend {
  const backend = createBackend({ shell: 'browser', headless: false, version: '9.9.9', logger, workingDirectory: folder, dataDirectory: folder, ...overrides });
  cleanups.push(() => backend.close());
  return backend;
}

/** A minimal RFB 3.8 server: version, security "None", SecurityResult OK, then echoes everything. */
async function startFakeRfbServer(): Promise<{ port: number; connections: () => number }> {
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    let stage: 'version' | 'security' | 'echo' = 'version';
    let buffered = Buffer.alloc(0);
    socket.write('RFB 003.008\n');
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (stage === 'version' && buffered.length >= 12) {
        assert.equal(buffered.subarray(0, 12).toString('latin1'), 'RFB 003.008\n');
        buffered = buffered.subarray(12);
        socket.write(Buffer.from([1, 1]));
        stage = 'security';
      }
      if (stage === 'security' && buffered.length >= 1) {
        assert.equal(buffered[0], 1);
        buffered = buffered.subarray(1);
        socket.write(Buffer.from([0, 0, 0, 0]));
        stage = 'echo';
      }
      if (stage === 'echo' && buffered.length > 0) {
        socket.write(buffered);
        buffered = Buffer.alloc(0);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  const address = server.address() as net.AddressInfo;
  return { port: address.port, connections: () => connections };
}

/** A stand-in for the browser shell's stream route: /stream/<id> → backend.attachStream over `ws`. */
async function startStreamServer(backend: Backend): Promise<string> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  server.on('connection', (socket, request) => {
    const streamId = decodeURIComponent((request.url ?? '').replace(/^\/stream\//, ''));
    backend.attachStream(streamId, wsStreamEndpoint(socket, { logger }));
  });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const client of server.clients) client.terminate();
        server.close(() => resolve());
      }),
  );
  return `ws://127.0.0.1:${(server.address() as net.AddressInfo).port}/stream/`;
}

/** The UI side of a stream as the renderer would drive it: acks every data frame, records controls. */
function uiStream(url: string) {
  const socket = new WebSocket(url);
  const controls: StreamControl[] = [];
  let received = Buffer.alloc(0);
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  });
  socket.on('error', () => undefined);
  socket.on('message', (data: Buffer, isBinary) => {
    if (isBinary) {
      received = Buffer.concat([received, data]);
      socket.send(JSON.stringify({ type: 'ack', bytes: data.length }));
    } else {
      controls.push(JSON.parse(data.toString()) as StreamControl);
    }
  });
  return {
    socket,
    controls,
    closed,
    received: () => received,
    async waitForBytes(length: number): Promise<Buffer> {
      await waitFor(`${length} bytes`, () => received.length >= length);
      const bytes = received.subarray(0, length);
      received = received.subarray(length);
      return bytes;
    },
    closeReason(): string | undefined {
      const close = controls.find((control) => control.type === 'close');
      return close?.type === 'close' ? close.reason : undefined;
    },
  };
}

/** Polls `predicate` (byte counts and log lines have no event of their own here) until true; fails after `timeoutMs`. */
async function waitFor(what: string, predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

function sessionOf(result: OpenResult): SessionInfo {
  assert.ok(result.ok, JSON.stringify(result));
  return result.session;
}

/** A profile of three replicas; `passwordFile`: absolute by default (text opened without a folder refuses a relative one). */
function profileJson(port: number, extra: Record<string, unknown> = {}, passwordFile = path.join(folder, 'vnc-password.txt')): string {
  return JSON.stringify({
    version: 1,
    name: 'lab',
    replicas: [
      { id: 'a', label: 'Replica A', vnc: { host: '127.0.0.1', port, password: { file: passwordFile } } },
      { id: 'b', vnc: { host: '127.0.0.1', port: 5902, password: { env: 'RETROVISOR_TEST_BACKEND_PW' } } },
      { id: 'c', vnc: { host: '127.0.0.1', port: 5903 } },
    ],
    ...extra,
  });
}

describe('backend: profiles', { timeout: 30_000 }, () => {
  it('opens a profile file into a session whose summary holds no secret', async () => {
    const backend = newBackend();
    await writeFile(path.join(folder, 'vnc-password.txt'), 'file-password-123\n');
    const profilePath = path.join(folder, 'lab.json');
    await writeFile(profilePath, profileJson(5901, {}, 'vnc-password.txt'));
    const session = sessionOf(await backend.handlers.openProfileFile({ path: 'lab.json' }));
    assert.equal(session.name, 'lab');
    assert.equal(session.source, profilePath);
    assert.deepEqual(session.replicas[0], { id: 'a', label: 'Replica A', endpoint: '127.0.0.1:5901', tunnel: false, hasPassword: true });
    assert.equal(session.replicas[2]?.hasPassword, false);
    // The password file resolves next to the profile.
    assert.deepEqual(await backend.handlers.getReplicaPassword({ sessionId: session.sessionId, replicaId: 'a' }), { password: 'file-password-123' });
    assert.ok(!JSON.stringify(session).includes('file-password-123'));
    assert.ok(!logLines.some((line) => line.includes('file-password-123')));
  });

  it('returns every problem of an invalid profile at its JSON path', async () => {
    const backend = newBackend();
    await writeFile(path.join(folder, 'bad.json'), JSON.stringify({ version: 3, name: 'x', replicas: [{ id: 'a', vnc: { host: '127.0.0.1', port: 70000 } }] }));
    const result = await backend.handlers.openProfileFile({ path: path.join(folder, 'bad.json') });
    assert.ok(!result.ok);
    const paths = result.problems.map((problem) => problem.path);
    assert.ok(paths.includes('$.version'), paths.join());
    assert.ok(paths.includes('$.replicas[0].vnc.port'), paths.join());
    const text = await backend.handlers.openProfileText({ text: '{ not json', sourceName: 'dropped.json' });
    assert.ok(!text.ok);
    assert.equal(text.problems[0]?.path, '$');
    assert.match(text.problems[0]?.message ?? '', /not valid JSON/);
  });

  it('reports a missing or unreadable profile file as a problem at "$", not a thrown error', async () => {
    const backend = newBackend();
    const missing = await backend.handlers.openProfileFile({ path: 'nope/missing.json' });
    assert.ok(!missing.ok);
    assert.equal(missing.problems.length, 1);
    assert.equal(missing.problems[0]?.path, '$');
    assert.match(missing.problems[0]?.message ?? '', /cannot read profile ".*nope\/missing\.json": no such file \(ENOENT\)/);
    const directory = await backend.handlers.openProfileFile({ path: folder });
    assert.ok(!directory.ok);
    assert.match(directory.problems[0]?.message ?? '', /not a regular file/);
  });

  it('opens quick-connect endpoints, keeping the password out of summaries and logs', async () => {
    const backend = newBackend();
    const session = sessionOf(await backend.handlers.quickConnect({ endpoints: '127.0.0.1:1, 127.0.0.1::6000', password: 'quick-secret-9' }));
    assert.equal(session.source, 'quick connect');
    assert.deepEqual(
      session.replicas.map((replica) => [replica.id, replica.endpoint, replica.hasPassword]),
      [
        ['r1', '127.0.0.1:5901', true],
        ['r2', '127.0.0.1:6000', true],
      ],
    );
    assert.deepEqual(await backend.handlers.getReplicaPassword({ sessionId: session.sessionId, replicaId: 'r2' }), { password: 'quick-secret-9' });
    logger.info('a careless line with quick-secret-9 in it');
    assert.ok(!logLines.some((line) => line.includes('quick-secret-9')));
    const bad = await backend.handlers.quickConnect({ endpoints: 'host:x' });
    assert.ok(!bad.ok);
    assert.equal(bad.problems[0]?.path, 'endpoints[0]');
  });

  it('resolves a password from the environment, and explains a missing variable', async () => {
    const backend = newBackend();
    const session = sessionOf(await backend.handlers.openProfileText({ text: profileJson(5901), sourceName: 'dropped.json' }));
    process.env.RETROVISOR_TEST_BACKEND_PW = 'env-password-456';
    try {
      assert.deepEqual(await backend.handlers.getReplicaPassword({ sessionId: session.sessionId, replicaId: 'b' }), { password: 'env-password-456' });
    } finally {
      delete process.env.RETROVISOR_TEST_BACKEND_PW;
    }
    const missing = await backend.handlers.getReplicaPassword({ sessionId: session.sessionId, replicaId: 'b' });
    assert.equal(missing.password, null);
    assert.match(missing.error ?? '', /environment variable RETROVISOR_TEST_BACKEND_PW is not set/);
    assert.deepEqual(await backend.handlers.getReplicaPassword({ sessionId: session.sessionId, replicaId: 'c' }), { password: null });
    const unknown = await backend.handlers.getReplicaPassword({ sessionId: 'no-such-session', replicaId: 'c' });
    assert.equal(unknown.password, null);
    assert.match(unknown.error ?? '', /no open session/);
    assert.ok(!logLines.some((line) => line.includes('env-password-456')));
  });

  it('answers getStartup with the shell, and the startup profile opened once', async () => {
    await writeFile(path.join(folder, 'startup.json'), profileJson(5901));
    const backend = newBackend({ shell: 'electron', headless: true, startupProfilePath: path.join(folder, 'startup.json') });
    const first = await backend.handlers.getStartup();
    assert.equal(first.shell, 'electron');
    assert.equal(first.headless, true);
    assert.equal(first.version, '9.9.9');
    const second = await backend.handlers.getStartup();
    assert.equal(sessionOf(first.startupSession!).sessionId, sessionOf(second.startupSession!).sessionId);
    const plain = await newBackend().handlers.getStartup();
    assert.equal(plain.startupSession, null);
  });

  it('passes replica state reports to listeners with their session, and checks requests through the contract', async () => {
    const backend = newBackend();
    const session = sessionOf(await backend.handlers.quickConnect({ endpoints: '127.0.0.1:1' }));
    const seen: [ReplicaStatusReport, SessionInfo][] = [];
    const stop = backend.onReplicaReport((report, info) => seen.push([report, info]));
    await invokeHandler(backend.handlers, 'reportReplicaState', { sessionId: session.sessionId, replicaId: 'r1', state: 'connected', width: 640, height: 400 });
    await backend.handlers.reportReplicaState({ sessionId: 'gone', replicaId: 'r1', state: 'closed' });
    stop();
    await backend.handlers.reportReplicaState({ sessionId: session.sessionId, replicaId: 'r1', state: 'closed' });
    assert.equal(seen.length, 1);
    assert.deepEqual(seen[0]![0], { sessionId: session.sessionId, replicaId: 'r1', state: 'connected', width: 640, height: 400 });
    assert.equal(seen[0]![1].sessionId, session.sessionId);
    await assert.rejects(invokeHandler(backend.handlers, 'reportReplicaState', { sessionId: session.sessionId, replicaId: 'r1', state: 'exploded' }), /unknown state/);
  });

  it('emits notices to event listeners, redacted', async () => {
    const backend = newBackend();
    await backend.handlers.quickConnect({ endpoints: '127.0.0.1:1', password: 'notice-secret' });
    const notices: string[] = [];
    backend.onEvent('notice', (notice) => notices.push(`${notice.level}: ${notice.message}`));
    backend.emitNotice({ level: 'warning', message: 'replica r1 failed with notice-secret' });
    assert.deepEqual(notices, ['warning: replica r1 failed with ***']);
  });
});

describe('backend: replica streams', { timeout: 30_000 }, () => {
  it('relays an RFB handshake end to end through the ws endpoint', async () => {
    const rfb = await startFakeRfbServer();
    const backend = newBackend();
    const url = await startStreamServer(backend);
    const session = sessionOf(await backend.handlers.openProfileText({ text: profileJson(rfb.port), sourceName: 'dropped.json' }));
    const { streamId } = await backend.handlers.openReplicaStream({ sessionId: session.sessionId, replicaId: 'a' });
    assert.match(streamId, /^[A-Za-z0-9_-]{32}$/);
    const ui = uiStream(url + streamId);
    assert.equal((await ui.waitForBytes(12)).toString('latin1'), 'RFB 003.008\n');
    assert.deepEqual(ui.controls, [{ type: 'open' }]);
    ui.socket.send(Buffer.from('RFB 003.008\n'));
    assert.deepEqual([...(await ui.waitForBytes(2))], [1, 1]);
    ui.socket.send(Buffer.from([1]));
    assert.deepEqual([...(await ui.waitForBytes(4))], [0, 0, 0, 0]);
    const payload = randomBytes(3 * 1024 * 1024);
    // Frames of at most MAX_STREAM_FRAME_BYTES, as the renderer's stream transport sends them.
    for (let offset = 0; offset < payload.length; offset += MAX_STREAM_FRAME_BYTES) {
      ui.socket.send(payload.subarray(offset, offset + MAX_STREAM_FRAME_BYTES));
    }
    assert.equal(Buffer.compare(await ui.waitForBytes(payload.length), payload), 0);
    ui.socket.close();
    await ui.closed;
  });

  it('uses a stream id once, and refuses unknown and expired ids with a reason', async () => {
    const rfb = await startFakeRfbServer();
    const backend = newBackend({ streamIdTtlMs: 100 });
    const url = await startStreamServer(backend);
    const session = sessionOf(await backend.handlers.openProfileText({ text: profileJson(rfb.port), sourceName: 'dropped.json' }));
    const { streamId } = await backend.handlers.openReplicaStream({ sessionId: session.sessionId, replicaId: 'a' });
    const first = uiStream(url + streamId);
    await first.waitForBytes(12);
    const again = uiStream(url + streamId);
    await again.closed;
    assert.equal(again.closeReason(), 'unknown or expired stream id: open the stream again');
    assert.equal(rfb.connections(), 1);
    const unknown = uiStream(`${url}made-up-id`);
    await unknown.closed;
    assert.match(unknown.closeReason() ?? '', /unknown or expired stream id/);
    const expiredLines = (): number => logLines.filter((line) => line.includes('stream id expired unused')).length;
    const expiredBefore = expiredLines();
    const { streamId: expiring } = await backend.handlers.openReplicaStream({ sessionId: session.sessionId, replicaId: 'a' });
    await waitFor('the stream id to expire', () => expiredLines() > expiredBefore);
    const late = uiStream(url + expiring);
    await late.closed;
    assert.match(late.closeReason() ?? '', /unknown or expired stream id/);
    assert.equal(rfb.connections(), 1);
    await assert.rejects(backend.handlers.openReplicaStream({ sessionId: session.sessionId, replicaId: 'zz' }), /has no replica "zz"/);
    await assert.rejects(backend.handlers.openReplicaStream({ sessionId: 'nope', replicaId: 'a' }), /no open session "nope"/);
    first.socket.close();
  });

  it('tells the UI why a replica is unreachable', async () => {
    const backend = newBackend();
    const url = await startStreamServer(backend);
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const session = sessionOf(await backend.handlers.quickConnect({ endpoints: `127.0.0.1::${port}` }));
    const { streamId } = await backend.handlers.openReplicaStream({ sessionId: session.sessionId, replicaId: 'r1' });
    const ui = uiStream(url + streamId);
    await ui.closed;
    assert.deepEqual(ui.controls, [{ type: 'close', reason: `127.0.0.1:${port} refused the connection — is the VNC server running?` }]);
  });

  it('closes only the stream that sends a malformed control frame or an oversized data frame', async () => {
    const rfb = await startFakeRfbServer();
    const backend = newBackend();
    const url = await startStreamServer(backend);
    const session = sessionOf(await backend.handlers.openProfileText({ text: profileJson(rfb.port), sourceName: 'dropped.json' }));
    const open = async () => uiStream(url + (await backend.handlers.openReplicaStream({ sessionId: session.sessionId, replicaId: 'a' })).streamId);
    const bad = await open();
    const huge = await open();
    const good = await open();
    await bad.waitForBytes(12);
    await huge.waitForBytes(12);
    await good.waitForBytes(12);
    bad.socket.send('{"type":"ack","bytes":"lots"}');
    assert.equal((await bad.closed).code, 1008);
    huge.socket.send(Buffer.alloc(MAX_STREAM_FRAME_BYTES + 1));
    assert.equal((await huge.closed).code, 1009);
    good.socket.send(Buffer.from('RFB 003.008\n'));
    assert.deepEqual([...(await good.waitForBytes(2))], [1, 1]);
    good.socket.close();
  });

  it('closes the streams of a closed session, and every stream on close()', async () => {
    const rfb = await startFakeRfbServer();
    const backend = newBackend();
    const url = await startStreamServer(backend);
    const first = sessionOf(await backend.handlers.openProfileText({ text: profileJson(rfb.port), sourceName: 'one.json' }));
    const second = sessionOf(await backend.handlers.openProfileText({ text: profileJson(rfb.port), sourceName: 'two.json' }));
    const streamOf = async (session: SessionInfo) =>
      uiStream(url + (await backend.handlers.openReplicaStream({ sessionId: session.sessionId, replicaId: 'a' })).streamId);
    const one = await streamOf(first);
    const two = await streamOf(second);
    await one.waitForBytes(12);
    await two.waitForBytes(12);
    await backend.handlers.closeSession({ sessionId: first.sessionId });
    await one.closed;
    assert.equal(one.closeReason(), 'the session was closed');
    assert.equal(two.closeReason(), undefined);
    await backend.close();
    await two.closed;
    assert.equal(two.closeReason(), 'RetroVisor is shutting down');
    await assert.rejects(backend.handlers.quickConnect({ endpoints: '127.0.0.1:1' }), /shut down/);
  });
});

describe('backend: the secret store', { timeout: 10_000 }, () => {
  it('uses the Secret Service through secret-tool unless a shell gives its own store', () => {
    assert.ok(newBackend().secrets instanceof LibsecretStore, 'the browser shell and the CLI use secret-tool');
    const store = new MemorySecretStore();
    assert.equal(newBackend({ secretStore: store }).secrets, store, "the Electron shell's safeStorage store is used as given");
  });

  it("tells the UI the keyring's status: its back end, or why nothing can be saved and what to do", async () => {
    const store = new MemorySecretStore();
    const backend = newBackend({ secretStore: store });
    assert.deepEqual(await backend.handlers.getKeyringStatus(), { available: true, backend: 'secret-service' });
    store.failWith = 'unavailable';
    assert.deepEqual(await backend.handlers.getKeyringStatus(), { available: false, reason: 'failing with unavailable', hint: 'a test' });
    await backend.close();
  });
});
