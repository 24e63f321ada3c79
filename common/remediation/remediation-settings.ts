// The profile's optional "remediation" object: its typed form, defaults, bounds and the validator
// profile.ts calls (one problem per mistake, each at its JSON path). Pure: runs in every runtime.

import { checkUnknownKeys, describe, isObject, readInteger, type Json, type ProblemSink } from '../json-fields';

export type { ProblemSink } from '../json-fields';

/** observe: only say what would be done; confirm: ask before each episode; auto: act alone. */
export type RemediationMode = 'observe' | 'confirm' | 'auto';

/**
 * One step of the remediation ladder. revert-replay and restart-replay bring a replica back to the
 * newest complete checkpoint and replay the input journal since; reset and reboot only power-cycle
 * the guest, which cannot rejoin the others unless the guest's state is reproducible from a fresh boot.
 */
export type RemediationRung = 'revert-replay' | 'restart-replay' | 'reset' | 'reboot';

export const REMEDIATION_MODES: readonly RemediationMode[] = ['observe', 'confirm', 'auto'];
export const REMEDIATION_RUNGS: readonly RemediationRung[] = ['revert-replay', 'restart-replay', 'reset', 'reboot'];

/** Rungs that restore a checkpoint: without a complete one they cannot run. */
export const CHECKPOINT_RUNGS: readonly RemediationRung[] = ['revert-replay', 'restart-replay'];

/** Whether `rung` needs a complete checkpoint to run. */
export function rungNeedsCheckpoint(rung: RemediationRung): boolean {
  return CHECKPOINT_RUNGS.includes(rung);
}

export interface CheckpointSettings {
  /** 0: no periodic checkpoints (only the first agreement and manual ones); else the period. */
  readonly everyMs: number;
  /** Complete checkpoints kept per replica; older ones RetroVisor made are deleted. */
  readonly keep: number;
}

/** A profile's remediation settings (docs: the "remediation" object), defaults filled in. */
export interface RemediationSettings {
  readonly mode: RemediationMode;
  /** A replica confirmed as the outlier for longer than this triggers remediation. */
  readonly outlierMs: number;
  /** Rungs tried in this order; quarantine is always the implicit last one. Unique, at least one. */
  readonly ladder: readonly RemediationRung[];
  /** A rung succeeds only if the replica agrees again within this. */
  readonly rungTimeoutMs: number;
  readonly checkpoint: CheckpointSettings;
  /** Rungs started per replica in any sliding hour; one more would quarantine it instead. */
  readonly maxRemediationsPerHour: number;
  /** Wait after an episode before the next one on the same replica; doubles per episode. */
  readonly backoffMs: number;
}

export const MIN_OUTLIER_MS = 500;
export const MAX_OUTLIER_MS = 600_000;
/** A revert with memory plus a replay takes seconds; under 5 s every rung would time out. */
export const MIN_RUNG_TIMEOUT_MS = 5_000;
export const MAX_RUNG_TIMEOUT_MS = 1_800_000;
/** A memory snapshot pauses the guest: more often than every 10 s would stall it. */
export const MIN_CHECKPOINT_EVERY_MS = 10_000;
export const MAX_CHECKPOINT_EVERY_MS = 86_400_000;
export const MIN_CHECKPOINTS_KEPT = 1;
export const MAX_CHECKPOINTS_KEPT = 20;
export const MAX_REMEDIATIONS_PER_HOUR = 20;
export const MIN_BACKOFF_MS = 1_000;
/** Also the cap of the doubling backoff: past an hour the rate limit has long taken over. */
export const MAX_BACKOFF_MS = 3_600_000;
const MAX_LADDER_RUNGS = REMEDIATION_RUNGS.length;

/** Observe only, revert then restart, one-minute rungs, no periodic checkpoints, keep three. */
export const DEFAULT_REMEDIATION_SETTINGS: RemediationSettings = {
  mode: 'observe',
  outlierMs: 3_000,
  ladder: ['revert-replay', 'restart-replay'],
  rungTimeoutMs: 60_000,
  checkpoint: { everyMs: 0, keep: 3 },
  maxRemediationsPerHour: 3,
  backoffMs: 30_000,
};

/** A profile's remediation settings, defaults for a profile built without them. */
export function remediationSettingsOf(profile: { readonly remediation?: RemediationSettings }): RemediationSettings {
  return profile.remediation ?? DEFAULT_REMEDIATION_SETTINGS;
}

function readMode(value: Json, path: string, problems: ProblemSink): RemediationMode | undefined {
  const mode = REMEDIATION_MODES.find((candidate) => candidate === value);
  if (mode === undefined) {
    problems.add(path, `must be "observe" (only report), "confirm" (ask first) or "auto" (act alone), found ${describe(value)}`);
  }
  return mode;
}

function readLadder(value: Json, path: string, problems: ProblemSink): RemediationRung[] | undefined {
  if (!Array.isArray(value)) {
    problems.add(path, `must be an array of rungs such as ["revert-replay", "restart-replay"], found ${describe(value)}`);
    return undefined;
  }
  if (value.length === 0 || value.length > MAX_LADDER_RUNGS) {
    problems.add(path, `must name 1 to ${MAX_LADDER_RUNGS} rungs (quarantine always follows the last), found ${value.length}`);
    return undefined;
  }
  const ladder: RemediationRung[] = [];
  let valid = true;
  value.forEach((entry: Json, index: number) => {
    const entryPath = `${path}[${index}]`;
    const rung = REMEDIATION_RUNGS.find((candidate) => candidate === entry);
    if (rung === undefined) {
      valid = false;
      if (entry === 'quarantine') problems.add(entryPath, 'quarantine is always the implicit last rung; do not list it');
      else problems.add(entryPath, `${describe(entry)} is not a rung; expected one of: ${REMEDIATION_RUNGS.join(', ')}`);
      return;
    }
    const earlier = ladder.indexOf(rung);
    if (earlier >= 0) {
      valid = false;
      problems.add(entryPath, `"${rung}" is already in the ladder at [${earlier}]; each rung appears once`);
    }
    ladder.push(rung);
  });
  return valid ? ladder : undefined;
}

function readCheckpoint(value: Json, path: string, problems: ProblemSink): CheckpointSettings | undefined {
  const defaults = DEFAULT_REMEDIATION_SETTINGS.checkpoint;
  if (value === undefined) return defaults;
  if (!isObject(value)) {
    problems.add(path, `must be an object like {"everyMs": 0, "keep": 3}, found ${describe(value)}`);
    return undefined;
  }
  checkUnknownKeys(value, ['everyMs', 'keep'], path, problems);
  let everyMs: number | undefined = defaults.everyMs;
  if (value.everyMs !== undefined) {
    const raw = value.everyMs;
    const ok = typeof raw === 'number' && Number.isInteger(raw) && (raw === 0 || (raw >= MIN_CHECKPOINT_EVERY_MS && raw <= MAX_CHECKPOINT_EVERY_MS));
    if (ok) everyMs = raw;
    else {
      problems.add(
        `${path}.everyMs`,
        `must be 0 (no periodic checkpoints) or a period in milliseconds from ${MIN_CHECKPOINT_EVERY_MS} to ${MAX_CHECKPOINT_EVERY_MS}, found ${describe(raw)}`,
      );
      everyMs = undefined;
    }
  }
  const keep =
    value.keep === undefined ? defaults.keep : readInteger(value.keep, `${path}.keep`, problems, MIN_CHECKPOINTS_KEPT, MAX_CHECKPOINTS_KEPT, 'a number of complete checkpoints to keep');
  if (everyMs === undefined || keep === undefined) return undefined;
  return { everyMs, keep };
}

/** Validates the profile's optional "remediation" object; undefined when a problem was reported. */
export function readRemediation(value: Json, path: string, problems: ProblemSink): RemediationSettings | undefined {
  const defaults = DEFAULT_REMEDIATION_SETTINGS;
  if (value === undefined) return defaults;
  if (!isObject(value)) {
    problems.add(path, `must be an object like {"mode": "observe", "ladder": ["revert-replay", "restart-replay"]}, found ${describe(value)}`);
    return undefined;
  }
  checkUnknownKeys(value, ['mode', 'outlierMs', 'ladder', 'rungTimeoutMs', 'checkpoint', 'maxRemediationsPerHour', 'backoffMs'], path, problems);
  const mode = value.mode === undefined ? defaults.mode : readMode(value.mode, `${path}.mode`, problems);
  const outlierMs =
    value.outlierMs === undefined ? defaults.outlierMs : readInteger(value.outlierMs, `${path}.outlierMs`, problems, MIN_OUTLIER_MS, MAX_OUTLIER_MS, 'a time in milliseconds');
  const ladder = value.ladder === undefined ? defaults.ladder : readLadder(value.ladder, `${path}.ladder`, problems);
  const rungTimeoutMs =
    value.rungTimeoutMs === undefined
      ? defaults.rungTimeoutMs
      : readInteger(value.rungTimeoutMs, `${path}.rungTimeoutMs`, problems, MIN_RUNG_TIMEOUT_MS, MAX_RUNG_TIMEOUT_MS, 'a time in milliseconds');
  const checkpoint = readCheckpoint(value.checkpoint, `${path}.checkpoint`, problems);
  const maxRemediationsPerHour =
    value.maxRemediationsPerHour === undefined
      ? defaults.maxRemediationsPerHour
      : readInteger(value.maxRemediationsPerHour, `${path}.maxRemediationsPerHour`, problems, 1, MAX_REMEDIATIONS_PER_HOUR, 'a number of rungs per replica and hour');
  const backoffMs =
    value.backoffMs === undefined ? defaults.backoffMs : readInteger(value.backoffMs, `${path}.backoffMs`, problems, MIN_BACKOFF_MS, MAX_BACKOFF_MS, 'a time in milliseconds');
  if (
    mode === undefined ||
    outlierMs === undefined ||
    ladder === undefined ||
    rungTimeoutMs === undefined ||
    checkpoint === undefined ||
    maxRemediationsPerHour === undefined ||
    backoffMs === undefined
  ) {
    return undefined;
  }
  return { mode, outlierMs, ladder, rungTimeoutMs, checkpoint, maxRemediationsPerHour, backoffMs };
}

/**
 * Cross-field check: a mode that acts (confirm, auto) needs every replica's L0 and libvirt domain.
 * Reads the raw replica entries so each problem carries the entry's own index.
 */
export function checkRemediationTargets(settings: RemediationSettings, replicas: Json, path: string, problems: ProblemSink): void {
  if (settings.mode === 'observe' || !Array.isArray(replicas)) return;
  replicas.forEach((entry: Json, index: number) => {
    if (!isObject(entry)) return;
    const missing: string[] = [];
    if (entry.l0 === undefined) missing.push('"l0" (the name of its L0 host in $.l0)');
    // A simulated L0 (the demo lab) also addresses its replicas by domain name.
    if (entry.domain === undefined) missing.push('"domain" (its libvirt domain name on that L0, also for a simulated L0)');
    if (missing.length > 0) {
      problems.add(`${path}[${index}]`, `remediation mode "${settings.mode}" acts on every replica through its L0: add ${missing.join(' and ')}`);
    }
  });
}
