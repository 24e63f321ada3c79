// The replica channel noVNC talks through: its shape, copy-on-send, ArrayBuffer delivery, the
// flow-control acknowledgements and holding bytes while noVNC's decoding is paused, over a fake byte
// stream. Plain Node.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { STREAM_ACK_EVERY_BYTES, type ByteStream, type ByteStreamHandlers } from '../../../common/contract';
import { CLOSED_BY_RETROVISOR, MAX_DELIVERY_BYTES, ReplicaChannel } from '../../../renderer/vnc/replica-channel';

/** noVNC 1.7's check (core/websock.js attach): own properties or the direct prototype's. */
const NOVNC_RAW_CHANNEL_PROPS = ['send', 'close', 'binaryType', 'onerror', 'onmessage', 'onopen', 'protocol', 'readyState'];

class FakeStream implements ByteStream {
  handlers: ByteStreamHandlers | null = null;
  readonly sent: Uint8Array[] = [];
  readonly acks: number[] = [];
  closed = 0;
  readonly log: string[];
  constructor(log: string[] = []) {
    this.log = log;
  }
  send(bytes: Uint8Array): void {
    this.sent.push(bytes);
  }
  ack(bytes: number): void {
    this.acks.push(bytes);
    this.log.push(`ack ${bytes}`);
  }
  close(): void {
    this.closed += 1;
  }
}

function openChannel(log: string[] = []): { channel: ReplicaChannel; stream: FakeStream } {
  const stream = new FakeStream(log);
  const channel = new ReplicaChannel((handlers) => {
    stream.handlers = handlers;
    return stream;
  });
  channel.start();
  return { channel, stream };
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('ReplicaChannel', { timeout: 60_000 }, () => {
  it('has every property noVNC checks, as own properties or on its direct prototype', () => {
    const channel = new ReplicaChannel(() => new FakeStream());
    const props = [...Object.keys(channel), ...Object.getOwnPropertyNames(Object.getPrototypeOf(channel))];
    for (const prop of NOVNC_RAW_CHANNEL_PROPS) assert.ok(props.includes(prop), `missing ${prop}`);
    assert.equal(channel.binaryType, 'arraybuffer');
    assert.equal(channel.readyState, 'connecting');
  });

  it('opens the stream only on start, and is open once the back end says so', () => {
    let opened = 0;
    const channel = new ReplicaChannel(() => {
      opened += 1;
      return new FakeStream();
    });
    assert.equal(opened, 0);
    channel.start();
    channel.start();
    assert.equal(opened, 1);
  });

  it('reports open through onopen', () => {
    const { channel, stream } = openChannel();
    let opens = 0;
    channel.onopen = () => (opens += 1);
    stream.handlers?.onOpen();
    stream.handlers?.onOpen();
    assert.equal(channel.readyState, 'open');
    assert.equal(opens, 1);
  });

  it('delivers exactly the received bytes as an ArrayBuffer, then acknowledges them', () => {
    const log: string[] = [];
    const { channel, stream } = openChannel(log);
    channel.onmessage = (event) => {
      assert.ok(event.data instanceof ArrayBuffer);
      log.push(`message ${Array.from(new Uint8Array(event.data)).join(',')}`);
    };
    stream.handlers?.onOpen();
    // A view into a larger buffer: only its own bytes must reach noVNC.
    const backing = new Uint8Array([9, 9, 1, 2, 3, 9]);
    stream.handlers?.onData(backing.subarray(2, 5));
    stream.handlers?.onData(new Uint8Array([4, 5]));
    assert.deepEqual(log, ['message 1,2,3', 'ack 3', 'message 4,5', 'ack 2']);
    assert.equal(channel.bytesReceived, 5);
  });

  it('acknowledges at least every STREAM_ACK_EVERY_BYTES of a large flow (every delivery)', () => {
    const { channel, stream } = openChannel();
    channel.onmessage = () => {};
    stream.handlers?.onOpen();
    const chunk = new Uint8Array(64 * 1024);
    for (let index = 0; index < 40; index += 1) stream.handlers?.onData(chunk);
    assert.equal(stream.acks.length, 40);
    assert.ok(stream.acks.every((bytes) => bytes <= STREAM_ACK_EVERY_BYTES));
    assert.equal(stream.acks.reduce((sum, bytes) => sum + bytes, 0), 40 * 64 * 1024);
  });

  it('holds bytes while noVNC is paused (undelivered, unacknowledged), then delivers them in order', () => {
    const log: string[] = [];
    const { channel, stream } = openChannel(log);
    channel.onmessage = (event) => log.push(`message ${Array.from(new Uint8Array(event.data)).join(',')}`);
    stream.handlers?.onOpen();
    stream.handlers?.onData(new Uint8Array([1]));
    channel.hold();
    stream.handlers?.onData(new Uint8Array([2]));
    stream.handlers?.onData(new Uint8Array([3, 4]));
    assert.deepEqual(log, ['message 1', 'ack 1'], 'held: the back end waits for the acknowledgement');
    channel.release();
    stream.handlers?.onData(new Uint8Array([5]));
    assert.deepEqual(log, ['message 1', 'ack 1', 'message 2', 'ack 1', 'message 3,4', 'ack 2', 'message 5', 'ack 1']);
    assert.equal(channel.bytesReceived, 5);
  });

  it(`hands noVNC a large frame in pieces of at most ${MAX_DELIVERY_BYTES} bytes (its queue grows to 8× a message), in order`, () => {
    const { channel, stream } = openChannel();
    const pieces: number[] = [];
    const received: number[] = [];
    channel.onmessage = (event) => {
      pieces.push(event.data.byteLength);
      received.push(...new Uint8Array(event.data));
    };
    stream.handlers?.onOpen();
    const frame = Uint8Array.from({ length: 3 * MAX_DELIVERY_BYTES + 10 }, (_, index) => index % 253);
    stream.handlers?.onData(frame);
    assert.deepEqual(pieces, [MAX_DELIVERY_BYTES, MAX_DELIVERY_BYTES, MAX_DELIVERY_BYTES, 10]);
    assert.deepEqual(stream.acks, pieces);
    assert.deepEqual(received, Array.from(frame));
  });

  it('holds the rest of a large frame, ahead of later bytes, when noVNC pauses on one of its pieces', () => {
    const { channel, stream } = openChannel();
    const received: number[] = [];
    let pieces = 0;
    channel.onmessage = (event) => {
      received.push(...new Uint8Array(event.data));
      pieces += 1;
      if (pieces === 2) channel.hold();
    };
    stream.handlers?.onOpen();
    const frame = Uint8Array.from({ length: 3 * MAX_DELIVERY_BYTES }, (_, index) => index % 251);
    stream.handlers?.onData(frame);
    stream.handlers?.onData(new Uint8Array([7, 7]));
    assert.equal(received.length, 2 * MAX_DELIVERY_BYTES);
    assert.deepEqual(stream.acks, [MAX_DELIVERY_BYTES, MAX_DELIVERY_BYTES], 'what is held is not acknowledged');
    channel.release();
    assert.deepEqual(received, [...Array.from(frame), 7, 7]);
  });

  it('keeps the rest held when noVNC pauses again while taking held bytes', () => {
    const { channel, stream } = openChannel();
    const received: number[] = [];
    channel.onmessage = (event) => {
      const first = new Uint8Array(event.data)[0]!;
      received.push(first);
      // noVNC runs out of budget while decoding message 2.
      if (first === 2) channel.hold();
    };
    stream.handlers?.onOpen();
    channel.hold();
    for (const byte of [1, 2, 3, 4]) stream.handlers?.onData(new Uint8Array([byte]));
    channel.release();
    assert.deepEqual(received, [1, 2]);
    stream.handlers?.onData(new Uint8Array([5]));
    assert.deepEqual(received, [1, 2], 'new bytes wait behind the held ones');
    channel.release();
    assert.deepEqual(received, [1, 2, 3, 4, 5]);
    assert.deepEqual(stream.acks, [1, 1, 1, 1, 1]);
  });

  /** An open channel on which noVNC paused, a byte (7) arrived and was held, then the back end closed; what the channel told noVNC. */
  function closedWhilePaused(): { channel: ReplicaChannel; stream: FakeStream; events: string[] } {
    const { channel, stream } = openChannel();
    const events: string[] = [];
    channel.onmessage = (event) => events.push(`message ${new Uint8Array(event.data)[0]}`);
    channel.onclose = (event) => events.push(`close ${event.reason}`);
    stream.handlers?.onOpen();
    channel.hold();
    stream.handlers?.onData(new Uint8Array([7]));
    stream.handlers?.onClose('the VNC server closed the connection');
    return { channel, stream, events };
  }

  it('reports a back-end close that comes while noVNC is paused only after the held bytes', () => {
    const { channel, events } = closedWhilePaused();
    assert.deepEqual(events, []);
    assert.equal(channel.readyState, 'open');
    channel.release();
    assert.deepEqual(events, ['message 7', 'close the VNC server closed the connection']);
    assert.equal(channel.readyState, 'closed');
  });

  it('closes with a reason when noVNC fails while decoding in a later task, the back end having closed meanwhile', async () => {
    const { channel, stream, events } = closedWhilePaused();
    // The pacer's resumed task: noVNC threw on what it had queued.
    channel.fail(new Error('The source width is 0.'));
    await flush();
    assert.deepEqual(events, ['close the VNC session failed: The source width is 0.'], 'held bytes dropped, one close with the failure');
    assert.equal(channel.readyState, 'closed');
    assert.deepEqual(stream.acks, []);
  });

  it('drops held bytes when RetroVisor closes the channel', async () => {
    const { channel, stream } = openChannel();
    let messages = 0;
    channel.onmessage = () => (messages += 1);
    stream.handlers?.onOpen();
    channel.hold();
    stream.handlers?.onData(new Uint8Array([1]));
    channel.close();
    channel.release();
    await flush();
    assert.equal(messages, 0);
    assert.equal(channel.readyState, 'closed');
    assert.deepEqual(stream.acks, []);
  });

  it('treats data before the open message as an open stream', () => {
    const { channel, stream } = openChannel();
    let opens = 0;
    let messages = 0;
    channel.onopen = () => (opens += 1);
    channel.onmessage = () => (messages += 1);
    stream.handlers?.onData(new Uint8Array([1]));
    assert.equal(opens, 1);
    assert.equal(messages, 1);
  });

  it('copies what it sends: noVNC reuses its send buffer', async () => {
    const { channel, stream } = openChannel();
    stream.handlers?.onOpen();
    const buffer = new Uint8Array([1, 2, 3, 4]);
    channel.send(buffer.subarray(0, 3));
    buffer.fill(0);
    await flush();
    assert.deepEqual(Array.from(stream.sent[0] ?? []), [1, 2, 3]);
    assert.notEqual(stream.sent[0]?.buffer, buffer.buffer);
  });

  it('sends what one task wrote as one frame (a long noVNC message is never split across frames)', async () => {
    const { channel, stream } = openChannel();
    stream.handlers?.onOpen();
    channel.send(new Uint8Array([1, 2]));
    channel.send(new Uint8Array([3]));
    assert.equal(stream.sent.length, 0);
    await flush();
    channel.send(new Uint8Array([4]));
    channel.close();
    assert.deepEqual(stream.sent.map((frame) => Array.from(frame)), [[1, 2, 3], [4]]);
  });

  it('sends nothing before the stream is open or after it closed', () => {
    const { channel, stream } = openChannel();
    channel.send(new Uint8Array([1]));
    stream.handlers?.onOpen();
    channel.close();
    channel.send(new Uint8Array([2]));
    assert.equal(stream.sent.length, 0);
  });

  it('reports a back-end close once, with its reason, and ignores later data', () => {
    const { channel, stream } = openChannel();
    const closes: string[] = [];
    let messages = 0;
    channel.onclose = (event) => closes.push(event.reason);
    channel.onmessage = () => (messages += 1);
    stream.handlers?.onOpen();
    stream.handlers?.onClose('the VNC server closed the connection');
    stream.handlers?.onClose('again');
    stream.handlers?.onData(new Uint8Array([1]));
    assert.deepEqual(closes, ['the VNC server closed the connection']);
    assert.equal(channel.readyState, 'closed');
    assert.equal(channel.closeReason, 'the VNC server closed the connection');
    assert.equal(messages, 0);
    assert.deepEqual(stream.acks, []);
  });

  it('closes the stream on close() and fires onclose once, asynchronously, like a WebSocket', async () => {
    const { channel, stream } = openChannel();
    const closes: string[] = [];
    channel.onclose = (event) => closes.push(event.reason);
    stream.handlers?.onOpen();
    channel.close();
    assert.equal(channel.readyState, 'closing');
    assert.equal(stream.closed, 1);
    assert.deepEqual(closes, []);
    await flush();
    stream.handlers?.onClose('late close from the back end');
    channel.close();
    assert.deepEqual(closes, [CLOSED_BY_RETROVISOR]);
    assert.equal(channel.readyState, 'closed');
    assert.equal(stream.closed, 1);
  });

  it('closes with a reason when noVNC throws while parsing, without acknowledging', async () => {
    const { channel, stream } = openChannel();
    channel.onmessage = () => {
      throw new Error('Receive queue buffer exceeded');
    };
    stream.handlers?.onOpen();
    stream.handlers?.onData(new Uint8Array([1, 2]));
    await flush();
    assert.equal(channel.readyState, 'closed');
    assert.equal(channel.closeReason, 'the VNC session failed: Receive queue buffer exceeded');
    assert.deepEqual(stream.acks, []);
  });

  it('closes with a reason when the stream cannot be opened', async () => {
    const channel = new ReplicaChannel(() => {
      throw new Error('no such stream');
    });
    const closes: string[] = [];
    channel.onclose = (event) => closes.push(event.reason);
    channel.start();
    await flush();
    assert.deepEqual(closes, ['could not open the stream to the VNC server: no such stream']);
  });
});
