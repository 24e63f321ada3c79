// One set of listeners of one kind for the back end's services: add (returns the unsubscribe), emit to
// each in turn — a listener that throws is logged and the others still run — and clear. Node-side.

import type { LogFields, Logger } from '../logger';

/** Listeners of one signature: a listener that fails never keeps the others from hearing. */
export class Listeners<Listener extends (...args: never[]) => void> {
  private readonly listeners = new Set<Listener>();

  /**
   * @param name what the listeners hear, for the log ("input" → "input listener failed")
   * @param fields added to that log line (e.g. the event's name)
   */
  constructor(
    private readonly logger: Logger,
    private readonly name: string,
    private readonly fields: LogFields = {},
  ) {}

  /** Listeners registered now. */
  get size(): number {
    return this.listeners.size;
  }

  /** Registers a listener (the same function twice counts once); returns its unsubscribe. */
  add(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Calls every listener with `args`; one that throws is logged and the next one still runs. */
  emit(...args: Parameters<Listener>): void {
    // A copy: a listener may unsubscribe itself (or add another) while it is called.
    for (const listener of [...this.listeners]) {
      try {
        listener(...args);
      } catch (error) {
        this.logger.error(`${this.name} listener failed`, { ...this.fields, error });
      }
    }
  }

  /** Forgets every listener (the back end is shutting down). */
  clear(): void {
    this.listeners.clear();
  }
}
