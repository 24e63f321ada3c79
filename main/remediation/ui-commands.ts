// Commands the manager asks a session's UI to carry out (hold input, isolate, replay, await
// agreement...), sent as `managerCommand` events and answered once each through answerManagerCommand.
// A command nobody answers in time fails with a message that says so. Runs in Node.

import { randomBytes } from 'node:crypto';
import type { ManagerCommand, ManagerCommandAnswer, ManagerCommandEvent } from '../../common/contract';

/** How long the UI may take to answer a command that has no time limit of its own. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 15_000;
/** Time the UI is given on top of a command's own timeoutMs (the answer's trip back). */
const ANSWER_MARGIN_MS = 5_000;

/** A command the UI refused, failed or did not answer. */
export class UiCommandError extends Error {
  override readonly name = 'UiCommandError';
}

interface Waiting {
  readonly sessionId: string;
  readonly command: ManagerCommand;
  readonly resolve: (answer: ManagerCommandAnswer) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/** How long the UI may take to answer; the defaults unless a test needs them shorter. */
export interface UiCommandBusOptions {
  /** For a command without a timeoutMs of its own (DEFAULT_COMMAND_TIMEOUT_MS). */
  readonly defaultTimeoutMs?: number;
  /** On top of a command's own timeoutMs (ANSWER_MARGIN_MS). */
  readonly answerMarginMs?: number;
}

/** Sends commands to the UI and pairs the answers with them. */
export class UiCommandBus {
  private readonly waiting = new Map<string, Waiting>();
  private readonly defaultTimeoutMs: number;
  private readonly answerMarginMs: number;

  constructor(
    private readonly send: (event: ManagerCommandEvent) => void,
    options: UiCommandBusOptions = {},
  ) {
    this.defaultTimeoutMs = options.defaultTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    this.answerMarginMs = options.answerMarginMs ?? ANSWER_MARGIN_MS;
  }

  /** Sends `command` to the UI of `sessionId`; resolves with its successful answer, rejects on failure or silence. */
  run(sessionId: string, command: ManagerCommand): Promise<ManagerCommandAnswer> {
    const commandId = randomBytes(12).toString('base64url');
    const ownTimeout = 'timeoutMs' in command ? command.timeoutMs : 0;
    const timeoutMs = Math.max(this.defaultTimeoutMs, ownTimeout + this.answerMarginMs);
    return new Promise<ManagerCommandAnswer>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(commandId);
        reject(new UiCommandError(`no RetroVisor window answered "${command.type}" within ${Math.round(timeoutMs / 1000)} s: keep a window open on the session`));
      }, timeoutMs);
      timer.unref();
      this.waiting.set(commandId, { sessionId, command, resolve, reject, timer });
      try {
        this.send({ sessionId, commandId, command });
      } catch (error) {
        clearTimeout(timer);
        this.waiting.delete(commandId);
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
  }

  /** An answer from the UI: settles its command (unknown or foreign ids are refused). */
  answer(answer: ManagerCommandAnswer): void {
    const waiting = this.waiting.get(answer.commandId);
    if (waiting === undefined || waiting.sessionId !== answer.sessionId) throw new Error('no such command is waiting for an answer');
    this.waiting.delete(answer.commandId);
    clearTimeout(waiting.timer);
    if (answer.ok) waiting.resolve(answer);
    else waiting.reject(new UiCommandError(`${waiting.command.type}: ${answer.error ?? 'the window could not do it'}`));
  }

  /** Fails every command of a session (it closed) or of all sessions. */
  cancel(reason: string, sessionId?: string): void {
    for (const [commandId, waiting] of this.waiting) {
      if (sessionId !== undefined && waiting.sessionId !== sessionId) continue;
      this.waiting.delete(commandId);
      clearTimeout(waiting.timer);
      waiting.reject(new UiCommandError(reason));
    }
  }
}
