// A session's input channel as the broadcast uses it: the per-replica RFB bytes of every dispatch of
// one task merged into one frame (common/input/input-frame.ts, split only at its size limits) and sent
// at the task's end on the shell's one input transport, opened with the session and reopened by the
// next input if it ever closes; `drain()` waits until the back end has written everything sent so
// far. Plain TypeScript (tested in Node with a fake port).

import type { InputChannelHandlers, InputChannelPort } from '../../common/contract';
import { InputFrameBatch, type InputTarget } from '../../common/input/input-frame';
import type { SessionLog } from '../vnc/replica-session';

/** Opens the shell's input transport (BackendConnection.openInputChannel). */
export type InputChannelOpener = (handlers: InputChannelHandlers) => InputChannelPort;

/** Runs `flush` once the current task's synchronous work is done (queueMicrotask; tests pass their own). */
export type EndOfTaskScheduler = (flush: () => void) => void;

/** The broadcast's side of one session's input channel. */
export class InputChannel {
  private port: InputChannelPort | null = null;
  private nextToken = 1;
  private readonly waiting = new Map<number, (written: boolean) => void>();
  private closed = false;
  private readonly batch = new InputFrameBatch();
  private flushScheduled = false;

  constructor(
    private readonly open: InputChannelOpener,
    private readonly log: SessionLog,
    // Wrapped: a browser's queueMicrotask throws "Illegal invocation" when called as a method.
    private readonly atEndOfTask: EndOfTaskScheduler = (flush) => queueMicrotask(flush),
  ) {
    // Opened now, so it is up long before the first replica finishes its handshake.
    this.ensurePort();
  }

  /**
   * Sends one dispatch: for each target stream, the bytes encoded for its server. Dispatches of one
   * task leave together at its end, as one frame (a person's keystroke is a task of its own, so it
   * leaves at once); frames the batch had to seal at its size limit leave immediately, in order.
   */
  send(targets: readonly InputTarget[]): void {
    if (this.closed || targets.length === 0) return;
    try {
      this.batch.add(targets);
    } catch (error) {
      this.log.warn(`input not sent: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    this.sendFrames(this.batch.takeSealed());
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      this.atEndOfTask(() => this.flush());
    }
  }

  /** Sends what is batched now (also done at the end of every task that sent input). */
  flush(): void {
    this.flushScheduled = false;
    if (this.closed) return;
    this.sendFrames(this.batch.takeAll());
  }

  /**
   * Resolves once the back end has written every frame sent so far (true), or after `timeoutMs` or
   * when the channel closes meanwhile (false: a channel that is gone never answers): held keys are
   * released through the channel, then streams closed; a hold for a checkpoint needs the true.
   */
  drain(timeoutMs: number, setTimer: (callback: () => void, ms: number) => unknown): Promise<boolean> {
    this.flush();
    const port = this.port;
    // No port: nothing sent on this channel is still on its way.
    if (port === null || this.closed) return Promise.resolve(true);
    const token = this.nextToken++;
    return new Promise((resolve) => {
      this.waiting.set(token, resolve);
      setTimer(() => this.settle(token, false), timeoutMs);
      port.sync(token);
    });
  }

  /** Closes the channel (what is batched is sent first); pending drains resolve. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    const port = this.port;
    this.port = null;
    port?.close();
    for (const token of [...this.waiting.keys()]) this.settle(token, false);
  }

  private sendFrames(frames: readonly Uint8Array[]): void {
    if (frames.length === 0) return;
    const port = this.ensurePort();
    for (const frame of frames) port?.send(frame);
  }

  private ensurePort(): InputChannelPort | null {
    if (this.closed) return null;
    if (this.port !== null) return this.port;
    try {
      let port: InputChannelPort | null = null;
      port = this.open({
        onSynced: (token) => this.settle(token, true),
        onClose: (reason) => {
          if (port === null || this.port !== port) return;
          this.port = null;
          if (!this.closed) this.log.warn(`the input channel closed: ${reason}; the next input opens it again`);
          for (const token of [...this.waiting.keys()]) this.settle(token, false);
        },
      });
      this.port = port;
      return port;
    } catch (error) {
      this.log.warn(`could not open the input channel: ${error instanceof Error ? error.message : String(error)}`);
      return null;
    }
  }

  private settle(token: number, written: boolean): void {
    const resolve = this.waiting.get(token);
    if (resolve === undefined) return;
    this.waiting.delete(token);
    resolve(written);
  }
}
