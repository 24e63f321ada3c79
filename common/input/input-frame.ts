// The wire format of the input channel: one binary frame per dispatch carrying, for each target
// replica stream, the RFB bytes the renderer encoded for its server. Encoded in the renderer, parsed
// (bounds-checked, never trusted) in the back end. Pure.
//
//   frame  := version:u8 (= 1)  targetCount:u8 (1..MAX_INPUT_TARGETS)  target × targetCount
//   target := idLength:u8 (1..MAX_INPUT_STREAM_ID_CHARS)  streamId:idLength bytes of [A-Za-z0-9_-]
//             byteLength:u32 big-endian (1..MAX_INPUT_TARGET_BYTES)  bytes:byteLength
//
// The frame must end exactly after its last target; a stream id appears at most once per frame.

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
  if (targets.length === 0 || targets.length > MAX_INPUT_TARGETS) throw new Error(`an input frame carries 1 to ${MAX_INPUT_TARGETS} targets, not ${targets.length}`);
  let size = HEADER_BYTES;
  const seen = new Set<string>();
  for (const target of targets) {
    const problem = targetProblem(target);
    if (problem !== null) throw new Error(`cannot encode an input frame: ${problem}`);
    if (seen.has(target.streamId)) throw new Error('cannot encode an input frame: a stream appears twice');
    seen.add(target.streamId);
    size += 1 + target.streamId.length + LENGTH_BYTES + target.bytes.byteLength;
  }
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
