// Open sessions: opening a profile (a file, dropped text, quick-connect endpoints, the demo lab's
// document), a replica's password, and closing a session — once, for every caller — with a hook the
// other services subscribe to (to close its streams, forget its journal...). Node-side.

import path from 'node:path';
import type { OpenResult } from '../../common/contract';
import { quickConnectProfile } from '../../common/endpoint';
import {
  MAX_PROFILE_BYTES,
  folderRelativeFiles,
  parseProfileText,
  validateProfile,
  type FolderRelativeFile,
  type ProfileValidation,
  type ReplicaConfig,
} from '../../common/profile';
import { errorMessage, type Logger, type SecretRedactor } from '../logger';
import { readSmallFile, resolveSecret, resolveUserPath, type KeyringAccess } from '../secrets';
import { SessionStore, summarizeSession, type Session } from '../sessions';
import { Listeners } from './listeners';

/** What the session service needs. */
export interface SessionServiceOptions {
  readonly logger: Logger;
  /** Inline secrets, quick-connect passwords and resolved passwords are registered here. */
  readonly redactor: SecretRedactor;
  /** Where profile text, quick-connect sessions and the demo lab resolve relative paths. */
  readonly workingDirectory: string;
}

/** Hears that a session was closed (it is already gone from the service), and why. */
export type SessionClosedListener = (session: Session, reason: string) => void;

/** An OpenResult with one problem at "$": what went wrong was not the profile's content. */
export function problemResult(message: string, source?: string): OpenResult {
  return { ok: false, problems: [{ path: '$', message }], ...(source === undefined ? {} : { source }) };
}

/**
 * Why a profile that came as text (picked or dropped in a browser, which never tells its folder)
 * cannot use a file named relative to its own folder: reading it from anywhere else would be wrong.
 */
export function unknownFolderMessage(file: FolderRelativeFile): string {
  return (
    `this profile names its ${file.what} "${file.file}" relative to its own folder, which the browser did not tell RetroVisor: ` +
    'open it by its path ("Open by path" on the start screen, or `retrovisor start --profile PATH`) or use an absolute path'
  );
}

// Editors on some systems write a byte-order mark; JSON.parse would reject it.
function withoutByteOrderMark(text: string): string {
  return text.startsWith('\uFEFF') ? text.slice(1) : text;
}

/** The back end's sessions: opened from profiles, looked up by the other services, closed once. */
export class SessionService {
  private readonly store: SessionStore;
  private readonly closedListeners: Listeners<SessionClosedListener>;
  /** The session opened last (null before any), for a page that lost its renderer and reloads. */
  private latestSessionId: string | null = null;

  constructor(private readonly options: SessionServiceOptions) {
    this.store = new SessionStore(options.redactor);
    this.closedListeners = new Listeners<SessionClosedListener>(options.logger, 'session closed');
  }

  /**
   * Reads a profile file (relative to the working directory) and opens it; unreadable → a problem at "$".
   * `keyring`: how its `{"keyring": slot}` secrets are read (a profile of the profile library).
   */
  async openFile(filePath: string, keyring?: KeyringAccess): Promise<OpenResult> {
    const absolutePath = resolveUserPath(filePath, this.options.workingDirectory);
    let text: string;
    try {
      text = (await readSmallFile(absolutePath, MAX_PROFILE_BYTES, 'profile')).toString('utf8');
    } catch (error) {
      return problemResult(`${errorMessage(error)} — check the path`, absolutePath);
    }
    const result = this.open(parseProfileText(withoutByteOrderMark(text)), path.dirname(absolutePath), absolutePath, keyring);
    return result.ok ? result : { ...result, source: absolutePath };
  }

  /**
   * Opens profile text the UI read (a picked or dropped file, named `sourceName`) whose folder is
   * unknown: a file the profile names relative to its own folder is refused, never looked for in
   * the back end's working folder.
   */
  openText(text: string, sourceName: string): OpenResult {
    const validation = parseProfileText(withoutByteOrderMark(text));
    if (validation.ok) {
      const relative = folderRelativeFiles(validation.profile);
      if (relative.length > 0) {
        this.options.logger.info('profile rejected', { source: sourceName, problems: relative.length });
        return { ok: false, problems: relative.map((file) => ({ path: file.path, message: unknownFolderMessage(file) })) };
      }
    }
    return this.open(validation, this.options.workingDirectory, sourceName);
  }

  /** Opens quick-connect endpoints ("host:display, host::port"), all with the same optional password. */
  quickConnect(endpoints: string, password?: string): OpenResult {
    // Registered before anything else happens with it: it must never reach a log.
    if (password !== undefined) this.options.redactor.add(password);
    return this.open(quickConnectProfile(endpoints, password), this.options.workingDirectory, 'quick connect');
  }

  /** Opens a profile document built in process (the demo lab's), validated like any other. */
  openDocument(document: unknown, source: string): OpenResult {
    return this.open(validateProfile(document), this.options.workingDirectory, source);
  }

  /** The open session with this id. */
  get(sessionId: string): Session | undefined {
    return this.store.get(sessionId);
  }

  /** Looks up a replica of an open session, or explains what is missing. */
  replica(sessionId: string, replicaId: string): { session: Session; replica: ReplicaConfig } | { error: string } {
    return this.store.replica(sessionId, replicaId);
  }

  /** Resolves a replica's VNC password (null when it has none); a failure is explained, not thrown. */
  async replicaPassword(sessionId: string, replicaId: string): Promise<{ password: string | null; error?: string }> {
    const found = this.store.replica(sessionId, replicaId);
    if ('error' in found) return { password: null, error: found.error };
    const reference = found.replica.vnc.password;
    if (reference === undefined) return { password: null };
    try {
      return { password: await resolveSecret(reference, found.session.baseDir, this.options.redactor, found.session.keyring) };
    } catch (error) {
      const message = `the password of replica "${replicaId}": ${errorMessage(error)}`;
      this.options.logger.warn('cannot resolve a VNC password', { sessionId, replicaId, error: message });
      return { password: null, error: message };
    }
  }

  /**
   * Closes a session: forgets it, logs it, then tells every onSessionClosed listener (which close its
   * streams, forget its journal...). Returns false, doing nothing, when no such session is open.
   */
  close(sessionId: string, reason: string): boolean {
    const session = this.store.get(sessionId);
    if (session === undefined || !this.store.delete(sessionId)) return false;
    this.options.logger.info('session closed', { sessionId, reason });
    this.closedListeners.emit(session, reason);
    return true;
  }

  /** The session opened last, as its OpenResult, while it is still open; else null. */
  latestOpen(): OpenResult | null {
    const session = this.latestSessionId === null ? undefined : this.store.get(this.latestSessionId);
    return session === undefined ? null : { ok: true, session: summarizeSession(session) };
  }

  /** Listens to sessions being closed; returns the unsubscribe. */
  onSessionClosed(listener: SessionClosedListener): () => void {
    return this.closedListeners.add(listener);
  }

  /** Forgets every session and listener without telling anyone (the back end is shutting down). */
  clear(): void {
    this.store.clear();
    this.closedListeners.clear();
  }

  private open(validation: ProfileValidation, baseDir: string, source: string, keyring?: KeyringAccess): OpenResult {
    const logger = this.options.logger;
    if (!validation.ok) {
      logger.info('profile rejected', { source, problems: validation.problems.length });
      return { ok: false, problems: validation.problems };
    }
    try {
      const session = this.store.open(validation.profile, baseDir, source, keyring);
      this.latestSessionId = session.id;
      logger.info('session opened', { sessionId: session.id, source, replicas: validation.profile.replicas.length });
      return { ok: true, session: summarizeSession(session) };
    } catch (error) {
      return problemResult(errorMessage(error));
    }
  }
}
