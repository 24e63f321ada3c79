// The diff view's refresh throttle (at most every interval, only after an update) and the screen
// update hub, in plain Node with a fake clock.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DiffRefreshScheduler, ScreenUpdateHub, type RefreshClock } from '../../../renderer/divergence/diff-refresh';

class FakeClock implements RefreshClock {
  nowMs = 0;
  private timers: { at: number; callback: () => void; handle: number }[] = [];
  private nextHandle = 1;
  now(): number {
    return this.nowMs;
  }
  setTimeout(callback: () => void, delayMs: number): unknown {
    const handle = this.nextHandle++;
    this.timers.push({ at: this.nowMs + delayMs, callback, handle });
    return handle;
  }
  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((timer) => timer.handle !== handle);
  }
  advance(ms: number): void {
    const end = this.nowMs + ms;
    for (;;) {
      const due = this.timers.filter((timer) => timer.at <= end).sort((a, b) => a.at - b.at)[0];
      if (due === undefined) break;
      this.timers = this.timers.filter((timer) => timer !== due);
      this.nowMs = due.at;
      due.callback();
    }
    this.nowMs = end;
  }
}

describe('DiffRefreshScheduler', { timeout: 60_000 }, () => {
  it('refreshes at once, then after updates no more than once per interval', () => {
    const clock = new FakeClock();
    const runs: number[] = [];
    const scheduler = new DiffRefreshScheduler(() => runs.push(clock.nowMs), { clock, intervalMs: 250 });
    scheduler.refreshNow();
    assert.deepEqual(runs, [0]);
    clock.advance(1000);
    assert.deepEqual(runs, [0], 'no update: no refresh');
    for (let step = 0; step < 10; step++) {
      scheduler.noteUpdate();
      clock.advance(50);
    }
    // Updates at 1000..1450: refreshes at 1000 (the interval had passed) and 1250, then 1500 for the rest.
    clock.advance(1000);
    assert.deepEqual(runs, [0, 1000, 1250, 1500]);
  });

  it('runs nothing after dispose', () => {
    const clock = new FakeClock();
    let runs = 0;
    const scheduler = new DiffRefreshScheduler(() => runs++, { clock, intervalMs: 250 });
    scheduler.refreshNow();
    scheduler.noteUpdate();
    scheduler.dispose();
    clock.advance(1000);
    scheduler.refreshNow();
    assert.equal(runs, 1);
  });
});

describe('ScreenUpdateHub', { timeout: 60_000 }, () => {
  it('tells each listener which replica changed until it unsubscribes', () => {
    const hub = new ScreenUpdateHub();
    const seen: string[] = [];
    const unsubscribe = hub.subscribe((id) => seen.push(id));
    hub.notify('r1');
    unsubscribe();
    hub.notify('r2');
    assert.deepEqual(seen, ['r1']);
  });
});
