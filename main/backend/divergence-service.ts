// Divergence reports from the UI's detection: checked against the session's replicas, logged, an
// evidence folder started for a new divergence (its screens saved as they arrive), and passed on to
// listeners (the `run` command prints them; the remediation manager will react). Node-side.

import type { DivergenceReport, DivergenceScreen, SessionInfo } from '../../common/contract';
import type { EvidenceStore } from '../divergence-evidence';
import { errorMessage, type Logger } from '../logger';
import { summarizeSession } from '../sessions';
import { Listeners } from './listeners';
import type { SessionService } from './session-service';

/** A divergence report with the evidence folder started for it (absolute path; null when none). */
export type DivergenceReportListener = (report: DivergenceReport, evidenceFolder: string | null, session: SessionInfo) => void;

/** What the divergence service needs. */
export interface DivergenceServiceOptions {
  readonly logger: Logger;
  readonly sessions: SessionService;
  /** Where evidence folders are written. */
  readonly evidence: EvidenceStore;
  /** Wall-clock milliseconds (an evidence folder's time stamp). Default Date.now. */
  readonly nowMs?: () => number;
}

/** The back end's side of divergence detection. */
export class DivergenceService {
  private readonly reports: Listeners<DivergenceReportListener>;

  constructor(private readonly options: DivergenceServiceOptions) {
    this.reports = new Listeners<DivergenceReportListener>(options.logger, 'divergence');
  }

  /**
   * Takes a report: a closed session's is ignored, an unknown replica id is refused (thrown); a new
   * divergence starts an evidence folder, a change that amends it rewrites that folder's record (a
   * write failure is logged, the report still goes on).
   */
  async report(report: DivergenceReport): Promise<{ evidenceId: string | null; evidenceFolder?: string | null }> {
    const { logger, evidence } = this.options;
    const session = this.options.sessions.get(report.sessionId);
    if (!session) {
      logger.debug('divergence report for a closed session', { sessionId: report.sessionId });
      return { evidenceId: null };
    }
    const replicaIds = session.profile.replicas.map((replica) => replica.id);
    const unknown = [...report.outliers, ...report.agreeing].find((id) => !replicaIds.includes(id));
    if (unknown !== undefined) throw new Error(`the profile "${session.profile.name}" has no replica "${unknown}"`);
    let started: { evidenceId: string; folder: string } | null = null;
    const nowMs = (this.options.nowMs ?? Date.now)();
    if (report.kind === 'divergence' && report.change === 'new') {
      try {
        started = await evidence.start(report, session.profile.name, replicaIds, nowMs);
      } catch (error) {
        logger.warn('cannot write divergence evidence', { sessionId: report.sessionId, error: errorMessage(error) });
      }
    } else if (report.kind === 'divergence' && report.amendsEvidence === true) {
      try {
        started = await evidence.amend(report, nowMs);
      } catch (error) {
        logger.warn('cannot amend divergence evidence', { sessionId: report.sessionId, error: errorMessage(error) });
      }
    }
    logger.info(report.kind === 'consensus' ? 'replicas agree again' : 'replicas diverge', { ...report, evidence: started?.folder ?? null });
    this.reports.emit(report, started?.folder ?? null, summarizeSession(session));
    return { evidenceId: started?.evidenceId ?? null, evidenceFolder: started?.folder ?? null };
  }

  /** Saves one replica's screen (a base64 PNG) into a new divergence's evidence folder; throws on a bad request. */
  async saveScreen({ sessionId, evidenceId, replicaId, pngBase64 }: DivergenceScreen): Promise<void> {
    await this.options.evidence.saveScreen(sessionId, evidenceId, replicaId, Buffer.from(pngBase64, 'base64'));
  }

  /** Listens to divergence reports; returns the unsubscribe. */
  onReport(listener: DivergenceReportListener): () => void {
    return this.reports.add(listener);
  }

  /** Forgets every listener (the back end is shutting down). */
  clear(): void {
    this.reports.clear();
  }
}
