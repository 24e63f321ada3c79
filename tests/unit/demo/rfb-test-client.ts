// Test helpers for the demo lab: a minimal RFB client written from RFC 6143 independently of the
// server code (handshake None / VNC auth, 3.3/3.7/3.8, pixel formats, Raw/CopyRect/Zlib/ZRLE
// decoding into RGBA, input messages), a served guest, pixel assertions and a noVNC module
// loader. Runs in Node.

import assert from 'node:assert/strict';
import { createCipheriv } from 'node:crypto';
import { createRequire } from 'node:module';
import { connect, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { constants as zlibConstants, createInflate, type Inflate } from 'node:zlib';
import { GuestDesktop, type GuestDesktopOptions } from '../../../main/demo/guest-desktop';
import { type Rect } from '../../../main/demo/region';
import { RfbServer, type RfbInputSink, type RfbServerOptions } from '../../../main/demo/rfb-server';

/** PIXEL_FORMAT as the test client describes it. */
export interface TestPixelFormat {
  readonly bitsPerPixel: number;
  readonly depth: number;
  readonly bigEndian: boolean;
  readonly redMax: number;
  readonly greenMax: number;
  readonly blueMax: number;
  readonly redShift: number;
  readonly greenShift: number;
  readonly blueShift: number;
}

/** What noVNC asks for: 32 bpp, depth 24, little-endian, red in the lowest byte. */
export const NOVNC_PIXEL_FORMAT: TestPixelFormat = {
  bitsPerPixel: 32, depth: 24, bigEndian: false, redMax: 255, greenMax: 255, blueMax: 255, redShift: 0, greenShift: 8, blueShift: 16,
};
/** 16 bpp RGB565, little-endian. */
export const RGB565_PIXEL_FORMAT: TestPixelFormat = {
  bitsPerPixel: 16, depth: 16, bigEndian: false, redMax: 31, greenMax: 63, blueMax: 31, redShift: 11, greenShift: 5, blueShift: 0,
};

export const ENC = { Raw: 0, CopyRect: 1, Zlib: 6, Zrle: 16, DesktopSize: -223, QemuKeys: -258, ExtendedDesktopSize: -308 } as const;

export interface RectInfo {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly encoding: number;
  /** The rectangle's payload as received (only when recording). */
  readonly payload?: Buffer;
}

/** The server refused the credentials (SecurityResult failed). */
export class RfbSecurityFailure extends Error {
  constructor(readonly reason: string) {
    super(`security failure: ${reason}`);
  }
}

export interface ConnectOptions {
  readonly port: number;
  readonly password?: string;
  readonly version?: '3.3' | '3.7' | '3.8';
  /** Choose this security type instead of the one offered (to test refusals). */
  readonly forceSecurityType?: number;
  /** Keep every rectangle's payload in `recorded` (for replay through noVNC's decoders). */
  readonly record?: boolean;
}

/** A byte queue over a socket: read(n) resolves once n bytes have arrived. */
class ByteReader {
  private chunks: Buffer[] = [];
  private length = 0;
  private waiter: { readonly bytes: number; readonly resolve: (data: Buffer) => void; readonly reject: (error: Error) => void } | null = null;
  private dataWaiters: (() => void)[] = [];
  closed = false;

  constructor(socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.length += chunk.length;
      this.settle();
    });
    socket.on('close', () => {
      this.closed = true;
      this.settle();
    });
    socket.on('error', () => undefined);
  }

  get available(): number {
    return this.length;
  }

  read(bytes: number): Promise<Buffer> {
    if (this.waiter) return Promise.reject(new Error('concurrent read'));
    return new Promise((resolve, reject) => {
      this.waiter = { bytes, resolve, reject };
      this.settle();
    });
  }

  /** Resolves true as soon as any byte is buffered, false after `timeoutMs` or on close. */
  waitForData(timeoutMs: number): Promise<boolean> {
    if (this.length > 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(this.length > 0), timeoutMs);
      this.dataWaiters.push(() => {
        clearTimeout(timer);
        resolve(this.length > 0);
      });
    });
  }

  private settle(): void {
    for (const wake of this.dataWaiters.splice(0)) wake();
    const waiter = this.waiter;
    if (waiter === null) return;
    if (this.length >= waiter.bytes) {
      const all = this.chunks.length === 1 ? (this.chunks[0] ?? Buffer.alloc(0)) : Buffer.concat(this.chunks);
      this.chunks = all.length > waiter.bytes ? [all.subarray(waiter.bytes)] : [];
      this.length -= waiter.bytes;
      this.waiter = null;
      waiter.resolve(all.subarray(0, waiter.bytes));
    } else if (this.closed) {
      this.waiter = null;
      waiter.reject(new Error('connection closed'));
    }
  }
}

/** One persistent zlib inflater, as RFC 6143 requires per encoding and connection. */
class Inflater {
  private readonly inflate: Inflate = createInflate();
  private chunks: Buffer[] = [];

  constructor() {
    this.inflate.on('data', (chunk: Buffer) => this.chunks.push(chunk));
  }

  decompress(data: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.inflate.once('error', reject);
      this.inflate.write(data);
      this.inflate.flush(zlibConstants.Z_SYNC_FLUSH, () => {
        this.inflate.off('error', reject);
        const out = Buffer.concat(this.chunks);
        this.chunks = [];
        resolve(out);
      });
    });
  }

  close(): void {
    this.inflate.close();
  }
}

function reverseBits(byte: number): number {
  let out = 0;
  for (let bit = 0; bit < 8; bit++) if (byte & (1 << bit)) out |= 0x80 >> bit;
  return out;
}

/** VNC auth response, computed here independently of the server's code. */
export function desResponse(password: string, challenge: Buffer): Buffer {
  const key = Buffer.alloc(8);
  for (let index = 0; index < Math.min(8, password.length); index++) key[index] = reverseBits(password.charCodeAt(index));
  const cipher = createCipheriv('des-ede-ecb', Buffer.concat([key, key]), null);
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(challenge), cipher.final()]);
}

/** A test RFB client; `RfbTestClient.connect()` performs the handshake. */
export class RfbTestClient {
  width = 0;
  height = 0;
  name = '';
  /** The decoded screen, RGBA (alpha 255). */
  fb = new Uint8Array(0);
  format: TestPixelFormat = NOVNC_PIXEL_FORMAT;
  qemuKeysAcked = false;
  /** [reason, status] of every ExtendedDesktopSize rectangle received. */
  readonly extendedSizes: [number, number][] = [];
  readonly recorded: RectInfo[] = [];
  private readonly zlib = new Inflater();
  private readonly zrle = new Inflater();

  private constructor(
    private readonly socket: Socket,
    private readonly reader: ByteReader,
    private readonly record: boolean,
  ) {}

  /** Connects and runs the whole handshake; rejects with RfbSecurityFailure on refused credentials. */
  static async connect(options: ConnectOptions): Promise<RfbTestClient> {
    const socket = connect({ host: '127.0.0.1', port: options.port });
    socket.setNoDelay(true); // many tiny input messages: Nagle would stall round trips
    const reader = new ByteReader(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const client = new RfbTestClient(socket, reader, options.record ?? false);
    try {
      await client.handshake(options);
    } catch (error) {
      socket.destroy();
      throw error;
    }
    return client;
  }

  private async readU32(): Promise<number> {
    return (await this.reader.read(4)).readUInt32BE(0);
  }

  private async readReason(): Promise<string> {
    const length = await this.readU32();
    return (await this.reader.read(length)).toString('utf8');
  }

  private async handshake(options: ConnectOptions): Promise<void> {
    const serverVersion = (await this.reader.read(12)).toString('latin1');
    if (!/^RFB 003\.00[378]\n$/.test(serverVersion)) throw new Error(`odd server version ${JSON.stringify(serverVersion)}`);
    const version = options.version ?? '3.8';
    this.socket.write(`RFB 003.00${version.slice(2)}\n`, 'latin1');
    let securityType: number;
    if (version === '3.3') {
      securityType = await this.readU32();
      if (securityType === 0) throw new RfbSecurityFailure(await this.readReason());
    } else {
      const count = (await this.reader.read(1)).readUInt8(0);
      if (count === 0) throw new RfbSecurityFailure(await this.readReason());
      const types = [...(await this.reader.read(count))];
      securityType = options.forceSecurityType ?? (types[0] ?? 0);
      this.socket.write(Buffer.from([securityType]));
    }
    if (securityType === 2) {
      const challenge = await this.reader.read(16);
      this.socket.write(desResponse(options.password ?? '', challenge));
    }
    if (securityType === 2 || version === '3.8') {
      const result = await this.readU32();
      if (result !== 0) throw new RfbSecurityFailure(version === '3.8' ? await this.readReason() : 'failed');
    }
    this.socket.write(Buffer.from([1])); // shared
    const init = await this.reader.read(24);
    this.width = init.readUInt16BE(0);
    this.height = init.readUInt16BE(2);
    const serverFormat: TestPixelFormat = {
      bitsPerPixel: init.readUInt8(4),
      depth: init.readUInt8(5),
      bigEndian: init.readUInt8(6) !== 0,
      redMax: init.readUInt16BE(8),
      greenMax: init.readUInt16BE(10),
      blueMax: init.readUInt16BE(12),
      redShift: init.readUInt8(14),
      greenShift: init.readUInt8(15),
      blueShift: init.readUInt8(16),
    };
    this.format = serverFormat;
    this.name = (await this.reader.read(init.readUInt32BE(20))).toString('utf8');
    this.fb = new Uint8Array(this.width * this.height * 4);
  }

  setPixelFormat(format: TestPixelFormat): void {
    const message = Buffer.alloc(20);
    message.writeUInt8(0, 0);
    message.writeUInt8(format.bitsPerPixel, 4);
    message.writeUInt8(format.depth, 5);
    message.writeUInt8(format.bigEndian ? 1 : 0, 6);
    message.writeUInt8(1, 7);
    message.writeUInt16BE(format.redMax, 8);
    message.writeUInt16BE(format.greenMax, 10);
    message.writeUInt16BE(format.blueMax, 12);
    message.writeUInt8(format.redShift, 14);
    message.writeUInt8(format.greenShift, 15);
    message.writeUInt8(format.blueShift, 16);
    this.socket.write(message);
    this.format = format;
  }

  setEncodings(encodings: readonly number[]): void {
    const message = Buffer.alloc(4 + 4 * encodings.length);
    message.writeUInt8(2, 0);
    message.writeUInt16BE(encodings.length, 2);
    encodings.forEach((encoding, index) => message.writeInt32BE(encoding, 4 + 4 * index));
    this.socket.write(message);
  }

  requestUpdate(incremental: boolean, rect = { x: 0, y: 0, width: this.width, height: this.height }): void {
    const message = Buffer.alloc(10);
    message.writeUInt8(3, 0);
    message.writeUInt8(incremental ? 1 : 0, 1);
    message.writeUInt16BE(rect.x, 2);
    message.writeUInt16BE(rect.y, 4);
    message.writeUInt16BE(rect.width, 6);
    message.writeUInt16BE(rect.height, 8);
    this.socket.write(message);
  }

  /** Requests an update and reads it. */
  async update(incremental: boolean): Promise<RectInfo[]> {
    this.requestUpdate(incremental);
    return this.readUpdate();
  }

  /** True when the server sends something within `timeoutMs` (nothing is consumed). */
  hasDataWithin(timeoutMs: number): Promise<boolean> {
    return this.reader.waitForData(timeoutMs);
  }

  /** Resolves when the server has closed the connection (false after timeoutMs). */
  async closedWithin(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.reader.closed && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      // Drain whatever arrives so the server is never blocked by us.
      if (this.reader.available > 0) await this.reader.read(this.reader.available);
    }
    return this.reader.closed;
  }

  get isClosed(): boolean {
    return this.reader.closed;
  }

  /** Reads one FramebufferUpdate and applies it to `fb`. */
  async readUpdate(): Promise<RectInfo[]> {
    const header = await this.reader.read(4);
    if (header.readUInt8(0) !== 0) throw new Error(`unexpected server message type ${header.readUInt8(0)}`);
    const count = header.readUInt16BE(2);
    const rects: RectInfo[] = [];
    for (let index = 0; index < count; index++) {
      const rectHeader = await this.reader.read(12);
      const x = rectHeader.readUInt16BE(0);
      const y = rectHeader.readUInt16BE(2);
      const width = rectHeader.readUInt16BE(4);
      const height = rectHeader.readUInt16BE(6);
      const encoding = rectHeader.readInt32BE(8);
      const payload = await this.readRect(x, y, width, height, encoding);
      rects.push({ x, y, width, height, encoding });
      if (this.record) this.recorded.push({ x, y, width, height, encoding, payload });
    }
    return rects;
  }

  private get bytesPerPixel(): number {
    return this.format.bitsPerPixel / 8;
  }

  private async readRect(x: number, y: number, width: number, height: number, encoding: number): Promise<Buffer> {
    switch (encoding) {
      case ENC.Raw: {
        const data = await this.reader.read(width * height * this.bytesPerPixel);
        this.blitPixels(x, y, width, height, data, this.bytesPerPixel);
        return data;
      }
      case ENC.CopyRect: {
        const data = await this.reader.read(4);
        this.copyRect(data.readUInt16BE(0), data.readUInt16BE(2), x, y, width, height);
        return data;
      }
      case ENC.Zlib: {
        const length = await this.reader.read(4);
        const compressed = await this.reader.read(length.readUInt32BE(0));
        const data = await this.zlib.decompress(compressed);
        if (data.length !== width * height * this.bytesPerPixel) throw new Error(`zlib rect inflated to ${data.length} bytes`);
        this.blitPixels(x, y, width, height, data, this.bytesPerPixel);
        return Buffer.concat([length, compressed]);
      }
      case ENC.Zrle: {
        const length = await this.reader.read(4);
        const compressed = await this.reader.read(length.readUInt32BE(0));
        this.decodeZrle(x, y, width, height, await this.zrle.decompress(compressed));
        return Buffer.concat([length, compressed]);
      }
      case ENC.DesktopSize:
        this.resize(width, height);
        return Buffer.alloc(0);
      case ENC.ExtendedDesktopSize: {
        const head = await this.reader.read(4);
        const screens = await this.reader.read(16 * head.readUInt8(0));
        this.extendedSizes.push([x, y]);
        if (x !== 1 || y === 0) this.resize(width, height);
        return Buffer.concat([head, screens]);
      }
      case ENC.QemuKeys:
        this.qemuKeysAcked = true;
        return Buffer.alloc(0);
      default:
        throw new Error(`unexpected encoding ${encoding}`);
    }
  }

  private resize(width: number, height: number): void {
    this.width = width;
    this.height = height;
    this.fb = new Uint8Array(width * height * 4);
  }

  // Pixel value → RGBA at fb offset.
  private putPixel(value: number, offset: number): void {
    const f = this.format;
    this.fb[offset] = Math.round((((value >>> f.redShift) & f.redMax) * 255) / f.redMax);
    this.fb[offset + 1] = Math.round((((value >>> f.greenShift) & f.greenMax) * 255) / f.greenMax);
    this.fb[offset + 2] = Math.round((((value >>> f.blueShift) & f.blueMax) * 255) / f.blueMax);
    this.fb[offset + 3] = 255;
  }

  private readValue(data: Buffer, offset: number, size: number, skipLow = false): number {
    // size is the number of bytes present; for 3-byte CPIXELs the missing byte is implied zero.
    let value = 0;
    for (let byte = 0; byte < size; byte++) {
      const b = data[offset + byte] ?? 0;
      value += this.format.bigEndian ? b * 2 ** (8 * (size - 1 - byte)) : b * 2 ** (8 * byte);
    }
    return skipLow ? value * 256 : value;
  }

  private blitPixels(x: number, y: number, width: number, height: number, data: Buffer, size: number, cpixelHigh = false): void {
    let offset = 0;
    for (let row = 0; row < height; row++) {
      for (let column = 0; column < width; column++, offset += size) {
        this.putPixel(this.readValue(data, offset, size, cpixelHigh), ((y + row) * this.width + x + column) * 4);
      }
    }
  }

  private copyRect(sourceX: number, sourceY: number, x: number, y: number, width: number, height: number): void {
    const copy = new Uint8Array(width * height * 4);
    for (let row = 0; row < height; row++) {
      const from = ((sourceY + row) * this.width + sourceX) * 4;
      copy.set(this.fb.subarray(from, from + width * 4), row * width * 4);
    }
    for (let row = 0; row < height; row++) {
      this.fb.set(copy.subarray(row * width * 4, (row + 1) * width * 4), ((y + row) * this.width + x) * 4);
    }
  }

  // CPIXEL size and whether it holds the high three bytes (RFC 6143 §7.7.6).
  private cpixelShape(): { size: number; high: boolean } {
    const f = this.format;
    const used = ((f.redMax << f.redShift) | (f.greenMax << f.greenShift) | (f.blueMax << f.blueShift)) >>> 0;
    if (f.bitsPerPixel === 32 && f.depth <= 24) {
      if ((used & 0xff000000) === 0) return { size: 3, high: false };
      if ((used & 0xff) === 0) return { size: 3, high: true };
    }
    return { size: this.bytesPerPixel, high: false };
  }

  private decodeZrle(x: number, y: number, width: number, height: number, data: Buffer): void {
    const { size, high } = this.cpixelShape();
    // For a big-endian 3-byte CPIXEL of the low bytes, reading 3 bytes big-endian gives the value directly.
    let position = 0;
    const u8 = (): number => {
      if (position >= data.length) throw new Error('ZRLE data ended early');
      return data[position++] ?? 0;
    };
    const cpixel = (): number => {
      const value = this.readValue(data, position, size, high);
      position += size;
      if (position > data.length) throw new Error('ZRLE data ended early');
      return value;
    };
    const runLength = (): number => {
      let length = 1;
      let byte: number;
      do {
        byte = u8();
        length += byte;
      } while (byte === 255);
      return length;
    };
    for (let tileY = y; tileY < y + height; tileY += 64) {
      const th = Math.min(64, y + height - tileY);
      for (let tileX = x; tileX < x + width; tileX += 64) {
        const tw = Math.min(64, x + width - tileX);
        const values: number[] = [];
        const sub = u8();
        if (sub === 0) {
          for (let index = 0; index < tw * th; index++) values.push(cpixel());
        } else if (sub === 1) {
          const value = cpixel();
          for (let index = 0; index < tw * th; index++) values.push(value);
        } else if (sub >= 2 && sub <= 16) {
          const palette = Array.from({ length: sub }, cpixel);
          const bits = sub <= 2 ? 1 : sub <= 4 ? 2 : 4;
          for (let row = 0; row < th; row++) {
            let byte = 0;
            let left = 0;
            for (let column = 0; column < tw; column++) {
              if (left === 0) {
                byte = u8();
                left = 8;
              }
              left -= bits;
              const index = (byte >> left) & ((1 << bits) - 1);
              if (index >= sub) throw new Error('ZRLE palette index out of range');
              values.push(palette[index] ?? 0);
            }
          }
        } else if (sub === 128) {
          while (values.length < tw * th) {
            const value = cpixel();
            const length = runLength();
            for (let index = 0; index < length; index++) values.push(value);
          }
        } else if (sub >= 130) {
          const palette = Array.from({ length: sub - 128 }, cpixel);
          while (values.length < tw * th) {
            const code = u8();
            const length = code & 128 ? runLength() : 1;
            const value = palette[code & 127];
            if (value === undefined) throw new Error('ZRLE RLE palette index out of range');
            for (let index = 0; index < length; index++) values.push(value);
          }
        } else {
          throw new Error(`bad ZRLE subencoding ${sub}`);
        }
        if (values.length !== tw * th) throw new Error(`ZRLE tile has ${values.length} pixels, expected ${tw * th}`);
        values.forEach((value, index) => {
          const column = index % tw;
          const row = Math.floor(index / tw);
          this.putPixel(value, ((tileY + row) * this.width + tileX + column) * 4);
        });
      }
    }
    if (position !== data.length) throw new Error(`ZRLE rect left ${data.length - position} bytes unread`);
  }

  key(keysym: number, down: boolean): void {
    const message = Buffer.alloc(8);
    message.writeUInt8(4, 0);
    message.writeUInt8(down ? 1 : 0, 1);
    message.writeUInt32BE(keysym >>> 0, 4);
    this.socket.write(message);
  }

  press(keysym: number): void {
    this.key(keysym, true);
    this.key(keysym, false);
  }

  /** Types ASCII text ("\n" presses Return). */
  type(text: string): void {
    for (const char of text) this.press(char === '\n' ? 0xff0d : char.charCodeAt(0));
  }

  qemuKey(keysym: number, keycode: number, down: boolean): void {
    const message = Buffer.alloc(12);
    message.writeUInt8(255, 0);
    message.writeUInt8(0, 1);
    message.writeUInt16BE(down ? 1 : 0, 2);
    message.writeUInt32BE(keysym >>> 0, 4);
    message.writeUInt32BE(keycode >>> 0, 8);
    this.socket.write(message);
  }

  pointer(x: number, y: number, buttonMask: number): void {
    const message = Buffer.alloc(6);
    message.writeUInt8(5, 0);
    message.writeUInt8(buttonMask, 1);
    message.writeUInt16BE(x, 2);
    message.writeUInt16BE(y, 4);
    this.socket.write(message);
  }

  cutText(text: string): void {
    const bytes = Buffer.from(text, 'latin1');
    const header = Buffer.alloc(8);
    header.writeUInt8(6, 0);
    header.writeUInt32BE(bytes.length, 4);
    this.socket.write(Buffer.concat([header, bytes]));
  }

  /** Sends raw bytes (fuzzing). */
  send(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** Round trip: resolves once the server has handled everything sent before (an update request answers). */
  async sync(): Promise<RectInfo[]> {
    return this.update(true);
  }

  close(): void {
    this.zlib.close();
    this.zrle.close();
    this.socket.destroy();
  }
}

// ---- Served guests, pixel assertions, waits ----

export interface ServedGuest {
  readonly guest: GuestDesktop;
  readonly server: RfbServer;
  readonly port: number;
  readonly log: string[];
}

/** A guest (steady cursor unless told) behind a fresh RFB server on a free port. */
export async function startGuestServer(
  options: Partial<GuestDesktopOptions> & { server?: Partial<RfbServerOptions>; inputFor?: (guest: GuestDesktop) => RfbInputSink } = {},
): Promise<ServedGuest> {
  const guest = new GuestDesktop({ title: 'test guest', cursorBlinkMs: 0, width: 640, height: 480, ...options });
  const log: string[] = [];
  const server = new RfbServer({
    source: guest,
    input: options.inputFor?.(guest) ?? guest,
    desktopName: 'Test desktop',
    log: (line) => log.push(line),
    ...options.server,
  });
  const port = await server.listen();
  return { guest, server, port, log };
}

/** Asserts two RGBA buffers are identical, naming the first differing pixel and how many differ. */
export function assertSamePixels(actual: Uint8Array, expected: Uint8Array, width: number, message = 'pixels differ'): void {
  assert.equal(actual.length, expected.length, `${message}: buffer sizes ${actual.length} vs ${expected.length}`);
  let first = -1;
  let count = 0;
  for (let offset = 0; offset < expected.length; offset += 4) {
    if (
      actual[offset] !== expected[offset] ||
      actual[offset + 1] !== expected[offset + 1] ||
      actual[offset + 2] !== expected[offset + 2] ||
      actual[offset + 3] !== expected[offset + 3]
    ) {
      if (first < 0) first = offset / 4;
      count++;
    }
  }
  if (count > 0) {
    const x = first % width;
    const y = Math.floor(first / width);
    const at = first * 4;
    assert.fail(
      `${message}: ${count} pixels differ, first at (${x}, ${y}): ` +
        `actual ${[...actual.subarray(at, at + 4)].join(',')} expected ${[...expected.subarray(at, at + 4)].join(',')}`,
    );
  }
}

/** The bounding box of the pixels that differ between two same-size RGBA buffers, or null. */
export function diffBounds(a: Uint8Array, b: Uint8Array, width: number): Rect | null {
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -1;
  let maxY = -1;
  for (let offset = 0; offset < a.length; offset += 4) {
    if (a[offset] !== b[offset] || a[offset + 1] !== b[offset + 1] || a[offset + 2] !== b[offset + 2]) {
      const pixel = offset / 4;
      const x = pixel % width;
      const y = Math.floor(pixel / width);
      minX = Math.min(minX, x);
      minY = Math.min(minY, y);
      maxX = Math.max(maxX, x);
      maxY = Math.max(maxY, y);
    }
  }
  return maxX < 0 ? null : { x: minX, y: minY, width: maxX - minX + 1, height: maxY - minY + 1 };
}

/** True when `inner` lies inside `outer`. */
export function rectInside(inner: Rect, outer: Rect): boolean {
  return inner.x >= outer.x && inner.y >= outer.y && inner.x + inner.width <= outer.x + outer.width && inner.y + inner.height <= outer.y + outer.height;
}

/** Polls `condition` every 10 ms until true; fails after `timeoutMs`. */
export async function waitFor(condition: () => boolean, timeoutMs = 2000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Resolves with the connect error code ('ECONNREFUSED') or 'connected'. */
export function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

/** The RGBA a 16-bpp RGB565 client shows for the guest's RGBA (quantize, then expand back). */
export function throughRgb565(rgba: Uint8Array): Uint8Array {
  const out = new Uint8Array(rgba.length);
  const channel = (value: number, max: number): number => Math.round((Math.round((value * max) / 255) * 255) / max);
  for (let offset = 0; offset < rgba.length; offset += 4) {
    out[offset] = channel(rgba[offset] ?? 0, 31);
    out[offset + 1] = channel(rgba[offset + 1] ?? 0, 63);
    out[offset + 2] = channel(rgba[offset + 2] ?? 0, 31);
    out[offset + 3] = 255;
  }
  return out;
}

// ---- noVNC modules ----

// noVNC's package exports only core/rfb.js, which needs a browser; its DES and decoder modules are
// plain ES modules that run in Node.
/** Imports `core/<relativePath>` of the installed @novnc/novnc. */
export async function importNoVncCore(relativePath: string): Promise<unknown> {
  const rfbPath = createRequire(import.meta.url).resolve('@novnc/novnc'); // …/core/rfb.js
  return (await import(pathToFileURL(join(dirname(rfbPath), relativePath)).href)) as unknown;
}
