// SSH connections to L0 hosts (ssh2): key auth, a pinned host key checked in constant time and
// negotiated whatever its type, one shared connection per L0 reconnected on demand, TCP tunnels
// through it (direct-tcpip) and bounded command execution on it (exec, used by the virsh driver). Node-side.

import { createHash, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import ssh2 from 'ssh2';
import type { Client as SshClient, ClientChannel, ConnectConfig, ServerHostKeyAlgorithm } from 'ssh2';
import type { SshTarget } from '../common/profile';
import { nextL0ConnectionState, type L0ConnectionEvent } from './l0-connection-lifecycle';
import { errorMessage, SECRET_REDACTOR, type Logger, type SecretRedactor } from './logger';
import { readSmallFile, resolveSecret, resolveUserPath, type KeyringAccess } from './secrets';
import { formatHostPort } from './sessions';

// ssh2 is CommonJS: Node's ESM loader exposes only some names, so take them from the default export.
const { Client, utils: sshUtils } = ssh2;

/** How long an SSH connection may take from TCP connect to authenticated. */
export const SSH_READY_TIMEOUT_MS = 10_000;
/** SSH keepalive period. */
export const SSH_KEEPALIVE_INTERVAL_MS = 15_000;
/** Unanswered keepalives after which the connection is considered dead and dropped. */
export const SSH_KEEPALIVE_COUNT_MAX = 3;
/** How long the L0 may take to open a tunnel channel (its own TCP connect to the VNC server). */
export const SSH_CHANNEL_OPEN_TIMEOUT_MS = 10_000;
/** An L0 connection with no open channel is closed after this long. */
export const SSH_IDLE_CLOSE_MS = 60_000;
/** Largest identity (private key) file read. */
export const MAX_IDENTITY_FILE_BYTES = 64 * 1024;
/** Bounded wait for a graceful SSH disconnect on close. */
const SSH_CLOSE_WAIT_MS = 2_000;
/** Keys OpenSSH tries when no identity file is configured, in its order. */
const DEFAULT_IDENTITY_FILES = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

/**
 * The host key types an L0 may hold, in ssh2's order of preference, each with the signature
 * algorithms that make a server present it and the name `ssh-keygen -lf` prints for it. A pin is only
 * a fingerprint, so its type is unknown: the handshake is retried offering the types not yet seen.
 */
const HOST_KEY_TYPES: readonly { readonly keyType: string; readonly label: string; readonly algorithms: readonly ServerHostKeyAlgorithm[] }[] = [
  { keyType: 'ssh-ed25519', label: 'ED25519', algorithms: ['ssh-ed25519'] },
  { keyType: 'ecdsa-sha2-nistp256', label: 'ECDSA', algorithms: ['ecdsa-sha2-nistp256'] },
  { keyType: 'ecdsa-sha2-nistp384', label: 'ECDSA', algorithms: ['ecdsa-sha2-nistp384'] },
  { keyType: 'ecdsa-sha2-nistp521', label: 'ECDSA', algorithms: ['ecdsa-sha2-nistp521'] },
  { keyType: 'ssh-rsa', label: 'RSA', algorithms: ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] },
];

/** Which L0 to reach: its name in the profile, its SSH settings, and the folder relative paths resolve against. */
export interface L0Target {
  readonly name: string;
  readonly ssh: SshTarget;
  readonly baseDir: string;
  /** How a `{"keyring": slot}` passphrase is read (profiles of the profile library). */
  readonly keyring?: KeyringAccess;
}

/** What went wrong with an L0, for callers that branch on it. */
export type SshL0ErrorKind =
  | 'host-key-changed'
  | 'unreachable'
  | 'auth-failed'
  | 'identity'
  | 'passphrase'
  | 'tunnel'
  | 'exec'
  | 'timeout'
  | 'disconnected'
  | 'closed';

/** A failure reaching or using an L0, worded for the user; `kind` lets callers and tests branch. */
export class SshL0Error extends Error {
  override readonly name = 'SshL0Error';
  constructor(
    message: string,
    readonly kind: SshL0ErrorKind,
  ) {
    super(message);
  }
}

/** Bounds of one command run on an L0 (L0Connection.exec). */
export interface SshExecOptions {
  /** From the channel request to the command's exit; past it the command is killed. Connecting is bounded by readyTimeoutMs. */
  readonly timeoutMs: number;
  /** Most bytes kept of stdout, and of stderr; the rest is read and dropped. */
  readonly maxOutputBytes: number;
}

/** How a command run on an L0 ended. */
export interface SshExecResult {
  /** The exit status, or null when the command was ended by a signal. */
  readonly exitCode: number | null;
  /** The signal that ended the command ("KILL", "TERM"…), or null. */
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly durationMs: number;
  /** True when stdout or stderr was longer than maxOutputBytes and was cut. */
  readonly outputTruncated: boolean;
}

/** Tuning and plumbing of L0 connections. */
export interface SshL0Options {
  readonly logger: Logger;
  readonly readyTimeoutMs?: number;
  readonly keepaliveIntervalMs?: number;
  readonly channelOpenTimeoutMs?: number;
  readonly idleCloseMs?: number;
  /** Where private keys and passphrases are registered so they never reach a log. */
  readonly redactor?: SecretRedactor;
}

/** The OpenSSH fingerprint of a public key blob: "SHA256:" + unpadded base64 of its SHA-256. */
export function sshFingerprint(keyBlob: Uint8Array): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/** Compares a pinned "SHA256:..." fingerprint with a presented one in constant time. */
export function fingerprintsMatch(pinned: string, presented: string): boolean {
  const pinnedDigest = Buffer.from(pinned.replace(/^SHA256:/, ''), 'base64');
  const presentedDigest = Buffer.from(presented.replace(/^SHA256:/, ''), 'base64');
  if (pinnedDigest.length !== presentedDigest.length) {
    // Still spend a comparison, so a malformed pin takes as long as a wrong one.
    timingSafeEqual(presentedDigest, presentedDigest);
    return false;
  }
  return timingSafeEqual(pinnedDigest, presentedDigest);
}

/** The key type named inside a public key blob (its first SSH string: "ssh-ed25519", "ssh-rsa"…), or "unknown". */
export function hostKeyType(keyBlob: Uint8Array): string {
  const blob = Buffer.from(keyBlob.buffer, keyBlob.byteOffset, keyBlob.byteLength);
  if (blob.length < 4) return 'unknown';
  const length = blob.readUInt32BE(0);
  if (length === 0 || length > 64 || blob.length < 4 + length) return 'unknown';
  const name = blob.toString('latin1', 4, 4 + length);
  return /^[\x21-\x7e]+$/.test(name) ? name : 'unknown';
}

/**
 * The host key algorithms to offer, in order: those of `preferredKeyType` first (the type that
 * matched the pin last time), then the other known types, leaving out every type already presented.
 */
export function hostKeyAlgorithmsToOffer(presentedKeyTypes: ReadonlySet<string>, preferredKeyType: string | null): ServerHostKeyAlgorithm[] {
  const types = HOST_KEY_TYPES.filter((type) => !presentedKeyTypes.has(type.keyType));
  const preferred = types.filter((type) => type.keyType === preferredKeyType);
  const others = types.filter((type) => type.keyType !== preferredKeyType);
  return [...preferred, ...others].flatMap((type) => type.algorithms);
}

/** A host key the L0 presented that did not match the pin. */
interface PresentedHostKey {
  readonly keyType: string;
  readonly fingerprint: string;
}

function describePresentedKey(key: PresentedHostKey): string {
  const label = HOST_KEY_TYPES.find((type) => type.keyType === key.keyType)?.label ?? key.keyType;
  return `${key.fingerprint} (${label})`;
}

/** How one SSH handshake ended. */
type HandshakeOutcome =
  | { readonly kind: 'ready'; readonly client: SshClient; readonly keyType: string }
  | { readonly kind: 'mismatch'; readonly presented: PresentedHostKey }
  | { readonly kind: 'failed'; readonly error: SshL0Error | (Error & { level?: string; code?: string }) };

interface Credentials {
  readonly privateKey?: Buffer;
  readonly passphrase?: string;
  readonly agent?: string;
  /** For messages: which key was offered ("/root/.ssh/id_ed25519", "the ssh-agent"). */
  readonly offered: string;
}

/** L0Connection's state with its data (the names and their transition table: main/l0-connection-lifecycle.ts). */
type L0ConnectionState =
  | { readonly name: 'idle' }
  | { readonly name: 'connecting'; readonly attempt: Promise<SshClient> }
  | { readonly name: 'ready'; readonly client: SshClient }
  | { readonly name: 'closed' };

const IDLE: L0ConnectionState = { name: 'idle' };
const CLOSED: L0ConnectionState = { name: 'closed' };

/**
 * One SSH connection to one L0, opened on first use, shared by every tunnel to that L0 and reopened
 * on demand after it drops. Closes itself after SSH_IDLE_CLOSE_MS without an open channel.
 */
export class L0Connection {
  private readonly logger: Logger;
  private readonly redactor: SecretRedactor;
  private readonly readyTimeoutMs: number;
  private readonly keepaliveIntervalMs: number;
  private readonly channelOpenTimeoutMs: number;
  private readonly idleCloseMs: number;
  /** Where the connection is in its lifecycle; changed only by `apply` (main/l0-connection-lifecycle.ts). */
  private state: L0ConnectionState = IDLE;
  private openChannels = 0;
  /** The key type that matched the pin on an earlier connection: offered first from then on. */
  private matchedKeyType: string | null = null;
  /** Armed only in the 'ready' state, while no channel is open; cleared when leaving it. */
  private idleTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly target: L0Target,
    options: SshL0Options,
  ) {
    this.logger = options.logger.child({ l0: target.name, sshHost: formatHostPort(target.ssh.host, target.ssh.port) });
    this.redactor = options.redactor ?? SECRET_REDACTOR;
    this.readyTimeoutMs = options.readyTimeoutMs ?? SSH_READY_TIMEOUT_MS;
    this.keepaliveIntervalMs = options.keepaliveIntervalMs ?? SSH_KEEPALIVE_INTERVAL_MS;
    this.channelOpenTimeoutMs = options.channelOpenTimeoutMs ?? SSH_CHANNEL_OPEN_TIMEOUT_MS;
    this.idleCloseMs = options.idleCloseMs ?? SSH_IDLE_CLOSE_MS;
  }

  /** True while an authenticated connection is up. */
  get connected(): boolean {
    return this.state.name === 'ready';
  }

  /** The authenticated client, connecting (or reconnecting) first if needed. Concurrent callers share one attempt. */
  async client(): Promise<SshClient> {
    const state = this.state;
    switch (state.name) {
      case 'ready':
        this.apply('use', state);
        return state.client;
      case 'connecting':
        this.apply('use', state);
        return state.attempt;
      case 'closed':
        this.apply('use', state);
        throw new SshL0Error(`the connection to the L0 "${this.target.name}" is closed`, 'closed');
      case 'idle': {
        // connect() runs to its first await before `apply` below: nothing in it changes the state sooner.
        const attempt = this.connect().catch((error: unknown) => {
          this.apply('connect-failed', this.state.name === 'closed' ? CLOSED : IDLE);
          throw error;
        });
        this.apply('use', { name: 'connecting', attempt });
        return attempt;
      }
    }
  }

  /**
   * Moves to `next` on `event` if the transition table leads there from the current state; otherwise
   * refuses, logs (a warning, or debug once closed) and changes nothing. Leaving 'ready' disarms the idle timer.
   */
  private apply(event: L0ConnectionEvent, next: L0ConnectionState): boolean {
    const from = this.state.name;
    if (nextL0ConnectionState(from, event) !== next.name) {
      if (from === 'closed') this.logger.debug('L0 connection: event refused in this state', { state: from, event });
      else this.logger.warn('L0 connection: event refused in this state', { state: from, event });
      return false;
    }
    if (from === 'ready' && next.name !== 'ready') this.clearIdleTimer();
    this.state = next;
    return true;
  }

  /**
   * Opens a TCP tunnel from the L0 to host:port (host is resolved on the L0 side). The returned
   * channel is a Duplex; destroying it closes the tunnel.
   */
  async openTunnel(host: string, port: number): Promise<Duplex> {
    const client = await this.client();
    const destination = formatHostPort(host, port);
    this.retainChannel();
    return new Promise<Duplex>((resolve, reject) => {
      let settled = false;
      const fail = (error: SshL0Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.releaseChannel();
        reject(error);
      };
      const timer = setTimeout(() => {
        fail(
          new SshL0Error(
            `the L0 "${this.target.name}" did not open a tunnel to ${destination} within ${Math.round(this.channelOpenTimeoutMs / 1000)} s — is ${destination} reachable from the L0?`,
            'tunnel',
          ),
        );
      }, this.channelOpenTimeoutMs);
      const onChannel = (error: Error | undefined, channel: ClientChannel): void => {
        if (settled) {
          // The answer came after the timeout: nobody wants this channel any more.
          channel?.destroy();
          return;
        }
        if (error) {
          fail(new SshL0Error(this.describeChannelError(error, destination), 'tunnel'));
          return;
        }
        settled = true;
        clearTimeout(timer);
        channel.once('close', () => this.releaseChannel());
        // Until the caller adds its own listeners an error must not crash the process ('close' follows).
        channel.on('error', () => undefined);
        resolve(channel);
      };
      try {
        // The originator address is informational for sshd; 127.0.0.1:0 says "a local program".
        client.forwardOut('127.0.0.1', 0, host, port, onChannel);
      } catch (error) {
        fail(new SshL0Error(`the SSH connection to the L0 "${this.target.name}" dropped (${errorMessage(error)}); try again`, 'disconnected'));
      }
    });
  }

  /**
   * Runs `command` on the L0 (an SSH "exec" request: the L0 user's shell parses it, so every
   * argument in it must already be quoted) and resolves with its exit status and output. Past
   * `timeoutMs` the command is sent SIGKILL, its channel closed, and the call rejects with kind
   * 'timeout'. OpenSSH honours that signal only for non-root logins (7.9 and later), so a caller
   * that must be sure the command ends bounds it on the L0 too (the virsh driver uses timeout(1)).
   * A host key mismatch rejects before any channel opens: nothing runs.
   */
  async exec(command: string, options: SshExecOptions): Promise<SshExecResult> {
    const client = await this.client();
    this.retainChannel();
    const started = performance.now();
    return new Promise<SshExecResult>((resolve, reject) => {
      let settled = false;
      let released = false;
      let channel: ClientChannel | null = null;
      let exitCode: number | null = null;
      let signal: string | null = null;
      let outputTruncated = false;
      const stdout = new BoundedOutput(options.maxOutputBytes);
      const stderr = new BoundedOutput(options.maxOutputBytes);
      const release = (): void => {
        if (released) return;
        released = true;
        this.releaseChannel();
      };
      const fail = (error: SshL0Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(error);
      };
      const kill = (target: ClientChannel): void => {
        try {
          target.signal('KILL');
        } catch {
          // The channel is already going away: closing it is all that is left to do.
        }
        target.close();
      };
      const timer = setTimeout(() => {
        if (channel === null) release();
        else kill(channel);
        fail(
          new SshL0Error(
            `the command on the L0 "${this.target.name}" did not finish within ${formatSeconds(options.timeoutMs)}; its channel was closed after asking the L0 to kill it (the operation it started may still complete there)`,
            'timeout',
          ),
        );
      }, options.timeoutMs);
      const onChannel = (error: Error | undefined, opened: ClientChannel): void => {
        if (error) {
          release();
          fail(new SshL0Error(`the L0 "${this.target.name}" refused to run a command: ${error.message}`, 'exec'));
          return;
        }
        if (settled) {
          // Opened after the timeout: the command has started, and nobody waits for it.
          opened.once('close', release);
          opened.on('error', () => undefined);
          kill(opened);
          return;
        }
        channel = opened;
        opened.on('data', (chunk: Buffer) => {
          if (!stdout.push(chunk)) outputTruncated = true;
        });
        opened.stderr.on('data', (chunk: Buffer) => {
          if (!stderr.push(chunk)) outputTruncated = true;
        });
        opened.on('exit', (code: number | null, signalName?: string) => {
          if (typeof code === 'number') exitCode = code;
          // ssh2 reports "SIGTERM"; the protocol (RFC 4254 §6.10) and this API say "TERM".
          else if (typeof signalName === 'string') signal = signalName.replace(/^SIG/, '');
        });
        // 'close' follows any channel error.
        opened.on('error', () => undefined);
        opened.once('close', () => {
          release();
          if (settled) return;
          if (exitCode === null && signal === null) {
            fail(new SshL0Error(`the SSH connection to the L0 "${this.target.name}" dropped before the command ended; its outcome is unknown`, 'disconnected'));
            return;
          }
          settled = true;
          clearTimeout(timer);
          resolve({
            exitCode,
            signal,
            stdout: stdout.text(),
            stderr: stderr.text(),
            durationMs: Math.round(performance.now() - started),
            outputTruncated,
          });
        });
      };
      try {
        client.exec(command, onChannel);
      } catch (error) {
        release();
        fail(new SshL0Error(`the SSH connection to the L0 "${this.target.name}" dropped (${errorMessage(error)}); try again`, 'disconnected'));
      }
    });
  }

  /** Disconnects and refuses further use. */
  async close(): Promise<void> {
    const before = this.state;
    this.apply('close', CLOSED);
    // A handshake that completes during this wait is refused by the table and its client destroyed.
    if (before.name === 'connecting') await before.attempt.catch(() => undefined);
    if (before.name === 'ready') await endClient(before.client);
  }

  private retainChannel(): void {
    this.openChannels += 1;
    this.clearIdleTimer();
  }

  private releaseChannel(): void {
    this.openChannels = Math.max(0, this.openChannels - 1);
    if (this.openChannels > 0 || this.state.name !== 'ready') return;
    this.clearIdleTimer();
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      const state = this.state;
      if (this.openChannels > 0 || !this.apply('idle-timeout', IDLE) || state.name !== 'ready') return;
      this.logger.info('closing idle SSH connection to L0');
      void endClient(state.client);
    }, this.idleCloseMs);
    this.idleTimer.unref();
  }

  private clearIdleTimer(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }

  private describeChannelError(error: Error, destination: string): string {
    const reason = (error as { reason?: unknown }).reason;
    const description = error.message.replace(/^\(SSH\) Channel open failure: /, '');
    // RFC 4254 §5.1: 1 = administratively prohibited, 2 = connect failed.
    if (reason === 1) {
      return `the L0 "${this.target.name}" refused to open a tunnel (${description}): allow TCP forwarding for user ${this.target.ssh.user} in its sshd_config (AllowTcpForwarding yes)`;
    }
    if (reason === 2) {
      return `the L0 "${this.target.name}" could not connect to ${destination} (${description}) — is the VNC server running there?`;
    }
    return `the L0 "${this.target.name}" could not open a tunnel to ${destination}: ${description}`;
  }

  private async loadCredentials(): Promise<Credentials> {
    const { ssh, baseDir, name } = this.target;
    let identityPath: string | undefined;
    if (ssh.identityFile !== undefined) {
      identityPath = resolveUserPath(ssh.identityFile, baseDir);
    } else {
      identityPath = DEFAULT_IDENTITY_FILES.map((file) => path.join(os.homedir(), '.ssh', file)).find((file) => existsSync(file));
    }
    const agent = ssh.identityFile === undefined ? process.env.SSH_AUTH_SOCK : undefined;
    if (identityPath === undefined) {
      if (agent) return { agent, offered: 'the keys of the ssh-agent' };
      throw new SshL0Error(
        `no SSH key for the L0 "${name}": set "identityFile" in its "ssh" settings (e.g. "~/.ssh/id_ed25519") or start an ssh-agent`,
        'identity',
      );
    }
    let keyText: Buffer;
    try {
      keyText = await readSmallFile(identityPath, MAX_IDENTITY_FILE_BYTES, 'identity file');
    } catch (error) {
      throw new SshL0Error(`${errorMessage(error)} — check "identityFile" of the L0 "${name}" in the profile`, 'identity');
    }
    this.redactor.addMultiline(keyText.toString('utf8'));
    let passphrase: string | undefined;
    if (ssh.passphrase !== undefined) {
      try {
        passphrase = await resolveSecret(ssh.passphrase, baseDir, this.redactor, this.target.keyring);
      } catch (error) {
        throw new SshL0Error(`the passphrase for "${identityPath}": ${errorMessage(error)}`, 'passphrase');
      }
    }
    // Parse here rather than in ssh2's connect(): its errors would be thrown raw and unworded.
    const parsed = sshUtils.parseKey(keyText, passphrase);
    if (parsed instanceof Error) {
      const message = parsed.message;
      if (/no passphrase given/i.test(message)) {
        throw new SshL0Error(
          `identity file "${identityPath}" is encrypted: add "passphrase" (e.g. {"env": "SSH_PASSPHRASE"}) to the "ssh" settings of the L0 "${name}"`,
          'passphrase',
        );
      }
      if (/bad passphrase|integrity check failed|decrypt/i.test(message)) {
        throw new SshL0Error(`wrong passphrase for identity file "${identityPath}" (L0 "${name}")`, 'passphrase');
      }
      throw new SshL0Error(`identity file "${identityPath}" is not a private key RetroVisor can read: ${message}`, 'identity');
    }
    return {
      privateKey: keyText,
      ...(passphrase === undefined ? {} : { passphrase }),
      ...(agent ? { agent } : {}),
      offered: identityPath,
    };
  }

  /**
   * Connects and authenticates. The server shows one host key per handshake, chosen from the
   * algorithms offered; when it is not the pinned one, the handshake is retried offering only the key
   * types not seen yet, until one matches or the server has none left. A key that does not match
   * aborts its handshake before authentication, so nothing ever runs over it.
   */
  private async connect(): Promise<SshClient> {
    const { ssh, name } = this.target;
    const address = formatHostPort(ssh.host, ssh.port);
    const credentials = await this.loadCredentials();
    const started = Date.now();
    const deadline = started + this.readyTimeoutMs;
    const presented: PresentedHostKey[] = [];
    const hostKeyChanged = (): SshL0Error =>
      new SshL0Error(
        `host key for ${address} changed: profile pins ${ssh.hostKey}, server presented ${presented.map(describePresentedKey).join(', ')} — none matches; compare with \`ssh-keygen -lf\` of each /etc/ssh/ssh_host_*_key.pub on the L0, and if the L0 was reinstalled, update "hostKey" in the profile (l0 "${name}")`,
        'host-key-changed',
      );
    for (;;) {
      if (this.state.name === 'closed') throw new SshL0Error(`the connection to the L0 "${name}" is closed`, 'closed');
      const algorithms = hostKeyAlgorithmsToOffer(new Set(presented.map((key) => key.keyType)), this.matchedKeyType);
      if (algorithms.length === 0) throw hostKeyChanged();
      const remainingMs = deadline - Date.now();
      if (remainingMs <= 0) throw this.describeConnectError(Object.assign(new Error('timed out'), { level: 'client-timeout' }), credentials);
      const outcome = await this.handshake(credentials, algorithms, remainingMs);
      if (outcome.kind === 'ready') {
        this.matchedKeyType = outcome.keyType;
        this.logger.info('SSH connection to L0 ready', { elapsedMs: Date.now() - started, hostKeyType: outcome.keyType });
        return outcome.client;
      }
      if (outcome.kind === 'mismatch') {
        // Another key type of the same server is no evidence of a change yet: try the next type.
        this.logger.info('SSH host key presented by L0 is not the pinned one; offering its other key types', {
          hostKeyType: outcome.presented.keyType,
          fingerprint: outcome.presented.fingerprint,
        });
        const repeated = presented.some((key) => key.keyType === outcome.presented.keyType);
        presented.push(outcome.presented);
        // A type it was not offered, or one unknown to this list, cannot be excluded: stop here.
        if (repeated || !HOST_KEY_TYPES.some((type) => type.keyType === outcome.presented.keyType)) throw hostKeyChanged();
        continue;
      }
      const { error } = outcome;
      if (error instanceof SshL0Error) throw error;
      if (presented.length > 0 && error.level === 'handshake' && /no matching host key/i.test(error.message)) throw hostKeyChanged();
      throw this.describeConnectError(error, credentials);
    }
  }

  /** One SSH handshake offering `algorithms` as host key algorithms; a presented key that is not the pin aborts it before authentication. */
  private handshake(credentials: Credentials, algorithms: ServerHostKeyAlgorithm[], timeoutMs: number): Promise<HandshakeOutcome> {
    const { ssh, name } = this.target;
    const address = formatHostPort(ssh.host, ssh.port);
    const client = new Client();
    let presented: PresentedHostKey | null = null;
    let matchedKeyType = 'unknown';

    return new Promise<HandshakeOutcome>((resolve) => {
      let settled = false;
      const settle = (outcome: HandshakeOutcome): void => {
        if (settled) return;
        settled = true;
        if (outcome.kind !== 'ready') client.destroy();
        resolve(outcome);
      };

      client.on('ready', () => {
        // The client is shared from this moment, so a close that follows at once is seen as a drop.
        if (!this.apply('handshake-ready', { name: 'ready', client })) {
          settle({ kind: 'failed', error: new SshL0Error(`the connection to the L0 "${name}" is closed`, 'closed') });
          return;
        }
        client.setNoDelay(true);
        settle({ kind: 'ready', client, keyType: matchedKeyType });
      });
      // Always listen: an 'error' without a listener would crash the process.
      client.on('error', (error: Error & { level?: string; code?: string }) => {
        if (!settled) {
          settle(presented ? { kind: 'mismatch', presented } : { kind: 'failed', error });
          return;
        }
        this.logger.warn('SSH connection to L0 failed', { error });
      });
      client.on('close', () => {
        const state = this.state;
        if (state.name === 'ready' && state.client === client) {
          this.apply('dropped', IDLE);
          this.logger.info('SSH connection to L0 closed');
        }
        settle(
          presented
            ? { kind: 'mismatch', presented }
            : { kind: 'failed', error: new SshL0Error(`the L0 "${name}" at ${address} closed the SSH connection during the handshake`, 'unreachable') },
        );
      });

      const config: ConnectConfig = {
        host: ssh.host,
        port: ssh.port,
        username: ssh.user,
        readyTimeout: timeoutMs,
        keepaliveInterval: this.keepaliveIntervalMs,
        keepaliveCountMax: SSH_KEEPALIVE_COUNT_MAX,
        algorithms: { serverHostKey: algorithms },
        hostVerifier: (keyBlob: Buffer): boolean => {
          const fingerprint = sshFingerprint(keyBlob);
          if (fingerprintsMatch(ssh.hostKey, fingerprint)) {
            matchedKeyType = hostKeyType(keyBlob);
            return true;
          }
          // Returning false makes ssh2 abort the handshake before authentication.
          presented = { keyType: hostKeyType(keyBlob), fingerprint };
          return false;
        },
        ...(credentials.privateKey ? { privateKey: credentials.privateKey } : {}),
        ...(credentials.passphrase === undefined ? {} : { passphrase: credentials.passphrase }),
        ...(credentials.agent ? { agent: credentials.agent } : {}),
      };
      try {
        client.connect(config);
      } catch (error) {
        settle({ kind: 'failed', error: new SshL0Error(`cannot start SSH to the L0 "${name}": ${errorMessage(error)}`, 'identity') });
      }
    });
  }

  /** Words a failed connection attempt (other than a host key mismatch) for the user. */
  private describeConnectError(error: Error & { level?: string; code?: string }, credentials: Credentials): SshL0Error {
    const { ssh, name } = this.target;
    const address = formatHostPort(ssh.host, ssh.port);
    const prefix = `cannot reach the L0 "${name}" at ${address}`;
    if (error.level === 'client-authentication') {
      return new SshL0Error(
        `key not accepted for user ${ssh.user} by the L0 "${name}" at ${address} (offered ${credentials.offered}): add its public key to ~${ssh.user}/.ssh/authorized_keys on the L0, or fix "user" / "identityFile" in the profile`,
        'auth-failed',
      );
    }
    if (error.level === 'client-timeout') {
      return new SshL0Error(
        `${prefix}: no SSH answer within ${Math.round(this.readyTimeoutMs / 1000)} s — check the host, the port and any firewall`,
        'unreachable',
      );
    }
    switch (error.code) {
      case 'ECONNREFUSED':
        return new SshL0Error(`${prefix}: connection refused — is sshd running there, on port ${ssh.port}?`, 'unreachable');
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
        return new SshL0Error(`${prefix}: host name "${ssh.host}" not found — check "host" in the profile`, 'unreachable');
      case 'EHOSTUNREACH':
      case 'ENETUNREACH':
        return new SshL0Error(`${prefix}: no route to the host — check the network`, 'unreachable');
      case 'ETIMEDOUT':
        return new SshL0Error(`${prefix}: the connection timed out — check the host, the port and any firewall`, 'unreachable');
      case 'ECONNRESET':
        return new SshL0Error(`${prefix}: the connection was reset during the SSH handshake`, 'unreachable');
      default:
        return new SshL0Error(`${prefix}: ${error.message}`, 'unreachable');
    }
  }
}

/** Collects a stream's bytes up to a bound; push() says false once bytes had to be dropped. */
class BoundedOutput {
  private readonly chunks: Buffer[] = [];
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  push(chunk: Buffer): boolean {
    const room = this.maxBytes - this.bytes;
    if (room <= 0) return chunk.length === 0;
    const kept = chunk.length <= room ? chunk : chunk.subarray(0, room);
    this.chunks.push(kept);
    this.bytes += kept.length;
    return kept.length === chunk.length;
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

function formatSeconds(milliseconds: number): string {
  return milliseconds < 1000 ? `${milliseconds} ms` : `${Math.round(milliseconds / 100) / 10} s`;
}

/** Ends an SSH client gracefully, destroying it if the disconnect takes longer than a moment. */
function endClient(client: SshClient): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      client.destroy();
      resolve();
    }, SSH_CLOSE_WAIT_MS);
    timer.unref();
    client.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    client.end();
  });
}

/** The back end's L0 connections, one per distinct SSH target (host, port, user, key, pinned host key). */
export class SshL0Pool {
  private readonly connections = new Map<string, L0Connection>();
  private closed = false;

  constructor(private readonly options: SshL0Options) {}

  /** The shared connection for `target` (created on first use, not yet connected). */
  connection(target: L0Target): L0Connection {
    if (this.closed) throw new SshL0Error('the back end is shutting down', 'closed');
    const { ssh } = target;
    const identity = ssh.identityFile === undefined ? '(default)' : resolveUserPath(ssh.identityFile, target.baseDir);
    const key = JSON.stringify([ssh.user, ssh.host, ssh.port, identity, ssh.hostKey]);
    let connection = this.connections.get(key);
    if (!connection) {
      connection = new L0Connection(target, this.options);
      this.connections.set(key, connection);
    }
    return connection;
  }

  /** Opens a tunnel through the L0 to host:port (see L0Connection.openTunnel). */
  openTunnel(target: L0Target, host: string, port: number): Promise<Duplex> {
    try {
      return this.connection(target).openTunnel(host, port);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** Runs a command on the L0 (see L0Connection.exec). */
  exec(target: L0Target, command: string, options: SshExecOptions): Promise<SshExecResult> {
    try {
      return this.connection(target).exec(command, options);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** Closes every L0 connection (their tunnels close with them). */
  async close(): Promise<void> {
    this.closed = true;
    const connections = [...this.connections.values()];
    this.connections.clear();
    await Promise.all(connections.map((connection) => connection.close()));
  }
}
