// The bounded input journal: entries in sequence order only, the oldest dropped (and counted) when
// full, and the accessors a replay reads with — entriesAfter, lastSeq, oldestSeq, droppedThroughSeq —
// across the ring's wrap and with gaps between sequence numbers; entries with the same targets share
// one array.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { InputJournalEntry } from '../../../common/input/input-events';
import { InputJournal } from '../../../common/input/input-journal';

function move(seq: number): InputJournalEntry {
  return { seq, timeMs: seq * 10, origin: 'user', input: { kind: 'pointer', x: seq, y: 0, buttonMask: 0 }, targets: ['a', 'b'] };
}

const seqs = (entries: readonly InputJournalEntry[]): number[] => entries.map((entry) => entry.seq);

describe('InputJournal', { timeout: 5_000 }, () => {
  it('starts empty', { timeout: 1_000 }, () => {
    const journal = new InputJournal(4);
    assert.equal(journal.lastSeq, 0);
    assert.equal(journal.oldestSeq, null);
    assert.equal(journal.droppedThroughSeq, 0);
    assert.deepEqual(journal.entriesAfter(0, 10), []);
  });

  it('holds one targets array for a run of entries with the same targets, and each entry as it came', { timeout: 1_000 }, () => {
    const journal = new InputJournal(8);
    // Each with its own array, as entries parsed from the UI's messages arrive.
    const entries = [move(1), move(2), { ...move(3), targets: ['a'] }, { ...move(4), targets: ['a'] }, move(5)];
    journal.append(entries);
    const held = journal.list();
    assert.deepEqual(held, entries);
    assert.equal(held[1]!.targets, held[0]!.targets);
    assert.equal(held[3]!.targets, held[2]!.targets);
    assert.notEqual(held[2]!.targets, held[1]!.targets);
    assert.ok(Object.isFrozen(held[0]!.targets), 'shared targets cannot be changed through one entry');
    // The caller's arrays are neither kept nor changed.
    assert.notEqual(held[0]!.targets, entries[0]!.targets);
    assert.deepEqual(entries[0]!.targets, ['a', 'b']);
  });

  it('refuses entries not above the last sequence number', { timeout: 1_000 }, () => {
    const journal = new InputJournal(4);
    assert.equal(journal.append([move(1), move(3)]), 0);
    assert.equal(journal.append([move(3), move(2), move(4)]), 2);
    assert.deepEqual(seqs(journal.list()), [1, 3, 4]);
    assert.equal(journal.lastSeq, 4);
  });

  it('drops the oldest when full and remembers the newest dropped sequence number', { timeout: 1_000 }, () => {
    const journal = new InputJournal(3);
    journal.append([1, 2, 5, 7, 8].map(move));
    assert.deepEqual(seqs(journal.list()), [5, 7, 8]);
    assert.equal(journal.dropped, 2);
    assert.equal(journal.oldestSeq, 5);
    assert.equal(journal.droppedThroughSeq, 2);
    assert.equal(journal.lastSeq, 8);
  });

  it('reads after a sequence number across the ring\'s wrap, gaps included, at most `limit`', { timeout: 1_000 }, () => {
    const journal = new InputJournal(5);
    journal.append([2, 4, 6, 8, 10, 12, 14].map(move));
    // The ring now wraps: held 6, 8, 10, 12, 14.
    assert.deepEqual(seqs(journal.entriesAfter(0, 100)), [6, 8, 10, 12, 14]);
    assert.deepEqual(seqs(journal.entriesAfter(9, 100)), [10, 12, 14]);
    assert.deepEqual(seqs(journal.entriesAfter(10, 100)), [12, 14]);
    assert.deepEqual(seqs(journal.entriesAfter(6, 2)), [8, 10]);
    assert.deepEqual(seqs(journal.entriesAfter(14, 100)), []);
    assert.deepEqual(seqs(journal.entriesAfter(6, 0)), []);
    assert.throws(() => journal.entriesAfter(0, -1), RangeError);
    assert.throws(() => journal.entriesAfter(0, 1.5), RangeError);
  });

  it('agrees with a plain filter on every afterSeq of a long run', { timeout: 2_000 }, () => {
    const journal = new InputJournal(64);
    const appended: number[] = [];
    let seq = 0;
    for (let index = 0; index < 300; index++) {
      seq += 1 + (index % 3);
      appended.push(seq);
    }
    journal.append(appended.map(move));
    const held = appended.slice(-64);
    for (let after = 0; after <= seq + 1; after++) {
      assert.deepEqual(seqs(journal.entriesAfter(after, 10)), held.filter((value) => value > after).slice(0, 10), `after ${after}`);
    }
    assert.equal(journal.droppedThroughSeq, appended[appended.length - 65]);
  });
});
