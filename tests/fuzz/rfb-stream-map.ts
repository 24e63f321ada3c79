// Finds the structure of a recorded server→client RFB 3.8 stream (security None, the 32-bit pixel
// format noVNC asks for): where each message starts and where its count, size and length fields
// lie, so mutators can inflate them. Pure; stops mapping at the first thing it does not know.

/** A count, size or length field of the stream. */
export interface StreamField {
  readonly offset: number;
  /** Width in bytes (big-endian). */
  readonly size: 1 | 2 | 4;
  /** What it is, for case descriptions: rectangle-count, rect-width, zrle-length, ... */
  readonly kind: string;
}

/** What mapServerStream found. */
export interface StreamMap {
  readonly fields: readonly StreamField[];
  /** Byte offsets where a server message (or a handshake step) starts. */
  readonly messageStarts: readonly number[];
  /** Where ServerInit ends (the first byte of the first normal message), or null if the handshake is incomplete. */
  readonly handshakeEnd: number | null;
  /** How far mapping got: the whole stream unless something unknown or truncated stopped it. */
  readonly mappedEnd: number;
}

/** Bytes per pixel of the pixel format noVNC sets (32 bpp true colour). */
const BYTES_PER_PIXEL = 4;
const HEXTILE_TILE_PIXELS = 16;
/** VMware's cursor pseudo-encoding ("WMVd"), as a signed 32-bit number. */
const VMWARE_CURSOR = 0x574d5664;

class OutOfData extends Error {}
class Unknown extends Error {}

/** Maps a server→client byte stream; never throws. */
export function mapServerStream(bytes: Uint8Array): StreamMap {
  const fields: StreamField[] = [];
  const messageStarts: number[] = [];
  let offset = 0;
  let handshakeEnd: number | null = null;
  let mappedEnd = 0;
  const need = (length: number): void => {
    if (length < 0 || offset + length > bytes.length) throw new OutOfData();
  };
  const skip = (length: number): void => {
    need(length);
    offset += length;
  };
  const read = (size: 1 | 2 | 4, kind: string | null): number => {
    need(size);
    if (kind !== null) fields.push({ offset, size, kind });
    let value = 0;
    for (let index = 0; index < size; index++) value = value * 256 + (bytes[offset + index] ?? 0);
    offset += size;
    return value;
  };
  try {
    // ProtocolVersion, security types, SecurityResult, ServerInit.
    messageStarts.push(offset);
    skip(12);
    messageStarts.push(offset);
    const typeCount = read(1, 'security-type-count');
    if (typeCount === 0) throw new Unknown();
    skip(typeCount);
    messageStarts.push(offset);
    if (read(4, 'security-result') !== 0) throw new Unknown();
    messageStarts.push(offset);
    read(2, 'desktop-width');
    read(2, 'desktop-height');
    read(1, 'bits-per-pixel');
    skip(15);
    skip(read(4, 'desktop-name-length'));
    handshakeEnd = offset;
    mappedEnd = offset;
    for (;;) {
      if (offset >= bytes.length) break;
      messageStarts.push(offset);
      mapMessage(read, skip);
      mappedEnd = offset;
    }
  } catch (error) {
    if (!(error instanceof OutOfData) && !(error instanceof Unknown)) throw error;
  }
  return { fields, messageStarts, handshakeEnd, mappedEnd };
}

type Read = (size: 1 | 2 | 4, kind: string | null) => number;
type Skip = (length: number) => void;

function mapMessage(read: Read, skip: Skip): void {
  const type = read(1, null);
  switch (type) {
    case 0: {
      // FramebufferUpdate.
      skip(1);
      const count = read(2, 'rectangle-count');
      for (let index = 0; index < count; index++) {
        if (!mapRectangle(read, skip)) break; // LastRect
      }
      return;
    }
    case 1:
      // SetColourMapEntries.
      skip(3);
      skip(read(2, 'colour-count') * 6);
      return;
    case 2:
      return; // Bell
    case 3: {
      // ServerCutText (a negative length is the extended clipboard).
      skip(3);
      const length = read(4, 'cut-text-length');
      skip(length > 0x7fffffff ? 0x100000000 - length : length);
      return;
    }
    case 150:
      return; // EndOfContinuousUpdates
    case 248:
      // ServerFence.
      skip(3);
      skip(4);
      skip(read(1, 'fence-length'));
      return;
    case 250:
      skip(3); // XVP
      return;
    default:
      throw new Unknown();
  }
}

/** Maps one rectangle; false after a LastRect. */
function mapRectangle(read: Read, skip: Skip): boolean {
  read(2, 'rect-x');
  read(2, 'rect-y');
  const width = read(2, 'rect-width');
  const height = read(2, 'rect-height');
  const encoding = read(4, 'rect-encoding') | 0;
  switch (encoding) {
    case 0:
      skip(width * height * BYTES_PER_PIXEL);
      return true;
    case 1:
      read(2, 'copyrect-source-x');
      read(2, 'copyrect-source-y');
      return true;
    case 2: {
      const count = read(4, 'rre-subrectangle-count');
      skip(BYTES_PER_PIXEL + count * (BYTES_PER_PIXEL + 8));
      return true;
    }
    case 5:
      mapHextile(width, height, read, skip);
      return true;
    case 6:
      skip(read(4, 'zlib-length'));
      return true;
    case 16:
      skip(read(4, 'zrle-length'));
      return true;
    case -239:
      // Cursor: pixels then a bitmask.
      skip(width * height * BYTES_PER_PIXEL + Math.ceil(width / 8) * height);
      return true;
    case -240:
      // X cursor: two colours and two bitmaps, when not empty.
      if (width * height > 0) skip(6 + 2 * Math.ceil(width / 8) * height);
      return true;
    case -308:
      // ExtendedDesktopSize.
      {
        const screens = read(1, 'screen-count');
        skip(3 + 16 * screens);
      }
      return true;
    case -307:
      skip(read(4, 'desktop-name-length'));
      return true;
    case -261:
      skip(1); // LED state
      return true;
    case VMWARE_CURSOR: {
      // A type byte (0: AND and XOR masks, 1: alpha), a padding byte, then the pixels.
      const type = read(1, 'vmware-cursor-type');
      skip(1 + width * height * BYTES_PER_PIXEL * (type === 0 ? 2 : 1));
      return true;
    }
    case -224:
      return false; // LastRect
    case -223: // DesktopSize
    case -258: // QEMU extended key events
    case -257: // QEMU audio
    case -312: // fence
    case -313: // continuous updates
    case -309: // XVP
    case -316: // extended mouse buttons
      return true;
    default:
      throw new Unknown();
  }
}

function mapHextile(width: number, height: number, read: Read, skip: Skip): void {
  for (let y = 0; y < height; y += HEXTILE_TILE_PIXELS) {
    for (let x = 0; x < width; x += HEXTILE_TILE_PIXELS) {
      const tileWidth = Math.min(HEXTILE_TILE_PIXELS, width - x);
      const tileHeight = Math.min(HEXTILE_TILE_PIXELS, height - y);
      const subencoding = read(1, null);
      if (subencoding & 1) {
        skip(tileWidth * tileHeight * BYTES_PER_PIXEL);
        continue;
      }
      if (subencoding & 2) skip(BYTES_PER_PIXEL);
      if (subencoding & 4) skip(BYTES_PER_PIXEL);
      if (subencoding & 8) {
        const count = read(1, 'hextile-subrectangle-count');
        skip(count * ((subencoding & 16 ? BYTES_PER_PIXEL : 0) + 2));
      }
    }
  }
}
