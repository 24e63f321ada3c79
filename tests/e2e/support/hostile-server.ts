// A deliberately hostile "VNC server" for robustness tests: it completes the RFB handshake and then
// misbehaves (an absurd desktop size, garbage, a rectangle far outside its desktop, an encoding
// nobody asked for), or stalls the handshake. Runs in Node on 127.0.0.1.

import { createServer, type Server, type Socket } from 'node:net';
import { createDeflate } from 'node:zlib';

export type HostileBehaviour =
  /** ServerInit announces a 65535×65535 desktop. */
  | 'huge-desktop'
  /** A FramebufferUpdate rectangle in an unknown encoding, then noise. */
  | 'garbage'
  /** On a 640×400 desktop, a 16384×16384 Zlib rectangle (~1 MB of deflate that inflates to 1 GiB). */
  | 'zlib-rectangle-16384'
  /** On a 640×400 desktop, a 4096×4096 Zlib rectangle (~65 KB of deflate that inflates to 64 MiB). */
  | 'zlib-rectangle-4096'
  /** A Tight rectangle with JPEG compression, an encoding RetroVisor never offers. */
  | 'tight-jpeg-rectangle'
  /** Sends its RFB version, then nothing, ever. */
  | 'version-then-silence'
  /** Offers only RA2ne and sends its public key: the client's verification of it never comes. */
  | 'ra2ne-only';

export interface HostileServer {
  readonly port: number;
  /** Connections accepted so far. */
  connections(): number;
  stop(): Promise<void>;
}

/** The desktop every post-handshake misbehaviour (but huge-desktop) announces. */
export const HOSTILE_DESKTOP = { width: 640, height: 400 } as const;

/** RFB encoding numbers used here. */
const ENCODING_ZLIB = 6;
const ENCODING_TIGHT = 7;
/** RFB security type numbers used here. */
const SECURITY_NONE = 1;
const SECURITY_RA2NE = 6;
/** The RSA key size the RA2ne server announces (noVNC accepts 1024..8192 bits). */
const RA2NE_KEY_BITS = 1024;

function serverInit(width: number, height: number, name: string): Buffer {
  const nameBytes = Buffer.from(name, 'latin1');
  const message = Buffer.alloc(24 + nameBytes.length);
  message.writeUInt16BE(width, 0);
  message.writeUInt16BE(height, 2);
  // 32 bpp, depth 24, little endian, true colour, max 255 each, shifts 16/8/0.
  Buffer.from([32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0]).copy(message, 4);
  message.writeUInt32BE(nameBytes.length, 20);
  nameBytes.copy(message, 24);
  return message;
}

/** A FramebufferUpdate header announcing one rectangle, with that rectangle's header. */
function updateWithOneRectangle(x: number, y: number, width: number, height: number, encoding: number): Buffer {
  const message = Buffer.alloc(16);
  message.writeUInt8(0, 0); // FramebufferUpdate
  message.writeUInt16BE(1, 2); // one rectangle
  message.writeUInt16BE(x, 4);
  message.writeUInt16BE(y, 6);
  message.writeUInt16BE(width, 8);
  message.writeUInt16BE(height, 10);
  message.writeInt32BE(encoding, 12);
  return message;
}

/** `byteCount` zero bytes deflated as one zlib stream (streamed: the inflated size is never held). */
async function deflatedZeros(byteCount: number): Promise<Buffer> {
  const deflate = createDeflate({ level: 9 });
  const chunks: Buffer[] = [];
  deflate.on('data', (chunk: Buffer) => chunks.push(chunk));
  const ended = new Promise<void>((resolve, reject) => {
    deflate.once('end', resolve);
    deflate.once('error', reject);
  });
  const zeros = Buffer.alloc(1 << 20);
  for (let left = byteCount; left > 0; left -= zeros.length) {
    if (!deflate.write(left >= zeros.length ? zeros : zeros.subarray(0, left))) {
      await new Promise((resolve) => deflate.once('drain', resolve));
    }
  }
  deflate.end();
  await ended;
  return Buffer.concat(chunks);
}

/** The whole answer of a zlib-rectangle server to the client's first update request. */
async function zlibRectangleUpdate(side: number): Promise<Buffer> {
  const payload = await deflatedZeros(side * side * 4);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(payload.length, 0);
  return Buffer.concat([updateWithOneRectangle(0, 0, side, side, ENCODING_ZLIB), length, payload]);
}

/** A 64×64 Tight rectangle with JPEG compression (control byte 0x90) and a few bytes posing as a JPEG. */
function tightJpegUpdate(): Buffer {
  const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, ...new Array<number>(60).fill(0x42), 0xff, 0xd9]);
  // Tight's compact length: 7 bits per byte, low bits first (here it fits one byte).
  return Buffer.concat([updateWithOneRectangle(0, 0, 64, 64, ENCODING_TIGHT), Buffer.from([0x90, jpeg.length]), jpeg]);
}

/** The RA2ne server's public key: key length in bits, then modulus and exponent, each key-sized. */
function ra2nePublicKey(): Buffer {
  const keyBytes = RA2NE_KEY_BITS / 8;
  const message = Buffer.alloc(4 + keyBytes * 2, 0x5a);
  message.writeUInt32BE(RA2NE_KEY_BITS, 0);
  message.writeUInt8(0xc3, 4); // the modulus's top bit set, as a real key's is
  message.fill(0, 4 + keyBytes, 4 + keyBytes * 2 - 3);
  Buffer.from([1, 0, 1]).copy(message, 4 + keyBytes * 2 - 3); // exponent 65537
  return message;
}

/** Starts a server that behaves as asked (after an RFB 3.8 handshake with security None, unless it stalls it). */
export async function startHostileServer(behaviour: HostileBehaviour): Promise<HostileServer> {
  // Prepared before listening, so a client's first request is answered at once.
  const misbehaviour: Buffer | null =
    behaviour === 'zlib-rectangle-16384'
      ? await zlibRectangleUpdate(16384)
      : behaviour === 'zlib-rectangle-4096'
        ? await zlibRectangleUpdate(4096)
        : behaviour === 'tight-jpeg-rectangle'
          ? tightJpegUpdate()
          : behaviour === 'garbage'
            ? // A rectangle claiming an unknown encoding, then noise.
              Buffer.concat([Buffer.from([0, 0, 0, 1, 0, 0, 0, 0, 0, 16, 0, 16, 0x7f, 0x12, 0x34, 0x56]), Buffer.alloc(4096, 0xa5)])
            : null;
  let accepted = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    accepted += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let stage = 0;
    socket.write('RFB 003.008\n');
    if (behaviour === 'version-then-silence') return;
    socket.on('data', () => {
      stage += 1;
      if (behaviour === 'ra2ne-only') {
        if (stage === 1) socket.write(Buffer.from([1, SECURITY_RA2NE]));
        else if (stage === 2) socket.write(ra2nePublicKey()); // then wait for a verification that never comes
        return;
      }
      if (stage === 1) socket.write(Buffer.from([1, SECURITY_NONE]));
      else if (stage === 2) socket.write(Buffer.from([0, 0, 0, 0])); // SecurityResult OK
      else if (stage === 3) {
        // ClientInit received.
        const { width, height } = behaviour === 'huge-desktop' ? { width: 65535, height: 65535 } : HOSTILE_DESKTOP;
        socket.write(serverInit(width, height, behaviour));
      } else if (stage === 4 && misbehaviour !== null) {
        // The client's first requests: answer with the misbehaviour. (Sent as the answer, not glued
        // to ServerInit: noVNC leaves bytes that arrive in the same chunk as ServerInit unread until
        // more data comes.)
        socket.write(misbehaviour);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    connections: () => accepted,
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
