// Clocks whose time moves only when a test says so, shared by the plain-Node tests of code that takes
// a clock (the input fan-out, the broadcast's replay, the manager's command executor, the thumbnail
// pacer). Test support.

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

/** now, intervals and one-shot timers; advance(ms) runs every timer due, interval runs included, in time order. */
export class IntervalClock {
  private readonly timers = new Map<number, { atMs: number; everyMs: number | null; callback: () => void }>();
  private nextId = 1;

  constructor(public nowMs = 0) {}

  now(): number {
    return this.nowMs;
  }

  setInterval(callback: () => void, everyMs: number): unknown {
    this.timers.set(this.nextId, { atMs: this.nowMs + everyMs, everyMs, callback });
    return this.nextId++;
  }

  clearInterval(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  setTimeout(callback: () => void, delayMs: number): unknown {
    this.timers.set(this.nextId, { atMs: this.nowMs + delayMs, everyMs: null, callback });
    return this.nextId++;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  /** Timers (intervals included) not cleared. */
  get pending(): number {
    return this.timers.size;
  }

  /** Intervals not cleared. */
  get intervals(): number {
    return [...this.timers.values()].filter((timer) => timer.everyMs !== null).length;
  }

  /** One-shot timers neither fired nor cleared. */
  get timeouts(): number {
    return this.pending - this.intervals;
  }

  advance(ms: number): void {
    const end = this.nowMs + ms;
    for (;;) {
      let next: [number, { atMs: number; everyMs: number | null; callback: () => void }] | null = null;
      for (const entry of this.timers) if (entry[1].atMs <= end && (next === null || entry[1].atMs < next[1].atMs)) next = entry;
      if (next === null) break;
      const [id, timer] = next;
      this.nowMs = timer.atMs;
      if (timer.everyMs === null) this.timers.delete(id);
      else timer.atMs += timer.everyMs;
      timer.callback();
    }
    this.nowMs = end;
  }
}
