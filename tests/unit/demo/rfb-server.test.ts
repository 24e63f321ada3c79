// Tests of the demo RFB server over real sockets on 127.0.0.1: handshakes and security, pixel
// formats, encodings and their preference order, incremental damage, CopyRect scrolling, resizing,
// QEMU keys and the output cap. Runs in Node.

import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, describe, it } from 'node:test';
import { splitIntoSubrects, SUBRECT_MAX_AREA_PX, SUBRECT_MAX_WIDTH_PX } from '../../../main/demo/region';
import {
  assertSamePixels,
  ENC,
  NOVNC_PIXEL_FORMAT,
  RfbSecurityFailure,
  RfbTestClient,
  RGB565_PIXEL_FORMAT,
  type ServedGuest,
  startGuestServer,
  throughRgb565,
  waitFor,
} from './rfb-test-client';

const servers: ServedGuest[] = [];
after(async () => {
  await Promise.all(servers.map((served) => served.server.close()));
});

async function served(options: Parameters<typeof startGuestServer>[0] = {}): Promise<ServedGuest> {
  const result = await startGuestServer(options);
  servers.push(result);
  return result;
}

async function readyClient(port: number, encodings: readonly number[]): Promise<RfbTestClient> {
  const client = await RfbTestClient.connect({ port });
  client.setPixelFormat(NOVNC_PIXEL_FORMAT);
  client.setEncodings(encodings);
  await client.update(false);
  return client;
}

describe('splitIntoSubrects', { timeout: 10_000 }, () => {
  it('cuts a large rectangle into row-major bands within the area and width limits that tile it exactly', () => {
    for (const rect of [
      { x: 0, y: 0, width: 1920, height: 1080 },
      { x: 7, y: 3, width: 4000, height: 50 },
      { x: 5, y: 5, width: 1, height: 70_000 },
      { x: 100, y: 200, width: 33, height: 17 },
    ]) {
      const parts = splitIntoSubrects(rect);
      const covered = new Set<string>();
      for (const part of parts) {
        assert.ok(part.width * part.height <= SUBRECT_MAX_AREA_PX && part.width <= SUBRECT_MAX_WIDTH_PX && part.width > 0 && part.height > 0, JSON.stringify(part));
        assert.ok(part.x >= rect.x && part.y >= rect.y && part.x + part.width <= rect.x + rect.width && part.y + part.height <= rect.y + rect.height);
        covered.add(`${part.x},${part.y}`);
      }
      assert.equal(covered.size, parts.length, 'no two parts start at the same pixel');
      assert.equal(parts.reduce((sum, part) => sum + part.width * part.height, 0), rect.width * rect.height);
      const rowMajor = parts.every((part, index) => index === 0 || part.y > parts[index - 1]!.y || (part.y === parts[index - 1]!.y && part.x > parts[index - 1]!.x));
      assert.ok(rowMajor, 'row-major order');
    }
    assert.deepEqual(splitIntoSubrects({ x: 0, y: 0, width: 33, height: 17 }), [{ x: 0, y: 0, width: 33, height: 17 }]);
    assert.deepEqual(splitIntoSubrects({ x: 0, y: 0, width: 0, height: 17 }), []);
  });
});

describe('RFB server: framebuffer fidelity', { timeout: 20_000 }, () => {
  for (const [name, encodings] of [
    ['Raw', [ENC.Raw]],
    ['ZRLE', [ENC.Zrle, ENC.Raw]],
    ['Zlib', [ENC.Zlib, ENC.Raw]],
  ] as const) {
    it(`sends the guest framebuffer exactly with ${name}, first whole then incrementally`, async () => {
      const { guest, port } = await served();
      const client = await RfbTestClient.connect({ port });
      client.setPixelFormat(NOVNC_PIXEL_FORMAT);
      client.setEncodings(encodings);
      const rects = await client.update(false);
      assert.ok(rects.length > 0 && rects.every((rect) => rect.encoding === encodings[0]), JSON.stringify(rects));
      assertSamePixels(client.fb, guest.pixels, guest.width, 'initial screen');
      client.type('Hello, World! "(|)_~!@#$%^&*{}<>?');
      await client.update(true);
      assertSamePixels(client.fb, guest.pixels, guest.width, 'after typing');
      client.pointer(100, 300, 1);
      client.pointer(300, 400, 1);
      client.pointer(420, 260, 1);
      client.pointer(420, 260, 0);
      client.cutText('pasted text');
      await client.update(true);
      assertSamePixels(client.fb, guest.pixels, guest.width, 'after drawing and pasting');
      assert.equal(guest.clipboardText, 'pasted text');
      client.close();
    });
  }

  it('keeps the server default pixel format (32 bpp, 0x00RRGGBB) when the client sets none', async () => {
    const { guest, port } = await served();
    const client = await RfbTestClient.connect({ port });
    assert.deepEqual(
      [client.format.bitsPerPixel, client.format.depth, client.format.redShift, client.format.greenShift, client.format.blueShift],
      [32, 24, 16, 8, 0],
    );
    client.setEncodings([ENC.Zrle]);
    await client.update(false);
    assertSamePixels(client.fb, guest.pixels, guest.width);
    client.close();
  });

  for (const encoding of [ENC.Raw, ENC.Zrle, ENC.Zlib]) {
    it(`translates to 16 bpp RGB565 (encoding ${encoding})`, async () => {
      const { guest, port } = await served();
      const client = await RfbTestClient.connect({ port });
      client.setPixelFormat(RGB565_PIXEL_FORMAT);
      client.setEncodings([encoding]);
      await client.update(false);
      client.type('16 bits');
      await client.update(true);
      assertSamePixels(client.fb, throughRgb565(guest.pixels), guest.width);
      client.close();
    });
  }

  it('serves a big-endian 32 bpp client (ZRLE CPIXEL of the high three bytes)', async () => {
    const { guest, port } = await served();
    const client = await RfbTestClient.connect({ port });
    client.setPixelFormat({ ...NOVNC_PIXEL_FORMAT, bigEndian: true, redShift: 24, greenShift: 16, blueShift: 8 });
    client.setEncodings([ENC.Zrle]);
    await client.update(false);
    assertSamePixels(client.fb, guest.pixels, guest.width);
    client.close();
  });

  it('honours the order of the client encoding list', async () => {
    const { port } = await served();
    for (const [list, expected] of [
      [[ENC.Zlib, ENC.Zrle, ENC.Raw], ENC.Zlib],
      [[ENC.CopyRect, ENC.Zrle, ENC.Zlib], ENC.Zrle],
      [[-239, ENC.Raw, ENC.Zrle], ENC.Raw],
      [[7, 5], ENC.Raw],
    ] as const) {
      const client = await RfbTestClient.connect({ port });
      client.setEncodings(list);
      const rects = await client.update(false);
      assert.deepEqual([...new Set(rects.map((rect) => rect.encoding))], [expected], `list ${list.join(',')}`);
      client.close();
    }
  });

  it('encodes a 1920x1080 screen with ZRLE exactly', async () => {
    // How fast is a benchmark's question (npm run bench), not a test's: only the pixels are asserted.
    const { guest, port } = await served({ width: 1920, height: 1080 });
    const client = await RfbTestClient.connect({ port });
    client.setPixelFormat(NOVNC_PIXEL_FORMAT);
    client.setEncodings([ENC.Zrle]);
    await client.update(false);
    assertSamePixels(client.fb, guest.pixels, guest.width);
    client.close();
  });
});

describe('RFB server: incremental updates', { timeout: 20_000 }, () => {
  for (const [name, encoding] of [
    ['Raw', ENC.Raw],
    ['ZRLE', ENC.Zrle],
  ] as const) {
    it(`sends a full-screen change as subrectangles of at most ${SUBRECT_MAX_AREA_PX} pixels tiling the screen (${name})`, async () => {
      const { guest, port } = await served({ width: 1920, height: 1080 });
      const client = await RfbTestClient.connect({ port });
      client.setPixelFormat(NOVNC_PIXEL_FORMAT);
      client.setEncodings([encoding]);
      const rects = await client.update(false);
      assert.ok(rects.length >= Math.ceil((1920 * 1080) / SUBRECT_MAX_AREA_PX), `${rects.length} rectangles`);
      assert.ok(rects.every((rect) => rect.width * rect.height <= SUBRECT_MAX_AREA_PX && rect.encoding === encoding), JSON.stringify(rects.slice(0, 3)));
      assert.equal(rects.reduce((sum, rect) => sum + rect.width * rect.height, 0), 1920 * 1080);
      assertSamePixels(client.fb, guest.pixels, guest.width, 'the screen from its bands');
      client.close();
    });
  }

  it('sends only the damaged region after a keystroke', async () => {
    const { guest, port } = await served();
    const client = await readyClient(port, [ENC.Raw]);
    client.type('x');
    const rects = await client.update(true);
    const area = rects.reduce((sum, rect) => sum + rect.width * rect.height, 0);
    const cell = guest.cellRect(1, 0);
    assert.ok(area > 0 && area <= 4 * cell.width * cell.height, `sent ${area} pixels for one keystroke: ${JSON.stringify(rects)}`);
    assert.ok(rects.every((rect) => rect.y >= cell.y && rect.y + rect.height <= cell.y + cell.height));
    assertSamePixels(client.fb, guest.pixels, guest.width);
    client.close();
  });

  it('does not answer an incremental request until something changes', async () => {
    const { guest, port } = await served();
    const client = await readyClient(port, [ENC.Zrle]);
    client.requestUpdate(true);
    assert.equal(await client.hasDataWithin(150), false, 'an update came without any change');
    client.type('a');
    await client.readUpdate();
    assertSamePixels(client.fb, guest.pixels, guest.width);
    client.close();
  });

  it('keeps damage outside a partial request for later', async () => {
    const { guest, port } = await served();
    const client = await readyClient(port, [ENC.Raw]);
    client.type('top');
    guest.clientCutText('bottom');
    client.requestUpdate(true, { x: 0, y: 0, width: guest.width, height: 100 });
    const first = await client.readUpdate();
    assert.ok(first.every((rect) => rect.y + rect.height <= 100), JSON.stringify(first));
    await client.update(true);
    assertSamePixels(client.fb, guest.pixels, guest.width);
    client.close();
  });

  it('scrolls with CopyRect when the client supports it, and without it otherwise', async () => {
    for (const encodings of [[ENC.CopyRect, ENC.Zrle], [ENC.Zrle]]) {
      const { guest, port } = await served();
      const client = await RfbTestClient.connect({ port, record: true });
      client.setEncodings(encodings);
      await client.update(false);
      const rows = guest.text.lines.length;
      for (let line = 0; line < rows + 2; line++) {
        client.type(`line ${line}\n`);
        await client.update(true);
      }
      assert.equal(guest.text.lines[rows - 2], `line ${rows + 1}`);
      const usedCopyRect = client.recorded.some((rect) => rect.encoding === ENC.CopyRect);
      assert.equal(usedCopyRect, encodings.includes(ENC.CopyRect), `encodings ${encodings.join(',')}`);
      assertSamePixels(client.fb, guest.pixels, guest.width, `encodings ${encodings.join(',')}`);
      client.close();
    }
  });

  it('sends CopyRect rectangles for a scroll', async () => {
    const { guest, port } = await served();
    const client = await readyClient(port, [ENC.CopyRect, ENC.Raw]);
    const rows = guest.text.lines.length;
    client.type('\n'.repeat(rows - 2));
    await client.update(true);
    client.type('scroll!\n');
    const rects = await client.update(true);
    assert.ok(rects.some((rect) => rect.encoding === ENC.CopyRect), JSON.stringify(rects));
    assertSamePixels(client.fb, guest.pixels, guest.width);
    client.close();
  });
});

describe('RFB server: handshake and security', { timeout: 20_000 }, () => {
  for (const version of ['3.3', '3.7', '3.8'] as const) {
    it(`speaks RFB ${version} with security None`, async () => {
      const { guest, port } = await served();
      const client = await RfbTestClient.connect({ port, version });
      assert.equal(client.name, 'Test desktop');
      assert.deepEqual([client.width, client.height], [guest.width, guest.height]);
      client.setEncodings([ENC.Raw]);
      await client.update(false);
      assertSamePixels(client.fb, guest.pixels, guest.width);
      client.close();
    });

    it(`speaks RFB ${version} with a VNC password`, async () => {
      const { guest, port } = await served({ server: { password: 'secret12' } });
      const client = await RfbTestClient.connect({ port, version, password: 'secret12' });
      client.setEncodings([ENC.Zrle]);
      await client.update(false);
      assertSamePixels(client.fb, guest.pixels, guest.width);
      client.close();
    });
  }

  it('rejects a wrong password with a SecurityResult failure and its reason (3.8)', async () => {
    const { port, server } = await served({ server: { password: 'right' } });
    await assert.rejects(RfbTestClient.connect({ port, password: 'wrong' }), (error: unknown) => {
      assert.ok(error instanceof RfbSecurityFailure);
      assert.equal(error.reason, 'Authentication failed');
      return true;
    });
    await waitFor(() => server.connectionCount === 0, 2000, 'the refused client to be gone');
  });

  it('rejects a wrong password without a reason string in 3.7 and 3.3', async () => {
    const { port } = await served({ server: { password: 'right' } });
    for (const version of ['3.7', '3.3'] as const) {
      await assert.rejects(RfbTestClient.connect({ port, password: 'wrong', version }), (error: unknown) => {
        assert.ok(error instanceof RfbSecurityFailure);
        assert.equal(error.reason, 'failed');
        return true;
      });
    }
  });

  it('only the first 8 password characters count, as in every VNC server', async () => {
    const { port } = await served({ server: { password: 'abcdefgh' } });
    const client = await RfbTestClient.connect({ port, password: 'abcdefghIGNORED' });
    client.close();
  });

  it('refuses a security type it did not offer', async () => {
    const { port } = await served({ server: { password: 'pw' } });
    await assert.rejects(RfbTestClient.connect({ port, forceSecurityType: 1 }), (error: unknown) => {
      assert.ok(error instanceof RfbSecurityFailure);
      assert.match(error.reason, /security type 1 was not offered/);
      return true;
    });
  });

  it('drops a client that never finishes the handshake', async () => {
    const { port, server } = await served({ server: { handshakeTimeoutMs: 150 } });
    const socket = connect({ port, host: '127.0.0.1' });
    socket.on('error', () => undefined);
    socket.resume(); // read (and ignore) the server's version, so 'close' can follow 'end'
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    await waitFor(() => server.connectionCount === 1, 1000, 'the connection');
    await closed;
    assert.equal(server.connectionCount, 0);
  });
});

describe('RFB server: extensions', { timeout: 20_000 }, () => {
  it('acknowledges QEMU extended key events and types their keysyms (scancodes when the keysym is 0)', async () => {
    const { guest, port } = await served();
    const client = await readyClient(port, [ENC.Raw, ENC.QemuKeys]);
    assert.equal(client.qemuKeysAcked, true);
    client.qemuKey(0x41, 0x1e, true); // 'A' by keysym
    client.qemuKey(0x41, 0x1e, false);
    client.qemuKey(0, 0x2a, true); // Shift_L down by scancode
    client.qemuKey(0, 0x0a, true); // '9' key with Shift → '('
    client.qemuKey(0, 0x0a, false);
    client.qemuKey(0, 0x2a, false);
    client.qemuKey(0, 0x0a, true); // '9' without Shift
    client.qemuKey(0, 0x0a, false);
    client.qemuKey(0, 0x1c, true); // Return
    await client.update(true);
    assert.deepEqual(guest.text.lines.slice(1, 3), ['A(9', '']);
    assert.equal(guest.text.row, 2);
    assertSamePixels(client.fb, guest.pixels, guest.width);
    client.close();
  });

  it('announces ExtendedDesktopSize, refuses SetDesktopSize and follows a guest resize', async () => {
    const { guest, port } = await served();
    const client = await RfbTestClient.connect({ port });
    client.setEncodings([ENC.Zrle, ENC.ExtendedDesktopSize, ENC.DesktopSize]);
    await client.update(false);
    assert.deepEqual(client.extendedSizes, [[0, 0]]);
    const setDesktopSize = Buffer.alloc(8 + 16);
    setDesktopSize.writeUInt8(251, 0);
    setDesktopSize.writeUInt16BE(800, 2);
    setDesktopSize.writeUInt16BE(600, 4);
    setDesktopSize.writeUInt8(1, 6);
    client.send(setDesktopSize);
    await client.readUpdate();
    assert.deepEqual(client.extendedSizes[1], [1, 1]); // this client, prohibited
    guest.resize({ width: 800, height: 500 });
    await client.update(true);
    assert.deepEqual([client.width, client.height], [800, 500]);
    assertSamePixels(client.fb, guest.pixels, guest.width);
    client.close();
  });

  it('uses DesktopSize for clients without ExtendedDesktopSize, and drops clients with neither on resize', async () => {
    const { guest, port } = await served();
    const modern = await readyClient(port, [ENC.Raw, ENC.DesktopSize]);
    const legacy = await readyClient(port, [ENC.Raw]);
    guest.resize({ width: 700, height: 400 });
    const rects = await modern.update(true);
    assert.equal(rects[0]?.encoding, ENC.DesktopSize);
    assertSamePixels(modern.fb, guest.pixels, guest.width);
    assert.equal(await legacy.closedWithin(2000), true);
    modern.close();
  });
});

describe('RFB server: limits', { timeout: 20_000 }, () => {
  it('drops a client that does not read once its output exceeds the cap', async () => {
    const { port, server, log } = await served({ width: 1024, height: 768, server: { maxPendingOutputBytes: 1024 * 1024 } });
    const socket = connect({ port, host: '127.0.0.1' });
    socket.on('error', () => undefined);
    socket.pause(); // never read
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.write('RFB 003.008\n');
    socket.write(Buffer.from([1, 1]));
    const request = Buffer.from([3, 0, 0, 0, 0, 0, 4, 0, 3, 0]); // non-incremental 1024x768
    const timer = setInterval(() => socket.write(request), 5);
    await waitFor(() => log.some((line) => line.includes('does not read')), 10_000, 'the cap to trip');
    clearInterval(timer);
    socket.destroy();
    await closed;
    await waitFor(() => server.connectionCount === 0, 2000, 'the connection to be gone');
  });
});
