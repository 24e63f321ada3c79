// The replica session controller over a fake VNC client, a fake back end and a fake clock: it
// drives the state machine, reconnects with backoff, supplies passwords and reports every change.
// Plain Node (no noVNC).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ByteStream, ByteStreamHandlers, ReplicaStatusReport, ReplicaSummary } from '../../../common/contract';
import { RECONNECT_BASE_DELAY_MS, type ReplicaState } from '../../../common/replica-state';
import type { DamageRect } from '../../../renderer/vnc/damage';
import type { ReplicaChannel } from '../../../renderer/vnc/replica-channel';
import { HANDSHAKE_TIMEOUT_MS, PASSWORD_CANCELLED, ReplicaSession, type Clock, type PasswordRequest, type ReplicaSessionOptions } from '../../../renderer/vnc/replica-session';
import type { VncClient, VncClientEvents, VncCredentials } from '../../../renderer/vnc/vnc-client';

class FakeClient implements VncClient {
  readonly canvas = {} as HTMLCanvasElement;
  width = 0;
  height = 0;
  readonly credentials: VncCredentials[] = [];
  disconnected = false;
  /** What the fake handshake waits for (the noVNC client derives it from noVNC's state). */
  handshakeStage: string | null = "waiting for the server's security types";
  constructor(
    readonly channel: ReplicaChannel,
    readonly events: VncClientEvents,
  ) {}
  sendCredentials(credentials: VncCredentials): void {
    this.credentials.push(credentials);
  }
  readonly acceptsInput = false;
  get streamId(): string {
    return this.channel.streamId;
  }
  encodeInput(): Uint8Array | null {
    return null;
  }
  writeOwnStream(): void {
    // Never called: this client accepts no input.
  }
  getImageData(): ImageData {
    throw new Error('not in Node');
  }
  disconnect(): void {
    this.disconnected = true;
  }
  /** The server finished the handshake with this desktop size. */
  connect(width: number, height: number): void {
    this.width = width;
    this.height = height;
    this.handshakeStage = null;
    this.events.onConnect();
  }
}

class FakeClock implements Clock {
  nowMs = 1_000_000;
  private timers: { at: number; callback: () => void; handle: number }[] = [];
  private nextHandle = 1;
  now(): number {
    return this.nowMs;
  }
  setTimeout(callback: () => void, delayMs: number): unknown {
    const handle = this.nextHandle++;
    this.timers.push({ at: this.nowMs + delayMs, callback, handle });
    return handle;
  }
  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((timer) => timer.handle !== handle);
  }
  get pending(): number {
    return this.timers.length;
  }
  advance(ms: number): void {
    this.nowMs += ms;
    const due = this.timers.filter((timer) => timer.at <= this.nowMs);
    this.timers = this.timers.filter((timer) => timer.at > this.nowMs);
    for (const timer of due) timer.callback();
  }
}

/** The session's state, read afresh (an earlier assertion on `session.state` narrows the getter's type). */
const stateOf = (session: ReplicaSession): ReplicaState => session.state;

const flush = async (): Promise<void> => {
  for (let index = 0; index < 5; index += 1) await new Promise((resolve) => setImmediate(resolve));
};

interface SetUpOptions {
  readonly replica?: Partial<ReplicaSummary>;
  /** What the back end answers to getReplicaPassword. */
  readonly password?: { password: string | null; error?: string };
  readonly openReplicaStream?: () => Promise<{ streamId: string }>;
}

function setUp({ replica = {}, password = { password: 'from-profile' }, openReplicaStream }: SetUpOptions = {}) {
  const clock = new FakeClock();
  const clients: FakeClient[] = [];
  const states: ReplicaState[] = [];
  const reports: ReplicaStatusReport[] = [];
  const requests: (PasswordRequest | null)[] = [];
  const updates: (readonly DamageRect[])[] = [];
  const warnings: string[] = [];
  const streamsOpened: string[] = [];
  const streams: { handlers: ByteStreamHandlers; closed: boolean }[] = [];
  const host = {} as HTMLElement;
  let streamCounter = 0;
  const options: ReplicaSessionOptions = {
    sessionId: 's1',
    replica: { id: 'r1', label: 'one', endpoint: '127.0.0.1:5901', tunnel: false, hasPassword: false, ...replica },
    api: {
      openReplicaStream: openReplicaStream ?? (() => Promise.resolve({ streamId: `st${++streamCounter}` })),
      getReplicaPassword: () => Promise.resolve(password),
      reportReplicaState: (report) => {
        reports.push(report);
        return Promise.resolve();
      },
    },
    openStream: (streamId, handlers): ByteStream => {
      streamsOpened.push(streamId);
      const entry = { handlers, closed: false };
      streams.push(entry);
      return { send: () => {}, ack: () => {}, close: () => (entry.closed = true) };
    },
    createClient: (target, channel, events) => {
      assert.equal(target, host);
      const client = new FakeClient(channel, events);
      clients.push(client);
      return client;
    },
    host,
    listener: {
      onStateChange: (state) => states.push(state),
      onClientChange: () => {},
      onFramebufferUpdate: (rects) => updates.push(rects),
      onPasswordRequest: (request) => requests.push(request),
    },
    clock,
    log: { warn: (message) => warnings.push(message) },
  };
  const session = new ReplicaSession(options);
  const lastClient = (): FakeClient => {
    const client = clients[clients.length - 1];
    assert.ok(client, 'no client was created');
    return client;
  };
  return { session, clock, clients, lastClient, states, reports, requests, updates, warnings, streamsOpened, streams };
}

describe('ReplicaSession', { timeout: 10_000 }, () => {
  it('connects: opens a stream, starts a client on it, and reports each state with its size', async () => {
    const t = setUp();
    t.session.start();
    assert.equal(t.session.state.name, 'connecting');
    await flush();
    assert.deepEqual(t.streamsOpened, ['st1']);
    t.lastClient().connect(640, 400);
    assert.deepEqual(t.session.state, { name: 'connected', width: 640, height: 400, attempt: 0, sinceMs: t.clock.now() });
    assert.deepEqual(
      t.reports.map((report) => [report.state, report.width, report.height]),
      [
        ['connecting', undefined, undefined],
        ['connected', 640, 400],
      ],
    );
    assert.equal(t.reports[0]?.sessionId, 's1');
  });

  it('follows desktop resizes and forwards framebuffer updates', async () => {
    const t = setUp();
    t.session.start();
    await flush();
    const client = t.lastClient();
    client.connect(640, 400);
    client.events.onDesktopResize(800, 600);
    client.events.onFramebufferUpdate([{ x: 0, y: 0, width: 8, height: 8 }]);
    assert.deepEqual(t.session.state, { name: 'connected', width: 800, height: 600, attempt: 0, sinceMs: t.clock.now() });
    assert.equal(t.reports[t.reports.length - 1]?.width, 800);
    assert.equal(t.updates.length, 1);
  });

  it('answers a password request with the profile\'s password', async () => {
    const t = setUp({ replica: { hasPassword: true } });
    t.session.start();
    await flush();
    const client = t.lastClient();
    client.events.onCredentialsRequired(['password']);
    assert.equal(t.session.state.name, 'needs-password');
    await flush();
    assert.deepEqual(client.credentials, [{ password: 'from-profile' }]);
    assert.equal(t.session.state.name, 'connecting');
    assert.deepEqual(t.requests, [], 'the user is not asked');
  });

  it('asks the user when the profile has no password, and sends what they type', async () => {
    const t = setUp();
    t.session.start();
    await flush();
    const client = t.lastClient();
    client.events.onCredentialsRequired(['password']);
    assert.deepEqual(t.requests, [{ needsUsername: false, message: null }]);
    assert.equal(t.session.submitCredentials({ password: 'typed' }), true);
    assert.deepEqual(client.credentials, [{ password: 'typed' }]);
    assert.deepEqual(t.requests[t.requests.length - 1], null, 'the request is withdrawn');
    client.connect(640, 400);
    assert.equal(t.session.state.name, 'connected');
  });

  it('asks the user, saying why, when the profile\'s password cannot be read', async () => {
    const t = setUp({ replica: { hasPassword: true }, password: { password: null, error: '$VNC_PASSWORD is not set' } });
    t.session.start();
    await flush();
    t.lastClient().events.onCredentialsRequired(['password']);
    await flush();
    assert.deepEqual(t.requests, [{ needsUsername: false, message: "The profile's password could not be read: $VNC_PASSWORD is not set." }]);
  });

  it('stops at "auth failed" without retrying, and asks the user on "enter password"', async () => {
    const t = setUp({ replica: { hasPassword: true } });
    t.session.start();
    await flush();
    const client = t.lastClient();
    client.events.onCredentialsRequired(['password']);
    await flush();
    client.events.onSecurityFailure(1, 'Authentication failure');
    client.events.onFailure('Security negotiation failed', false);
    client.events.onDisconnect(false);
    assert.deepEqual(t.session.state, { name: 'auth-failed', reason: 'Authentication failure' });
    assert.equal(t.clock.pending, 0);
    assert.equal(t.reports[t.reports.length - 1]?.reason, 'Authentication failure');

    t.session.enterPasswordAgain();
    await flush();
    assert.equal(t.clients.length, 2);
    t.lastClient().events.onCredentialsRequired(['password']);
    await flush();
    assert.deepEqual(t.lastClient().credentials, [], 'the profile password is not tried again');
    assert.deepEqual(t.requests, [{ needsUsername: false, message: 'The last password was refused by one (the server said: Authentication failure).' }]);
  });

  it('says the last typed password was refused when it asks again, until a connection succeeds', async () => {
    const t = setUp();
    t.session.start();
    await flush();
    t.lastClient().events.onCredentialsRequired(['password']);
    assert.equal(t.session.submitCredentials({ password: 'wrong' }), true);
    t.lastClient().events.onSecurityFailure(1, null);
    t.lastClient().events.onDisconnect(false);
    assert.equal(t.session.state.name, 'auth-failed');
    t.session.retryNow();
    await flush();
    t.lastClient().events.onCredentialsRequired(['password']);
    assert.deepEqual(t.requests[t.requests.length - 1], { needsUsername: false, message: 'The last password was refused by one.' });
    assert.equal(t.session.submitCredentials({ password: 'right' }), true);
    t.lastClient().connect(640, 400);
    // Connected: a later prompt (the server restarted with another password) starts afresh.
    t.session.reconnectNow('the server restarted');
    await flush();
    t.lastClient().events.onCredentialsRequired(['password', 'username']);
    assert.deepEqual(t.requests[t.requests.length - 1], { needsUsername: true, message: null });
  });

  it('reconnects after a drop with the backoff the state machine computes', async () => {
    const t = setUp();
    t.session.start();
    await flush();
    t.lastClient().connect(640, 400);
    t.streams[0]?.handlers.onClose('the VNC server closed the connection');
    t.lastClient().events.onDisconnect(true);
    const state = t.session.state;
    assert.equal(state.name, 'reconnecting');
    assert.equal(state.name === 'reconnecting' ? state.retryAtMs : 0, t.clock.nowMs + RECONNECT_BASE_DELAY_MS);
    assert.equal(state.name === 'reconnecting' ? state.reason : '', 'the VNC server closed the connection');
    assert.deepEqual(
      t.reports.slice(-2).map((report) => report.state),
      ['disconnected', 'reconnecting'],
    );
    t.clock.advance(RECONNECT_BASE_DELAY_MS - 1);
    assert.equal(t.session.state.name, 'reconnecting');
    t.clock.advance(1);
    assert.equal(t.session.state.name, 'connecting');
    await flush();
    assert.equal(t.clients.length, 2);
    assert.deepEqual(t.streamsOpened, ['st1', 'st2']);
  });

  it('does not retry a fatal failure (an oversized desktop) until "retry now"', async () => {
    const t = setUp();
    t.session.start();
    await flush();
    const client = t.lastClient();
    const reason = 'server asked for a 65535×65535 desktop, larger than RetroVisor accepts';
    client.events.onFailure(reason, true);
    client.events.onDisconnect(false);
    assert.deepEqual(t.session.state, { name: 'disconnected', reason, attempt: 0 });
    assert.equal(t.clock.pending, 0);
    t.session.retryNow();
    assert.equal(t.session.state.name, 'connecting');
  });

  it('retries now from "reconnecting", cancelling the timer', async () => {
    const t = setUp();
    t.session.start();
    await flush();
    t.lastClient().events.onDisconnect(false);
    assert.equal(t.session.state.name, 'reconnecting');
    t.session.retryNow();
    assert.equal(t.session.state.name, 'connecting');
    assert.equal(t.clock.pending, 0);
  });

  it('ends the attempt without retrying when the user cancels the password prompt', async () => {
    const t = setUp();
    t.session.start();
    await flush();
    const client = t.lastClient();
    client.events.onCredentialsRequired(['password']);
    t.session.cancelPasswordRequest();
    assert.deepEqual(t.session.state, { name: 'disconnected', reason: PASSWORD_CANCELLED, attempt: 0 });
    assert.equal(client.disconnected, true);
    assert.equal(t.clock.pending, 0);
  });

  it('logs and ignores events the state machine refuses', async () => {
    const t = setUp();
    t.session.start();
    await flush();
    const client = t.lastClient();
    client.connect(640, 400);
    client.events.onCredentialsRequired(['password']);
    assert.equal(t.session.state.name, 'connected');
    assert.equal(t.warnings.length, 1);
    assert.match(t.warnings[0] ?? '', /illegal transition: "credentials-required" in state "connected"/);
  });

  it('closes for good: the client is disconnected and its late events are ignored', async () => {
    const t = setUp();
    t.session.start();
    await flush();
    const client = t.lastClient();
    client.connect(640, 400);
    t.session.close();
    assert.equal(t.session.state.name, 'closed');
    assert.equal(client.disconnected, true);
    assert.equal(t.streams[0]?.closed, true);
    client.events.onDisconnect(true);
    client.events.onFramebufferUpdate([{ x: 0, y: 0, width: 1, height: 1 }]);
    assert.equal(t.session.state.name, 'closed');
    assert.equal(t.updates.length, 0);
    assert.equal(t.reports[t.reports.length - 1]?.state, 'closed');
    assert.equal(t.clock.pending, 0);
  });

  it('reports a stream that cannot be opened as a drop and retries', async () => {
    const t = setUp({
      openReplicaStream: () => Promise.reject(new Error('no such replica')),
    });
    t.session.start();
    await flush();
    const state = t.session.state;
    assert.equal(state.name, 'reconnecting');
    assert.equal(state.name === 'reconnecting' ? state.reason : '', 'could not open a stream to the VNC server: no such replica');
  });

  it('drops a handshake that stalls after HANDSHAKE_TIMEOUT_MS, saying where, and reconnects with the backoff', async () => {
    const t = setUp();
    t.session.start();
    await flush();
    const client = t.lastClient();
    t.clock.advance(HANDSHAKE_TIMEOUT_MS - 1);
    assert.equal(t.session.state.name, 'connecting');
    t.clock.advance(1);
    const state = stateOf(t.session);
    assert.equal(state.name, 'reconnecting');
    const reason = "the VNC handshake did not finish within 15 s (waiting for the server's security types)";
    assert.equal(state.name === 'reconnecting' ? state.reason : '', reason);
    assert.equal(state.name === 'reconnecting' ? state.retryAtMs : 0, t.clock.nowMs + RECONNECT_BASE_DELAY_MS);
    assert.equal(client.disconnected, true);
    assert.equal(t.streams[0]?.closed, true);
    assert.deepEqual(
      t.reports.slice(-2).map((report) => [report.state, report.reason]),
      [
        ['disconnected', reason],
        ['reconnecting', reason],
      ],
    );
    // The client's late events change nothing; the retry starts a new attempt with its own timeout.
    client.events.onDisconnect(false);
    assert.equal(t.session.state.name, 'reconnecting');
    t.clock.advance(RECONNECT_BASE_DELAY_MS);
    await flush();
    assert.equal(t.clients.length, 2);
    t.clock.advance(HANDSHAKE_TIMEOUT_MS);
    const again = stateOf(t.session);
    assert.equal(again.name, 'reconnecting');
    assert.equal(again.name === 'reconnecting' ? again.attempt : 0, 2, 'a stalling server keeps backing off');
  });

  it('leaves no handshake timer once connected, and a connected session is never timed out', async () => {
    const t = setUp();
    t.session.start();
    await flush();
    t.lastClient().connect(640, 400);
    assert.equal(t.clock.pending, 0);
    t.clock.advance(HANDSHAKE_TIMEOUT_MS * 2);
    assert.equal(t.session.state.name, 'connected');
  });

  it('stops the handshake clock while the user is asked for a password, and restarts it when they answer', async () => {
    const t = setUp();
    t.session.start();
    await flush();
    const client = t.lastClient();
    t.clock.advance(HANDSHAKE_TIMEOUT_MS - 1000);
    client.events.onCredentialsRequired(['password']);
    assert.equal(t.clock.pending, 0, 'no timeout while the user types');
    t.clock.advance(HANDSHAKE_TIMEOUT_MS * 4);
    assert.equal(t.session.state.name, 'needs-password');
    t.session.submitCredentials({ password: 'typed' });
    client.handshakeStage = "waiting for the server's security result";
    t.clock.advance(HANDSHAKE_TIMEOUT_MS - 1);
    assert.equal(t.session.state.name, 'connecting');
    t.clock.advance(1);
    const state = stateOf(t.session);
    assert.equal(state.name === 'reconnecting' ? state.reason : state.name, "the VNC handshake did not finish within 15 s (waiting for the server's security result)");
  });
});
