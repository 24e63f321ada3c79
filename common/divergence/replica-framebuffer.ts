// One replica's copy of its framebuffer, cut into tiles, with a short history of each tile's
// states: when it last changed (the settle clock) and which states it cycles through (blinking).
// Pure: typed arrays only; the engine drives it with the times it is given.

import { type ArenaBlock, type KernelArena } from './compare-kernels';
import { clipToFramebuffer, type PixelRect } from './pixel-rect';
import { hashTile, UNSEEDED, type FingerprintSeed, type TileMask } from './tile-pixels';

/** How many past states each tile remembers (a 250 ms blink makes ~7 changes in a 1.6 s window). */
export const HISTORY_LENGTH = 12;

/**
 * Where each history array starts, in bytes per tile, inside a framebuffer's history buffer (the
 * kernels' flush_cold, flush_hot and classify_many read the same layout: keep both in step). f64
 * arrays first, then 32-bit, then bytes, so every array is aligned.
 */
export const HISTORY_LAYOUT = {
  startMs: 0,
  pendingMs: 8 * HISTORY_LENGTH,
  hashLow: 8 * HISTORY_LENGTH + 8,
  hashHigh: 12 * HISTORY_LENGTH + 8,
  touched: 16 * HISTORY_LENGTH + 8,
  flushed: 16 * HISTORY_LENGTH + 12,
  flags: 16 * HISTORY_LENGTH + 16,
  newest: 17 * HISTORY_LENGTH + 16,
  entries: 17 * HISTORY_LENGTH + 17,
  listed: 17 * HISTORY_LENGTH + 18,
  echo: 17 * HISTORY_LENGTH + 19,
  // The fingerprint the kernels' copy_tiles took of a tile's last write, and that write's time (NaN
  // when it took none): flush_hot uses it when the time is the pending write's.
  writeMs: 17 * HISTORY_LENGTH + 20,
  writeLow: 17 * HISTORY_LENGTH + 28,
  writeHigh: 17 * HISTORY_LENGTH + 32,
} as const;
/** Bytes of history per tile. */
export const HISTORY_BYTES_PER_TILE = 17 * HISTORY_LENGTH + 36;

/** Tile classification at one instant, per replica (see `ReplicaFramebuffer.classify`). */
export const TILE_SETTLED = 0;
export const TILE_CYCLING = 1;
export const TILE_CHANGING = 2;
/** Bits `classifyMany` sets: some replica is changing there; some replica may be cycling (ask `classify`). */
export const CLASSIFY_CHANGING = 1;
export const CLASSIFY_MAYBE_CYCLING = 2;
/** One of TILE_SETTLED, TILE_CYCLING, TILE_CHANGING. */
export type TileClass = typeof TILE_SETTLED | typeof TILE_CYCLING | typeof TILE_CHANGING;

// A history entry's fingerprint: not computed (a "cold" change), computed, or the blank state a
// framebuffer starts with (never part of a cycle).
const UNHASHED = 0;
const HASHED = 1;
const INITIAL = 2;

/** Tile kinds in a MaskGrid. */
export const TILE_COMPARED = 0;
export const TILE_PARTLY_IGNORED = 1;
export const TILE_IGNORED = 2;

/** Which tiles of a grid the ignore regions cover, and for partly covered ones, which pixels. */
export class MaskGrid {
  /** TILE_COMPARED, TILE_PARTLY_IGNORED or TILE_IGNORED per tile. */
  readonly kinds: Uint8Array;
  /** No ignore region covers any tile: every tile is TILE_COMPARED. */
  readonly allCompared: boolean;
  private readonly masks = new Map<number, TileMask>();

  constructor(ignoreRegions: readonly PixelRect[], widthPx: number, heightPx: number, tileSizePx: number) {
    const columns = Math.ceil(widthPx / tileSizePx);
    const rows = Math.ceil(heightPx / tileSizePx);
    this.kinds = new Uint8Array(columns * rows);
    for (const region of ignoreRegions) {
      const clipped = clipToFramebuffer(region, widthPx, heightPx);
      if (clipped === null) continue;
      const lastColumn = Math.floor((clipped.x + clipped.width - 1) / tileSizePx);
      const lastRow = Math.floor((clipped.y + clipped.height - 1) / tileSizePx);
      for (let row = Math.floor(clipped.y / tileSizePx); row <= lastRow; row++) {
        for (let column = Math.floor(clipped.x / tileSizePx); column <= lastColumn; column++) {
          const tile = row * columns + column;
          let mask = this.masks.get(tile);
          if (mask === undefined) {
            mask = new Uint8Array(tileSizePx * tileSizePx).fill(1);
            this.masks.set(tile, mask);
          }
          const left = column * tileSizePx;
          const top = row * tileSizePx;
          const fromX = Math.max(clipped.x, left) - left;
          const toX = Math.min(clipped.x + clipped.width, left + tileSizePx) - left;
          const fromY = Math.max(clipped.y, top) - top;
          const toY = Math.min(clipped.y + clipped.height, top + tileSizePx) - top;
          for (let y = fromY; y < toY; y++) mask.fill(0, y * tileSizePx + fromX, y * tileSizePx + toX);
        }
      }
    }
    for (const [tile, mask] of this.masks) {
      const left = (tile % columns) * tileSizePx;
      const top = Math.floor(tile / columns) * tileSizePx;
      const width = Math.min(tileSizePx, widthPx - left);
      const height = Math.min(tileSizePx, heightPx - top);
      let compared = 0;
      for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) compared += mask[y * tileSizePx + x]!;
      this.kinds[tile] = compared === 0 ? TILE_IGNORED : TILE_PARTLY_IGNORED;
    }
    this.allCompared = this.masks.size === 0;
  }

  /** The mask of a partly ignored tile; null for a tile compared whole. */
  maskOf(tile: number): TileMask | null {
    return this.kinds[tile] === TILE_PARTLY_IGNORED ? (this.masks.get(tile) ?? null) : null;
  }
}

/** A list of tile numbers reused from call to call (no allocation once it has grown). */
export class TileList {
  tiles = new Int32Array(64);
  count = 0;

  push(tile: number): void {
    this.reserve(this.count + 1);
    this.tiles[this.count++] = tile;
  }

  /** Makes room for `length` tiles in all (then `tiles` may be written up to there directly). */
  reserve(length: number): void {
    if (length <= this.tiles.length) return;
    const grown = new Int32Array(Math.max(length, this.tiles.length * 2));
    grown.set(this.tiles.subarray(0, this.count));
    this.tiles = grown;
  }

  clear(): void {
    this.count = 0;
  }
}

/**
 * The engine's per-tile bookkeeping, in the kernels' memory, that flush_cold may do while it
 * records cold changes (byte offsets): each changed tile's serial goes up by one; tiles not yet
 * watched are marked and appended to `newlyWatched`.
 */
export interface KernelNoting {
  readonly serials: number;
  readonly watched: number;
  readonly newlyWatched: TileList;
}

/** Times that decide a tile's class; see divergence-engine.ts for the defaults and why. */
export interface TileTiming {
  readonly settleMs: number;
  readonly blinkWindowMs: number;
  readonly maxBlinkStates: number;
}

/**
 * Where a framebuffer's words live: a plain array, or a block of the WebAssembly kernels' memory
 * (whose views are replaced when that memory grows: ask again rather than keep the array).
 */
export interface PixelStorage {
  /** The framebuffer, one 32-bit word per RGBA pixel, `widthPx` words per row. */
  words(): Uint32Array;
}

/** A framebuffer in an ordinary typed array (the JavaScript engine's storage). */
class HeapPixels implements PixelStorage {
  private readonly array: Uint32Array;

  constructor(length: number) {
    this.array = new Uint32Array(length);
  }

  words(): Uint32Array {
    return this.array;
  }
}

/** A replica's framebuffer copy and the history of each of its tiles. */
export class ReplicaFramebuffer {
  readonly columns: number;
  readonly rows: number;
  readonly tileCount: number;
  /** Where the framebuffer's words live (given by the engine, or a plain array). */
  readonly storage: PixelStorage;

  // History ring per tile: HISTORY_LENGTH entries of (fingerprint, start time, flag), stored
  // position-major (entry `position` of `tile` at position × tileCount + tile): a full-screen update
  // moves every tile one position on, and then writes consecutive memory instead of one cache line
  // per tile. All of it lives in one buffer (HISTORY_LAYOUT): with the kernels, a block of their
  // memory, where flush_cold, flush_hot and classify_many work on it; views re-bound after the memory grows.
  private hashLow!: Uint32Array;
  private hashHigh!: Uint32Array;
  private startMs!: Float64Array;
  private flags!: Uint8Array;
  private newest!: Uint8Array;
  private entries!: Uint8Array;
  // 1 when the tile's newest state is fingerprinted and another fingerprinted entry of its history
  // has the same fingerprint: the state came back. A tile cycles only through states that come back,
  // so without an echo the cycle search is skipped (a tile redrawn with new pixels every time, such as
  // video, costs no search on each tick). Set whenever the newest entry is fingerprinted, 0 for a new
  // unfingerprinted one.
  private echo!: Uint8Array;
  // Tiles written since their last flush, and when (one write time per tile: one framebuffer update).
  private pendingMs!: Float64Array;
  // When copy_tiles last fingerprinted the tile's pixels right after copying them (see
  // HISTORY_LAYOUT); NaN after any other write. Only flush_hot reads it (and the fingerprint beside it, kept in the history).
  private writeMs!: Float64Array;
  private listed!: Uint8Array;
  /** Tiles written since the last flush, each once (`listed`), in the order first written. */
  private touched!: Int32Array;
  /** The kernel's list of the tiles a flush changed. */
  private flushed!: Int32Array;
  private touchedCount = 0;
  private readonly historyBlock: ArenaBlock | null;
  private readonly fingerprint = new Uint32Array(2);
  private readonly firstHalf: Uint32Array;
  private readonly secondHalf: Uint32Array;
  /** Length (in states) of the last signature `classify` wrote. */
  signatureLength = 0;

  constructor(
    readonly id: string,
    readonly widthPx: number,
    readonly heightPx: number,
    readonly tileSizePx: number,
    public masks: MaskGrid,
    nowMs: number,
    maxBlinkStates: number,
    /** Zeroed storage of at least widthPx×heightPx words; a plain array when absent. */
    storage?: PixelStorage,
    /** The kernels' memory: the tile history is kept there (a block `release` gives back). */
    private readonly arena: KernelArena | null = null,
    /** The engine's secret for fingerprints (see FingerprintSeed). */
    private readonly seed: FingerprintSeed = UNSEEDED,
  ) {
    this.columns = Math.ceil(widthPx / tileSizePx);
    this.rows = Math.ceil(heightPx / tileSizePx);
    this.tileCount = this.columns * this.rows;
    this.storage = storage ?? new HeapPixels(widthPx * heightPx);
    const bytes = HISTORY_BYTES_PER_TILE * this.tileCount;
    this.historyBlock = arena?.allocate(bytes) ?? null;
    this.makeViews(this.historyBlock?.arena.buffer ?? new ArrayBuffer(bytes), this.historyBlock?.offset ?? 0);
    this.entries.fill(1);
    this.pendingMs.fill(NaN);
    this.writeMs.fill(NaN);
    // A new framebuffer counts as just changed: nothing is judged before its first pixels settle.
    for (let tile = 0; tile < this.tileCount; tile++) {
      this.startMs[tile] = nowMs;
      this.flags[tile] = INITIAL;
    }
    this.firstHalf = new Uint32Array(2 * (maxBlinkStates + 1));
    this.secondHalf = new Uint32Array(2 * (maxBlinkStates + 1));
  }

  /** Views of the history at `offset` in `buffer` (see HISTORY_LAYOUT). */
  private makeViews(buffer: ArrayBuffer, offset: number): void {
    const tiles = this.tileCount;
    const slots = tiles * HISTORY_LENGTH;
    this.startMs = new Float64Array(buffer, offset + HISTORY_LAYOUT.startMs * tiles, slots);
    this.pendingMs = new Float64Array(buffer, offset + HISTORY_LAYOUT.pendingMs * tiles, tiles);
    this.writeMs = new Float64Array(buffer, offset + HISTORY_LAYOUT.writeMs * tiles, tiles);
    this.hashLow = new Uint32Array(buffer, offset + HISTORY_LAYOUT.hashLow * tiles, slots);
    this.hashHigh = new Uint32Array(buffer, offset + HISTORY_LAYOUT.hashHigh * tiles, slots);
    this.touched = new Int32Array(buffer, offset + HISTORY_LAYOUT.touched * tiles, tiles);
    this.flushed = new Int32Array(buffer, offset + HISTORY_LAYOUT.flushed * tiles, tiles);
    this.flags = new Uint8Array(buffer, offset + HISTORY_LAYOUT.flags * tiles, slots);
    this.newest = new Uint8Array(buffer, offset + HISTORY_LAYOUT.newest * tiles, tiles);
    this.entries = new Uint8Array(buffer, offset + HISTORY_LAYOUT.entries * tiles, tiles);
    this.listed = new Uint8Array(buffer, offset + HISTORY_LAYOUT.listed * tiles, tiles);
    this.echo = new Uint8Array(buffer, offset + HISTORY_LAYOUT.echo * tiles, tiles);
  }

  /** Re-binds the history's views if the kernels' memory grew since (it detaches the old ones). */
  private bind(): void {
    const block = this.historyBlock;
    if (block !== null && this.startMs.buffer !== block.arena.buffer) this.makeViews(block.arena.buffer, block.offset);
  }

  /** Gives the history's block back to the kernels' memory (the replica is gone). */
  release(): void {
    if (this.historyBlock !== null) this.arena!.release(this.historyBlock);
  }

  /** The framebuffer, one 32-bit word per RGBA pixel, `widthPx` words per row (a fresh view: do not keep it). */
  get pixels(): Uint32Array {
    return this.storage.words();
  }

  /** The tile's left edge, in framebuffer pixels. */
  tileLeft(tile: number): number {
    return (tile % this.columns) * this.tileSizePx;
  }

  /** The tile's top edge, in framebuffer pixels. */
  tileTop(tile: number): number {
    return Math.floor(tile / this.columns) * this.tileSizePx;
  }

  /** The tile's width (smaller at the framebuffer's right edge). */
  tileWidth(tile: number): number {
    return Math.min(this.tileSizePx, this.widthPx - this.tileLeft(tile));
  }

  /** The tile's height (smaller at the framebuffer's bottom edge). */
  tileHeight(tile: number): number {
    return Math.min(this.tileSizePx, this.heightPx - this.tileTop(tile));
  }

  /** When the tile last changed (its newest state began). */
  lastChangeMs(tile: number): number {
    this.bind();
    return this.startMs[this.newest[tile]! * this.tileCount + tile]!;
  }

  /**
   * Copies `source` (RGBA words, `sourceStride` per row, the rectangle's top-left corner at
   * `sourceOffset`) into the framebuffer at `rect`, which must lie inside it, as one framebuffer
   * update made at `nowMs`. Only the tiles where some pixel differs are written: a repaint of
   * identical pixels (a server resending what it sent, a damage rectangle wider than the change) is
   * no change, so it neither restarts a tile's settle clock nor costs a fingerprint. Written tiles
   * whose previous write had another time are flushed first; those that changed are appended to
   * `changedTiles`. Returns how many tiles were written.
   */
  write(rect: PixelRect, source: Uint32Array, sourceStride: number, sourceOffset: number, nowMs: number, blinkWindowMs: number, changedTiles: TileList): number {
    this.bind();
    if (rect.width === 0 || rect.height === 0) return 0;
    const size = this.tileSizePx;
    const firstColumn = Math.floor(rect.x / size);
    const lastColumn = Math.floor((rect.x + rect.width - 1) / size);
    const firstRow = Math.floor(rect.y / size);
    const lastRow = Math.floor((rect.y + rect.height - 1) / size);
    // The tiles that differ, listed in `flushed` (free between flushes).
    const count = this.findChangedTiles(rect, source, sourceStride, sourceOffset);
    if (count === 0) return 0;
    const written = this.flushed;
    for (let index = 0; index < count; index++) this.beforeWrite(written[index]!, nowMs, blinkWindowMs, changedTiles);
    const pixels = this.pixels;
    const arena = this.arena;
    if (arena !== null && this.historyBlock !== null && source.buffer === arena.buffer && pixels.buffer === arena.buffer) {
      // In the kernels: the listed tiles copied a band at a time, and those whose flush will be hot
      // fingerprinted while the band is in the cache (flush_hot then need not read them again).
      arena.copyTiles(pixels.byteOffset, this.widthPx, source.byteOffset + 4 * sourceOffset, sourceStride, rect, this.tileSizePx, this.columns, this.widthPx, this.heightPx,
        written.byteOffset, count, this.historyBlock.offset, this.tileCount, nowMs, blinkWindowMs, this.masks.allCompared, this.seed);
      this.noteWritten(count, nowMs, false);
      return count;
    }
    if (count === (lastRow - firstRow + 1) * (lastColumn - firstColumn + 1)) {
      if (rect.width === this.widthPx && sourceStride === rect.width) {
        // Whole rows, contiguous on both sides: one copy (no view per row).
        pixels.set(source.subarray(sourceOffset, sourceOffset + rect.width * rect.height), rect.y * this.widthPx);
      } else {
        for (let y = 0; y < rect.height; y++) {
          const from = sourceOffset + y * sourceStride;
          pixels.set(source.subarray(from, from + rect.width), (rect.y + y) * this.widthPx + rect.x);
        }
      }
    } else {
      // Some tiles are unchanged: only the others' parts of the rectangle are copied.
      for (let index = 0; index < count; index++) {
        const tile = written[index]!;
        const x0 = Math.max(rect.x, this.tileLeft(tile));
        const x1 = Math.min(rect.x + rect.width, this.tileLeft(tile) + size);
        const y0 = Math.max(rect.y, this.tileTop(tile));
        const y1 = Math.min(rect.y + rect.height, this.tileTop(tile) + size);
        for (let y = y0; y < y1; y++) {
          const from = sourceOffset + (y - rect.y) * sourceStride + (x0 - rect.x);
          pixels.set(source.subarray(from, from + x1 - x0), y * this.widthPx + x0);
        }
      }
    }
    this.noteWritten(count, nowMs, true);
    return count;
  }

  /** Marks the tiles listed in `flushed[0..count)` written at `nowMs` (`unhashed`: with no write fingerprint). */
  private noteWritten(count: number, nowMs: number, unhashed: boolean): void {
    const written = this.flushed;
    for (let index = 0; index < count; index++) {
      const tile = written[index]!;
      this.pendingMs[tile] = nowMs;
      if (unhashed) this.writeMs[tile] = NaN;
      if (this.listed[tile] === 0) {
        this.listed[tile] = 1;
        this.touched[this.touchedCount++] = tile;
      }
    }
  }

  /**
   * Lists in `flushed` the tiles of `rect` where `source` differs from the framebuffer (bit for
   * bit), row by row; returns how many. The kernels' changed_tiles when both are in their memory.
   */
  private findChangedTiles(rect: PixelRect, source: Uint32Array, sourceStride: number, sourceOffset: number): number {
    const pixels = this.pixels;
    const arena = this.arena;
    if (arena !== null && this.historyBlock !== null && source.buffer === arena.buffer && pixels.buffer === arena.buffer) {
      const out = this.historyBlock.offset + HISTORY_LAYOUT.flushed * this.tileCount;
      return arena.changedTiles(pixels.byteOffset, this.widthPx, source.byteOffset + 4 * sourceOffset, sourceStride, rect.x, rect.y, rect.width, rect.height, this.tileSizePx, this.columns, out);
    }
    const size = this.tileSizePx;
    const right = rect.x + rect.width;
    const bottom = rect.y + rect.height;
    const out = this.flushed;
    let count = 0;
    for (let row = Math.floor(rect.y / size); row * size < bottom; row++) {
      const y0 = Math.max(rect.y, row * size);
      const y1 = Math.min(bottom, (row + 1) * size);
      for (let column = Math.floor(rect.x / size); column * size < right; column++) {
        const x0 = Math.max(rect.x, column * size);
        const width = Math.min(right, (column + 1) * size) - x0;
        let differs = false;
        for (let y = y0; y < y1 && !differs; y++) {
          const at = y * this.widthPx + x0;
          const from = sourceOffset + (y - rect.y) * sourceStride + (x0 - rect.x);
          for (let x = 0; x < width; x++) {
            if (pixels[at + x] !== source[from + x]) {
              differs = true;
              break;
            }
          }
        }
        if (differs) out[count++] = row * this.columns + column;
      }
    }
    return count;
  }

  /**
   * Records every written tile's new state; appends the tiles that changed to `changedTiles`. With
   * the kernels and `noting`, the cold changes are noted there instead (see KernelNoting) and only
   * the hot ones are appended.
   */
  flush(blinkWindowMs: number, changedTiles: TileList, noting: KernelNoting | null = null): void {
    this.bind();
    if (this.historyBlock !== null) {
      this.flushInKernel(blinkWindowMs, changedTiles, noting);
      return;
    }
    const { touched, listed, pendingMs, newest, entries, startMs, flags, tileCount } = this;
    const count = this.touchedCount;
    this.touchedCount = 0;
    changedTiles.reserve(changedTiles.count + count);
    const changed = changedTiles.tiles;
    for (let index = 0; index < count; index++) {
      const tile = touched[index]!;
      listed[tile] = 0;
      const writtenMs = pendingMs[tile]!;
      if (Number.isNaN(writtenMs)) continue;
      const position = newest[tile]!;
      const slot = position * tileCount + tile;
      if (flags[slot] !== INITIAL && writtenMs - startMs[slot]! < blinkWindowMs) {
        // A hot change (it may be part of a blink): fingerprinted, and maybe no change at all.
        if (this.flushTile(tile, blinkWindowMs)) changedTiles.push(tile);
        continue;
      }
      // A cold change (the common case: a redraw after a quiet while): a new entry, no fingerprint.
      pendingMs[tile] = NaN;
      const next = position + 1 === HISTORY_LENGTH ? 0 : position + 1;
      newest[tile] = next;
      if (entries[tile]! < HISTORY_LENGTH) entries[tile] = entries[tile]! + 1;
      startMs[next * tileCount + tile] = writtenMs;
      flags[next * tileCount + tile] = UNHASHED;
      this.echo[tile] = 0;
      changed[changedTiles.count++] = tile;
    }
  }

  /**
   * `flush` with the kernels: cold changes (the common case) are recorded by flush_cold; the hot
   * ones it leaves (at the head of `touched`) by flush_hot when the pixels are in the kernels' memory
   * and no tile is masked, else (and for tiles it cannot fingerprint) here, one by one, as in `flush`.
   */
  private flushInKernel(blinkWindowMs: number, changedTiles: TileList, noting: KernelNoting | null): void {
    const count = this.touchedCount;
    this.touchedCount = 0;
    if (count === 0) return;
    const { cold, hot } = this.arena!.flushCold(this.historyBlock!.offset, this.tileCount, count, blinkWindowMs, noting?.serials ?? 0, noting?.watched ?? 0);
    this.bind();
    const coldList = noting?.newlyWatched ?? changedTiles;
    coldList.reserve(coldList.count + cold);
    coldList.tiles.set(this.flushed.subarray(0, cold), coldList.count);
    coldList.count += cold;
    changedTiles.reserve(changedTiles.count + hot);
    let left = hot;
    // The hot ones in the kernel too, where hash_tile applies (the pixels in the kernels' memory, no
    // masks): it leaves the tiles it cannot fingerprint at the head of `touched`.
    const words = hot > 0 && this.masks.allCompared ? this.storage.words() : null;
    if (words !== null && words.buffer === this.arena!.buffer) {
      const flushed = this.arena!.flushHot(this.historyBlock!.offset, this.tileCount, hot, words.byteOffset, this.widthPx, this.heightPx, this.tileSizePx, this.columns, this.seed);
      this.bind();
      changedTiles.tiles.set(this.flushed.subarray(0, flushed.changed), changedTiles.count);
      changedTiles.count += flushed.changed;
      left = flushed.left;
    }
    for (let index = 0; index < left; index++) {
      const tile = this.touched[index]!;
      if (this.flushTile(tile, blinkWindowMs)) changedTiles.push(tile);
    }
  }

  private beforeWrite(tile: number, nowMs: number, blinkWindowMs: number, changedTiles: TileList): void {
    const pending = this.pendingMs[tile]!;
    if (!Number.isNaN(pending) && pending !== nowMs && this.flushTile(tile, blinkWindowMs)) changedTiles.push(tile);
    if (!Number.isNaN(this.pendingMs[tile]!)) return;
    // The tile is about to leave a state that began recently: fingerprint it while its pixels are
    // still here, in case the tile turns out to be blinking (cold tiles are never hashed).
    const slot = this.newest[tile]! * this.tileCount + tile;
    if (this.flags[slot] === UNHASHED && nowMs - this.startMs[slot]! < blinkWindowMs) this.fingerprintNewest(tile, slot);
  }

  /** Ends the pending write of a tile: a new history entry, unless a fingerprint proves nothing changed. */
  private flushTile(tile: number, blinkWindowMs: number): boolean {
    const writtenMs = this.pendingMs[tile]!;
    this.pendingMs[tile] = NaN;
    const slot = this.newest[tile]! * this.tileCount + tile;
    const hot = this.flags[slot] !== INITIAL && writtenMs - this.startMs[slot]! < blinkWindowMs;
    let low = 0;
    let high = 0;
    if (hot) {
      this.hashInto(tile);
      low = this.fingerprint[0]!;
      high = this.fingerprint[1]!;
      if (this.flags[slot] === HASHED && this.hashLow[slot] === low && this.hashHigh[slot] === high) return false;
    }
    const next = (this.newest[tile]! + 1) % HISTORY_LENGTH;
    this.newest[tile] = next;
    if (this.entries[tile]! < HISTORY_LENGTH) this.entries[tile] = this.entries[tile]! + 1;
    const nextSlot = next * this.tileCount + tile;
    // An unhashed entry's fingerprint is never read: only a hot change writes one.
    if (hot) {
      this.hashLow[nextSlot] = low;
      this.hashHigh[nextSlot] = high;
    }
    this.startMs[nextSlot] = writtenMs;
    this.flags[nextSlot] = hot ? HASHED : UNHASHED;
    this.echo[tile] = hot && this.echoes(tile, next, low, high) ? 1 : 0;
    return true;
  }

  /** Fingerprints the tile's newest entry (at `slot`), which was not yet, and notes its echo. */
  private fingerprintNewest(tile: number, slot: number): void {
    this.hashInto(tile);
    const low = this.fingerprint[0]!;
    const high = this.fingerprint[1]!;
    this.hashLow[slot] = low;
    this.hashHigh[slot] = high;
    this.flags[slot] = HASHED;
    this.echo[tile] = this.echoes(tile, this.newest[tile]!, low, high) ? 1 : 0;
  }

  /** Whether another fingerprinted entry of the tile's history than the one at `position` has fingerprint (low, high). */
  private echoes(tile: number, position: number, low: number, high: number): boolean {
    const { tileCount, flags, hashLow, hashHigh } = this;
    let at = position;
    for (let step = this.entries[tile]! - 1; step > 0; step--) {
      at = at === 0 ? HISTORY_LENGTH - 1 : at - 1;
      const slot = at * tileCount + tile;
      if (flags[slot] === HASHED && hashLow[slot] === low && hashHigh[slot] === high) return true;
    }
    return false;
  }

  private hashInto(tile: number): void {
    const mask = this.masks.maskOf(tile);
    const width = this.tileWidth(tile);
    // The kernels' hash_tile where it applies (the pixels in their memory, no mask, whole 4-pixel
    // chunks): the same fingerprint, a fraction of the time.
    const words = this.storage.words();
    if (this.arena !== null && mask === null && width % 4 === 0 && words.buffer === this.arena.buffer) {
      this.arena.hashTile(words.byteOffset, this.widthPx, this.tileLeft(tile), this.tileTop(tile), width, this.tileHeight(tile), this.fingerprint, this.seed);
      return;
    }
    hashTile(words, this.widthPx, this.tileLeft(tile), this.tileTop(tile), width, this.tileHeight(tile), mask, this.tileSizePx, this.fingerprint, this.seed);
  }

  /** The fingerprint of the tile's current state (computed now if it was a cold change), into `out`. */
  currentFingerprint(tile: number, out: Uint32Array, offset: number): void {
    this.bind();
    const slot = this.newest[tile]! * this.tileCount + tile;
    if (this.flags[slot] !== HASHED) this.fingerprintNewest(tile, slot);
    out[offset] = this.hashLow[slot]!;
    out[offset + 1] = this.hashHigh[slot]!;
  }

  /** Forgets fingerprints (the ignore regions changed what they cover); the change times stay. */
  forgetFingerprints(): void {
    this.bind();
    for (let slot = 0; slot < this.flags.length; slot++) if (this.flags[slot] === HASHED) this.flags[slot] = UNHASHED;
    this.echo.fill(0);
    this.writeMs.fill(NaN);
  }

  /**
   * Classifies a tile at `nowMs` (after `flush`):
   * - TILE_CYCLING: over the blink window the tile keeps returning to the same 2..maxBlinkStates
   *   states — both halves of the window show exactly the same set, every state fingerprinted.
   *   The set (sorted fingerprints) is written to `signature` from `offset`; `signatureLength` is set.
   * - TILE_SETTLED: otherwise, unchanged for settleMs.
   * - TILE_CHANGING: otherwise.
   * Cycling is tested first, so a cursor whose on-time exceeds settleMs is not mistaken for settled.
   */
  classify(tile: number, nowMs: number, timing: TileTiming, signature: Uint32Array, offset: number): TileClass {
    this.bind();
    const newest = this.newest[tile]! * this.tileCount + tile;
    const age = nowMs - this.startMs[newest]!;
    // A cycle needs its newest state fingerprinted (cold changes never are): checked inline first.
    if (age < timing.blinkWindowMs / 2 && this.flags[newest] === HASHED && this.echo[tile] === 1 && this.findCycle(tile, nowMs, timing, signature, offset)) return TILE_CYCLING;
    return age >= timing.settleMs ? TILE_SETTLED : TILE_CHANGING;
  }

  /**
   * The common case of `classify` for many tiles at once (`tiles[0..count)`), in one loop: per list
   * index, ORs CLASSIFY_CHANGING into `states` when the tile is changing here, CLASSIFY_MAYBE_CYCLING
   * when its newest state is fingerprinted, recent and an echo of an older one (then only `classify`
   * can tell), and raises `latestMs` to the tile's last change here.
   */
  classifyMany(tiles: Int32Array, count: number, nowMs: number, timing: TileTiming, states: Uint8Array, latestMs: Float64Array): void {
    this.bind();
    const { newest, startMs, flags, echo, tileCount } = this;
    const halfWindowMs = timing.blinkWindowMs / 2;
    const settleMs = timing.settleMs;
    for (let index = 0; index < count; index++) {
      const tile = tiles[index]!;
      const slot = newest[tile]! * tileCount + tile;
      const changedMs = startMs[slot]!;
      if (changedMs > latestMs[index]!) latestMs[index] = changedMs;
      const age = nowMs - changedMs;
      if (age < halfWindowMs && flags[slot] === HASHED && echo[tile] === 1) states[index] = states[index]! | CLASSIFY_MAYBE_CYCLING;
      else if (age < settleMs) states[index] = states[index]! | CLASSIFY_CHANGING;
    }
  }

  /**
   * `classifyMany` in the kernels, on lists in their memory (byte offsets: `tiles` i32, `states` u8,
   * `latestMs` f64 per list index). Only for a framebuffer whose history is there.
   */
  classifyManyInKernel(tiles: number, count: number, nowMs: number, timing: TileTiming, states: number, latestMs: number): void {
    this.arena!.classifyMany(this.historyBlock!.offset, this.tileCount, tiles, count, nowMs, timing.blinkWindowMs / 2, timing.settleMs, states, latestMs);
  }

  private findCycle(tile: number, nowMs: number, timing: TileTiming, signature: Uint32Array, offset: number): boolean {
    const windowStartMs = nowMs - timing.blinkWindowMs;
    const splitMs = nowMs - timing.blinkWindowMs / 2;
    const limit = timing.maxBlinkStates;
    let firstCount = 0;
    let secondCount = 0;
    let position = this.newest[tile]!;
    let endMs = nowMs;
    let covered = false;
    for (let step = this.entries[tile]!; step > 0; step--) {
      const slot = position * this.tileCount + tile;
      if (this.flags[slot] !== HASHED) return false;
      const startMs = this.startMs[slot]!;
      const low = this.hashLow[slot]!;
      const high = this.hashHigh[slot]!;
      if (endMs > splitMs) {
        secondCount = addState(this.secondHalf, secondCount, low, high);
        if (secondCount > limit) return false;
      }
      if (startMs < splitMs) {
        firstCount = addState(this.firstHalf, firstCount, low, high);
        if (firstCount > limit) return false;
      }
      if (startMs <= windowStartMs) {
        covered = true;
        break;
      }
      endMs = startMs;
      position = (position + HISTORY_LENGTH - 1) % HISTORY_LENGTH;
    }
    if (!covered || secondCount < 2 || firstCount !== secondCount) return false;
    for (let index = 0; index < secondCount; index++) {
      if (indexOfState(this.firstHalf, firstCount, this.secondHalf[2 * index]!, this.secondHalf[2 * index + 1]!) < 0) return false;
    }
    // Sorted, so equal sets give equal signatures whatever order the states came in.
    for (let index = 0; index < secondCount; index++) {
      let at = index;
      const low = this.secondHalf[2 * index]!;
      const high = this.secondHalf[2 * index + 1]!;
      while (at > 0 && (signature[offset + 2 * (at - 1) + 1]! > high || (signature[offset + 2 * (at - 1) + 1] === high && signature[offset + 2 * (at - 1)]! > low))) {
        signature[offset + 2 * at] = signature[offset + 2 * (at - 1)]!;
        signature[offset + 2 * at + 1] = signature[offset + 2 * (at - 1) + 1]!;
        at -= 1;
      }
      signature[offset + 2 * at] = low;
      signature[offset + 2 * at + 1] = high;
    }
    this.signatureLength = secondCount;
    return true;
  }
}

function indexOfState(states: Uint32Array, count: number, low: number, high: number): number {
  for (let index = 0; index < count; index++) if (states[2 * index] === low && states[2 * index + 1] === high) return index;
  return -1;
}

/** Adds a state to a small set (room for one more than the limit, so overflow can be seen). */
function addState(states: Uint32Array, count: number, low: number, high: number): number {
  if (indexOfState(states, count, low, high) >= 0) return count;
  if (2 * count + 1 < states.length) {
    states[2 * count] = low;
    states[2 * count + 1] = high;
  }
  return count + 1;
}
