// The profile library behind the contract: list, read, open (recording when), save, duplicate,
// delete and restore, import and export — and, for a session opened from the library, its outcome
// ("all agreed", "r2 diverged"...) kept in the profile's state file as it changes. Node-side.

import type { DivergenceReport, OpenResult, ReplicaStatusReport, SavedProfileDocument } from '../../common/contract';
import { divergenceSettingsOf } from '../../common/profile';
import { describeSessionOutcome } from '../../common/session-outcome';
import { errorMessage, type Logger } from '../logger';
import { LibraryError, type ProfileLibrary } from '../profile-library';
import { problemResult, type SessionService } from './session-service';
import type { SecretStore } from '../keyring/secret-store';

/** What the profile library service needs. */
export interface ProfileLibraryServiceOptions {
  readonly logger: Logger;
  readonly sessions: SessionService;
  readonly library: ProfileLibrary;
  /** Where the library's `{"keyring": slot}` secrets are read when one of its profiles is opened. */
  readonly secrets?: SecretStore;
}

/** One session opened from the library: what its UI reported so far. */
interface TrackedSession {
  readonly profileId: string;
  readonly everConnected: Set<string>;
  divergence: { outliers: readonly string[]; noMajority: boolean } | null;
  lastWritten: string | null;
}

/** The back end's side of the profile library. */
export class ProfileLibraryService {
  private readonly tracked = new Map<string, TrackedSession>();
  /** State writes under way: close() waits for them, so a run's last state is on disk when it exits. */
  private readonly writing = new Set<Promise<void>>();

  constructor(private readonly options: ProfileLibraryServiceOptions) {
    options.sessions.onSessionClosed((session) => {
      this.tracked.delete(session.id);
    });
  }

  /** A saved profile's document and revision for the editor; an unknown or bad one is an error in words. */
  async get(id: string): Promise<SavedProfileDocument> {
    try {
      const { revision, document, notices } = await this.options.library.readForEditor(id);
      return { ok: true, id, revision, document, notices };
    } catch (error) {
      if (error instanceof LibraryError) return { ok: false, error: error.message };
      throw error;
    }
  }

  /** Opens a saved profile as a session, records when, and follows how the session goes. */
  async open(id: string): Promise<OpenResult> {
    let file: string;
    try {
      file = (await this.options.library.read(id)).file;
    } catch (error) {
      if (error instanceof LibraryError) return problemResult(error.message);
      throw error;
    }
    const result = await this.options.sessions.openFile(file, this.options.secrets === undefined ? undefined : { store: this.options.secrets, profileId: id });
    if (!result.ok) return result;
    this.tracked.set(result.session.sessionId, { profileId: id, everConnected: new Set(), divergence: null, lastWritten: null });
    await this.options.library.markOpened(id).catch((error: unknown) => {
      // The session is open either way: "last opened" is a convenience.
      this.options.logger.warn('cannot record when a profile was opened', { id, error: errorMessage(error) });
    });
    return result;
  }

  /** A replica state report of any session: kept for the outcome of sessions opened from the library. */
  replicaReport(report: ReplicaStatusReport): void {
    const tracked = this.tracked.get(report.sessionId);
    if (tracked === undefined) return;
    if (report.state === 'connected') tracked.everConnected.add(report.replicaId);
    // Connecting is not an outcome yet; connected and every failure are.
    if (report.state === 'connected' || report.state === 'auth-failed' || report.state === 'disconnected' || report.state === 'reconnecting') {
      this.recordOutcome(report.sessionId, tracked);
    }
  }

  /** A divergence report of any session: kept for the outcome of sessions opened from the library. */
  divergenceReport(report: DivergenceReport): void {
    const tracked = this.tracked.get(report.sessionId);
    if (tracked === undefined) return;
    tracked.divergence = report.kind === 'consensus' ? null : { outliers: report.outliers, noMajority: report.noMajority };
    this.recordOutcome(report.sessionId, tracked);
  }

  /** Writes the session's outcome to its profile's state file when it changed (a failure is logged). */
  private recordOutcome(sessionId: string, tracked: TrackedSession): void {
    const session = this.options.sessions.get(sessionId);
    if (session === undefined) return;
    const outcome = describeSessionOutcome({
      replicaIds: session.profile.replicas.map((replica) => replica.id),
      everConnected: tracked.everConnected,
      divergence: tracked.divergence,
      compared: divergenceSettingsOf(session.profile).enabled,
    });
    if (outcome === tracked.lastWritten) return;
    tracked.lastWritten = outcome;
    const write = this.options.library.recordState(tracked.profileId, outcome).catch((error: unknown) => {
      this.options.logger.warn('cannot record how a profile\'s session went', { id: tracked.profileId, error: errorMessage(error) });
    });
    this.writing.add(write);
    void write.finally(() => this.writing.delete(write));
  }

  /** Waits for the state writes under way (the back end is shutting down). */
  async flush(): Promise<void> {
    await Promise.all([...this.writing]);
  }
}
