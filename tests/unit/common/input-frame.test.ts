// The input channel's wire format: what the renderer encodes is what the back end parses, and every
// malformed frame (truncated, oversized, bad ids, duplicates, trailing bytes) is refused. Plain Node.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  INPUT_FRAME_VERSION,
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

describe('input frames', () => {
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
