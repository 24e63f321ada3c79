// Interoperability with the viewer RetroVisor embeds: the rectangles the demo server sends are
// replayed through noVNC 1.7's own decoders (ZRLE, Zlib, Raw, CopyRect) and must rebuild the guest
// screen exactly. Runs in Node (noVNC's decoder modules need no browser).

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { deflateSync } from 'node:zlib';
import { PixelTranslator, encodeZrleTiles } from '../../../main/demo/rfb-encodings';
import { DEFAULT_PIXEL_FORMAT } from '../../../main/demo/rfb-wire';
import {
  assertSamePixels,
  ENC,
  importNoVncCore,
  NOVNC_PIXEL_FORMAT,
  type RectInfo,
  RfbTestClient,
  type ServedGuest,
  startGuestServer,
} from './rfb-test-client';

interface NoVncDecoder {
  decodeRect(x: number, y: number, width: number, height: number, sock: FakeSock, display: FakeDisplay, depth: number): boolean;
}
type DecoderClass = new () => NoVncDecoder;

/** The receive-queue half of noVNC's Websock, over one rectangle's payload. */
class FakeSock {
  private position = 0;
  constructor(private readonly data: Uint8Array) {}
  rQlen(): number {
    return this.data.length - this.position;
  }
  rQwait(_what: string, bytes: number): boolean {
    return this.rQlen() < bytes;
  }
  private shift(bytes: number): number {
    let value = 0;
    for (let index = 0; index < bytes; index++) value = value * 256 + (this.data[this.position++] ?? 0);
    return value;
  }
  rQshift8(): number {
    return this.shift(1);
  }
  rQshift16(): number {
    return this.shift(2);
  }
  rQshift32(): number {
    return this.shift(4);
  }
  rQpeek8(): number {
    return this.data[this.position] ?? 0;
  }
  rQskipBytes(bytes: number): void {
    this.position += bytes;
  }
  rQshiftBytes(bytes: number, copy = true): Uint8Array {
    const view = this.data.subarray(this.position, this.position + bytes);
    this.position += bytes;
    return copy ? view.slice() : view;
  }
  rQpeekBytes(bytes: number, copy = true): Uint8Array {
    const view = this.data.subarray(this.position, this.position + bytes);
    return copy ? view.slice() : view;
  }
  rQshiftTo(target: Uint8Array, bytes: number): void {
    target.set(this.data.subarray(this.position, this.position + bytes));
    this.position += bytes;
  }
}

/** The drawing half of noVNC's Display, into an RGBA array. */
class FakeDisplay {
  readonly pixels: Uint8Array;
  constructor(readonly width: number, height: number) {
    this.pixels = new Uint8Array(width * height * 4);
  }
  blitImage(x: number, y: number, width: number, height: number, arr: Uint8Array, offset: number): void {
    const source = new Uint8Array(arr.buffer, arr.byteOffset + offset, width * height * 4);
    for (let row = 0; row < height; row++) {
      this.pixels.set(source.subarray(row * width * 4, (row + 1) * width * 4), ((y + row) * this.width + x) * 4);
    }
  }
  fillRect(x: number, y: number, width: number, height: number, color: readonly number[]): void {
    for (let row = 0; row < height; row++) {
      for (let column = 0; column < width; column++) {
        this.pixels.set([color[0] ?? 0, color[1] ?? 0, color[2] ?? 0, 255], ((y + row) * this.width + x + column) * 4);
      }
    }
  }
  copyImage(oldX: number, oldY: number, newX: number, newY: number, width: number, height: number): void {
    const rows: Uint8Array[] = [];
    for (let row = 0; row < height; row++) {
      const start = ((oldY + row) * this.width + oldX) * 4;
      rows.push(this.pixels.slice(start, start + width * 4));
    }
    rows.forEach((data, row) => this.pixels.set(data, ((newY + row) * this.width + newX) * 4));
  }
}

async function noVncDecoders(): Promise<Map<number, NoVncDecoder>> {
  const load = async (path: string): Promise<NoVncDecoder> => {
    const module = (await importNoVncCore(path)) as { default: DecoderClass };
    return new module.default();
  };
  // One instance per encoding for the whole session, as noVNC keeps them (zlib streams persist).
  return new Map([
    [ENC.Raw, await load('decoders/raw.js')],
    [ENC.CopyRect, await load('decoders/copyrect.js')],
    [ENC.Zlib, await load('decoders/zlib.js')],
    [ENC.Zrle, await load('decoders/zrle.js')],
  ]);
}

function replay(rects: readonly RectInfo[], decoders: Map<number, NoVncDecoder>, display: FakeDisplay): void {
  for (const rect of rects) {
    const decoder = decoders.get(rect.encoding);
    if (decoder === undefined) continue; // pseudo-encodings carry no pixels
    const sock = new FakeSock(rect.payload ?? new Uint8Array(0));
    assert.equal(decoder.decodeRect(rect.x, rect.y, rect.width, rect.height, sock, display, 24), true, `noVNC wanted more data for ${JSON.stringify(rect)}`);
    assert.equal(sock.rQlen(), 0, `noVNC left ${sock.rQlen()} bytes of a ${rect.encoding} rectangle`);
  }
}

const servers: ServedGuest[] = [];
after(async () => {
  await Promise.all(servers.map((served) => served.server.close()));
});

describe('noVNC 1.7 decodes what the demo server sends', { timeout: 20_000 }, () => {
  for (const [name, encodings] of [
    ['ZRLE + CopyRect', [ENC.CopyRect, ENC.Zrle]],
    ['Zlib + CopyRect', [ENC.CopyRect, ENC.Zlib]],
    ['Raw', [ENC.Raw]],
  ] as const) {
    it(`rebuilds the guest screen exactly from ${name}`, async () => {
      const servedGuest = await startGuestServer({ width: 640, height: 400 });
      servers.push(servedGuest);
      const { guest, port } = servedGuest;
      const client = await RfbTestClient.connect({ port, record: true });
      client.setPixelFormat(NOVNC_PIXEL_FORMAT); // what noVNC always asks for
      client.setEncodings([...encodings, ENC.DesktopSize, ENC.ExtendedDesktopSize, ENC.QemuKeys]);
      await client.update(false);
      const rows = guest.text.lines.length;
      for (let line = 0; line < rows + 3; line++) {
        client.type(`line ${line}: ${'#'.repeat(line * 3)}\n`);
        await client.update(true);
      }
      client.pointer(50, 300, 1);
      client.pointer(600, 350, 1);
      client.pointer(600, 350, 0);
      client.cutText('clipboard for noVNC');
      await client.update(true);
      assert.ok(client.recorded.some((rect) => rect.encoding === encodings[0]), 'rectangles of the expected encoding');
      if (encodings[0] === ENC.CopyRect) assert.ok(client.recorded.some((rect) => rect.encoding === ENC.CopyRect), 'scrolling used CopyRect');
      const display = new FakeDisplay(guest.width, guest.height);
      replay(client.recorded, await noVncDecoders(), display);
      assertSamePixels(display.pixels, guest.pixels, guest.width, `noVNC's ${name} decoding`);
      client.close();
    });
  }
});

// Synthetic 64x64 tiles that steer the encoder to each ZRLE subencoding in turn.
function tile(colourAt: (x: number, y: number) => number, width = 64, height = 64): Uint8Array {
  const rgba = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const colour = colourAt(x, y);
      rgba.set([(colour >> 16) & 255, (colour >> 8) & 255, colour & 255, 255], (y * width + x) * 4);
    }
  }
  return rgba;
}

describe('noVNC 1.7 decodes every ZRLE subencoding the encoder chooses', { timeout: 60_000 }, () => {
  let noise = 12345;
  const random = (): number => {
    noise = (Math.imul(noise, 1103515245) + 12345) >>> 0;
    return noise;
  };
  const cases: [string, Uint8Array, (subencoding: number) => boolean][] = [
    ['solid', tile(() => 0x336699), (sub) => sub === 1],
    ['2 colours (1-bit packed palette)', tile((x, y) => ((x + y) % 2 ? 0xffffff : 0)), (sub) => sub === 2],
    ['4 colours (2-bit packed palette)', tile((x, y) => [0, 0xff0000, 0xff00, 0xff][(x * 7 + y * 3) % 4] ?? 0), (sub) => sub === 4],
    ['13 colours (4-bit packed palette)', tile((x, y) => ((x * 5 + y * 11) % 13) * 0x0a0b0c), (sub) => sub === 13],
    ['20 colours in short runs (palette RLE)', tile((x, y) => (Math.floor((y * 64 + x) / 3) % 20) * 0x0a0b0c), (sub) => sub === 128 + 20],
    ['200 colours in long runs (plain RLE)', tile((x, y) => Math.floor((y * 64 + x) / 20) * 0x010101 + 0x100000 * (y % 2)), (sub) => sub === 128],
    ['noise (raw CPIXELs)', tile(() => random() & 0xffffff), (sub) => sub === 0],
  ];
  for (const [name, rgba, expectSubencoding] of cases) {
    it(name, async () => {
      const translator = new PixelTranslator({ ...DEFAULT_PIXEL_FORMAT, redShift: 0, greenShift: 8, blueShift: 16 });
      const payload = encodeZrleTiles(rgba, 64, { x: 0, y: 0, width: 64, height: 64 }, translator);
      assert.ok(expectSubencoding(payload[0] ?? -1), `chose subencoding ${payload[0]}`);
      const compressed = deflateSync(payload);
      const length = Buffer.alloc(4);
      length.writeUInt32BE(compressed.length, 0);
      const display = new FakeDisplay(64, 64);
      replay([{ x: 0, y: 0, width: 64, height: 64, encoding: ENC.Zrle, payload: Buffer.concat([length, compressed]) }], await noVncDecoders(), display);
      assertSamePixels(display.pixels, rgba, 64, name);
    });
  }

  it('partial tiles at the right and bottom edges', async () => {
    const width = 150;
    const height = 70;
    const rgba = tile((x, y) => (x < 100 ? ((x ^ y) & 8 ? 0xffeedd : 0x112233) : random() & 0xffffff), width, height);
    const translator = new PixelTranslator({ ...DEFAULT_PIXEL_FORMAT, redShift: 0, greenShift: 8, blueShift: 16 });
    const rect = { x: 10, y: 5, width: 131, height: 61 };
    const compressed = deflateSync(encodeZrleTiles(rgba, width, rect, translator));
    const length = Buffer.alloc(4);
    length.writeUInt32BE(compressed.length, 0);
    const display = new FakeDisplay(width, height);
    display.pixels.set(rgba);
    display.fillRect(rect.x, rect.y, rect.width, rect.height, [0, 0, 0]);
    replay([{ ...rect, encoding: ENC.Zrle, payload: Buffer.concat([length, compressed]) }], await noVncDecoders(), display);
    assertSamePixels(display.pixels, rgba, width);
  });
});
