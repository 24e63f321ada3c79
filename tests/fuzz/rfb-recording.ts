// A recorded RFB session (what a real server sent RetroVisor's client, and what the client sent, in
// arrival order) and its file format: gzip of a magic line, a JSON header and length-prefixed chunks.
// Also the replay plan made from it: the server's bytes with the client bytes each chunk waits for. Node.

import { readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { mapServerStream } from './rfb-stream-map';

/** Which side sent a chunk. */
export type ChunkDirection = 'server' | 'client';

/** One read from a socket, as the recording proxy saw it. */
export interface RecordedChunk {
  readonly from: ChunkDirection;
  readonly bytes: Uint8Array;
}

/** A whole recorded session. */
export interface RfbRecording {
  /** Where it came from (xvnc, qemu, demo), and how it was made, for people reading the file. */
  readonly header: { readonly source: string; readonly description: string };
  readonly chunks: readonly RecordedChunk[];
}

/** One write of the replaying server: its bytes, sent once the client has sent `afterClientBytes` in all. */
export interface ReplayChunk {
  readonly bytes: Uint8Array;
  readonly afterClientBytes: number;
}

/** What a replaying server sends: the server's byte stream cut into writes, each gated on the client. */
export interface ReplayPlan {
  readonly chunks: readonly ReplayChunk[];
}

const MAGIC = Buffer.from('RetroVisor RFB recording 1\n', 'latin1');
const DIRECTION_SERVER = 0;
const DIRECTION_CLIENT = 1;
/** Largest recording file accepted (inflated), so a broken fixture cannot exhaust memory. */
const MAX_RECORDING_BYTES = 64 * 1024 * 1024;

/** The recording as the bytes of a `.rfb.gz` file. */
export function encodeRecording(recording: RfbRecording): Buffer {
  const header = Buffer.from(JSON.stringify(recording.header), 'utf8');
  const parts: Buffer[] = [MAGIC, u32(header.length), header];
  for (const chunk of recording.chunks) {
    parts.push(Buffer.from([chunk.from === 'server' ? DIRECTION_SERVER : DIRECTION_CLIENT]), u32(chunk.bytes.length), Buffer.from(chunk.bytes));
  }
  return gzipSync(Buffer.concat(parts), { level: 9 });
}

/** Parses the bytes of a `.rfb.gz` file; throws on anything malformed. */
export function decodeRecording(file: Uint8Array): RfbRecording {
  const data = gunzipSync(file, { maxOutputLength: MAX_RECORDING_BYTES });
  if (!data.subarray(0, MAGIC.length).equals(MAGIC)) throw new Error('not a RetroVisor RFB recording (bad magic line)');
  let offset = MAGIC.length;
  const take = (length: number): Buffer => {
    if (offset + length > data.length) throw new Error(`truncated recording at byte ${offset}`);
    const slice = data.subarray(offset, offset + length);
    offset += length;
    return slice;
  };
  const headerLength = take(4).readUInt32BE(0);
  const header = JSON.parse(take(headerLength).toString('utf8')) as RfbRecording['header'];
  const chunks: RecordedChunk[] = [];
  while (offset < data.length) {
    const direction = take(1)[0];
    if (direction !== DIRECTION_SERVER && direction !== DIRECTION_CLIENT) throw new Error(`bad chunk direction ${String(direction)} at byte ${offset - 1}`);
    const length = take(4).readUInt32BE(0);
    chunks.push({ from: direction === DIRECTION_SERVER ? 'server' : 'client', bytes: new Uint8Array(take(length)) });
  }
  return { header, chunks };
}

/** Reads a `.rfb.gz` file. */
export function readRecording(path: string): RfbRecording {
  return decodeRecording(readFileSync(path));
}

/** Writes a `.rfb.gz` file. */
export function writeRecording(path: string, recording: RfbRecording): void {
  writeFileSync(path, encodeRecording(recording));
}

/** Every byte the server sent, in order. */
export function serverBytes(recording: RfbRecording): Uint8Array {
  return Buffer.concat(recording.chunks.filter((chunk) => chunk.from === 'server').map((chunk) => chunk.bytes));
}

/**
 * The replay plan of an unmutated recording: one write per recorded server chunk, each waiting for
 * as many client bytes as the real client had sent when the server sent it — but only through the
 * handshake and the first chunk after ServerInit. noVNC needs those waits (it parses nothing that
 * arrives in the same read as ServerInit until more data comes); the updates after that are sent
 * without waiting, as a client's update requests depend on its timing, not on the protocol.
 */
export function replayPlan(recording: RfbRecording): ReplayPlan {
  const handshakeEnd = mapServerStream(serverBytes(recording)).handshakeEnd;
  const chunks: ReplayChunk[] = [];
  let clientBytes = 0;
  let serverOffset = 0;
  let gateLimit: number | null = null;
  for (const chunk of recording.chunks) {
    if (chunk.from === 'client') {
      clientBytes += chunk.bytes.length;
      continue;
    }
    const gate = gateLimit ?? clientBytes;
    // The first chunk that starts at or after ServerInit's end fixes the last gate.
    if (gateLimit === null && handshakeEnd !== null && serverOffset >= handshakeEnd) gateLimit = clientBytes;
    chunks.push({ bytes: chunk.bytes, afterClientBytes: gate });
    serverOffset += chunk.bytes.length;
  }
  return { chunks };
}

function u32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32BE(value, 0);
  return buffer;
}
