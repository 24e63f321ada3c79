// The input channel's wire format: what the renderer encodes is what the back end parses, and every
// malformed frame (truncated, oversized, bad ids, duplicates, trailing bytes) is refused; a batch of
// dispatches becomes frames that give every stream exactly its dispatches, in order. Plain Node.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  INPUT_BATCH_TARGET_BYTES,
  INPUT_FRAME_VERSION,
  InputFrameBatch,
  MAX_INPUT_FRAME_BYTES,
  MAX_INPUT_TARGETS,
  MAX_INPUT_TARGET_BYTES,
  encodeInputFrame,
  parseInputFrame,
  type InputTarget,
} from '../../../common/input/input-frame';

const ID_A = 'Ab0_-Ab0_-Ab0_-Ab0_-Ab0_-Ab0_-Ab';
const ID_B = 'zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz';

function refused(frame: Uint8Array): string {
  const parsed = parseInputFrame(frame);
  assert.equal(parsed.ok, false, 'expected the frame to be refused');
  return parsed.ok ? '' : parsed.reason;
}

describe('input frames', { timeout: 60_000 }, () => {
  it('round-trips one dispatch: version, count, then id + length-prefixed bytes per target', () => {
    const targets: InputTarget[] = [
      { streamId: ID_A, bytes: Uint8Array.from([4, 1, 0, 0, 0, 0, 0, 0x61]) },
      { streamId: ID_B, bytes: Uint8Array.from([255, 0, 0, 1, 0, 0, 0, 0x61, 0, 0, 0, 0x1e]) },
    ];
    const frame = encodeInputFrame(targets);
    assert.equal(frame[0], INPUT_FRAME_VERSION);
    assert.equal(frame[1], 2);
    assert.equal(frame[2], 32);
    assert.deepEqual([...frame.subarray(35, 39)], [0, 0, 0, 8]);
    assert.equal(frame.byteLength, 2 + (1 + 32 + 4 + 8) + (1 + 32 + 4 + 12));
    const parsed = parseInputFrame(frame);
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.targets.map(({ streamId, bytes }) => [streamId, [...bytes]]), targets.map(({ streamId, bytes }) => [streamId, [...bytes]]));
  });

  it('refuses to encode what the back end would refuse', () => {
    assert.throws(() => encodeInputFrame([]), /1 to 8 targets/);
    assert.throws(() => encodeInputFrame([{ streamId: '', bytes: Uint8Array.of(1) }]), /stream id/);
    assert.throws(() => encodeInputFrame([{ streamId: 'bad id', bytes: Uint8Array.of(1) }]), /stream id/);
    assert.throws(() => encodeInputFrame([{ streamId: ID_A, bytes: new Uint8Array(0) }]), /0 bytes/);
    assert.throws(() => encodeInputFrame([{ streamId: ID_A, bytes: new Uint8Array(MAX_INPUT_TARGET_BYTES + 1) }]), /bytes for one stream/);
    assert.throws(() => encodeInputFrame([{ streamId: ID_A, bytes: Uint8Array.of(1) }, { streamId: ID_A, bytes: Uint8Array.of(2) }]), /twice/);
    const many = Array.from({ length: MAX_INPUT_TARGETS + 1 }, (_unused, index) => ({ streamId: `s${index}`, bytes: Uint8Array.of(1) }));
    assert.throws(() => encodeInputFrame(many), /targets/);
  });

  it('refuses malformed frames, saying why', () => {
    const good = encodeInputFrame([{ streamId: ID_A, bytes: Uint8Array.of(5, 0, 0, 1, 0, 2) }]);
    assert.match(refused(new Uint8Array(0)), /shorter than its header/);
    assert.match(refused(Uint8Array.of(2, 1)), /version 2/);
    assert.match(refused(Uint8Array.of(1, 0)), /0 targets/);
    assert.match(refused(Uint8Array.of(1, MAX_INPUT_TARGETS + 1)), /targets/);
    assert.match(refused(Uint8Array.of(1, 1)), /truncated before its stream id/);
    assert.match(refused(Uint8Array.of(1, 1, 0)), /0-character stream id/);
    assert.match(refused(Uint8Array.of(1, 1, 200)), /200-character stream id/);
    assert.match(refused(Uint8Array.of(1, 1, 3, 0x61, 0x62)), /truncated in its stream id/);
    assert.match(refused(Uint8Array.of(1, 1, 1, 0x20, 0, 0, 0, 1, 9)), /malformed stream id/);
    assert.match(refused(Uint8Array.of(1, 1, 1, 0x61, 0, 0, 0, 0)), /0 bytes/);
    assert.match(refused(Uint8Array.of(1, 1, 1, 0x61, 0xff, 0xff, 0xff, 0xff, 1)), /4294967295 bytes/);
    assert.match(refused(Uint8Array.of(1, 1, 1, 0x61, 0, 0, 0, 5, 1, 2)), /5 bytes announced, 2 left/);
    assert.match(refused(Uint8Array.of(...good, 0)), /1 bytes after the last target/);
    assert.match(refused(good.subarray(0, good.byteLength - 1)), /announced/);
    const twice = Uint8Array.of(1, 2, 1, 0x61, 0, 0, 0, 1, 7, 1, 0x61, 0, 0, 0, 1, 8);
    assert.match(refused(twice), /named twice/);
    // Claims of more targets than the frame holds are refused without reading past its end.
    assert.match(refused(Uint8Array.of(1, 8, 1, 0x61, 0, 0, 0, 1, 7)), /target 1: truncated/);
  });

  it('refuses a frame longer than the largest well-formed one before reading it', () => {
    assert.match(refused(new Uint8Array(MAX_INPUT_FRAME_BYTES + 1)), /at most/);
  });

  it('parses views into the frame it was given, at any offset', () => {
    const frame = encodeInputFrame([{ streamId: ID_B, bytes: Uint8Array.of(9, 8, 7) }]);
    const padded = new Uint8Array(frame.byteLength + 5);
    padded.set(frame, 5);
    const parsed = parseInputFrame(padded.subarray(5));
    assert.ok(parsed.ok);
    assert.deepEqual([...parsed.targets[0]!.bytes], [9, 8, 7]);
  });
});

/** Each stream's bytes over a sequence of frames, in order (what the back end writes to each server). */
function perStream(frames: readonly Uint8Array[]): Map<string, number[]> {
  const streams = new Map<string, number[]>();
  for (const frame of frames) {
    const parsed = parseInputFrame(frame);
    assert.ok(parsed.ok, parsed.ok ? '' : parsed.reason);
    for (const { streamId, bytes } of parsed.targets) streams.set(streamId, [...(streams.get(streamId) ?? []), ...bytes]);
  }
  return streams;
}

/** A small deterministic generator (mulberry32), so a failing case can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('input frame batches', { timeout: 60_000 }, () => {
  it('merges dispatches into one frame: each stream gets its dispatches concatenated in order, and only those', () => {
    const batch = new InputFrameBatch();
    batch.add([{ streamId: 'a', bytes: Uint8Array.of(1) }, { streamId: 'b', bytes: Uint8Array.of(1) }]);
    // b left the targets (excluded, disconnected) after the first dispatch; c joined for the third.
    batch.add([{ streamId: 'a', bytes: Uint8Array.of(2) }]);
    batch.add([{ streamId: 'c', bytes: Uint8Array.of(3) }, { streamId: 'a', bytes: Uint8Array.of(3, 3) }]);
    assert.deepEqual(batch.takeSealed(), [], 'nothing sealed below the limits');
    const frames = batch.takeAll();
    assert.equal(frames.length, 1);
    assert.deepEqual([...perStream(frames)], [['a', [1, 2, 3, 3]], ['b', [1]], ['c', [3]]]);
    assert.deepEqual(batch.takeAll(), [], 'the batch is empty after takeAll');
  });

  it('seals before a dispatch that would take a stream past its limit; a single larger dispatch goes alone', () => {
    const batch = new InputFrameBatch(10);
    batch.add([{ streamId: 'a', bytes: new Uint8Array(6).fill(1) }]);
    batch.add([{ streamId: 'a', bytes: new Uint8Array(4).fill(2) }]);
    assert.deepEqual(batch.takeSealed(), [], 'exactly at the limit: still one frame');
    batch.add([{ streamId: 'a', bytes: Uint8Array.of(3) }, { streamId: 'b', bytes: Uint8Array.of(3) }]);
    const first = batch.takeSealed();
    assert.equal(first.length, 1);
    assert.deepEqual([...perStream(first)], [['a', [1, 1, 1, 1, 1, 1, 2, 2, 2, 2]]]);
    batch.add([{ streamId: 'b', bytes: new Uint8Array(25).fill(4) }]);
    batch.add([{ streamId: 'a', bytes: Uint8Array.of(5) }, { streamId: 'b', bytes: Uint8Array.of(5) }]);
    const rest = [...batch.takeSealed(), ...batch.takeAll()];
    assert.equal(rest.length, 3);
    assert.deepEqual([...perStream(rest.slice(0, 1))], [['a', [3]], ['b', [3]]]);
    assert.deepEqual([...perStream(rest.slice(1, 2))], [['b', new Array(25).fill(4)]], 'the 25-byte dispatch alone, over the soft limit');
    assert.deepEqual([...perStream(rest.slice(2))], [['a', [5]], ['b', [5]]]);
  });

  it('refuses a dispatch the back end would refuse, keeping what was batched', () => {
    const batch = new InputFrameBatch();
    batch.add([{ streamId: 'a', bytes: Uint8Array.of(1) }]);
    assert.throws(() => batch.add([{ streamId: 'a', bytes: new Uint8Array(MAX_INPUT_TARGET_BYTES + 1) }, { streamId: 'b', bytes: Uint8Array.of(2) }]), /bytes for one stream/);
    assert.throws(() => batch.add([{ streamId: 'a', bytes: Uint8Array.of(2) }, { streamId: 'a', bytes: Uint8Array.of(2) }]), /twice/);
    assert.throws(() => new InputFrameBatch(MAX_INPUT_TARGET_BYTES + 1), /stream limit/);
    assert.deepEqual([...perStream(batch.takeAll())], [['a', [1]]]);
  });

  it('keeps a frame within MAX_INPUT_TARGETS streams when a task names more (a replica reconnected mid-task)', () => {
    const batch = new InputFrameBatch();
    for (let index = 0; index <= MAX_INPUT_TARGETS; index++) batch.add([{ streamId: `s${index}`, bytes: Uint8Array.of(index) }]);
    const frames = batch.takeAll();
    assert.equal(frames.length, 2);
    assert.equal(frames[0]![1], MAX_INPUT_TARGETS);
    assert.deepEqual([...perStream(frames.slice(1))], [[`s${MAX_INPUT_TARGETS}`, [MAX_INPUT_TARGETS]]]);
  });

  it('over random dispatches, every stream receives exactly its dispatches in order, within the limits', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const next = random(seed);
      const limit = 1 + Math.floor(next() * 64);
      const batch = new InputFrameBatch(limit);
      const streams = Array.from({ length: 1 + Math.floor(next() * 11) }, (_unused, index) => `r${index}`);
      const expected = new Map<string, number[]>();
      const frames: Uint8Array[] = [];
      let largestDispatch = 0;
      for (let dispatch = 0; dispatch < 200; dispatch++) {
        const targets = streams.filter(() => next() < 0.6).slice(0, MAX_INPUT_TARGETS);
        if (targets.length === 0) continue;
        const size = 1 + Math.floor(next() * (next() < 0.05 ? 3 * limit : 12));
        largestDispatch = Math.max(largestDispatch, size);
        batch.add(targets.map((streamId) => ({ streamId, bytes: new Uint8Array(size).fill(dispatch & 0xff) })));
        for (const streamId of targets) expected.set(streamId, [...(expected.get(streamId) ?? []), ...new Array<number>(size).fill(dispatch & 0xff)]);
        if (next() < 0.1) frames.push(...batch.takeAll());
        else frames.push(...batch.takeSealed());
      }
      frames.push(...batch.takeAll());
      const received = perStream(frames);
      assert.deepEqual(new Map([...received].sort()), new Map([...expected].sort()), `seed ${seed}`);
      for (const frame of frames) {
        const parsed = parseInputFrame(frame);
        assert.ok(parsed.ok);
        for (const { bytes } of parsed.targets) assert.ok(bytes.byteLength <= Math.max(limit, largestDispatch), `seed ${seed}: ${bytes.byteLength} bytes in one target`);
      }
    }
    assert.ok(INPUT_BATCH_TARGET_BYTES <= MAX_INPUT_TARGET_BYTES);
  });
});
