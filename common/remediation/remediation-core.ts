// The remediation manager's brain: fed with observations (comparisons, connections, domain states,
// rung outcomes, the user's answers) and the time, it returns DECISIONS as plain data for the service
// to carry out and audit — including every decision not to act, with its reason. Pure: no I/O, no clock.

import type { DomainState } from '../l0';
import type { Profile } from '../profile';
import { CheckpointBook, type CheckpointRecord, type CheckpointResult } from './checkpoints';
import {
  describeLifecycle,
  rungOf,
  transitionLifecycle,
  type LifecycleEvent,
  type LifecycleStateName,
  type PlanEvidence,
  type RemediationLifecycle,
  type RemediationPlan,
  type TriggerCause,
} from './remediation-lifecycle';
import {
  MAX_BACKOFF_MS,
  remediationSettingsOf,
  rungNeedsCheckpoint,
  type RemediationMode,
  type RemediationRung,
  type RemediationSettings,
} from './remediation-settings';

/** The sliding window of the per-replica rate limit. */
export const RATE_WINDOW_MS = 3_600_000;
/** Trouble that begins this long after a replica's last episode ended starts the backoff afresh (time spent backing off does not count). */
export const BACKOFF_RESET_AFTER_MS = 3_600_000;
/** A checkpoint the service has not reported within this is given up (and counted as failed). */
export const CHECKPOINT_TIMEOUT_MS = 300_000;
/** First wait before retrying a failed first checkpoint; doubles per failure up to MAX_BACKOFF_MS. */
export const CHECKPOINT_RETRY_MS = 60_000;

export type ReplicaConnection = 'connected' | 'lost';

/** One divergence/consensus report of the comparison engine, restricted to the replicas compared. */
export interface ComparisonReport {
  readonly outliers: readonly string[];
  readonly agreeing: readonly string[];
  readonly noMajority: boolean;
  /** The replicas compared now (connected, not remediating, not quarantined). */
  readonly voters: readonly string[];
  /** The engine's reference to its evidence (kept with a plan for the confirmation dialog). */
  readonly evidenceRef?: string;
}

/** What the per-replica actions menu can ask for. */
export type ManualAction = RemediationRung | 'quarantine' | 'include-again';

export type AlertSeverity = 'info' | 'warning' | 'critical';

export type CheckpointKind = 'first-agreement' | 'periodic' | 'manual';

/** Why the core did not act: a stable code to branch on; the decision's `reason` says it in words. */
export type SkipCode =
  | 'no-majority'
  | 'one-at-a-time'
  | 'backoff'
  | 'no-checkpoint'
  | 'checkpoint-in-progress'
  | 'remediation-running'
  | 'not-all-agree'
  | 'quarantined'
  | 'not-controllable'
  | 'declined'
  | 'plan-withdrawn'
  | 'no-such-plan'
  | 'waiting-for-connection';

/** The checkpoint a rung restores: the snapshot name and the journal seq to replay from (exclusive). */
export interface RungCheckpoint {
  readonly name: string;
  readonly seq: number;
}

interface DecisionBase {
  /** When the decision was made (the nowMs of the call). */
  readonly atMs: number;
  /** Why, in words, for the audit log and the UI. */
  readonly reason: string;
}

/** What the service must do (or record). Every decision carries its time and a reason. */
export type RemediationDecision =
  /** A remediation episode is planned; in confirm mode nothing runs until confirm(planId, true). */
  | (DecisionBase & {
      readonly type: 'plan';
      readonly planId: string;
      readonly replicaId: string;
      readonly rung: RemediationRung;
      /** The rungs that would follow if this one fails (quarantine after the last). */
      readonly then: readonly RemediationRung[];
      readonly needsConfirmation: boolean;
      readonly evidence: PlanEvidence;
    })
  /** Observe mode: what confirm or auto mode would do now; nothing runs. */
  | (DecisionBase & { readonly type: 'would-act'; readonly replicaId: string; readonly rung: RemediationRung; readonly evidence: PlanEvidence })
  /** Run one rung: hold the replica's input, act on its L0, replay, and report rungFinished by `deadlineMs`. */
  | (DecisionBase & {
      readonly type: 'run-rung';
      readonly planId: string;
      readonly replicaId: string;
      readonly rung: RemediationRung;
      /** For revert-replay and restart-replay; null for reset and reboot. */
      readonly checkpoint: RungCheckpoint | null;
      readonly timeoutMs: number;
      readonly deadlineMs: number;
    })
  /** No input, no vote; abort the running rung of `abortPlanId` first when not null. */
  | (DecisionBase & { readonly type: 'quarantine'; readonly replicaId: string; readonly abortPlanId: string | null })
  /** The user lifted a quarantine: the replica gets input and votes again. */
  | (DecisionBase & { readonly type: 'include-again'; readonly replicaId: string })
  | (DecisionBase & { readonly type: 'alert'; readonly severity: AlertSeverity; readonly message: string; readonly replicaId?: string })
  | (DecisionBase & { readonly type: 'skip'; readonly code: SkipCode; readonly replicaId?: string })
  /** Hold input, note the journal's last seq, snapshot every replica as `name`, then checkpointFinished. */
  | (DecisionBase & { readonly type: 'take-checkpoint'; readonly name: string; readonly kind: CheckpointKind })
  /** Delete these snapshots on every replica's L0 (all ours; a missing one is fine). */
  | (DecisionBase & { readonly type: 'delete-checkpoints'; readonly names: readonly string[] })
  /** An input that made no sense in the current state (an illegal transition); nothing changed. */
  | (DecisionBase & { readonly type: 'refused'; readonly replicaId?: string });

export interface ReplicaRemediationView {
  readonly replicaId: string;
  readonly state: LifecycleStateName;
  readonly lifecycle: RemediationLifecycle;
  /** describeLifecycle of the state at snapshot time. */
  readonly label: string;
  readonly rung: RemediationRung | null;
  readonly voting: boolean;
  readonly controllable: boolean;
  readonly connection: ReplicaConnection;
  readonly domain: DomainState | null;
  readonly outlierSinceMs: number | null;
  readonly attemptsLastHour: number;
  /** null when no backoff is running. */
  readonly backoffUntilMs: number | null;
  readonly lastDecision: string | null;
}

export interface PendingConfirmation {
  readonly planId: string;
  readonly replicaId: string;
  readonly rung: RemediationRung;
  readonly then: readonly RemediationRung[];
  readonly askedAtMs: number;
  readonly evidence: PlanEvidence;
}

/** Plain data for the UI. */
export interface RemediationSnapshot {
  readonly mode: RemediationMode;
  readonly replicaCount: number;
  readonly replicas: readonly ReplicaRemediationView[];
  readonly pendingConfirmation: PendingConfirmation | null;
  readonly nonVoting: readonly string[];
  readonly checkpoints: readonly CheckpointRecord[];
  readonly newestCompleteCheckpoint: string | null;
  readonly checkpointInProgress: string | null;
  readonly nextWakeMs: number | null;
}

export interface RemediationCoreOptions {
  /** Every replica of the profile, in profile order (N of the strict-majority rule). */
  readonly replicaIds: readonly string[];
  readonly settings: RemediationSettings;
  /** Names the checkpoints (retrovisor-<slug>-<n>). */
  readonly profileName: string;
  /** Snapshot names found on the replicas' L0s at start, so new checkpoint names never collide. */
  readonly existingSnapshotNames?: readonly string[];
  /** Replicas with an L0 and a domain: the only ones a rung can run on. Default: all. */
  readonly controllable?: readonly string[];
  /** Also told about refused (illegal) transitions, which are returned as 'refused' decisions too. */
  readonly warn?: (message: string) => void;
}

interface ReplicaTrack {
  readonly id: string;
  readonly controllable: boolean;
  lifecycle: RemediationLifecycle;
  connection: ReplicaConnection;
  domain: DomainState | null;
  domainSinceMs: number;
  /** Confirmed outlier (with a strict majority against it) continuously since. */
  outlierSinceMs: number | null;
  evidenceRef: string | null;
  /** Start times of rungs (rate limit). */
  attempts: number[];
  /** Consecutive episodes for the doubling backoff. */
  episodes: number;
  lastEpisodeEndMs: number | null;
  backoffUntilMs: number | null;
  /** Skip notices already given in this episode: one each, not one per tick. */
  readonly notices: Set<string>;
  lastDecision: string | null;
}

interface Majority {
  readonly held: boolean;
  readonly agreeing: readonly string[];
  readonly voters: readonly string[];
  readonly text: string;
}

interface Trigger {
  readonly cause: TriggerCause;
  readonly sinceMs: number;
}

/** The decision as one audit line ("run-rung plan-1 revert-replay on r2: ..."). */
export function describeDecision(decision: RemediationDecision): string {
  switch (decision.type) {
    case 'plan':
      return `plan ${decision.planId}: ${decision.rung} on ${decision.replicaId}${decision.needsConfirmation ? ' (awaiting confirmation)' : ''} — ${decision.reason}`;
    case 'would-act':
      return `would ${decision.rung} ${decision.replicaId} — ${decision.reason}`;
    case 'run-rung':
      return `run ${decision.rung} on ${decision.replicaId} (${decision.planId}${decision.checkpoint ? `, checkpoint ${decision.checkpoint.name} seq ${decision.checkpoint.seq}` : ''}) — ${decision.reason}`;
    case 'quarantine':
      return `quarantine ${decision.replicaId} — ${decision.reason}`;
    case 'include-again':
      return `include ${decision.replicaId} again — ${decision.reason}`;
    case 'alert':
      return `${decision.severity}: ${decision.message} — ${decision.reason}`;
    case 'skip':
      return `no action${decision.replicaId === undefined ? '' : ` on ${decision.replicaId}`} (${decision.code}) — ${decision.reason}`;
    case 'take-checkpoint':
      return `take checkpoint ${decision.name} (${decision.kind}) — ${decision.reason}`;
    case 'delete-checkpoints':
      return `delete checkpoints ${decision.names.join(', ')} — ${decision.reason}`;
    case 'refused':
      return `refused${decision.replicaId === undefined ? '' : ` for ${decision.replicaId}`} — ${decision.reason}`;
  }
}

/** "30 s" from `nowMs` to `untilMs`: reasons are read by people, not parsed (the view carries the times). */
function secondsFrom(nowMs: number, untilMs: number): string {
  return `${Math.max(0, Math.ceil((untilMs - nowMs) / 1000))} s`;
}

/** Whether a lifecycle state keeps the replica out of the vote (and out of live input). */
function isNonVoting(state: RemediationLifecycle): boolean {
  return state.name === 'remediating' || state.name === 'quarantined';
}

/** Whether a lifecycle state is an episode in progress (only one replica at a time). */
function isBusy(state: RemediationLifecycle): boolean {
  return state.name === 'planned' || state.name === 'awaiting-confirmation' || state.name === 'remediating';
}

/**
 * The decision core of one session's remediation manager. Every input method takes the time, updates
 * the state and returns the decisions it led to; `nextWakeMs()` says when `tick` is due next.
 */
export class RemediationCore {
  readonly settings: RemediationSettings;
  private readonly tracks: ReplicaTrack[];
  private readonly byId = new Map<string, ReplicaTrack>();
  private readonly book: CheckpointBook;
  private readonly warn: ((message: string) => void) | undefined;
  private lastComparison: ComparisonReport | null = null;
  private allAgreeSinceMs: number | null = null;
  private majorityAlerted = false;
  private planCounter = 0;
  private checkpointFailures = 0;
  private checkpointRetryAtMs: number | null = null;
  private lastNowMs = -Infinity;
  private decisions: RemediationDecision[] = [];

  constructor(options: RemediationCoreOptions) {
    this.settings = options.settings;
    this.warn = options.warn;
    const controllable = options.controllable === undefined ? null : new Set(options.controllable);
    this.tracks = options.replicaIds.map((id) => ({
      id,
      controllable: controllable === null || controllable.has(id),
      lifecycle: { name: 'healthy' },
      connection: 'connected',
      domain: null,
      domainSinceMs: 0,
      outlierSinceMs: null,
      evidenceRef: null,
      attempts: [],
      episodes: 0,
      lastEpisodeEndMs: null,
      backoffUntilMs: null,
      notices: new Set(),
      lastDecision: null,
    }));
    for (const track of this.tracks) this.byId.set(track.id, track);
    this.book = new CheckpointBook(options.profileName, options.replicaIds, options.existingSnapshotNames ?? []);
  }

  /** A core for a validated profile: its settings, its replicas, those with l0 + domain controllable. */
  static forProfile(profile: Profile, options: { readonly existingSnapshotNames?: readonly string[]; readonly warn?: (message: string) => void } = {}): RemediationCore {
    return new RemediationCore({
      replicaIds: profile.replicas.map((replica) => replica.id),
      settings: remediationSettingsOf(profile),
      profileName: profile.name,
      controllable: profile.replicas.filter((replica) => replica.l0 !== undefined && replica.domain !== undefined).map((replica) => replica.id),
      ...(options.existingSnapshotNames === undefined ? {} : { existingSnapshotNames: options.existingSnapshotNames }),
      ...(options.warn === undefined ? {} : { warn: options.warn }),
    });
  }

  private get replicaCount(): number {
    return this.tracks.length;
  }

  // --- inputs ---------------------------------------------------------------------------------

  /** The replica's VNC session is up ('connected') or gone ('lost'; then poll its domain state). */
  replicaState(replicaId: string, connection: ReplicaConnection, nowMs: number): RemediationDecision[] {
    return this.run(nowMs, () => {
      const track = this.track(replicaId);
      if (track === undefined || track.connection === connection) return;
      track.connection = connection;
      track.domain = null;
      track.domainSinceMs = nowMs;
      track.notices.delete('waiting-for-connection');
      if (connection === 'lost') {
        track.outlierSinceMs = null;
        this.allAgreeSinceMs = null;
      }
    });
  }

  /** The domain state of a replica (the service polls `virsh domstate` while it is lost). */
  domainState(replicaId: string, state: DomainState, nowMs: number): RemediationDecision[] {
    return this.run(nowMs, () => {
      const track = this.track(replicaId);
      if (track === undefined || track.domain === state) return;
      track.domain = state;
      track.domainSinceMs = nowMs;
    });
  }

  /** A divergence/consensus report; call it after each one (only changes need reporting). */
  comparison(report: ComparisonReport, nowMs: number): RemediationDecision[] {
    return this.run(nowMs, () => {
      // Non-voting and unknown replicas are dropped here, whatever the caller compared.
      const voting = (id: string): boolean => {
        const track = this.byId.get(id);
        return track !== undefined && !isNonVoting(track.lifecycle);
      };
      const sanitized: ComparisonReport = {
        outliers: report.outliers.filter(voting),
        agreeing: report.agreeing.filter(voting),
        noMajority: report.noMajority,
        voters: report.voters.filter(voting),
        ...(report.evidenceRef === undefined ? {} : { evidenceRef: report.evidenceRef }),
      };
      this.lastComparison = sanitized;
      const majority = this.majority();
      for (const track of this.tracks) {
        const outlier = sanitized.voters.includes(track.id) && sanitized.outliers.includes(track.id) && majority.held && voting(track.id);
        if (!outlier) track.outlierSinceMs = null;
        else {
          track.outlierSinceMs ??= nowMs;
          track.evidenceRef = sanitized.evidenceRef ?? track.evidenceRef;
        }
      }
      const allAgree =
        !sanitized.noMajority &&
        sanitized.outliers.length === 0 &&
        this.tracks.every((track) => sanitized.agreeing.includes(track.id) && sanitized.voters.includes(track.id) && track.connection === 'connected');
      if (!allAgree) this.allAgreeSinceMs = null;
      else this.allAgreeSinceMs ??= nowMs;

      const divergent = sanitized.outliers.length > 0 || sanitized.noMajority;
      if (divergent && !majority.held) {
        if (!this.majorityAlerted) {
          this.majorityAlerted = true;
          this.emit({ type: 'alert', severity: 'warning', message: 'the replicas disagree and no strict majority can say which one is wrong', reason: majority.text, atMs: nowMs });
          this.emit({ type: 'skip', code: 'no-majority', reason: `nothing is remediated: ${majority.text}`, atMs: nowMs });
        }
      } else {
        this.majorityAlerted = false;
      }
    });
  }

  /** Time passes: timeouts, outlier timing, backoffs, periodic checkpoints. */
  tick(nowMs: number): RemediationDecision[] {
    return this.run(nowMs, () => undefined);
  }

  /** The service's outcome of a run-rung: 'agreed' (it agrees again) or 'failed' (with the detail). */
  rungFinished(replicaId: string, rung: RemediationRung, outcome: 'agreed' | 'failed', detail: string, nowMs: number): RemediationDecision[] {
    return this.run(nowMs, () => {
      const track = this.track(replicaId);
      if (track === undefined) return;
      const state = track.lifecycle;
      if (state.name !== 'remediating' || state.plan.rung !== rung) {
        this.refuse(track.id, nowMs, `${rung} finished (${outcome}) for ${track.id}, which is "${describeLifecycle(state, nowMs)}"; ignored (late or unknown rung)`);
        return;
      }
      if (outcome === 'agreed') {
        if (!this.move(track, { type: 'rung-agreed' }, nowMs)) return;
        track.outlierSinceMs = null;
        if (!state.plan.manual) this.endEpisode(track, nowMs);
        const after = track.backoffUntilMs !== null && !state.plan.manual ? `; a new episode waits ${secondsFrom(nowMs, track.backoffUntilMs)}` : '';
        this.emit({
          type: 'alert',
          severity: 'info',
          message: `${track.id} agrees with the others again`,
          replicaId: track.id,
          reason: `${rung} (${state.plan.planId}) succeeded: ${detail || 'agreement reached'}${after}`,
          atMs: nowMs,
        });
      } else {
        this.climb(track, state.plan, `${rung} failed: ${detail || 'no detail'}`, nowMs);
      }
    });
  }

  /** The user's answer to a plan that needs confirmation. */
  confirm(planId: string, approved: boolean, nowMs: number): RemediationDecision[] {
    return this.run(nowMs, () => {
      const track = this.tracks.find((candidate) => candidate.lifecycle.name === 'awaiting-confirmation' && candidate.lifecycle.plan.planId === planId);
      if (track === undefined || track.lifecycle.name !== 'awaiting-confirmation') {
        this.emit({ type: 'skip', code: 'no-such-plan', reason: `no plan ${planId} awaits confirmation (already decided, withdrawn or unknown)`, atMs: nowMs });
        return;
      }
      const { plan } = track.lifecycle;
      if (!approved) {
        if (!this.move(track, { type: 'withdraw' }, nowMs)) return;
        this.endEpisode(track, nowMs);
        this.emit({
          type: 'skip',
          code: 'declined',
          replicaId: track.id,
          reason: `the user declined ${plan.planId} (${plan.rung} on ${track.id}); not asking again for ${secondsFrom(nowMs, track.backoffUntilMs ?? nowMs)}`,
          atMs: nowMs,
        });
        track.notices.add(`backoff:${track.backoffUntilMs}`);
        return;
      }
      const majority = this.majority();
      const blocked = majority.held ? this.startGuard(plan.rung) : { code: 'no-majority' as const, text: majority.text };
      if (blocked !== null) {
        this.move(track, { type: 'withdraw' }, nowMs);
        this.emit({ type: 'skip', code: blocked.code, replicaId: track.id, reason: `${plan.planId} approved but not started: ${blocked.text}`, atMs: nowMs });
        track.notices.add(blocked.code);
        return;
      }
      this.start(track, `approved by the user`, nowMs);
    });
  }

  /** An action from the replica's menu: skips the trigger, keeps the guards that protect data. */
  requestManual(replicaId: string, action: ManualAction, nowMs: number): RemediationDecision[] {
    return this.run(nowMs, () => {
      const track = this.track(replicaId);
      if (track === undefined) return;
      if (action === 'include-again') {
        if (!this.move(track, { type: 'include-again' }, nowMs)) return;
        // The user's word resets the loop guards: the ladder gets a fresh chance.
        track.attempts = [];
        track.episodes = 0;
        track.backoffUntilMs = null;
        track.outlierSinceMs = null;
        this.emit({ type: 'include-again', replicaId: track.id, reason: 'included again by the user; it gets input and votes again', atMs: nowMs });
        return;
      }
      if (action === 'quarantine') {
        if (track.lifecycle.name === 'quarantined') {
          this.emit({ type: 'skip', code: 'quarantined', replicaId: track.id, reason: `${track.id} is already quarantined`, atMs: nowMs });
          return;
        }
        this.quarantine(track, 'quarantined by the user', nowMs, 'info');
        return;
      }
      const busy = this.busyOther(track);
      const refusal =
        busy !== null
          ? { code: 'one-at-a-time' as const, text: `${busy.id} is being remediated; one replica at a time` }
          : !track.controllable
            ? { code: 'not-controllable' as const, text: `${track.id} has no L0 RetroVisor can reach (no "l0" and "domain" in the profile, or a simulated L0 without its demo lab)` }
            : this.startGuard(action);
      if (refusal !== null) {
        this.emit({ type: 'skip', code: refusal.code, replicaId: track.id, reason: `manual ${action} not started: ${refusal.text}`, atMs: nowMs });
        return;
      }
      const majority = this.majority();
      const plan = this.newPlan(track, action, -1, { cause: 'manual', sinceMs: nowMs, agreeing: majority.agreeing, voters: majority.voters, evidenceRef: null });
      if (!this.move(track, { type: 'plan', plan }, nowMs)) return;
      this.emit({ type: 'plan', planId: plan.planId, replicaId: track.id, rung: action, then: [], needsConfirmation: false, evidence: plan.evidence, reason: `requested by the user`, atMs: nowMs });
      this.start(track, 'requested by the user', nowMs);
    });
  }

  /** The user asks for a checkpoint now (only while every replica agrees and nothing runs). */
  requestCheckpoint(nowMs: number): RemediationDecision[] {
    return this.run(nowMs, () => {
      const blocked = this.checkpointGuard();
      if (blocked !== null) {
        this.emit({ type: 'skip', code: blocked.code, reason: `no checkpoint taken: ${blocked.text}`, atMs: nowMs });
        return;
      }
      this.takeCheckpoint('manual', 'requested by the user while every replica agrees', nowMs);
    });
  }

  /** Snapshot names found on a replica's L0 after start: new checkpoint names never collide with them. */
  observeExistingSnapshots(snapshotNames: readonly string[]): void {
    this.book.observeExisting(snapshotNames);
  }

  /** The service's outcome of a take-checkpoint. */
  checkpointFinished(result: CheckpointResult, nowMs: number): RemediationDecision[] {
    return this.run(nowMs, () => {
      const record = this.book.finish(result);
      if (record === null) {
        this.refuse(undefined, nowMs, `checkpoint ${result.name} finished, but it was not begun by this session`);
        return;
      }
      if (record.complete) {
        this.checkpointFailures = 0;
        this.checkpointRetryAtMs = null;
        const names = this.book.planRetention(this.settings.checkpoint.keep);
        if (names.length > 0) {
          this.book.forget(names);
          this.emit({ type: 'delete-checkpoints', names, reason: `keep the newest ${this.settings.checkpoint.keep} complete checkpoint(s); ${record.name} is complete`, atMs: nowMs });
        }
        return;
      }
      this.checkpointFailed(record, nowMs);
    });
  }

  // --- queries --------------------------------------------------------------------------------

  /** When `tick` must be called next (null: nothing is timed). */
  nextWakeMs(): number | null {
    const times: number[] = [];
    for (const track of this.tracks) {
      const state = track.lifecycle;
      if (state.name === 'remediating') times.push(state.deadlineMs);
      if (state.name !== 'healthy' && state.name !== 'suspect') continue;
      const trigger = this.triggerOf(track);
      if (trigger === null) continue;
      if (trigger.cause === 'outlier') times.push(trigger.sinceMs + this.settings.outlierMs + 1);
      if (track.backoffUntilMs !== null && this.settings.mode !== 'observe') times.push(track.backoffUntilMs);
    }
    const pending = this.book.pending();
    if (pending !== null) times.push(pending.takenAtMs + CHECKPOINT_TIMEOUT_MS);
    else if (this.settings.mode !== 'observe' && this.allAgreeSinceMs !== null) {
      if (this.book.newestComplete() === null) {
        if (this.checkpointRetryAtMs !== null) times.push(this.checkpointRetryAtMs);
      } else if (this.settings.checkpoint.everyMs > 0) {
        const newest = this.book.newest();
        if (newest !== null) times.push(newest.takenAtMs + this.settings.checkpoint.everyMs);
      }
    }
    // Past times are blocked by something an input will change: waking for them would only spin.
    const future = times.filter((time) => time > this.lastNowMs);
    return future.length === 0 ? null : Math.min(...future);
  }

  /** Replicas without a vote (remediating or quarantined): compare without them, give them no live input. */
  nonVoting(): string[] {
    return this.tracks.filter((track) => isNonVoting(track.lifecycle)).map((track) => track.id);
  }

  /** The lifecycle state of one replica (undefined for an unknown id). */
  lifecycleOf(replicaId: string): RemediationLifecycle | undefined {
    return this.byId.get(replicaId)?.lifecycle;
  }

  /** Plain data for the UI. */
  snapshot(nowMs: number): RemediationSnapshot {
    let pendingConfirmation: PendingConfirmation | null = null;
    const replicas = this.tracks.map((track): ReplicaRemediationView => {
      const state = track.lifecycle;
      if (state.name === 'awaiting-confirmation') {
        pendingConfirmation = {
          planId: state.plan.planId,
          replicaId: track.id,
          rung: state.plan.rung,
          then: this.remainingRungs(state.plan.rungIndex),
          askedAtMs: state.askedAtMs,
          evidence: state.plan.evidence,
        };
      }
      return {
        replicaId: track.id,
        state: state.name,
        lifecycle: state,
        label: describeLifecycle(state, nowMs),
        rung: rungOf(state),
        voting: !isNonVoting(state),
        controllable: track.controllable,
        connection: track.connection,
        domain: track.domain,
        outlierSinceMs: track.outlierSinceMs,
        attemptsLastHour: this.attemptsInWindow(track, nowMs),
        backoffUntilMs: track.backoffUntilMs !== null && track.backoffUntilMs > nowMs ? track.backoffUntilMs : null,
        lastDecision: track.lastDecision,
      };
    });
    return {
      mode: this.settings.mode,
      replicaCount: this.replicaCount,
      replicas,
      pendingConfirmation,
      nonVoting: this.nonVoting(),
      checkpoints: this.book.list(),
      newestCompleteCheckpoint: this.book.newestComplete()?.name ?? null,
      checkpointInProgress: this.book.pending()?.name ?? null,
      nextWakeMs: this.nextWakeMs(),
    };
  }

  // --- the rules ------------------------------------------------------------------------------

  /** Runs one input, then re-evaluates everything time or state may have unblocked. */
  private run(nowMs: number, body: () => void): RemediationDecision[] {
    this.decisions = [];
    this.lastNowMs = Math.max(this.lastNowMs, nowMs);
    body();
    this.evaluate(nowMs);
    const decisions = this.decisions;
    this.decisions = [];
    return decisions;
  }

  private evaluate(nowMs: number): void {
    for (const track of this.tracks) {
      const state = track.lifecycle;
      if (state.name === 'remediating' && nowMs >= state.deadlineMs) {
        this.climb(track, state.plan, `${state.plan.rung} timed out: no agreement within ${this.settings.rungTimeoutMs} ms`, nowMs);
      }
    }
    const pending = this.book.pending();
    if (pending !== null && nowMs - pending.takenAtMs >= CHECKPOINT_TIMEOUT_MS) {
      const record = this.book.abandon(pending.name);
      if (record !== null) this.checkpointFailed(record, nowMs, `not reported within ${CHECKPOINT_TIMEOUT_MS} ms`);
    }
    for (const track of this.tracks) {
      const state = track.lifecycle;
      const trigger = this.triggerOf(track);
      if ((state.name === 'planned' || state.name === 'awaiting-confirmation') && !state.plan.manual && trigger === null) {
        if (this.move(track, { type: 'clear' }, nowMs)) {
          this.emit({ type: 'skip', code: 'plan-withdrawn', replicaId: track.id, reason: `${state.plan.planId} withdrawn: ${track.id} no longer triggers (it agrees again or is back)`, atMs: nowMs });
        }
        continue;
      }
      if (state.name !== 'healthy' && state.name !== 'suspect') continue;
      if (trigger === null) {
        if (state.name === 'suspect') this.move(track, { type: 'clear' }, nowMs);
        this.noticeLostButRunning(track, nowMs);
        continue;
      }
      if (state.name === 'healthy' || state.cause !== trigger.cause) this.move(track, { type: 'suspect', cause: trigger.cause, sinceMs: trigger.sinceMs }, nowMs);
      if (trigger.cause === 'outlier' && nowMs - trigger.sinceMs <= this.settings.outlierMs) continue;
      this.tryPlan(track, trigger, nowMs);
    }
    this.evaluateCheckpoints(nowMs);
  }

  /** The trigger condition of a replica, or null: a confirmed outlier, or lost with its domain down. */
  private triggerOf(track: ReplicaTrack): Trigger | null {
    if (track.connection === 'lost') {
      return track.domain === 'shut off' || track.domain === 'crashed' ? { cause: 'domain-down', sinceMs: track.domainSinceMs } : null;
    }
    return track.outlierSinceMs === null ? null : { cause: 'outlier', sinceMs: track.outlierSinceMs };
  }

  private noticeLostButRunning(track: ReplicaTrack, nowMs: number): void {
    if (track.connection !== 'lost' || track.domain === null) return;
    this.notice(track, 'waiting-for-connection', `${track.id} is unreachable but its domain is "${track.domain}": waiting for the connection to come back`, nowMs);
  }

  /** The trigger fired: apply the guards in order, then plan (or say what would be done). */
  private tryPlan(track: ReplicaTrack, trigger: Trigger, nowMs: number): void {
    const why = this.triggerText(track, trigger, nowMs);
    const busy = this.busyOther(track);
    if (busy !== null) {
      this.notice(track, 'one-at-a-time', `${why}, but ${busy.id} is being remediated: one replica at a time`, nowMs);
      return;
    }
    const majority = this.majority();
    if (!majority.held) {
      this.notice(track, 'no-majority', `${why}, but ${majority.text}`, nowMs);
      return;
    }
    if (!track.controllable) {
      this.notice(track, 'not-controllable', `${why}, but it has no L0 RetroVisor can reach (no "l0" and "domain" in the profile, or a simulated L0 without its demo lab)`, nowMs);
      return;
    }
    const evidence: PlanEvidence = { cause: trigger.cause, sinceMs: trigger.sinceMs, agreeing: majority.agreeing, voters: majority.voters, evidenceRef: track.evidenceRef };
    if (this.settings.mode === 'observe') {
      const rung = this.settings.ladder[0];
      if (rung === undefined || track.notices.has('would-act')) return;
      track.notices.add('would-act');
      const note = rungNeedsCheckpoint(rung) && this.book.newestComplete() === null ? ' (it needs a complete checkpoint; observe mode takes none by itself)' : '';
      this.emit({ type: 'would-act', replicaId: track.id, rung, evidence, reason: `observe mode: ${why}; confirm or auto mode would ${rung} it${note}`, atMs: nowMs });
      return;
    }
    if (this.book.pending() !== null) {
      this.notice(track, 'checkpoint-in-progress', `${why}, but a checkpoint is being taken; waiting for it`, nowMs);
      return;
    }
    if (track.backoffUntilMs !== null && nowMs < track.backoffUntilMs) {
      this.notice(track, 'backoff', `${why}, but backing off for ${secondsFrom(nowMs, track.backoffUntilMs ?? nowMs)} (episode ${track.episodes} ended recently)`, nowMs, `backoff:${track.backoffUntilMs}`);
      return;
    }
    if (this.attemptsInWindow(track, nowMs) >= this.settings.maxRemediationsPerHour) {
      this.quarantine(track, `${why}, and ${this.attemptsInWindow(track, nowMs)} rungs ran on it in the last hour (maxRemediationsPerHour ${this.settings.maxRemediationsPerHour}): quarantined instead of looping`, nowMs, 'critical');
      return;
    }
    const rungIndex = this.usableRung(track, 0, nowMs);
    if (rungIndex === null) {
      if (!track.notices.has('no-checkpoint')) {
        this.emit({ type: 'alert', severity: 'warning', message: `${track.id} cannot be remediated yet: no complete checkpoint`, replicaId: track.id, reason: why, atMs: nowMs });
      }
      this.notice(track, 'no-checkpoint', `${why}, but every rung of the ladder needs a complete checkpoint and there is none yet`, nowMs);
      return;
    }
    if (track.lastEpisodeEndMs !== null && trigger.sinceMs - track.lastEpisodeEndMs >= BACKOFF_RESET_AFTER_MS) track.episodes = 0;
    const rung = this.settings.ladder[rungIndex]!;
    const plan = this.newPlan(track, rung, rungIndex, evidence);
    if (!this.move(track, { type: 'plan', plan }, nowMs)) return;
    track.notices.clear();
    const needsConfirmation = this.settings.mode === 'confirm';
    this.emit({ type: 'plan', planId: plan.planId, replicaId: track.id, rung, then: this.remainingRungs(rungIndex), needsConfirmation, evidence, reason: `${why}; ${majority.text}`, atMs: nowMs });
    if (needsConfirmation) this.move(track, { type: 'ask', nowMs }, nowMs);
    else this.start(track, `auto mode: ${why}`, nowMs);
  }

  /** Starts the planned rung of a track (its guards already checked). */
  private start(track: ReplicaTrack, why: string, nowMs: number): void {
    const state = track.lifecycle;
    if (state.name !== 'planned' && state.name !== 'awaiting-confirmation') {
      this.refuse(track.id, nowMs, `cannot start a rung for ${track.id} in state "${state.name}"`);
      return;
    }
    const { plan } = state;
    const newest = this.book.newestComplete();
    const checkpoint = rungNeedsCheckpoint(plan.rung) && newest !== null && newest.seq !== null ? { name: newest.name, seq: newest.seq } : null;
    const deadlineMs = nowMs + this.settings.rungTimeoutMs;
    if (!this.move(track, { type: 'start', nowMs, deadlineMs }, nowMs)) return;
    track.attempts.push(nowMs);
    track.outlierSinceMs = null;
    this.emit({ type: 'run-rung', planId: plan.planId, replicaId: track.id, rung: plan.rung, checkpoint, timeoutMs: this.settings.rungTimeoutMs, deadlineMs, reason: why, atMs: nowMs });
  }

  /** A rung failed (or timed out): the next usable rung of the ladder, else quarantine. */
  private climb(track: ReplicaTrack, plan: RemediationPlan, why: string, nowMs: number): void {
    if (plan.manual) {
      this.quarantine(track, `manual ${plan.rung} did not bring ${track.id} back into agreement (${why})`, nowMs, 'critical');
      return;
    }
    const nextIndex = this.usableRung(track, plan.rungIndex + 1, nowMs);
    if (nextIndex === null) {
      this.endEpisode(track, nowMs);
      this.quarantine(track, `${why}; that was the last usable rung of the ladder`, nowMs, 'critical');
      return;
    }
    const majority = this.majority();
    if (!majority.held) {
      this.endEpisode(track, nowMs);
      this.quarantine(track, `${why}; the next rung needs a strict majority to rejoin, but ${majority.text}`, nowMs, 'critical');
      return;
    }
    if (this.attemptsInWindow(track, nowMs) >= this.settings.maxRemediationsPerHour) {
      this.endEpisode(track, nowMs);
      this.quarantine(track, `${why}; ${this.settings.maxRemediationsPerHour} rungs already ran in the last hour (maxRemediationsPerHour): quarantined instead of looping`, nowMs, 'critical');
      return;
    }
    const rung = this.settings.ladder[nextIndex]!;
    const next: RemediationPlan = { ...plan, rung, rungIndex: nextIndex };
    if (!this.move(track, { type: 'next-rung', plan: next }, nowMs)) return;
    // Confirmation covered the whole ladder of the episode: the next rung needs none.
    this.emit({ type: 'plan', planId: plan.planId, replicaId: track.id, rung, then: this.remainingRungs(nextIndex), needsConfirmation: false, evidence: plan.evidence, reason: `${why}; next rung ${rung}`, atMs: nowMs });
    this.start(track, `${why}; climbing the ladder`, nowMs);
  }

  private quarantine(track: ReplicaTrack, why: string, nowMs: number, severity: AlertSeverity): void {
    const state = track.lifecycle;
    const abortPlanId = state.name === 'remediating' ? state.plan.planId : null;
    if (!this.move(track, { type: 'quarantine', reason: why, nowMs }, nowMs)) return;
    track.outlierSinceMs = null;
    track.notices.clear();
    this.allAgreeSinceMs = null;
    this.emit({ type: 'quarantine', replicaId: track.id, abortPlanId, reason: why, atMs: nowMs });
    this.emit({ type: 'alert', severity, message: `${track.id} is quarantined: no input, no vote, until included again`, replicaId: track.id, reason: why, atMs: nowMs });
  }

  /** An episode ended (success, decline, ladder exhausted): the next one waits, twice as long each time. */
  private endEpisode(track: ReplicaTrack, nowMs: number): void {
    track.episodes++;
    const backoffMs = Math.min(this.settings.backoffMs * 2 ** Math.min(track.episodes - 1, 30), Math.max(this.settings.backoffMs, MAX_BACKOFF_MS));
    track.backoffUntilMs = nowMs + backoffMs;
    track.lastEpisodeEndMs = nowMs;
  }

  /** The first rung at or after `fromIndex` that can run now (checkpoint rungs need a complete one). */
  private usableRung(track: ReplicaTrack, fromIndex: number, nowMs: number): number | null {
    const hasCheckpoint = this.book.newestComplete() !== null;
    for (let index = fromIndex; index < this.settings.ladder.length; index++) {
      const rung = this.settings.ladder[index]!;
      if (!rungNeedsCheckpoint(rung) || hasCheckpoint) return index;
      this.notice(track, 'no-checkpoint', `${rung} needs a complete checkpoint and there is none yet: skipping it`, nowMs, `no-checkpoint:${rung}`);
    }
    return null;
  }

  private remainingRungs(rungIndex: number): RemediationRung[] {
    return rungIndex < 0 ? [] : this.settings.ladder.slice(rungIndex + 1);
  }

  /** Guards shared by a manual rung and an approved plan; null when the rung may start. */
  private startGuard(rung: RemediationRung): { code: SkipCode; text: string } | null {
    if (this.book.pending() !== null) return { code: 'checkpoint-in-progress', text: 'a checkpoint is being taken; try again when it is done' };
    if (rungNeedsCheckpoint(rung) && this.book.newestComplete() === null) {
      return { code: 'no-checkpoint', text: `${rung} needs a complete checkpoint; none exists yet (one is taken while every replica agrees)` };
    }
    return null;
  }

  /** The strict-majority rule over ALL the profile's replicas, from the last comparison. */
  private majority(): Majority {
    const report = this.lastComparison;
    const count = this.replicaCount;
    if (report === null) return { held: false, agreeing: [], voters: [], text: 'no comparison has been reported yet' };
    const agreeing = report.agreeing;
    const held = !report.noMajority && agreeing.length * 2 > count;
    let text: string;
    if (held) text = `${agreeing.length} of ${count} replicas agree (${agreeing.join(', ')})`;
    else if (count <= 2) text = `with ${count} replicas no strict majority is possible, so RetroVisor cannot tell which one is wrong`;
    else if (report.noMajority) text = `there is no majority: ${report.voters.join(', ')} all differ`;
    else if (agreeing.length * 2 === count) text = `a tie: ${agreeing.length} of ${count} agree; a strict majority needs more than ${count / 2}`;
    else text = `only ${agreeing.length} of ${count} replicas agree; a strict majority needs more than ${count / 2}`;
    return { held, agreeing: [...agreeing], voters: [...report.voters], text };
  }

  private triggerText(track: ReplicaTrack, trigger: Trigger, nowMs: number): string {
    return trigger.cause === 'outlier'
      ? `${track.id} has been the outlier for ${nowMs - trigger.sinceMs} ms (outlierMs ${this.settings.outlierMs})`
      : `${track.id} is lost and its domain is "${track.domain ?? 'unknown'}"`;
  }

  private busyOther(track: ReplicaTrack): ReplicaTrack | null {
    return this.tracks.find((other) => other !== track && isBusy(other.lifecycle)) ?? null;
  }

  private attemptsInWindow(track: ReplicaTrack, nowMs: number): number {
    track.attempts = track.attempts.filter((time) => nowMs - time < RATE_WINDOW_MS);
    return track.attempts.length;
  }

  private newPlan(track: ReplicaTrack, rung: RemediationRung, rungIndex: number, evidence: PlanEvidence): RemediationPlan {
    this.planCounter++;
    return { planId: `plan-${this.planCounter}`, replicaId: track.id, rung, rungIndex, manual: rungIndex < 0, evidence };
  }

  // --- checkpoints ----------------------------------------------------------------------------

  private checkpointGuard(): { code: SkipCode; text: string } | null {
    if (this.book.pending() !== null) return { code: 'checkpoint-in-progress', text: `${this.book.pending()?.name} is still being taken` };
    const busy = this.tracks.find((track) => isBusy(track.lifecycle));
    if (busy !== undefined) return { code: 'remediation-running', text: `${busy.id} is being remediated` };
    if (this.allAgreeSinceMs === null) return { code: 'not-all-agree', text: 'not every replica agrees (a checkpoint must capture one common state)' };
    // A checkpoint missing one replica's snapshot is incomplete: do not start one that must fail.
    const unreachable = this.tracks.filter((track) => !track.controllable).map((track) => track.id);
    if (unreachable.length > 0) return { code: 'not-controllable', text: `${unreachable.join(', ')} ha${unreachable.length === 1 ? 's' : 've'} no L0 RetroVisor can reach` };
    return null;
  }

  private evaluateCheckpoints(nowMs: number): void {
    // Observe mode never touches an L0 by itself; a manual checkpoint is still possible.
    if (this.settings.mode === 'observe' || this.checkpointGuard() !== null) return;
    if (this.book.newestComplete() === null) {
      if (this.checkpointRetryAtMs !== null && nowMs < this.checkpointRetryAtMs) return;
      const retry = this.checkpointFailures > 0 ? ` (retry ${this.checkpointFailures} after a failed one)` : '';
      this.takeCheckpoint('first-agreement', `every replica agrees and there is no complete checkpoint yet${retry}`, nowMs);
      return;
    }
    if (this.book.isDue(nowMs, this.settings.checkpoint.everyMs, this.allAgreeSinceMs)) {
      this.takeCheckpoint('periodic', `every replica agrees and the newest checkpoint is at least ${this.settings.checkpoint.everyMs} ms old`, nowMs);
    }
  }

  private takeCheckpoint(kind: CheckpointKind, why: string, nowMs: number): void {
    const record = this.book.begin(nowMs);
    this.emit({ type: 'take-checkpoint', name: record.name, kind, reason: why, atMs: nowMs });
  }

  private checkpointFailed(record: CheckpointRecord, nowMs: number, detail?: string): void {
    this.checkpointFailures++;
    if (this.book.newestComplete() === null) {
      this.checkpointRetryAtMs = nowMs + Math.min(CHECKPOINT_RETRY_MS * 2 ** Math.min(this.checkpointFailures - 1, 30), MAX_BACKOFF_MS);
    }
    const failed = Object.entries(record.perReplica)
      .filter(([, status]) => status !== 'ok')
      .map(([id, status]) => `${id} ${status}`);
    const why = detail ?? (failed.length > 0 ? `not every replica succeeded: ${failed.join(', ')}` : 'the journal seq was not reported');
    this.emit({
      type: 'alert',
      severity: 'warning',
      message: `checkpoint ${record.name} is incomplete and will not be used`,
      reason: this.checkpointRetryAtMs === null ? why : `${why}; retrying at ${this.checkpointRetryAtMs} at the earliest`,
      atMs: nowMs,
    });
  }

  // --- plumbing -------------------------------------------------------------------------------

  private track(replicaId: string): ReplicaTrack | undefined {
    const track = this.byId.get(replicaId);
    if (track === undefined) this.refuse(undefined, this.lastNowMs, `unknown replica "${replicaId.slice(0, 64)}"`);
    return track;
  }

  private move(track: ReplicaTrack, event: LifecycleEvent, nowMs: number): boolean {
    const result = transitionLifecycle(track.lifecycle, event);
    if (!result.ok) {
      this.refuse(track.id, nowMs, `${track.id}: ${result.error}`);
      return false;
    }
    track.lifecycle = result.state;
    if (result.state.name === 'healthy') track.notices.clear();
    return true;
  }

  /** A skip given once per episode and key (not once per tick). */
  private notice(track: ReplicaTrack, code: SkipCode, reason: string, nowMs: number, key: string = code): void {
    if (track.notices.has(key)) return;
    track.notices.add(key);
    this.emit({ type: 'skip', code, replicaId: track.id, reason, atMs: nowMs });
  }

  private refuse(replicaId: string | undefined, nowMs: number, reason: string): void {
    this.warn?.(reason);
    this.emit(replicaId === undefined ? { type: 'refused', reason, atMs: nowMs } : { type: 'refused', replicaId, reason, atMs: nowMs });
  }

  private emit(decision: RemediationDecision): void {
    this.decisions.push(decision);
    if ('replicaId' in decision && decision.replicaId !== undefined) {
      const track = this.byId.get(decision.replicaId);
      if (track !== undefined) track.lastDecision = describeDecision(decision);
    }
  }
}
