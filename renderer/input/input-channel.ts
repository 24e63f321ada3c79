// A session's input channel as the broadcast uses it: each dispatch's per-replica RFB bytes encoded as
// one frame (common/input/input-frame.ts) and sent on the shell's one input transport, opened with
// the session and reopened by the next input if it ever closes; `drain()` waits until the back end
// has written everything sent so far. Plain TypeScript (tested in Node with a fake port).

import type { InputChannelHandlers, InputChannelPort } from '../../common/contract';
import { encodeInputFrame, type InputTarget } from '../../common/input/input-frame';
import type { SessionLog } from '../vnc/replica-session';

/** Opens the shell's input transport (BackendConnection.openInputChannel). */
export type InputChannelOpener = (handlers: InputChannelHandlers) => InputChannelPort;

/** The broadcast's side of one session's input channel. */
export class InputChannel {
  private port: InputChannelPort | null = null;
  private nextToken = 1;
  private readonly waiting = new Map<number, () => void>();
  private closed = false;

  constructor(
    private readonly open: InputChannelOpener,
    private readonly log: SessionLog,
  ) {
    // Opened now, so it is up long before the first replica finishes its handshake.
    this.ensurePort();
  }

  /** Sends one dispatch: for each target stream, the bytes encoded for its server, in one frame. */
  send(targets: readonly InputTarget[]): void {
    if (this.closed || targets.length === 0) return;
    let frame: Uint8Array;
    try {
      frame = encodeInputFrame(targets);
    } catch (error) {
      this.log.warn(`input not sent: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    this.ensurePort()?.send(frame);
  }

  /**
   * Resolves once the back end has written every frame sent so far, or after `timeoutMs` (a channel
   * that is gone never answers): held keys are released through the channel, then streams closed.
   */
  drain(timeoutMs: number, setTimer: (callback: () => void, ms: number) => unknown): Promise<void> {
    const port = this.port;
    if (port === null || this.closed) return Promise.resolve();
    const token = this.nextToken++;
    return new Promise((resolve) => {
      this.waiting.set(token, resolve);
      setTimer(() => this.settle(token), timeoutMs);
      port.sync(token);
    });
  }

  /** Closes the channel; pending drains resolve. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const port = this.port;
    this.port = null;
    port?.close();
    for (const token of [...this.waiting.keys()]) this.settle(token);
  }

  private ensurePort(): InputChannelPort | null {
    if (this.closed) return null;
    if (this.port !== null) return this.port;
    try {
      let port: InputChannelPort | null = null;
      port = this.open({
        onSynced: (token) => this.settle(token),
        onClose: (reason) => {
          if (port === null || this.port !== port) return;
          this.port = null;
          if (!this.closed) this.log.warn(`the input channel closed: ${reason}; the next input opens it again`);
          for (const token of [...this.waiting.keys()]) this.settle(token);
        },
      });
      this.port = port;
      return port;
    } catch (error) {
      this.log.warn(`could not open the input channel: ${error instanceof Error ? error.message : String(error)}`);
      return null;
    }
  }

  private settle(token: number): void {
    const resolve = this.waiting.get(token);
    if (resolve === undefined) return;
    this.waiting.delete(token);
    resolve();
  }
}
