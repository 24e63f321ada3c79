// A drop-in for the inflator of noVNC's ZRLE decoder that inflates ahead into one reused buffer.
// noVNC's decoder asks its inflator for one byte at a time (each tile's subencoding, every run
// length, every palette index), and each ask runs pako's inflate on the stream and wraps the result
// in a new Uint8Array: at 1080p that was most of the page's garbage (over 300 MiB per 2 minutes of
// drawing and typing on 8 replicas), which made V8 grow the page's heap for minutes, and a large
// share of the decoding time. This one inflates up to REFILL_BYTES at a time from the same pako
// stream and serves the asks from the buffer; the bytes served are exactly the ones noVNC's own
// inflator would have produced, in the same order. DOM-free, so it is tested in plain Node.

/** The fields of pako's z_stream the inflator reads and sets. */
export interface ZStreamLike {
  input: Uint8Array | null;
  next_in: number;
  avail_in: number;
  output: Uint8Array | null;
  next_out: number;
  avail_out: number;
}

/** pako's `inflate(strm, flush)`: a zlib status, negative on an error. */
export type PakoInflate = (strm: ZStreamLike, flush: number) => number;

/** What noVNC's ZRLE decoder calls on its inflator (core/inflator.js). */
export interface NoVncInflator {
  readonly strm: ZStreamLike;
  setInput(data: Uint8Array | null): void;
  inflate(expected: number): Uint8Array;
}

/**
 * Output inflated per refill at most: bounds what a hostile stream (a small block that inflates to
 * gigabytes) can make the page allocate, as noVNC's own inflator bounds it by what it is asked.
 */
export const REFILL_BYTES = 64 * 1024;

export class BufferedInflator implements NoVncInflator {
  readonly strm: ZStreamLike;
  private readonly inflateStream: PakoInflate;
  private buffer = new Uint8Array(REFILL_BYTES);
  /** Served bytes end at `start`; inflated, unserved ones run to `end`. */
  private start = 0;
  private end = 0;
  /** The one-byte answer, reused: every caller of inflate(1) reads [0] at once. */
  private readonly oneByte = new Uint8Array(1);

  /** Bytes the inflator holds for output (tests check a hostile stream cannot grow it). */
  get capacityBytes(): number {
    return this.buffer.length;
  }

  /** `strm`: the z_stream noVNC's inflator set up (inflateInit done); `inflateStream`: pako's inflate. */
  constructor(strm: ZStreamLike, inflateStream: PakoInflate) {
    this.strm = strm;
    this.inflateStream = inflateStream;
  }

  /**
   * A rectangle's compressed bytes. Output inflated ahead and not asked for belongs to the previous
   * rectangle (a well-formed stream leaves none: the server flushes at each rectangle's end); it is
   * dropped, as noVNC drops the input its inflator had not read.
   */
  setInput(data: Uint8Array | null): void {
    this.start = 0;
    this.end = 0;
    this.strm.input = data;
    this.strm.next_in = 0;
    this.strm.avail_in = data === null ? 0 : data.length;
  }

  /**
   * The next `expected` bytes of the stream. The array is valid until the next call (noVNC's decoder
   * reads it at once); inflate(1) answers in one reused array.
   */
  inflate(expected: number): Uint8Array {
    if (this.end - this.start < expected) this.refill(expected);
    if (this.end - this.start < expected) throw new Error('Incomplete zlib block');
    const at = this.start;
    this.start += expected;
    if (expected === 1) {
      this.oneByte[0] = this.buffer[at]!;
      return this.oneByte;
    }
    return this.buffer.subarray(at, at + expected);
  }

  /** Moves the unserved bytes to the front and inflates until the buffer is full or the input is used. */
  private refill(expected: number): void {
    if (this.start > 0) {
      this.buffer.copyWithin(0, this.start, this.end);
      this.end -= this.start;
      this.start = 0;
    }
    const size = Math.max(REFILL_BYTES, expected);
    if (this.buffer.length < size) {
      const grown = new Uint8Array(size);
      grown.set(this.buffer.subarray(0, this.end));
      this.buffer = grown;
    }
    const strm = this.strm;
    strm.output = this.buffer;
    strm.next_out = this.end;
    strm.avail_out = size - this.end;
    const status = this.inflateStream(strm, 0);
    if (status < 0) throw new Error('zlib inflate failed');
    this.end = strm.next_out;
  }
}

/** noVNC's ZRLE decoder instance (core/decoders/zrle.js): its inflator is replaced. */
export interface ZrleDecoderLike {
  _inflator: NoVncInflator;
}

/** Gives `decoder` a BufferedInflator over the z_stream its own inflator set up. */
export function bufferZrleInflation(decoder: ZrleDecoderLike, inflateStream: PakoInflate): void {
  decoder._inflator = new BufferedInflator(decoder._inflator.strm, inflateStream);
}
