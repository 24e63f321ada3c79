// THE contract between the UI and the back end: every call and event, declared once with its types
// and a runtime check of its request. Both shells (Electron IPC, the browser shell's WebSocket)
// implement exactly this; no other file spells a channel name.

import type { ConnectionTestReport } from './connection-test';
import { NOTIFICATION_KINDS, type DesktopEvent, type DesktopSummary, type NotificationKind, type NotificationSettings } from './desktop-status';
import type { DomainState } from './l0';
import { MAX_PROFILE_BYTES, MAX_REPLICAS, PROFILE_ID_PATTERN, type DivergenceSettings, type ProfileProblem } from './profile';
import type { ImportProblem } from './profile-import/import-types';
import type { ImportInput } from './profile-import/import-profile';
import type { ReplicaStateName } from './replica-state';
import type { InputJournalEntry } from './input/input-events';
import { MAX_JOURNAL_BATCH, parseJournalEntry } from './input/input-journal';
import type { InputScriptStep } from './input/input-script';

/** What the UI may know of a replica: never a secret. */
export interface ReplicaSummary {
  readonly id: string;
  readonly label: string;
  /** "127.0.0.1:5901", or "127.0.0.1:5901 via l0-a" for a tunnelled replica. */
  readonly endpoint: string;
  readonly tunnel: boolean;
  /** The profile supplies a password (the UI asks the back end for it when the server wants one). */
  readonly hasPassword: boolean;
}

export interface SessionInfo {
  readonly sessionId: string;
  readonly name: string;
  /** Where the profile came from: a file path, a dropped file's name, or "quick connect". */
  readonly source: string;
  readonly replicas: readonly ReplicaSummary[];
  /**
   * The profile's divergence detection settings (docs/profiles.md); `enabled: false` means the UI
   * does not compare this session's screens at all. Absent: DEFAULT_DIVERGENCE_SETTINGS.
   */
  readonly divergence?: DivergenceSettings;
}

export type OpenResult =
  | { readonly ok: true; readonly session: SessionInfo }
  | {
      readonly ok: false;
      readonly problems: readonly ProfileProblem[];
      /** The profile file's full path when the back end read it (the UI names it above the problems). */
      readonly source?: string;
    };

export interface StartupInfo {
  readonly shell: 'electron' | 'browser';
  readonly version: string;
  /** True under `retrovisor run`: no person is watching, connect everything at once. */
  readonly headless: boolean;
  /** The profile named on the command line (--profile), already opened, or null. */
  readonly startupSession: OpenResult | null;
  /** `retrovisor run --script`: steps to play into the startup session once its replicas are connected. */
  readonly startupScript?: readonly InputScriptStep[];
  /** How the startup script waits for replicas (absent: every replica, SCRIPT_CONNECT_TIMEOUT_MS). */
  readonly startupScriptOptions?: StartupScriptOptions;
}

/** How long `retrovisor run --script` waits for every replica by default. */
export const DEFAULT_SCRIPT_CONNECT_TIMEOUT_MS = 60_000;

/** `retrovisor run --script`: how long to wait for the replicas, and whether all of them are required. */
export interface StartupScriptOptions {
  /** true (`--require-all`): the script runs only once every replica is connected. */
  readonly requireAll: boolean;
  /** How long to wait for every replica before running on a connected strict majority (or failing). */
  readonly connectTimeoutMs: number;
}

export interface ReplicaStatusReport {
  readonly sessionId: string;
  readonly replicaId: string;
  readonly state: ReplicaStateName;
  readonly width?: number;
  readonly height?: number;
  /** At most MAX_REPLICA_REASON_CHARS: the UI clips a longer one (a server chooses its failure text). */
  readonly reason?: string;
}

/** Longest failure reason a replica state report carries; the UI clips longer ones before sending. */
export const MAX_REPLICA_REASON_CHARS = 1024;

/** How the startup script ended. */
export interface ScriptResult {
  readonly sessionId: string;
  readonly ok: boolean;
  readonly stepsRun: number;
  /** Why it stopped (a step failed, replicas never connected). */
  readonly error?: string;
  /** Replicas the script ran without (not connected when it started: they got none of its input). */
  readonly without?: readonly string[];
}

export interface Notice {
  readonly level: 'info' | 'warning' | 'error';
  readonly message: string;
}

/** A framebuffer rectangle in a divergence report (same shape as common/divergence's PixelRect). */
export interface ReportedRegion {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/**
 * The UI's divergence detection reports a confirmed divergence ('divergence': new or
 * changed) or that every replica agrees again ('consensus'); see docs/divergence.md.
 */
export interface DivergenceReport {
  readonly sessionId: string;
  readonly kind: 'divergence' | 'consensus';
  /** The engine's id of the divergence ("d1"); absent for consensus. */
  readonly divergenceId?: string;
  /** 'new': first confirmed (the back end starts an evidence folder); 'changed': its regions or split moved. */
  readonly change?: 'new' | 'changed';
  /** 'pixels': screen contents differ; 'size': desktop sizes differ. */
  readonly divergenceKind?: 'pixels' | 'size';
  readonly outliers: readonly string[];
  readonly agreeing: readonly string[];
  readonly regions: readonly ReportedRegion[];
  readonly noMajority: boolean;
  /** The last input broadcast sequence number sent before the divergence (none sent: absent). */
  readonly inputSeq?: number;
  /**
   * With change 'changed': the divergence grew within the confirm window after its 'new' report, so the
   * back end rewrites that report's evidence (record, then the screens sent again) instead of keeping a
   * record of only its first moment.
   */
  readonly amendsEvidence?: boolean;
}

/** One replica's screen for a divergence's evidence folder: a PNG, base64 (the back end re-encodes it). */
export interface DivergenceScreen {
  readonly sessionId: string;
  /** From reportDivergence's answer: names the evidence folder the back end made. */
  readonly evidenceId: string;
  readonly replicaId: string;
  readonly pngBase64: string;
}

/** Most regions one divergence report carries (more are merged by the UI into their bounding box). */
export const MAX_REPORTED_REGIONS = 256;
/** Largest base64 PNG one DivergenceScreen carries (the RPC message limit is 4 Mi characters). */
export const MAX_EVIDENCE_PNG_BASE64_CHARS = 3 * 1024 * 1024;

/** What the demo panel can ask of a demo replica's simulated L0 (virsh's verbs). */
export type DemoL0Action = 'reset' | 'destroy' | 'start' | 'snapshot-create' | 'snapshot-revert';

/** Every DemoL0Action, in the order the demo panel shows them. */
export const DEMO_L0_ACTIONS: readonly DemoL0Action[] = ['reset', 'destroy', 'start', 'snapshot-create', 'snapshot-revert'];

/** One replica of the built-in demo lab, as the demo panel shows it. */
export interface DemoReplicaStatus {
  readonly id: string;
  readonly label: string;
  /** "127.0.0.1:PORT" */
  readonly endpoint: string;
  /** Its domain's state on the simulated L0: 'running', 'shut off' or 'crashed'. */
  readonly domainState: DomainState;
  /** Lasting faults in force, in their command-line form without the replica: "lag=200", "drop-key=5", "freeze". */
  readonly faults: readonly string[];
  /** Snapshot names on the simulated L0, oldest first (snapshot-revert restores the newest). */
  readonly snapshots: readonly string[];
}

/** The built-in demo lab as the back end runs it. */
export interface DemoStatus {
  /** False while no lab runs (before the first startDemoLab); `replicas` is then empty. */
  readonly running: boolean;
  /** The open sessions that show the lab: the UI shows the demo panel for these. */
  readonly sessionIds: readonly string[];
  readonly replicas: readonly DemoReplicaStatus[];
}

// ---------------------------------------------------------------------------------------------
// The remediation manager (docs/remediation.md). It runs in the back end; what only the UI can do
// (hold input, replay the journal into one replica, judge agreement) it asks of the UI as commands,
// which the UI answers once each.

/** How the manager reacts to a replica that keeps disagreeing (the profile's `remediation.mode`). */
export type RemediationMode = 'observe' | 'confirm' | 'auto';

/** A step of the remediation ladder, or a manual action from a replica's actions menu. */
export type RemediationAction = 'revert-replay' | 'restart-replay' | 'reset' | 'reboot' | 'quarantine';

/** What a replica's actions menu can ask of the manager. */
export type ReplicaActionName = 'domain-state' | 'checkpoint' | 'revert-replay' | 'restart-replay' | 'reset' | 'reboot' | 'destroy' | 'start' | 'include';

/** Every ReplicaActionName, in the order the actions menu shows them. */
export const REPLICA_ACTION_NAMES: readonly ReplicaActionName[] = ['domain-state', 'checkpoint', 'revert-replay', 'restart-replay', 'reset', 'reboot', 'destroy', 'start', 'include'];

/**
 * A command the manager asks the UI to carry out for one session; answered with answerManagerCommand.
 * - hold-input: queue every new input (nothing is dropped), wait until everything sent is written;
 *   answers the last input sequence number sent (a checkpoint records it).
 * - release-input: send what was queued and go on.
 * - await-agreement: answers once every listed replica is connected, compared and agrees with the
 *   others for `quietMs` (agreed: true), or after `timeoutMs` with the outliers seen (agreed: false).
 * - isolate: the replica gets no input (what the others get is kept for its replay) and has no vote.
 * - reconnect: reconnect the replica's VNC session now (its server restarted); answers once connected.
 * - replay: send the replica, alone and paced, every input `donorId` received after `afterSeq`, then
 *   everything the others received since it was isolated, and put it back into the broadcast and the
 *   vote in the same step; answers how many inputs were replayed.
 * - rejoin: back into the broadcast and the vote without a replay (a manual "include again").
 */
export type ManagerCommand =
  | { readonly type: 'hold-input' }
  | { readonly type: 'release-input' }
  | { readonly type: 'await-agreement'; readonly replicaIds: readonly string[]; readonly quietMs: number; readonly timeoutMs: number }
  | { readonly type: 'isolate'; readonly replicaId: string }
  | { readonly type: 'reconnect'; readonly replicaId: string; readonly timeoutMs: number }
  | { readonly type: 'replay'; readonly replicaId: string; readonly donorId: string; readonly afterSeq: number; readonly timeoutMs: number }
  | { readonly type: 'rejoin'; readonly replicaId: string };

/** The event that carries a ManagerCommand to the UI. */
export interface ManagerCommandEvent {
  readonly sessionId: string;
  /** Unique per back end; the answer names it. */
  readonly commandId: string;
  readonly command: ManagerCommand;
}

/** The UI's answer to one ManagerCommand. */
export interface ManagerCommandAnswer {
  readonly sessionId: string;
  readonly commandId: string;
  readonly ok: boolean;
  /** Why it failed, in words for the user. */
  readonly error?: string;
  /** hold-input, isolate: the last input sequence number sent (0 before any input). */
  readonly seq?: number;
  /** await-agreement: whether they agreed, and who did not. */
  readonly agreed?: boolean;
  readonly outliers?: readonly string[];
  /** replay: inputs replayed. */
  readonly replayed?: number;
}

/** A replica's place in the manager's lifecycle, as the UI shows it. */
export interface RemediationReplicaView {
  readonly replicaId: string;
  /** 'healthy' | 'suspect' | 'planned' | 'awaiting-confirmation' | 'remediating' | 'quarantined' */
  readonly state: string;
  /** The rung running or planned, when there is one. */
  readonly action?: RemediationAction;
  /** What the manager last decided about this replica, in words. */
  readonly detail: string;
  /** Remediations started in the last hour. */
  readonly attemptsLastHour: number;
  /** Wall-clock ms until which no new remediation starts (backoff), when one is in force. */
  readonly backoffUntilMs?: number;
}

/** A checkpoint: one libvirt snapshot per replica taken at one consistent moment. */
export interface CheckpointView {
  readonly name: string;
  /** The input journal's sequence number at the moment it was taken. */
  readonly seq: number;
  readonly takenAtMs: number;
  /** Every replica's snapshot succeeded: only complete checkpoints are ever reverted to. */
  readonly complete: boolean;
  readonly failed: readonly string[];
}

/** A remediation waiting for the user's go-ahead (mode "confirm"). */
export interface PendingConfirmation {
  readonly planId: string;
  readonly replicaId: string;
  readonly action: RemediationAction;
  readonly reason: string;
  /** The evidence folder of the divergence that triggered it, when there is one. */
  readonly evidenceFolder?: string;
}

/** One line of the audit log (also appended, as JSON, to the profile's audit.jsonl). */
export interface AuditEntry {
  readonly timeMs: number;
  readonly kind: 'decision' | 'command' | 'checkpoint' | 'remediation' | 'alert';
  readonly replicaId?: string;
  readonly l0?: string;
  /** The exact argument vector of a command run on an L0. */
  readonly argv?: readonly string[];
  readonly exitStatus?: number | null;
  readonly durationMs?: number;
  readonly stderr?: string;
  readonly action?: string;
  /** 'planned' | 'started' | 'succeeded' | 'failed' | 'skipped' | 'would-act' ... */
  readonly outcome: string;
  readonly detail: string;
}

/** The manager of one session, as the UI shows it. */
export interface RemediationView {
  readonly sessionId: string;
  readonly mode: RemediationMode;
  /** False when the profile names no L0 for a replica: only observing is possible. */
  readonly canAct: boolean;
  readonly replicas: readonly RemediationReplicaView[];
  readonly checkpoints: readonly CheckpointView[];
  readonly pending: readonly PendingConfirmation[];
  /** Newest last; at most MAX_AUDIT_ENTRIES_IN_VIEW. */
  readonly audit: readonly AuditEntry[];
  /** The audit log file, when one is written. */
  readonly auditFile?: string;
}

/**
 * What the back end remembers for the user between launches (`preferences.json` in its data folder,
 * docs/profiles.md). Never a secret: quick-connect passwords are not kept anywhere.
 */
export interface UserPreferences {
  /** Quick-connect endpoint sets that opened, most recent first, each as "host::port" in order. */
  readonly recentEndpoints: readonly (readonly string[])[];
  /** Ask before sending Ctrl+Alt+Del or Ctrl+Alt+Backspace from the Keys menu (false: "don't ask again"). */
  readonly confirmSystemKeys: boolean;
  /** Electron: closing the window keeps RetroVisor monitoring in the tray (docs/desktop.md). */
  readonly closeToTray: boolean;
  /** The "still running in the tray" notification was shown once already. */
  readonly closeToTrayNoticeShown: boolean;
  /** Which notifications show, and do-not-disturb (both shells). */
  readonly notifications: NotificationSettings;
}

/** What the desktop status pushes: the summary now and what just happened (docs/desktop.md). */
export interface DesktopStatusUpdate {
  readonly summary: DesktopSummary;
  /** Events since the last update, oldest first (the browser shell's notifications follow them). */
  readonly events: readonly DesktopEvent[];
}

/**
 * What the tray or a notification asks of the UI: focus a replica's newest timeline entry (a
 * notification's click), pause or resume a session's broadcast, open a saved profile.
 */
export type DesktopRequest =
  | { readonly type: 'focus-replica'; readonly sessionId: string; readonly replicaId: string | null }
  | { readonly type: 'set-broadcast'; readonly sessionId: string; readonly enabled: boolean }
  | { readonly type: 'open-saved-profile'; readonly id: string };

/** Audit entries a RemediationView carries (the file keeps all). */
export const MAX_AUDIT_ENTRIES_IN_VIEW = 200;
/** Most journal entries one readInputJournal answer carries. */
export const MAX_JOURNAL_READ = 4096;

// ---------------------------------------------------------------------------------------------
// The profile library (docs/profiles.md, "The profile library"): saved profiles in the data folder.

/** A saved profile as the start screen lists it. */
export interface SavedProfileSummary {
  /** The library id (the file's name): file-safe, stable across renames. */
  readonly id: string;
  readonly name: string;
  readonly replicaCount: number;
  /** Each replica's VNC endpoint ("127.0.0.1:5901", "10.0.0.5:5900 via a"), for search: never a secret. */
  readonly endpoints: readonly string[];
  /** Raised by every save; a save names the revision it started from. 0: a file not yet saved by the library (v1). */
  readonly revision: number;
  /** ISO 8601 times; null for a file not yet saved by the library. */
  readonly createdAt: string | null;
  readonly updatedAt: string | null;
  readonly lastOpenedAt: string | null;
  /** How its last session went: "all agreed", "r2 diverged", "could not connect"...; null before any. */
  readonly lastState: string | null;
}

/** A library file that did not parse or validate: moved aside (kept), with its problems. */
export interface SetAsideFile {
  /** Its name in profiles/. */
  readonly file: string;
  /** Where it is now (profiles/set-aside/...). */
  readonly movedTo: string;
  readonly problems: readonly ProfileProblem[];
}

/** The library's profiles, most recently opened first, and what had to be set aside or skipped this time. */
export interface ProfileListing {
  readonly profiles: readonly SavedProfileSummary[];
  readonly setAside: readonly SetAsideFile[];
  /** Files left in place but not listed (written by a newer RetroVisor, unreadable), with why. */
  readonly skipped: readonly { readonly file: string; readonly reason: string }[];
}

/** A saved profile's document, for the editor: never a secret value (one held in clear is left out, with a notice). */
export type SavedProfileDocument =
  | { readonly ok: true; readonly id: string; readonly revision: number; readonly document: unknown; readonly notices: readonly string[] }
  | { readonly ok: false; readonly error: string };

/** The outcome of saving (or duplicating, or importing into) a profile. */
export type SaveProfileResult =
  | { readonly kind: 'saved'; readonly id: string; readonly revision: number; readonly notices: readonly string[] }
  /** Someone else saved it since `expectedRevision`: nothing was written. */
  | {
      readonly kind: 'conflict';
      readonly id: string;
      readonly currentRevision: number;
      readonly updatedAt?: string;
      /** What differs between the stored profile and the one being saved: "name", "replica r2", "l0 a"... */
      readonly differences: readonly string[];
    }
  | { readonly kind: 'invalid'; readonly problems: readonly ProfileProblem[] }
  | { readonly kind: 'missing'; readonly id: string; readonly message: string };

/** The outcome of importing files or URIs: a save's, or the sources' own problems (line and key at fault). */
export type ImportProfilesResult = SaveProfileResult | { readonly kind: 'unreadable'; readonly problems: readonly ImportProblem[] };

export interface DeleteProfileResult {
  readonly ok: boolean;
  readonly error?: string;
}

/** A profile exported as RetroVisor JSON without its secrets. */
export interface ExportProfileResult {
  /** A suggested file name ("payments-vm.json"). */
  readonly fileName: string;
  readonly text: string;
  /** One per secret left out. */
  readonly notices: readonly string[];
}

/**
 * Whether typed secrets can be saved on this machine (the keyring of docs/security.md): the editor
 * says beside each password field whether it will be kept, or asked for at connect time.
 */
export type KeyringStatus =
  | { readonly available: true; readonly backend: 'secret-service' | 'electron-safe-storage' }
  | { readonly available: false; readonly reason: string; readonly hint: string };

/** Most sources one importProfiles request carries (a profile has at most MAX_REPLICAS replicas). */
export const MAX_IMPORT_SOURCES = 16;

// ---------------------------------------------------------------------------------------------
// Runtime checks of requests: the back end never trusts the shape of what the UI sends.

/** Thrown when a request does not match its declared shape. */
export class ContractError extends Error {
  override readonly name = 'ContractError';
}

type Parser<T> = (input: unknown) => T;

function record(input: unknown, what: string): Record<string, unknown> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ContractError(`${what}: expected an object`);
  }
  return input as Record<string, unknown>;
}

function text(value: unknown, what: string, maxLength: number): string {
  if (typeof value !== 'string' || value.length > maxLength) {
    throw new ContractError(`${what}: expected a string of at most ${maxLength} characters`);
  }
  return value;
}

function optionalNumber(value: unknown, what: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 1 << 16) {
    throw new ContractError(`${what}: expected an integer from 0 to 65536`);
  }
  return value;
}

const ID_MAX = 128;
const REPLICA_STATE_NAMES: readonly ReplicaStateName[] = [
  'idle',
  'connecting',
  'needs-password',
  'connected',
  'auth-failed',
  'disconnected',
  'reconnecting',
  'closed',
];

const parseNothing: Parser<void> = (input) => {
  if (input !== undefined && input !== null) throw new ContractError('this call takes no request');
};

const parseSessionReplica: Parser<{ sessionId: string; replicaId: string }> = (input) => {
  const value = record(input, 'request');
  return { sessionId: text(value.sessionId, 'sessionId', ID_MAX), replicaId: text(value.replicaId, 'replicaId', ID_MAX) };
};

/** A fault's command-line form after "rN:" is at most a kind, "=" and 1000 characters of text. */
const DEMO_FAULT_MAX = 1100;

const parseStartDemoLab: Parser<{ replicas?: number }> = (input) => {
  const value = record(input ?? {}, 'request');
  const replicas = optionalNumber(value.replicas, 'replicas');
  if (replicas === undefined) return {};
  if (replicas < 1 || replicas > MAX_REPLICAS) throw new ContractError(`replicas: the demo lab runs 1 to ${MAX_REPLICAS} replicas`);
  return { replicas };
};

const parseDemoL0Action: Parser<{ replicaId: string; action: DemoL0Action }> = (input) => {
  const value = record(input, 'request');
  const action = text(value.action, 'action', 32) as DemoL0Action;
  if (!DEMO_L0_ACTIONS.includes(action)) throw new ContractError(`action: expected one of ${DEMO_L0_ACTIONS.join(', ')}`);
  return { replicaId: text(value.replicaId, 'replicaId', ID_MAX), action };
};

const FRAMEBUFFER_COORDINATE_MAX = 1 << 16;

function idList(value: unknown, what: string): string[] {
  if (!Array.isArray(value) || value.length > MAX_REPLICAS) throw new ContractError(`${what}: expected an array of at most ${MAX_REPLICAS} replica ids`);
  return value.map((entry, index) => text(entry, `${what}[${index}]`, ID_MAX));
}

function coordinate(value: unknown, what: string, minimum: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < minimum || value > FRAMEBUFFER_COORDINATE_MAX) {
    throw new ContractError(`${what}: expected an integer from ${minimum} to ${FRAMEBUFFER_COORDINATE_MAX}`);
  }
  return value;
}

const parseDivergenceReport: Parser<DivergenceReport> = (input) => {
  const value = record(input, 'request');
  const kind = value.kind;
  if (kind !== 'divergence' && kind !== 'consensus') throw new ContractError('kind: expected "divergence" or "consensus"');
  if (typeof value.noMajority !== 'boolean') throw new ContractError('noMajority: expected a boolean');
  const regions = value.regions;
  if (!Array.isArray(regions) || regions.length > MAX_REPORTED_REGIONS) throw new ContractError(`regions: expected an array of at most ${MAX_REPORTED_REGIONS}`);
  const change = value.change;
  if (change !== undefined && change !== 'new' && change !== 'changed') throw new ContractError('change: expected "new" or "changed"');
  const divergenceKind = value.divergenceKind;
  if (divergenceKind !== undefined && divergenceKind !== 'pixels' && divergenceKind !== 'size') throw new ContractError('divergenceKind: expected "pixels" or "size"');
  const inputSeq = value.inputSeq;
  if (inputSeq !== undefined && (typeof inputSeq !== 'number' || !Number.isSafeInteger(inputSeq) || inputSeq < 0)) throw new ContractError('inputSeq: expected a non-negative integer');
  const divergenceId = value.divergenceId === undefined ? undefined : text(value.divergenceId, 'divergenceId', ID_MAX);
  const amendsEvidence = value.amendsEvidence;
  if (amendsEvidence !== undefined && (amendsEvidence !== true || change !== 'changed' || divergenceId === undefined)) {
    throw new ContractError('amendsEvidence: only true, with change "changed" and a divergenceId');
  }
  return {
    sessionId: text(value.sessionId, 'sessionId', ID_MAX),
    kind,
    ...(divergenceId === undefined ? {} : { divergenceId }),
    ...(change === undefined ? {} : { change }),
    ...(divergenceKind === undefined ? {} : { divergenceKind }),
    outliers: idList(value.outliers, 'outliers'),
    agreeing: idList(value.agreeing, 'agreeing'),
    regions: regions.map((entry, index) => {
      const region = record(entry, `regions[${index}]`);
      return {
        x: coordinate(region.x, `regions[${index}].x`, 0),
        y: coordinate(region.y, `regions[${index}].y`, 0),
        width: coordinate(region.width, `regions[${index}].width`, 1),
        height: coordinate(region.height, `regions[${index}].height`, 1),
      };
    }),
    noMajority: value.noMajority,
    ...(inputSeq === undefined ? {} : { inputSeq }),
    ...(amendsEvidence === undefined ? {} : { amendsEvidence }),
  };
};

const parseDivergenceScreen: Parser<DivergenceScreen> = (input) => {
  const value = record(input, 'request');
  const pngBase64 = text(value.pngBase64, 'pngBase64', MAX_EVIDENCE_PNG_BASE64_CHARS);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(pngBase64)) throw new ContractError('pngBase64: expected base64');
  return {
    sessionId: text(value.sessionId, 'sessionId', ID_MAX),
    evidenceId: text(value.evidenceId, 'evidenceId', ID_MAX),
    replicaId: text(value.replicaId, 'replicaId', ID_MAX),
    pngBase64,
  };
};

const MANAGER_ANSWER_ERROR_MAX = 4096;

const parseManagerCommandAnswer: Parser<ManagerCommandAnswer> = (input) => {
  const value = record(input, 'request');
  if (typeof value.ok !== 'boolean') throw new ContractError('ok: expected a boolean');
  const error = value.error === undefined ? undefined : text(value.error, 'error', MANAGER_ANSWER_ERROR_MAX);
  const count = (field: unknown, what: string): number | undefined => {
    if (field === undefined) return undefined;
    if (typeof field !== 'number' || !Number.isSafeInteger(field) || field < 0) throw new ContractError(`${what}: expected a non-negative integer`);
    return field;
  };
  const seq = count(value.seq, 'seq');
  const replayed = count(value.replayed, 'replayed');
  if (value.agreed !== undefined && typeof value.agreed !== 'boolean') throw new ContractError('agreed: expected a boolean');
  const agreed = value.agreed;
  const outliers = value.outliers === undefined ? undefined : idList(value.outliers, 'outliers');
  return {
    sessionId: text(value.sessionId, 'sessionId', ID_MAX),
    commandId: text(value.commandId, 'commandId', ID_MAX),
    ok: value.ok,
    ...(error === undefined ? {} : { error }),
    ...(seq === undefined ? {} : { seq }),
    ...(agreed === undefined ? {} : { agreed }),
    ...(outliers === undefined ? {} : { outliers }),
    ...(replayed === undefined ? {} : { replayed }),
  };
};

const parseReplicaAction: Parser<{ sessionId: string; replicaId: string; action: ReplicaActionName }> = (input) => {
  const value = record(input, 'request');
  const action = text(value.action, 'action', 32) as ReplicaActionName;
  if (!REPLICA_ACTION_NAMES.includes(action)) throw new ContractError(`action: expected one of ${REPLICA_ACTION_NAMES.join(', ')}`);
  return { sessionId: text(value.sessionId, 'sessionId', ID_MAX), replicaId: text(value.replicaId, 'replicaId', ID_MAX), action };
};

const parseReadInputJournal: Parser<{ sessionId: string; afterSeq: number; limit: number }> = (input) => {
  const value = record(input, 'request');
  const afterSeq = value.afterSeq;
  if (typeof afterSeq !== 'number' || !Number.isSafeInteger(afterSeq) || afterSeq < 0) throw new ContractError('afterSeq: expected a non-negative integer');
  const limit = value.limit;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_JOURNAL_READ) throw new ContractError(`limit: expected an integer from 1 to ${MAX_JOURNAL_READ}`);
  return { sessionId: text(value.sessionId, 'sessionId', ID_MAX), afterSeq, limit };
};

/** A NotificationSettings from the UI: known kinds only, a boolean do-not-disturb. */
export function parseNotificationSettings(input: unknown, path: string): NotificationSettings {
  const value = record(input, path);
  if (typeof value.doNotDisturb !== 'boolean') throw new ContractError(`${path}.doNotDisturb: expected a boolean`);
  const kinds = value.disabledKinds;
  if (!Array.isArray(kinds) || kinds.length > NOTIFICATION_KINDS.length) throw new ContractError(`${path}.disabledKinds: expected an array of notification kinds`);
  const disabledKinds = kinds.map((kind, index) => {
    if (!(NOTIFICATION_KINDS as readonly unknown[]).includes(kind)) throw new ContractError(`${path}.disabledKinds[${index}]: expected one of ${NOTIFICATION_KINDS.join(', ')}`);
    return kind as NotificationKind;
  });
  return { disabledKinds: [...new Set(disabledKinds)], doNotDisturb: value.doNotDisturb };
}

const parseDesktopPreferences: Parser<{ closeToTray?: boolean; notifications?: NotificationSettings }> = (input) => {
  const value = record(input, 'request');
  if (value.closeToTray !== undefined && typeof value.closeToTray !== 'boolean') throw new ContractError('closeToTray: expected a boolean');
  return {
    ...(value.closeToTray === undefined ? {} : { closeToTray: value.closeToTray }),
    ...(value.notifications === undefined ? {} : { notifications: parseNotificationSettings(value.notifications, 'notifications') }),
  };
};

const parseProfileId: Parser<{ id: string }> = (input) => ({ id: profileId(record(input, 'request').id, 'id') });

function profileId(value: unknown, what: string): string {
  const id = text(value, what, 64);
  if (!PROFILE_ID_PATTERN.test(id)) throw new ContractError(`${what}: not a profile id`);
  return id;
}

function revision(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new ContractError(`${what}: expected a non-negative integer`);
  return value;
}

const parseSaveProfile: Parser<{ document: unknown; id?: string; expectedRevision?: number }> = (input) => {
  const value = record(input, 'request');
  const document = record(value.document, 'document');
  if (JSON.stringify(document).length > MAX_PROFILE_BYTES) throw new ContractError(`document: larger than ${MAX_PROFILE_BYTES} characters`);
  if ((value.id === undefined) !== (value.expectedRevision === undefined)) throw new ContractError('id and expectedRevision go together (both for an update, neither for a new profile)');
  return {
    document,
    ...(value.id === undefined ? {} : { id: profileId(value.id, 'id'), expectedRevision: revision(value.expectedRevision, 'expectedRevision') }),
  };
};

const parseImportProfiles: Parser<{ sources: ImportInput[]; name?: string; intoId?: string; expectedRevision?: number }> = (input) => {
  const value = record(input, 'request');
  const sources = value.sources;
  if (!Array.isArray(sources) || sources.length === 0 || sources.length > MAX_IMPORT_SOURCES) throw new ContractError(`sources: expected 1 to ${MAX_IMPORT_SOURCES} files or URIs`);
  const parsed = sources.map((entry, index): ImportInput => {
    const source = record(entry, `sources[${index}]`);
    if (source.kind === 'uri') return { kind: 'uri', uri: text(source.uri, `sources[${index}].uri`, 4096) };
    if (source.kind === 'file') return { kind: 'file', name: text(source.name, `sources[${index}].name`, 512), text: text(source.text, `sources[${index}].text`, MAX_PROFILE_BYTES) };
    throw new ContractError(`sources[${index}].kind: expected "file" or "uri"`);
  });
  if (value.intoId !== undefined && value.name !== undefined) throw new ContractError('name and intoId: a new profile has a name, an existing one keeps its own');
  if ((value.intoId === undefined) !== (value.expectedRevision === undefined)) throw new ContractError('intoId and expectedRevision go together');
  return {
    sources: parsed,
    ...(value.name === undefined ? {} : { name: text(value.name, 'name', 200) }),
    ...(value.intoId === undefined ? {} : { intoId: profileId(value.intoId, 'intoId'), expectedRevision: revision(value.expectedRevision, 'expectedRevision') }),
  };
};

// ---------------------------------------------------------------------------------------------
// The calls (UI → back end, each answered once) and events (back end → UI).

interface CallSpec<Request, Response> {
  readonly parseRequest: Parser<Request>;
  /** Type-only: carries the response type. */
  readonly response?: Response;
}

function call<Request, Response>(parseRequest: Parser<Request>): CallSpec<Request, Response> {
  return { parseRequest };
}

export const CONTRACT_CALLS = {
  /** Which shell this is, and the profile given on the command line. */
  getStartup: call<void, StartupInfo>(parseNothing),
  /** Opens a profile file by path (back end reads it; relative secret/key paths resolve next to it). */
  openProfileFile: call<{ path: string }, OpenResult>((input) => ({
    path: text(record(input, 'request').path, 'path', 4096),
  })),
  /** Opens a profile from text the UI read (file picker, drag-and-drop). */
  openProfileText: call<{ text: string; sourceName: string }, OpenResult>((input) => {
    const value = record(input, 'request');
    return { text: text(value.text, 'text', 1024 * 1024), sourceName: text(value.sourceName, 'sourceName', 512) };
  }),
  /** Opens an ad-hoc set of "host:N" / "host::port" replicas; a set that opens is remembered (never its password). */
  quickConnect: call<{ endpoints: string; password?: string }, OpenResult>((input) => {
    const value = record(input, 'request');
    const endpoints = text(value.endpoints, 'endpoints', 4096);
    return value.password === undefined ? { endpoints } : { endpoints, password: text(value.password, 'password', 256) };
  }),
  /** What the back end remembers for this user: recent quick-connect endpoint sets, "don't ask again" choices. */
  getPreferences: call<void, UserPreferences>(parseNothing),
  /** The "don't ask again" of the Ctrl+Alt+Del / Ctrl+Alt+Backspace confirmation (true: ask). */
  setConfirmSystemKeys: call<{ confirm: boolean }, UserPreferences>((input) => {
    const value = record(input, 'request');
    if (typeof value.confirm !== 'boolean') throw new ContractError('confirm: expected a boolean');
    return { confirm: value.confirm };
  }),
  /** The tray and notification settings: close to tray, kinds turned off, do-not-disturb (absent fields unchanged). */
  setDesktopPreferences: call<{ closeToTray?: boolean; notifications?: NotificationSettings }, UserPreferences>(parseDesktopPreferences),
  /** The desktop status now: tray state, tooltip, title and every session's facts. */
  getDesktopStatus: call<void, DesktopSummary>(parseNothing),
  /** The UI paused or resumed a session's input broadcast (the tray menu shows it). */
  reportBroadcast: call<{ sessionId: string; enabled: boolean }, void>((input) => {
    const value = record(input, 'request');
    if (typeof value.enabled !== 'boolean') throw new ContractError('enabled: expected a boolean');
    return { sessionId: text(value.sessionId, 'sessionId', ID_MAX), enabled: value.enabled };
  }),
  /** Forgets one recent quick-connect endpoint set (`endpoints`), or all of them (no `endpoints`). */
  forgetRecentEndpoints: call<{ endpoints?: string[] }, UserPreferences>((input) => {
    const value = record(input ?? {}, 'request');
    if (value.endpoints === undefined) return {};
    if (!Array.isArray(value.endpoints) || value.endpoints.length > MAX_REPLICAS) throw new ContractError(`endpoints: expected an array of at most ${MAX_REPLICAS}`);
    return { endpoints: value.endpoints.map((entry, index) => text(entry, `endpoints[${index}]`, 512)) };
  }),
  /** Forgets a session: its streams are closed. */
  closeSession: call<{ sessionId: string }, void>((input) => ({
    sessionId: text(record(input, 'request').sessionId, 'sessionId', ID_MAX),
  })),
  /**
   * Opens a byte stream to a replica's VNC server (TCP, or SSH tunnel through its L0). The UI then
   * attaches to `streamId` with its shell's stream transport. One stream per RFB connection.
   */
  openReplicaStream: call<{ sessionId: string; replicaId: string }, { streamId: string }>(parseSessionReplica),
  /** The replica's VNC password from its profile (inline, env or file), when the server asks for one. */
  getReplicaPassword: call<{ sessionId: string; replicaId: string }, { password: string | null; error?: string }>(
    parseSessionReplica,
  ),
  /** The UI reports each replica state change (it is where noVNC runs); the back end logs and emits it. */
  reportReplicaState: call<ReplicaStatusReport, void>((input) => {
    const value = record(input, 'request');
    const state = text(value.state, 'state', 32) as ReplicaStateName;
    if (!REPLICA_STATE_NAMES.includes(state)) throw new ContractError(`state: unknown state "${state}"`);
    const width = optionalNumber(value.width, 'width');
    const height = optionalNumber(value.height, 'height');
    const reason = value.reason === undefined ? undefined : text(value.reason, 'reason', MAX_REPLICA_REASON_CHARS);
    return {
      sessionId: text(value.sessionId, 'sessionId', ID_MAX),
      replicaId: text(value.replicaId, 'replicaId', ID_MAX),
      state,
      ...(width === undefined ? {} : { width }),
      ...(height === undefined ? {} : { height }),
      ...(reason === undefined ? {} : { reason }),
    };
  }),
  /** The UI's input broadcast journals what it sent (in sequence order, batched); the back end keeps a bounded journal per session. */
  recordInput: call<{ sessionId: string; entries: InputJournalEntry[] }, void>((input) => {
    const value = record(input, 'request');
    const entries = value.entries;
    if (!Array.isArray(entries) || entries.length > MAX_JOURNAL_BATCH) throw new ContractError(`entries: expected an array of at most ${MAX_JOURNAL_BATCH}`);
    const fail = (message: string): never => {
      throw new ContractError(message);
    };
    return {
      sessionId: text(value.sessionId, 'sessionId', ID_MAX),
      entries: entries.map((entry, index) => parseJournalEntry(entry, `entries[${index}]`, fail)),
    };
  }),
  /** The session's input journal as JSON lines (oldest first), with how many older entries were dropped. */
  exportInputJournal: call<{ sessionId: string }, { jsonLines: string; entries: number; dropped: number }>((input) => ({
    sessionId: text(record(input, 'request').sessionId, 'sessionId', ID_MAX),
  })),
  /** The UI finished the startup script (`retrovisor run --script`): how many steps ran, and why it stopped early. */
  reportScriptResult: call<ScriptResult, void>((input) => {
    const value = record(input, 'request');
    if (typeof value.ok !== 'boolean') throw new ContractError('ok: expected a boolean');
    const stepsRun = optionalNumber(value.stepsRun, 'stepsRun') ?? 0;
    const error = value.error === undefined ? undefined : text(value.error, 'error', 4096);
    const without = value.without === undefined ? undefined : idList(value.without, 'without');
    return {
      sessionId: text(value.sessionId, 'sessionId', ID_MAX),
      ok: value.ok,
      stepsRun,
      ...(error === undefined ? {} : { error }),
      ...(without === undefined ? {} : { without }),
    };
  }),
  /**
   * The UI's divergence detection confirmed a divergence or saw consensus again: the back end logs it
   * (and `retrovisor run` prints it). For a new divergence it starts an evidence folder (the record
   * JSON and, as the screens arrive, their PNGs and a diff PNG) and answers its id and folder; for a
   * change that amends it (`amendsEvidence`), it rewrites that folder's record and answers the same id
   * for the screens sent again; else null.
   */
  reportDivergence: call<DivergenceReport, { evidenceId: string | null; evidenceFolder?: string | null }>(parseDivergenceReport),
  /** One replica's screen (PNG) for a new divergence's evidence folder; the back end names and writes the file. */
  saveDivergenceScreen: call<DivergenceScreen, void>(parseDivergenceScreen),
  /**
   * Starts the built-in demo lab in the back end (one per back end, reused while it runs; a different
   * replica count restarts it) and opens it as a new session. The simulated L0 stays with the lab.
   */
  startDemoLab: call<{ replicas?: number }, OpenResult>(parseStartDemoLab),
  /** The demo lab's replicas: their domain states, lasting faults and snapshots. */
  getDemoStatus: call<void, DemoStatus>(parseNothing),
  /** Injects a fault into a demo replica: the command-line form after "rN:" ("lag=200", "banner=HACKED", "crash"). */
  setDemoFault: call<{ replicaId: string; fault: string }, DemoStatus>((input) => {
    const value = record(input, 'request');
    return { replicaId: text(value.replicaId, 'replicaId', ID_MAX), fault: text(value.fault, 'fault', DEMO_FAULT_MAX) };
  }),
  /** Removes a demo replica's lasting faults (lag, drop-key, freeze); a banner stays until reset or revert. */
  clearDemoFaults: call<{ replicaId: string }, DemoStatus>((input) => ({
    replicaId: text(record(input, 'request').replicaId, 'replicaId', ID_MAX),
  })),
  /** Runs a simulated L0 operation on a demo replica's domain (snapshot-revert restores its newest snapshot). */
  demoL0Action: call<{ replicaId: string; action: DemoL0Action }, DemoStatus>(parseDemoL0Action),
  /** The remediation manager of a session, as the UI shows it (also pushed as the `remediation` event). */
  getRemediationState: call<{ sessionId: string }, RemediationView>((input) => ({
    sessionId: text(record(input, 'request').sessionId, 'sessionId', ID_MAX),
  })),
  /** Takes a checkpoint now (every replica must agree): answers once it is taken or has failed. */
  takeCheckpoint: call<{ sessionId: string }, CheckpointView>((input) => ({
    sessionId: text(record(input, 'request').sessionId, 'sessionId', ID_MAX),
  })),
  /** The user's answer to a remediation waiting for confirmation (mode "confirm"). */
  confirmRemediation: call<{ sessionId: string; planId: string; approve: boolean }, void>((input) => {
    const value = record(input, 'request');
    if (typeof value.approve !== 'boolean') throw new ContractError('approve: expected a boolean');
    return { sessionId: text(value.sessionId, 'sessionId', ID_MAX), planId: text(value.planId, 'planId', ID_MAX), approve: value.approve };
  }),
  /** A replica's actions menu: its domain's state, a checkpoint, revert + replay, reset, reboot, destroy, start, include again. */
  replicaAction: call<{ sessionId: string; replicaId: string; action: ReplicaActionName }, { message: string }>(parseReplicaAction),
  /** The UI carried out a ManagerCommand (or could not). */
  answerManagerCommand: call<ManagerCommandAnswer, void>(parseManagerCommandAnswer),
  /** Journal entries after `afterSeq`, oldest first; `complete` is false when some were already dropped. */
  readInputJournal: call<{ sessionId: string; afterSeq: number; limit: number }, { entries: readonly InputJournalEntry[]; complete: boolean; lastSeq: number }>(
    parseReadInputJournal,
  ),
  /**
   * The profile editor's "Test" of one replica of the profile being edited (unsaved, possibly
   * incomplete elsewhere): reached directly or through its L0, RFB version, security types, password,
   * desktop. Only that replica (and its L0 for a tunnel) is validated.
   */
  testReplicaConnection: call<{ profile: Record<string, unknown>; replicaId: string }, ConnectionTestReport>((input) => {
    const value = record(input, 'request');
    return { profile: record(value.profile, 'profile'), replicaId: text(value.replicaId, 'replicaId', ID_MAX) };
  }),
  /**
   * The profile editor's "Test" of one L0: SSH reached, host key (with no pin yet: the keys it presents,
   * to trust on first use), login, virsh, and each of its replicas' domains and displays.
   */
  testL0Connection: call<{ profile: Record<string, unknown>; l0: string }, ConnectionTestReport>((input) => {
    const value = record(input, 'request');
    return { profile: record(value.profile, 'profile'), l0: text(value.l0, 'l0', ID_MAX) };
  }),
  /** The profile library: every saved profile (most recently opened first); bad files are set aside and reported. */
  listProfiles: call<void, ProfileListing>(parseNothing),
  /** A saved profile's document and revision, for the editor. */
  getSavedProfile: call<{ id: string }, SavedProfileDocument>(parseProfileId),
  /** Opens a saved profile as a session and records when it was opened. */
  openSavedProfile: call<{ id: string }, OpenResult>(parseProfileId),
  /**
   * Saves a profile document: new (no id) or over `id` at `expectedRevision` (else a conflict).
   * Inline secrets go to the keyring, or are dropped with a notice: the library never holds one.
   */
  saveProfile: call<{ document: unknown; id?: string; expectedRevision?: number }, SaveProfileResult>(parseSaveProfile),
  /** Saves a copy under a new id, named `name` (default "<name> (copy)"). */
  duplicateProfile: call<{ id: string; name?: string }, SaveProfileResult>((input) => {
    const value = record(input, 'request');
    return { id: profileId(value.id, 'id'), ...(value.name === undefined ? {} : { name: text(value.name, 'name', 200) }) };
  }),
  /** Moves a saved profile to the library's trash (restoreProfile undoes it). */
  deleteProfile: call<{ id: string }, DeleteProfileResult>(parseProfileId),
  /** Brings a deleted profile back from the trash. */
  restoreProfile: call<{ id: string }, DeleteProfileResult>(parseProfileId),
  /**
   * Imports files (their text, read by the UI: file picker, drag and drop) and vnc:// URIs as the
   * replicas of a new profile (`name`) or of an existing one (`intoId` at `expectedRevision`).
   */
  importProfiles: call<{ sources: ImportInput[]; name?: string; intoId?: string; expectedRevision?: number }, ImportProfilesResult>(parseImportProfiles),
  /** A saved profile as RetroVisor JSON without its secrets, for the UI to offer as a download. */
  exportProfile: call<{ id: string }, ExportProfileResult>(parseProfileId),
  /** Whether the keyring can save typed secrets now (else they are dropped and asked at connect time), and why not. */
  getKeyringStatus: call<void, KeyringStatus>(parseNothing),
} as const;

interface EventSpec<Payload> {
  /** Type-only: carries the payload type. */
  readonly payload?: Payload;
}

function event<Payload>(): EventSpec<Payload> {
  return {};
}

export const CONTRACT_EVENTS = {
  /** Something the user should read (a toast in the UI). */
  notice: event<Notice>(),
  /** The remediation manager's view of a session changed. */
  remediation: event<RemediationView>(),
  /** The manager asks the UI of a session to do something (answered with answerManagerCommand). */
  managerCommand: event<ManagerCommandEvent>(),
  /** The desktop status changed (tray state, words) and what happened (for notifications). */
  desktopStatus: event<DesktopStatusUpdate>(),
  /** The tray or a notification's click asks the UI for something. */
  desktopRequest: event<DesktopRequest>(),
} as const;

export type CallName = keyof typeof CONTRACT_CALLS;
export type EventName = keyof typeof CONTRACT_EVENTS;
export type CallRequest<K extends CallName> = (typeof CONTRACT_CALLS)[K] extends CallSpec<infer Q, unknown> ? Q : never;
export type CallResponse<K extends CallName> = (typeof CONTRACT_CALLS)[K] extends CallSpec<unknown, infer R> ? R : never;
export type EventPayload<K extends EventName> = (typeof CONTRACT_EVENTS)[K] extends EventSpec<infer P> ? P : never;

/** The back end's side of the contract: one handler per call. */
export type ContractHandlers = {
  readonly [K in CallName]: (request: CallRequest<K>) => Promise<CallResponse<K>>;
};

/** The UI's side of the contract: one method per call, plus event subscription. */
export type BackendApi = ContractHandlers & {
  readonly on: <K extends EventName>(event: K, listener: (payload: EventPayload<K>) => void) => () => void;
};

export const CALL_NAMES = Object.keys(CONTRACT_CALLS) as CallName[];
export const EVENT_NAMES = Object.keys(CONTRACT_EVENTS) as EventName[];

export function isCallName(value: unknown): value is CallName {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(CONTRACT_CALLS, value);
}

export function isEventName(value: unknown): value is EventName {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(CONTRACT_EVENTS, value);
}

/** Electron IPC channel of a call or event: the only place channel names are spelled. */
export function ipcChannel(name: CallName | EventName): string {
  return `retrovisor:${name}`;
}

/** Electron IPC channel that carries a MessagePort for a replica byte stream. */
export const STREAM_IPC_CHANNEL = 'retrovisor:stream';

/** Electron IPC channel that carries the MessagePort of the UI's one input channel. */
export const INPUT_IPC_CHANNEL = 'retrovisor:input';

/** Browser shell paths (all below the per-launch secret: /<secret>/...). */
export const BROWSER_SHELL_PATHS = {
  rpc: 'rpc',
  stream: 'stream',
  /** The UI's one input channel (binary frames, common/input/input-frame.ts). */
  input: 'input',
} as const;

/** Largest byte-stream message either side sends in one frame. */
export const MAX_STREAM_FRAME_BYTES = 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Replica byte streams. Data flows as binary frames; the UI acknowledges what it has consumed so the
// back end never has more than STREAM_WINDOW_BYTES in flight toward it (a flooding server is paused
// at the socket, and only its own session waits). The same rule holds in both shells.

/** Bytes the back end may send toward the UI before it must see an acknowledgement. */
export const STREAM_WINDOW_BYTES = 4 * 1024 * 1024;
/** The UI acknowledges consumed bytes at least this often. */
export const STREAM_ACK_EVERY_BYTES = 256 * 1024;
/** Bytes the UI may queue toward a server that is not reading before its stream is closed. */
export const STREAM_UPSTREAM_LIMIT_BYTES = 8 * 1024 * 1024;

// Stream control messages (text frames in the browser shell, plain objects on a MessagePort): their
// types by direction and their one strict parser per direction live in common/wire-control.ts.
export type { StreamControl, StreamControlFromBackend, StreamControlFromUi } from './wire-control';

export interface ByteStreamHandlers {
  /** The back end reached the VNC server (TCP connected, or the SSH channel opened). */
  readonly onOpen: () => void;
  readonly onData: (bytes: Uint8Array) => void;
  /** The stream ended; `reason` says why in words for the user. */
  readonly onClose: (reason: string) => void;
}

export interface ByteStream {
  send(bytes: Uint8Array): void;
  /** Tells the back end these many received bytes were consumed (flow control). */
  ack(bytes: number): void;
  close(): void;
}

// ---------------------------------------------------------------------------------------------
// The input channel: ONE per UI, carrying every input broadcast dispatch as one frame
// (common/input/input-frame.ts) that names, for each target stream, the RFB bytes for its server.
// The back end writes them to every target's server socket in one synchronous loop, so replicas
// receive an input microseconds apart instead of through N independent transports. Only streams
// this back end attached and that are still open receive anything; a malformed frame closes the
// channel. Frames are not acknowledged (each stream's upstream limit applies to what it is written);
// a `sync` is answered once every frame sent before it has been written, so the UI can release held
// keys and only then close streams (their close travels another way).

// Input channel control messages (text frames in the browser shell, plain objects on a MessagePort):
// types by direction and parsers in common/wire-control.ts.
export type { InputChannelControl, InputChannelControlFromBackend, InputChannelControlFromUi } from './wire-control';

export interface InputChannelHandlers {
  /** Every frame sent before `sync(token)` has been written to its streams. */
  readonly onSynced: (token: number) => void;
  /** The channel ended (the back end refused a frame, or is gone); `reason` in words. */
  readonly onClose: (reason: string) => void;
}

export interface InputChannelPort {
  /** Sends one encoded frame (common/input/input-frame.ts). */
  send(frame: Uint8Array): void;
  /** Asks the back end to answer `onSynced(token)` once it has written every frame sent so far. */
  sync(token: number): void;
  close(): void;
}

/** What the Electron preload exposes on window.retrovisor: the contract plus the stream and input transports. */
export type ElectronBridge = BackendApi & {
  readonly openStream: (streamId: string, handlers: ByteStreamHandlers) => ByteStream;
  /** Opens the UI's input channel (a MessagePort handed to the main process once). */
  readonly openInputChannel: (handlers: InputChannelHandlers) => InputChannelPort;
};
