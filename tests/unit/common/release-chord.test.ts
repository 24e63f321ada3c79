// The composite's keyboard release chord: Ctrl+Alt pressed and released alone releases; any chord
// that continues (Ctrl+Alt+Del, Ctrl+Alt+F2, Ctrl+C), AltGr and lone modifiers do not.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ReleaseChordDetector, type ChordKeyEvent } from '../../../common/input/release-chord';

const KEYS: Readonly<Record<string, string>> = { ControlLeft: 'Control', ControlRight: 'Control', AltLeft: 'Alt', AltRight: 'Alt', Delete: 'Delete', F2: 'F2', KeyC: 'c' };

function down(code: string, key = KEYS[code] ?? code): ChordKeyEvent {
  return { code, key, down: true };
}
function up(code: string, key = KEYS[code] ?? code): ChordKeyEvent {
  return { code, key, down: false };
}

/** Feeds events; returns the indexes of the events that completed the chord. */
function play(detector: ReleaseChordDetector, events: readonly ChordKeyEvent[]): number[] {
  return events.flatMap((event, index) => (detector.onKey(event) ? [index] : []));
}

describe('ReleaseChordDetector', { timeout: 5000 }, () => {
  it('releases when Ctrl and Alt are pressed and both released, in either order', () => {
    assert.deepEqual(play(new ReleaseChordDetector(), [down('ControlLeft'), down('AltLeft'), up('AltLeft'), up('ControlLeft')]), [3]);
    assert.deepEqual(play(new ReleaseChordDetector(), [down('AltLeft'), down('ControlRight'), up('AltLeft'), up('ControlRight')]), [3]);
    assert.deepEqual(play(new ReleaseChordDetector(), [down('ControlRight'), down('AltRight'), up('ControlRight'), up('AltRight')]), [3]);
  });

  it('ignores the browser repeating held modifiers', () => {
    assert.deepEqual(play(new ReleaseChordDetector(), [down('ControlLeft'), down('ControlLeft'), down('AltLeft'), down('AltLeft'), up('ControlLeft'), up('AltLeft')]), [5]);
  });

  it('does not release for Ctrl+Alt+Del or Ctrl+Alt+F2, even when the third key is released first', () => {
    const detector = new ReleaseChordDetector();
    assert.deepEqual(play(detector, [down('ControlLeft'), down('AltLeft'), down('Delete'), up('Delete'), up('AltLeft'), up('ControlLeft')]), []);
    assert.equal(detector.state, 'idle');
    assert.deepEqual(play(detector, [down('ControlLeft'), down('AltLeft'), down('F2'), up('F2'), up('AltLeft'), up('ControlLeft')]), []);
    // …and the next clean chord still works.
    assert.deepEqual(play(detector, [down('ControlLeft'), down('AltLeft'), up('AltLeft'), up('ControlLeft')]), [3]);
  });

  it('does not release for Ctrl alone, Alt alone, Ctrl+C, or another key pressed between the two releases', () => {
    const detector = new ReleaseChordDetector();
    assert.deepEqual(play(detector, [down('ControlLeft'), up('ControlLeft'), down('AltLeft'), up('AltLeft')]), []);
    assert.deepEqual(play(detector, [down('ControlLeft'), down('KeyC'), up('KeyC'), up('ControlLeft')]), []);
    assert.deepEqual(play(detector, [down('ControlLeft'), down('AltLeft'), up('AltLeft'), down('KeyC'), up('KeyC'), up('ControlLeft')]), []);
  });

  it('does not take Ctrl+AltGr (right Alt reported as "AltGraph") for the chord', () => {
    assert.deepEqual(play(new ReleaseChordDetector(), [down('ControlLeft'), down('AltRight', 'AltGraph'), up('AltRight', 'AltGraph'), up('ControlLeft')]), []);
  });

  it('starts over after reset (focus lost with keys held)', () => {
    const detector = new ReleaseChordDetector();
    play(detector, [down('ControlLeft'), down('AltLeft')]);
    assert.equal(detector.state, 'armed');
    detector.reset();
    assert.equal(detector.state, 'idle');
    // A release of a key pressed before the reset is not part of a chord.
    assert.deepEqual(play(detector, [up('AltLeft'), up('ControlLeft')]), []);
  });
});
