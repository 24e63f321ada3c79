// Typing text as a person would (Shift as a real key), X keysym names and chords, script validation
// and the script runner, and the bounded input journal.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { InputDispatch } from '../../../common/input/input-events';
import { InputFanout } from '../../../common/input/input-fanout';
import { InputJournal, journalLine, parseJournalEntry } from '../../../common/input/input-journal';
import { parseInputScript, runInputScript } from '../../../common/input/input-script';
import { lookupKeyName, parseKeyChord } from '../../../common/input/keysym-names';
import { textToKeyStrokes } from '../../../common/input/text-keystrokes';

const fail = (message: string): never => {
  throw new Error(message);
};

describe('textToKeyStrokes', { timeout: 60_000 }, () => {
  it('presses Shift around shifted characters, with the physical key of a US keyboard', () => {
    const strokes = textToKeyStrokes('a(|)_\n');
    const shown = strokes.map((stroke) => `${stroke.code}${stroke.down ? '↓' : '↑'}${stroke.keysym.toString(16)}`);
    assert.deepEqual(shown, [
      'KeyA↓61', 'KeyA↑61',
      'ShiftLeft↓ffe1',
      'Digit9↓28', 'Digit9↑28', 'Backslash↓7c', 'Backslash↑7c', 'Digit0↓29', 'Digit0↑29', 'Minus↓5f', 'Minus↑5f',
      'ShiftLeft↑ffe1',
      'Enter↓ff0d', 'Enter↑ff0d',
    ]);
  });

  it('types every special character of the broadcast test with the right keysym', () => {
    const text = '"(|)_~!@#$%^&*{}<>?';
    const downs = textToKeyStrokes(text).filter((stroke) => stroke.down && stroke.code !== 'ShiftLeft');
    assert.deepEqual(downs.map((stroke) => String.fromCharCode(stroke.keysym)).join(''), text);
    assert.ok(downs.every((stroke) => stroke.code !== null));
    const strokes = textToKeyStrokes(text);
    assert.equal(strokes[0]?.code, 'ShiftLeft');
    assert.equal(strokes.at(-1)?.code, 'ShiftLeft');
    assert.equal(strokes.filter((stroke) => stroke.code === 'ShiftLeft').length, 2, 'Shift held across the run');
  });

  it('gives characters off the layout a keysym only (Latin-1 as is, others as Unicode keysyms)', () => {
    assert.deepEqual(textToKeyStrokes('é')[0], { keysym: 0xe9, code: null, down: true });
    assert.deepEqual(textToKeyStrokes('€')[0], { keysym: 0x010020ac, code: null, down: true });
  });
});

describe('key names and chords', { timeout: 60_000 }, () => {
  it('knows X keysym names and single characters', () => {
    assert.deepEqual(lookupKeyName('Return'), { keysym: 0xff0d, code: 'Enter' });
    assert.deepEqual(lookupKeyName('F12'), { keysym: 0xffc9, code: 'F12' });
    assert.deepEqual(lookupKeyName('parenleft'), { keysym: 0x28, code: 'Digit9' });
    assert.deepEqual(lookupKeyName('x'), { keysym: 0x78, code: 'KeyX' });
    assert.equal(lookupKeyName('NoSuchKey'), null);
  });

  it('parses chords and says what is wrong with a bad one', () => {
    assert.deepEqual(parseKeyChord('Control_L+Alt_L+Delete').map((key) => key.keysym), [0xffe3, 0xffe9, 0xffff]);
    assert.deepEqual(parseKeyChord('Control_L+plus').map((key) => key.keysym), [0xffe3, 0x2b]);
    assert.throws(() => parseKeyChord('Control_L+Bogus'), /unknown key name "Bogus"/);
    assert.throws(() => parseKeyChord('a++'), /plus/);
  });
});

describe('input scripts', { timeout: 60_000 }, () => {
  it('accepts the documented steps and fills defaults', () => {
    const result = parseInputScript([
      { type: 'text', text: 'echo hi\n' },
      { type: 'key', key: 'Return' },
      { type: 'click', x: 10, y: 20 },
      { type: 'drag', from: [1, 2], to: [30, 2] },
      { type: 'wheel', dy: 3 },
      { type: 'paste', text: 'x' },
      { type: 'wait', ms: 500 },
      { type: 'settle' },
    ]);
    assert.ok(result.ok, result.ok ? '' : result.problems.join('\n'));
    assert.deepEqual(result.steps[2], { type: 'click', x: 10, y: 20, button: 1 });
    assert.deepEqual(result.steps[7], { type: 'settle', timeoutMs: 5000, quietMs: 300 });
  });

  it('lists every problem with its JSON path', () => {
    const result = parseInputScript({ steps: [{ type: 'key', key: 'Nope' }, { type: 'click', x: -1, y: 0 }, { type: 'wheel' }, { type: 'fly' }, 7] });
    assert.ok(!result.ok);
    assert.equal(result.problems.length, 5);
    assert.match(result.problems[0] ?? '', /^\$\[0\]\.key: unknown key name "Nope"/);
    assert.match(result.problems[1] ?? '', /^\$\[1\]\.x:/);
    assert.match(result.problems[2] ?? '', /^\$\[2\]: a wheel step needs dy or dx/);
    assert.match(result.problems[3] ?? '', /^\$\[3\]\.type:/);
    assert.match(result.problems[4] ?? '', /^\$\[4\]: expected an object/);
    assert.ok(!parseInputScript('steps').ok);
  });

  it('runs steps through the fan-out, waiting and settling through the given effects', async () => {
    const dispatches: InputDispatch[] = [];
    const clock = { now: () => 0, setTimeout: () => 0, clearTimeout: () => undefined };
    const fanout = new InputFanout({ replicaIds: ['a'], clock, sink: (dispatch) => dispatches.push(dispatch) });
    fanout.setConnected('a', true);
    const calls: string[] = [];
    const parsed = parseInputScript([
      { type: 'text', text: 'A' },
      { type: 'wait', ms: 5 },
      { type: 'drag', from: [0, 0], to: [80, 0] },
      { type: 'wheel', dy: -2 },
      { type: 'settle', timeoutMs: 100 },
    ]);
    assert.ok(parsed.ok);
    const count = await runInputScript(parsed.steps, fanout, {
      wait: async (ms) => void calls.push(`wait ${ms}`),
      settle: async (timeoutMs, quietMs) => void calls.push(`settle ${timeoutMs} ${quietMs}`),
    });
    assert.equal(count, 5);
    assert.deepEqual(calls, ['wait 5', 'settle 100 300']);
    assert.ok(dispatches.every((dispatch) => dispatch.origin === 'script'));
    const pointers = dispatches.flatMap((dispatch) => (dispatch.input.kind === 'pointer' ? [dispatch.input] : []));
    assert.deepEqual(pointers[1], { kind: 'pointer', x: 0, y: 0, buttonMask: 1 });
    assert.deepEqual(pointers.at(-5), { kind: 'pointer', x: 80, y: 0, buttonMask: 0 });
    assert.deepEqual(pointers.slice(-4).map((pointer) => pointer.buttonMask), [8, 0, 8, 0], 'two wheel-up steps');
    assert.equal(dispatches.filter((dispatch) => dispatch.input.kind === 'key').length, 4, 'Shift down, A down, A up, Shift up');
  });
});

describe('InputJournal', { timeout: 60_000 }, () => {
  const entry = (seq: number) => ({ seq, timeMs: 1000 + seq, origin: 'user' as const, input: { kind: 'key' as const, keysym: 97, code: 'KeyA', down: true }, targets: ['a'] });

  it('keeps the newest entries up to its capacity, counts the dropped and refuses sequence numbers going back', () => {
    const journal = new InputJournal(3);
    assert.equal(journal.append([entry(1), entry(2), entry(3), entry(4), entry(2)]), 1);
    assert.deepEqual(journal.list().map((item) => item.seq), [2, 3, 4]);
    assert.equal(journal.dropped, 1);
    const lines = journal.toJsonLines().trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.deepEqual(lines[0], { seq: 2, timeMs: 1002, origin: 'user', kind: 'key', keysym: 97, code: 'KeyA', down: true, targets: ['a'] });
    assert.deepEqual(journalLine(entry(9)).kind, 'key');
  });

  it('checks entries from the UI', () => {
    assert.deepEqual(parseJournalEntry(entry(1), 'e', fail), entry(1));
    assert.throws(() => parseJournalEntry({ ...entry(1), origin: 'robot' }, 'e', fail), /e\.origin/);
    assert.throws(() => parseJournalEntry({ ...entry(1), input: { kind: 'pointer', x: 1, y: 1, buttonMask: 300 } }, 'e', fail), /buttonMask/);
    assert.throws(() => parseJournalEntry({ ...entry(1), targets: [5] }, 'e', fail), /targets/);
  });
});
