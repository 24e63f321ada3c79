// One workspace's input broadcast: the pure fan-out (common/input) wired to the replicas' VNC clients
// (every dispatch encoded once per target and sent on the ONE input channel — one frame per task —, or
// written onto each target's own stream in one synchronous loop), the journal uploader, the special keys, clipboard
// actions, scripts and "settle" (no screen update on any target for a while).
// Plain TypeScript, no DOM and no noVNC: tested in Node with fake clients.

import type { BackendApi } from '../../common/contract';
import { journalEntryOf, type InputDispatch } from '../../common/input/input-events';
import type { InputTarget } from '../../common/input/input-frame';
import { InputFanout, type InputBlock } from '../../common/input/input-fanout';
import { runInputScript, sendChord, typeText, type InputScriptStep } from '../../common/input/input-script';
import { SYSTEM_CLOCK, type Clock, type SessionLog } from '../vnc/replica-session';
import type { VncClient } from '../vnc/vnc-client';
import type { InputChannel } from './input-channel';
import { JournalUploader } from './journal-uploader';

/** How often settle() looks at the replicas' last screen updates. */
export const SETTLE_POLL_MS = 25;
/** On close, how long the releases may take to reach the back end before the streams close anyway. */
export const RELEASE_DRAIN_TIMEOUT_MS = 1000;

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
  settle(timeoutMs: number, quietMs: number): Promise<void> {
    const startMs = this.clock.now();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const now = this.clock.now();
        const busy = this.targets().filter((id) => now - Math.max(startMs, this.lastUpdateMs.get(id) ?? -Infinity) < quietMs);
        if (busy.length === 0) {
          resolve();
          return;
        }
        if (now - startMs >= timeoutMs) {
          reject(new Error(`settle: ${busy.join(', ')} still changed within the last ${quietMs} ms after ${timeoutMs} ms; raise timeoutMs or check what keeps redrawing (a blinking cursor?)`));
          return;
        }
        this.clock.setTimeout(check, SETTLE_POLL_MS);
      };
      check();
    });
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
    this.releaseAll();
    for (const replicaId of this.options.replicaIds) this.fanout.cutOff(replicaId);
    this.fanout.dispose();
    this.closed = true;
    void this.journal.flush();
    const channel = this.options.inputChannel ?? null;
    if (channel === null) return Promise.resolve();
    return channel.drain(RELEASE_DRAIN_TIMEOUT_MS, (callback, ms) => this.clock.setTimeout(callback, ms)).finally(() => channel.close());
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
  }

  private changed(): void {
    this.options.onTargetsChange?.();
  }
}
