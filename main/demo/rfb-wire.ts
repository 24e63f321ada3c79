// The RFB wire format (RFC 6143 plus the DesktopSize, ExtendedDesktopSize and QEMU key
// extensions) for the demo server: constants, a bounds-checked client message parser and
// the server message encoders. Runs in Node (Buffer).

/** Protocol versions the demo server speaks. */
export type RfbVersion = '3.3' | '3.7' | '3.8';

/** The version string the server offers first. */
export const SERVER_VERSION_MESSAGE = 'RFB 003.008\n';
/** ProtocolVersion messages are exactly this long. */
export const VERSION_MESSAGE_BYTES = 12;

/** Security types the demo server offers (RFC 6143 §7.1.2). */
export const SECURITY_TYPE = { None: 1, VncAuth: 2 } as const;
/** SecurityResult status words. */
export const SECURITY_RESULT = { Ok: 0, Failed: 1 } as const;

/** Client-to-server message types understood (RFC 6143 §7.5, plus SetDesktopSize and QEMU). */
export const CLIENT_MESSAGE = {
  SetPixelFormat: 0,
  SetEncodings: 2,
  FramebufferUpdateRequest: 3,
  KeyEvent: 4,
  PointerEvent: 5,
  ClientCutText: 6,
  SetDesktopSize: 251,
  Qemu: 255,
} as const;

/** Server-to-client message types sent. */
export const SERVER_MESSAGE = { FramebufferUpdate: 0 } as const;

/** QEMU client message subtype 0: extended key event (keysym + XT scancode). */
export const QEMU_EXTENDED_KEY_SUBTYPE = 0;

/** Encodings and pseudo-encodings the demo server knows (RFC 6143 §7.7, §7.8). */
export const ENCODING = {
  Raw: 0,
  CopyRect: 1,
  Zlib: 6,
  Zrle: 16,
  DesktopSize: -223,
  QemuExtendedKeyEvent: -258,
  ExtendedDesktopSize: -308,
} as const;

/** Larger ClientCutText messages get the client disconnected. */
export const MAX_CUT_TEXT_BYTES = 1024 * 1024;
/** More encodings than this in one SetEncodings get the client disconnected. */
export const MAX_ENCODINGS = 1024;
/** More screens than this in one SetDesktopSize get the client disconnected. */
export const MAX_SCREENS = 64;

/** ExtendedDesktopSize status codes (the rectangle's y field). */
export const DESKTOP_SIZE_STATUS = { Ok: 0, Prohibited: 1 } as const;
/** Why an ExtendedDesktopSize rectangle is sent (its x field). */
export const DESKTOP_SIZE_REASON = { Server: 0, ThisClient: 1, OtherClient: 2 } as const;

/** RFC 6143 §7.4 PIXEL_FORMAT. */
export interface PixelFormat {
  readonly bitsPerPixel: number;
  readonly depth: number;
  readonly bigEndian: boolean;
  readonly trueColour: boolean;
  readonly redMax: number;
  readonly greenMax: number;
  readonly blueMax: number;
  readonly redShift: number;
  readonly greenShift: number;
  readonly blueShift: number;
}

/** PIXEL_FORMAT is 16 bytes on the wire (3 of them padding). */
export const PIXEL_FORMAT_BYTES = 16;

/** What the server announces: 32 bpp, depth 24, little-endian, 0x00RRGGBB (as Xvnc does). */
export const DEFAULT_PIXEL_FORMAT: PixelFormat = {
  bitsPerPixel: 32,
  depth: 24,
  bigEndian: false,
  trueColour: true,
  redMax: 255,
  greenMax: 255,
  blueMax: 255,
  redShift: 16,
  greenShift: 8,
  blueShift: 0,
};

/** A parsed client-to-server message. */
export type ClientMessage =
  | { readonly type: 'set-pixel-format'; readonly pixelFormat: PixelFormat }
  | { readonly type: 'set-encodings'; readonly encodings: readonly number[] }
  | {
      readonly type: 'update-request';
      readonly incremental: boolean;
      readonly x: number;
      readonly y: number;
      readonly width: number;
      readonly height: number;
    }
  | { readonly type: 'key'; readonly down: boolean; readonly keysym: number }
  | { readonly type: 'pointer'; readonly buttonMask: number; readonly x: number; readonly y: number }
  | { readonly type: 'cut-text'; readonly text: string }
  | { readonly type: 'qemu-key'; readonly down: boolean; readonly keysym: number; readonly keycode: number }
  | { readonly type: 'set-desktop-size'; readonly width: number; readonly height: number; readonly screenCount: number };

/** One parse step over the bytes received so far. */
export type ParseResult =
  | { readonly kind: 'message'; readonly message: ClientMessage; readonly byteLength: number }
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'error'; readonly reason: string };

const INCOMPLETE: ParseResult = { kind: 'incomplete' };

/** Parses the client's ProtocolVersion (exactly 12 bytes); null when it is not one we can speak. */
export function parseVersionMessage(bytes: Uint8Array): RfbVersion | null {
  const text = Buffer.from(bytes).toString('latin1');
  const match = /^RFB (\d{3})\.(\d{3})\n$/.exec(text);
  if (match === null) return null;
  const major = Number(match[1]);
  const minor = Number(match[2]);
  if (major !== 3) return null;
  if (minor >= 8) return '3.8';
  if (minor === 7) return '3.7';
  // RFC 6143 §7.1.1: any other 3.x (3.5 was once advertised) must be treated as 3.3.
  if (minor >= 3) return '3.3';
  return null;
}

/** Decodes 16 bytes of PIXEL_FORMAT at `offset`. */
export function decodePixelFormat(bytes: Buffer, offset: number): PixelFormat {
  return {
    bitsPerPixel: bytes.readUInt8(offset),
    depth: bytes.readUInt8(offset + 1),
    bigEndian: bytes.readUInt8(offset + 2) !== 0,
    trueColour: bytes.readUInt8(offset + 3) !== 0,
    redMax: bytes.readUInt16BE(offset + 4),
    greenMax: bytes.readUInt16BE(offset + 6),
    blueMax: bytes.readUInt16BE(offset + 8),
    redShift: bytes.readUInt8(offset + 10),
    greenShift: bytes.readUInt8(offset + 11),
    blueShift: bytes.readUInt8(offset + 12),
  };
}

/** Encodes PIXEL_FORMAT into 16 bytes. */
export function encodePixelFormat(format: PixelFormat): Buffer {
  const bytes = Buffer.alloc(PIXEL_FORMAT_BYTES);
  bytes.writeUInt8(format.bitsPerPixel, 0);
  bytes.writeUInt8(format.depth, 1);
  bytes.writeUInt8(format.bigEndian ? 1 : 0, 2);
  bytes.writeUInt8(format.trueColour ? 1 : 0, 3);
  bytes.writeUInt16BE(format.redMax, 4);
  bytes.writeUInt16BE(format.greenMax, 6);
  bytes.writeUInt16BE(format.blueMax, 8);
  bytes.writeUInt8(format.redShift, 10);
  bytes.writeUInt8(format.greenShift, 11);
  bytes.writeUInt8(format.blueShift, 12);
  return bytes;
}

function bitLength(value: number): number {
  return value === 0 ? 0 : 32 - Math.clz32(value);
}

/** Why the demo server cannot serve `format`, or null when it can (true colour, 8/16/32 bpp). */
export function unsupportedPixelFormatReason(format: PixelFormat): string | null {
  if (!format.trueColour) return 'colour-map pixel formats are not supported';
  if (![8, 16, 32].includes(format.bitsPerPixel)) return `${format.bitsPerPixel} bits per pixel is not supported`;
  const channels = [
    ['red', format.redMax, format.redShift],
    ['green', format.greenMax, format.greenShift],
    ['blue', format.blueMax, format.blueShift],
  ] as const;
  for (const [name, max, shift] of channels) {
    if (max === 0) return `${name}-max is 0`;
    if (shift + bitLength(max) > format.bitsPerPixel) return `${name} does not fit in ${format.bitsPerPixel} bits`;
  }
  return null;
}

/**
 * Parses one client message from the start of `bytes` (RFC 6143 §7.5). Never throws: a message
 * that is unknown, too large or malformed yields `error`, on which the caller drops the client.
 */
export function parseClientMessage(bytes: Buffer): ParseResult {
  if (bytes.length < 1) return INCOMPLETE;
  const type = bytes.readUInt8(0);
  switch (type) {
    case CLIENT_MESSAGE.SetPixelFormat:
      if (bytes.length < 20) return INCOMPLETE;
      return { kind: 'message', message: { type: 'set-pixel-format', pixelFormat: decodePixelFormat(bytes, 4) }, byteLength: 20 };
    case CLIENT_MESSAGE.SetEncodings: {
      if (bytes.length < 4) return INCOMPLETE;
      const count = bytes.readUInt16BE(2);
      if (count > MAX_ENCODINGS) return { kind: 'error', reason: `SetEncodings lists ${count} encodings (limit ${MAX_ENCODINGS})` };
      const byteLength = 4 + 4 * count;
      if (bytes.length < byteLength) return INCOMPLETE;
      const encodings: number[] = [];
      for (let index = 0; index < count; index++) encodings.push(bytes.readInt32BE(4 + 4 * index));
      return { kind: 'message', message: { type: 'set-encodings', encodings }, byteLength };
    }
    case CLIENT_MESSAGE.FramebufferUpdateRequest:
      if (bytes.length < 10) return INCOMPLETE;
      return {
        kind: 'message',
        message: {
          type: 'update-request',
          incremental: bytes.readUInt8(1) !== 0,
          x: bytes.readUInt16BE(2),
          y: bytes.readUInt16BE(4),
          width: bytes.readUInt16BE(6),
          height: bytes.readUInt16BE(8),
        },
        byteLength: 10,
      };
    case CLIENT_MESSAGE.KeyEvent:
      if (bytes.length < 8) return INCOMPLETE;
      return { kind: 'message', message: { type: 'key', down: bytes.readUInt8(1) !== 0, keysym: bytes.readUInt32BE(4) }, byteLength: 8 };
    case CLIENT_MESSAGE.PointerEvent:
      if (bytes.length < 6) return INCOMPLETE;
      return {
        kind: 'message',
        message: { type: 'pointer', buttonMask: bytes.readUInt8(1), x: bytes.readUInt16BE(2), y: bytes.readUInt16BE(4) },
        byteLength: 6,
      };
    case CLIENT_MESSAGE.ClientCutText: {
      if (bytes.length < 8) return INCOMPLETE;
      const length = bytes.readUInt32BE(4);
      // A negative (as s32) length means Extended Clipboard, which we never negotiate.
      if (length > MAX_CUT_TEXT_BYTES) return { kind: 'error', reason: `ClientCutText of ${length} bytes (limit ${MAX_CUT_TEXT_BYTES})` };
      if (bytes.length < 8 + length) return INCOMPLETE;
      return { kind: 'message', message: { type: 'cut-text', text: bytes.toString('latin1', 8, 8 + length) }, byteLength: 8 + length };
    }
    case CLIENT_MESSAGE.SetDesktopSize: {
      if (bytes.length < 8) return INCOMPLETE;
      const screenCount = bytes.readUInt8(6);
      if (screenCount === 0 || screenCount > MAX_SCREENS) return { kind: 'error', reason: `SetDesktopSize with ${screenCount} screens` };
      const byteLength = 8 + 16 * screenCount;
      if (bytes.length < byteLength) return INCOMPLETE;
      return {
        kind: 'message',
        message: { type: 'set-desktop-size', width: bytes.readUInt16BE(2), height: bytes.readUInt16BE(4), screenCount },
        byteLength,
      };
    }
    case CLIENT_MESSAGE.Qemu: {
      if (bytes.length < 2) return INCOMPLETE;
      const subtype = bytes.readUInt8(1);
      if (subtype !== QEMU_EXTENDED_KEY_SUBTYPE) return { kind: 'error', reason: `unsupported QEMU message subtype ${subtype}` };
      if (bytes.length < 12) return INCOMPLETE;
      const downFlag = bytes.readUInt16BE(2);
      if (downFlag > 1) return { kind: 'error', reason: `QEMU key event with down-flag ${downFlag}` };
      return {
        kind: 'message',
        message: { type: 'qemu-key', down: downFlag === 1, keysym: bytes.readUInt32BE(4), keycode: bytes.readUInt32BE(8) },
        byteLength: 12,
      };
    }
    default:
      return { kind: 'error', reason: `unknown client message type ${type}` };
  }
}

/** ServerInit (RFC 6143 §7.3.2). */
export function encodeServerInit(width: number, height: number, format: PixelFormat, name: string): Buffer {
  const nameBytes = Buffer.from(name, 'utf8');
  const header = Buffer.alloc(4);
  header.writeUInt16BE(width, 0);
  header.writeUInt16BE(height, 2);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(nameBytes.length, 0);
  return Buffer.concat([header, encodePixelFormat(format), length, nameBytes]);
}

/** SecurityResult, with the RFB 3.8 reason string on failure. */
export function encodeSecurityResult(ok: boolean, reason: string | null): Buffer {
  const status = Buffer.alloc(4);
  status.writeUInt32BE(ok ? SECURITY_RESULT.Ok : SECURITY_RESULT.Failed, 0);
  if (ok || reason === null) return status;
  const text = Buffer.from(reason, 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(text.length, 0);
  return Buffer.concat([status, length, text]);
}

/** The 4-byte FramebufferUpdate header announcing `rectangleCount` rectangles. */
export function encodeUpdateHeader(rectangleCount: number): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt8(SERVER_MESSAGE.FramebufferUpdate, 0);
  header.writeUInt16BE(rectangleCount, 2);
  return header;
}

/** A 12-byte rectangle header. */
export function encodeRectHeader(x: number, y: number, width: number, height: number, encoding: number): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(x, 0);
  header.writeUInt16BE(y, 2);
  header.writeUInt16BE(width, 4);
  header.writeUInt16BE(height, 6);
  header.writeInt32BE(encoding, 8);
  return header;
}

/** An ExtendedDesktopSize rectangle describing one screen covering the framebuffer. */
export function encodeExtendedDesktopSize(reason: number, status: number, width: number, height: number): Buffer {
  const body = Buffer.alloc(4 + 16);
  body.writeUInt8(1, 0); // number-of-screens
  body.writeUInt32BE(0, 4); // screen id
  body.writeUInt16BE(0, 8);
  body.writeUInt16BE(0, 10);
  body.writeUInt16BE(width, 12);
  body.writeUInt16BE(height, 14);
  body.writeUInt32BE(0, 16); // flags
  return Buffer.concat([encodeRectHeader(reason, status, width, height, ENCODING.ExtendedDesktopSize), body]);
}
