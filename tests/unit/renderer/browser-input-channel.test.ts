// The browser shell's input channel transport over a fake WebSocket: syncs out, `synced` in through the
// strict parser, and a malformed message from the back end ending the channel with a reason. Plain Node.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { InputChannelHandlers } from '../../../common/contract';
import { MALFORMED_INPUT_CONTROL_REASON } from '../../../common/wire-control';
import { openBrowserInputChannel } from '../../../renderer/backend/browser-input-channel';
import { FakeWebSocket } from './fake-web-socket';

function open() {
  const synced: number[] = [];
  const closes: string[] = [];
  const handlers: InputChannelHandlers = { onSynced: (token) => void synced.push(token), onClose: (reason) => void closes.push(reason) };
  let socket: FakeWebSocket | null = null;
  const channel = openBrowserInputChannel('ws://127.0.0.1:1/secret/input', handlers, (url) => (socket = new FakeWebSocket(url)));
  assert.ok(socket);
  return { socket: socket as FakeWebSocket, channel, synced, closes };
}

describe('openBrowserInputChannel', { timeout: 10_000 }, () => {
  it('sends a sync as a text frame and reports the back end\'s synced', () => {
    const { socket, channel, synced, closes } = open();
    socket.open();
    channel.sync(4);
    assert.deepEqual(socket.sentControls(), [{ type: 'sync', token: 4 }]);
    socket.receive('{"type":"synced","token":4}');
    assert.deepEqual(synced, [4]);
    assert.deepEqual(closes, []);
  });

  it('ends the channel, saying the back end sent a malformed message, on anything but synced or close', () => {
    const malformed: (string | ArrayBuffer)[] = [
      '{"type":"synced"}',
      '{"type":"synced","token":"4"}',
      '{"type":"synced","token":-1}',
      '{"type":"synced","token":4,"extra":true}',
      '{"type":"sync","token":4}',
      '[{"type":"synced","token":4}]',
      'not json',
      new Uint8Array([1, 2]).buffer,
    ];
    for (const data of malformed) {
      const { socket, synced, closes } = open();
      socket.open();
      socket.receive(data);
      socket.receive('{"type":"synced","token":1}');
      socket.drop(1000);
      const label = typeof data === 'string' ? data : 'binary';
      assert.deepEqual(synced, [], label);
      assert.equal(closes.length, 1, label);
      assert.ok(closes[0]!.startsWith(MALFORMED_INPUT_CONTROL_REASON), `${label}: ${closes[0]}`);
      assert.equal(socket.closeCalls, 1, label);
    }
  });

  it('ends with the back end\'s reason on a close message or a WebSocket close reason', () => {
    const first = open();
    first.socket.open();
    first.socket.receive('{"type":"close","reason":"the back end refused an input frame: truncated"}');
    assert.deepEqual(first.closes, ['the back end refused an input frame: truncated']);
    const second = open();
    second.socket.open();
    second.socket.drop(1008, 'the back end refused a malformed input channel control message');
    assert.deepEqual(second.closes, ['the back end refused a malformed input channel control message']);
  });
});
