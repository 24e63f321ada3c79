// Checkpoint names and the checkpoint book: slug rules, numbers never reused (also across a restart),
// completeness, and a retention plan that only ever deletes our own, older checkpoints.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CheckpointBook, checkpointName, checkpointNumber, checkpointPrefix, profileSlug } from '../../../../common/remediation/checkpoints';

const REPLICAS = ['r1', 'r2', 'r3'];
const ALL_OK = { r1: 'ok', r2: 'ok', r3: 'ok' } as const;

/** Begins and finishes one checkpoint; returns its name. */
function take(book: CheckpointBook, atMs: number, perReplica: Readonly<Record<string, 'ok' | 'failed'>> = ALL_OK, seq: number | null = atMs): string {
  const { name } = book.begin(atMs);
  book.finish({ name, seq, perReplica });
  return name;
}

describe('checkpoint names', { timeout: 10_000 }, () => {
  it('slugs the profile name', { timeout: 2_000 }, () => {
    assert.equal(profileSlug('Lab'), 'lab');
    assert.equal(profileSlug('  My Lab #1 (KVM + Xen)  '), 'my-lab-1-kvm-xen');
    assert.equal(profileSlug('---'), 'profile');
    assert.equal(profileSlug(''), 'profile');
    assert.equal(profileSlug('Ünïcödé'), 'n-c-d');
    assert.equal(profileSlug('ÄÖ'), 'profile');
    const long = profileSlug(`${'a'.repeat(39)} tail`);
    assert.equal(long, 'a'.repeat(39), 'cut at 40 without a trailing "-"');
    assert.ok(profileSlug('x'.repeat(100)).length <= 40);
    assert.equal(checkpointPrefix('Lab'), 'retrovisor-lab-');
    assert.equal(checkpointName('Lab', 7), 'retrovisor-lab-7');
  });

  it('recognises only its own names, exactly', { timeout: 2_000 }, () => {
    const prefix = checkpointPrefix('lab');
    assert.equal(checkpointNumber(prefix, 'retrovisor-lab-12'), 12);
    assert.equal(checkpointNumber(prefix, 'retrovisor-lab-2-5'), null, 'profile "lab-2", not ours');
    assert.equal(checkpointNumber(prefix, 'retrovisor-lab-007'), null);
    assert.equal(checkpointNumber(prefix, 'retrovisor-lab-'), null);
    assert.equal(checkpointNumber(prefix, 'my-own-snapshot'), null);
    assert.equal(checkpointNumber(checkpointPrefix('lab-2'), 'retrovisor-lab-2-5'), 5);
  });
});

describe('checkpoint book', { timeout: 10_000 }, () => {
  it('never reuses a number: continues after existing snapshots and after deletions', { timeout: 2_000 }, () => {
    const book = new CheckpointBook('lab', REPLICAS, ['retrovisor-lab-4', 'retrovisor-lab-2-99', 'retrovisor-other-50', 'base']);
    assert.equal(book.nextName(), 'retrovisor-lab-5');
    const first = take(book, 1000);
    assert.equal(first, 'retrovisor-lab-5');
    book.forget([first]);
    assert.equal(book.nextName(), 'retrovisor-lab-6');
    book.observeExisting(['retrovisor-lab-40']);
    assert.equal(book.begin(2000).name, 'retrovisor-lab-41');
  });

  it('tracks completeness per replica', { timeout: 2_000 }, () => {
    const book = new CheckpointBook('lab', REPLICAS);
    const pending = book.begin(1000);
    assert.deepEqual(pending.perReplica, { r1: 'pending', r2: 'pending', r3: 'pending' });
    assert.equal(book.pending()?.name, pending.name);
    assert.equal(book.newestComplete(), null);
    const partial = book.finish({ name: pending.name, seq: 10, perReplica: { r1: 'ok', r2: 'failed' } });
    assert.deepEqual(partial?.perReplica, { r1: 'ok', r2: 'failed', r3: 'pending' });
    assert.equal(partial?.complete, false);
    assert.equal(book.pending(), null, 'finished, even if incomplete');
    const good = take(book, 2000);
    assert.equal(book.newestComplete()?.name, good);
    assert.equal(book.newestComplete()?.seq, 2000);
    const noSeq = take(book, 3000, ALL_OK, null);
    assert.equal(book.list().find((record) => record.name === noSeq)?.complete, false, 'a checkpoint without its journal seq cannot be replayed from');
    assert.equal(book.finish({ name: 'retrovisor-lab-99', seq: 1, perReplica: ALL_OK }), null);
    const abandoned = book.begin(4000);
    book.finish({ name: abandoned.name, seq: null, perReplica: { r1: 'ok' } });
    assert.deepEqual(book.abandon(abandoned.name)?.perReplica, { r1: 'ok', r2: 'failed', r3: 'failed' });
  });

  it('keeps the newest K complete ones and deletes older incomplete ones, never a newer or pending one', { timeout: 2_000 }, () => {
    const book = new CheckpointBook('lab', REPLICAS, ['retrovisor-lab-3', 'retrovisor-lab-2-1', 'manual-snapshot']);
    assert.deepEqual(book.planRetention(2), [], 'nothing is deleted before one complete checkpoint exists');
    const c4 = take(book, 1000);
    const failed5 = take(book, 2000, { r1: 'ok', r2: 'failed', r3: 'ok' });
    const c6 = take(book, 3000);
    const c7 = take(book, 4000);
    const failed8 = take(book, 5000, { r1: 'failed', r2: 'ok', r3: 'ok' });
    const pending9 = book.begin(6000).name;
    assert.deepEqual([c4, failed5, c6, c7, failed8, pending9], ['retrovisor-lab-4', 'retrovisor-lab-5', 'retrovisor-lab-6', 'retrovisor-lab-7', 'retrovisor-lab-8', 'retrovisor-lab-9']);
    const plan = book.planRetention(2);
    // The leftover of an earlier session (its journal is gone), the oldest complete, the failed one
    // older than the newest complete. Kept: c6, c7, the newer failed one, the pending one.
    assert.deepEqual(plan.sort(), ['retrovisor-lab-3', c4, failed5].sort());
    assert.ok(plan.every((name) => name.startsWith(book.prefix) && name !== 'retrovisor-lab-2-1'));
    book.forget(plan);
    assert.deepEqual(book.planRetention(2), []);
    assert.deepEqual(book.planRetention(1), [c6]);
    assert.equal(book.pending()?.name, pending9);
  });

  it('says when a periodic checkpoint is due', { timeout: 2_000 }, () => {
    const book = new CheckpointBook('lab', REPLICAS);
    assert.equal(book.isDue(0, 0, 0), false, 'everyMs 0: never periodic');
    assert.equal(book.isDue(0, 10_000, null), false, 'not while the replicas disagree');
    assert.equal(book.isDue(0, 10_000, 0), true, 'none yet');
    take(book, 1000);
    assert.equal(book.isDue(10_999, 10_000, 0), false);
    assert.equal(book.isDue(11_000, 10_000, 0), true);
    book.begin(11_000);
    assert.equal(book.isDue(50_000, 10_000, 0), false, 'not while one is being taken');
  });
});
