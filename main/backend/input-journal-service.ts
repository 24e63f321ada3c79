// Each open session's input journal: what the UI broadcast, recorded in order as it arrives, exported
// as JSON lines, read back page by page (a replay since a checkpoint), and heard by listeners (the
// `run` command prints it). A closed session's journal is forgotten. Node-side.

import type { InputJournalEntry } from '../../common/input/input-events';
import { InputJournal } from '../../common/input/input-journal';
import type { Logger } from '../logger';
import { Listeners } from './listeners';
import type { SessionService } from './session-service';

/** Hears input as it is journaled, with its session. */
export type InputRecordedListener = (entries: readonly InputJournalEntry[], sessionId: string) => void;

/** What the journal service needs. */
export interface InputJournalServiceOptions {
  readonly logger: Logger;
  /** Input is kept only for open sessions; a closed one's journal is forgotten. */
  readonly sessions: SessionService;
  /** Entries each session's journal keeps (default INPUT_JOURNAL_CAPACITY). */
  readonly capacity?: number;
}

/** A page of a session's journal. */
export interface InputJournalRead {
  /** Entries after the requested sequence number, oldest first, at most the limit. */
  readonly entries: readonly InputJournalEntry[];
  /** The highest sequence number journaled for the session (0 before any input): the reader is done when its last entry has it. */
  readonly lastSeq: number;
  /** False when entries after the requested sequence number were already dropped (the journal is bounded). */
  readonly complete: boolean;
}

/** The bounded input journals of the open sessions. */
export class InputJournalService {
  private readonly journals = new Map<string, InputJournal>();
  private readonly recorded: Listeners<InputRecordedListener>;

  constructor(private readonly options: InputJournalServiceOptions) {
    this.recorded = new Listeners<InputRecordedListener>(options.logger, 'input');
    options.sessions.onSessionClosed((session) => this.forget(session.id));
  }

  /** Appends a batch from the UI to its session's journal (refusing entries out of sequence) and tells the listeners. */
  record(sessionId: string, entries: readonly InputJournalEntry[]): void {
    if (this.options.sessions.get(sessionId) === undefined) {
      // Late input of a session the UI just closed (or the demo lab replaced): nothing to keep it for.
      this.journals.delete(sessionId);
      return;
    }
    let journal = this.journals.get(sessionId);
    if (journal === undefined) {
      journal = new InputJournal(this.options.capacity);
      this.journals.set(sessionId, journal);
    }
    const refused = journal.append(entries);
    if (refused > 0) this.options.logger.warn('input journal entries out of sequence were refused', { sessionId, refused });
    this.recorded.emit(entries, sessionId);
  }

  /** An open session's journal as JSON lines, with how many entries it holds and how many were dropped. */
  exportJsonLines(sessionId: string): { jsonLines: string; entries: number; dropped: number } {
    const journal = this.journalOf(sessionId);
    return { jsonLines: journal?.toJsonLines() ?? '', entries: journal?.size ?? 0, dropped: journal?.dropped ?? 0 };
  }

  /** At most `limit` entries of an open session's journal with a sequence number above `afterSeq`. */
  read(sessionId: string, afterSeq: number, limit: number): InputJournalRead {
    if (!Number.isSafeInteger(afterSeq) || afterSeq < 0) throw new RangeError(`afterSeq must be a non-negative integer, not ${afterSeq}`);
    const journal = this.journalOf(sessionId);
    if (journal === undefined) return { entries: [], lastSeq: 0, complete: true };
    return { entries: journal.entriesAfter(afterSeq, limit), lastSeq: journal.lastSeq, complete: journal.droppedThroughSeq <= afterSeq };
  }

  /** Listens to input as it is journaled; returns the unsubscribe. */
  onInputRecorded(listener: InputRecordedListener): () => void {
    return this.recorded.add(listener);
  }

  /** Forgets a session's journal. */
  forget(sessionId: string): void {
    this.journals.delete(sessionId);
  }

  /** Forgets every journal and listener (the back end is shutting down). */
  clear(): void {
    this.journals.clear();
    this.recorded.clear();
  }

  private journalOf(sessionId: string): InputJournal | undefined {
    if (this.options.sessions.get(sessionId) === undefined) {
      throw new Error(`no open session "${sessionId}": open the session again to journal its input`);
    }
    return this.journals.get(sessionId);
  }
}
