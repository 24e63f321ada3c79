// Sends the input journal to the back end in batches, in sequence order, one request at a time (the
// back end keeps the bounded journal per session). Plain TypeScript: tested in Node.

import type { BackendApi } from '../../common/contract';
import type { InputJournalEntry } from '../../common/input/input-events';
import { MAX_JOURNAL_BATCH } from '../../common/input/input-journal';
import type { Clock, SessionLog } from '../vnc/replica-session';

/** A batch leaves this long after its first entry (input is bursty: keys come in tens per second). */
export const JOURNAL_BATCH_DELAY_MS = 100;
/** Entries waiting beyond this are dropped (and counted) rather than growing without bound. */
export const MAX_JOURNAL_BACKLOG = 100_000;

/** Batches journal entries toward `recordInput`. */
export class JournalUploader {
  private queue: InputJournalEntry[] = [];
  private timer: unknown = null;
  private sending: Promise<void> = Promise.resolve();
  private droppedCount = 0;
  private failureLogged = false;

  constructor(
    private readonly sessionId: string,
    private readonly api: Pick<BackendApi, 'recordInput'>,
    private readonly clock: Clock,
    private readonly log: SessionLog,
  ) {}

  /** Entries dropped because the back end could not keep up or refused them. */
  get dropped(): number {
    return this.droppedCount;
  }

  /** Queues one entry; a batch leaves soon. */
  add(entry: InputJournalEntry): void {
    if (this.queue.length >= MAX_JOURNAL_BACKLOG) {
      this.droppedCount++;
      return;
    }
    this.queue.push(entry);
    if (this.timer === null) {
      this.timer = this.clock.setTimeout(() => {
        this.timer = null;
        void this.flush();
      }, JOURNAL_BATCH_DELAY_MS);
    }
  }

  /** Sends everything queued; resolves once the back end has it (or gave up on it). */
  flush(): Promise<void> {
    if (this.timer !== null) {
      this.clock.clearTimeout(this.timer);
      this.timer = null;
    }
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_JOURNAL_BATCH);
      this.sending = this.sending.then(() =>
        this.api.recordInput({ sessionId: this.sessionId, entries: batch }).catch((error: unknown) => {
          this.droppedCount += batch.length;
          if (!this.failureLogged) {
            this.failureLogged = true;
            this.log.warn(`[input] the back end did not take the input journal (${error instanceof Error ? error.message : String(error)}); input still reaches the replicas`);
          }
        }),
      );
    }
    return this.sending;
  }
}
