// The one `ws` endpoint helper both WebSocket endpoints use, over real sockets on 127.0.0.1: binary
// frames handed on, text frames checked by the direction's parser (anything else closes 1008 and is
// logged), oversized frames closed 1009, close reasons clipped to 123 bytes of UTF-8, late onClose. Plain Node.

import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import { MAX_CONTROL_FRAME_CHARS, parseStreamControlFromUi, REFUSED_STREAM_CONTROL_REASON, type StreamControlFromUi } from '../../../common/wire-control';
import { createLogger } from '../../../main/logger';
import { clipWsCloseReason, MAX_WS_CLOSE_REASON_BYTES, wsEndpoint, type WsEndpoint } from '../../../main/ws-endpoint';

const logLines: string[] = [];
const logger = createLogger({ sink: (line) => logLines.push(line), level: 'debug' });
const servers: WebSocketServer[] = [];

after(async () => {
  for (const server of servers) for (const client of server.clients) client.terminate();
  await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
});

/** A server whose next connection is wrapped by wsEndpoint, and a client connected to it. */
async function connectPair(maxBinaryBytes = 16): Promise<{
  endpoint: WsEndpoint<StreamControlFromUi>;
  client: WebSocket;
  received: string[];
  closed: Promise<{ code: number; reason: string }>;
}> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  servers.push(server);
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const received: string[] = [];
  const accepted = new Promise<WsEndpoint<StreamControlFromUi>>((resolve) =>
    server.once('connection', (socket) => {
      const endpoint = wsEndpoint(socket, {
        what: 'stream',
        maxBinaryBytes,
        parseControl: parseStreamControlFromUi,
        refusedControlReason: REFUSED_STREAM_CONTROL_REASON,
        logger,
      });
      endpoint.onBinary((bytes) => received.push(`binary ${bytes.length}`));
      endpoint.onControl((control) => received.push(JSON.stringify(control)));
      endpoint.onClose(() => received.push('closed'));
      resolve(endpoint);
    }),
  );
  const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
  const closed = new Promise<{ code: number; reason: string }>((resolve) => client.once('close', (code, reason) => resolve({ code, reason: reason.toString('utf8') })));
  await new Promise<void>((resolve, reject) => {
    client.once('open', () => resolve());
    client.once('error', reject);
  });
  return { endpoint: await accepted, client, received, closed };
}

/** The refusals logged so far: "close reason | problem". */
function refusals(): string[] {
  return logLines
    .map((line) => JSON.parse(line) as { message: string; reason?: string; problem?: string })
    .filter((line) => line.message === 'closing a stream socket')
    .map((line) => `${line.reason} | ${line.problem}`);
}

describe('clipWsCloseReason', { timeout: 10_000 }, () => {
  it('keeps a short reason and cuts a long one to 123 bytes of UTF-8 without splitting a character', () => {
    assert.equal(clipWsCloseReason('bye'), 'bye');
    assert.equal(clipWsCloseReason('x'.repeat(200)), 'x'.repeat(MAX_WS_CLOSE_REASON_BYTES));
    for (const character of ['é', '€', '😀']) {
      for (let prefix = 0; prefix < 4; prefix++) {
        const reason = 'a'.repeat(prefix) + character.repeat(100);
        const clipped = clipWsCloseReason(reason);
        const bytes = Buffer.byteLength(clipped, 'utf8');
        assert.ok(bytes <= MAX_WS_CLOSE_REASON_BYTES && bytes > MAX_WS_CLOSE_REASON_BYTES - 4, `${character} after ${prefix}: ${bytes} bytes`);
        assert.ok(reason.startsWith(clipped), 'a prefix of the reason');
        assert.ok(!clipped.includes('\uFFFD'), 'no broken character');
      }
    }
  });
});

describe('wsEndpoint', { timeout: 20_000 }, () => {
  it('hands binary frames and accepted control messages on, in order', async () => {
    const { client, received, endpoint, closed } = await connectPair();
    client.send(Buffer.alloc(16));
    client.send('{"type":"ack","bytes":16}');
    client.send('{"type":"close","reason":"done"}');
    endpoint.sendControl({ type: 'open' });
    const echoed = await new Promise<string>((resolve) => client.once('message', (data: Buffer) => resolve(data.toString('utf8'))));
    assert.equal(echoed, '{"type":"open"}');
    client.close(1000);
    await closed;
    await new Promise<void>((resolve) => endpoint.onClose(resolve));
    assert.deepEqual(received, ['binary 16', '{"type":"ack","bytes":16}', '{"type":"close","reason":"done"}', 'closed']);
  });

  it('closes with 1008 and logs why on a message the UI may not send, a malformed one, or an oversized text frame', async () => {
    const hostile = [
      '{"type":"open"}',
      '{"type":"ack","bytes":"lots"}',
      '{"type":"ack","bytes":1,"__proto__":{"x":1}}',
      '[{"type":"ack","bytes":1}]',
      'not json',
      `{"type":"close","reason":"${'x'.repeat(MAX_CONTROL_FRAME_CHARS)}"}`,
      '€'.repeat(MAX_CONTROL_FRAME_CHARS + 1),
    ];
    for (const text of hostile) {
      const before = refusals().length;
      const { client, received, closed, endpoint } = await connectPair();
      client.send(text);
      client.send('{"type":"ack","bytes":0}');
      assert.deepEqual(await closed, { code: 1008, reason: REFUSED_STREAM_CONTROL_REASON }, text.slice(0, 40));
      await new Promise<void>((resolve) => endpoint.onClose(resolve));
      assert.deepEqual(received, ['closed'], `${text.slice(0, 40)}: nothing handed on`);
      const logged = refusals().slice(before);
      assert.equal(logged.length, 1, text.slice(0, 40));
      assert.ok(logged[0]!.startsWith(`${REFUSED_STREAM_CONTROL_REASON} | `), logged[0]);
    }
  });

  it('closes with 1009 on a binary frame over the bound', async () => {
    const { client, received, closed, endpoint } = await connectPair(16);
    client.send(Buffer.alloc(17));
    client.send(Buffer.alloc(1));
    assert.equal((await closed).code, 1009);
    await new Promise<void>((resolve) => endpoint.onClose(resolve));
    assert.deepEqual(received, ['closed']);
  });

  it('clips a long close reason (ws throws on more than 123 bytes) and runs a late onClose soon', async () => {
    const { endpoint, closed } = await connectPair();
    const reason = `the input channel refused a frame: ${'é'.repeat(200)}`;
    endpoint.close(1008, reason);
    const seen = await closed;
    assert.equal(seen.code, 1008);
    assert.ok(reason.startsWith(seen.reason) && Buffer.byteLength(seen.reason) <= MAX_WS_CLOSE_REASON_BYTES);
    await new Promise<void>((resolve) => endpoint.onClose(resolve));
    await new Promise<void>((resolve) => endpoint.onClose(resolve));
  });
});
