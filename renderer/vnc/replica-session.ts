// The controller of one replica's VNC session: one VNC client and channel per connection attempt,
// every state change through common/replica-state.ts, a handshake timeout, reconnects with the
// machine's backoff, and passwords from the profile or the user. Plain TypeScript (no React, no noVNC import): tested in Node.

import { MAX_REPLICA_REASON_CHARS, type BackendApi, type ByteStream, type ByteStreamHandlers, type ReplicaSummary } from '../../common/contract';
import { clipText } from '../../common/terminal-text';
import { transition, type ReplicaEvent, type ReplicaState } from '../../common/replica-state';
import type { DamageRect } from './damage';
import { CLOSED_BY_RETROVISOR, ReplicaChannel } from './replica-channel';
import type { VncClient, VncClientFactory, VncCredentials } from './vnc-client';

/** Time and timers, passed in so tests control them. */
export interface Clock {
  now(): number;
  setTimeout(callback: () => void, delayMs: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The browser's clock. */
export const SYSTEM_CLOCK: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * How long the RFB handshake may take, from the stream's opening (or from credentials being sent) to
 * ServerInit. A server that sends its version and then nothing, or one stuck in a security type
 * nothing answers, would otherwise leave the replica "connecting" forever; the time spent waiting
 * for the user to type a password does not count. Generous: a real server answers within a second.
 */
export const HANDSHAKE_TIMEOUT_MS = 15_000;

/** Where refused transitions and back-end hiccups are written. */
export interface SessionLog {
  warn(message: string): void;
}

/** What the UI must ask the user when a server wants credentials the profile cannot give. */
export interface PasswordRequest {
  /** The server's security type also wants a user name (VeNCrypt Plain, ARD, ...). */
  readonly needsUsername: boolean;
  /** Why we ask (e.g. the profile's password could not be read), or null for a plain request. */
  readonly message: string | null;
}

/** What a replica session tells the workspace. */
export interface ReplicaSessionListener {
  onStateChange(state: ReplicaState): void;
  /** A new attempt's client (its canvas is the replica's pixels), or null once it is gone. */
  onClientChange(client: VncClient | null): void;
  onFramebufferUpdate(rects: readonly DamageRect[]): void;
  /** Ask the user for credentials; null withdraws an earlier request. */
  onPasswordRequest(request: PasswordRequest | null): void;
}

/** What a replica session needs: its replica, the back end, the client factory and where to render. */
export interface ReplicaSessionOptions {
  readonly sessionId: string;
  readonly replica: ReplicaSummary;
  readonly api: Pick<BackendApi, 'openReplicaStream' | 'getReplicaPassword' | 'reportReplicaState'>;
  readonly openStream: (streamId: string, handlers: ByteStreamHandlers) => ByteStream;
  readonly createClient: VncClientFactory;
  /** The element the client renders into (the thumbnail mounts it). */
  readonly host: HTMLElement;
  readonly listener: ReplicaSessionListener;
  readonly clock?: Clock;
  readonly log?: SessionLog;
}

interface Attempt {
  readonly number: number;
  channel: ReplicaChannel | null;
  client: VncClient | null;
  /** The first failure the client reported, and whether retrying can help. */
  failure: { readonly details: string; readonly fatal: boolean } | null;
  /** Which credentials this attempt sent, to forget typed ones the server refused. */
  credentialSource: 'profile' | 'user' | null;
  /** The running handshake timeout (a clock handle), or null. */
  handshakeTimer: unknown;
}

/** Most characters of a server's refusal text quoted in the next password prompt. */
const MAX_REFUSAL_REASON_CHARS = 200;

/** The reason shown when the user dismisses a password prompt. */
export const PASSWORD_CANCELLED = 'password entry cancelled';

const NOOP_STREAM_HANDLERS: ByteStreamHandlers = { onOpen: () => {}, onData: () => {}, onClose: () => {} };

/** Drives one replica's connection; the workspace owns one per replica. */
export class ReplicaSession {
  private currentState: ReplicaState = { name: 'idle' };
  private attempt: Attempt | null = null;
  private attemptCount = 0;
  private retryTimer: unknown = null;
  private passwordRequested = false;
  /** Credentials the user typed for this replica: reused on reconnect until the server refuses them. */
  private typedCredentials: VncCredentials | null = null;
  /** Set by "enter the password again": the next request goes to the user even if the profile has one. */
  private askUserNextTime = false;
  /** Why the last password sent was refused (until a connection succeeds): the next prompt says so. */
  private lastRefusal: string | null = null;
  /** After close() the session is over: nothing reconnects it. */
  private closed = false;
  private readonly clock: Clock;
  private readonly log: SessionLog;

  constructor(private readonly options: ReplicaSessionOptions) {
    this.clock = options.clock ?? SYSTEM_CLOCK;
    this.log = options.log ?? { warn: (message) => console.warn(message) };
  }

  /** The replica's id in the profile. */
  get replicaId(): string {
    return this.options.replica.id;
  }

  get state(): ReplicaState {
    return this.currentState;
  }

  /** The live client of the current attempt, if any. */
  get client(): VncClient | null {
    return this.attempt?.client ?? null;
  }

  /** Whether a password request is waiting for the user. */
  get isAskingForPassword(): boolean {
    return this.passwordRequested;
  }

  /** Connects for the first time. */
  start(): void {
    if (this.closed) return;
    if (this.apply({ type: 'connect' })) this.beginAttempt();
  }

  /** "Retry now": reconnects at once from a resting state (disconnected, reconnecting, auth failed). */
  retryNow(): void {
    if (this.closed) return;
    if (this.currentState.name === 'connecting' || this.currentState.name === 'needs-password' || this.currentState.name === 'connected') return;
    this.clearRetryTimer();
    if (this.apply({ type: 'connect' })) this.beginAttempt();
  }

  /**
   * Starts a fresh VNC session now, whatever the state: after an L0 revert or restart the old
   * connection belongs to a hypervisor process that is gone, even if its close has not arrived yet.
   */
  reconnectNow(reason: string): void {
    if (this.closed) return;
    if (this.attempt !== null) {
      this.withdrawPasswordRequest();
      this.endAttempt();
      this.apply({ type: 'dropped', reason, nowMs: this.clock.now() });
    }
    this.clearRetryTimer();
    if (this.apply({ type: 'connect' })) this.beginAttempt();
  }

  /** Reconnects and asks the user for the password even if the profile has one (after "auth failed"). */
  enterPasswordAgain(): void {
    this.askUserNextTime = true;
    this.typedCredentials = null;
    this.retryNow();
  }

  /** The user answered a password request; false when no request is pending any more. */
  submitCredentials(credentials: VncCredentials): boolean {
    if (this.currentState.name !== 'needs-password' || !this.attempt?.client) return false;
    this.typedCredentials = { ...credentials };
    this.askUserNextTime = false;
    this.supplyCredentials(this.attempt, credentials, 'user');
    return true;
  }

  /** The user dismissed the password request: this attempt ends, with no automatic retry. */
  cancelPasswordRequest(): void {
    if (this.currentState.name !== 'needs-password') return;
    this.withdrawPasswordRequest();
    this.endAttempt();
    this.apply({ type: 'dropped', reason: PASSWORD_CANCELLED, nowMs: this.clock.now() });
  }

  /** Ends the session for good (the workspace closes). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.clearRetryTimer();
    this.withdrawPasswordRequest();
    this.endAttempt();
    this.typedCredentials = null;
    this.apply({ type: 'close' });
  }

  // ---------------------------------------------------------------------------------------------

  /** Applies an event to the state machine; a refused transition is logged and ignored. */
  private apply(event: ReplicaEvent): boolean {
    const result = transition(this.currentState, event);
    if (!result.ok) {
      this.log.warn(`[replica ${this.replicaId}] ${result.error}`);
      return false;
    }
    if (result.state !== this.currentState) {
      this.currentState = result.state;
      this.options.listener.onStateChange(result.state);
      this.report(result.state);
    }
    return true;
  }

  private report(state: ReplicaState): void {
    const { sessionId, replica, api } = this.options;
    // A server chooses its failure text: clipped to what the contract carries, or the report is refused.
    const reason = 'reason' in state ? clipText(state.reason, MAX_REPLICA_REASON_CHARS) : undefined;
    const size = state.name === 'connected' ? { width: state.width, height: state.height } : {};
    api
      .reportReplicaState({ sessionId, replicaId: replica.id, state: state.name, ...size, ...(reason === undefined ? {} : { reason }) })
      .catch((error: unknown) => this.log.warn(`[replica ${this.replicaId}] could not report its state: ${messageOf(error)}`));
  }

  private beginAttempt(): void {
    this.endAttempt();
    const attempt: Attempt = { number: ++this.attemptCount, channel: null, client: null, failure: null, credentialSource: null, handshakeTimer: null };
    this.attempt = attempt;
    const { sessionId, replica, api } = this.options;
    api.openReplicaStream({ sessionId, replicaId: replica.id }).then(
      ({ streamId }) => this.attachStream(attempt, streamId),
      (error: unknown) => {
        if (this.attempt === attempt) this.handleDrop(attempt, `could not open a stream to the VNC server: ${messageOf(error)}`, false);
      },
    );
  }

  private attachStream(attempt: Attempt, streamId: string): void {
    const { openStream, createClient, host, listener } = this.options;
    if (this.attempt !== attempt) {
      // Superseded while the back end opened it: take the stream and close it at once.
      openStream(streamId, NOOP_STREAM_HANDLERS).close();
      return;
    }
    const channel = new ReplicaChannel((handlers) => openStream(streamId, handlers), streamId);
    attempt.channel = channel;
    const current = (): boolean => this.attempt === attempt;
    let client: VncClient;
    try {
      client = createClient(host, channel, {
        onConnect: () => {
          if (current()) this.handleConnect(attempt);
        },
        onDisconnect: (clean) => {
          if (current()) this.handleDrop(attempt, this.dropReason(attempt, clean), attempt.failure?.fatal === true);
        },
        onCredentialsRequired: (types) => {
          if (current()) this.handleCredentialsRequired(attempt, types);
        },
        onSecurityFailure: (status, reason) => {
          if (current()) this.handleSecurityFailure(attempt, status, reason);
        },
        onDesktopResize: (width, height) => {
          if (current() && this.currentState.name === 'connected') this.apply({ type: 'resized', width, height });
        },
        onFramebufferUpdate: (rects) => {
          if (current()) listener.onFramebufferUpdate(rects);
        },
        onFailure: (details, fatal) => {
          if (current()) attempt.failure ??= { details, fatal };
        },
      });
    } catch (error) {
      channel.close();
      this.handleDrop(attempt, `could not start the VNC client: ${messageOf(error)}`, false);
      return;
    }
    attempt.client = client;
    listener.onClientChange(client);
    this.startHandshakeTimer(attempt);
    channel.start();
  }

  /** (Re)starts the attempt's handshake timeout; when it fires the attempt drops and backs off as usual. */
  private startHandshakeTimer(attempt: Attempt): void {
    this.stopHandshakeTimer(attempt);
    attempt.handshakeTimer = this.clock.setTimeout(() => {
      attempt.handshakeTimer = null;
      if (this.attempt !== attempt) return;
      const stage = attempt.client?.handshakeStage ?? null;
      const seconds = Math.round(HANDSHAKE_TIMEOUT_MS / 1000);
      this.handleDrop(attempt, `the VNC handshake did not finish within ${seconds} s${stage === null ? '' : ` (${stage})`}`, false);
    }, HANDSHAKE_TIMEOUT_MS);
  }

  private stopHandshakeTimer(attempt: Attempt): void {
    if (attempt.handshakeTimer === null) return;
    this.clock.clearTimeout(attempt.handshakeTimer);
    attempt.handshakeTimer = null;
  }

  private handleConnect(attempt: Attempt): void {
    this.stopHandshakeTimer(attempt);
    this.withdrawPasswordRequest();
    this.lastRefusal = null;
    const client = attempt.client;
    this.apply({ type: 'connected', width: client?.width ?? 0, height: client?.height ?? 0, nowMs: this.clock.now() });
  }

  private handleCredentialsRequired(attempt: Attempt, types: readonly string[]): void {
    if (!this.apply({ type: 'credentials-required' })) return;
    const wantsOnlyPassword = types.every((type) => type === 'password');
    if (this.typedCredentials !== null && types.every((type) => this.typedCredentials?.[type as keyof VncCredentials] !== undefined)) {
      this.supplyCredentials(attempt, this.typedCredentials, 'user');
    } else if (this.options.replica.hasPassword && wantsOnlyPassword && !this.askUserNextTime) {
      this.supplyProfilePassword(attempt, types);
    } else {
      this.requestPassword(types, null);
    }
  }

  private supplyProfilePassword(attempt: Attempt, types: readonly string[]): void {
    const { sessionId, replica, api } = this.options;
    api.getReplicaPassword({ sessionId, replicaId: replica.id }).then(
      ({ password, error }) => {
        if (this.attempt !== attempt || this.currentState.name !== 'needs-password') return;
        if (password !== null) {
          this.supplyCredentials(attempt, { password }, 'profile');
          return;
        }
        this.requestPassword(types, `The profile's password could not be read${error ? `: ${error}` : ''}.`);
      },
      (error: unknown) => {
        if (this.attempt !== attempt || this.currentState.name !== 'needs-password') return;
        this.requestPassword(types, `The profile's password could not be read: ${messageOf(error)}.`);
      },
    );
  }

  private supplyCredentials(attempt: Attempt, credentials: VncCredentials, source: 'profile' | 'user'): void {
    this.withdrawPasswordRequest();
    attempt.credentialSource = source;
    this.startHandshakeTimer(attempt);
    attempt.client?.sendCredentials(credentials);
    this.apply({ type: 'credentials-supplied' });
  }

  private requestPassword(types: readonly string[], message: string | null): void {
    // The user may take their time: the handshake clock restarts when the credentials are sent.
    if (this.attempt !== null) this.stopHandshakeTimer(this.attempt);
    this.passwordRequested = true;
    this.options.listener.onPasswordRequest({ needsUsername: types.includes('username'), message: message ?? this.lastRefusal });
  }

  private withdrawPasswordRequest(): void {
    if (!this.passwordRequested) return;
    this.passwordRequested = false;
    this.options.listener.onPasswordRequest(null);
  }

  private handleSecurityFailure(attempt: Attempt, status: number, reason: string | null): void {
    this.stopHandshakeTimer(attempt);
    this.withdrawPasswordRequest();
    if (attempt.credentialSource === 'user') this.typedCredentials = null;
    if (attempt.credentialSource !== null) {
      const label = this.options.replica.label;
      this.lastRefusal = `The last password was refused by ${label}${reason === null ? '' : ` (the server said: ${clipText(reason, MAX_REFUSAL_REASON_CHARS)})`}.`;
    }
    const text = reason ?? (attempt.credentialSource === null ? `security negotiation failed (status ${status})` : 'the server rejected the password');
    // The server closes the socket next; the machine keeps "auth-failed" through that drop.
    this.apply({ type: 'security-failure', reason: text });
  }

  private dropReason(attempt: Attempt, clean: boolean): string {
    if (attempt.failure?.fatal) return attempt.failure.details;
    const closeReason = attempt.channel?.closeReason ?? null;
    if (closeReason !== null && closeReason !== CLOSED_BY_RETROVISOR) return closeReason;
    if (attempt.failure) return `the VNC session failed: ${attempt.failure.details}`;
    return clean ? 'the server closed the connection' : 'the connection failed';
  }

  private handleDrop(attempt: Attempt, reason: string, fatal: boolean): void {
    if (this.attempt !== attempt) return;
    this.withdrawPasswordRequest();
    this.endAttempt();
    this.apply({ type: 'dropped', reason, nowMs: this.clock.now() });
    // A fatal failure (e.g. an oversized desktop) would fail again: it waits for "Retry now".
    if (this.currentState.name === 'disconnected' && !fatal) this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (!this.apply({ type: 'schedule-retry', nowMs: this.clock.now() })) return;
    const state = this.currentState;
    if (state.name !== 'reconnecting') return;
    this.clearRetryTimer();
    this.retryTimer = this.clock.setTimeout(() => {
      this.retryTimer = null;
      if (this.apply({ type: 'retry-due' })) this.beginAttempt();
    }, Math.max(0, state.retryAtMs - this.clock.now()));
  }

  private clearRetryTimer(): void {
    if (this.retryTimer === null) return;
    this.clock.clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  /** Tears the current attempt down without reporting anything (its callbacks are ignored from now on). */
  private endAttempt(): void {
    const attempt = this.attempt;
    if (!attempt) return;
    this.attempt = null;
    this.stopHandshakeTimer(attempt);
    attempt.client?.disconnect();
    attempt.channel?.close();
    if (attempt.client) this.options.listener.onClientChange(null);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
