// Checkpoints: the names RetroVisor gives its libvirt snapshots, and a book of the ones it took this
// session (input journal seq, per-replica outcome, completeness) with the retention policy. Pure.

/** Every checkpoint name starts with this; `retrovisor-<profile slug>-<n>`. */
export const CHECKPOINT_NAME_PREFIX = 'retrovisor-';
export const MAX_SLUG_LENGTH = 40;
const NUMBER_PATTERN = /^[1-9][0-9]{0,14}$/;

/** The profile name as it appears in snapshot names: lowercase, [a-z0-9-], ≤ 40, 'profile' if empty. */
export function profileSlug(profileName: string): string {
  const slug = profileName
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, MAX_SLUG_LENGTH)
    .replace(/-+$/, '');
  return slug === '' ? 'profile' : slug;
}

/** The prefix every checkpoint of this profile carries ("retrovisor-lab-"). */
export function checkpointPrefix(profileName: string): string {
  return `${CHECKPOINT_NAME_PREFIX}${profileSlug(profileName)}-`;
}

/** The checkpoint name number `n` of a profile. */
export function checkpointName(profileName: string, n: number): string {
  return `${checkpointPrefix(profileName)}${n}`;
}

/**
 * The number of a snapshot name made with `prefix`, or null when the name is not one of ours.
 * Exact: "retrovisor-lab-2-5" is not profile "lab"'s (its rest is "2-5"), it is profile "lab-2"'s.
 */
export function checkpointNumber(prefix: string, snapshotName: string): number | null {
  if (!snapshotName.startsWith(prefix)) return null;
  const rest = snapshotName.slice(prefix.length);
  return NUMBER_PATTERN.test(rest) ? Number(rest) : null;
}

export type CheckpointReplicaStatus = 'ok' | 'failed' | 'pending';

/** One checkpoint this session took (or is taking). */
export interface CheckpointRecord {
  readonly name: string;
  /** The input journal's last sequence number at the checkpoint; null until the service reports it. */
  readonly seq: number | null;
  readonly takenAtMs: number;
  readonly perReplica: Readonly<Record<string, CheckpointReplicaStatus>>;
  /** Every replica's snapshot succeeded and the seq is known: a revert target. */
  readonly complete: boolean;
}

/** The outcome the service reports for a checkpoint it took. */
export interface CheckpointResult {
  readonly name: string;
  /** The journal's last seq while input was held for the snapshots; null if it never got that far. */
  readonly seq: number | null;
  /** Per replica; a replica left out stays 'pending' (which keeps the checkpoint incomplete). */
  readonly perReplica: Readonly<Record<string, 'ok' | 'failed'>>;
}

/** The checkpoints of one session: names never reused, completeness tracked, old ones planned away. */
export class CheckpointBook {
  /** "retrovisor-<slug>-": only names with this prefix are ever planned for deletion. */
  readonly prefix: string;
  private readonly replicaIds: readonly string[];
  private readonly records: CheckpointRecord[] = [];
  /** Our-prefix snapshots found on the L0s at start: unusable (their journal is gone), deleted later. */
  private readonly leftovers = new Set<string>();
  /** Begun and not finished (nor abandoned) yet. */
  private readonly inProgress = new Set<string>();
  private highestNumber = 0;

  /** `existingSnapshotNames`: what snapshot-list reported on the replicas' L0s at start (any names). */
  constructor(profileName: string, replicaIds: readonly string[], existingSnapshotNames: readonly string[] = []) {
    this.prefix = checkpointPrefix(profileName);
    this.replicaIds = [...replicaIds];
    this.observeExisting(existingSnapshotNames);
  }

  /** Notes snapshot names found on an L0 so new names never collide with them. */
  observeExisting(snapshotNames: readonly string[]): void {
    for (const name of snapshotNames) {
      const n = checkpointNumber(this.prefix, name);
      if (n === null) continue;
      this.highestNumber = Math.max(this.highestNumber, n);
      if (!this.records.some((record) => record.name === name)) this.leftovers.add(name);
    }
  }

  /** The name the next `begin` will use; above every number seen, deleted ones included. */
  nextName(): string {
    return `${this.prefix}${this.highestNumber + 1}`;
  }

  /** Starts a checkpoint: a new record, every replica 'pending', seq unknown until `finish`. */
  begin(takenAtMs: number): CheckpointRecord {
    const name = this.nextName();
    this.highestNumber++;
    const perReplica: Record<string, CheckpointReplicaStatus> = {};
    for (const id of this.replicaIds) perReplica[id] = 'pending';
    const record: CheckpointRecord = { name, seq: null, takenAtMs, perReplica, complete: false };
    this.records.push(record);
    this.inProgress.add(name);
    return record;
  }

  /** Records the service's outcome; returns the updated record, or null for a name not begun here. */
  finish(result: CheckpointResult): CheckpointRecord | null {
    const index = this.records.findIndex((record) => record.name === result.name);
    const before = this.records[index];
    if (before === undefined) return null;
    const perReplica: Record<string, CheckpointReplicaStatus> = { ...before.perReplica };
    for (const id of this.replicaIds) {
      const status = result.perReplica[id];
      if (status === 'ok' || status === 'failed') perReplica[id] = status;
    }
    const complete = result.seq !== null && this.replicaIds.every((id) => perReplica[id] === 'ok');
    const record: CheckpointRecord = { ...before, seq: result.seq, perReplica, complete };
    this.records[index] = record;
    this.inProgress.delete(result.name);
    return record;
  }

  /** Gives up on a checkpoint that never finished: its pending replicas count as failed. */
  abandon(name: string): CheckpointRecord | null {
    const record = this.records.find((entry) => entry.name === name);
    if (record === undefined) return null;
    const perReplica: Record<string, 'ok' | 'failed'> = {};
    for (const id of this.replicaIds) perReplica[id] = record.perReplica[id] === 'ok' ? 'ok' : 'failed';
    return this.finish({ name, seq: null, perReplica });
  }

  /** The checkpoint being taken (begun, no outcome yet), if any. */
  pending(): CheckpointRecord | null {
    return this.records.find((record) => this.inProgress.has(record.name)) ?? null;
  }

  /** The newest complete checkpoint: what revert-replay restores. */
  newestComplete(): CheckpointRecord | null {
    for (let index = this.records.length - 1; index >= 0; index--) {
      const record = this.records[index];
      if (record?.complete) return record;
    }
    return null;
  }

  /** The newest checkpoint begun, whatever its outcome (periodic timing counts from it). */
  newest(): CheckpointRecord | null {
    return this.records[this.records.length - 1] ?? null;
  }

  /** Every record, oldest first (plain data for the UI). */
  list(): readonly CheckpointRecord[] {
    return [...this.records];
  }

  /**
   * Names to delete to keep the newest `keep` complete checkpoints: older complete ones, incomplete
   * ones older than the newest complete one, and leftovers of earlier sessions — all with our own
   * prefix. Nothing while no complete checkpoint exists; a checkpoint being taken is never listed.
   */
  planRetention(keep: number): string[] {
    const newest = this.newestComplete();
    if (newest === null) return [];
    const newestIndex = this.records.indexOf(newest);
    const kept = new Set(
      this.records
        .filter((record) => record.complete)
        .slice(-Math.max(1, keep))
        .map((record) => record.name),
    );
    const names = [...this.leftovers];
    this.records.forEach((record, index) => {
      if (kept.has(record.name) || this.inProgress.has(record.name) || !record.name.startsWith(this.prefix)) return;
      if (record.complete || index < newestIndex) names.push(record.name);
    });
    return names;
  }

  /** Drops records (and leftovers) the service is deleting; their numbers are still never reused. */
  forget(names: readonly string[]): void {
    for (const name of names) {
      this.leftovers.delete(name);
      this.inProgress.delete(name);
      const index = this.records.findIndex((record) => record.name === name);
      if (index >= 0) this.records.splice(index, 1);
    }
  }

  /**
   * Whether a periodic checkpoint is due: periodic checkpoints are on (everyMs > 0), every replica
   * agrees now (`allAgreeSinceMs` is when that began, null when they do not), none is being taken,
   * and the newest one began at least `everyMs` ago (or there is none).
   */
  isDue(nowMs: number, everyMs: number, allAgreeSinceMs: number | null): boolean {
    if (everyMs <= 0 || allAgreeSinceMs === null || this.pending() !== null) return false;
    const newest = this.newest();
    return newest === null || nowMs - newest.takenAtMs >= everyMs;
  }
}
