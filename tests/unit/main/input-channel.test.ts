// The back end's input channel over `ws`, against echo servers on 127.0.0.1: one frame's bytes reach
// every named stream's server, whole, between the stream's own whole frames; unknown, unattached and
// closed streams get nothing while the others still do; malformed frames close the channel; a sync is
// answered after earlier frames; a relay's upstream limit and closed state hold for input too.

import assert from 'node:assert/strict';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocket, WebSocketServer } from 'ws';
import type { InputChannelControl, SessionInfo, StreamControl } from '../../../common/contract';
import { encodeInputFrame, type InputTarget } from '../../../common/input/input-frame';
import { REFUSED_INPUT_CONTROL_REASON } from '../../../common/wire-control';
import { createBackend, type Backend } from '../../../main/backend';
import { wsInputChannelEndpoint } from '../../../main/input-channel';
import { createLogger } from '../../../main/logger';
import { startStreamRelay, wsStreamEndpoint, type StreamEndpoint } from '../../../main/stream-relay';

const logLines: string[] = [];
const logger = createLogger({ sink: (line) => logLines.push(line), level: 'debug' });
const cleanups: (() => Promise<void> | void)[] = [];

after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** Polls `predicate` (socket byte counts have no event of their own here) until true; fails after `timeoutMs`. */
async function waitFor(what: string, predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** A TCP server that records what each connection receives; `echo` sends it back too. */
async function startServer(options: { echo?: boolean; paused?: boolean } = {}): Promise<{ port: number; received: Buffer[] }> {
  const received: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    const index = received.push(Buffer.alloc(0)) - 1;
    sockets.add(socket);
    socket.on('error', () => undefined);
    if (options.paused === true) {
      socket.pause();
      return;
    }
    socket.on('data', (chunk: Buffer) => {
      received[index] = Buffer.concat([received[index]!, chunk]);
      if (options.echo === true) socket.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => {
    for (const socket of sockets) socket.destroy();
    server.close(() => resolve());
  }));
  return { port: (server.address() as net.AddressInfo).port, received };
}

/** The browser shell's two routes in miniature: /stream/<id> and /input. */
async function startShell(backend: Backend): Promise<string> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  server.on('connection', (socket, request) => {
    const url = request.url ?? '';
    if (url === '/input') backend.attachInputChannel(wsInputChannelEndpoint(socket, logger));
    else backend.attachStream(decodeURIComponent(url.replace(/^\/stream\//, '')), wsStreamEndpoint(socket, { logger }));
  });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  cleanups.push(() => new Promise<void>((resolve) => {
    for (const client of server.clients) client.terminate();
    server.close(() => resolve());
  }));
  return `ws://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
}

function newBackend(): Backend {
  const backend = createBackend({ shell: 'browser', headless: false, version: '9.9.9', logger });
  cleanups.push(() => backend.close());
  return backend;
}

/** Opens a socket and waits until it is open. */
async function connect(url: string): Promise<WebSocket> {
  const socket = new WebSocket(url);
  socket.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('close', () => reject(new Error('closed before it opened')));
  });
  return socket;
}

/** A replica stream as the renderer drives it; resolves once the back end says the server is reached. */
async function openStream(base: string, backend: Backend, session: SessionInfo, replicaId: string): Promise<{ streamId: string; socket: WebSocket; closed: Promise<void> }> {
  const { streamId } = await backend.handlers.openReplicaStream({ sessionId: session.sessionId, replicaId });
  const socket = new WebSocket(`${base}/stream/${streamId}`);
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  await new Promise<void>((resolve) => {
    socket.on('message', (data: Buffer, isBinary) => {
      if (isBinary) socket.send(JSON.stringify({ type: 'ack', bytes: data.length }));
      else if ((JSON.parse(data.toString()) as StreamControl).type === 'open') resolve();
    });
  });
  return { streamId, socket, closed };
}

/** The input channel's socket, with its sync answers. */
async function openInput(base: string) {
  const socket = await connect(`${base}/input`);
  const synced: number[] = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  socket.on('message', (data: Buffer, isBinary) => {
    if (isBinary) return;
    const control = JSON.parse(data.toString()) as InputChannelControl;
    if (control.type === 'synced') synced.push(control.token);
  });
  return {
    socket,
    synced,
    closed,
    send: (targets: InputTarget[]) => socket.send(encodeInputFrame(targets)),
    async sync(token: number): Promise<void> {
      socket.send(JSON.stringify({ type: 'sync', token }));
      await waitFor(`sync ${token}`, () => synced.includes(token));
    },
  };
}

async function sessionOn(backend: Backend, ports: number[]): Promise<SessionInfo> {
  const result = await backend.handlers.quickConnect({ endpoints: ports.map((port) => `127.0.0.1::${port}`).join(', ') });
  assert.ok(result.ok);
  return result.session;
}

describe('input channel (back end)', { timeout: 30_000 }, () => {
  it('writes one frame to every named stream; input and the stream\'s own frames arrive whole, each in order', async () => {
    const one = await startServer();
    const two = await startServer();
    const backend = newBackend();
    const base = await startShell(backend);
    const session = await sessionOn(backend, [one.port, two.port]);
    const first = await openStream(base, backend, session, session.replicas[0]!.id);
    const second = await openStream(base, backend, session, session.replicas[1]!.id);
    const input = await openInput(base);
    const OWN_BYTES = 20_000;
    const ROUNDS = 50;
    for (let round = 0; round < ROUNDS; round++) {
      // The stream's own traffic (an update request, a long clipboard provide) on its own socket…
      first.socket.send(Buffer.alloc(OWN_BYTES, 0x6f));
      // …and one input dispatch for both replicas on the input channel (a KeyEvent each, numbered).
      input.send([
        { streamId: first.streamId, bytes: Uint8Array.of(4, 1, 0, 0, 0, 0, 0, round) },
        { streamId: second.streamId, bytes: Uint8Array.of(4, 1, 0, 0, 0, 0, 0, round) },
      ]);
    }
    await input.sync(1);
    await waitFor('everything at the servers', () => one.received[0]?.length === ROUNDS * (OWN_BYTES + 8) && two.received[0]?.length === ROUNDS * 8);
    assert.deepEqual([...two.received[0]!].filter((_byte, index) => index % 8 === 7), Array.from({ length: ROUNDS }, (_unused, round) => round));
    // Server one: whole 8-byte key events (in order) between whole 20 000-byte own frames.
    const bytes = one.received[0]!;
    let offset = 0;
    let nextKey = 0;
    let ownFrames = 0;
    while (offset < bytes.length) {
      if (bytes[offset] === 4) {
        assert.deepEqual([...bytes.subarray(offset, offset + 8)], [4, 1, 0, 0, 0, 0, 0, nextKey]);
        nextKey++;
        offset += 8;
      } else {
        assert.ok(bytes.subarray(offset, offset + OWN_BYTES).every((byte) => byte === 0x6f), `an own frame was split at ${offset}`);
        ownFrames++;
        offset += OWN_BYTES;
      }
    }
    assert.equal(nextKey, ROUNDS);
    assert.equal(ownFrames, ROUNDS);
    assert.deepEqual(input.synced, [1]);
  });

  it('gives nothing to unknown, unattached or closed streams, and still delivers to the others', async () => {
    const server = await startServer();
    const backend = newBackend();
    const base = await startShell(backend);
    const live = await sessionOn(backend, [server.port]);
    const doomed = await sessionOn(backend, [server.port]);
    const good = await openStream(base, backend, live, live.replicas[0]!.id);
    const closing = await openStream(base, backend, doomed, doomed.replicas[0]!.id);
    const { streamId: unattached } = await backend.handlers.openReplicaStream({ sessionId: live.sessionId, replicaId: live.replicas[0]!.id });
    await backend.handlers.closeSession({ sessionId: doomed.sessionId });
    await closing.closed;
    const input = await openInput(base);
    const key = Uint8Array.of(4, 1, 0, 0, 0, 0, 0, 0x61);
    const dropLines = (): string[] => logLines.filter((line) => line.includes('input for a stream that is not open was dropped'));
    const dropsBefore = dropLines().length;
    input.send([
      { streamId: 'ForeignStreamIdNeverHandedOut000', bytes: key },
      { streamId: unattached, bytes: key },
      { streamId: closing.streamId, bytes: key },
      { streamId: good.streamId, bytes: key },
    ]);
    await input.sync(7);
    await waitFor('the good stream\'s key', () => server.received[0]?.length === 8);
    // One line per frame (nothing is logged between two writes), counting the targets that got nothing.
    const drops = dropLines().slice(dropsBefore);
    assert.equal(drops.length, 1);
    assert.match(drops[0]!, /"targets":3/);
    // The unattached id, attached now, received nothing of it: a later key sent to it arrives alone
    // (the server reads one connection in order, so a dropped frame held back would come first).
    const late = new WebSocket(`${base}/stream/${unattached}`);
    late.on('error', () => undefined);
    await new Promise<void>((resolve) => {
      late.on('message', (data: Buffer, isBinary) => {
        if (!isBinary && (JSON.parse(data.toString()) as StreamControl).type === 'open') resolve();
      });
    });
    const laterKey = Uint8Array.of(4, 1, 0, 0, 0, 0, 0, 0x62);
    input.send([{ streamId: unattached, bytes: laterKey }]);
    await input.sync(8);
    await waitFor('the later key at the late stream\'s server', () => (server.received[2]?.length ?? 0) >= laterKey.length);
    assert.deepEqual([...server.received[2]!], [...laterKey]);
    assert.equal(server.received[1]!.length, 0, 'the closed session\'s server got nothing');
    late.close();
  });

  it('closes the channel on a malformed frame (writing nothing of it) or a text frame that is not a sync', async () => {
    const server = await startServer();
    const backend = newBackend();
    const base = await startShell(backend);
    const session = await sessionOn(backend, [server.port]);
    const stream = await openStream(base, backend, session, session.replicas[0]!.id);
    const truncated = await openInput(base);
    const frame = encodeInputFrame([{ streamId: stream.streamId, bytes: Uint8Array.of(5, 0, 0, 1, 0, 1) }]);
    truncated.socket.send(frame.subarray(0, frame.byteLength - 1));
    assert.deepEqual(await truncated.closed.then(({ code, reason }) => [code, /refused an input frame/.test(reason)]), [1008, true]);
    const chatty = await openInput(base);
    chatty.socket.send('{"type":"hello"}');
    assert.deepEqual(await chatty.closed.then(({ code, reason }) => [code, reason]), [1008, REFUSED_INPUT_CONTROL_REASON]);
    // The stream itself is untouched, and a new channel works.
    const again = await openInput(base);
    again.send([{ streamId: stream.streamId, bytes: Uint8Array.of(5, 0, 0, 1, 0, 1) }]);
    await again.sync(1);
    await waitFor('the pointer event', () => server.received[0]?.length === 6);
  });
});

/** A UI side for relays driven directly: ignores data, resolves `opened` on the relay's open control. */
function quietEndpoint(): StreamEndpoint & { closed: boolean; opened: Promise<void> } {
  const closeListeners: (() => void)[] = [];
  let markOpened: () => void = () => undefined;
  const endpoint = {
    closed: false,
    opened: new Promise<void>((resolve) => (markOpened = resolve)),
    sendData: () => undefined,
    sendControl: (control: StreamControl) => {
      if (control.type === 'open') markOpened();
    },
    close() {
      endpoint.closed = true;
      for (const listener of closeListeners) listener();
    },
    onData: () => undefined,
    onControl: () => undefined,
    onClose: (listener: () => void) => void closeListeners.push(listener),
  };
  return endpoint;
}

describe('StreamRelay.writeInput', { timeout: 30_000 }, () => {
  it('writes nothing before the server is reached or after the stream ended', async () => {
    const server = await startServer();
    let release: (socket: Duplex) => void = () => undefined;
    const endpoint = quietEndpoint();
    const relay = startStreamRelay(endpoint, () => new Promise<Duplex>((resolve) => (release = resolve)), { logger });
    assert.equal(relay.writeInput(Uint8Array.of(1)), false, 'still connecting');
    const socket = net.connect(server.port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    release(socket);
    await endpoint.opened;
    assert.equal(relay.writeInput(Uint8Array.of(4, 1, 0, 0, 0, 0, 0, 0x61)), true);
    await waitFor('the key', () => server.received[0]?.length === 8);
    relay.close('test over');
    assert.equal(relay.writeInput(Uint8Array.of(1)), false, 'closed');
  });

  it('closes a stream whose server stops reading input, as for its own frames', async () => {
    const server = await startServer({ paused: true });
    const endpoint = quietEndpoint();
    const relay = startStreamRelay(endpoint, async () => {
      const socket = net.connect(server.port, '127.0.0.1');
      await new Promise((resolve) => socket.once('connect', resolve));
      return socket;
    }, { logger, upstreamLimitBytes: 64 * 1024 });
    await endpoint.opened;
    const chunk = new Uint8Array(16 * 1024);
    let writes = 0;
    while (relay.writeInput(chunk)) {
      writes++;
      assert.ok(writes < 10_000, 'the stalled stream was never closed');
    }
    assert.match(await relay.done, /the VNC server stopped reading/);
    assert.ok(endpoint.closed);
  });
});
