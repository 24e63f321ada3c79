// The remediation manager of one open session: feeds the pure RemediationCore with what the back end
// observes (replica states, divergence reports, domain states, time) and carries out its decisions —
// checkpoints on every replica's L0, the ladder's rungs (revert / restart through virsh, then the
// journal replayed by the UI), quarantine — auditing every decision and every command. Runs in Node.

import type {
  AuditEntry,
  CheckpointView,
  ManagerCommand,
  ManagerCommandAnswer,
  ReplicaActionName,
  RemediationView,
} from '../../common/contract';
import { MAX_AUDIT_ENTRIES_IN_VIEW } from '../../common/contract';
import { isL0Error, type L0Driver } from '../../common/l0';
import type { Profile } from '../../common/profile';
import type { CheckpointRecord } from '../../common/remediation/checkpoints';
import { RemediationCore, describeDecision, type ComparisonReport, type RemediationDecision } from '../../common/remediation/remediation-core';
import { remediationSettingsOf, type RemediationRung } from '../../common/remediation/remediation-settings';
import { errorMessage, type Logger } from '../logger';
import type { AuditLog } from './audit-log';

/** How often a lost replica's domain state is asked of its L0 (the trigger "lost while its domain is down"). */
export const LOST_DOMAIN_POLL_MS = 5_000;
/** How long a checkpoint waits for every replica to agree on settled screens before giving up. */
export const CHECKPOINT_AGREEMENT_TIMEOUT_MS = 15_000;
/** How long a reverted or restarted replica may take to serve VNC again. */
export const RECONNECT_TIMEOUT_MS = 60_000;

/** A replica the manager can act on: its L0 driver, its domain and the L0's name. */
export interface ReplicaL0 {
  readonly driver: L0Driver;
  readonly domain: string;
  readonly l0: string;
}

/** What the manager tells listeners (`retrovisor run --json` prints these). */
export type ManagerEvent =
  | { readonly type: 'checkpoint'; readonly sessionId: string; readonly name: string; readonly status: 'started' | 'succeeded' | 'failed'; readonly detail?: string }
  | {
      readonly type: 'remediation';
      readonly sessionId: string;
      readonly replica: string;
      readonly action: string;
      readonly status: 'planned' | 'started' | 'succeeded' | 'failed' | 'skipped';
      readonly detail: string;
    }
  | { readonly type: 'alert'; readonly sessionId: string; readonly severity: 'info' | 'warning' | 'critical'; readonly message: string; readonly replica?: string };

/** What one session's manager needs from the back end. */
export interface SessionManagerOptions {
  readonly sessionId: string;
  readonly profile: Profile;
  /** Replicas with an L0 and a domain (others are observed only). */
  readonly l0s: ReadonlyMap<string, ReplicaL0>;
  readonly audit: AuditLog;
  readonly logger: Logger;
  /** Runs a command in the session's UI (UiCommandBus.run bound to the session). */
  readonly ui: (command: ManagerCommand) => Promise<ManagerCommandAnswer>;
  /** The session's view changed. */
  readonly publish: (view: RemediationView) => void;
  readonly emit: (event: ManagerEvent) => void;
  readonly notify: (level: 'info' | 'warning' | 'error', message: string) => void;
  /** Settle + confirm of the session's comparison: how long agreement must hold to count. */
  readonly agreementQuietMs: number;
  readonly now?: () => number;
  /** How often a lost replica's domain state is polled; LOST_DOMAIN_POLL_MS unless a test needs it shorter. */
  readonly lostDomainPollMs?: number;
}

/** A rung or checkpoint failed; the message is for the audit log and the user. */
class StepError extends Error {
  override readonly name = 'StepError';
}

/** How long each step of a rung or a checkpoint took, for its audit entry: where the time went. */
class StepTimes {
  private readonly steps: string[] = [];

  constructor(private readonly now: () => number) {}

  /** Runs `work` and notes its duration under `step`, whether it succeeds or fails. */
  async time<T>(step: string, work: () => Promise<T>): Promise<T> {
    const startedMs = this.now();
    try {
      return await work();
    } finally {
      this.steps.push(`${step} ${Math.round(this.now() - startedMs)} ms`);
    }
  }

  /** " (steps: isolate 3 ms, snapshot-revert 2410 ms, …)", or '' when no step ran. */
  text(suffix = ''): string {
    return this.steps.length === 0 ? '' : ` (steps: ${this.steps.join(', ')}${suffix})`;
  }
}

/** One session's remediation manager. */
export class SessionManager {
  private readonly core: RemediationCore;
  private readonly now: () => number;
  private readonly lostDomainPollMs: number;
  private readonly connected = new Set<string>();
  /** The last divergence report's split (null: every compared replica agrees). */
  private divergence: { outliers: readonly string[]; agreeing: readonly string[]; noMajority: boolean; evidenceRef?: string } | null = null;
  private wakeTimer: NodeJS.Timeout | null = null;
  private readonly pollTimers = new Map<string, NodeJS.Timeout>();
  private readonly checkpointWaiters = new Map<string, (record: CheckpointView | Error) => void>();
  private closed = false;
  /** Observations that arrived before the L0s' existing snapshots were listed, in order. */
  private pending: (() => void)[] | null = [];

  constructor(private readonly options: SessionManagerOptions) {
    this.now = options.now ?? (() => Date.now());
    this.lostDomainPollMs = options.lostDomainPollMs ?? LOST_DOMAIN_POLL_MS;
    // Controllable: the replicas whose L0 this back end can reach (a simulated L0 only with its demo lab).
    this.core = new RemediationCore({
      replicaIds: options.profile.replicas.map((replica) => replica.id),
      settings: remediationSettingsOf(options.profile),
      profileName: options.profile.name,
      controllable: [...options.l0s.keys()],
      warn: (message) => options.logger.warn('remediation: refused transition', { message }),
    });
    // Until the UI reports them, replicas are not connected (the core starts them as connected).
    for (const replica of options.profile.replicas) this.apply(this.core.replicaState(replica.id, 'lost', this.now()));
    void this.listExistingSnapshots();
  }

  /**
   * Reads the snapshot names already on every replica's L0 (a previous run's checkpoints) before the
   * core sees anything, so the checkpoints it names never collide with them. Observe mode takes no
   * checkpoints, so it lists none: the only thing it ever asks an L0 is a lost replica's domain state (read-only).
   */
  private async listExistingSnapshots(): Promise<void> {
    if (this.core.settings.mode !== 'observe') {
      await Promise.all(
        [...this.options.l0s.entries()].map(async ([replicaId, { driver, domain }]) => {
          try {
            this.core.observeExistingSnapshots(await driver.listSnapshots(domain));
          } catch (error) {
            this.audit({ kind: 'alert', replicaId, outcome: 'failed', detail: `cannot list the snapshots of ${domain}: ${errorMessage(error)}` });
          }
        }),
      );
    }
    const pending = this.pending ?? [];
    this.pending = null;
    for (const observe of pending) observe();
  }

  /** Runs an observation now, or once the existing snapshots are known. */
  private whenReady(observe: () => void): void {
    if (this.pending === null) observe();
    else this.pending.push(observe);
  }

  /** The view the UI shows. */
  view(): RemediationView {
    const snapshot = this.core.snapshot(this.now());
    const settings = this.core.settings;
    return {
      sessionId: this.options.sessionId,
      mode: settings.mode,
      canAct: this.options.l0s.size > 0,
      replicas: snapshot.replicas.map((replica) => ({
        replicaId: replica.replicaId,
        state: replica.state,
        ...(replica.rung === null ? {} : { action: replica.rung }),
        detail: replica.lastDecision ?? replica.label,
        attemptsLastHour: replica.attemptsLastHour,
        ...(replica.backoffUntilMs === null ? {} : { backoffUntilMs: replica.backoffUntilMs }),
      })),
      checkpoints: snapshot.checkpoints.map(checkpointView),
      pending:
        snapshot.pendingConfirmation === null
          ? []
          : [
              {
                planId: snapshot.pendingConfirmation.planId,
                replicaId: snapshot.pendingConfirmation.replicaId,
                action: snapshot.pendingConfirmation.rung,
                reason: `${snapshot.pendingConfirmation.replicaId} disagrees with ${snapshot.pendingConfirmation.evidence.agreeing.join(', ')}; then: ${[...snapshot.pendingConfirmation.then, 'quarantine'].join(', ')}`,
                ...(snapshot.pendingConfirmation.evidence.evidenceRef === null ? {} : { evidenceFolder: snapshot.pendingConfirmation.evidence.evidenceRef }),
              },
            ],
      audit: this.options.audit.entries().slice(-MAX_AUDIT_ENTRIES_IN_VIEW),
      auditFile: this.options.audit.file,
    };
  }

  /** A replica's VNC session state from the UI. */
  replicaState(replicaId: string, state: string): void {
    this.whenReady(() => this.observeReplicaState(replicaId, state));
  }

  private observeReplicaState(replicaId: string, state: string): void {
    const isConnected = state === 'connected';
    if (isConnected) this.connected.add(replicaId);
    else this.connected.delete(replicaId);
    this.apply(this.core.replicaState(replicaId, isConnected ? 'connected' : 'lost', this.now()));
    if (isConnected) this.stopPolling(replicaId);
    else this.startPolling(replicaId);
    this.compare();
  }

  /** A divergence or consensus report of the UI's comparison. */
  divergenceReport(report: { kind: 'divergence' | 'consensus'; outliers: readonly string[]; agreeing: readonly string[]; noMajority: boolean }, evidenceFolder: string | null): void {
    this.whenReady(() => this.observeDivergence(report, evidenceFolder));
  }

  private observeDivergence(report: { kind: 'divergence' | 'consensus'; outliers: readonly string[]; agreeing: readonly string[]; noMajority: boolean }, evidenceFolder: string | null): void {
    this.divergence =
      report.kind === 'consensus'
        ? null
        : { outliers: report.outliers, agreeing: report.agreeing, noMajority: report.noMajority, ...(evidenceFolder === null ? {} : { evidenceRef: evidenceFolder }) };
    this.compare();
  }

  /** The user's answer to a remediation waiting for confirmation. */
  confirm(planId: string, approve: boolean): void {
    this.apply(this.core.confirm(planId, approve, this.now()));
  }

  /** Takes a checkpoint now; resolves with it once taken, rejects when the core refuses or it fails. */
  takeCheckpoint(): Promise<CheckpointView> {
    const decisions = this.core.requestCheckpoint(this.now());
    const started = decisions.find((decision) => decision.type === 'take-checkpoint');
    if (started === undefined || started.type !== 'take-checkpoint') {
      this.apply(decisions);
      const skip = decisions.find((decision) => decision.type === 'skip');
      return Promise.reject(new Error(skip?.reason ?? 'no checkpoint was taken'));
    }
    const done = new Promise<CheckpointView>((resolve, reject) => {
      this.checkpointWaiters.set(started.name, (outcome) => (outcome instanceof Error ? reject(outcome) : resolve(outcome)));
    });
    this.apply(decisions);
    return done;
  }

  /** A replica's actions menu. */
  async replicaAction(replicaId: string, action: ReplicaActionName): Promise<string> {
    const target = this.options.l0s.get(replicaId);
    const needL0 = (): ReplicaL0 => {
      if (target === undefined) throw new Error(`${replicaId} has no "l0" and "domain" in the profile: RetroVisor cannot act on its domain`);
      return target;
    };
    switch (action) {
      case 'domain-state': {
        const { driver, domain, l0 } = needL0();
        const state = await driver.domainState(domain);
        return `${replicaId}: domain ${domain} on ${l0} is ${state}`;
      }
      case 'checkpoint': {
        const checkpoint = await this.takeCheckpoint();
        return checkpoint.complete ? `checkpoint ${checkpoint.name} taken at input #${checkpoint.seq}` : `checkpoint ${checkpoint.name} failed on ${checkpoint.failed.join(', ')}`;
      }
      case 'destroy':
      case 'start': {
        const { driver, domain } = needL0();
        this.audit({ kind: 'decision', replicaId, action, outcome: 'started', detail: `${action} ${domain} requested by the user` });
        await (action === 'destroy' ? driver.destroy(domain) : driver.start(domain));
        return `${replicaId}: ${action} ${domain} done`;
      }
      case 'include':
        this.apply(this.core.requestManual(replicaId, 'include-again', this.now()));
        return `${replicaId} is included again`;
      default: {
        const decisions = this.core.requestManual(replicaId, action, this.now());
        this.apply(decisions);
        const skip = decisions.find((decision) => decision.type === 'skip');
        if (skip !== undefined) throw new Error(skip.reason);
        return `${action} on ${replicaId} started`;
      }
    }
  }

  /** Stops timers; running steps finish but decide nothing more. */
  close(): void {
    this.closed = true;
    if (this.wakeTimer !== null) clearTimeout(this.wakeTimer);
    for (const timer of this.pollTimers.values()) clearTimeout(timer);
    this.pollTimers.clear();
    for (const waiter of this.checkpointWaiters.values()) waiter(new Error('the session was closed'));
    this.checkpointWaiters.clear();
  }

  // ---------------------------------------------------------------------------------------------

  /** The comparison as the core needs it: voters are the connected replicas that vote. */
  private compare(): void {
    const nonVoting = new Set(this.core.nonVoting());
    const voters = this.options.profile.replicas.map((replica) => replica.id).filter((id) => this.connected.has(id) && !nonVoting.has(id));
    const split = this.divergence;
    const report: ComparisonReport =
      split === null
        ? { outliers: [], agreeing: voters, noMajority: false, voters }
        : {
            outliers: split.outliers.filter((id) => voters.includes(id)),
            agreeing: split.agreeing.filter((id) => voters.includes(id)),
            noMajority: split.noMajority,
            voters,
            ...(split.evidenceRef === undefined ? {} : { evidenceRef: split.evidenceRef }),
          };
    this.apply(this.core.comparison(report, this.now()));
  }

  /** Audits, publishes and carries out decisions, then schedules the next tick. */
  private apply(decisions: readonly RemediationDecision[]): void {
    if (this.closed) return;
    for (const decision of decisions) this.carryOut(decision);
    this.scheduleWake();
    this.options.publish(this.view());
  }

  private carryOut(decision: RemediationDecision): void {
    const sessionId = this.options.sessionId;
    const text = describeDecision(decision);
    this.options.logger.info('remediation decision', { decision: decision.type, text });
    switch (decision.type) {
      case 'plan':
        this.audit({ kind: 'decision', replicaId: decision.replicaId, action: decision.rung, outcome: 'planned', detail: text });
        this.options.emit({ type: 'remediation', sessionId, replica: decision.replicaId, action: decision.rung, status: 'planned', detail: decision.reason });
        if (decision.needsConfirmation) this.options.notify('warning', `RetroVisor asks before it acts: ${decision.rung} on ${decision.replicaId} — ${decision.reason}`);
        return;
      case 'would-act':
        this.audit({ kind: 'decision', replicaId: decision.replicaId, action: decision.rung, outcome: 'would-act', detail: text });
        this.options.emit({ type: 'remediation', sessionId, replica: decision.replicaId, action: decision.rung, status: 'skipped', detail: `observe mode: would ${decision.rung} — ${decision.reason}` });
        return;
      case 'skip':
        this.audit({ kind: 'decision', ...(decision.replicaId === undefined ? {} : { replicaId: decision.replicaId }), outcome: 'skipped', detail: text });
        if (decision.replicaId !== undefined) {
          this.options.emit({ type: 'remediation', sessionId, replica: decision.replicaId, action: 'none', status: 'skipped', detail: decision.reason });
        }
        return;
      case 'refused':
        this.audit({ kind: 'decision', ...(decision.replicaId === undefined ? {} : { replicaId: decision.replicaId }), outcome: 'refused', detail: text });
        return;
      case 'alert': {
        this.audit({ kind: 'alert', ...(decision.replicaId === undefined ? {} : { replicaId: decision.replicaId }), outcome: decision.severity, detail: text });
        this.options.emit({ type: 'alert', sessionId, severity: decision.severity, message: decision.message, ...(decision.replicaId === undefined ? {} : { replica: decision.replicaId }) });
        this.options.notify(decision.severity === 'critical' ? 'error' : decision.severity === 'warning' ? 'warning' : 'info', `${decision.message} (${decision.reason})`);
        return;
      }
      case 'take-checkpoint':
        this.audit({ kind: 'checkpoint', action: decision.kind, outcome: 'started', detail: text });
        void this.runCheckpoint(decision.name);
        return;
      case 'delete-checkpoints':
        this.audit({ kind: 'checkpoint', action: 'delete', outcome: 'started', detail: text });
        void this.deleteCheckpoints(decision.names);
        return;
      case 'run-rung':
        this.audit({ kind: 'remediation', replicaId: decision.replicaId, action: decision.rung, outcome: 'started', detail: text });
        this.options.emit({ type: 'remediation', sessionId, replica: decision.replicaId, action: decision.rung, status: 'started', detail: decision.reason });
        void this.runRung(decision.replicaId, decision.rung, decision.checkpoint, decision.deadlineMs);
        return;
      case 'quarantine':
        this.audit({ kind: 'remediation', replicaId: decision.replicaId, action: 'quarantine', outcome: 'succeeded', detail: text });
        this.options.emit({ type: 'remediation', sessionId, replica: decision.replicaId, action: 'quarantine', status: 'succeeded', detail: decision.reason });
        this.uiQuietly({ type: 'isolate', replicaId: decision.replicaId });
        return;
      case 'include-again':
        this.audit({ kind: 'decision', replicaId: decision.replicaId, action: 'include', outcome: 'succeeded', detail: text });
        this.uiQuietly({ type: 'rejoin', replicaId: decision.replicaId });
        return;
    }
  }

  /** Hold input, check that every replica agrees, snapshot all of them in parallel, release input. */
  private async runCheckpoint(name: string): Promise<void> {
    const sessionId = this.options.sessionId;
    this.options.emit({ type: 'checkpoint', sessionId, name, status: 'started' });
    const replicaIds = this.options.profile.replicas.map((replica) => replica.id);
    const perReplica: Record<string, 'ok' | 'failed'> = {};
    let seq: number | null = null;
    let failure: string | null = null;
    let held = false;
    let holdSent = false;
    const steps = new StepTimes(this.now);
    const holdStartedMs = this.now();
    try {
      const missing = replicaIds.filter((id) => !this.options.l0s.has(id));
      if (missing.length > 0) {
        // Either the profile names no L0 for them, or it names a simulated one and the demo lab is not running.
        throw new StepError(`${missing.join(', ')} ha${missing.length === 1 ? 's' : 've'} no L0 RetroVisor can reach (no "l0" and "domain" in the profile, or a simulated L0 without the demo lab)`);
      }
      holdSent = true;
      const holdAnswer = await steps.time('hold-input', () => this.ui({ type: 'hold-input' }));
      held = true;
      const agreement = await steps.time('await-agreement', () =>
        this.ui({ type: 'await-agreement', replicaIds, quietMs: this.options.agreementQuietMs, timeoutMs: CHECKPOINT_AGREEMENT_TIMEOUT_MS }),
      );
      if (agreement.agreed !== true) throw new StepError(`not every replica agrees on settled screens (${(agreement.outliers ?? []).join(', ') || 'unknown'})`);
      const outcomes = await steps.time('snapshots', () =>
        Promise.allSettled(
          replicaIds.map(async (id) => {
            const target = this.options.l0s.get(id);
            if (target === undefined) throw new StepError(`${id} has no L0`);
            await target.driver.snapshotCreate(target.domain, name);
          }),
        ),
      );
      outcomes.forEach((outcome, index) => {
        const id = replicaIds[index] as string;
        perReplica[id] = outcome.status === 'fulfilled' ? 'ok' : 'failed';
        if (outcome.status === 'rejected') failure ??= `${id}: ${errorMessage(outcome.reason)}`;
      });
      seq = holdAnswer.seq ?? 0;
    } catch (error) {
      failure = errorMessage(error);
    } finally {
      if (held) {
        await steps
          .time('release-input', () => this.ui({ type: 'release-input' }))
          .catch((error: unknown) => this.options.logger.warn('input release after a checkpoint failed', { error: errorMessage(error) }));
      } else if (holdSent) {
        // The hold went unanswered (no window, or one too slow): a window that carries it out late must
        // not keep input held. Not awaited: with no window at all it would only delay the outcome.
        this.ui({ type: 'release-input' }).catch((error: unknown) => this.options.logger.debug('input release after an unanswered hold failed', { error: errorMessage(error) }));
      }
    }
    const heldText = held ? `; input held ${Math.round(this.now() - holdStartedMs)} ms` : '';
    for (const id of replicaIds) perReplica[id] ??= 'failed';
    const decisions = this.core.checkpointFinished({ name, seq: failure === null ? seq : null, perReplica }, this.now());
    const record = this.core.snapshot(this.now()).checkpoints.find((checkpoint) => checkpoint.name === name);
    const view = record === undefined ? null : checkpointView(record);
    const ok = view?.complete === true;
    this.audit({ kind: 'checkpoint', action: 'take', outcome: ok ? 'succeeded' : 'failed', detail: `${ok ? `${name} taken at input #${seq}` : `${name} failed: ${failure ?? 'incomplete'}`}${steps.text(heldText)}` });
    this.options.emit({ type: 'checkpoint', sessionId, name, status: ok ? 'succeeded' : 'failed', ...(ok ? {} : { detail: failure ?? 'incomplete' }) });
    this.apply(decisions);
    const waiter = this.checkpointWaiters.get(name);
    this.checkpointWaiters.delete(name);
    if (waiter !== undefined) waiter(view ?? new Error(failure ?? `checkpoint ${name} failed`));
  }

  private async deleteCheckpoints(names: readonly string[]): Promise<void> {
    for (const name of names) {
      await Promise.allSettled(
        [...this.options.l0s.values()].map(async ({ driver, domain }) => {
          try {
            await driver.snapshotDelete(domain, name);
          } catch (error) {
            if (!(isL0Error(error) && error.code === 'no-such-snapshot')) throw error;
          }
        }),
      );
    }
  }

  /** One rung of the ladder on one replica; ends by telling the core whether the replica agrees again. */
  private async runRung(replicaId: string, rung: RemediationRung, checkpoint: { name: string; seq: number } | null, deadlineMs: number): Promise<void> {
    const sessionId = this.options.sessionId;
    const remaining = (): number => Math.max(1_000, deadlineMs - this.now());
    let outcome: 'agreed' | 'failed' = 'failed';
    let detail = '';
    const steps = new StepTimes(this.now);
    try {
      const target = this.options.l0s.get(replicaId);
      if (target === undefined) throw new StepError(`${replicaId} has no "l0" and "domain" in the profile`);
      const { driver, domain } = target;
      // From here on the replica gets no live input (it is kept for the replay) and has no vote.
      await steps.time('isolate', () => this.ui({ type: 'isolate', replicaId }));
      switch (rung) {
        case 'revert-replay': {
          if (checkpoint === null) throw new StepError('no complete checkpoint to revert to');
          const { name } = checkpoint;
          await steps.time('snapshot-revert', () => driver.snapshotRevert(domain, name));
          break;
        }
        case 'restart-replay': {
          if (checkpoint === null) throw new StepError('no complete checkpoint to revert to');
          const { name } = checkpoint;
          try {
            await steps.time('destroy', () => driver.destroy(domain));
          } catch (error) {
            if (!(isL0Error(error) && error.code === 'invalid-state')) throw error;
          }
          await steps.time('start', () => driver.start(domain));
          await steps.time('snapshot-revert', () => driver.snapshotRevert(domain, name));
          break;
        }
        case 'reset':
          await steps.time('reset', () => driver.reset(domain));
          break;
        case 'reboot':
          await steps.time('reboot', () => driver.reboot(domain));
          break;
      }
      await steps.time('reconnect', () => this.ui({ type: 'reconnect', replicaId, timeoutMs: Math.min(RECONNECT_TIMEOUT_MS, remaining()) }));
      const donorId = this.donorFor(replicaId);
      if (checkpoint !== null) {
        if (donorId === null) throw new StepError('no agreeing replica to take the input journal from');
        const replay = await steps.time('replay', () => this.ui({ type: 'replay', replicaId, donorId, afterSeq: checkpoint.seq, timeoutMs: remaining() }));
        detail = `${replay.replayed ?? 0} input(s) replayed since checkpoint ${checkpoint.name}`;
      } else {
        await steps.time('rejoin', () => this.ui({ type: 'rejoin', replicaId }));
        detail = `${rung} done without a checkpoint: the guest restarted fresh`;
      }
      const voters = this.options.profile.replicas.map((replica) => replica.id).filter((id) => id === replicaId || (this.connected.has(id) && !this.core.nonVoting().includes(id)));
      const verdict = await steps.time('await-agreement', () => this.ui({ type: 'await-agreement', replicaIds: voters, quietMs: this.options.agreementQuietMs, timeoutMs: remaining() }));
      if (verdict.agreed === true) outcome = 'agreed';
      else detail = `${detail}; it still disagrees (${(verdict.outliers ?? []).join(', ') || 'unknown'})`;
    } catch (error) {
      detail = errorMessage(error);
    }
    if (outcome === 'failed') {
      // Back out of the broadcast and the vote until the next rung (a rung without replay rejoined it).
      await this.ui({ type: 'isolate', replicaId }).catch(() => undefined);
    }
    // The audit entry also says where the time went; the event keeps the short account.
    this.audit({ kind: 'remediation', replicaId, action: rung, outcome: outcome === 'agreed' ? 'succeeded' : 'failed', detail: `${detail}${steps.text()}` });
    this.options.emit({ type: 'remediation', sessionId, replica: replicaId, action: rung, status: outcome === 'agreed' ? 'succeeded' : 'failed', detail });
    this.apply(this.core.rungFinished(replicaId, rung, outcome, detail, this.now()));
    // The replica votes again (or not): the core judges agreement, and checkpoints, on today's voters.
    this.compare();
  }

  /** A replica of the agreeing majority whose input history the remediated replica takes. */
  private donorFor(replicaId: string): string | null {
    const nonVoting = new Set(this.core.nonVoting());
    const candidates = this.options.profile.replicas
      .map((replica) => replica.id)
      .filter((id) => id !== replicaId && this.connected.has(id) && !nonVoting.has(id) && !(this.divergence?.outliers.includes(id) ?? false));
    return candidates[0] ?? null;
  }

  /** Sends a command to the session's UI; none once the manager is closed (that session's window is gone). */
  private ui(command: ManagerCommand): Promise<ManagerCommandAnswer> {
    if (this.closed) return Promise.reject(new StepError('the session was closed'));
    return this.options.ui(command);
  }

  private uiQuietly(command: ManagerCommand): void {
    this.ui(command).catch((error: unknown) => {
      this.audit({ kind: 'alert', ...('replicaId' in command ? { replicaId: command.replicaId } : {}), outcome: 'failed', detail: `${command.type}: ${errorMessage(error)}` });
    });
  }

  private startPolling(replicaId: string): void {
    const target = this.options.l0s.get(replicaId);
    if (target === undefined || this.pollTimers.has(replicaId) || this.closed) return;
    const poll = (): void => {
      target.driver.domainState(target.domain).then(
        (state) => this.apply(this.core.domainState(replicaId, state, this.now())),
        (error: unknown) => this.options.logger.debug('domain state poll failed', { replicaId, error: errorMessage(error) }),
      );
      const timer = setTimeout(poll, this.lostDomainPollMs);
      timer.unref();
      this.pollTimers.set(replicaId, timer);
    };
    // Give a server restart a moment before asking: most losses are a VNC reconnect, not a dead domain.
    const timer = setTimeout(poll, this.lostDomainPollMs);
    timer.unref();
    this.pollTimers.set(replicaId, timer);
  }

  private stopPolling(replicaId: string): void {
    const timer = this.pollTimers.get(replicaId);
    if (timer !== undefined) clearTimeout(timer);
    this.pollTimers.delete(replicaId);
  }

  private scheduleWake(): void {
    if (this.wakeTimer !== null) clearTimeout(this.wakeTimer);
    this.wakeTimer = null;
    const wakeMs = this.core.nextWakeMs();
    if (wakeMs === null || this.closed) return;
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = null;
      this.apply(this.core.tick(this.now()));
    }, Math.max(0, wakeMs - this.now()));
    this.wakeTimer.unref();
  }

  private audit(entry: Omit<AuditEntry, 'timeMs'>): void {
    this.options.audit.append({ timeMs: this.now(), ...entry });
  }
}

/** The contract's view of a checkpoint record. */
function checkpointView(record: CheckpointRecord): CheckpointView {
  return {
    name: record.name,
    seq: record.seq ?? 0,
    takenAtMs: record.takenAtMs,
    complete: record.complete,
    failed: Object.entries(record.perReplica)
      .filter(([, status]) => status !== 'ok')
      .map(([id]) => id),
  };
}
