// Collects the bytes noVNC's RFB.messages write, instead of sending them: the input broadcast encodes
// each input once per replica with noVNC's own encoders and ships the bytes through the input
// channel. DOM-free (tested in plain Node).

import type { NovncSendQueue } from '@novnc/novnc';

const INITIAL_CAPACITY_BYTES = 64;
/** A buffer grown past this (a big paste) is dropped after take() rather than kept. */
const KEPT_CAPACITY_BYTES = 64 * 1024;

/** A send queue that keeps what RFB.messages write until take(); flush() (end of a message) keeps it too. */
export class RfbMessageCapture implements NovncSendQueue {
  private buffer = new Uint8Array(INITIAL_CAPACITY_BYTES);
  private length = 0;

  sQpush8(value: number): void {
    this.reserve(1);
    this.buffer[this.length++] = value & 0xff;
  }

  sQpush16(value: number): void {
    this.reserve(2);
    this.buffer[this.length++] = (value >> 8) & 0xff;
    this.buffer[this.length++] = value & 0xff;
  }

  sQpush32(value: number): void {
    this.reserve(4);
    this.buffer[this.length++] = (value >> 24) & 0xff;
    this.buffer[this.length++] = (value >> 16) & 0xff;
    this.buffer[this.length++] = (value >> 8) & 0xff;
    this.buffer[this.length++] = value & 0xff;
  }

  sQpushBytes(bytes: Uint8Array): void {
    this.reserve(bytes.byteLength);
    this.buffer.set(bytes, this.length);
    this.length += bytes.byteLength;
  }

  /** A message is complete; the bytes stay until take(). */
  flush(): void {
    // Nothing to send: the caller takes the bytes.
  }

  /** The bytes written since the last take() (a copy), leaving the capture empty. */
  take(): Uint8Array {
    const bytes = this.buffer.slice(0, this.length);
    this.length = 0;
    if (this.buffer.byteLength > KEPT_CAPACITY_BYTES) this.buffer = new Uint8Array(INITIAL_CAPACITY_BYTES);
    return bytes;
  }

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.byteLength) return;
    let capacity = this.buffer.byteLength * 2;
    while (capacity < this.length + bytes) capacity *= 2;
    const grown = new Uint8Array(capacity);
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
  }
}
