// The back end's remediation service: one SessionManager per open session, its L0 drivers (virsh over
// the pooled SSH connection for real L0s, the demo lab's simulated L0), its audit log, the commands
// it sends the UI, and the contract calls of the manager. Node-side.

import type {
  CheckpointView,
  DivergenceReport,
  ManagerCommandAnswer,
  ReplicaActionName,
  ReplicaStatusReport,
  RemediationView,
} from '../../common/contract';
import { divergenceSettingsOf } from '../../common/profile';
import type { L0Driver } from '../../common/l0';
import type { EventService } from '../backend/event-service';
import { Listeners } from '../backend/listeners';
import type { SessionService } from '../backend/session-service';
import { errorMessage, type Logger, type SecretRedactor } from '../logger';
import type { Session } from '../sessions';
import type { SshL0Pool } from '../ssh-l0';
import { VirshL0Driver, sshVirshExec, type VirshCommandRecord } from '../l0/virsh-l0';
import { AuditLog, auditFilePath } from './audit-log';
import { auditedDriver } from './audited-driver';
import { SessionManager, type ManagerEvent, type ReplicaL0 } from './session-manager';
import { UiCommandBus } from './ui-commands';

/** What the service needs from the back end. */
export interface RemediationServiceOptions {
  readonly logger: Logger;
  readonly redactor: SecretRedactor;
  readonly sessions: SessionService;
  readonly events: EventService;
  readonly ssh: SshL0Pool;
  /** Where audit logs go (`<root>/<profile>/audit.jsonl`). */
  readonly dataDirectory: string;
  /** The running demo lab's simulated L0, for profiles whose L0 is `{"simulated": true}`. */
  readonly simulatedL0: () => L0Driver | null;
}

/** The remediation managers of every open session. */
export class RemediationService {
  private readonly managers = new Map<string, { manager: SessionManager; audit: AuditLog }>();
  private readonly bus: UiCommandBus;
  private readonly managerEvents: Listeners<(event: ManagerEvent) => void>;
  private readonly logger: Logger;

  constructor(private readonly options: RemediationServiceOptions) {
    this.logger = options.logger.child({ component: 'remediation' });
    this.bus = new UiCommandBus((event) => options.events.emit('managerCommand', event));
    this.managerEvents = new Listeners(this.logger, 'manager event');
    options.sessions.onSessionClosed((session) => this.forget(session.id, 'the session was closed'));
  }

  /** Listens to checkpoint, remediation and alert events (`retrovisor run --json` prints them). */
  onManagerEvent(listener: (event: ManagerEvent) => void): () => void {
    return this.managerEvents.add(listener);
  }

  /** A replica state report from the UI. */
  replicaReport(report: ReplicaStatusReport): void {
    this.managerOf(report.sessionId)?.replicaState(report.replicaId, report.state);
  }

  /** A divergence report from the UI, with the evidence folder the back end started for it. */
  divergenceReport(report: DivergenceReport, evidenceFolder: string | null): void {
    this.managerOf(report.sessionId)?.divergenceReport(report, evidenceFolder);
  }

  view(sessionId: string): RemediationView {
    return this.require(sessionId).view();
  }

  takeCheckpoint(sessionId: string): Promise<CheckpointView> {
    return this.require(sessionId).takeCheckpoint();
  }

  confirm(sessionId: string, planId: string, approve: boolean): void {
    this.require(sessionId).confirm(planId, approve);
  }

  async replicaAction(sessionId: string, replicaId: string, action: ReplicaActionName): Promise<{ message: string }> {
    const session = this.options.sessions.get(sessionId);
    if (session === undefined || !session.profile.replicas.some((replica) => replica.id === replicaId)) throw new Error(`no replica "${replicaId}" in this session`);
    return { message: await this.require(sessionId).replicaAction(replicaId, action) };
  }

  /** The UI's answer to a command. */
  answer(answer: ManagerCommandAnswer): void {
    this.bus.answer(answer);
  }

  /** Stops every manager and fails what waits on the UI. */
  async close(): Promise<void> {
    const audits = [...this.managers.values()].map((entry) => entry.audit);
    for (const sessionId of [...this.managers.keys()]) this.forget(sessionId, 'RetroVisor is shutting down');
    this.bus.cancel('RetroVisor is shutting down');
    this.managerEvents.clear();
    await Promise.all(audits.map((audit) => audit.close().catch(() => undefined)));
  }

  // ---------------------------------------------------------------------------------------------

  private require(sessionId: string): SessionManager {
    const manager = this.managerOf(sessionId);
    if (manager === undefined) throw new Error(`no open session "${sessionId}"`);
    return manager;
  }

  /** The session's manager, created on first use. */
  private managerOf(sessionId: string): SessionManager | undefined {
    const existing = this.managers.get(sessionId);
    if (existing !== undefined) return existing.manager;
    const session = this.options.sessions.get(sessionId);
    if (session === undefined) return undefined;
    const logger = this.logger.child({ sessionId });
    const audit = new AuditLog(auditFilePath(this.options.dataDirectory, session.profile.name), logger, this.options.redactor);
    const divergence = divergenceSettingsOf(session.profile);
    const manager = new SessionManager({
      sessionId,
      profile: session.profile,
      l0s: this.replicaL0s(session, (record) =>
        audit.append({
          timeMs: Date.now(),
          kind: 'command',
          l0: record.l0,
          argv: record.argv,
          exitStatus: record.exitCode,
          durationMs: Math.round(record.durationMs),
          stderr: record.stderrExcerpt,
          outcome: record.outcome === 'ok' ? 'succeeded' : record.outcome,
          detail: record.argv.join(' '),
        }),
      ),
      audit,
      logger,
      ui: (command) => this.bus.run(sessionId, command),
      publish: (view) => this.options.events.emit('remediation', view),
      emit: (event) => this.managerEvents.emit(event),
      notify: (level, message) => this.options.events.notice({ level, message }),
      agreementQuietMs: divergence.settleMs + divergence.confirmMs,
    });
    this.managers.set(sessionId, { manager, audit });
    return manager;
  }

  /** Each replica's L0 driver and domain, for replicas whose profile entry names both. */
  private replicaL0s(session: Session, onCommand: (record: VirshCommandRecord) => void): Map<string, ReplicaL0> {
    const drivers = new Map<string, L0Driver>();
    const result = new Map<string, ReplicaL0>();
    for (const replica of session.profile.replicas) {
      if (replica.l0 === undefined || replica.domain === undefined) continue;
      const config = Object.prototype.hasOwnProperty.call(session.profile.l0, replica.l0) ? session.profile.l0[replica.l0] : undefined;
      if (config === undefined) continue;
      let driver = drivers.get(replica.l0);
      if (driver === undefined) {
        if (config.kind === 'ssh') {
          const target = { name: replica.l0, ssh: config.ssh, baseDir: session.baseDir, ...(session.keyring === undefined ? {} : { keyring: session.keyring }) };
          driver = new VirshL0Driver({ l0: replica.l0, uri: config.uri, user: config.ssh.user, exec: sshVirshExec(this.options.ssh, target), onCommand });
        } else {
          const simulated = this.options.simulatedL0();
          if (simulated === null) continue;
          driver = auditedDriver(simulated, replica.l0, onCommand);
        }
        drivers.set(replica.l0, driver);
      }
      result.set(replica.id, { driver, domain: replica.domain, l0: replica.l0 });
    }
    return result;
  }

  private forget(sessionId: string, reason: string): void {
    const entry = this.managers.get(sessionId);
    if (entry === undefined) return;
    this.managers.delete(sessionId);
    entry.manager.close();
    this.bus.cancel(reason, sessionId);
    void entry.audit.close().catch((error: unknown) => this.logger.warn('closing an audit log failed', { error: errorMessage(error) }));
  }
}
