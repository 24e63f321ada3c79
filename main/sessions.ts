// Open sessions: each opened profile (file, text or quick connect) with a random id, the folder its
// relative paths resolve against, and the secret-free summaries the UI sees. Node-side.

import { randomBytes } from 'node:crypto';
import type { ReplicaSummary, SessionInfo } from '../common/contract';
import { divergenceSettingsOf, type Profile, type ReplicaConfig, type SecretRef } from '../common/profile';
import { SECRET_REDACTOR, type SecretRedactor } from './logger';
import type { KeyringAccess } from './secrets';

/** Open sessions at once; more is a runaway UI, not a person. */
export const MAX_SESSIONS = 32;

/** One opened profile, as the back end holds it (with secret references, never sent to the UI). */
export interface Session {
  readonly id: string;
  readonly profile: Profile;
  /** Where relative paths in the profile (secret files, identity files) resolve. */
  readonly baseDir: string;
  /** A file path, a dropped file's name, or "quick connect". */
  readonly source: string;
  /** How its `{"keyring": slot}` secrets are read: set for a profile of the profile library (which has an id). */
  readonly keyring?: KeyringAccess;
}

/** "host:port", with brackets around an IPv6 address. */
export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** What the UI may know of a replica: its address, never its password. */
export function summarizeReplica(replica: ReplicaConfig): ReplicaSummary {
  const address = formatHostPort(replica.vnc.host, replica.vnc.port);
  return {
    id: replica.id,
    label: replica.label,
    endpoint: replica.vnc.tunnel && replica.l0 !== undefined ? `${address} via ${replica.l0}` : address,
    tunnel: replica.vnc.tunnel,
    hasPassword: replica.vnc.password !== undefined,
  };
}

/** The secret-free description of a session sent to the UI. */
export function summarizeSession(session: Session): SessionInfo {
  return {
    sessionId: session.id,
    name: session.profile.name,
    source: session.source,
    replicas: session.profile.replicas.map(summarizeReplica),
    divergence: divergenceSettingsOf(session.profile),
  };
}

function inlineSecrets(profile: Profile): string[] {
  const refs: (SecretRef | undefined)[] = [
    ...profile.replicas.map((replica) => replica.vnc.password),
    ...Object.values(profile.l0).map((l0) => (l0.kind === 'ssh' ? l0.ssh.passphrase : undefined)),
  ];
  return refs.flatMap((ref) => (ref?.kind === 'inline' ? [ref.value] : []));
}

/** The sessions of one back end. */
export class SessionStore {
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly redactor: SecretRedactor = SECRET_REDACTOR) {}

  /** Number of open sessions. */
  get size(): number {
    return this.sessions.size;
  }

  /**
   * Adds a session for a validated profile; inline secrets are registered for redaction at once.
   * `keyring`: how its `{"keyring": slot}` secrets are read (a profile of the profile library).
   */
  open(profile: Profile, baseDir: string, source: string, keyring?: KeyringAccess): Session {
    if (this.sessions.size >= MAX_SESSIONS) {
      throw new Error(`${MAX_SESSIONS} sessions are already open: close one before opening another profile`);
    }
    for (const secret of inlineSecrets(profile)) this.redactor.add(secret);
    const session: Session = { id: randomBytes(12).toString('base64url'), profile, baseDir, source, ...(keyring === undefined ? {} : { keyring }) };
    this.sessions.set(session.id, session);
    return session;
  }

  /** The session with this id, if open. */
  get(sessionId: string): Session | undefined {
    return this.sessions.get(sessionId);
  }

  /** Removes a session; returns whether it existed. */
  delete(sessionId: string): boolean {
    return this.sessions.delete(sessionId);
  }

  /** Looks up a replica of a session, or explains what is missing. */
  replica(sessionId: string, replicaId: string): { session: Session; replica: ReplicaConfig } | { error: string } {
    const session = this.sessions.get(sessionId);
    if (!session) return { error: `no open session "${sessionId}": open the profile again` };
    const replica = session.profile.replicas.find((candidate) => candidate.id === replicaId);
    if (!replica) return { error: `the profile "${session.profile.name}" has no replica "${replicaId}"` };
    return { session, replica };
  }

  /** Forgets every session. */
  clear(): void {
    this.sessions.clear();
  }
}
