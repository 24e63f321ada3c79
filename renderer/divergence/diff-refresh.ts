// Keeps the diff view live without costing the renderer: screen updates of the compared replicas
// mark it stale, and it is recomputed at most every DIFF_REFRESH_MS, only after an update. Plus the
// workspace's hub that tells listeners which replica's screen just changed. Runs in the renderer,
// DOM-free (timers passed in): tested in plain Node.

import { SYSTEM_CLOCK, type Clock } from '../vnc/replica-session';

/** Shortest time between two recomputations of the diff (a full-screen getImageData costs 25–40 ms at 1080p). */
export const DIFF_REFRESH_MS = 250;

/** The time and one-shot timers the scheduler uses (tests pass fakes): the replica sessions' Clock. */
export type RefreshClock = Clock;

/** Runs `refresh` once now, then after updates, never twice within `intervalMs`. */
export class DiffRefreshScheduler {
  private lastRunMs = -Infinity;
  private stale = false;
  private timer: unknown = null;
  private disposed = false;
  private readonly clock: RefreshClock;
  private readonly intervalMs: number;

  constructor(
    private readonly refresh: () => void,
    options: { readonly clock?: RefreshClock; readonly intervalMs?: number } = {},
  ) {
    this.clock = options.clock ?? SYSTEM_CLOCK;
    this.intervalMs = options.intervalMs ?? DIFF_REFRESH_MS;
  }

  /** Computes at once (opening the view, another reference, another replica connection). */
  refreshNow(): void {
    if (this.disposed) return;
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    this.run();
  }

  /** One of the compared screens changed: recompute when the interval allows. */
  noteUpdate(): void {
    if (this.disposed) return;
    this.stale = true;
    if (this.timer !== null) return;
    const waitMs = Math.max(0, this.lastRunMs + this.intervalMs - this.clock.now());
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      if (this.stale) this.run();
    }, waitMs);
  }

  /** Stops: no refresh runs after this. */
  dispose(): void {
    this.disposed = true;
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  private run(): void {
    this.stale = false;
    this.lastRunMs = this.clock.now();
    this.refresh();
  }
}

/** Tells listeners which replica's screen changed (the workspace notifies it on every framebuffer update). */
export class ScreenUpdateHub {
  private readonly listeners = new Set<(replicaId: string) => void>();

  /** Listens until the returned function is called. */
  subscribe(listener: (replicaId: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  notify(replicaId: string): void {
    for (const listener of this.listeners) listener(replicaId);
  }

  clear(): void {
    this.listeners.clear();
  }
}
