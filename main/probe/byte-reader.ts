// Reads exact byte counts from a socket with one deadline for the whole exchange: what a handshake
// probe needs (the VNC server answers in small pieces, or stalls, or closes). Node-side.

import type { Duplex } from 'node:stream';

/** The peer closed, stalled past the deadline, or failed; `reason` is worded for the user. */
export class ProbeReadError extends Error {
  override readonly name = 'ProbeReadError';
}

/** Reads from `socket` until `deadline` (an epoch ms); bytes that arrive early are kept for later reads. */
export class ByteReader {
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;
  private ended: string | null = null;
  private wake: (() => void) | null = null;

  constructor(
    private readonly socket: Duplex,
    private readonly deadline: number,
    private readonly now: () => number = Date.now,
  ) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered.push(chunk);
      this.bufferedBytes += chunk.length;
      this.wake?.();
    });
    socket.on('end', () => this.finish('the server closed the connection'));
    socket.on('close', () => this.finish('the connection closed'));
    socket.on('error', (error: Error) => this.finish(`the connection failed: ${error.message}`));
  }

  private finish(reason: string): void {
    this.ended ??= reason;
    this.wake?.();
  }

  /** Exactly `count` bytes; rejects when the peer ends first or the deadline passes. */
  async read(count: number): Promise<Buffer> {
    while (this.bufferedBytes < count) {
      if (this.ended !== null) throw new ProbeReadError(this.ended);
      const remainingMs = this.deadline - this.now();
      if (remainingMs <= 0) throw new ProbeReadError('the server stopped answering');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.wake = null;
          resolve();
        }, remainingMs);
        this.wake = () => {
          clearTimeout(timer);
          this.wake = null;
          resolve();
        };
      });
    }
    const all = this.buffered.length === 1 ? this.buffered[0]! : Buffer.concat(this.buffered);
    const result = all.subarray(0, count);
    const rest = all.subarray(count);
    this.buffered = rest.length > 0 ? [rest] : [];
    this.bufferedBytes = rest.length;
    return result;
  }

  async u8(): Promise<number> {
    return (await this.read(1)).readUInt8(0);
  }

  async u32(): Promise<number> {
    return (await this.read(4)).readUInt32BE(0);
  }
}
