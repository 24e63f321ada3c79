// The browser shell's stream transport: StreamControl text frames, binary data, acknowledgements,
// early sends and the upstream limit, over a fake WebSocket. Plain Node.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_STREAM_FRAME_BYTES, STREAM_UPSTREAM_LIMIT_BYTES, type ByteStreamHandlers } from '../../../common/contract';
import { MALFORMED_STREAM_CONTROL_REASON } from '../../../common/wire-control';
import { openBrowserStream, UPSTREAM_OVERFLOW_REASON } from '../../../renderer/backend/browser-stream';
import { FakeWebSocket } from './fake-web-socket';

interface Recorded {
  opens: number;
  data: number[][];
  closes: string[];
}

function open(): { socket: FakeWebSocket; recorded: Recorded; stream: ReturnType<typeof openBrowserStream> } {
  const recorded: Recorded = { opens: 0, data: [], closes: [] };
  const handlers: ByteStreamHandlers = {
    onOpen: () => (recorded.opens += 1),
    onData: (bytes) => recorded.data.push(Array.from(bytes)),
    onClose: (reason) => recorded.closes.push(reason),
  };
  let socket: FakeWebSocket | null = null;
  const stream = openBrowserStream('ws://127.0.0.1:1/secret/stream/st1', handlers, (url) => (socket = new FakeWebSocket(url)));
  assert.ok(socket);
  return { socket, recorded, stream };
}

describe('openBrowserStream', { timeout: 60_000 }, () => {
  it('asks for ArrayBuffers and reports open only when the back end says so', () => {
    const { socket, recorded } = open();
    assert.equal(socket.binaryType, 'arraybuffer');
    socket.open();
    assert.equal(recorded.opens, 0);
    socket.receive('{"type":"open"}');
    assert.equal(recorded.opens, 1);
  });

  it('ends the stream, saying why, when the back end sends a malformed control message', () => {
    const malformed = ['{"type":"open"', '{"type":"ack","bytes":3}', '{"type":"close"}', '{"type":"close","reason":7}', '[]', 'null', '{"type":"open","extra":1}'];
    for (const text of malformed) {
      const { socket, recorded } = open();
      socket.open();
      socket.receive(text);
      socket.receive('{"type":"open"}');
      socket.drop(1000);
      assert.equal(recorded.opens, 0, text);
      assert.equal(recorded.closes.length, 1, text);
      assert.ok(recorded.closes[0]!.startsWith(MALFORMED_STREAM_CONTROL_REASON), `${text}: ${recorded.closes[0]}`);
      assert.equal(socket.closeCalls, 1, text);
    }
  });

  it('ends the stream when the back end says "open" twice', () => {
    const { socket, recorded } = open();
    socket.open();
    socket.receive('{"type":"open"}');
    socket.receive('{"type":"open"}');
    assert.equal(recorded.opens, 1);
    assert.deepEqual(recorded.closes, [`${MALFORMED_STREAM_CONTROL_REASON} ("open" twice)`]);
  });

  it('ends with the WebSocket close reason when the back end gives one', () => {
    const { socket, recorded } = open();
    socket.open();
    socket.drop(1008, 'the back end refused a malformed stream control message');
    assert.deepEqual(recorded.closes, ['the back end refused a malformed stream control message']);
  });

  it('passes binary frames on as bytes and acknowledges with a text frame', () => {
    const { socket, recorded, stream } = open();
    socket.open();
    socket.receive('{"type":"open"}');
    socket.receive(new Uint8Array([1, 2, 3]).buffer);
    stream.ack(3);
    assert.deepEqual(recorded.data, [[1, 2, 3]]);
    assert.deepEqual(socket.sentControls(), [{ type: 'ack', bytes: 3 }]);
  });

  it('queues what is sent before the socket is up, then sends it in order', () => {
    const { socket, stream } = open();
    stream.send(new Uint8Array([1]));
    stream.send(new Uint8Array([2, 3]));
    assert.equal(socket.sent.length, 0);
    socket.open();
    assert.deepEqual(socket.sent.map((frame) => Array.from(frame as Uint8Array)), [[1], [2, 3]]);
  });

  it('splits a send larger than one frame', () => {
    const { socket, stream } = open();
    socket.open();
    stream.send(new Uint8Array(MAX_STREAM_FRAME_BYTES + 10));
    assert.deepEqual(socket.sent.map((frame) => (frame as Uint8Array).byteLength), [MAX_STREAM_FRAME_BYTES, 10]);
  });

  it('ends with the back end\'s reason on a close message, once', () => {
    const { socket, recorded } = open();
    socket.open();
    socket.receive('{"type":"close","reason":"could not reach 127.0.0.1:5901: connection refused"}');
    socket.drop(1000);
    assert.deepEqual(recorded.closes, ['could not reach 127.0.0.1:5901: connection refused']);
    assert.equal(socket.closeCalls, 1);
  });

  it('ends with a plain reason when the socket just drops', () => {
    const { socket, recorded } = open();
    socket.open();
    socket.drop(1006);
    assert.deepEqual(recorded.closes, ['the stream to the back end closed (code 1006)']);
  });

  it('does not call back after the UI closed it', () => {
    const { socket, recorded, stream } = open();
    socket.open();
    stream.close();
    socket.receive(new Uint8Array([1]).buffer);
    socket.drop(1000);
    stream.ack(1);
    assert.equal(socket.closeCalls, 1);
    assert.deepEqual(recorded, { opens: 0, data: [], closes: [] });
    assert.deepEqual(socket.sentControls(), []);
  });

  it('closes the stream when the server stops reading and the upstream queue overflows', () => {
    const { socket, recorded, stream } = open();
    socket.open();
    socket.bufferedAmount = STREAM_UPSTREAM_LIMIT_BYTES + 1;
    stream.send(new Uint8Array([1]));
    assert.deepEqual(recorded.closes, [UPSTREAM_OVERFLOW_REASON]);
    assert.equal(socket.closeCalls, 1);
  });
});
