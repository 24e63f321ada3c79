// Rectangle encoders of the demo RFB server: RGBA → client pixel format, Raw, ZRLE tiles
// (RFC 6143 §7.7.6) and the persistent zlib stream that Zlib and ZRLE require per connection.
// Runs in Node.

import { constants as zlibConstants, createDeflate, type Deflate } from 'node:zlib';
import { RGBA_BYTES_PER_PIXEL } from './framebuffer';
import { type Rect } from './region';
import { type PixelFormat } from './rfb-wire';

const ZRLE_TILE_PX = 64;
const ZRLE_SUBENCODING = { Raw: 0, Solid: 1, PlainRle: 128 } as const;
const ZRLE_MAX_PACKED_PALETTE = 16;
const ZRLE_MAX_RLE_PALETTE = 127;

function channelTable(max: number, shift: number): Uint32Array {
  const table = new Uint32Array(256);
  for (let level = 0; level < 256; level++) table[level] = (Math.round((level * max) / 255) << shift) >>> 0;
  return table;
}

/** Converts RGBA framebuffer pixels to one client pixel format (true colour, 8/16/32 bpp). */
export class PixelTranslator {
  readonly bytesPerPixel: number;
  /** Bytes per ZRLE CPIXEL, and which bytes of the full pixel it keeps. */
  readonly cpixelBytes: number;
  private readonly cpixelOffset: number;
  private readonly red: Uint32Array;
  private readonly green: Uint32Array;
  private readonly blue: Uint32Array;

  constructor(readonly format: PixelFormat) {
    this.bytesPerPixel = format.bitsPerPixel / 8;
    this.red = channelTable(format.redMax, format.redShift);
    this.green = channelTable(format.greenMax, format.greenShift);
    this.blue = channelTable(format.blueMax, format.blueShift);
    const usedBits =
      ((format.redMax << format.redShift) | (format.greenMax << format.greenShift) | (format.blueMax << format.blueShift)) >>> 0;
    const compact = format.bitsPerPixel === 32 && format.depth <= 24;
    if (compact && (usedBits & 0xff000000) === 0) {
      this.cpixelBytes = 3; // the least significant three bytes
      this.cpixelOffset = format.bigEndian ? 1 : 0;
    } else if (compact && (usedBits & 0xff) === 0) {
      this.cpixelBytes = 3; // the most significant three bytes
      this.cpixelOffset = format.bigEndian ? 0 : 1;
    } else {
      this.cpixelBytes = this.bytesPerPixel;
      this.cpixelOffset = 0;
    }
  }

  /** The pixel value of RGBA pixel number `index` of `rgba`. */
  valueAt(rgba: Uint8Array, index: number): number {
    const offset = index * RGBA_BYTES_PER_PIXEL;
    return (
      ((this.red[rgba[offset] ?? 0] ?? 0) | (this.green[rgba[offset + 1] ?? 0] ?? 0) | (this.blue[rgba[offset + 2] ?? 0] ?? 0)) >>> 0
    );
  }

  /** Writes the full pixel `value` at `offset` in the format's byte order. */
  writePixel(value: number, out: Uint8Array, offset: number): void {
    const size = this.bytesPerPixel;
    for (let byte = 0; byte < size; byte++) {
      const shift = this.format.bigEndian ? (size - 1 - byte) * 8 : byte * 8;
      out[offset + byte] = (value >>> shift) & 0xff;
    }
  }

  /** Writes the ZRLE CPIXEL of `value` at `offset`. */
  writeCpixel(value: number, out: Uint8Array, offset: number): void {
    const size = this.bytesPerPixel;
    for (let byte = 0; byte < this.cpixelBytes; byte++) {
      const position = byte + this.cpixelOffset;
      const shift = this.format.bigEndian ? (size - 1 - position) * 8 : position * 8;
      out[offset + byte] = (value >>> shift) & 0xff;
    }
  }
}

/** Raw encoding: the rectangle's pixels, row by row, in the client's format. */
export function encodeRaw(rgba: Uint8Array, framebufferWidth: number, rect: Rect, translator: PixelTranslator): Buffer {
  const size = translator.bytesPerPixel;
  const out = Buffer.allocUnsafe(rect.width * rect.height * size);
  let offset = 0;
  for (let row = 0; row < rect.height; row++) {
    let index = (rect.y + row) * framebufferWidth + rect.x;
    for (let column = 0; column < rect.width; column++, index++, offset += size) {
      translator.writePixel(translator.valueAt(rgba, index), out, offset);
    }
  }
  return out;
}

/** A growable byte buffer. */
class ByteWriter {
  private buffer: Buffer;
  length = 0;

  constructor(initialBytes: number) {
    this.buffer = Buffer.allocUnsafe(Math.max(64, initialBytes));
  }

  reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + bytes));
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }

  u8(value: number): void {
    this.reserve(1);
    this.buffer[this.length++] = value;
  }

  cpixel(value: number, translator: PixelTranslator): void {
    this.reserve(translator.cpixelBytes);
    translator.writeCpixel(value, this.buffer, this.length);
    this.length += translator.cpixelBytes;
  }

  runLength(length: number): void {
    let remaining = length - 1;
    while (remaining >= 255) {
      this.u8(255);
      remaining -= 255;
    }
    this.u8(remaining);
  }

  result(): Buffer {
    return this.buffer.subarray(0, this.length);
  }
}

function runLengthBytes(length: number): number {
  return Math.floor((length - 1) / 255) + 1;
}

function paletteIndexBits(paletteSize: number): number {
  if (paletteSize <= 2) return 1;
  if (paletteSize <= 4) return 2;
  return 4;
}

// Encodes one tile (its pixel values in row order) with the cheapest ZRLE subencoding.
function encodeZrleTile(values: Uint32Array, count: number, tileWidth: number, tileHeight: number, translator: PixelTranslator, out: ByteWriter): void {
  const cp = translator.cpixelBytes;
  const palette = new Map<number, number>();
  let plainRleBytes = 0;
  let paletteRleRunBytes = 0;
  let runStart = 0;
  for (let index = 0; index < count; index++) {
    const value = values[index] ?? 0;
    if (index > 0 && value === values[index - 1]) continue;
    if (palette.size <= ZRLE_MAX_RLE_PALETTE && !palette.has(value)) palette.set(value, palette.size);
    if (index > 0) {
      const length = index - runStart;
      plainRleBytes += cp + runLengthBytes(length);
      paletteRleRunBytes += length === 1 ? 1 : 1 + runLengthBytes(length);
    }
    runStart = index;
  }
  const lastRun = count - runStart;
  plainRleBytes += cp + runLengthBytes(lastRun);
  paletteRleRunBytes += lastRun === 1 ? 1 : 1 + runLengthBytes(lastRun);

  const paletteSize = palette.size;
  if (paletteSize === 1) {
    out.u8(ZRLE_SUBENCODING.Solid);
    out.cpixel(values[0] ?? 0, translator);
    return;
  }
  const rawBytes = count * cp;
  const packedBytes =
    paletteSize <= ZRLE_MAX_PACKED_PALETTE ? paletteSize * cp + tileHeight * Math.ceil((tileWidth * paletteIndexBits(paletteSize)) / 8) : Infinity;
  const paletteRleBytes = paletteSize <= ZRLE_MAX_RLE_PALETTE ? paletteSize * cp + paletteRleRunBytes : Infinity;
  const best = Math.min(rawBytes, packedBytes, plainRleBytes, paletteRleBytes);

  if (best === packedBytes) {
    out.u8(paletteSize);
    for (const value of palette.keys()) out.cpixel(value, translator);
    const bits = paletteIndexBits(paletteSize);
    for (let row = 0; row < tileHeight; row++) {
      let byte = 0;
      let used = 0;
      for (let column = 0; column < tileWidth; column++) {
        byte = (byte << bits) | (palette.get(values[row * tileWidth + column] ?? 0) ?? 0);
        used += bits;
        if (used === 8) {
          out.u8(byte);
          byte = 0;
          used = 0;
        }
      }
      if (used > 0) out.u8((byte << (8 - used)) & 0xff);
    }
  } else if (best === paletteRleBytes) {
    out.u8(128 + paletteSize);
    for (const value of palette.keys()) out.cpixel(value, translator);
    forEachRun(values, count, (value, length) => {
      const index = palette.get(value) ?? 0;
      if (length === 1) {
        out.u8(index);
      } else {
        out.u8(index | 128);
        out.runLength(length);
      }
    });
  } else if (best === plainRleBytes) {
    out.u8(ZRLE_SUBENCODING.PlainRle);
    forEachRun(values, count, (value, length) => {
      out.cpixel(value, translator);
      out.runLength(length);
    });
  } else {
    out.u8(ZRLE_SUBENCODING.Raw);
    for (let index = 0; index < count; index++) out.cpixel(values[index] ?? 0, translator);
  }
}

function forEachRun(values: Uint32Array, count: number, visit: (value: number, length: number) => void): void {
  let runStart = 0;
  for (let index = 1; index <= count; index++) {
    if (index === count || values[index] !== values[runStart]) {
      visit(values[runStart] ?? 0, index - runStart);
      runStart = index;
    }
  }
}

/** ZRLE payload of a rectangle before compression: its 64×64 tiles, left to right, top to bottom. */
export function encodeZrleTiles(rgba: Uint8Array, framebufferWidth: number, rect: Rect, translator: PixelTranslator): Buffer {
  const out = new ByteWriter(rect.width * rect.height + 64);
  const values = new Uint32Array(ZRLE_TILE_PX * ZRLE_TILE_PX);
  for (let tileY = rect.y; tileY < rect.y + rect.height; tileY += ZRLE_TILE_PX) {
    const tileHeight = Math.min(ZRLE_TILE_PX, rect.y + rect.height - tileY);
    for (let tileX = rect.x; tileX < rect.x + rect.width; tileX += ZRLE_TILE_PX) {
      const tileWidth = Math.min(ZRLE_TILE_PX, rect.x + rect.width - tileX);
      let count = 0;
      for (let row = 0; row < tileHeight; row++) {
        let index = (tileY + row) * framebufferWidth + tileX;
        for (let column = 0; column < tileWidth; column++) values[count++] = translator.valueAt(rgba, index++);
      }
      encodeZrleTile(values, count, tileWidth, tileHeight, translator, out);
    }
  }
  return out.result();
}

/**
 * One zlib stream kept for a connection's lifetime (RFC 6143: the client keeps one inflater per
 * encoding); each call compresses and sync-flushes, so every rectangle is decodable on arrival.
 */
export class DeflateStream {
  private readonly deflate: Deflate;
  private chunks: Buffer[] = [];
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(level: number) {
    this.deflate = createDeflate({ level });
    this.deflate.on('data', (chunk: Buffer) => this.chunks.push(chunk));
    // A failing or closed stream is reported through compress(); never an unhandled 'error'.
    this.deflate.on('error', () => {
      this.closed = true;
    });
  }

  /** Compresses `data` and returns the bytes up to and including a sync flush. */
  compress(data: Uint8Array): Promise<Buffer> {
    const result = this.tail.then(
      () =>
        new Promise<Buffer>((resolve, reject) => {
          if (this.closed) {
            reject(new Error('zlib stream closed'));
            return;
          }
          this.deflate.write(data);
          // Like ws' permessage-deflate: the flush callback runs after its output was emitted.
          this.deflate.flush(zlibConstants.Z_SYNC_FLUSH, () => {
            const output = Buffer.concat(this.chunks);
            this.chunks = [];
            resolve(output);
          });
        }),
    );
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Releases the stream; pending compress() calls may never settle. */
  close(): void {
    this.closed = true;
    this.deflate.close();
  }
}
