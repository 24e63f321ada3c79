// The input fan-out: turns one captured input stream into the same ordered list of RFB inputs for
// every target replica, numbers each step, coalesces pointer moves ONCE for all replicas, remembers
// what each replica holds down so it can be released on focus loss, exclusion and before a replica is
// cut off, and can hold all input (queued, never dropped) while a checkpoint is taken. Pure: the clock
// and timer are passed in; sockets are the sink's business.

import { BUTTON_BITS, type BroadcastInput, type InputDispatch, type InputOrigin, type ReplicaDelivery } from './input-events';

/** Time and one timer, passed in so tests drive them. */
export interface InputClock {
  now(): number;
  setTimeout(callback: () => void, delayMs: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Pointer moves closer together than this are merged into the latest (noVNC's own rate, 17 ms ≈ 60 Hz). */
export const POINTER_MOVE_INTERVAL_MS = 17;

/** Why a replica is not receiving input (null: it is a target). */
export type InputBlock = 'excluded' | 'not-connected' | 'remediating' | 'broadcast-off' | null;

/** How the fan-out is set up. */
export interface InputFanoutOptions {
  /** Replica ids in profile order: deliveries follow this order. */
  readonly replicaIds: readonly string[];
  readonly clock: InputClock;
  /** Receives every dispatch synchronously, in sequence order. */
  readonly sink: (dispatch: InputDispatch) => void;
  readonly pointerMoveIntervalMs?: number;
}

/** A key a replica holds down: the keysym of its press and its physical code. */
export interface HeldKey {
  readonly keysym: number;
  readonly code: string | null;
}

/** Input that arrived while the fan-out was held, in arrival order: replayed through the same methods on release. */
type QueuedInput =
  | { readonly kind: 'move'; readonly x: number; readonly y: number; readonly origin: InputOrigin; readonly atMs: number }
  | { readonly kind: 'call'; readonly run: () => void; readonly atMs: number };

/**
 * Held input is sent on release at the pace it came, gaps up to this long kept (longer pauses are
 * shortened to it): sent all at once, a burst of keys overflows a slow guest's keyboard queue and is
 * dropped differently on each replica.
 */
export const RELEASE_MAX_GAP_MS = 250;

interface ReplicaInputState {
  readonly id: string;
  included: boolean;
  connected: boolean;
  remediating: boolean;
  /** Keys this replica has received a press for and no release yet, in press order. */
  readonly heldKeys: Map<string, HeldKey>;
  /** The button mask this replica last received. */
  buttonMask: number;
}

/** A key's identity for held-key bookkeeping: its physical code, else its keysym. */
export function keyIdentity(keysym: number, code: string | null): string {
  return code !== null && code !== '' ? `code:${code}` : `keysym:${keysym}`;
}

const WHEEL_BITS = BUTTON_BITS.wheelUp | BUTTON_BITS.wheelDown | BUTTON_BITS.wheelLeft | BUTTON_BITS.wheelRight;

/** One workspace's input fan-out. */
export class InputFanout {
  private readonly replicas: ReplicaInputState[];
  private readonly byId = new Map<string, ReplicaInputState>();
  private readonly clock: InputClock;
  private readonly sink: (dispatch: InputDispatch) => void;
  private readonly moveIntervalMs: number;
  private nextSeq = 1;
  private broadcasting = true;
  /** The replica that alone gets input while broadcast is off (the reference). */
  private soloId: string | null = null;
  /** The pointer as the user holds it: last position and buttons (wheel bits never stay down). */
  private pointerX = 0;
  private pointerY = 0;
  private pointerMask = 0;
  /** The mask of the last pointer input sent (wheel bits included), to tell presses from holds. */
  private lastSentGlobalMask = 0;
  private lastMoveSentMs = -Infinity;
  private moveTimer: unknown = null;
  private movePending: { x: number; y: number; origin: InputOrigin } | null = null;
  private disposed = false;
  /** Held (hold()): new input waits here, in order, and nothing is dispatched until release(). */
  private holding = false;
  /** Released, but the queue is still being sent at its own pace: new input goes behind it. */
  private draining = false;
  private drainTimer: unknown = null;
  private readonly queued: QueuedInput[] = [];

  constructor(options: InputFanoutOptions) {
    this.clock = options.clock;
    this.sink = options.sink;
    this.moveIntervalMs = options.pointerMoveIntervalMs ?? POINTER_MOVE_INTERVAL_MS;
    this.replicas = options.replicaIds.map((id) => ({ id, included: true, connected: false, remediating: false, heldKeys: new Map(), buttonMask: 0 }));
    for (const replica of this.replicas) this.byId.set(replica.id, replica);
  }

  /** The next sequence number to be used. */
  get nextSequence(): number {
    return this.nextSeq;
  }

  get broadcastEnabled(): boolean {
    return this.broadcasting;
  }

  /** The replicas that receive the next input, in profile order. */
  targets(): string[] {
    return this.replicas.filter((replica) => this.blockOf(replica) === null).map((replica) => replica.id);
  }

  /** Why `replicaId` receives nothing right now, or null when it is a target. */
  blockReason(replicaId: string): InputBlock {
    const replica = this.byId.get(replicaId);
    return replica === undefined ? 'not-connected' : this.blockOf(replica);
  }

  /** Whether the user included the replica in broadcast. */
  isIncluded(replicaId: string): boolean {
    return this.byId.get(replicaId)?.included ?? false;
  }

  /** Keys and buttons a replica holds (for tests and the UI's stuck-key check). */
  heldBy(replicaId: string): { keys: HeldKey[]; buttonMask: number } {
    const replica = this.byId.get(replicaId);
    return { keys: replica ? [...replica.heldKeys.values()] : [], buttonMask: replica?.buttonMask ?? 0 };
  }

  /** Whether input is held (queued until release()). */
  get isHeld(): boolean {
    return this.holding;
  }

  /** Inputs waiting for release() (consecutive pointer moves count once). */
  get queuedInputs(): number {
    return this.queued.length;
  }

  // --- hold -----------------------------------------------------------------------------------

  /**
   * Holds input: a pending pointer move is sent first, then every new input (keys, pointer, wheel,
   * clipboard, release-all) and every release a control change would send is queued in order, never
   * dropped, and dispatched by release() with its sequence number assigned then. Nothing reaches any
   * replica meanwhile, so a checkpoint taken now sees every replica at the same sequence number.
   * Holding again while held changes nothing.
   */
  hold(): void {
    if (this.disposed || this.holding) return;
    this.flushMove();
    this.holding = true;
  }

  /**
   * Ends a hold: what was queued is dispatched in order, to the targets of each moment, at the pace it
   * came (gaps up to RELEASE_MAX_GAP_MS); input arriving meanwhile goes behind it, so the order is kept.
   */
  release(): void {
    if (!this.holding) return;
    this.holding = false;
    this.draining = true;
    this.drain();
  }

  /** Sends the queue's inputs due now; schedules itself for the next one after its original gap. */
  private drain(): void {
    this.drainTimer = null;
    while (!this.holding && !this.disposed && this.queued.length > 0) {
      const next = this.queued.shift() as QueuedInput;
      // Made again through the public methods, which must dispatch now, not queue once more.
      this.draining = false;
      if (next.kind === 'move') this.pointerMove(next.x, next.y, next.origin);
      else next.run();
      this.draining = true;
      const following = this.queued[0];
      const gapMs = following === undefined ? 0 : Math.min(following.atMs - next.atMs, RELEASE_MAX_GAP_MS);
      if (gapMs > 0 && !this.holding) {
        this.drainTimer = this.clock.setTimeout(() => this.drain(), gapMs);
        return;
      }
    }
    // A hold taken again mid-way keeps the rest queued, in order; its release drains it.
    if (this.queued.length === 0) this.draining = false;
  }

  /**
   * Takes over what a replica holds down after RetroVisor sent it input outside the fan-out (a journal
   * replay): later releases reach it as if it had received those presses from here.
   */
  adoptHeld(replicaId: string, keys: readonly HeldKey[], buttonMask: number): void {
    const replica = this.byId.get(replicaId);
    if (!replica) return;
    replica.heldKeys.clear();
    for (const key of keys) replica.heldKeys.set(keyIdentity(key.keysym, key.code), { keysym: key.keysym, code: key.code });
    replica.buttonMask = buttonMask & ~WHEEL_BITS & 0x7f;
  }

  // --- controls -------------------------------------------------------------------------------

  /** Broadcast on: every included, connected replica. Off: only the solo replica (the reference). */
  setBroadcast(enabled: boolean): void {
    this.changeTargets(() => {
      this.broadcasting = enabled;
    });
  }

  /** The replica that gets input while broadcast is off. */
  setSoloReplica(replicaId: string | null): void {
    this.changeTargets(() => {
      this.soloId = replicaId;
    });
  }

  /** Includes or excludes a replica; an excluded one is first released of whatever it holds. */
  setIncluded(replicaId: string, included: boolean): void {
    const replica = this.byId.get(replicaId);
    if (!replica) return;
    this.changeTargets(() => {
      replica.included = included;
    });
  }

  /**
   * The replica's connection can (true) or cannot (false) carry input. On false nothing is sent (the
   * socket is gone) and what it held is forgotten: a new connection starts with nothing held.
   */
  setConnected(replicaId: string, connected: boolean): void {
    const replica = this.byId.get(replicaId);
    if (!replica || replica.connected === connected) return;
    if (!connected) this.flushMove();
    replica.connected = connected;
    replica.heldKeys.clear();
    replica.buttonMask = 0;
  }

  /** A remediation is working on the replica: it is released first, then gets nothing until cleared. */
  setRemediating(replicaId: string, remediating: boolean): void {
    const replica = this.byId.get(replicaId);
    if (!replica) return;
    this.changeTargets(() => {
      replica.remediating = remediating;
    });
  }

  /**
   * Call before RetroVisor deliberately disconnects a replica: releases what it holds while it still
   * can — even during a hold, since a release queued until after its connection is gone would be lost.
   */
  cutOff(replicaId: string): void {
    const replica = this.byId.get(replicaId);
    if (!replica) return;
    this.flushMove();
    if (replica.connected) this.releaseReplicas([replica], true);
    this.setConnected(replicaId, false);
  }

  // --- input ----------------------------------------------------------------------------------

  /** A key press or release (keysym plus physical code). A release goes only to replicas that hold the key. */
  key(keysym: number, code: string | null, down: boolean, origin: InputOrigin = 'user'): void {
    if (this.disposed) return;
    if (this.queueWhileHeld(() => this.key(keysym, code, down, origin))) return;
    this.flushMove();
    const identity = keyIdentity(keysym, code);
    const deliveries: ReplicaDelivery[] = [];
    for (const replica of this.replicas) {
      if (this.blockOf(replica) !== null) continue;
      if (down) {
        replica.heldKeys.set(identity, { keysym, code });
        deliveries.push({ replicaId: replica.id, input: { kind: 'key', keysym, code, down: true } });
      } else {
        const held = replica.heldKeys.get(identity);
        if (held === undefined) continue;
        replica.heldKeys.delete(identity);
        // The release carries the keysym of the press, as noVNC does (Shift may have changed since).
        deliveries.push({ replicaId: replica.id, input: { kind: 'key', keysym: held.keysym, code: held.code, down: false } });
      }
    }
    this.dispatch(origin, { kind: 'key', keysym, code, down }, deliveries);
  }

  /** Presses and releases a key (scripts, the special-keys menu). */
  tap(keysym: number, code: string | null, origin: InputOrigin = 'user'): void {
    this.key(keysym, code, true, origin);
    this.key(keysym, code, false, origin);
  }

  /** The pointer moved (framebuffer coordinates); moves are coalesced once, for every replica alike. */
  pointerMove(x: number, y: number, origin: InputOrigin = 'user'): void {
    if (this.disposed) return;
    if (this.holding || this.draining) {
      // Coalesced in the queue as well: only the latest of consecutive moves is kept.
      const last = this.queued[this.queued.length - 1];
      const atMs = this.clock.now();
      if (last?.kind === 'move') this.queued[this.queued.length - 1] = { kind: 'move', x, y, origin, atMs };
      else this.queued.push({ kind: 'move', x, y, origin, atMs });
      return;
    }
    this.pointerX = x;
    this.pointerY = y;
    const now = this.clock.now();
    if (this.moveTimer === null && now - this.lastMoveSentMs >= this.moveIntervalMs) {
      this.movePending = null;
      this.sendPointer(x, y, this.pointerMask, origin);
      this.lastMoveSentMs = now;
      return;
    }
    this.movePending = { x, y, origin };
    if (this.moveTimer === null) {
      const delay = Math.max(0, this.moveIntervalMs - (now - this.lastMoveSentMs));
      this.moveTimer = this.clock.setTimeout(() => {
        this.moveTimer = null;
        this.flushMove();
      }, delay);
    }
  }

  /** A button (1 left, 2 middle, 3 right) pressed or released at (x, y). */
  pointerButton(x: number, y: number, button: 1 | 2 | 3, down: boolean, origin: InputOrigin = 'user'): void {
    if (this.disposed) return;
    // Queued as a button change: the mask is worked out on release, from the buttons down then.
    if (this.queueWhileHeld(() => this.pointerButton(x, y, button, down, origin))) return;
    const bit = 1 << (button - 1);
    this.pointerState(x, y, down ? this.pointerMask | bit : this.pointerMask & ~bit, origin);
  }

  /** The pointer at (x, y) with exactly these buttons down (RFB mask without wheel bits). */
  pointerState(x: number, y: number, buttonMask: number, origin: InputOrigin = 'user'): void {
    if (this.disposed) return;
    if (this.queueWhileHeld(() => this.pointerState(x, y, buttonMask, origin))) return;
    this.flushMove();
    this.pointerX = x;
    this.pointerY = y;
    this.pointerMask = buttonMask & ~WHEEL_BITS & 0x7f;
    this.sendPointer(x, y, this.pointerMask, origin);
  }

  /**
   * Wheel steps at (x, y): each step is a press and release of the wheel button (RFB has no wheel
   * message). Positive dy scrolls down, positive dx right.
   */
  wheel(x: number, y: number, dx: number, dy: number, origin: InputOrigin = 'user'): void {
    if (this.disposed) return;
    if (this.queueWhileHeld(() => this.wheel(x, y, dx, dy, origin))) return;
    this.flushMove();
    this.pointerX = x;
    this.pointerY = y;
    const steps: Array<[number, number]> = [
      [Math.trunc(Math.abs(dy)), dy < 0 ? BUTTON_BITS.wheelUp : BUTTON_BITS.wheelDown],
      [Math.trunc(Math.abs(dx)), dx < 0 ? BUTTON_BITS.wheelLeft : BUTTON_BITS.wheelRight],
    ];
    for (const [count, bit] of steps) {
      for (let step = 0; step < count; step++) {
        this.sendPointer(x, y, this.pointerMask | bit, origin);
        this.sendPointer(x, y, this.pointerMask, origin);
      }
    }
  }

  /** Sets every target's clipboard (RFB ClientCutText, or the extended clipboard where offered). */
  clipboard(text: string, origin: InputOrigin = 'user'): void {
    if (this.disposed) return;
    if (this.queueWhileHeld(() => this.clipboard(text, origin))) return;
    this.flushMove();
    const input: BroadcastInput = { kind: 'clipboard', text };
    this.dispatch(
      origin,
      input,
      this.replicas.filter((replica) => this.blockOf(replica) === null).map((replica) => ({ replicaId: replica.id, input })),
    );
  }

  /**
   * Focus left the composite: every key and button any connected replica holds is released there,
   * keys in reverse press order, then the buttons. Nothing is sent where nothing is held.
   */
  releaseAll(): void {
    if (this.disposed) return;
    if (this.queueWhileHeld(() => this.releaseAll())) return;
    this.flushMove();
    this.pointerMask = 0;
    this.lastSentGlobalMask = 0;
    this.releaseReplicas(this.replicas.filter((replica) => replica.connected));
  }

  /** Sends a pending coalesced move now (before any other input, so order is kept). */
  flushMove(): void {
    if (this.moveTimer !== null) {
      this.clock.clearTimeout(this.moveTimer);
      this.moveTimer = null;
    }
    const pending = this.movePending;
    if (pending === null) return;
    this.movePending = null;
    this.sendPointer(pending.x, pending.y, this.pointerMask, pending.origin);
    this.lastMoveSentMs = this.clock.now();
  }

  /** Stops the timer and drops held input; later input is ignored. Release first if replicas may still hold keys. */
  dispose(): void {
    if (this.moveTimer !== null) this.clock.clearTimeout(this.moveTimer);
    this.moveTimer = null;
    this.movePending = null;
    if (this.drainTimer !== null) this.clock.clearTimeout(this.drainTimer);
    this.drainTimer = null;
    this.queued.length = 0;
    this.holding = false;
    this.draining = false;
    this.disposed = true;
  }

  // ---------------------------------------------------------------------------------------------

  /** While held, queues `run` (the same call, made again on release) and answers true. */
  private queueWhileHeld(run: () => void): boolean {
    if (!this.holding && !this.draining) return false;
    this.queued.push({ kind: 'call', run, atMs: this.clock.now() });
    return true;
  }

  private blockOf(replica: ReplicaInputState): InputBlock {
    if (!replica.connected) return 'not-connected';
    if (replica.remediating) return 'remediating';
    if (!this.broadcasting) return replica.id === this.soloId ? null : 'broadcast-off';
    return replica.included ? null : 'excluded';
  }

  /** Applies a control change; replicas that stop being targets are released while still connected. */
  private changeTargets(change: () => void): void {
    this.flushMove();
    const before = new Set(this.targets());
    change();
    const after = new Set(this.targets());
    const leaving = this.replicas.filter((replica) => before.has(replica.id) && !after.has(replica.id) && replica.connected);
    if (leaving.length > 0) this.releaseReplicas(leaving);
  }

  /**
   * Key releases (reverse press order, one dispatch per key) and a button release for these replicas.
   * The bookkeeping changes now; while held, the dispatches wait in the queue (`now`: they go at once).
   */
  private releaseReplicas(replicas: readonly ReplicaInputState[], now = false): void {
    const keys = new Map<string, HeldKey>();
    for (const replica of replicas) {
      for (const [identity, held] of replica.heldKeys) if (!keys.has(identity)) keys.set(identity, held);
    }
    for (const [identity, held] of [...keys].reverse()) {
      const deliveries: ReplicaDelivery[] = [];
      for (const replica of replicas) {
        const own = replica.heldKeys.get(identity);
        if (own === undefined) continue;
        replica.heldKeys.delete(identity);
        deliveries.push({ replicaId: replica.id, input: { kind: 'key', keysym: own.keysym, code: own.code, down: false } });
      }
      this.dispatchOrQueue(now, 'release', { kind: 'key', keysym: held.keysym, code: held.code, down: false }, deliveries);
    }
    const pressed = replicas.filter((replica) => replica.buttonMask !== 0);
    if (pressed.length === 0) return;
    const input: BroadcastInput = { kind: 'pointer', x: this.pointerX, y: this.pointerY, buttonMask: 0 };
    for (const replica of pressed) replica.buttonMask = 0;
    this.dispatchOrQueue(now, 'release', input, pressed.map((replica) => ({ replicaId: replica.id, input })));
  }

  private dispatchOrQueue(now: boolean, origin: InputOrigin, input: BroadcastInput, deliveries: readonly ReplicaDelivery[]): void {
    if (now || !this.queueWhileHeld(() => this.dispatch(origin, input, deliveries))) this.dispatch(origin, input, deliveries);
  }

  private sendPointer(x: number, y: number, buttonMask: number, origin: InputOrigin): void {
    const previous = this.lastSentGlobalMask;
    const pressedNow = buttonMask & ~previous;
    this.lastSentGlobalMask = buttonMask;
    const deliveries: ReplicaDelivery[] = [];
    for (const replica of this.replicas) {
      if (this.blockOf(replica) !== null) continue;
      // A replica that joined while a button was down never saw the press: it must not see it now.
      const mask = buttonMask & (replica.buttonMask | pressedNow);
      replica.buttonMask = mask;
      deliveries.push({ replicaId: replica.id, input: { kind: 'pointer', x, y, buttonMask: mask } });
    }
    this.dispatch(origin, { kind: 'pointer', x, y, buttonMask }, deliveries);
  }

  private dispatch(origin: InputOrigin, input: BroadcastInput, deliveries: readonly ReplicaDelivery[]): void {
    // Nothing reached any replica: no sequence number is spent and nothing is journaled.
    if (deliveries.length === 0) return;
    this.sink({ seq: this.nextSeq++, timeMs: this.clock.now(), origin, input, deliveries });
  }
}
