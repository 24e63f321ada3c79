// The session the back end opens at start-up: the command line's profile, else the demo lab under
// `--demo`, else none. Opened on the first getStartup, and again if the user closed it (a page
// reloaded after closing the startup session gets it back) or if it failed (a page reloaded after
// fixing the file opens it). Node-side.

import type { OpenResult } from '../../common/contract';
import { errorMessage } from '../logger';
import { problemResult, type SessionService } from './session-service';

/** What the startup session needs. */
export interface StartupSessionOptions {
  readonly sessions: SessionService;
  /** The profile named on the command line; wins over `demo`. */
  readonly profilePath?: string;
  /** Opens the command line's profile when it is a saved one (through the library, which records it); wins over `profilePath`. */
  readonly openSaved?: () => Promise<OpenResult>;
  /** `--demo`: the demo lab is the startup session. */
  readonly demo?: boolean;
  /** Opens the demo lab as a new session. */
  readonly openDemo: () => Promise<OpenResult>;
}

/** The startup session, opened once and reopened only after it was closed or failed to open. */
export class StartupSession {
  private opening: Promise<OpenResult> | null = null;
  /** Set by resumeLatest: what the next get() answers instead, if that session is still open then. */
  private resumed: OpenResult | null = null;

  constructor(private readonly options: StartupSessionOptions) {}

  /** The startup session's OpenResult (null when the command line names none). */
  async get(): Promise<OpenResult | null> {
    const resumed = this.resumed;
    this.resumed = null;
    if (resumed?.ok && this.options.sessions.get(resumed.session.sessionId) !== undefined) return resumed;
    if (this.opening === null) {
      this.opening = this.open();
      return this.opening;
    }
    const previous = await this.opening;
    if (!previous.ok || this.options.sessions.get(previous.session.sessionId) === undefined) this.opening = this.open();
    return this.opening;
  }

  /**
   * The next get() answers the session opened last, when it is still open, instead of the command
   * line's: a page reloaded after its renderer was lost shows the session it had (any session, not
   * only the startup one) and reconnects its replicas.
   */
  resumeLatest(): void {
    this.resumed = this.options.sessions.latestOpen();
  }

  private open(): Promise<OpenResult> | null {
    if (this.options.openSaved !== undefined) return this.options.openSaved();
    if (this.options.profilePath !== undefined) return this.options.sessions.openFile(this.options.profilePath);
    if (this.options.demo === true) return this.options.openDemo().catch((error: unknown) => problemResult(errorMessage(error)));
    return null;
  }
}
