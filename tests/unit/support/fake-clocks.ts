// Clocks whose time moves only when a test says so, shared by the plain-Node tests of code that takes
// a clock (the input fan-out, the broadcast's replay, the manager's command executor). Test support.

interface Timer {
  readonly at: number;
  readonly callback: () => void;
  readonly id: number;
}

/** now / setTimeout / clearTimeout over a list of timers; subclasses say how time advances. */
abstract class TimerList {
  protected timers: Timer[] = [];
  private nextId = 1;

  constructor(public nowMs: number) {}

  now(): number {
    return this.nowMs;
  }

  setTimeout(callback: () => void, delayMs: number): unknown {
    const id = this.nextId++;
    this.timers.push({ at: this.nowMs + delayMs, callback, id });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((timer) => timer.id !== handle);
  }

  /** Timers not fired yet. */
  get pending(): number {
    return this.timers.length;
  }
}

/** advance(ms) moves time, then fires the timers due by then (those they set fire on a later advance). */
export class ManualClock extends TimerList {
  constructor(startMs = 1000) {
    super(startMs);
  }

  advance(ms: number): void {
    this.nowMs += ms;
    for (const timer of this.timers.filter((entry) => entry.at <= this.nowMs)) {
      this.timers = this.timers.filter((entry) => entry !== timer);
      timer.callback();
    }
  }
}

/** Lets every pending promise continuation run (a macrotask turn: the microtask queue drains first). */
export const settlePromises = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** advance(ms) fires due timers one at a time in time order, letting promises settle in between. */
export class AsyncFakeClock extends TimerList {
  constructor(startMs = 0) {
    super(startMs);
  }

  async advance(ms: number): Promise<void> {
    const end = this.nowMs + ms;
    for (;;) {
      await settlePromises();
      const due = this.timers.filter((timer) => timer.at <= end).sort((x, y) => x.at - y.at || x.id - y.id)[0];
      if (due === undefined) break;
      this.timers = this.timers.filter((timer) => timer !== due);
      this.nowMs = Math.max(this.nowMs, due.at);
      due.callback();
    }
    this.nowMs = end;
    await settlePromises();
  }
}
