// A WebSocket look-alike over a back-end byte stream, handed to noVNC instead of a URL. It copies what
// noVNC sends (noVNC reuses its send buffer), sends what one task wrote as one frame, acknowledges
// each delivery for flow control, and holds deliveries back while noVNC has paused its decoding to
// give the page's thread back (decode-pacer.ts). Runs in the renderer; DOM-free so it is tested in
// plain Node.

import type { ByteStream, ByteStreamHandlers } from '../../common/contract';

/** The RTCDataChannel spelling of readyState, which noVNC accepts alongside WebSocket's numbers. */
export type ChannelReadyState = 'connecting' | 'open' | 'closing' | 'closed';

/** What noVNC reads from a message event: the bytes as an ArrayBuffer. */
export interface ChannelMessageEvent {
  readonly data: ArrayBuffer;
}

/** What noVNC reads from a close event (it prints code and reason in its own log). */
export interface ChannelCloseEvent {
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;
}

/** Opens the underlying stream; the channel passes its own handlers. */
export type StreamOpener = (handlers: ByteStreamHandlers) => ByteStream;

/** Close code used for every close event (noVNC only logs it). */
const NORMAL_CLOSURE = 1000;
/** The reason recorded when RetroVisor itself closes the channel. */
export const CLOSED_BY_RETROVISOR = 'closed by RetroVisor';
/**
 * The most bytes handed to noVNC in one message event. noVNC grows its receive queue to 8× what is
 * pending plus the incoming message whenever that does not fit, and never shrinks it: one 1 MiB frame
 * from the back end (what it sends when a replica's data piles up) left an 8 MiB queue in every
 * replica for the rest of the session. In pieces of 64 KiB the queue stays near 8× the largest
 * rectangle still waiting for its bytes.
 */
export const MAX_DELIVERY_BYTES = 64 * 1024;

/**
 * The object given to `new RFB(target, channel)`. noVNC checks that `send`, `close`, `binaryType`,
 * `onerror`, `onmessage`, `onopen`, `protocol` and `readyState` are own properties or sit on the
 * direct prototype, so the handler fields are assigned in the constructor and the class has no base.
 */
export class ReplicaChannel {
  binaryType: string;
  protocol: string;
  readyState: ChannelReadyState;
  onopen: ((event: { readonly type: 'open' }) => void) | null;
  onmessage: ((event: ChannelMessageEvent) => void) | null;
  onerror: ((event: { readonly type: 'error'; readonly message: string }) => void) | null;
  onclose: ((event: ChannelCloseEvent) => void) | null;
  /** Why the channel closed, in words for the user; null while it is open. */
  closeReason: string | null;
  /** Bytes delivered to noVNC (and acknowledged) so far. */
  bytesReceived: number;

  /** The back-end stream id this channel attaches to (the input channel names the stream by it). */
  readonly streamId: string;
  private stream: ByteStream | null;
  private readonly openStream: StreamOpener;
  private closeEventSent: boolean;
  /** What noVNC sent in the current task, sent as one frame at its end. */
  private pending: Uint8Array[];
  /** Received bytes held back (not delivered, not acknowledged) while noVNC's decoding is paused. */
  private held: Uint8Array[] | null;
  /** The back end closed the stream while bytes were held: the close follows their delivery. */
  private closeAfterHeld: string | null;

  constructor(openStream: StreamOpener, streamId = '') {
    this.binaryType = 'arraybuffer';
    this.protocol = '';
    this.readyState = 'connecting';
    this.onopen = null;
    this.onmessage = null;
    this.onerror = null;
    this.onclose = null;
    this.closeReason = null;
    this.bytesReceived = 0;
    this.streamId = streamId;
    this.stream = null;
    this.openStream = openStream;
    this.closeEventSent = false;
    this.pending = [];
    this.held = null;
    this.closeAfterHeld = null;
  }

  /**
   * Opens the stream. Called after noVNC attached its handlers, so no byte can arrive before
   * there is someone to take it.
   */
  start(): void {
    if (this.stream !== null || this.readyState !== 'connecting') return;
    try {
      this.stream = this.openStream({
        onOpen: () => this.handleOpen(),
        onData: (bytes) => this.handleData(bytes),
        onClose: (reason) => this.handleClose(reason),
      });
    } catch (error) {
      this.finish(`could not open the stream to the VNC server: ${errorMessage(error)}`);
    }
  }

  /**
   * Sends a copy of `bytes` (noVNC hands a view into a send buffer it reuses at once). Everything sent
   * in one task goes out as one frame at its end: noVNC writes a message longer than its 10 KiB send
   * buffer in several sends, all in one task, and the back end writes each frame whole, so input
   * from the input channel can only land between whole messages.
   */
  send(bytes: Uint8Array): void {
    if (this.readyState !== 'open' || this.stream === null) return;
    this.pending.push(bytes.slice());
    if (this.pending.length === 1) queueMicrotask(() => this.sendPending());
  }

  private sendPending(): void {
    const parts = this.pending;
    if (parts.length === 0) return;
    this.pending = [];
    if (this.stream === null) return;
    if (parts.length === 1) {
      this.stream.send(parts[0]!);
      return;
    }
    const frame = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0));
    let offset = 0;
    for (const part of parts) {
      frame.set(part, offset);
      offset += part.byteLength;
    }
    this.stream.send(frame);
  }

  /** Closes the stream; the close event follows asynchronously, as a WebSocket's would. */
  close(): void {
    this.closeWithReason(CLOSED_BY_RETROVISOR);
  }

  /** Closes the stream with `reason` recorded for the user (e.g. a session that failed). */
  closeWithReason(reason: string): void {
    if (this.readyState === 'closing' || this.readyState === 'closed') return;
    this.sendPending();
    this.readyState = 'closing';
    this.closeReason ??= reason;
    // RetroVisor is ending the session: what noVNC has not been given is no longer wanted.
    this.held = null;
    const stream = this.stream;
    this.stream = null;
    try {
      stream?.close();
    } catch (error) {
      console.warn('[replica-channel] closing the stream failed:', errorMessage(error));
    }
    queueMicrotask(() => this.finish(reason));
  }

  private handleOpen(): void {
    if (this.readyState !== 'connecting') return;
    this.readyState = 'open';
    this.onopen?.({ type: 'open' });
  }

  /**
   * Holds what arrives from now on until release(): noVNC has paused its decoding with bytes still in
   * its receive queue. Held bytes are not acknowledged, so the back end's flow control stops the
   * server instead of noVNC's queue growing while the page catches up.
   */
  hold(): void {
    if (this.readyState === 'open') this.held ??= [];
  }

  /** noVNC threw while decoding (in a message event, or in the decode pacer's later task): the session ends with its error. */
  fail(error: unknown): void {
    this.closeWithReason(`the VNC session failed: ${errorMessage(error)}`);
  }

  /** Delivers what was held, in order, unless noVNC pauses again while taking it. */
  release(): void {
    const held = this.held;
    this.held = null;
    if (held === null) return;
    for (const [index, bytes] of held.entries()) {
      if (this.readyState !== 'open') return;
      this.deliver(bytes);
      // noVNC may have paused again while taking these bytes (deliver runs its decoding).
      const heldAgain = this.held as Uint8Array[] | null;
      if (heldAgain !== null) {
        heldAgain.push(...held.slice(index + 1));
        return;
      }
    }
    if (this.closeAfterHeld !== null) this.finish(this.closeAfterHeld);
  }

  private handleData(bytes: Uint8Array): void {
    // The back end announces 'open' before any data; data first still means the server is there.
    if (this.readyState === 'connecting') this.handleOpen();
    if (this.readyState !== 'open' || bytes.byteLength === 0) return;
    if (this.held !== null) this.held.push(bytes);
    else this.deliver(bytes);
  }

  /** The back end closed the stream: as with a WebSocket, every byte received reaches noVNC first. */
  private handleClose(reason: string): void {
    // Paused noVNC still has bytes in its queue, and perhaps some are held here: the close waits for them.
    if (this.held !== null && this.readyState === 'open') {
      this.closeAfterHeld = reason;
      this.stream = null;
      return;
    }
    this.finish(reason);
  }

  /**
   * Hands `bytes` to noVNC in pieces of at most MAX_DELIVERY_BYTES. If noVNC pauses its decoding
   * while taking a piece, the rest waits at the head of the held bytes.
   */
  private deliver(bytes: Uint8Array): void {
    for (let offset = 0; offset < bytes.byteLength; offset += MAX_DELIVERY_BYTES) {
      if (!this.deliverPiece(bytes.subarray(offset, Math.min(bytes.byteLength, offset + MAX_DELIVERY_BYTES)))) return;
      const held = this.held;
      if (held !== null && offset + MAX_DELIVERY_BYTES < bytes.byteLength) {
        held.unshift(bytes.subarray(offset + MAX_DELIVERY_BYTES));
        return;
      }
    }
  }

  /** One message event; false when noVNC failed on it (the channel is then closing). */
  private deliverPiece(bytes: Uint8Array): boolean {
    const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer;
    const data = whole ? bytes.buffer : bytes.slice().buffer;
    try {
      this.onmessage?.({ data });
    } catch (error) {
      // noVNC throws only on a broken stream (e.g. a message beyond its 40 MiB receive queue).
      this.fail(error);
      return false;
    }
    // noVNC parses synchronously (RetroVisor asks for no image-based encodings that would queue), so
    // the bytes are consumed once onmessage returns, or kept in noVNC's queue while it pauses (then
    // the channel holds what follows): acknowledge them now.
    this.bytesReceived += bytes.byteLength;
    this.stream?.ack(bytes.byteLength);
    return true;
  }

  private finish(reason: string): void {
    this.held = null;
    this.closeReason ??= reason;
    this.stream = null;
    this.readyState = 'closed';
    if (this.closeEventSent) return;
    this.closeEventSent = true;
    const event: ChannelCloseEvent = { code: NORMAL_CLOSURE, reason: this.closeReason, wasClean: true };
    this.onclose?.(event);
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
