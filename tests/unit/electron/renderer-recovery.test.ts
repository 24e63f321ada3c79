// A window whose renderer crashed or was killed: reported, reloaded with the back end told to hand
// the page its session back, and the user told once the page is back; a clean exit is not a loss; a
// renderer that keeps dying closes its window instead of leaving a blank one. Fake webContents, fake clock.

import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import type { Notice } from '../../../common/contract';
import { MAX_RENDERER_LOSSES, RENDERER_LOSS_WINDOW_MS, recoverLostRenderer, type RecoverableContentsLike, type RenderProcessGoneDetails } from '../../../electron/renderer-recovery';
import { recordingLogger } from '../main/backend/service-fakes';

class FakeContents extends EventEmitter implements RecoverableContentsLike {
  reloads = 0;
  destroyed = false;
  reload(): void {
    this.reloads++;
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  gone(details: RenderProcessGoneDetails): void {
    this.emit('render-process-gone', {}, details);
  }
}

function watch(contents: FakeContents, clock: { now: number }) {
  const log = recordingLogger();
  const notices: Notice[] = [];
  const closed: string[] = [];
  let resumed = 0;
  recoverLostRenderer({
    contents,
    logger: log.logger,
    now: () => clock.now,
    beforeReload: () => void resumed++,
    notify: (notice) => notices.push(notice),
    closeWindow: (reason) => closed.push(reason),
  });
  return { notices, closed, resumed: () => resumed, records: log.records };
}

describe('recoverLostRenderer', { timeout: 10_000 }, () => {
  it('reports a killed renderer, resumes the session, reloads, and tells the user once the page is back', () => {
    const contents = new FakeContents();
    const watched = watch(contents, { now: 0 });
    contents.gone({ reason: 'killed', exitCode: 9 });
    assert.equal(contents.reloads, 1);
    assert.equal(watched.resumed(), 1, 'the back end hands the reloaded page its session');
    assert.ok(watched.records.some((record) => record.level === 'warn' && /renderer lost/.test(String(record.message))), JSON.stringify(watched.records));
    assert.equal(watched.notices.length, 0, 'no notice before the page listens');
    contents.emit('did-finish-load');
    assert.equal(watched.notices.length, 1);
    assert.match(watched.notices[0]!.message, /killed, exit code 9.*every replica reconnected/);
  });

  it('ignores a clean exit and a window already destroyed', () => {
    const contents = new FakeContents();
    const watched = watch(contents, { now: 0 });
    contents.gone({ reason: 'clean-exit', exitCode: 0 });
    contents.destroyed = true;
    contents.gone({ reason: 'crashed', exitCode: 139 });
    assert.equal(contents.reloads, 0);
    assert.deepEqual(watched.closed, []);
  });

  it('closes the window when its renderer keeps dying, and reloads again once the losses are old', () => {
    const contents = new FakeContents();
    const clock = { now: 0 };
    const watched = watch(contents, clock);
    for (let loss = 0; loss < MAX_RENDERER_LOSSES; loss++) contents.gone({ reason: 'crashed', exitCode: 139 });
    assert.equal(contents.reloads, MAX_RENDERER_LOSSES);
    contents.gone({ reason: 'crashed', exitCode: 139 });
    assert.equal(contents.reloads, MAX_RENDERER_LOSSES, 'not reloaded once more');
    assert.equal(watched.closed.length, 1);

    const later = new FakeContents();
    const laterClock = { now: 0 };
    const laterWatch = watch(later, laterClock);
    for (let loss = 0; loss < MAX_RENDERER_LOSSES; loss++) later.gone({ reason: 'oom', exitCode: 1 });
    laterClock.now = RENDERER_LOSS_WINDOW_MS + 1;
    later.gone({ reason: 'oom', exitCode: 1 });
    assert.equal(later.reloads, MAX_RENDERER_LOSSES + 1, 'losses spread over time keep being recovered');
    assert.deepEqual(laterWatch.closed, []);
  });
});
