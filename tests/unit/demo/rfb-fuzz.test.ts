// Robustness of the demo RFB server: malformed messages drop only the offending client, and
// thousands of random messages never take the server down or disturb a well-behaved client.

import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, describe, it } from 'node:test';
import {
  assertSamePixels,
  ENC,
  RfbTestClient,
  type ServedGuest,
  startGuestServer,
  waitFor,
} from './rfb-test-client';

const servers: ServedGuest[] = [];
after(async () => {
  await Promise.all(servers.map((served) => served.server.close()));
});

const handled = { keys: 0, pointers: 0, cuts: 0 };

async function served(): Promise<ServedGuest> {
  const result = await startGuestServer({
    width: 320,
    height: 240,
    server: { maxPendingOutputBytes: 4 * 1024 * 1024 },
    // Count what reaches the guest, to prove the fuzz gets past the parser.
    inputFor: (guest) => ({
      keyEvent: (keysym, down) => {
        handled.keys++;
        guest.keyEvent(keysym, down);
      },
      pointerEvent: (x, y, mask) => {
        handled.pointers++;
        guest.pointerEvent(x, y, mask);
      },
      clientCutText: (text) => {
        handled.cuts++;
        guest.clientCutText(text);
      },
    }),
  });
  servers.push(result);
  return result;
}

/** A small deterministic PRNG (LCG), so a failure can be replayed. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function bytes(length: number, random: () => number): Buffer {
  const out = Buffer.alloc(length);
  for (let index = 0; index < length; index++) out[index] = Math.floor(random() * 256);
  return out;
}

// One client message: mostly well-formed with random fields, sometimes broken on purpose.
function randomMessage(random: () => number): Buffer {
  const int = (max: number): number => Math.floor(random() * max);
  // Mostly well-formed messages (so connections live long enough to reach deep states), 5% broken.
  const pick = random() < 0.95 ? [0, 0, 1, 1, 1, 2, 3, 5, 6][int(9)] ?? 0 : 4 + int(10);
  switch (pick) {
    case 0: {
      const message = Buffer.alloc(8);
      message.writeUInt8(4, 0);
      message.writeUInt8(int(2), 1);
      message.writeUInt32BE(random() < 0.5 ? 0x20 + int(95) : int(2 ** 32), 4);
      return message;
    }
    case 1: {
      const message = Buffer.alloc(6);
      message.writeUInt8(5, 0);
      message.writeUInt8(int(256), 1);
      message.writeUInt16BE(random() < 0.8 ? int(400) : int(65536), 2);
      message.writeUInt16BE(random() < 0.8 ? int(300) : int(65536), 4);
      return message;
    }
    case 2: {
      const message = Buffer.alloc(10);
      message.writeUInt8(3, 0);
      message.writeUInt8(int(2), 1);
      for (let field = 0; field < 4; field++) message.writeUInt16BE(random() < 0.7 ? int(400) : int(65536), 2 + 2 * field);
      return message;
    }
    case 3: {
      const count = int(12);
      const message = Buffer.alloc(4 + 4 * count);
      message.writeUInt8(2, 0);
      message.writeUInt16BE(count, 2);
      const known = [0, 1, 6, 16, -223, -258, -308, 5, 7, -239];
      for (let index = 0; index < count; index++) message.writeInt32BE(random() < 0.8 ? (known[int(known.length)] ?? 0) : int(2 ** 31), 4 + 4 * index);
      return message;
    }
    case 4: {
      const message = Buffer.alloc(20);
      message.writeUInt8(0, 0);
      bytes(16, random).copy(message, 4);
      return message;
    }
    case 5: {
      const text = bytes(int(300), random);
      const header = Buffer.alloc(8);
      header.writeUInt8(6, 0);
      header.writeUInt32BE(text.length, 4);
      return Buffer.concat([header, text]);
    }
    case 6: {
      const message = Buffer.alloc(12);
      message.writeUInt8(255, 0);
      message.writeUInt8(random() < 0.9 ? 0 : int(256), 1);
      message.writeUInt16BE(int(3), 2);
      message.writeUInt32BE(int(2 ** 32), 4);
      message.writeUInt32BE(int(256), 8);
      return message;
    }
    case 7: {
      const screens = int(3);
      const message = Buffer.alloc(8 + 16 * screens);
      message.writeUInt8(251, 0);
      message.writeUInt16BE(int(65536), 2);
      message.writeUInt16BE(int(65536), 4);
      message.writeUInt8(screens, 6);
      return message;
    }
    case 8: // huge SetEncodings count
      return Buffer.from([2, 0, 0xff, 0xff]);
    case 9: // huge ClientCutText
      return Buffer.from([6, 0, 0, 0, 0xff, 0xff, 0xff, 0xf0]);
    case 10: // unknown message type
      return Buffer.from([7 + int(240), int(256)]);
    case 11: // a truncated valid message
      return Buffer.from([4, 1, 0]);
    default:
      return bytes(1 + int(32), random);
  }
}

async function expectDropped(port: number, message: Buffer): Promise<void> {
  const client = await RfbTestClient.connect({ port });
  client.send(message);
  assert.equal(await client.closedWithin(2000), true, `not dropped after ${message.subarray(0, 16).toString('hex')}`);
}

describe('RFB server robustness', { timeout: 25_000 }, () => {
  it('drops a client for each kind of malformed message, and only that client', async () => {
    const { guest, port, log, server } = await served();
    const good = await RfbTestClient.connect({ port });
    good.setEncodings([ENC.Raw]);
    await good.update(false);
    const cases: [string, Buffer][] = [
      ['unknown type', Buffer.from([7, 0, 0, 0])],
      ['SetEncodings count 1025', Buffer.from([2, 0, 0x04, 0x01])],
      ['ClientCutText over 1 MiB', Buffer.from([6, 0, 0, 0, 0x00, 0x10, 0x00, 0x01])],
      ['ClientCutText with a negative (extended) length', Buffer.from([6, 0, 0, 0, 0xff, 0xff, 0xff, 0xfe])],
      ['SetPixelFormat 24 bpp', Buffer.from([0, 0, 0, 0, 24, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0])],
      ['SetPixelFormat colour map', Buffer.from([0, 0, 0, 0, 8, 8, 0, 0, 0, 7, 0, 7, 0, 3, 0, 3, 6, 0, 0, 0])],
      ['SetPixelFormat shift out of range', Buffer.from([0, 0, 0, 0, 16, 16, 0, 1, 0, 31, 0, 63, 0, 31, 30, 5, 0, 0, 0, 0])],
      ['QEMU subtype 1', Buffer.from([255, 1, 0, 0])],
      ['QEMU key with down-flag 2', Buffer.from([255, 0, 0, 2, 0, 0, 0, 0x41, 0, 0, 0, 0x1e])],
      ['SetDesktopSize before ExtendedDesktopSize', Buffer.from([251, 0, 1, 0, 1, 0, 1, 0, ...new Array<number>(16).fill(0)])],
      ['SetDesktopSize with 0 screens', Buffer.from([251, 0, 1, 0, 1, 0, 0, 0])],
    ];
    for (const [name, message] of cases) {
      await expectDropped(port, message);
      assert.ok(log.length > 0, name);
    }
    assert.ok(log.filter((line) => line.includes('protocol error') || line.includes('SetPixelFormat') || line.includes('SetDesktopSize')).length >= cases.length, log.join('\n'));
    // A ClientCutText of exactly 1 MiB is accepted.
    const big = await RfbTestClient.connect({ port });
    big.setEncodings([ENC.Raw]);
    await big.update(false);
    big.cutText('x'.repeat(1024 * 1024));
    await big.update(true);
    assert.equal(guest.clipboardText.length, 1024 * 1024);
    big.close();
    good.type('still here');
    await good.update(true);
    assertSamePixels(good.fb, guest.pixels, guest.width);
    await waitFor(() => server.connectionCount === 1, 2000, 'only the good client left');
    good.close();
  });

  it('rejects bad protocol versions and accepts 3.5 as 3.3', async () => {
    const { port } = await served();
    for (const version of ['RFB 004.000\n', 'RFB 003.002\n', 'HTTP/1.1 GET\n', 'RFB 03.008\n\n']) {
      const socket = connect({ port, host: '127.0.0.1' });
      socket.on('error', () => undefined);
      socket.resume();
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      socket.write(version);
      await closed;
    }
    const socket = connect({ port, host: '127.0.0.1' });
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.write('RFB 003.005\n');
    await waitFor(() => Buffer.concat(received).length >= 16, 2000, 'the 3.3 security type');
    assert.equal(Buffer.concat(received).readUInt32BE(12), 1, 'RFB 3.3: the server names security type None');
    socket.destroy();
  });

  it('survives thousands of random messages and keeps serving a well-behaved client', async () => {
    const { guest, server, port } = await served();
    const good = await RfbTestClient.connect({ port });
    good.setEncodings([ENC.Zrle, ENC.CopyRect]);
    await good.update(false);
    const random = seededRandom(0x5eed);
    let sent = 0;
    Object.assign(handled, { keys: 0, pointers: 0, cuts: 0 });
    for (let round = 0; round < 30; round++) {
      const fuzzers = await Promise.all(Array.from({ length: 4 }, () => RfbTestClient.connect({ port })));
      for (const fuzzer of fuzzers) {
        const messages = Array.from({ length: 40 }, () => randomMessage(random));
        sent += messages.length;
        // Sometimes all at once, sometimes split at random points (partial messages across reads).
        const stream = Buffer.concat(messages);
        let offset = 0;
        while (offset < stream.length) {
          const size = random() < 0.5 ? stream.length : 1 + Math.floor(random() * 64);
          fuzzer.send(stream.subarray(offset, offset + size));
          offset += size;
        }
      }
      // Raw sockets that send garbage before or inside the handshake.
      for (let index = 0; index < 2; index++) {
        const socket = connect({ port, host: '127.0.0.1' });
        socket.on('error', () => undefined);
        socket.write(random() < 0.5 ? bytes(64, random) : Buffer.concat([Buffer.from('RFB 003.008\n'), bytes(32, random)]));
        setTimeout(() => socket.destroy(), 20);
        sent++;
      }
      good.type(String(round % 10));
      await good.update(true);
      for (const fuzzer of fuzzers) fuzzer.close();
    }
    assert.ok(sent >= 4000, `only ${sent} messages sent`);
    assert.ok(handled.keys + handled.pointers + handled.cuts > 1000, `only ${JSON.stringify(handled)} reached the guest`);
    good.type('\nsurvived');
    await good.update(true);
    assertSamePixels(good.fb, guest.pixels, guest.width);
    assert.equal(guest.text.lines.some((line) => line.endsWith('survived')), true);
    await waitFor(() => server.connectionCount === 1, 3000, 'fuzz connections to be gone');
    const late = await RfbTestClient.connect({ port });
    late.setEncodings([ENC.Raw]);
    await late.update(false);
    assertSamePixels(late.fb, guest.pixels, guest.width);
    late.close();
    good.close();
  });
});
