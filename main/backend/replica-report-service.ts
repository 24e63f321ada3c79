// Replica state reports from the UI (connecting, connected, auth failed...): paired with their open
// session, logged, and passed on to listeners (the `run` command prints them). Node-side.

import type { ReplicaStatusReport, SessionInfo } from '../../common/contract';
import type { Logger } from '../logger';
import { summarizeSession } from '../sessions';
import { Listeners } from './listeners';
import type { SessionService } from './session-service';

/** A replica state report with the (secret-free) session it belongs to. */
export type ReplicaReportListener = (report: ReplicaStatusReport, session: SessionInfo) => void;

/** What the replica report service needs. */
export interface ReplicaReportServiceOptions {
  readonly logger: Logger;
  readonly sessions: SessionService;
}

/** The back end's side of replica state reports. */
export class ReplicaReportService {
  private readonly reports: Listeners<ReplicaReportListener>;

  constructor(private readonly options: ReplicaReportServiceOptions) {
    this.reports = new Listeners<ReplicaReportListener>(options.logger, 'replica report');
  }

  /** Takes a report: one of a closed session or an unknown replica is logged and dropped, never thrown. */
  report(report: ReplicaStatusReport): void {
    const logger = this.options.logger;
    const session = this.options.sessions.get(report.sessionId);
    if (!session) {
      // A late report from a session the UI just closed: nothing to pair it with.
      logger.debug('state report for a closed session', { sessionId: report.sessionId, replicaId: report.replicaId });
      return;
    }
    if (!session.profile.replicas.some((replica) => replica.id === report.replicaId)) {
      logger.warn('state report for an unknown replica', { sessionId: report.sessionId, replicaId: report.replicaId });
      return;
    }
    logger.info('replica state', { ...report });
    this.reports.emit(report, summarizeSession(session));
  }

  /** Listens to replica state reports; returns the unsubscribe. */
  onReport(listener: ReplicaReportListener): () => void {
    return this.reports.add(listener);
  }

  /** Forgets every listener (the back end is shutting down). */
  clear(): void {
    this.reports.clear();
  }
}
