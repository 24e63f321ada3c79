// The comparison engine's WebAssembly SIMD kernels (wasm/compare-kernels.wat) seen from JavaScript:
// compiling the module, one memory per engine holding its framebuffers and tile histories (an arena
// of blocks), and typed calls. Pure: WebAssembly is a JavaScript global in every runtime RetroVisor uses.

import { UNSEEDED, type FingerprintSeed } from './tile-pixels';

/** Module bytes, as `WebAssembly.validate` takes them (BufferSource without the DOM's types). */
export type KernelBytes = ArrayBuffer | ArrayBufferView;

// The few WebAssembly APIs used here, typed locally: common/ is compiled without the DOM's
// declarations, where the WebAssembly namespace lives.
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmInstance {
  readonly exports: Record<string, unknown>;
}
interface WasmApi {
  validate(bytes: KernelBytes): boolean;
  readonly Module: new (bytes: KernelBytes) => object;
  readonly Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => WasmInstance;
  readonly Memory: new (descriptor: { initial: number }) => WasmMemory;
}

/** The module's exports (see the .wat for what each does). */
interface KernelExports {
  scan(first: number, others: number, otherCount: number, runs: number, runCount: number, widthPx: number, tileSizePx: number, maxDelta: number, differing: number, boxes: number): void;
  tiles_agree(a: number, b: number, stride: number, left: number, top: number, width: number, height: number, maxDelta: number, allowed: number): number;
  grow_box(a: number, b: number, stride: number, left: number, top: number, width: number, height: number, maxDelta: number, box: number): number;
  xor_reduce(pointer: number, bytes: number): number;
  copy_tiles(frame: number, stride: number, source: number, sourceStride: number, left: number, top: number, width: number, height: number, tileSize: number, columns: number, widthPx: number, heightPx: number, list: number, count: number, history: number, tiles: number, nowMs: number, blinkMs: number, hashing: number, seedLow: number, seedHigh: number, scratch: number): void;
  changed_tiles(frame: number, stride: number, source: number, sourceStride: number, left: number, top: number, width: number, height: number, tileSize: number, columns: number, out: number): number;
  hash_tile(pixels: number, stride: number, left: number, top: number, width: number, height: number, seedLow: number, seedHigh: number, scratch: number): void;
  flush_cold(history: number, tiles: number, count: number, blinkMs: number, serials: number, watched: number): bigint;
  flush_hot(history: number, tiles: number, count: number, pixels: number, widthPx: number, heightPx: number, tileSize: number, columns: number, seedLow: number, seedHigh: number, scratch: number): bigint;
  classify_many(history: number, tiles: number, list: number, count: number, nowMs: number, halfWindowMs: number, settleMs: number, states: number, latest: number): void;
}

const PAGE_BYTES = 65_536;
/** Blocks start on 16-byte boundaries (one v128). */
const ALIGN_BYTES = 16;
/** Bytes of one `scan` run record (five i32). */
export const RUN_RECORD_BYTES = 20;

/**
 * The compiled kernels, ready to instantiate. Each engine gets its own arena (`createArena`): a
 * memory of its own, so engines never share or lock anything.
 */
export class CompareKernels {
  constructor(
    private readonly api: WasmApi,
    private readonly module: object,
  ) {}

  /** A new, empty memory with the kernels bound to it. */
  createArena(): KernelArena {
    const memory = new this.api.Memory({ initial: 1 });
    const instance = new this.api.Instance(this.module, { env: { memory } });
    return new KernelArena(memory, instance.exports as unknown as KernelExports);
  }
}

/**
 * Compiles the kernels' module bytes, synchronously (a few KiB; Chromium 156 compiles that even on a
 * page's main thread, old versions refused more than 4 KiB there). Null when the runtime has no WebAssembly, or none with SIMD (the bytes do
 * not validate there): the engine then runs in JavaScript.
 */
export function compileCompareKernels(bytes: KernelBytes): CompareKernels | null {
  const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (api === undefined) return null;
  try {
    if (!api.validate(bytes)) return null;
    return new CompareKernels(api, new api.Module(bytes));
  } catch {
    return null;
  }
}

/**
 * One engine's WebAssembly memory: framebuffers and scan buffers live in blocks of it, so the
 * kernels read them in place and JavaScript sees them through views. Growing the memory detaches
 * every view of the old buffer: blocks hand out views that re-bind themselves (`words`, `ints`).
 */
export class KernelArena {
  /** Free ranges, sorted by offset, never adjacent (merged). */
  private readonly free: { offset: number; bytes: number }[] = [];
  private readonly kernels: KernelExports;
  /**
   * hash_tile's lanes and result, allocated with the arena: never later, when allocating could grow
   * the memory and detach the views a caller (a write from a staged source) is using.
   */
  private readonly hashScratch: ArenaBlock;
  /**
   * The memory's buffer, kept: views check it on every use, and WebAssembly.Memory's `buffer` is
   * an accessor into the runtime. Only `grow` replaces it (the module never grows its memory).
   */
  private currentBuffer: ArrayBuffer;

  constructor(
    private readonly memory: WasmMemory,
    kernels: KernelExports,
  ) {
    this.kernels = kernels;
    this.currentBuffer = memory.buffer;
    this.free.push({ offset: 0, bytes: memory.buffer.byteLength });
    this.hashScratch = this.allocate(128);
  }

  /** The memory's current buffer (replaced whenever the memory grows). */
  get buffer(): ArrayBuffer {
    return this.currentBuffer;
  }

  /** Bytes the memory holds, used or free. */
  get capacityBytes(): number {
    return this.memory.buffer.byteLength;
  }

  /** A zeroed block of at least `bytes` bytes, 16-byte aligned; grows the memory when none is free. */
  allocate(bytes: number): ArenaBlock {
    const size = Math.max(ALIGN_BYTES, Math.ceil(bytes / ALIGN_BYTES) * ALIGN_BYTES);
    let index = this.free.findIndex((range) => range.bytes >= size);
    if (index < 0) {
      this.grow(size);
      index = this.free.findIndex((range) => range.bytes >= size);
    }
    const range = this.free[index]!;
    const offset = range.offset;
    if (range.bytes === size) this.free.splice(index, 1);
    else {
      range.offset += size;
      range.bytes -= size;
    }
    // Reused memory holds a previous block's bytes: a new framebuffer starts blank.
    new Uint8Array(this.memory.buffer, offset, size).fill(0);
    return new ArenaBlock(this, offset, Math.ceil(bytes / 4) * 4, size);
  }

  /** Gives a block back (its views must not be used any more). */
  release(block: ArenaBlock): void {
    let index = 0;
    while (index < this.free.length && this.free[index]!.offset < block.offset) index++;
    this.free.splice(index, 0, { offset: block.offset, bytes: block.reservedBytes });
    // Merge with the neighbours, so that a freed framebuffer can hold a bigger one later.
    const next = this.free[index + 1];
    if (next !== undefined && block.offset + block.reservedBytes === next.offset) {
      this.free[index]!.bytes += next.bytes;
      this.free.splice(index + 1, 1);
    }
    const previous = this.free[index - 1];
    if (previous !== undefined && previous.offset + previous.bytes === block.offset) {
      previous.bytes += this.free[index]!.bytes;
      this.free.splice(index, 1);
    }
  }

  /** Grows the memory so that a free range of `bytes` exists at its end. */
  private grow(bytes: number): void {
    const end = this.memory.buffer.byteLength;
    const last = this.free.at(-1);
    const tailFree = last !== undefined && last.offset + last.bytes === end ? last.bytes : 0;
    const pages = Math.ceil((bytes - tailFree) / PAGE_BYTES);
    this.memory.grow(pages);
    this.currentBuffer = this.memory.buffer;
    if (tailFree > 0) last!.bytes += pages * PAGE_BYTES;
    else this.free.push({ offset: end, bytes: pages * PAGE_BYTES });
  }

  /** See `scan` in the .wat: the batched scan of runs of tiles against the first frame. */
  scan(first: number, others: number, otherCount: number, runs: number, runCount: number, widthPx: number, tileSizePx: number, maxDelta: number, differing: number, boxes: number): void {
    this.kernels.scan(first, others, otherCount, runs, runCount, widthPx, tileSizePx, maxDelta, differing, boxes);
  }

  /** True when at most `allowed` pixels of the tile differ (exact when maxDelta is -1). No mask. */
  tilesAgree(a: number, b: number, stride: number, left: number, top: number, width: number, height: number, maxDelta: number, allowed: number): boolean {
    // A pixel count is whole: "more than 2.5" is "more than 2"; anything huge is "never too many".
    const limit = Math.min(Math.floor(allowed), 0x7fffffff);
    return this.kernels.tiles_agree(a, b, stride, left, top, width, height, maxDelta, limit) === 1;
  }

  /** Grows the box (four i32 at `box`) to the tile's differing pixels; true when any differs. No mask. */
  growBox(a: number, b: number, stride: number, left: number, top: number, width: number, height: number, maxDelta: number, box: number): boolean {
    return this.kernels.grow_box(a, b, stride, left, top, width, height, maxDelta, box) === 1;
  }

  /**
   * See flush_cold in the .wat: a framebuffer history's cold changes; how many were cold (with
   * `serials` and `watched`, not 0: how many cold ones were newly watched) and hot.
   */
  flushCold(history: number, tiles: number, count: number, blinkWindowMs: number, serials = 0, watched = 0): { cold: number; hot: number } {
    const packed = this.kernels.flush_cold(history, tiles, count, blinkWindowMs, serials, watched);
    return { cold: Number(packed & 0xffffffffn), hot: Number(packed >> 32n) };
  }

  /**
   * See flush_hot in the .wat: the hot changes flush_cold left at the head of a framebuffer history's
   * `touched`, fingerprinted and recorded; how many changed (listed in `flushed`) and how many were
   * left for JavaScript (at the head of `touched`).
   */
  flushHot(history: number, tiles: number, count: number, pixels: number, widthPx: number, heightPx: number, tileSizePx: number, columns: number, seed: FingerprintSeed): { changed: number; left: number } {
    const packed = this.kernels.flush_hot(history, tiles, count, pixels, widthPx, heightPx, tileSizePx, columns, seed.low, seed.high, this.hashScratch.offset);
    return { changed: Number(packed & 0xffffffffn), left: Number(packed >> 32n) };
  }

  /** See classify_many in the .wat: many tiles of one framebuffer history classified at once. */
  classifyMany(history: number, tiles: number, list: number, count: number, nowMs: number, halfWindowMs: number, settleMs: number, states: number, latest: number): void {
    this.kernels.classify_many(history, tiles, list, count, nowMs, halfWindowMs, settleMs, states, latest);
  }

  /**
   * See hash_tile in the .wat: the fingerprint of a tile of the framebuffer at byte offset
   * `pixels` (`stride` words per row), written to out[0..2) as tile-pixels.ts's hashTile would
   * with the same seed. No mask; `width` a multiple of 4.
   */
  hashTile(pixels: number, stride: number, left: number, top: number, width: number, height: number, out: Uint32Array, seed: FingerprintSeed = UNSEEDED): void {
    this.kernels.hash_tile(pixels, stride, left, top, width, height, seed.low, seed.high, this.hashScratch.offset);
    const words = this.hashScratch.words();
    out[0] = words[0]!;
    out[1] = words[1]!;
  }

  /**
   * See changed_tiles in the .wat: the tiles of the rectangle (left, top, width, height) of the
   * framebuffer at byte offset `frame` where the source at byte offset `source` differs, written to
   * `out` (i32 tile numbers); returns how many.
   */
  changedTiles(frame: number, stride: number, source: number, sourceStride: number, left: number, top: number, width: number, height: number, tileSizePx: number, columns: number, out: number): number {
    return this.kernels.changed_tiles(frame, stride, source, sourceStride, left, top, width, height, tileSizePx, columns, out);
  }

  /**
   * See copy_tiles in the .wat: the listed tiles' parts of the rectangle copied from the source (byte
   * offset `source`, its first pixel the rectangle's top-left corner) into the framebuffer at
   * `frame`, a band of tiles at a time; with `hashing`, each tile covered whole whose flush will be
   * hot (blinkWindowMs) is fingerprinted while its band is in the cache, into the history at
   * `history` (write fingerprint and time).
   */
  copyTiles(frame: number, stride: number, source: number, sourceStride: number, rect: { readonly x: number; readonly y: number; readonly width: number; readonly height: number }, tileSizePx: number, columns: number, widthPx: number, heightPx: number, list: number, count: number, history: number, tiles: number, nowMs: number, blinkWindowMs: number, hashing: boolean, seed: FingerprintSeed): void {
    this.kernels.copy_tiles(frame, stride, source, sourceStride, rect.x, rect.y, rect.width, rect.height, tileSizePx, columns, widthPx, heightPx, list, count, history, tiles, nowMs, blinkWindowMs, hashing ? 1 : 0, seed.low, seed.high, this.hashScratch.offset);
  }

  /** XOR of every word of the block's first `bytes` bytes (the benchmark's memory floor). */
  xorReduce(block: ArenaBlock, bytes = block.bytes): number {
    return this.kernels.xor_reduce(block.offset, Math.min(bytes, block.bytes) & ~3);
  }
}

/** A block of an arena's memory, with views that survive the memory growing. */
export class ArenaBlock {
  private wordView: Uint32Array;
  private intView: Int32Array;
  private doubleView: Float64Array | null = null;
  private byteView: Uint8Array | null = null;

  constructor(
    readonly arena: KernelArena,
    /** Byte offset in the arena's memory: the kernels' pointer to it. */
    readonly offset: number,
    /** The size asked for, rounded up to whole words: what the views cover. */
    readonly bytes: number,
    /** The size held in the arena (aligned). */
    readonly reservedBytes: number,
  ) {
    this.wordView = new Uint32Array(arena.buffer, offset, bytes / 4);
    this.intView = new Int32Array(arena.buffer, offset, bytes / 4);
  }

  /** The block as 32-bit words (a framebuffer: one RGBA pixel per word). */
  words(): Uint32Array {
    if (this.wordView.buffer !== this.arena.buffer) this.wordView = new Uint32Array(this.arena.buffer, this.offset, this.bytes / 4);
    return this.wordView;
  }

  /** The block as signed 32-bit numbers (boxes, run records). */
  ints(): Int32Array {
    if (this.intView.buffer !== this.arena.buffer) this.intView = new Int32Array(this.arena.buffer, this.offset, this.bytes / 4);
    return this.intView;
  }

  /** The block as 64-bit floats (times). */
  doubles(): Float64Array {
    if (this.doubleView === null || this.doubleView.buffer !== this.arena.buffer) this.doubleView = new Float64Array(this.arena.buffer, this.offset, Math.floor(this.bytes / 8));
    return this.doubleView;
  }

  /** The block as bytes. */
  bytesView(): Uint8Array {
    if (this.byteView === null || this.byteView.buffer !== this.arena.buffer) this.byteView = new Uint8Array(this.arena.buffer, this.offset, this.bytes);
    return this.byteView;
  }
}
