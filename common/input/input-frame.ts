// The wire format of the input channel: one binary frame per dispatch carrying, for each target
// replica stream, the RFB bytes the renderer encoded for its server. Encoded in the renderer, parsed
// (bounds-checked, never trusted) in the back end. Pure.
//
//   frame  := version:u8 (= 1)  targetCount:u8 (1..MAX_INPUT_TARGETS)  target × targetCount
//   target := idLength:u8 (1..MAX_INPUT_STREAM_ID_CHARS)  streamId:idLength bytes of [A-Za-z0-9_-]
//             byteLength:u32 big-endian (1..MAX_INPUT_TARGET_BYTES)  bytes:byteLength
//
// The frame must end exactly after its last target; a stream id appears at most once per frame.
// InputFrameBatch merges the dispatches of one task into as few frames as the limits allow.

import { MAX_REPLICAS } from '../profile';

export const INPUT_FRAME_VERSION = 1;
/** Targets in one frame, at most: one per replica of a session. */
export const MAX_INPUT_TARGETS = MAX_REPLICAS;
/** Longest stream id a frame may name (the back end's ids are 32 characters). */
export const MAX_INPUT_STREAM_ID_CHARS = 128;
/**
 * RFB bytes for one target, at most: a ClientCutText of the longest clipboard text (1 MiB of
 * Latin-1) plus its header, with room to spare.
 */
export const MAX_INPUT_TARGET_BYTES = 2 * 1024 * 1024;
/**
 * A batch stops growing once a stream's bytes in it would pass this (a single larger dispatch, up to
 * MAX_INPUT_TARGET_BYTES, still goes, alone): a burst leaves as a stream of frames of this size, so
 * the back end's write loop stays short and the first frames travel while later ones are encoded.
 */
export const INPUT_BATCH_TARGET_BYTES = 64 * 1024;
/** The largest well-formed frame (the browser shell's socket refuses anything longer). */
export const MAX_INPUT_FRAME_BYTES = 2 + MAX_INPUT_TARGETS * (1 + MAX_INPUT_STREAM_ID_CHARS + 4 + MAX_INPUT_TARGET_BYTES);

/** One target of a frame: the stream (as openReplicaStream named it) and the RFB messages for its server. */
export interface InputTarget {
  readonly streamId: string;
  readonly bytes: Uint8Array;
}

const STREAM_ID_PATTERN = /^[A-Za-z0-9_-]+$/;
const HEADER_BYTES = 2;
const LENGTH_BYTES = 4;

/** What is wrong with one target, in words; null when nothing is. */
function targetProblem(target: InputTarget): string | null {
  const { streamId, bytes } = target;
  if (streamId.length === 0 || streamId.length > MAX_INPUT_STREAM_ID_CHARS || !STREAM_ID_PATTERN.test(streamId)) return 'a malformed stream id';
  if (bytes.byteLength === 0 || bytes.byteLength > MAX_INPUT_TARGET_BYTES) return `${bytes.byteLength} bytes for one stream (1 to ${MAX_INPUT_TARGET_BYTES} allowed)`;
  return null;
}

/** Encodes one dispatch's targets as a frame; throws on what the back end would refuse. */
export function encodeInputFrame(targets: readonly InputTarget[]): Uint8Array {
  checkDispatch(targets);
  let size = HEADER_BYTES;
  for (const target of targets) size += 1 + target.streamId.length + LENGTH_BYTES + target.bytes.byteLength;
  const frame = new Uint8Array(size);
  const view = new DataView(frame.buffer);
  frame[0] = INPUT_FRAME_VERSION;
  frame[1] = targets.length;
  let offset = HEADER_BYTES;
  for (const { streamId, bytes } of targets) {
    frame[offset++] = streamId.length;
    for (let index = 0; index < streamId.length; index++) frame[offset++] = streamId.charCodeAt(index);
    view.setUint32(offset, bytes.byteLength);
    offset += LENGTH_BYTES;
    frame.set(bytes, offset);
    offset += bytes.byteLength;
  }
  return frame;
}

/** A parsed frame, or why it was refused. */
export type ParsedInputFrame = { readonly ok: true; readonly targets: readonly InputTarget[] } | { readonly ok: false; readonly reason: string };

/**
 * Parses an untrusted frame. Every length is checked against what is left before it is used; the
 * targets' bytes are views into `frame` (no copy).
 */
export function parseInputFrame(frame: Uint8Array): ParsedInputFrame {
  const refuse = (reason: string): ParsedInputFrame => ({ ok: false, reason });
  if (frame.byteLength > MAX_INPUT_FRAME_BYTES) return refuse(`a ${frame.byteLength}-byte frame (at most ${MAX_INPUT_FRAME_BYTES})`);
  if (frame.byteLength < HEADER_BYTES) return refuse('a frame shorter than its header');
  if (frame[0] !== INPUT_FRAME_VERSION) return refuse(`frame version ${frame[0]} (expected ${INPUT_FRAME_VERSION})`);
  const count = frame[1]!;
  if (count === 0 || count > MAX_INPUT_TARGETS) return refuse(`${count} targets (1 to ${MAX_INPUT_TARGETS} allowed)`);
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const targets: InputTarget[] = [];
  const seen = new Set<string>();
  let offset = HEADER_BYTES;
  for (let index = 0; index < count; index++) {
    if (offset + 1 > frame.byteLength) return refuse(`target ${index}: truncated before its stream id`);
    const idLength = frame[offset++]!;
    if (idLength === 0 || idLength > MAX_INPUT_STREAM_ID_CHARS) return refuse(`target ${index}: a ${idLength}-character stream id`);
    if (offset + idLength + LENGTH_BYTES > frame.byteLength) return refuse(`target ${index}: truncated in its stream id or length`);
    const streamId = String.fromCharCode(...frame.subarray(offset, offset + idLength));
    offset += idLength;
    if (!STREAM_ID_PATTERN.test(streamId)) return refuse(`target ${index}: a malformed stream id`);
    if (seen.has(streamId)) return refuse(`target ${index}: a stream named twice`);
    seen.add(streamId);
    const byteLength = view.getUint32(offset);
    offset += LENGTH_BYTES;
    if (byteLength === 0 || byteLength > MAX_INPUT_TARGET_BYTES) return refuse(`target ${index}: ${byteLength} bytes (1 to ${MAX_INPUT_TARGET_BYTES} allowed)`);
    if (offset + byteLength > frame.byteLength) return refuse(`target ${index}: ${byteLength} bytes announced, ${frame.byteLength - offset} left`);
    targets.push({ streamId, bytes: frame.subarray(offset, offset + byteLength) });
    offset += byteLength;
  }
  if (offset !== frame.byteLength) return refuse(`${frame.byteLength - offset} bytes after the last target`);
  return { ok: true, targets };
}

/** Throws, saying why, on a dispatch the back end would refuse (encodeInputFrame's checks, without encoding). */
function checkDispatch(targets: readonly InputTarget[]): void {
  if (targets.length === 0 || targets.length > MAX_INPUT_TARGETS) throw new Error(`an input frame carries 1 to ${MAX_INPUT_TARGETS} targets, not ${targets.length}`);
  const seen = new Set<string>();
  for (const target of targets) {
    const problem = targetProblem(target);
    if (problem !== null) throw new Error(`cannot encode an input frame: ${problem}`);
    if (seen.has(target.streamId)) throw new Error('cannot encode an input frame: a stream appears twice');
    seen.add(target.streamId);
  }
}

/** One stream's bytes in a batch, dispatch after dispatch. */
interface BatchedStream {
  readonly parts: Uint8Array[];
  bytes: number;
}

/**
 * Several dispatches merged into as few frames as the limits allow: each stream's bytes are its
 * dispatches' bytes concatenated in dispatch order (whole RFB messages, so the back end still writes
 * whole messages), which keeps every replica's order and lets a replica that joined or left the
 * targets between two dispatches get exactly the dispatches it was a target of. A batch is sealed
 * (encoded as a frame) before a dispatch that would take a stream past `targetBytes` or the frame
 * past MAX_INPUT_TARGETS streams. Pure.
 */
export class InputFrameBatch {
  private open = new Map<string, BatchedStream>();
  private sealed: Uint8Array[] = [];

  constructor(private readonly targetBytes: number = INPUT_BATCH_TARGET_BYTES) {
    if (!(targetBytes >= 1 && targetBytes <= MAX_INPUT_TARGET_BYTES)) throw new Error(`a batch's stream limit is 1 to ${MAX_INPUT_TARGET_BYTES} bytes, not ${targetBytes}`);
  }

  /** Adds one dispatch; throws (adding nothing) on a dispatch the back end would refuse. */
  add(targets: readonly InputTarget[]): void {
    checkDispatch(targets);
    let newStreams = 0;
    let overfull = false;
    for (const { streamId, bytes } of targets) {
      const stream = this.open.get(streamId);
      if (stream === undefined) newStreams++;
      else if (stream.bytes + bytes.byteLength > this.targetBytes) overfull = true;
    }
    if (this.open.size > 0 && (overfull || this.open.size + newStreams > MAX_INPUT_TARGETS)) this.seal();
    for (const { streamId, bytes } of targets) {
      const stream = this.open.get(streamId);
      if (stream === undefined) this.open.set(streamId, { parts: [bytes], bytes: bytes.byteLength });
      else {
        stream.parts.push(bytes);
        stream.bytes += bytes.byteLength;
      }
    }
  }

  /** Frames sealed so far (the open batch stays open), in order; they are no longer held here. */
  takeSealed(): Uint8Array[] {
    const frames = this.sealed;
    this.sealed = [];
    return frames;
  }

  /** Every frame, the open batch sealed last, in order; the batch is empty after. */
  takeAll(): Uint8Array[] {
    if (this.open.size > 0) this.seal();
    return this.takeSealed();
  }

  private seal(): void {
    const targets: InputTarget[] = [];
    for (const [streamId, { parts, bytes }] of this.open) targets.push({ streamId, bytes: parts.length === 1 ? parts[0]! : concatenate(parts, bytes) });
    this.open = new Map();
    this.sealed.push(encodeInputFrame(targets));
  }
}

function concatenate(parts: readonly Uint8Array[], byteLength: number): Uint8Array {
  const joined = new Uint8Array(byteLength);
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.byteLength;
  }
  return joined;
}
