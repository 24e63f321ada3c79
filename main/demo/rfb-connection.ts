// One client of the demo RFB server: the handshake as an explicit state machine, bounds-checked
// message handling (any violation drops this client, never the process) and the update pump that
// sends each client only what changed since its last update. Runs in Node.

import { performance } from 'node:perf_hooks';
import { type Socket } from 'node:net';
import { type FramebufferEvent, type FramebufferSource } from './framebuffer';
import { KEYSYM, scancodeToKeysym } from './keysyms';
import { type Rect } from './region';
import { UpdateState } from './rfb-update-state';
import {
  DEFAULT_PIXEL_FORMAT,
  DESKTOP_SIZE_STATUS,
  MAX_CUT_TEXT_BYTES,
  SECURITY_TYPE,
  SERVER_VERSION_MESSAGE,
  VERSION_MESSAGE_BYTES,
  encodeSecurityResult,
  encodeServerInit,
  parseClientMessage,
  parseVersionMessage,
  unsupportedPixelFormatReason,
  type ClientMessage,
  type RfbVersion,
} from './rfb-wire';
import { VNC_CHALLENGE_BYTES, checkVncAuthResponse, newVncChallenge } from './vnc-auth';

/** Where decoded input goes (the guest, through the fault filter). */
export interface RfbInputSink {
  keyEvent(keysym: number, down: boolean): void;
  pointerEvent(x: number, y: number, buttonMask: number): void;
  clientCutText(text: string): void;
}

/** Decides, per update, whether and when it leaves (the lag and freeze faults plug in here). */
export interface UpdateGate {
  /** While true no update is sent; damage accumulates until the server is woken. */
  isFrozen(): boolean;
  /** How long to hold the next outgoing update, in milliseconds. */
  nextDelayMs(): number;
}

/** Everything a connection needs from its server. */
export interface RfbConnectionOptions {
  readonly socket: Socket;
  readonly source: FramebufferSource;
  readonly input: RfbInputSink;
  readonly desktopName: string;
  readonly password: string | undefined;
  readonly gate: UpdateGate;
  readonly maxPendingOutputBytes: number;
  readonly handshakeTimeoutMs: number;
  readonly log: (message: string) => void;
  readonly onClosed: (connection: RfbConnection) => void;
}

type ConnectionState =
  | 'awaiting-version'
  | 'awaiting-security-choice'
  | 'awaiting-auth-response'
  | 'awaiting-client-init'
  | 'serving'
  | 'closed';

const TRANSITIONS: Readonly<Record<ConnectionState, readonly ConnectionState[]>> = {
  'awaiting-version': ['awaiting-security-choice', 'awaiting-auth-response', 'awaiting-client-init', 'closed'],
  'awaiting-security-choice': ['awaiting-auth-response', 'awaiting-client-init', 'closed'],
  'awaiting-auth-response': ['awaiting-client-init', 'closed'],
  'awaiting-client-init': ['serving', 'closed'],
  serving: ['closed'],
  closed: [],
};

// A message never needs more than the largest ClientCutText plus its header; more is abuse.
const MAX_INBOX_BYTES = MAX_CUT_TEXT_BYTES + 64 * 1024;
// The socket is destroyed this long after a final message if the client does not close it.
const LINGER_AFTER_END_MS = 1000;
const AUTH_FAILED_REASON = 'Authentication failed';

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** One RFB client, from the first byte to the close. */
export class RfbConnection {
  private state: ConnectionState = 'awaiting-version';
  private inbox: Buffer = Buffer.alloc(0);
  private version: RfbVersion = '3.8';
  private challenge: Buffer | null = null;
  private source: FramebufferSource;
  private unsubscribe: (() => void) | null = null;
  private readonly updates = new UpdateState();
  private building = false;
  private pumpScheduled = false;
  private readonly lagQueue: { readonly dueAtMs: number; readonly data: Buffer }[] = [];
  private lagBytes = 0;
  private lagTimer: NodeJS.Timeout | null = null;
  private lastDueAtMs = 0;
  private shiftDown = false;
  private handshakeTimer: NodeJS.Timeout | null;

  constructor(private readonly options: RfbConnectionOptions) {
    this.source = options.source;
    const { socket } = options;
    this.peer = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error) => this.close(`socket error: ${error.message}`));
    socket.on('close', () => this.close('client closed the connection'));
    this.handshakeTimer = setTimeout(() => this.close('handshake timed out'), options.handshakeTimeoutMs);
    this.handshakeTimer.unref();
    socket.write(SERVER_VERSION_MESSAGE, 'latin1');
  }

  /** "127.0.0.1:54321", for logs. */
  readonly peer: string;

  /** True once the handshake is over and updates flow. */
  get serving(): boolean {
    return this.state === 'serving';
  }

  /** Drops the client at once. */
  close(reason: string): void {
    if (this.state === 'closed') return;
    this.options.log(`rfb ${this.peer}: closed (${reason})`);
    this.enterClosed();
    this.options.socket.destroy();
  }

  /** Serves another framebuffer from now on (a guest rebooted in place); the client gets it whole. */
  replaceSource(source: FramebufferSource): void {
    const resized = source.width !== this.source.width || source.height !== this.source.height;
    this.source = source;
    if (this.state !== 'serving') return;
    this.unsubscribe?.();
    this.unsubscribe = source.subscribe((event) => this.onSourceEvent(event));
    if (resized) this.onSourceEvent({ kind: 'resize', width: source.width, height: source.height });
    else this.onSourceEvent({ kind: 'damage', rect: { x: 0, y: 0, width: source.width, height: source.height } });
  }

  /** Re-checks whether an update can go out (after a freeze ends). */
  wake(): void {
    this.schedulePump();
  }

  private transition(next: ConnectionState): boolean {
    if (!TRANSITIONS[this.state].includes(next)) {
      this.close(`illegal transition ${this.state} → ${next}`);
      return false;
    }
    this.state = next;
    return true;
  }

  private enterClosed(): void {
    this.state = 'closed';
    this.inbox = Buffer.alloc(0);
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    if (this.lagTimer) clearTimeout(this.lagTimer);
    this.lagQueue.length = 0;
    this.updates.close();
    this.options.onClosed(this);
  }

  // Sends a last message (e.g. a failed SecurityResult) and closes once it is out.
  private finish(data: Buffer, reason: string): void {
    if (this.state === 'closed') return;
    this.options.log(`rfb ${this.peer}: closed (${reason})`);
    this.enterClosed();
    const { socket } = this.options;
    socket.end(data);
    setTimeout(() => socket.destroy(), LINGER_AFTER_END_MS).unref();
  }

  private write(data: Buffer): void {
    if (this.state === 'closed') return;
    const pending = this.options.socket.writableLength + this.lagBytes;
    if (pending > this.options.maxPendingOutputBytes) {
      this.close(`client does not read: ${pending} bytes pending (limit ${this.options.maxPendingOutputBytes})`);
      return;
    }
    this.options.socket.write(data);
  }

  private isClosed(): boolean {
    return this.state === 'closed';
  }

  private onData(chunk: Buffer): void {
    if (this.isClosed()) return;
    this.inbox = this.inbox.length === 0 ? chunk : Buffer.concat([this.inbox, chunk]);
    try {
      while (!this.isClosed() && this.inbox.length > 0) {
        const consumed = this.step();
        if (consumed === 0) break;
        this.inbox = this.inbox.subarray(consumed);
      }
    } catch (error) {
      this.close(`internal error: ${describeError(error)}`);
      return;
    }
    if (!this.isClosed() && this.inbox.length > MAX_INBOX_BYTES) this.close('message too large');
  }

  // Handles at most one message at the front of the inbox; returns the bytes used (0 = need more).
  private step(): number {
    const inbox = this.inbox;
    switch (this.state) {
      case 'awaiting-version':
        if (inbox.length < VERSION_MESSAGE_BYTES) return 0;
        this.onVersion(inbox.subarray(0, VERSION_MESSAGE_BYTES));
        return VERSION_MESSAGE_BYTES;
      case 'awaiting-security-choice':
        this.onSecurityChoice(inbox.readUInt8(0));
        return 1;
      case 'awaiting-auth-response':
        if (inbox.length < VNC_CHALLENGE_BYTES) return 0;
        this.onAuthResponse(inbox.subarray(0, VNC_CHALLENGE_BYTES));
        return VNC_CHALLENGE_BYTES;
      case 'awaiting-client-init':
        this.onClientInit();
        return 1;
      case 'serving': {
        const result = parseClientMessage(inbox);
        if (result.kind === 'incomplete') return 0;
        if (result.kind === 'error') {
          this.close(`protocol error: ${result.reason}`);
          return 0;
        }
        this.onMessage(result.message);
        return result.byteLength;
      }
      case 'closed':
        return 0;
    }
  }

  private offeredSecurityType(): number {
    return this.options.password === undefined ? SECURITY_TYPE.None : SECURITY_TYPE.VncAuth;
  }

  private onVersion(bytes: Buffer): void {
    const version = parseVersionMessage(bytes);
    if (version === null) {
      this.close(`unsupported protocol version ${JSON.stringify(bytes.toString('latin1'))}`);
      return;
    }
    this.version = version;
    const offered = this.offeredSecurityType();
    if (version === '3.3') {
      // RFB 3.3: the server decides the security type.
      const type = Buffer.alloc(4);
      type.writeUInt32BE(offered, 0);
      this.write(type);
      this.startSecurity(offered);
      return;
    }
    if (this.transition('awaiting-security-choice')) this.write(Buffer.from([1, offered]));
  }

  private onSecurityChoice(choice: number): void {
    const offered = this.offeredSecurityType();
    if (choice !== offered) {
      const reason = `security type ${choice} was not offered`;
      if (this.version === '3.8') this.finish(encodeSecurityResult(false, reason), reason);
      else this.close(reason);
      return;
    }
    this.startSecurity(offered);
  }

  private startSecurity(type: number): void {
    if (type === SECURITY_TYPE.VncAuth) {
      this.challenge = newVncChallenge();
      if (this.transition('awaiting-auth-response')) this.write(this.challenge);
      return;
    }
    // Security None: only RFB 3.8 sends a SecurityResult.
    if (this.transition('awaiting-client-init') && this.version === '3.8') this.write(encodeSecurityResult(true, null));
  }

  private onAuthResponse(response: Buffer): void {
    const { password } = this.options;
    const challenge = this.challenge;
    this.challenge = null;
    if (password === undefined || challenge === null || !checkVncAuthResponse(password, challenge, response)) {
      this.finish(encodeSecurityResult(false, this.version === '3.8' ? AUTH_FAILED_REASON : null), 'wrong password');
      return;
    }
    if (this.transition('awaiting-client-init')) this.write(encodeSecurityResult(true, null));
  }

  // Every client shares the desktop (like Xvnc -AlwaysShared): the shared-flag is ignored.
  private onClientInit(): void {
    if (!this.transition('serving')) return;
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = null;
    const { source } = this;
    this.write(encodeServerInit(source.width, source.height, DEFAULT_PIXEL_FORMAT, this.options.desktopName));
    this.unsubscribe = source.subscribe((event) => this.onSourceEvent(event));
  }

  private onMessage(message: ClientMessage): void {
    const { input } = this.options;
    switch (message.type) {
      case 'set-pixel-format': {
        const problem = unsupportedPixelFormatReason(message.pixelFormat);
        if (problem !== null) {
          this.close(`SetPixelFormat: ${problem}`);
          return;
        }
        this.updates.setPixelFormat(message.pixelFormat);
        return;
      }
      case 'set-encodings':
        this.updates.setEncodings(message.encodings);
        this.schedulePump();
        return;
      case 'update-request': {
        this.updates.request(message.incremental, message, this.bounds());
        this.schedulePump();
        return;
      }
      case 'key':
        this.trackShift(message.keysym, message.down);
        input.keyEvent(message.keysym, message.down);
        return;
      case 'qemu-key': {
        const keysym = message.keysym !== 0 ? message.keysym : scancodeToKeysym(message.keycode, this.shiftDown);
        if (keysym === null) return;
        this.trackShift(keysym, message.down);
        input.keyEvent(keysym, message.down);
        return;
      }
      case 'pointer':
        input.pointerEvent(message.x, message.y, message.buttonMask);
        return;
      case 'cut-text':
        input.clientCutText(message.text);
        return;
      case 'set-desktop-size':
        if (!this.updates.acceptsSetDesktopSize) {
          this.close('SetDesktopSize before ExtendedDesktopSize was announced');
          return;
        }
        // The demo guest's size is fixed by the lab; answer as a server that forbids resizing.
        this.updates.replyToSetDesktopSize(DESKTOP_SIZE_STATUS.Prohibited);
        this.schedulePump();
        return;
    }
  }

  private trackShift(keysym: number, down: boolean): void {
    if (keysym === KEYSYM.Shift_L || keysym === KEYSYM.Shift_R) this.shiftDown = down;
  }

  private bounds(): Rect {
    return { x: 0, y: 0, width: this.source.width, height: this.source.height };
  }

  private onSourceEvent(event: FramebufferEvent): void {
    if (!this.updates.onSourceEvent(event, this.bounds())) {
      this.close('the framebuffer was resized and the client does not support DesktopSize');
      return;
    }
    this.schedulePump();
  }

  private schedulePump(): void {
    if (this.pumpScheduled || this.state !== 'serving') return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump().catch((error: unknown) => this.close(`update failed: ${describeError(error)}`));
    });
  }

  // One update in flight at a time; answered requests and new damage re-arm the pump.
  private async pump(): Promise<void> {
    if (this.state !== 'serving' || this.building || this.options.gate.isFrozen() || !this.updates.hasWork()) return;
    this.building = true;
    try {
      const update = await this.updates.build(this.source);
      if (this.state === 'serving') this.sendAfterLag(update);
    } finally {
      this.building = false;
    }
    if (this.state === 'serving' && this.updates.hasWork()) this.schedulePump();
  }

  // The lag fault: updates leave in order, each no earlier than its own delay.
  private sendAfterLag(update: Buffer): void {
    const delayMs = this.options.gate.nextDelayMs();
    if (delayMs <= 0 && this.lagQueue.length === 0) {
      this.write(update);
      return;
    }
    const dueAtMs = Math.max(performance.now() + Math.max(0, delayMs), this.lastDueAtMs);
    this.lastDueAtMs = dueAtMs;
    this.lagQueue.push({ dueAtMs, data: update });
    this.lagBytes += update.length;
    this.armLagTimer();
  }

  private armLagTimer(): void {
    if (this.lagTimer !== null || this.lagQueue.length === 0) return;
    const head = this.lagQueue[0];
    if (head === undefined) return;
    this.lagTimer = setTimeout(() => {
      this.lagTimer = null;
      const now = performance.now();
      while (this.state !== 'closed') {
        const next = this.lagQueue[0];
        if (next === undefined || next.dueAtMs > now) break;
        this.lagQueue.shift();
        this.lagBytes -= next.data.length;
        this.write(next.data);
      }
      this.armLagTimer();
    }, Math.max(0, head.dueAtMs - performance.now()));
  }
}
