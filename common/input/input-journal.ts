// The input journal: a bounded, in-memory record of every broadcast input of a session (sequence
// number, time, origin, input, targets), exportable as JSON lines — what a remediation replays
// into a restarted replica. Also the runtime check of entries arriving from the UI. Pure.

import type { BroadcastInput, InputJournalEntry, InputOrigin } from './input-events';

/** Entries a session's journal keeps; older ones are dropped (and counted) beyond this. */
export const INPUT_JOURNAL_CAPACITY = 100_000;
/** Most entries the UI sends in one batch. */
export const MAX_JOURNAL_BATCH = 4096;
/** Longest clipboard text a journal entry carries. */
export const MAX_JOURNAL_TEXT_CHARS = 1024 * 1024;

const ORIGINS: readonly InputOrigin[] = ['user', 'script', 'release'];
const MAX_TARGETS = 256;
const ID_MAX = 128;

/** A bounded journal (a ring: the oldest entries go first). */
export class InputJournal {
  private readonly entries: Array<InputJournalEntry | undefined>;
  private start = 0;
  private count = 0;
  private droppedCount = 0;
  private newestSeq = 0;
  private newestDroppedSeq = 0;
  /**
   * The targets of the newest entry, shared by every following entry with the same ones (nearly
   * all: each arrives with its own copy from the UI, a few hundred bytes for 8 replicas).
   */
  private sharedTargets: readonly string[] = Object.freeze([]);

  constructor(readonly capacity: number = INPUT_JOURNAL_CAPACITY) {
    if (!Number.isInteger(capacity) || capacity <= 0) throw new RangeError(`journal capacity must be a positive integer, not ${capacity}`);
    this.entries = new Array<InputJournalEntry | undefined>(capacity);
  }

  /** Entries held now. */
  get size(): number {
    return this.count;
  }

  /** Entries dropped because the journal was full. */
  get dropped(): number {
    return this.droppedCount;
  }

  /** The highest sequence number appended (0 before any entry). */
  get lastSeq(): number {
    return this.newestSeq;
  }

  /** The sequence number of the oldest entry held, or null when the journal is empty. */
  get oldestSeq(): number | null {
    return this.count === 0 ? null : (this.at(0)?.seq ?? null);
  }

  /**
   * The sequence number of the newest entry dropped because the journal was full (0 when none was).
   * A reader that has everything up to this number misses nothing; sequence numbers may have gaps,
   * so this, not oldestSeq - 1, is what tells.
   */
  get droppedThroughSeq(): number {
    return this.newestDroppedSeq;
  }

  /** Appends entries; an entry whose seq is not above the last one is refused (returns how many were refused). */
  append(entries: readonly InputJournalEntry[]): number {
    let refused = 0;
    for (const entry of entries) {
      if (entry.seq <= this.newestSeq) {
        refused++;
        continue;
      }
      this.newestSeq = entry.seq;
      if (this.count === this.capacity) {
        this.newestDroppedSeq = this.at(0)?.seq ?? this.newestDroppedSeq;
        this.start = (this.start + 1) % this.capacity;
        this.count--;
        this.droppedCount++;
      }
      this.entries[(this.start + this.count) % this.capacity] = this.compact(entry);
      this.count++;
    }
    return refused;
  }

  /** The entries held, oldest first. */
  list(): InputJournalEntry[] {
    const result: InputJournalEntry[] = [];
    for (let index = 0; index < this.count; index++) {
      const entry = this.at(index);
      if (entry !== undefined) result.push(entry);
    }
    return result;
  }

  /**
   * At most `limit` entries held whose seq is above `afterSeq`, oldest first (what a replay since a
   * checkpoint reads, page by page). Entries already dropped are not there: compare droppedThroughSeq.
   */
  entriesAfter(afterSeq: number, limit: number): InputJournalEntry[] {
    if (!Number.isInteger(limit) || limit < 0) throw new RangeError(`limit must be a non-negative integer, not ${limit}`);
    // Sequence numbers only grow through the ring: binary search for the first one above afterSeq.
    let low = 0;
    let high = this.count;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((this.at(middle)?.seq ?? Number.POSITIVE_INFINITY) > afterSeq) high = middle;
      else low = middle + 1;
    }
    const result: InputJournalEntry[] = [];
    for (let index = low; index < this.count && result.length < limit; index++) {
      const entry = this.at(index);
      if (entry !== undefined) result.push(entry);
    }
    return result;
  }

  /** The journal as JSON lines (one {@link journalLine} per entry, each ending in "\n"). */
  toJsonLines(): string {
    return this.list()
      .map((entry) => `${JSON.stringify(journalLine(entry))}\n`)
      .join('');
  }

  /** The entry as held: its targets shared with the entries before it where they are the same. */
  private compact(entry: InputJournalEntry): InputJournalEntry {
    const ids = entry.targets;
    let targets = this.sharedTargets;
    if (ids.length !== targets.length || ids.some((id, index) => id !== targets[index])) {
      targets = Object.freeze([...ids]);
      this.sharedTargets = targets;
    }
    return targets === ids ? entry : { ...entry, targets };
  }

  /** The entry `index` places after the oldest one held. */
  private at(index: number): InputJournalEntry | undefined {
    return this.entries[(this.start + index) % this.capacity];
  }
}

/** One entry as a flat JSON object: {"seq":1,"timeMs":…,"origin":"user","kind":"key",…,"targets":[…]}. */
export function journalLine(entry: InputJournalEntry): Record<string, unknown> {
  return { seq: entry.seq, timeMs: entry.timeMs, origin: entry.origin, ...entry.input, targets: entry.targets };
}

/** Checks an entry from the UI; `fail` throws with the message (the contract's error type). */
export function parseJournalEntry(value: unknown, where: string, fail: (message: string) => never): InputJournalEntry {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail(`${where}: expected an object`);
  const entry = value as Record<string, unknown>;
  const integer = (item: unknown, what: string, max: number): number =>
    typeof item === 'number' && Number.isInteger(item) && item >= 0 && item <= max ? item : fail(`${where}.${what}: expected an integer from 0 to ${max}`);
  const origin = entry.origin;
  if (typeof origin !== 'string' || !ORIGINS.includes(origin as InputOrigin)) return fail(`${where}.origin: expected one of ${ORIGINS.join(', ')}`);
  const targets = entry.targets;
  if (!Array.isArray(targets) || targets.length > MAX_TARGETS || !targets.every((id) => typeof id === 'string' && id.length <= ID_MAX)) {
    return fail(`${where}.targets: expected at most ${MAX_TARGETS} replica ids`);
  }
  const input = entry.input;
  if (typeof input !== 'object' || input === null) return fail(`${where}.input: expected an object`);
  const fields = input as Record<string, unknown>;
  let parsed: BroadcastInput;
  switch (fields.kind) {
    case 'key': {
      const code = fields.code;
      if (code !== null && (typeof code !== 'string' || code.length > 64)) return fail(`${where}.input.code: expected null or a key code`);
      if (typeof fields.down !== 'boolean') return fail(`${where}.input.down: expected a boolean`);
      parsed = { kind: 'key', keysym: integer(fields.keysym, 'input.keysym', 0x7fffffff), code, down: fields.down };
      break;
    }
    case 'pointer':
      parsed = {
        kind: 'pointer',
        x: integer(fields.x, 'input.x', 65535),
        y: integer(fields.y, 'input.y', 65535),
        buttonMask: integer(fields.buttonMask, 'input.buttonMask', 0x7f),
      };
      break;
    case 'clipboard':
      if (typeof fields.text !== 'string' || fields.text.length > MAX_JOURNAL_TEXT_CHARS) {
        return fail(`${where}.input.text: expected a string of at most ${MAX_JOURNAL_TEXT_CHARS} characters`);
      }
      parsed = { kind: 'clipboard', text: fields.text };
      break;
    default:
      return fail(`${where}.input.kind: expected key, pointer or clipboard`);
  }
  return {
    seq: integer(entry.seq, 'seq', Number.MAX_SAFE_INTEGER),
    timeMs: integer(entry.timeMs, 'timeMs', Number.MAX_SAFE_INTEGER),
    origin: origin as InputOrigin,
    input: parsed,
    targets: targets as string[],
  };
}
