// Deterministic mutations of a recorded server stream for fuzzing RetroVisor's VNC client: bit flips,
// boundary bytes, inflated count/size/length fields, truncation, duplicated and spliced chunks,
// inserted and deleted bytes, moved write boundaries. Case k of (recording, seed) is always the same
// bytes. Pure (no Math.random, no clock).

import type { ReplayChunk, ReplayPlan } from './rfb-recording';
import { mapServerStream, type StreamField } from './rfb-stream-map';

/** One fuzz case: what the replaying server sends, and how it was made (printed when it fails). */
export interface FuzzCase {
  /** `source/seed/index`: enough to make this case again with {@link makeFuzzCase}. */
  readonly id: string;
  readonly plan: ReplayPlan;
  /** The mutations applied, in order, in words. */
  readonly mutations: readonly string[];
}

/** A small, fast, seedable PRNG (mulberry32): a float in [0, 1) per call. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** FNV-1a of a string: one PRNG seed per (source, seed, case index). */
function hashSeed(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** The stream being mutated: its bytes and where each write starts, with the client bytes it waits for. */
interface Working {
  bytes: Uint8Array;
  writes: { start: number; afterClientBytes: number }[];
}

const BOUNDARY_BYTES = [0x00, 0xff, 0x7f, 0x80] as const;
/** Share of byte-level mutations aimed at the handshake (version, security, ServerInit). */
const HANDSHAKE_SHARE = 0.25;
const MAX_INSERTED_BYTES = 64;
const MAX_SPLICED_BYTES = 512;

type Mutator = (work: Working, random: () => number, handshakeEnd: number) => string;

/** Makes case `index` of `plan` (the recording's unmutated replay) for `source` and `seed`. */
export function makeFuzzCase(source: string, plan: ReplayPlan, seed: number, index: number): FuzzCase {
  const id = `${source}/${seed}/${index}`;
  const random = seededRandom(hashSeed(id));
  const work = toWorking(plan);
  const count = random() < 0.35 ? 2 + Math.floor(random() * 3) : 1;
  const mutations: string[] = [];
  for (let step = 0; step < count && work.bytes.length > 0; step++) {
    const handshakeEnd = mapServerStream(work.bytes).handshakeEnd ?? work.bytes.length;
    const mutator = MUTATORS[Math.floor(random() * MUTATORS.length)] ?? flipBits;
    mutations.push(mutator(work, random, handshakeEnd));
  }
  const mutated = fromWorking(work);
  // A splice of equal bytes or a split at an existing boundary can leave the stream as it was.
  if (samePlan(mutated, plan) && work.bytes.length > 0) {
    mutations.push(flipBits(work, random, work.bytes.length));
    return { id, plan: fromWorking(work), mutations };
  }
  return { id, plan: mutated, mutations };
}

const MUTATORS: readonly Mutator[] = [
  flipBits,
  flipBits,
  boundaryByte,
  boundaryByte,
  inflateField,
  inflateField,
  inflateField,
  swapEncoding,
  truncate,
  duplicateMessage,
  splice,
  insertRandomBytes,
  deleteBytes,
  moveWriteBoundaries,
];

function integer(random: () => number, below: number): number {
  return Math.floor(random() * below);
}

/** A byte offset: now and then inside the handshake, otherwise anywhere. */
function pickOffset(work: Working, random: () => number, handshakeEnd: number): number {
  const inHandshake = random() < HANDSHAKE_SHARE && handshakeEnd > 0;
  return integer(random, inHandshake ? Math.min(handshakeEnd, work.bytes.length) : work.bytes.length);
}

function flipBits(work: Working, random: () => number, handshakeEnd: number): string {
  const offset = pickOffset(work, random, handshakeEnd);
  const mask = 1 + integer(random, 255);
  work.bytes[offset] = (work.bytes[offset] ?? 0) ^ mask;
  return `flip bits 0x${mask.toString(16)} at byte ${offset}`;
}

function boundaryByte(work: Working, random: () => number, handshakeEnd: number): string {
  const offset = pickOffset(work, random, handshakeEnd);
  const values = BOUNDARY_BYTES.filter((value) => value !== work.bytes[offset]);
  const value = values[integer(random, values.length)] ?? 0;
  work.bytes[offset] = value;
  return `byte ${offset} := 0x${value.toString(16)}`;
}

/** Sets a count/size/length field (found by mapping the current stream) to a boundary or inflated value. */
function inflateField(work: Working, random: () => number, handshakeEnd: number): string {
  const fields = mapServerStream(work.bytes).fields;
  const field: StreamField | undefined = fields[integer(random, fields.length)];
  if (field === undefined) return boundaryByte(work, random, handshakeEnd);
  let current = 0;
  for (let index = 0; index < field.size; index++) current = current * 256 + (work.bytes[field.offset + index] ?? 0);
  const max = 2 ** (8 * field.size) - 1;
  const candidates = [0, max, (max + 1) / 2 - 1, (max + 1) / 2, Math.min(max, current + 1), Math.min(max, current * 2 + 1), Math.min(max, current * 16 + 15), Math.max(0, current - 1)].filter(
    (candidate) => candidate !== current,
  );
  const value = candidates[integer(random, candidates.length)] ?? max;
  let rest = value;
  for (let index = field.size - 1; index >= 0; index--) {
    work.bytes[field.offset + index] = rest % 256;
    rest = Math.floor(rest / 256);
  }
  return `${field.kind} at byte ${field.offset}: ${current} -> ${value}`;
}

/** Encodings and pseudo-encodings RetroVisor's client takes (and a few it refuses), for swapEncoding. */
const SWAP_ENCODINGS = [0, 1, 2, 5, 6, 16, 7, 21, 50, -260, -223, -224, -239, -240, -258, -261, -307, -308, 0x574d5664, 0x7fffffff] as const;

/** Gives a rectangle another encoding, so the bytes of one decoder reach another. */
function swapEncoding(work: Working, random: () => number, handshakeEnd: number): string {
  const fields = mapServerStream(work.bytes).fields.filter((field) => field.kind === 'rect-encoding');
  const field = fields[integer(random, fields.length)];
  if (field === undefined) return flipBits(work, random, handshakeEnd);
  const view = new DataView(work.bytes.buffer, work.bytes.byteOffset, work.bytes.byteLength);
  const before = view.getInt32(field.offset);
  const encodings = SWAP_ENCODINGS.filter((encoding) => (encoding | 0) !== before);
  const encoding = encodings[integer(random, encodings.length)] ?? 0;
  view.setInt32(field.offset, encoding | 0);
  return `rect-encoding at byte ${field.offset}: ${before} -> ${encoding | 0}`;
}

function truncate(work: Working, random: () => number, handshakeEnd: number): string {
  const offset = pickOffset(work, random, handshakeEnd);
  work.bytes = work.bytes.slice(0, offset);
  work.writes = work.writes.filter((write) => write.start < offset);
  return `truncate at byte ${offset}`;
}

/** Repeats one whole message (or handshake step) right after itself, or at another message's start. */
function duplicateMessage(work: Working, random: () => number): string {
  const starts = mapServerStream(work.bytes).messageStarts;
  const which = integer(random, starts.length);
  const start = starts[which] ?? 0;
  const end = starts[which + 1] ?? work.bytes.length;
  const at = random() < 0.5 ? end : (starts[integer(random, starts.length)] ?? end);
  insert(work, at, work.bytes.slice(start, end));
  return `copy message bytes ${start}..${end} to byte ${at}`;
}

/** Copies a run of bytes from one place of the stream into another (inserted or overwriting). */
function splice(work: Working, random: () => number, handshakeEnd: number): string {
  const from = integer(random, work.bytes.length);
  const length = 1 + integer(random, Math.min(MAX_SPLICED_BYTES, work.bytes.length - from));
  const piece = work.bytes.slice(from, from + length);
  const at = pickOffset(work, random, handshakeEnd);
  if (random() < 0.5) {
    insert(work, at, piece);
    return `insert bytes ${from}..${from + length} at byte ${at}`;
  }
  work.bytes.set(piece.subarray(0, Math.max(0, work.bytes.length - at)), at);
  return `overwrite byte ${at} with bytes ${from}..${from + length}`;
}

function insertRandomBytes(work: Working, random: () => number, handshakeEnd: number): string {
  const at = pickOffset(work, random, handshakeEnd);
  const piece = Uint8Array.from({ length: 1 + integer(random, MAX_INSERTED_BYTES) }, () => integer(random, 256));
  insert(work, at, piece);
  return `insert ${piece.length} random bytes at byte ${at}`;
}

function deleteBytes(work: Working, random: () => number, handshakeEnd: number): string {
  const at = pickOffset(work, random, handshakeEnd);
  const length = 1 + integer(random, Math.min(MAX_INSERTED_BYTES, work.bytes.length - at));
  const before = work.bytes;
  work.bytes = new Uint8Array(before.length - length);
  work.bytes.set(before.subarray(0, at), 0);
  work.bytes.set(before.subarray(at + length), at);
  work.writes = work.writes.map((write) => ({ ...write, start: write.start <= at ? write.start : Math.max(at, write.start - length) }));
  dedupeWrites(work);
  return `delete ${length} bytes at byte ${at}`;
}

/** Splits writes at random places and merges others, so the client reads the same bytes in other pieces. */
function moveWriteBoundaries(work: Working, random: () => number): string {
  const splits = 1 + integer(random, 8);
  for (let step = 0; step < splits; step++) {
    const at = integer(random, work.bytes.length);
    const owner = [...work.writes].reverse().find((write) => write.start <= at);
    work.writes.push({ start: at, afterClientBytes: owner?.afterClientBytes ?? 0 });
  }
  work.writes.sort((left, right) => left.start - right.start);
  dedupeWrites(work);
  const merges = integer(random, Math.min(4, work.writes.length));
  for (let step = 0; step < merges && work.writes.length > 1; step++) work.writes.splice(1 + integer(random, work.writes.length - 1), 1);
  return `split writes ${splits} times, merged ${merges}`;
}

function insert(work: Working, at: number, piece: Uint8Array): void {
  const before = work.bytes;
  work.bytes = new Uint8Array(before.length + piece.length);
  work.bytes.set(before.subarray(0, at), 0);
  work.bytes.set(piece, at);
  work.bytes.set(before.subarray(at), at + piece.length);
  work.writes = work.writes.map((write) => (write.start > at ? { ...write, start: write.start + piece.length } : write));
}

/** Drops writes that became empty (two starting at one offset keeps the earlier gate). */
function dedupeWrites(work: Working): void {
  work.writes = work.writes.filter((write, index, all) => write.start < work.bytes.length && (index === 0 || write.start !== all[index - 1]?.start));
  if (work.writes[0] !== undefined) work.writes[0] = { ...work.writes[0], start: 0 };
}

function samePlan(left: ReplayPlan, right: ReplayPlan): boolean {
  return (
    left.chunks.length === right.chunks.length &&
    left.chunks.every((chunk, index) => {
      const other = right.chunks[index];
      return other !== undefined && chunk.afterClientBytes === other.afterClientBytes && Buffer.from(chunk.bytes).equals(other.bytes);
    })
  );
}

function toWorking(plan: ReplayPlan): Working {
  const bytes = Buffer.concat(plan.chunks.map((chunk) => chunk.bytes));
  const writes: Working['writes'] = [];
  let start = 0;
  for (const chunk of plan.chunks) {
    writes.push({ start, afterClientBytes: chunk.afterClientBytes });
    start += chunk.bytes.length;
  }
  return { bytes: new Uint8Array(bytes), writes };
}

function fromWorking(work: Working): ReplayPlan {
  const chunks: ReplayChunk[] = work.writes.map((write, index) => ({
    bytes: work.bytes.slice(write.start, work.writes[index + 1]?.start ?? work.bytes.length),
    afterClientBytes: write.afterClientBytes,
  }));
  return { chunks: chunks.filter((chunk) => chunk.bytes.length > 0) };
}
