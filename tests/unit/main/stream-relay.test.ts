// Replica stream relays against real TCP servers on 127.0.0.1: bytes intact both ways, the window
// toward the UI never exceeded (a flooding server is paused, then resumed on ack), a server that stops
// reading is cut off without disturbing another stream, and every end is explained to the UI.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { MAX_STREAM_FRAME_BYTES, STREAM_ACK_EVERY_BYTES, STREAM_WINDOW_BYTES, type StreamControlFromBackend, type StreamControlFromUi } from '../../../common/contract';
import { parseStreamControlFromBackend } from '../../../common/wire-control';
import { createLogger } from '../../../main/logger';
import { connectReplica } from '../../../main/replica-transport';
import { SshL0Pool } from '../../../main/ssh-l0';
import { startStreamRelay, type StreamEndpoint } from '../../../main/stream-relay';

const logLines: string[] = [];
const logger = createLogger({ sink: (line) => logLines.push(line), level: 'debug' });
const servers: net.Server[] = [];
const serverSockets: net.Socket[] = [];

after(async () => {
  for (const socket of serverSockets) socket.destroy();
  await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
});

/** A TCP server on a free loopback port; `onSocket` gets each connection. */
async function startServer(onSocket: (socket: net.Socket) => void): Promise<{ port: number; sockets: net.Socket[] }> {
  const sockets: net.Socket[] = [];
  const server = net.createServer((socket) => {
    sockets.push(socket);
    serverSockets.push(socket);
    socket.on('error', () => undefined);
    onSocket(socket);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  return { port: address.port, sockets };
}

function connectTo(port: number): (signal: AbortSignal) => Promise<Duplex> {
  return (signal) =>
    connectReplica(
      { id: 'r1', label: 'r1', vnc: { host: '127.0.0.1', port, tunnel: false } },
      { profile: { version: 1, name: 'test', replicas: [], l0: {} }, baseDir: '.', ssh: new SshL0Pool({ logger }) },
      signal,
    );
}

/** The UI side of a stream in memory: records what the relay sends and lets the test act as the UI. */
function memoryEndpoint() {
  const dataListeners: ((bytes: Uint8Array) => void)[] = [];
  const controlListeners: ((control: StreamControlFromUi) => void)[] = [];
  const closeListeners: (() => void)[] = [];
  const state = {
    frames: [] as Buffer[],
    receivedBytes: 0,
    ackedBytes: 0,
    maxUnacknowledged: 0,
    largestFrame: 0,
    controls: [] as StreamControlFromBackend[],
    events: [] as string[],
    closed: false,
    keepFrames: true,
    onFrame: null as ((frame: Buffer) => void) | null,
  };
  const endpoint: StreamEndpoint = {
    sendData(bytes) {
      assert.ok(!state.closed, 'data after close');
      const frame = Buffer.from(bytes);
      state.receivedBytes += frame.length;
      state.largestFrame = Math.max(state.largestFrame, frame.length);
      state.maxUnacknowledged = Math.max(state.maxUnacknowledged, state.receivedBytes - state.ackedBytes);
      if (state.keepFrames) state.frames.push(frame);
      state.events.push('data');
      state.onFrame?.(frame);
    },
    sendControl(control) {
      assert.ok(!state.closed, 'control after close');
      state.controls.push(control);
      state.events.push(control.type);
    },
    close() {
      if (state.closed) return;
      state.closed = true;
      state.events.push('closed');
      for (const listener of closeListeners) listener();
    },
    onData: (listener) => void dataListeners.push(listener),
    onControl: (listener) => void controlListeners.push(listener),
    onClose: (listener) => void closeListeners.push(listener),
  };
  return {
    endpoint,
    state,
    /** The UI sends bytes toward the server. */
    send(bytes: Uint8Array) {
      for (const listener of dataListeners) listener(bytes);
    },
    ack(bytes: number) {
      state.ackedBytes += bytes;
      for (const listener of controlListeners) listener({ type: 'ack', bytes });
    },
    /** The UI side goes away (window closed). */
    vanish() {
      state.closed = true;
      for (const listener of closeListeners) listener();
    },
    closeReason(): string | undefined {
      const close = state.controls.find((control) => control.type === 'close');
      return close?.type === 'close' ? close.reason : undefined;
    },
  };
}

/** Polls `predicate` (byte counts have no event of their own here) until true; fails after `timeoutMs`. */
async function waitFor(what: string, predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

describe('startStreamRelay', { timeout: 60_000 }, () => {
  it('relays bytes both ways intact and in order, after an open control', async () => {
    const { port } = await startServer((socket) => socket.pipe(socket));
    const ui = memoryEndpoint();
    const relay = startStreamRelay(ui.endpoint, connectTo(port), { logger });
    await waitFor('open', () => ui.state.controls.some((control) => control.type === 'open'));
    const sent: Buffer[] = [];
    for (let index = 0; index < 300; index++) {
      const chunk = randomBytes(1 + ((index * 7919) % 20_000));
      sent.push(chunk);
      ui.send(chunk);
    }
    const expected = Buffer.concat(sent);
    await waitFor('the echo', () => ui.state.receivedBytes >= expected.length);
    assert.equal(Buffer.compare(Buffer.concat(ui.state.frames), expected), 0);
    assert.equal(ui.state.events[0], 'open');
    relay.close('test over');
    assert.equal(await relay.done, 'test over');
    assert.equal(ui.closeReason(), 'test over');
    assert.ok(ui.state.closed);
  });

  it('never has more than the window unacknowledged toward a UI that does not ack, and resumes on ack (100 MiB flood)', async () => {
    const totalBytes = 100 * 1024 * 1024;
    // A block whose length is not a multiple of any frame or chunk size, so misordering would show.
    const block = randomBytes(1024 * 1024 + 7);
    let serverWritten = 0;
    const { port } = await startServer((socket) => {
      const writeMore = (): void => {
        while (serverWritten < totalBytes) {
          const offset = serverWritten % block.length;
          const piece = block.subarray(offset, Math.min(block.length, offset + totalBytes - serverWritten));
          serverWritten += piece.length;
          if (!socket.write(piece)) {
            socket.once('drain', writeMore);
            return;
          }
        }
        socket.end();
      };
      writeMore();
    });
    const ui = memoryEndpoint();
    ui.state.keepFrames = false;
    let verified = 0;
    let mismatch = false;
    let frameArrived: () => void = () => undefined;
    ui.state.onFrame = (frame) => {
      let offset = 0;
      while (offset < frame.length) {
        const blockOffset = verified % block.length;
        const length = Math.min(frame.length - offset, block.length - blockOffset);
        if (!frame.subarray(offset, offset + length).equals(block.subarray(blockOffset, blockOffset + length))) mismatch = true;
        offset += length;
        verified += length;
      }
      frameArrived();
    };
    const relay = startStreamRelay(ui.endpoint, connectTo(port), { logger });

    // Phase 1: the UI reads nothing. The relay must stop at exactly one window and stay there.
    await waitFor('a full window', () => ui.state.receivedBytes >= STREAM_WINDOW_BYTES);
    // A deliberate quiet period, not synchronisation: the assertion is that nothing more arrives while
    // the UI acks nothing, and no event marks "nothing happened"; a relay overrunning the window sends
    // the server's next chunk as soon as it reads it, well within this time.
    await sleep(300);
    assert.equal(ui.state.receivedBytes, STREAM_WINDOW_BYTES, 'bytes sent to the UI beyond the window');
    assert.ok(serverWritten < totalBytes, 'the server should be blocked by back-pressure');

    // Phase 2: the UI consumes and acks in the usual steps; everything arrives, in order. Between acks
    // it waits for the next frame (or the end); a stalled relay fails on the suite's timeout.
    let ended = false;
    void relay.done.then(() => {
      ended = true;
      frameArrived();
    });
    while (ui.state.receivedBytes < totalBytes && !ui.state.closed && !ended) {
      const unacknowledged = ui.state.receivedBytes - ui.state.ackedBytes;
      if (unacknowledged >= STREAM_ACK_EVERY_BYTES) ui.ack(unacknowledged);
      else await new Promise<void>((resolve) => (frameArrived = resolve));
    }
    ui.ack(ui.state.receivedBytes - ui.state.ackedBytes);
    assert.equal(await relay.done, 'the VNC server closed the connection');
    assert.equal(ui.state.receivedBytes, totalBytes);
    assert.equal(verified, totalBytes);
    assert.ok(!mismatch, 'bytes arrived altered or out of order');
    assert.ok(ui.state.maxUnacknowledged <= STREAM_WINDOW_BYTES, `unacknowledged reached ${ui.state.maxUnacknowledged}`);
    assert.ok(ui.state.largestFrame <= MAX_STREAM_FRAME_BYTES);
    assert.equal(ui.closeReason(), 'the VNC server closed the connection');
  });

  it('closes a stream whose server stops reading, while another stream keeps working', async () => {
    const stalled = await startServer((socket) => socket.pause());
    const echo = await startServer((socket) => socket.pipe(socket));
    const stalledUi = memoryEndpoint();
    const echoUi = memoryEndpoint();
    const stalledRelay = startStreamRelay(stalledUi.endpoint, connectTo(stalled.port), { logger });
    const echoRelay = startStreamRelay(echoUi.endpoint, connectTo(echo.port), { logger });
    await waitFor('both open', () => stalledUi.state.controls.length > 0 && echoUi.state.controls.length > 0);

    const frame = Buffer.alloc(MAX_STREAM_FRAME_BYTES, 0x41);
    let flooded = 0;
    while (!stalledUi.state.closed) {
      stalledUi.send(frame);
      flooded += frame.length;
      assert.ok(flooded < 512 * 1024 * 1024, 'the stalled stream was never closed');
      // The other stream stays responsive throughout.
      const before = echoUi.state.receivedBytes;
      echoUi.send(Buffer.from('ping'));
      await waitFor('the echo of the other stream', () => echoUi.state.receivedBytes >= before + 4);
      echoUi.ack(echoUi.state.receivedBytes - echoUi.state.ackedBytes);
    }
    assert.match(await stalledRelay.done, /the VNC server stopped reading: \d+\.\d MiB of input is waiting for it/);
    assert.match(stalledUi.closeReason() ?? '', /stopped reading/);
    assert.ok(stalledUi.state.closed);

    const before = echoUi.state.receivedBytes;
    echoUi.send(Buffer.from('still alive'));
    await waitFor('the other stream after the close', () => echoUi.state.receivedBytes >= before + 11);
    assert.ok(!echoUi.state.closed);
    echoRelay.close('test over');
  });

  it('delivers the server\'s last bytes, then a close control with the reason, then closes', async () => {
    const { port } = await startServer((socket) => {
      socket.write('RFB 003.008\n');
      socket.end('\x00\x00\x00\x1dAuthentication failure: too many');
    });
    const ui = memoryEndpoint();
    const relay = startStreamRelay(ui.endpoint, connectTo(port), { logger });
    assert.equal(await relay.done, 'the VNC server closed the connection');
    assert.equal(Buffer.concat(ui.state.frames).toString('latin1'), 'RFB 003.008\n\x00\x00\x00\x1dAuthentication failure: too many');
    assert.deepEqual(ui.state.events.filter((event) => event !== 'data'), ['open', 'close', 'closed']);
    assert.equal(ui.state.events.at(-2), 'close');
    assert.equal(ui.closeReason(), 'the VNC server closed the connection');
  });

  it('explains an unreachable server in words the user can act on', async () => {
    const unused = await startServer(() => undefined);
    const port = unused.port;
    await new Promise<void>((resolve) => servers.pop()!.close(() => resolve()));
    const ui = memoryEndpoint();
    const relay = startStreamRelay(ui.endpoint, connectTo(port), { logger });
    assert.equal(await relay.done, `127.0.0.1:${port} refused the connection — is the VNC server running?`);
    assert.deepEqual(ui.state.events, ['close', 'closed']);
  });

  it('closes the server socket when the UI goes away, and cuts a UI that acks bytes it never got', async () => {
    const { port, sockets } = await startServer(() => undefined);
    const ui = memoryEndpoint();
    const relay = startStreamRelay(ui.endpoint, connectTo(port), { logger });
    await waitFor('open', () => ui.state.controls.length > 0);
    await waitFor('the server connection', () => sockets.length === 1);
    const serverSide = sockets[0]!;
    const serverClosed = new Promise<void>((resolve) => serverSide.once('close', () => resolve()));
    ui.vanish();
    assert.equal(await relay.done, 'the viewer closed the stream');
    await serverClosed;

    const other = memoryEndpoint();
    const otherRelay = startStreamRelay(other.endpoint, connectTo(port), { logger });
    await waitFor('open', () => other.state.controls.length > 0);
    other.ack(1);
    assert.match(await otherRelay.done, /acknowledged 1 bytes but only 0 were unacknowledged/);
  });

  it('refuses and logs an event its state does not allow, instead of dropping it silently', async () => {
    const { port } = await startServer(() => undefined);
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const ui = memoryEndpoint();
    const relay = startStreamRelay(
      ui.endpoint,
      async (signal) => {
        await gate;
        return connectTo(port)(signal);
      },
      { logger },
    );
    const refusals = () =>
      logLines
        .map((line) => JSON.parse(line) as { level: string; message: string; state?: string; event?: string })
        .filter((line) => line.message === 'stream relay: event refused in this state')
        .map(({ level, state, event }) => `${level} ${state} ${event}`);
    const before = refusals().length;
    assert.equal(relay.writeInput(Uint8Array.of(1)), false, 'no input before the server is reached');
    assert.deepEqual(refusals().slice(before), ['warn connecting input']);
    release();
    await waitFor('open', () => ui.state.controls.length > 0);
    assert.equal(relay.writeInput(Uint8Array.of(4, 1, 0, 0, 0, 0, 0, 0x61)), true);
    relay.close('done here');
    assert.equal(await relay.done, 'done here');
    // What the UI sent before it learned of the close: refused and logged at debug, nothing written.
    ui.send(Uint8Array.of(1));
    ui.ack(1);
    assert.equal(relay.writeInput(Uint8Array.of(1)), false);
    assert.deepEqual(refusals().slice(before), ['warn connecting input', 'debug closed viewer-data', 'debug closed viewer-ack', 'debug closed input']);
  });

  it('clips a long close reason to what the UI\'s parser accepts', async () => {
    const ui = memoryEndpoint();
    const relay = startStreamRelay(ui.endpoint, () => new Promise<Duplex>(() => undefined), { logger });
    relay.close('x'.repeat(5000));
    assert.equal((await relay.done).length, 5000, 'the log keeps the whole reason');
    const reason = ui.closeReason();
    assert.ok(reason !== undefined && parseStreamControlFromBackend({ type: 'close', reason }).ok);
  });
});
