// One workspace's input broadcast: the pure fan-out (common/input) wired to the replicas' VNC clients
// (every dispatch encoded once per target and sent on the ONE input channel — one frame per task —, or
// written onto each target's own stream in one synchronous loop), the journal uploader, the special keys, clipboard
// actions, scripts and "settle" (no screen update on any target for a while); and, for the remediation
// manager, holding input, isolating a replica and replaying the journal into it alone before it rejoins.
// Plain TypeScript, no DOM and no noVNC: tested in Node with fake clients.

import { MAX_JOURNAL_READ, type BackendApi } from '../../common/contract';
import { BUTTON_BITS, BUTTON_MASK_ALL, journalEntryOf, type BroadcastInput, type InputDispatch, type InputJournalEntry } from '../../common/input/input-events';
import type { InputTarget } from '../../common/input/input-frame';
import { InputFanout, keyIdentity, type HeldKey, type InputBlock } from '../../common/input/input-fanout';
import { runInputScript, sendChord, typeText, type InputScriptStep } from '../../common/input/input-script';
import { SYSTEM_CLOCK, type Clock, type SessionLog } from '../vnc/replica-session';
import type { VncClient } from '../vnc/vnc-client';
import type { InputChannel } from './input-channel';
import { JournalUploader } from './journal-uploader';

/** How often settle() looks at the replicas' last screen updates. */
export const SETTLE_POLL_MS = 25;
/** On close, how long the releases may take to reach the back end before the streams close anyway. */
export const RELEASE_DRAIN_TIMEOUT_MS = 1000;
/** How long holdInput() waits for the back end to confirm that everything sent was written. */
export const HOLD_DRAIN_TIMEOUT_MS = 2000;
/** Inputs kept for an isolated replica's replay; beyond this its replay cannot catch up and fails. */
export const MAX_ISOLATION_QUEUE = 100_000;
/** A replay burst ends where the original inputs were at least this far apart (the user waited for the screen there). */
export const REPLAY_BURST_GAP_MS = 250;
/**
 * A replay burst carries at most this many inputs other than plain pointer moves (keys, clicks, wheel,
 * clipboard): 8 key taps. A guest's keyboard queue is short — QEMU's PS/2 keyboard drops events past
 * its queue when they come faster than the guest reads them — and a replay must never send more at
 * once than live typing did.
 */
export const REPLAY_BURST_MAX_INPUTS = 16;
/** ...and at most this many inputs in all (plain moves included). */
export const REPLAY_BURST_MAX_TOTAL = 1024;
/** After a burst, the replay waits until the replica's screen has not changed for this long... */
export const REPLAY_QUIET_MS = 300;
/** ...but at most this long per burst (a clock or a blinking cursor never goes quiet). */
export const REPLAY_BURST_SETTLE_CAP_MS = 5000;
/**
 * Where the user paused (REPLAY_BURST_GAP_MS or more), the replica gets that pause too, up to this
 * long: a quiet screen alone does not say the guest is ready (a shell starting a command draws
 * nothing for a while), and keys typed ahead of a prompt are echoed elsewhere than they were live.
 */
export const REPLAY_PAUSE_CAP_MS = 3000;
/** The catch-up with live input keeps this share of its original gaps: the backlog halves each round. */
export const REPLAY_CATCH_UP_PACE = 0.5;

const WHEEL_BITS = BUTTON_BITS.wheelUp | BUTTON_BITS.wheelDown | BUTTON_BITS.wheelLeft | BUTTON_BITS.wheelRight;

/** One page of the back end's input journal (readJournal's answer). */
export interface JournalPage {
  /** Entries with a sequence number above the one asked for, oldest first. */
  readonly entries: readonly InputJournalEntry[];
  /** False when the journal (bounded) already dropped entries after the one asked for. */
  readonly complete: boolean;
  /** The newest sequence number the journal holds (0: none). */
  readonly lastSeq: number;
}

/** Reads the back end's input journal: at most `limit` entries after `afterSeq`. */
export type JournalReader = (afterSeq: number, limit: number) => Promise<JournalPage>;

/** How a replay runs. */
export interface ReplayOptions {
  readonly readJournal: JournalReader;
  /** The whole replay, from the call to the rejoin; past it the replay fails and the replica stays isolated. */
  readonly timeoutMs: number;
  /** Runs in the same synchronous step as the rejoin (the divergence vote is given back there). */
  readonly onRejoin?: () => void;
}

/** A replica the manager took out of the broadcast: what the others received since, for its replay. */
interface Isolation {
  /** The last input sequence number sent before it was isolated. */
  readonly seq: number;
  /** Every dispatch since, in order (donor-filtered at replay time). */
  readonly queue: InputDispatch[];
  /** More than MAX_ISOLATION_QUEUE arrived: the queue was dropped and no replay can catch up. */
  overflowed: boolean;
  replaying: boolean;
}

/** One input to replay: what the donor received, with its original sequence number and time. */
interface ReplayInput {
  readonly seq: number;
  readonly timeMs: number;
  readonly input: BroadcastInput;
}

/** What the broadcast needs from its workspace. */
export interface BroadcastControllerOptions {
  readonly sessionId: string;
  /** Replica ids in profile order. */
  readonly replicaIds: readonly string[];
  /** The live VNC client of a replica (input is written to it). */
  readonly clientOf: (replicaId: string) => VncClient | null;
  /** The session's input channel; null: each replica's input goes onto its own stream (per-stream delivery). */
  readonly inputChannel?: InputChannel | null;
  readonly api: Pick<BackendApi, 'recordInput' | 'exportInputJournal'>;
  readonly clock?: Clock;
  readonly log?: SessionLog;
  /** Called after every change of who receives input (the UI's badge and thumbnails follow). */
  readonly onTargetsChange?: () => void;
}

/** The input broadcast of one open session. */
export class BroadcastController {
  readonly fanout: InputFanout;
  private readonly clock: Clock;
  private readonly log: SessionLog;
  private readonly journal: JournalUploader;
  private readonly lastUpdateMs = new Map<string, number>();
  private readonly isolations = new Map<string, Isolation>();
  private closed = false;

  constructor(private readonly options: BroadcastControllerOptions) {
    this.clock = options.clock ?? SYSTEM_CLOCK;
    this.log = options.log ?? { warn: (message) => console.warn(message) };
    this.journal = new JournalUploader(options.sessionId, options.api, this.clock, this.log);
    this.fanout = new InputFanout({ replicaIds: options.replicaIds, clock: this.clock, sink: (dispatch) => this.deliver(dispatch) });
  }

  /** The replicas receiving input now, in profile order. */
  targets(): string[] {
    return this.fanout.targets();
  }

  /** Why a replica receives nothing now (null: it receives input). */
  blockReason(replicaId: string): InputBlock {
    return this.fanout.blockReason(replicaId);
  }

  /** A replica's connection became able (or unable) to carry input. */
  setConnected(replicaId: string, connected: boolean): void {
    this.fanout.setConnected(replicaId, connected);
    this.changed();
  }

  setIncluded(replicaId: string, included: boolean): void {
    this.fanout.setIncluded(replicaId, included);
    this.changed();
  }

  setBroadcast(enabled: boolean): void {
    this.fanout.setBroadcast(enabled);
    this.changed();
  }

  /** The replica that alone receives input while broadcast is off (the reference). */
  setSoloReplica(replicaId: string | null): void {
    this.fanout.setSoloReplica(replicaId);
    this.changed();
  }

  /** A replica's screen changed (its damage tap fired): settle() waits for quiet screens. */
  noteScreenUpdate(replicaId: string): void {
    this.lastUpdateMs.set(replicaId, this.clock.now());
  }

  /** A chord from the special-keys menu ("Control_L+Alt_L+Delete"). */
  sendChord(chord: string): void {
    sendChord(this.fanout, chord, 'user');
  }

  /** "Type clipboard as keystrokes": for servers without clipboard support. */
  typeText(text: string): void {
    typeText(this.fanout, text, 'user');
  }

  /** Sets every target's clipboard. */
  paste(text: string): void {
    this.fanout.clipboard(text, 'user');
  }

  /** Focus left the composite: every held key and button is released on every replica. */
  releaseAll(): void {
    this.fanout.releaseAll();
  }

  /** Releases what a replica holds before RetroVisor disconnects it on purpose. */
  cutOff(replicaId: string): void {
    this.fanout.cutOff(replicaId);
    this.changed();
  }

  /**
   * Resolves once no target replica's screen has changed for `quietMs` (counted from now at the
   * earliest: a keystroke reaches a server's screen 18–50 ms after it is sent); rejects after `timeoutMs`.
   */
  async settle(timeoutMs: number, quietMs: number): Promise<void> {
    const startMs = this.clock.now();
    const busy = (): string[] => this.busyScreens(this.targets(), startMs, quietMs);
    if (await this.until(() => busy().length === 0, timeoutMs)) return;
    throw new Error(`settle: ${busy().join(', ')} still changed within the last ${quietMs} ms after ${timeoutMs} ms; raise timeoutMs or check what keeps redrawing (a blinking cursor?)`);
  }

  /** Plays a script through the fan-out (the same path as the user's input); resolves with the steps run. */
  async runScript(steps: readonly InputScriptStep[], onStep?: (index: number) => void): Promise<number> {
    return runInputScript(steps, this.fanout, {
      wait: (ms) => new Promise((resolve) => this.clock.setTimeout(resolve, ms)),
      settle: (timeoutMs, quietMs) => this.settle(timeoutMs, quietMs),
      beforeStep: (index) => {
        if (this.closed) throw new Error('the session was closed while its script ran');
        onStep?.(index);
      },
    });
  }

  /** Sends the journal's pending entries to the back end; resolves when it has them. */
  flushJournal(): Promise<void> {
    this.fanout.flushMove();
    return this.journal.flush();
  }

  /** The session's input journal as JSON lines (everything sent so far is flushed to the back end first). */
  async exportJournal(): Promise<{ jsonLines: string; entries: number; dropped: number }> {
    await this.flushJournal();
    const exported = await this.options.api.exportInputJournal({ sessionId: this.options.sessionId });
    return { ...exported, dropped: exported.dropped + this.journal.dropped };
  }

  /**
   * The session closes: every replica is released while its connection still stands, then input
   * stops. Resolves once the releases are written by the back end (or after RELEASE_DRAIN_TIMEOUT_MS):
   * only then may the streams close, since their close does not travel the input channel.
   */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    // Input held for a checkpoint goes out first: nothing the user typed is dropped, and the
    // releases below must not wait in the queue that dispose() drops.
    this.fanout.release();
    this.isolations.clear();
    this.releaseAll();
    for (const replicaId of this.options.replicaIds) this.fanout.cutOff(replicaId);
    this.fanout.dispose();
    this.closed = true;
    void this.journal.flush();
    const channel = this.options.inputChannel ?? null;
    if (channel === null) return Promise.resolve();
    return channel
      .drain(RELEASE_DRAIN_TIMEOUT_MS, (callback, ms) => this.clock.setTimeout(callback, ms))
      .then(() => undefined)
      .finally(() => channel.close());
  }

  // --- the remediation manager's commands ------------------------------------------------------

  /**
   * Holds input for a checkpoint: every new input is queued (none dropped), a pending pointer move is
   * sent first, and this resolves once the back end has written everything sent (per-stream delivery:
   * at once), with the last sequence number sent. Rejects — and releases — when the back end does not
   * confirm within HOLD_DRAIN_TIMEOUT_MS. Holding while held just confirms again.
   */
  async holdInput(): Promise<number> {
    if (this.closed) throw new Error('the session is closing');
    this.fanout.hold();
    const channel = this.options.inputChannel ?? null;
    if (channel !== null) {
      const written = await channel.drain(HOLD_DRAIN_TIMEOUT_MS, (callback, ms) => this.clock.setTimeout(callback, ms));
      if (!written) {
        this.releaseInput();
        throw new Error(`the back end did not confirm within ${HOLD_DRAIN_TIMEOUT_MS} ms that the input sent so far reached the replicas; input was released`);
      }
    }
    return this.fanout.nextSequence - 1;
  }

  /** Ends a hold: what was queued is sent now, in order. */
  releaseInput(): void {
    this.fanout.release();
  }

  /** Whether input is held for a checkpoint. */
  get inputHeld(): boolean {
    return this.fanout.isHeld;
  }

  /**
   * Takes a replica out of the broadcast for the manager (it is released of what it holds first);
   * from now on every input the others receive is kept for its replay. Answers the last input
   * sequence number sent before it was isolated (isolating it again answers the same).
   */
  isolate(replicaId: string): number {
    if (!this.options.replicaIds.includes(replicaId)) throw new Error(`this session has no replica "${replicaId}"`);
    const existing = this.isolations.get(replicaId);
    if (existing !== undefined) return existing.seq;
    this.fanout.setRemediating(replicaId, true);
    // After the releases: they went to this replica alone and are not part of its replay.
    const seq = this.fanout.nextSequence - 1;
    this.isolations.set(replicaId, { seq, queue: [], overflowed: false, replaying: false });
    this.changed();
    return seq;
  }

  /** Whether the manager isolated the replica (it gets no input until its replay or rejoin). */
  isIsolated(replicaId: string): boolean {
    return this.isolations.has(replicaId);
  }

  /** Puts an isolated replica back into the broadcast without a replay (a running replay of it fails). */
  rejoin(replicaId: string): void {
    this.isolations.delete(replicaId);
    this.fanout.setRemediating(replicaId, false);
    this.changed();
  }

  /**
   * Replays into an isolated replica, alone, every input `donorId` received after `afterSeq` (a
   * checkpoint's sequence number) — from the back end's journal up to the isolation, then from what was
   * kept since — and puts it back into the broadcast in the same synchronous step as it catches up,
   * so no live input slips between. Paced: bursts end where the original inputs were
   * REPLAY_BURST_GAP_MS apart or after REPLAY_BURST_MAX_INPUTS, and after each the replica's screen
   * must go quiet. Never through the fan-out: no sequence number, nothing journaled again. Resolves
   * with the inputs replayed; rejects (the replica stays isolated) when the journal lost inputs, the
   * replica disconnects or `timeoutMs` passes.
   */
  async replay(replicaId: string, donorId: string, afterSeq: number, options: ReplayOptions): Promise<number> {
    const isolation = this.isolations.get(replicaId);
    if (isolation === undefined) throw new Error(`${replicaId} is not isolated: only an isolated replica can be replayed into`);
    if (isolation.replaying) throw new Error(`a replay into ${replicaId} is already running`);
    if (donorId === replicaId || !this.options.replicaIds.includes(donorId)) throw new Error(`"${donorId}" cannot be the donor of ${replicaId}'s replay`);
    if (!Number.isSafeInteger(afterSeq) || afterSeq < 0 || afterSeq > isolation.seq) {
      throw new Error(`the checkpoint (input ${afterSeq}) is not before ${replicaId} was isolated (input ${isolation.seq})`);
    }
    isolation.replaying = true;
    try {
      return await this.runReplay(replicaId, donorId, afterSeq, isolation, options);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new Error(this.isolations.get(replicaId) === isolation ? `${message}; ${replicaId} stays isolated` : message);
    } finally {
      isolation.replaying = false;
    }
  }

  // ---------------------------------------------------------------------------------------------

  /**
   * One dispatch to every target: encoded once per replica (servers differ in QEMU extended keys and
   * desktop size), then onto the input channel, which sends one task's dispatches as ONE frame that
   * the back end writes to every server socket in one loop — or, without a channel, each replica's
   * bytes onto its own stream in one synchronous loop.
   */
  private deliver(dispatch: InputDispatch): void {
    const channel = this.options.inputChannel ?? null;
    const targets: InputTarget[] = [];
    for (const { replicaId, input } of dispatch.deliveries) {
      const client = this.options.clientOf(replicaId);
      const bytes = client?.encodeInput(input) ?? null;
      if (client === null || bytes === null) continue;
      if (channel === null) client.writeOwnStream(bytes);
      else targets.push({ streamId: client.streamId, bytes });
    }
    channel?.send(targets);
    this.journal.add(journalEntryOf(dispatch));
    for (const [replicaId, isolation] of this.isolations) {
      if (isolation.overflowed) continue;
      if (isolation.queue.length >= MAX_ISOLATION_QUEUE) {
        isolation.overflowed = true;
        isolation.queue.length = 0;
        this.log.warn(`[input] more than ${MAX_ISOLATION_QUEUE} inputs arrived while ${replicaId} was isolated: its replay can no longer catch up`);
        continue;
      }
      isolation.queue.push(dispatch);
    }
  }

  private async runReplay(replicaId: string, donorId: string, afterSeq: number, isolation: Isolation, options: ReplayOptions): Promise<number> {
    const deadlineMs = this.clock.now() + options.timeoutMs;
    const client = this.options.clientOf(replicaId);
    const channel = this.options.inputChannel ?? null;
    let replayed = 0;
    let total: number | null = null;
    const stopReason = (): string | null => {
      if (this.closed) return 'the session closed during the replay';
      if (this.isolations.get(replicaId) !== isolation) return `${replicaId} was put back into the broadcast during its replay`;
      if (isolation.overflowed) return `more than ${MAX_ISOLATION_QUEUE} inputs arrived while ${replicaId} was isolated: its replay cannot catch up`;
      if (client === null || this.options.clientOf(replicaId) !== client || !client.acceptsInput || this.fanout.blockReason(replicaId) === 'not-connected') {
        return `${replicaId} is not connected${replayed > 0 ? ` (it disconnected after ${replayed} replayed inputs)` : ''}`;
      }
      if (this.clock.now() >= deadlineMs) {
        return `the replay into ${replicaId} did not finish within ${options.timeoutMs} ms (${replayed}${total === null ? '' : ` of at least ${total}`} inputs replayed)`;
      }
      return null;
    };
    const check = (): void => {
      const reason = stopReason();
      if (reason !== null) throw new Error(reason);
    };
    const withinDeadline = <T>(promise: Promise<T>, what: string): Promise<T> =>
      new Promise<T>((resolve, reject) => {
        const timer = this.clock.setTimeout(() => reject(new Error(`${what} took longer than the replay's ${options.timeoutMs} ms`)), Math.max(0, deadlineMs - this.clock.now()));
        promise.then(
          (value) => {
            this.clock.clearTimeout(timer);
            resolve(value);
          },
          (error: unknown) => {
            this.clock.clearTimeout(timer);
            reject(error instanceof Error ? error : new Error(String(error)));
          },
        );
      });

    check();
    // The back end must hold every input up to the isolation before it is read back.
    await withinDeadline(this.flushJournal(), 'sending the input journal to the back end');
    check();
    const fromJournal = await withinDeadline(this.readJournalSince(afterSeq, isolation.seq, donorId, options.readJournal, check), 'reading the input journal');
    total = fromJournal.length;

    // One cursor over the journal's inputs, then over what was kept since the isolation (still growing).
    let journalIndex = 0;
    let queueIndex = 0;
    const peek = (): ReplayInput | null => {
      const fromLog = fromJournal[journalIndex];
      if (fromLog !== undefined) return fromLog;
      for (; queueIndex < isolation.queue.length; queueIndex++) {
        const dispatch = isolation.queue[queueIndex] as InputDispatch;
        const delivery = dispatch.deliveries.find((candidate) => candidate.replicaId === donorId);
        if (delivery !== undefined) return { seq: dispatch.seq, timeMs: dispatch.timeMs, input: delivery.input };
      }
      return null;
    };
    const advance = (): void => {
      if (journalIndex < fromJournal.length) journalIndex++;
      else queueIndex++;
    };

    // What the replay leaves held on the replica, handed to the fan-out when it rejoins.
    const heldKeys = new Map<string, HeldKey>();
    let buttonMask = 0;
    const send = (inputs: readonly ReplayInput[]): void => {
      for (const { input } of inputs) {
        let sent: BroadcastInput = input;
        if (input.kind === 'key') {
          const identity = keyIdentity(input.keysym, input.code);
          const pressed = heldKeys.get(identity);
          if (input.down) heldKeys.set(identity, { keysym: input.keysym, code: input.code });
          else {
            heldKeys.delete(identity);
            // The release carries the keysym of the press, as the fan-out sends it.
            if (pressed !== undefined) sent = { ...input, keysym: pressed.keysym };
          }
        } else if (input.kind === 'pointer') {
          buttonMask = input.buttonMask & BUTTON_MASK_ALL & ~WHEEL_BITS;
        }
        const bytes = client?.encodeInput(sent) ?? null;
        if (client === null || bytes === null) continue;
        if (channel === null) client.writeOwnStream(bytes);
        else channel.send([{ streamId: client.streamId, bytes }]);
        replayed++;
      }
    };

    // A burst goes out at the pace it was typed (gaps below REPLAY_BURST_GAP_MS kept, `compress`
    // shortens them): a guest's keyboard queue is short, and keys sent faster than the guest reads
    // them are dropped — by this replica alone. Inputs typed together (no gap) leave in one frame.
    const sendPaced = async (inputs: readonly ReplayInput[], compress: number): Promise<void> => {
      let index = 0;
      while (index < inputs.length) {
        const group: ReplayInput[] = [inputs[index] as ReplayInput];
        for (index++; index < inputs.length && (inputs[index] as ReplayInput).timeMs <= (inputs[index - 1] as ReplayInput).timeMs; index++) group.push(inputs[index] as ReplayInput);
        send(group);
        const next = inputs[index];
        if (next === undefined) break;
        const gapMs = Math.min(next.timeMs - (inputs[index - 1] as ReplayInput).timeMs, REPLAY_BURST_GAP_MS) * compress;
        await new Promise<void>((resolve) => this.clock.setTimeout(resolve, gapMs));
        check();
      }
    };

    // True once the replica's screen settled after the last input of the history: from then on what
    // is replayed came live while it was isolated.
    let historySettled = false;
    for (;;) {
      check();
      // Nothing reaches any replica while input is held for a checkpoint.
      if (this.fanout.isHeld && peek() !== null) {
        await this.until(() => !this.fanout.isHeld || stopReason() !== null, Math.max(0, deadlineMs - this.clock.now()));
        continue;
      }
      // A coalesced move still pending would reach the others only after this replica rejoined without it.
      this.fanout.flushMove();
      // Live input goes at twice its pace (pauses kept), so a steady typist cannot keep the replica out:
      // the backlog halves each round.
      const live = historySettled && journalIndex >= fromJournal.length;
      const burst = takeBurst(peek, advance, buttonMask);
      await sendPaced(burst, live ? REPLAY_CATCH_UP_PACE : 1);
      if ((live && peek() === null) || burst.length === 0) {
        // Nothing left: back into the broadcast in this same synchronous step (no live input can slip
        // between), holding what the replay left held.
        this.isolations.delete(replicaId);
        this.fanout.adoptHeld(replicaId, [...heldKeys.values()], buttonMask);
        this.fanout.setRemediating(replicaId, false);
        options.onRejoin?.();
        this.changed();
        return replayed;
      }
      const last = burst[burst.length - 1];
      const next = peek();
      const originalGapMs = last !== undefined && next !== null ? next.timeMs - last.timeMs : 0;
      const pauseMs = originalGapMs >= REPLAY_BURST_GAP_MS ? Math.min(originalGapMs, REPLAY_PAUSE_CAP_MS) : 0;
      // Live input without a pause of the user's goes straight on (its pace is the guest's protection).
      if (live && pauseMs === 0) continue;
      // After a burst of the history, and where the user paused: the effects (a window opening, a
      // prompt) must be on the screen before what was aimed at them reaches this replica.
      const sentAtMs = this.clock.now();
      const capMs = Math.min(Math.max(REPLAY_BURST_SETTLE_CAP_MS, pauseMs), Math.max(0, deadlineMs - sentAtMs));
      await this.until(
        () => (this.clock.now() - sentAtMs >= pauseMs && this.busyScreens([replicaId], sentAtMs, REPLAY_QUIET_MS).length === 0) || stopReason() !== null,
        capMs,
      );
      if (journalIndex >= fromJournal.length) historySettled = true;
    }
  }

  /**
   * The donor's inputs in (afterSeq, isolationSeq] from the back end's journal, page by page. Every
   * sequence number in between must be there: a gap means the journal lost inputs (bounded, or the
   * back end never got them) and a replay would leave the replica somewhere else than the others.
   */
  private async readJournalSince(afterSeq: number, isolationSeq: number, donorId: string, readJournal: JournalReader, check: () => void): Promise<ReplayInput[]> {
    const inputs: ReplayInput[] = [];
    let seq = afterSeq;
    while (seq < isolationSeq) {
      const page = await readJournal(seq, MAX_JOURNAL_READ);
      check();
      if (!page.complete) throw new Error(`the input journal no longer holds every input after ${seq} (it keeps only the newest): this checkpoint is too old to replay from`);
      const before = seq;
      for (const entry of page.entries) {
        if (entry.seq <= seq) continue;
        if (entry.seq > isolationSeq) break;
        if (entry.seq !== seq + 1) throw new Error(`the input journal lacks inputs ${seq + 1}–${entry.seq - 1} (the back end never got them): a replay would not match the others`);
        seq = entry.seq;
        if (entry.targets.includes(donorId)) inputs.push({ seq: entry.seq, timeMs: entry.timeMs, input: entry.input });
        if (seq >= isolationSeq) break;
      }
      if (seq === before) throw new Error(`the input journal ends at input ${page.lastSeq}, before input ${isolationSeq} (sent before the isolation)`);
    }
    return inputs;
  }

  /** Polls every SETTLE_POLL_MS until `done()`; resolves false when `timeoutMs` passed first. */
  private until(done: () => boolean, timeoutMs: number): Promise<boolean> {
    const startMs = this.clock.now();
    return new Promise((resolve) => {
      const check = (): void => {
        if (done()) resolve(true);
        else if (this.clock.now() - startMs >= timeoutMs) resolve(false);
        else this.clock.setTimeout(check, SETTLE_POLL_MS);
      };
      check();
    });
  }

  /** The replicas among `replicaIds` whose screen changed within `quietMs` (counted from `sinceMs` at the earliest). */
  private busyScreens(replicaIds: readonly string[], sinceMs: number, quietMs: number): string[] {
    const now = this.clock.now();
    return replicaIds.filter((id) => now - Math.max(sinceMs, this.lastUpdateMs.get(id) ?? -Infinity) < quietMs);
  }

  private changed(): void {
    this.options.onTargetsChange?.();
  }
}

/**
 * Takes the next replay burst: it ends before an input that came REPLAY_BURST_GAP_MS or more after the
 * previous one (there the user waited for the screen, so the replica must get that chance too), after
 * REPLAY_BURST_MAX_INPUTS inputs that are not plain pointer moves (each may make the guest work), or
 * after REPLAY_BURST_MAX_TOTAL inputs in all. `buttonMask`: the buttons down before it (a move with
 * the same buttons is a plain move).
 */
function takeBurst(peek: () => ReplayInput | null, advance: () => void, buttonMask: number): ReplayInput[] {
  const burst: ReplayInput[] = [];
  let weighty = 0;
  let mask = buttonMask;
  for (let next = peek(); next !== null; next = peek()) {
    const previous = burst[burst.length - 1];
    if (previous !== undefined && next.timeMs - previous.timeMs >= REPLAY_BURST_GAP_MS) break;
    const plainMove = next.input.kind === 'pointer' && next.input.buttonMask === mask;
    if ((!plainMove && weighty >= REPLAY_BURST_MAX_INPUTS) || burst.length >= REPLAY_BURST_MAX_TOTAL) break;
    advance();
    burst.push(next);
    if (!plainMove) weighty++;
    if (next.input.kind === 'pointer') mask = next.input.buttonMask & BUTTON_MASK_ALL & ~WHEEL_BITS;
  }
  return burst;
}
