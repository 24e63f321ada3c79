// Carries out the remediation manager's commands for one open session — hold and release input,
// isolate a replica, reconnect it, replay the journal into it, let it rejoin, await agreement —
// through the workspace's broadcast and divergence monitor, and answers each command exactly once.
// Plain TypeScript (no DOM): tested in Node with fakes.

import type { ManagerCommand, ManagerCommandAnswer, ManagerCommandEvent } from '../../common/contract';
import type { AgreementResult } from '../divergence/divergence-monitor';
import type { JournalReader, ReplayOptions } from '../input/broadcast-controller';
import type { Clock, SessionLog } from '../vnc/replica-session';

/** Input held for a checkpoint is released by itself after this long without a release-input. */
export const MAX_HOLD_MS = 30_000;
/** Longest error text an answer carries (the contract allows more; a person reads it). */
const MAX_ERROR_CHARS = 1000;
/** Command ids remembered so that a command delivered twice is answered once. */
const REMEMBERED_COMMANDS = 1024;

/** What the executor needs of the input broadcast (BroadcastController). */
export interface ManagerInputControl {
  holdInput(): Promise<number>;
  releaseInput(): void;
  isolate(replicaId: string): number;
  replay(replicaId: string, donorId: string, afterSeq: number, options: ReplayOptions): Promise<number>;
  rejoin(replicaId: string): void;
}

/** What the executor needs of divergence detection (DivergenceMonitor). */
export interface ManagerVoteControl {
  setVoting(replicaId: string, voting: boolean): void;
  awaitAgreement(replicaIds: readonly string[], quietMs: number, timeoutMs: number): Promise<AgreementResult>;
}

/** One session's executor: its controllers, the back end's journal and answer calls, and time. */
export interface ManagerCommandExecutorOptions {
  readonly sessionId: string;
  readonly broadcast: ManagerInputControl;
  readonly divergence: ManagerVoteControl;
  /** Reconnects the replica's VNC session now (ReplicaSession.retryNow). */
  readonly reconnect: (replicaId: string) => void;
  /** Resolves once the replica is connected; rejects after `timeoutMs`. */
  readonly waitConnected: (replicaId: string, timeoutMs: number) => Promise<void>;
  readonly readJournal: JournalReader;
  readonly answer: (answer: ManagerCommandAnswer) => Promise<void>;
  readonly clock: Clock;
  readonly log?: SessionLog;
  /** The manager isolated a replica (true) or gave it back to the broadcast and the vote (false). */
  readonly onIsolationChange?: (replicaId: string, isolated: boolean) => void;
  readonly maxHoldMs?: number;
}

/** The fields a command's answer adds to ok: true. */
type CommandResult = Pick<ManagerCommandAnswer, 'seq' | 'agreed' | 'outliers' | 'replayed'>;

/** The lane of input commands (hold, release): they run in order, like each replica's commands. */
const INPUT_LANE = 'input';

function replicaLane(replicaId: string): string {
  return `replica:${replicaId}`;
}

/** Runs the manager's UI commands of one session. */
export class ManagerCommandExecutor {
  private readonly log: SessionLog;
  private readonly maxHoldMs: number;
  /** The last command queued on each lane: the next one on that lane starts after it. */
  private readonly lanes = new Map<string, Promise<void>>();
  private readonly seen = new Set<string>();
  private holdTimer: unknown = null;
  private disposed = false;

  constructor(private readonly options: ManagerCommandExecutorOptions) {
    this.log = options.log ?? { warn: (message) => console.warn(message) };
    this.maxHoldMs = options.maxHoldMs ?? MAX_HOLD_MS;
  }

  /**
   * One command from the back end: other sessions' commands and repeats are ignored; commands on the
   * same replica (and hold/release among themselves) run in arrival order; await-agreement starts once
   * the commands already queued for its replicas are done. Never throws: failures are answered.
   */
  handle(event: ManagerCommandEvent): void {
    if (this.disposed || event.sessionId !== this.options.sessionId || this.seen.has(event.commandId)) return;
    this.seen.add(event.commandId);
    if (this.seen.size > REMEMBERED_COMMANDS) this.seen.delete(this.seen.values().next().value as string);
    const run = (): Promise<void> => this.execute(event);
    const command = event.command;
    switch (command.type) {
      case 'hold-input':
      case 'release-input':
        this.enqueue(INPUT_LANE, run);
        return;
      case 'await-agreement': {
        const ids: readonly unknown[] = Array.isArray(command.replicaIds) ? command.replicaIds : [];
        const earlier: Promise<void>[] = [];
        for (const id of ids) {
          const lane = this.lanes.get(replicaLane(String(id)));
          if (lane !== undefined) earlier.push(lane);
        }
        void Promise.all(earlier).then(run);
        return;
      }
      case 'isolate':
      case 'reconnect':
      case 'replay':
      case 'rejoin':
        this.enqueue(replicaLane(command.replicaId), run);
        return;
      default:
        void run();
    }
  }

  /** Stops taking commands and the hold safety timer (the workspace closes; its broadcast releases held input). */
  dispose(): void {
    this.disposed = true;
    this.disarmHoldSafety();
  }

  // ---------------------------------------------------------------------------------------------

  private enqueue(lane: string, run: () => Promise<void>): void {
    const next = (this.lanes.get(lane) ?? Promise.resolve()).then(run);
    this.lanes.set(lane, next);
    void next.then(() => {
      if (this.lanes.get(lane) === next) this.lanes.delete(lane);
    });
  }

  /** Runs one command and answers it once, ok or with the error in words; never rejects. */
  private async execute(event: ManagerCommandEvent): Promise<void> {
    const { sessionId } = this.options;
    let answer: ManagerCommandAnswer;
    try {
      const result = await this.perform(event.command);
      answer = { sessionId, commandId: event.commandId, ok: true, ...result };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      answer = { sessionId, commandId: event.commandId, ok: false, error: message.slice(0, MAX_ERROR_CHARS) };
    }
    try {
      await this.options.answer(answer);
    } catch (error) {
      this.log.warn(`[remediation] could not answer the manager's "${event.command.type}": ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private async perform(command: ManagerCommand): Promise<CommandResult> {
    const { broadcast, divergence } = this.options;
    switch (command.type) {
      case 'hold-input': {
        // Armed before the wait: from this call on, input is held.
        this.armHoldSafety();
        try {
          return { seq: await broadcast.holdInput() };
        } catch (error) {
          // The broadcast released the hold itself.
          this.disarmHoldSafety();
          throw error;
        }
      }
      case 'release-input':
        this.disarmHoldSafety();
        broadcast.releaseInput();
        return {};
      case 'await-agreement': {
        if (!Array.isArray(command.replicaIds) || command.replicaIds.length === 0) throw new Error('await-agreement names no replica');
        const result = await divergence.awaitAgreement(command.replicaIds, duration(command.quietMs, 'quietMs'), duration(command.timeoutMs, 'timeoutMs'));
        return { agreed: result.agreed, outliers: [...result.outliers] };
      }
      case 'isolate': {
        const seq = broadcast.isolate(command.replicaId);
        divergence.setVoting(command.replicaId, false);
        this.options.onIsolationChange?.(command.replicaId, true);
        return { seq };
      }
      case 'reconnect':
        this.options.reconnect(command.replicaId);
        await this.options.waitConnected(command.replicaId, duration(command.timeoutMs, 'timeoutMs'));
        return {};
      case 'replay': {
        const { replicaId } = command;
        const replayed = await broadcast.replay(replicaId, command.donorId, command.afterSeq, {
          readJournal: this.options.readJournal,
          timeoutMs: duration(command.timeoutMs, 'timeoutMs'),
          // Back into the vote in the very step it rejoins the broadcast.
          onRejoin: () => this.giveBack(replicaId),
        });
        return { replayed };
      }
      case 'rejoin':
        broadcast.rejoin(command.replicaId);
        this.giveBack(command.replicaId);
        return {};
      default:
        throw new Error(`this RetroVisor window does not know the command "${(command as { type?: unknown }).type as string}"`);
    }
  }

  /** The replica is back in the broadcast: it votes again and no longer shows as isolated. */
  private giveBack(replicaId: string): void {
    this.options.divergence.setVoting(replicaId, true);
    this.options.onIsolationChange?.(replicaId, false);
  }

  /** Input is never held for ever: counted from the first hold, a missing release-input is made up for. */
  private armHoldSafety(): void {
    if (this.holdTimer !== null) return;
    this.holdTimer = this.options.clock.setTimeout(() => {
      this.holdTimer = null;
      this.options.broadcast.releaseInput();
      this.log.warn(`[remediation] input was held for ${Math.round(this.maxHoldMs / 1000)} s without the manager releasing it: released it so that typing reaches the replicas again`);
    }, this.maxHoldMs);
  }

  private disarmHoldSafety(): void {
    if (this.holdTimer === null) return;
    this.options.clock.clearTimeout(this.holdTimer);
    this.holdTimer = null;
  }
}

/** A command's duration field, checked (the back end is trusted, but not to be perfect). */
function duration(value: number, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new Error(`${what} must be a non-negative number of milliseconds`);
  return value;
}
