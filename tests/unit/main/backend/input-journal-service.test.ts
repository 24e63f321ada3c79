// The input journal service: input kept per open session only, listeners hear each batch (one that
// throws does not stop the others), export as JSON lines, and read(afterSeq, limit) pages with a
// `complete` flag that turns false once entries after afterSeq were dropped from the bounded journal.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { OpenResult } from '../../../../common/contract';
import type { InputJournalEntry } from '../../../../common/input/input-events';
import { InputJournalService } from '../../../../main/backend/input-journal-service';
import { SessionService } from '../../../../main/backend/session-service';
import { recordingLogger } from './service-fakes';

function setup(capacity?: number) {
  const log = recordingLogger();
  const sessions = new SessionService({ logger: log.logger, redactor: log.redactor, workingDirectory: process.cwd() });
  const journals = new InputJournalService({ logger: log.logger, sessions, ...(capacity === undefined ? {} : { capacity }) });
  return { log, sessions, journals };
}

function sessionId(result: OpenResult): string {
  assert.ok(result.ok, JSON.stringify(result));
  return result.session.sessionId;
}

function key(seq: number): InputJournalEntry {
  return { seq, timeMs: 1000 + seq, origin: 'user', input: { kind: 'key', keysym: 0x61, code: 'KeyA', down: seq % 2 === 1 }, targets: ['r1'] };
}

const seqs = (entries: readonly InputJournalEntry[]): number[] => entries.map((entry) => entry.seq);

describe('InputJournalService', { timeout: 10_000 }, () => {
  it('journals an open session\'s input in order and tells the listeners, refusing entries out of sequence', { timeout: 5_000 }, () => {
    const { sessions, journals, log } = setup();
    const id = sessionId(sessions.quickConnect('127.0.0.1:1'));
    const heard: [number[], string][] = [];
    journals.onInputRecorded((entries, from) => heard.push([seqs(entries), from]));
    journals.record(id, [key(1), key(2)]);
    journals.record(id, [key(2), key(3)]);
    assert.deepEqual(heard, [
      [[1, 2], id],
      [[2, 3], id],
    ]);
    const exported = journals.exportJsonLines(id);
    assert.equal(exported.entries, 3);
    assert.equal(exported.dropped, 0);
    assert.deepEqual(
      exported.jsonLines
        .trim()
        .split('\n')
        .map((line) => (JSON.parse(line) as { seq: number }).seq),
      [1, 2, 3],
    );
    const refused = log.records.find((record) => record.message === 'input journal entries out of sequence were refused');
    assert.equal(refused?.refused, 1);
  });

  it('keeps nothing for a closed or unknown session, and forgets a session\'s journal when it closes', { timeout: 5_000 }, () => {
    const { sessions, journals } = setup();
    const id = sessionId(sessions.quickConnect('127.0.0.1:1'));
    journals.record(id, [key(1)]);
    assert.equal(journals.exportJsonLines(id).entries, 1);
    sessions.close(id, 'the session was closed');
    journals.record(id, [key(2)]);
    assert.throws(() => journals.exportJsonLines(id), /no open session/);
    assert.throws(() => journals.read(id, 0, 10), /no open session/);
    const fresh = sessionId(sessions.quickConnect('127.0.0.1:1'));
    assert.deepEqual(journals.exportJsonLines(fresh), { jsonLines: '', entries: 0, dropped: 0 });
    assert.deepEqual(journals.read(fresh, 0, 10), { entries: [], lastSeq: 0, complete: true });
  });

  it('reads page by page after a sequence number, with the last one journaled', { timeout: 5_000 }, () => {
    const { sessions, journals } = setup();
    const id = sessionId(sessions.quickConnect('127.0.0.1:1'));
    journals.record(id, [1, 2, 3, 5, 8, 9].map(key));
    const first = journals.read(id, 2, 2);
    assert.deepEqual(seqs(first.entries), [3, 5]);
    assert.equal(first.lastSeq, 9);
    assert.equal(first.complete, true);
    const second = journals.read(id, 5, 10);
    assert.deepEqual(seqs(second.entries), [8, 9]);
    assert.deepEqual(journals.read(id, 9, 10), { entries: [], lastSeq: 9, complete: true });
    assert.throws(() => journals.read(id, -1, 10), RangeError);
  });

  it('says a read is incomplete once entries after afterSeq were dropped from the bounded journal', { timeout: 5_000 }, () => {
    const { sessions, journals } = setup(3);
    const id = sessionId(sessions.quickConnect('127.0.0.1:1'));
    journals.record(id, [1, 2, 4, 6, 7].map(key));
    // Held: 4, 6, 7; dropped: 1 and 2.
    assert.equal(journals.exportJsonLines(id).dropped, 2);
    const afterCheckpoint = journals.read(id, 1, 10);
    assert.deepEqual(seqs(afterCheckpoint.entries), [4, 6, 7]);
    assert.equal(afterCheckpoint.complete, false, '2 was dropped');
    const fromTwo = journals.read(id, 2, 10);
    assert.deepEqual(seqs(fromTwo.entries), [4, 6, 7]);
    assert.equal(fromTwo.complete, true, 'nothing after 2 was dropped (3 never existed)');
    assert.equal(journals.read(id, 0, 1).complete, false);
    assert.equal(journals.read(id, 0, 1).lastSeq, 7);
  });

  it('logs a listener that throws; the others still hear the batch', { timeout: 5_000 }, () => {
    const { sessions, journals, log } = setup();
    const id = sessionId(sessions.quickConnect('127.0.0.1:1'));
    const heard: number[] = [];
    journals.onInputRecorded(() => {
      throw new Error('printer broke');
    });
    const stop = journals.onInputRecorded((entries) => heard.push(...seqs(entries)));
    journals.record(id, [key(1)]);
    stop();
    journals.record(id, [key(2)]);
    assert.deepEqual(heard, [1]);
    assert.equal(log.records.filter((record) => record.message === 'input listener failed').length, 2);
    assert.equal(journals.exportJsonLines(id).entries, 2, 'a failing listener never costs the journal an entry');
  });
});
