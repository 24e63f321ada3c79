// What the remediation panel, the confirmation dialog and the replica actions menu say and allow:
// labels, one-line audit entries, which action fits which manager state, the evidence to show and
// whether the panel fits beside the screen. Pure functions over plain data: tested in plain Node.

import type {
  AuditEntry,
  CheckpointView,
  RemediationAction,
  RemediationMode,
  RemediationReplicaView,
  RemediationView,
  ReplicaActionName,
} from '../../common/contract';
import { REPLICA_ACTION_NAMES } from '../../common/contract';
import type { TimelineEntry } from '../divergence/timeline';

/** A rung or manual action as the UI names it. */
export const REMEDIATION_ACTION_TEXT: Readonly<Record<RemediationAction, string>> = {
  'revert-replay': 'revert + replay',
  'restart-replay': 'restart + replay',
  reset: 'reset',
  reboot: 'reboot',
  quarantine: 'quarantine',
};

/** What each mode means, in one line. */
export const MODE_TEXT: Readonly<Record<RemediationMode, { readonly name: string; readonly meaning: string }>> = {
  observe: { name: 'Observe', meaning: 'Watches and logs what it would do; never acts on a replica.' },
  confirm: { name: 'Confirm', meaning: 'Asks you before each remediation; runs nothing without your yes.' },
  auto: { name: 'Auto', meaning: 'Remediates a replica that keeps disagreeing by itself, one at a time, with a strict majority only.' },
};

/** The actions menu's entries: label, what it does (tooltip), and whether it asks first. */
export const REPLICA_ACTION_TEXT: Readonly<Record<ReplicaActionName, { readonly label: string; readonly title: string; readonly asksFirst: boolean }>> = {
  'domain-state': { label: 'Domain state', title: 'Ask its L0 whether its domain is running', asksFirst: false },
  checkpoint: { label: 'Take checkpoint', title: 'Snapshot every replica at one consistent moment (they must all agree)', asksFirst: false },
  'revert-replay': { label: 'Revert + replay', title: 'Revert it to the newest complete checkpoint, then replay the input sent since', asksFirst: false },
  'restart-replay': { label: 'Restart + replay', title: 'Destroy and start its domain, revert it to the checkpoint, replay the input sent since', asksFirst: false },
  reset: { label: 'Reset', title: 'Press its reset button: the guest reboots fresh and cannot rejoin the others without a checkpoint', asksFirst: true },
  reboot: { label: 'Reboot', title: 'Ask its guest to reboot: it comes back fresh and cannot rejoin the others without a checkpoint', asksFirst: true },
  destroy: { label: 'Destroy', title: 'Pull the plug: its domain is shut off at once', asksFirst: true },
  start: { label: 'Start', title: 'Boot its domain', asksFirst: false },
  include: { label: 'Include again', title: 'Give it input and a vote again, without a replay', asksFirst: false },
};

/** What a destructive action does, for the question asked before it runs. */
export function actionQuestion(action: ReplicaActionName, label: string): string {
  switch (action) {
    case 'destroy':
      return `Destroy ${label}'s domain? It is shut off at once, like pulling the plug.`;
    case 'reset':
      return `Reset ${label}? Its guest reboots fresh and stays apart from the others until reverted to a checkpoint.`;
    case 'reboot':
      return `Reboot ${label}? Its guest restarts and stays apart from the others until reverted to a checkpoint.`;
    default:
      return `${REPLICA_ACTION_TEXT[action].label} on ${label}?`;
  }
}

/** How a manager state reads at a glance. */
export type RemediationTone = 'ok' | 'warn' | 'busy' | 'bad' | 'off';

/** A replica's manager state in words ("Remediating: revert + replay") and its tone. */
export function replicaStateText(replica: Pick<RemediationReplicaView, 'state' | 'action'>): { readonly text: string; readonly tone: RemediationTone } {
  const action = replica.action === undefined ? null : REMEDIATION_ACTION_TEXT[replica.action];
  switch (replica.state) {
    case 'healthy':
      return { text: 'Healthy', tone: 'ok' };
    case 'suspect':
      return { text: 'Suspect', tone: 'warn' };
    case 'planned':
      return { text: action === null ? 'Planned' : `Planned: ${action}`, tone: 'warn' };
    case 'awaiting-confirmation':
      // The action is in the question and the detail; the state stays short enough for the panel.
      return { text: 'Awaiting confirmation', tone: 'warn' };
    case 'remediating':
      return { text: action === null ? 'Remediating' : `Remediating: ${action}`, tone: 'busy' };
    case 'quarantined':
      return { text: 'Quarantined', tone: 'bad' };
    default:
      return { text: replica.state, tone: 'off' };
  }
}

/** The manager's words about a replica, unless they only repeat its state ("healthy"). */
export function replicaDetailText(replica: Pick<RemediationReplicaView, 'state' | 'action' | 'detail'>): string | null {
  const detail = replica.detail.trim();
  if (detail === '') return null;
  const plain = (text: string): string => text.toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim();
  return plain(detail) === plain(replica.state) || plain(detail) === plain(replicaStateText(replica).text) ? null : detail;
}

/** The panel's one-line status: what needs the user first, then what the manager is doing. */
export function remediationSummary(view: Pick<RemediationView, 'replicas' | 'pending'>, nameOf: (replicaId: string) => string): string {
  const first = view.pending[0];
  if (first !== undefined) return `${nameOf(first.replicaId)} awaits your answer`;
  const named = (state: string): string[] => view.replicas.filter((replica) => replica.state === state).map((replica) => nameOf(replica.replicaId));
  const remediating = named('remediating');
  if (remediating.length > 0) return `Remediating ${remediating.join(', ')}`;
  const quarantined = named('quarantined');
  if (quarantined.length > 0) return `${quarantined.join(', ')} quarantined`;
  const watched = [...named('suspect'), ...named('planned'), ...named('awaiting-confirmation')];
  if (watched.length > 0) return `Watching ${watched.join(', ')}`;
  return view.replicas.length === 0 ? 'No replicas' : 'Every replica healthy';
}

/** The thumbnail's badge: only while the manager works on the replica or has set it apart. */
export function remediationBadgeText(replica: Pick<RemediationReplicaView, 'state' | 'action'> | undefined): string | null {
  if (replica === undefined) return null;
  if (replica.state === 'quarantined') return 'quarantined';
  if (replica.state === 'remediating') return replica.action === undefined ? 'remediating' : REMEDIATION_ACTION_TEXT[replica.action];
  return null;
}

/** Whether an action can be asked for now, and if not, why (the menu item's tooltip). */
export interface ActionAvailability {
  readonly enabled: boolean;
  readonly reason: string | null;
}

/** The actions the menu lists for a replica in `state` ("Include again" only while quarantined). */
export function visibleReplicaActions(state: string | undefined): readonly ReplicaActionName[] {
  return REPLICA_ACTION_NAMES.filter((action) => action !== 'include' || state === 'quarantined');
}

const NO_L0_REASON = 'The profile gives this replica no "l0" and "domain": RetroVisor cannot act on its domain';

/**
 * Whether `action` fits a replica in manager state `state`. The back end checks again (majority,
 * checkpoints, rate limit); this only keeps the menu from offering what cannot work now.
 */
export function replicaActionAvailability(action: ReplicaActionName, state: string | undefined, canAct: boolean): ActionAvailability {
  if (action === 'include') {
    return state === 'quarantined' ? { enabled: true, reason: null } : { enabled: false, reason: 'Only a quarantined replica is included again' };
  }
  if (!canAct) return { enabled: false, reason: NO_L0_REASON };
  if (state === 'remediating' && action !== 'domain-state') {
    return { enabled: false, reason: 'A remediation runs on it now: wait for it to end' };
  }
  if ((state === 'planned' || state === 'awaiting-confirmation') && (action === 'revert-replay' || action === 'restart-replay' || action === 'reset' || action === 'reboot')) {
    return { enabled: false, reason: 'A remediation is planned for it: answer or let it run first' };
  }
  return { enabled: true, reason: null };
}

/** Why the actions button is disabled, or null when it opens its menu. */
export function actionsMenuBlocked(view: Pick<RemediationView, 'canAct'> | null, state: string | undefined): string | null {
  if (view === null) return 'The remediation manager has not answered yet';
  if (!view.canAct && state !== 'quarantined') return NO_L0_REASON;
  return null;
}

/** The key of a request on its way (the store's remediationRequests). */
export function remediationRequestKey(kind: 'checkpoint'): string;
export function remediationRequestKey(kind: 'plan', planId: string): string;
export function remediationRequestKey(kind: 'action', replicaId: string, action: ReplicaActionName): string;
export function remediationRequestKey(kind: 'checkpoint' | 'plan' | 'action', id?: string, action?: ReplicaActionName): string {
  if (kind === 'checkpoint') return 'checkpoint';
  if (kind === 'plan') return `plan:${id ?? ''}`;
  return `action:${id ?? ''}:${action ?? ''}`;
}

// ---------------------------------------------------------------------------------------------
// Times and the audit log.

function two(value: number): string {
  return String(value).padStart(2, '0');
}

/** "14:03:07" in local time. */
export function clockTime(atMs: number): string {
  const date = new Date(atMs);
  return `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}`;
}

/** "812 ms", "4.2 s", "3 min 5 s". */
export function formatDuration(durationMs: number): string {
  const ms = Math.max(0, Math.round(durationMs));
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

/** "backoff until 14:03:07 (25 s left)", or null when none is in force at `nowMs`. */
export function backoffText(backoffUntilMs: number | undefined, nowMs: number): string | null {
  if (backoffUntilMs === undefined || backoffUntilMs <= nowMs) return null;
  const seconds = Math.ceil((backoffUntilMs - nowMs) / 1000);
  const left = seconds < 60 ? `${seconds} s` : `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  return `backoff until ${clockTime(backoffUntilMs)} (${left} left)`;
}

/** A checkpoint's outcome in words: "complete", or which replicas' snapshots failed. */
export function checkpointOutcomeText(checkpoint: Pick<CheckpointView, 'complete' | 'failed'>, nameOf: (replicaId: string) => string): string {
  if (checkpoint.complete) return 'complete';
  return checkpoint.failed.length === 0 ? 'incomplete' : `failed on ${checkpoint.failed.map(nameOf).join(', ')}`;
}

/** The newest complete checkpoint (the one a revert goes to), or null. */
export function newestCompleteCheckpoint(checkpoints: readonly CheckpointView[]): CheckpointView | null {
  let newest: CheckpointView | null = null;
  for (const checkpoint of checkpoints) if (checkpoint.complete && (newest === null || checkpoint.takenAtMs >= newest.takenAtMs)) newest = checkpoint;
  return newest;
}

/** Checkpoints newest first (the view keeps them in the manager's order). */
export function checkpointsNewestFirst(checkpoints: readonly CheckpointView[]): readonly CheckpointView[] {
  return [...checkpoints].sort((a, b) => b.takenAtMs - a.takenAtMs || b.seq - a.seq);
}

/** One argument as a shell would need it to read unambiguously (plain words stay as they are). */
function shellWord(argument: string): string {
  if (argument !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(argument)) return argument;
  return `'${argument.replace(/'/g, `'\\''`)}'`;
}

/** An argument vector as one line: the words joined by spaces, quoted only where needed. */
export function commandText(argv: readonly string[]): string {
  return argv.map(shellWord).join(' ');
}

/** One audit entry as the panel shows it. */
export interface AuditLine {
  readonly time: string;
  readonly kind: AuditEntry['kind'];
  /** A command's argv joined, else the entry's detail. */
  readonly text: string;
  /** "Demo 2 · revert-replay · succeeded", "on l0-a · exit 0 · 812 ms". */
  readonly meta: string;
  /** A failed command's stderr excerpt. */
  readonly stderr: string | null;
  readonly tone: RemediationTone;
}

const BAD_OUTCOMES = new Set(['failed', 'refused', 'timeout', 'quarantined']);

/** The panel's line for one audit entry. */
export function auditLine(entry: AuditEntry, nameOf: (replicaId: string) => string): AuditLine {
  const isCommand = entry.kind === 'command';
  const argv = entry.argv ?? [];
  const exitText = entry.exitStatus === undefined ? null : entry.exitStatus === null ? 'no exit status' : `exit ${entry.exitStatus}`;
  const commandFailed = isCommand && ((entry.exitStatus !== undefined && entry.exitStatus !== 0) || entry.outcome !== 'succeeded');
  const meta = isCommand
    ? [entry.replicaId === undefined ? null : nameOf(entry.replicaId), entry.l0 === undefined ? null : `on ${entry.l0}`, exitText, entry.durationMs === undefined ? null : formatDuration(entry.durationMs), entry.outcome === 'succeeded' ? null : entry.outcome]
    : [entry.replicaId === undefined ? null : nameOf(entry.replicaId), entry.action ?? null, entry.outcome];
  const tone: RemediationTone =
    commandFailed || BAD_OUTCOMES.has(entry.outcome) ? 'bad' : entry.kind === 'alert' ? 'warn' : entry.outcome === 'succeeded' ? 'ok' : entry.outcome === 'started' ? 'busy' : 'off';
  const stderr = entry.stderr !== undefined && entry.stderr.trim() !== '' && commandFailed ? entry.stderr.trim() : null;
  return {
    time: clockTime(entry.timeMs),
    kind: entry.kind,
    text: isCommand && argv.length > 0 ? commandText(argv) : entry.detail,
    meta: meta.filter((part): part is string => part !== null && part !== '').join(' · '),
    stderr,
    tone,
  };
}

/** At most `max` audit entries, newest first (the view keeps them newest last). */
export function newestAuditFirst(audit: readonly AuditEntry[], max: number): readonly AuditEntry[] {
  return audit.slice(Math.max(0, audit.length - max)).reverse();
}

// ---------------------------------------------------------------------------------------------
// The confirmation's evidence.

/** The screens to show beside a confirmation: the replica's and a majority replica's, when the timeline has them. */
export interface ConfirmationEvidence {
  readonly entryId: number;
  readonly atMs: number;
  readonly subjectUrl: string | null;
  /** The agreeing replica shown (and the diff view's reference), or null when the entry names none. */
  readonly majorityId: string | null;
  readonly majorityUrl: string | null;
}

/**
 * The newest divergence entry (new or changed) in which `replicaId` is an outlier and that has
 * pictures; the newest such entry without pictures still names the majority. Null when none.
 */
export function confirmationEvidence(timeline: readonly TimelineEntry[], replicaId: string): ConfirmationEvidence | null {
  let firstWithoutPictures: TimelineEntry | null = null;
  for (const entry of timeline) {
    if ((entry.kind !== 'new' && entry.kind !== 'changed') || !entry.outliers.includes(replicaId)) continue;
    const subject = entry.screenshots.find((shot) => shot.replicaId === replicaId && shot.url !== null) ?? null;
    const majority = entry.agreeing.map((id) => entry.screenshots.find((shot) => shot.replicaId === id && shot.url !== null)).find((shot) => shot !== undefined) ?? null;
    if (subject === null && majority === null) {
      firstWithoutPictures ??= entry;
      continue;
    }
    return { entryId: entry.id, atMs: entry.atMs, subjectUrl: subject?.url ?? null, majorityId: majority?.replicaId ?? entry.agreeing[0] ?? null, majorityUrl: majority?.url ?? null };
  }
  if (firstWithoutPictures === null) return null;
  return { entryId: firstWithoutPictures.id, atMs: firstWithoutPictures.atMs, subjectUrl: null, majorityId: firstWithoutPictures.agreeing[0] ?? null, majorityUrl: null };
}

/** What the planned action will do, in one sentence for the confirmation. */
export function plannedActionText(action: RemediationAction, label: string, checkpoint: CheckpointView | null): string {
  const target = checkpoint === null ? 'the newest complete checkpoint (there is none yet: it will fail)' : `checkpoint ${checkpoint.name} (input #${checkpoint.seq}, ${clockTime(checkpoint.takenAtMs)})`;
  switch (action) {
    case 'revert-replay':
      return `${label} is reverted to ${target}, then the input the others received since is replayed into it alone; it gets no live input meanwhile.`;
    case 'restart-replay':
      return `${label}'s domain is destroyed and started again, reverted to ${target}, then the input since is replayed into it alone.`;
    case 'reset':
      return `${label}'s guest is reset: it reboots fresh and cannot rejoin the others without a checkpoint.`;
    case 'reboot':
      return `${label}'s guest is rebooted: it restarts fresh and cannot rejoin the others without a checkpoint.`;
    case 'quarantine':
      return `${label} is quarantined: no input, no vote, the others go on.`;
  }
}

// ---------------------------------------------------------------------------------------------
// Layout.

/** The stage keeps at least this width beside the docked panel; narrower, the panel folds to its rail. */
export const MIN_STAGE_WIDTH_PX = 520;
/** Width the docked panel takes beyond its rail (styles.css: .remediation-panel 300px, its rail 38px). */
export const PANEL_EXTRA_WIDTH_PX = 300 - 38;

/**
 * Whether the docked panel leaves the stage at least `minStagePx`. `stageWidthPx` is measured with the
 * panel as it is now (docked, or its rail), so the answer does not flip once the panel folds.
 * A width of 0 is a measurement like any other: the side panels can squeeze the stage to nothing
 * (a window shrunk in one step with the timeline open), and then the panel must fold. The first
 * measurement comes in a layout effect, before anything is painted, so no unmeasured 0 is ever shown.
 */
export function dockedPanelFits(stageWidthPx: number, docked: boolean, extraPx = PANEL_EXTRA_WIDTH_PX, minStagePx = MIN_STAGE_WIDTH_PX): boolean {
  return (docked ? stageWidthPx : stageWidthPx - extraPx) >= minStagePx;
}
