// Key repeat policy: in 'retrovisor' mode every non-modifier key goes out as a tap (so no server ever
// sees it held and autorepeats on its own clock), modifiers stay held; in 'server' mode keys pass as they are.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KeyRepeatPolicy, isHeldModifier, type KeyStroke } from '../../../common/input/key-repeat';

const A = 0x61;
const SHIFT_L = 0xffe1;
const CAPS_LOCK = 0xffe5;
const ALT_GR = 0xfe03;

const stroke = (keysym: number, code: string | null, down: boolean): KeyStroke => ({ keysym, code, down });

describe('isHeldModifier', { timeout: 60_000 }, () => {
  it('holds Shift, Control, Alt, Meta, Super, Hyper, AltGr, Level5 and Mode_switch', () => {
    for (const keysym of [0xffe1, 0xffe2, 0xffe3, 0xffe4, 0xffe7, 0xffe8, 0xffe9, 0xffea, 0xffeb, 0xffec, 0xffed, 0xffee, ALT_GR, 0xfe11, 0xff7e]) {
      assert.equal(isHeldModifier(keysym), true, keysym.toString(16));
    }
  });

  it('taps the locks, the latches and every other key', () => {
    for (const keysym of [CAPS_LOCK, 0xffe6, 0xff7f, 0xff14, 0xfe04, 0xfe05, 0xfe12, A, 0xff0d, 0xff08, 0xffbe, 0xffff, 0xffe0, 0xffef]) {
      assert.equal(isHeldModifier(keysym), false, keysym.toString(16));
    }
  });
});

describe('KeyRepeatPolicy', { timeout: 60_000 }, () => {
  it("taps a key in 'retrovisor' mode: press and release at once, the user's release swallowed", () => {
    const policy = new KeyRepeatPolicy();
    assert.equal(policy.currentMode, 'retrovisor');
    assert.deepEqual(policy.strokes(A, 'KeyA', true), [stroke(A, 'KeyA', true), stroke(A, 'KeyA', false)]);
    assert.deepEqual(policy.strokes(A, 'KeyA', false), []);
  });

  it("sends each of the browser's repeats as one more tap, so every replica gets exactly that many", () => {
    const policy = new KeyRepeatPolicy('retrovisor');
    const sent = [true, true, true, true, false].flatMap((down) => policy.strokes(A, 'KeyA', down));
    assert.equal(sent.filter((entry) => entry.down).length, 4);
    assert.equal(sent.filter((entry) => !entry.down).length, 4);
    // Never two presses without a release between them: no server sees the key held.
    sent.forEach((entry, index) => assert.equal(entry.down, index % 2 === 0));
  });

  it('keeps modifiers held while the user holds them, so chords still work', () => {
    const policy = new KeyRepeatPolicy('retrovisor');
    const sent = [
      ...policy.strokes(SHIFT_L, 'ShiftLeft', true),
      ...policy.strokes(A, 'KeyA', true),
      ...policy.strokes(A, 'KeyA', false),
      ...policy.strokes(SHIFT_L, 'ShiftLeft', false),
    ];
    assert.deepEqual(sent, [stroke(SHIFT_L, 'ShiftLeft', true), stroke(A, 'KeyA', true), stroke(A, 'KeyA', false), stroke(SHIFT_L, 'ShiftLeft', false)]);
  });

  it("passes presses and releases as they come in 'server' mode", () => {
    const policy = new KeyRepeatPolicy('server');
    assert.deepEqual(policy.strokes(A, 'KeyA', true), [stroke(A, 'KeyA', true)]);
    assert.deepEqual(policy.strokes(A, 'KeyA', true), [stroke(A, 'KeyA', true)]);
    assert.deepEqual(policy.strokes(A, 'KeyA', false), [stroke(A, 'KeyA', false)]);
  });

  it('keeps the treatment a key was pressed with when the mode changes while it is held', () => {
    const policy = new KeyRepeatPolicy('server');
    policy.strokes(A, 'KeyA', true);
    policy.setMode('retrovisor');
    assert.deepEqual(policy.strokes(A, 'KeyA', false), [stroke(A, 'KeyA', false)], 'the held key is released');
    assert.deepEqual(policy.strokes(0x62, 'KeyB', true), [stroke(0x62, 'KeyB', true), stroke(0x62, 'KeyB', false)]);
    policy.setMode('server');
    assert.deepEqual(policy.strokes(0x62, 'KeyB', false), [], 'the tapped key was released already');
  });

  it('tells keys without a physical code apart by keysym', () => {
    const policy = new KeyRepeatPolicy();
    policy.strokes(0x4e00, null, true);
    assert.deepEqual(policy.strokes(0x4e01, null, false), [stroke(0x4e01, null, false)], 'another key\'s release passes');
    assert.deepEqual(policy.strokes(0x4e00, null, false), []);
  });

  it('forgets its taps on reset', () => {
    const policy = new KeyRepeatPolicy();
    policy.strokes(A, 'KeyA', true);
    policy.reset();
    assert.deepEqual(policy.strokes(A, 'KeyA', false), [stroke(A, 'KeyA', false)]);
  });
});
