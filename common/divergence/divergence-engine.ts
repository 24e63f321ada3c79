// The comparison engine: N replicas' framebuffers fed with damaged rectangles, compared tile by
// tile only where something changed, once the replicas are quiet there; reports where they
// disagree and who the outliers are. Pure: no DOM, no timers — the caller passes the time.

import { RUN_RECORD_BYTES, type ArenaBlock, type CompareKernels, type KernelArena } from './compare-kernels';
import { MAX_REPLICAS, PartitionRegistry, type Partition } from './partition';
import { clipToFramebuffer, mergeTiles, type PixelRect } from './pixel-rect';
import {
  CLASSIFY_CHANGING,
  CLASSIFY_MAYBE_CYCLING,
  MaskGrid,
  ReplicaFramebuffer,
  TILE_CHANGING,
  TILE_COMPARED,
  TILE_CYCLING,
  TILE_IGNORED,
  TILE_SETTLED,
  TileList,
  type KernelNoting,
  type TileTiming,
} from './replica-framebuffer';
import { SCAN_WIDTH, growDifferenceBox, randomFingerprintSeed, scanRowDifferences, tilesAgree, type FingerprintSeed, type TileMask, type Tolerance } from './tile-pixels';
import { AGREE, AGREED, UNJUDGEABLE, UNJUDGED, nextVerdict, type Observation, type Verdict } from './tile-verdict';

/**
 * Tile edge. 16 px: about two text cells (8–9 px wide), so a blinking cursor shares its tile with
 * little else; 1080p is 120×68 tiles. Reported regions are shrunk to the differing pixels, so the
 * tile size does not coarsen the red overlay (except inside a blinking tile: the whole tile).
 */
export const TILE_SIZE_PX = 16;
/**
 * A tile is judged only after no replica changed it for this long. 400 ms: 8× the 18–50 ms by which
 * a keystroke's redraw reaches different servers, room for a redraw arriving in several updates,
 * and still quick enough for a human watching.
 */
export const SETTLE_MS = 400;
/**
 * A disagreement is reported only after it has been seen, on settled screens, for this long
 * without a break: a replica lagging by up to SETTLE_MS + CONFIRM_MS (1 s) is not flagged.
 */
export const CONFIRM_MS = 600;
/**
 * The window over which a tile that never settles is tested for cycling (a blinking cursor):
 * both halves (800 ms each) must show the same set of states. Covers blink on/off times up to
 * ~750 ms (VGA text ~250 ms, xterm 600/300 ms, Windows 530 ms, GNOME 600 ms).
 */
export const BLINK_WINDOW_MS = 1600;
/** A cycling tile may alternate between at most this many states (a cursor: 2; a spinner: 4). */
export const MAX_BLINK_STATES = 4;

/** Engine settings; every field has a documented default. */
export interface DivergenceOptions {
  readonly tileSizePx?: number;
  readonly settleMs?: number;
  readonly confirmMs?: number;
  readonly blinkWindowMs?: number;
  readonly maxBlinkStates?: number;
  /** null (the default): exact, bit-for-bit comparison. */
  readonly tolerance?: Tolerance | null;
  /** Framebuffer rectangles never compared (a clock, a hostname that differs by design). */
  readonly ignoreRegions?: readonly PixelRect[];
  /**
   * The WebAssembly SIMD kernels (see compileCompareKernels): framebuffers then live in the
   * kernels' memory and the pixel loops run there, with the same results. Absent or null: the
   * JavaScript loops (the reference, and the path for runtimes without WebAssembly SIMD).
   */
  readonly kernels?: CompareKernels | null;
}

/** One replica's desktop size, as reported in a size divergence. */
export interface ReplicaSize {
  readonly replicaId: string;
  readonly widthPx: number;
  readonly heightPx: number;
}

/** A confirmed disagreement: the regions where the same replicas split the same way. */
export interface Divergence {
  /** Stable while the same split persists ("d1", "d2"…). */
  readonly id: string;
  /** 'size': the desktop sizes differ (regions: the whole desktop); 'pixels': screen contents. */
  readonly kind: 'pixels' | 'size';
  /** Framebuffer rectangles holding the differing pixels (a blinking tile: the whole tile). */
  readonly regions: readonly PixelRect[];
  /** Replicas outside the strict majority; every compared replica when there is no majority. */
  readonly outliers: readonly string[];
  /** The strict majority; empty when there is none. */
  readonly agreeing: readonly string[];
  /** Every group of replicas that agree with each other there, majority first. */
  readonly groups: readonly (readonly string[])[];
  /** No strict majority: all are flagged and none is called the good one. */
  readonly noMajority: boolean;
  /** When the disagreement was first seen on settled screens. */
  readonly sinceMs: number;
  /** For 'size': every replica's size; empty for 'pixels'. */
  readonly sizes: readonly ReplicaSize[];
}

/** What the engine currently reports. */
export interface DivergenceState {
  readonly divergences: readonly Divergence[];
  /** No confirmed divergence (tiles still settling count as agreeing until judged otherwise). */
  readonly allAgree: boolean;
}

/** Changes in the report, returned by `tick`. */
export type DivergenceEvent =
  | { readonly type: 'divergence'; readonly change: 'new' | 'changed'; readonly divergence: Divergence; readonly atMs: number }
  | { readonly type: 'divergence-resolved'; readonly id: string; readonly atMs: number }
  | { readonly type: 'consensus'; readonly atMs: number };

/** Counters for tests and benchmarks. */
export interface DivergenceStats {
  /** Tiles compared pixel by pixel (across all replicas) since the engine was created. */
  comparedTiles: number;
  /** Tiles the last tick looked at (its watch list). */
  lastTickTiles: number;
  /** Bytes `update` copied into the kernels' memory before comparing them (pixels not read back there). */
  stagedBytes: number;
}

type RgbaPixels = Uint8Array | Uint8ClampedArray;

/** Bits for "every replica may differ from the first" (no fast scan was made). */
const ALL_DIFFER = 0xffffffff;

/** `observe`'s answer for a settled tile whose pixels must be compared (done in batches). */
const NEEDS_PIXELS: Observation = { kind: 'unjudgeable' };

/**
 * Compares N replicas' screens. Feed pixels with `setReplicaSize` + `update` (damaged rectangles,
 * RGBA as getImageData returns them), call `tick(nowMs)` regularly (every 50–100 ms); it returns
 * what changed in the report, and `state` holds the report.
 */
export class DivergenceEngine {
  readonly stats: DivergenceStats = { comparedTiles: 0, lastTickTiles: 0, stagedBytes: 0 };
  private readonly tileSizePx: number;
  private readonly timing: TileTiming;
  private readonly confirmMs: number;
  private tolerance: Tolerance | null;
  private ignoreRegions: readonly PixelRect[];
  private readonly maskGrids = new Map<string, MaskGrid>();

  private readonly replicas = new Map<string, ReplicaFramebuffer>();
  private lastResizeMs = -Infinity;
  private sizeVerdict: Verdict = UNJUDGED;
  private sizeSplit: { readonly registry: PartitionRegistry; readonly order: readonly string[] } | null = null;

  // The compared replicas (those with the majority size) and the per-tile state of their grid.
  private participants: ReplicaFramebuffer[] = [];
  private registry: PartitionRegistry | null = null;
  private replicaCountCompared = 0;
  private columns = 0;
  private tileCount = 0;
  private masks: MaskGrid | null = null;
  private verdicts: Verdict[] = [];
  /**
   * Per tile, the partition of its verdict when that is a confirmed divergence with nothing
   * replacing it (`diverged`, `next` null), else null: the settle loop checks it without reading
   * the verdict object. Kept in step wherever `verdicts` changes.
   */
  private steadyPartitions: (Partition | null)[] = [];
  private boxes = new Int32Array(0);
  private serials: Uint32Array = new Uint32Array(0);
  private cachedSerials = new Float64Array(0);
  private cachedObservations: Observation[] = [];
  private watched: Uint8Array = new Uint8Array(0);
  /** Per tile, the last change on any compared replica, as of its last judgement. */
  private latestChangeMs = new Float64Array(0);
  /** Tiles to look at on the next tick, each once (`watched`); two buffers that take turns. */
  private watchTiles = new Int32Array(0);
  private spareWatchTiles = new Int32Array(0);
  private watchCount = 0;
  /** The earliest time a tick may change a verdict (see nextDecisionMs). */
  private decisionDueMs = Infinity;

  private divergences: Divergence[] = [];
  private readonly reportedByKey = new Map<string, Divergence>();
  private reportChanged = false;
  /** Confirmed splits not reported yet (see rebuildReport), by key; `heldSinceMs`: first confirmed. */
  private held = new Map<string, { readonly divergence: Divergence; readonly heldSinceMs: number }>();
  /** A divergence was reported since the last consensus event. */
  private consensusOwed = false;
  private nextDivergenceNumber = 1;

  // Scratch space reused by every judgement.
  private readonly changedTiles = new TileList();
  private readonly labels = new Uint8Array(MAX_REPLICAS);
  private readonly representatives = new Int32Array(MAX_REPLICAS);
  private readonly classes = new Uint8Array(MAX_REPLICAS);
  private readonly signatureLengths = new Uint8Array(MAX_REPLICAS);
  private readonly signatures: Uint32Array;
  private readonly box = new Int32Array(4);
  /** Settled tiles whose pixels must be compared this tick, and those of them for the fast scan. */
  private batchTiles = new Int32Array(0);
  /** Per watched tile, in list order: what classifyMany found, and the latest change on any replica. */
  private listStates = new Uint8Array(0);
  private listLatestMs = new Float64Array(0);
  private fastTiles = new Int32Array(0);
  /**
   * 1 for a tile batched this tick with every replica's tile plainly settled (not changing, not
   * maybe cycling): its verdict after the comparison cannot change with time alone, so it is not
   * watched again for the blink window (a new write watches it).
   */
  private quietTiles = new Uint8Array(0);
  private differing: Uint32Array = new Uint32Array(0);
  /** The compared replicas after the first, SCAN_WIDTH at a time, with their bits. */
  private scanGroups: { readonly others: Uint32Array[]; readonly bits: number[] }[] = [];
  private scanBoxes: Int32Array = new Int32Array(0);
  /** Splits where one replica alone differs from the first, by its bit. */
  private loneSplits: Partition[] = [];

  // With kernels: the memory holding every framebuffer and the scan's buffers (null: JavaScript).
  private readonly arena: KernelArena | null;
  /** This engine's secret for tile fingerprints, drawn once (see FingerprintSeed). */
  private readonly fingerprintSeed: FingerprintSeed = randomFingerprintSeed();
  private readonly pixelBlocks = new Map<ReplicaFramebuffer, ArenaBlock>();
  /** The scan's inputs and outputs in the kernels' memory (sized by restructure). */
  private scanBlocks: {
    readonly differing: ArenaBlock;
    readonly boxes: ArenaBlock;
    readonly runs: ArenaBlock;
    /** The watched tiles, and per list index classify_many's states and latest change times. */
    readonly list: ArenaBlock;
    readonly states: ArenaBlock;
    readonly latestMs: ArenaBlock;
  } | null = null;
  /** The other replicas' framebuffer pointers, for the scan. */
  private readonly othersBlock: ArenaBlock | null;
  /** One box for grow_box. */
  private readonly boxBlock: ArenaBlock | null;
  /** Where a read-back puts the snapshots of one message (see stagingPixels). */
  private readbackStaging: ArenaBlock | null = null;
  /** Where `update` copies pixels from elsewhere before comparing them. */
  private updateStaging: ArenaBlock | null = null;
  /**
   * With kernels, `serials` and `watched` live in their memory (views re-bound by bindViews), so
   * that flush_cold notes each replica's cold changes itself (sized by restructure).
   */
  private notingBlocks: { readonly serials: ArenaBlock; readonly watched: ArenaBlock; readonly noting: KernelNoting } | null = null;

  constructor(options: DivergenceOptions = {}) {
    this.tileSizePx = options.tileSizePx ?? TILE_SIZE_PX;
    this.timing = {
      settleMs: options.settleMs ?? SETTLE_MS,
      blinkWindowMs: options.blinkWindowMs ?? BLINK_WINDOW_MS,
      maxBlinkStates: options.maxBlinkStates ?? MAX_BLINK_STATES,
    };
    this.confirmMs = options.confirmMs ?? CONFIRM_MS;
    this.tolerance = options.tolerance ?? null;
    this.ignoreRegions = options.ignoreRegions ?? [];
    if (!Number.isInteger(this.tileSizePx) || this.tileSizePx < 4 || this.tileSizePx > 256) throw new RangeError('tileSizePx must be an integer from 4 to 256');
    if (!(this.timing.settleMs >= 0 && this.confirmMs >= 0 && this.timing.blinkWindowMs > 0)) throw new RangeError('settleMs, confirmMs and blinkWindowMs must be non-negative');
    if (!Number.isInteger(this.timing.maxBlinkStates) || this.timing.maxBlinkStates < 2 || this.timing.maxBlinkStates > 16) throw new RangeError('maxBlinkStates must be an integer from 2 to 16');
    checkTolerance(this.tolerance);
    this.signatures = new Uint32Array(MAX_REPLICAS * 2 * this.timing.maxBlinkStates);
    this.arena = options.kernels?.createArena() ?? null;
    this.othersBlock = this.arena?.allocate(MAX_REPLICAS * 4) ?? null;
    this.boxBlock = this.arena?.allocate(16) ?? null;
  }

  /**
   * The earliest time at which a tick may change a verdict: a written tile settling (its last change
   * + settleMs), a disagreement confirming (first seen + confirmMs), a resize settling. Infinity when
   * none is due. Blink cycles are left to the caller's regular ticks. Ticking at this time, on top of
   * the regular ticks, makes verdicts come when they are due instead of up to one tick interval late.
   */
  get nextDecisionMs(): number {
    return this.decisionDueMs;
  }

  /** The current report. */
  get state(): DivergenceState {
    return { divergences: this.divergences, allAgree: this.divergences.length === 0 };
  }

  /**
   * Confirmed disagreements not reported yet: held back while more of the same split is about to
   * confirm (see rebuildReport; at most confirmMs). Their ids are empty until they are reported.
   */
  get heldDivergences(): readonly Divergence[] {
    return [...this.held.values()].map((entry) => entry.divergence);
  }

  /** Replica ids, in registration order. */
  get replicaIds(): readonly string[] {
    return [...this.replicas.keys()];
  }

  /**
   * Registers a replica, or gives it a new desktop size (its pixels start blank and unsettled).
   * Replicas whose size differs from the strict-majority size are reported (a 'size' divergence)
   * and left out of the pixel comparison. A change in who is compared judges every tile again;
   * confirmed divergences stay shown meanwhile.
   */
  setReplicaSize(replicaId: string, widthPx: number, heightPx: number, nowMs: number): void {
    if (!Number.isInteger(widthPx) || !Number.isInteger(heightPx) || widthPx < 1 || heightPx < 1) throw new RangeError(`bad desktop size ${widthPx}×${heightPx}`);
    const known = this.replicas.get(replicaId);
    if (known !== undefined && known.widthPx === widthPx && known.heightPx === heightPx) return;
    if (known === undefined && this.replicas.size >= MAX_REPLICAS) throw new RangeError(`at most ${MAX_REPLICAS} replicas`);
    // One copy per replica: the old size's block is given back before the new one is taken.
    if (known !== undefined) this.releasePixels(known);
    let block: ArenaBlock | undefined;
    let replica: ReplicaFramebuffer;
    try {
      block = this.arena?.allocate(widthPx * heightPx * 4);
      replica = new ReplicaFramebuffer(replicaId, widthPx, heightPx, this.tileSizePx, this.maskGrid(widthPx, heightPx), nowMs, this.timing.maxBlinkStates, block, this.arena, this.fingerprintSeed);
    } catch (error) {
      // The memory could not grow (the runtime's limit): nothing is kept half made, and the replica,
      // its old blocks already given back, is dropped rather than left pointing at freed memory.
      if (block !== undefined) this.arena!.release(block);
      if (known !== undefined) {
        this.replicas.delete(replicaId);
        this.restructure();
      }
      throw error;
    }
    if (block !== undefined) this.pixelBlocks.set(replica, block);
    this.replicas.set(replicaId, replica);
    this.lastResizeMs = nowMs;
    this.decisionDueMs = Math.min(this.decisionDueMs, nowMs + this.timing.settleMs);
    this.restructure();
  }

  /** Forgets a replica (disconnected, removed from the profile). */
  removeReplica(replicaId: string, nowMs: number): void {
    const known = this.replicas.get(replicaId);
    if (known === undefined) return;
    this.replicas.delete(replicaId);
    this.releasePixels(known);
    this.lastResizeMs = nowMs;
    this.decisionDueMs = Math.min(this.decisionDueMs, nowMs + this.timing.settleMs);
    this.restructure();
  }

  /**
   * Copies a damaged rectangle into the replica's framebuffer. `pixels` holds rect.width×rect.height
   * RGBA pixels, row by row (ImageData.data of that rectangle), or BGRA ones when every pixel this
   * engine is given is BGRA (the verdicts do not depend on the order: pixel-order.ts). Call once per rectangle of a
   * framebuffer update, all with the same `nowMs`. Parts outside the framebuffer are dropped; tiles
   * whose pixels the rectangle repeats unchanged are not written (no change: ReplicaFramebuffer.write).
   * With the kernels, pixels not already in their memory (`stagingPixels`) are copied there first,
   * where changed_tiles compares them with the framebuffer.
   */
  update(replicaId: string, rect: PixelRect, pixels: RgbaPixels, nowMs: number): void {
    const replica = this.replicas.get(replicaId);
    if (replica === undefined) throw new RangeError(`unknown replica ${replicaId}`);
    if (![rect.x, rect.y, rect.width, rect.height].every(Number.isInteger) || rect.width < 0 || rect.height < 0) throw new RangeError('rect must be whole pixels');
    if (pixels.length !== rect.width * rect.height * 4) throw new RangeError(`expected ${rect.width * rect.height * 4} bytes for a ${rect.width}×${rect.height} rectangle, got ${pixels.length}`);
    const clipped = clipToFramebuffer(rect, replica.widthPx, replica.heightPx);
    if (clipped === null) return;
    let source: RgbaPixels = pixels;
    if (this.arena !== null && (pixels.buffer !== this.arena.buffer || pixels.byteOffset % 4 !== 0)) {
      // Staged in the kernels' memory (this may grow it: before any view is bound below). The block
      // doubles when it grows, so a stream of larger rectangles leaves few holes behind.
      const block = this.grownStaging(this.updateStaging, pixels.length, 2 * (this.updateStaging?.bytes ?? 0));
      this.updateStaging = block;
      source = new Uint8ClampedArray(this.arena.buffer, block.offset, pixels.length);
      source.set(pixels);
      this.stats.stagedBytes += pixels.length;
    }
    this.bindViews();
    const words = source.byteOffset % 4 === 0 ? new Uint32Array(source.buffer, source.byteOffset, source.length / 4) : new Uint32Array(Uint8Array.from(source).buffer);
    const offset = (clipped.y - rect.y) * rect.width + (clipped.x - rect.x);
    this.changedTiles.clear();
    const written = replica.write(clipped, words, rect.width, offset, nowMs, this.timing.blinkWindowMs, this.changedTiles);
    // Whether a written tile changed is known only at the next tick: assume it did (at worst one tick for nothing).
    if (written > 0) this.decisionDueMs = Math.min(this.decisionDueMs, nowMs + this.timing.settleMs);
    this.noteChanges(replica);
  }

  /**
   * A view of `bytes` bytes in the kernels' memory, for pixels about to be given to `update`: a
   * read-back written straight into it is compared with the framebuffer without another copy (the
   * worker puts all the snapshots of one message there, one after the other). One block, kept and
   * grown when asked for more, to at least the largest framebuffer's size so that it rarely grows
   * (the kernels' memory never shrinks: each block it outgrows stays behind as free space). The
   * view is valid until the next call that may allocate (a larger request, a replica resized): ask
   * again rather than keep it. Null without the kernels (then any array will do).
   */
  stagingPixels(bytes: number): Uint8ClampedArray | null {
    if (this.arena === null) return null;
    if (!Number.isInteger(bytes) || bytes < 0) throw new RangeError(`bad staging size ${bytes}`);
    let largest = 0;
    for (const replica of this.replicas.values()) largest = Math.max(largest, replica.widthPx * replica.heightPx * 4);
    this.readbackStaging = this.grownStaging(this.readbackStaging, bytes, largest);
    return new Uint8ClampedArray(this.arena.buffer, this.readbackStaging.offset, bytes);
  }

  /** `block` when it holds `bytes`; otherwise it is given back and a block of at least `atLeast` taken. */
  private grownStaging(block: ArenaBlock | null, bytes: number, atLeast: number): ArenaBlock {
    if (block !== null && block.bytes >= bytes) return block;
    if (block !== null) this.arena!.release(block);
    return this.arena!.allocate(Math.max(bytes, atLeast, 16));
  }

  /** Registers/resizes a replica and replaces its whole framebuffer (tests, benchmarks, reconnects). */
  setFrame(replicaId: string, widthPx: number, heightPx: number, pixels: RgbaPixels, nowMs: number): void {
    this.setReplicaSize(replicaId, widthPx, heightPx, nowMs);
    this.update(replicaId, { x: 0, y: 0, width: widthPx, height: heightPx }, pixels, nowMs);
  }

  /** Replaces the ignore regions; every tile is judged again. */
  setIgnoreRegions(regions: readonly PixelRect[]): void {
    this.ignoreRegions = [...regions];
    this.maskGrids.clear();
    for (const replica of this.replicas.values()) {
      replica.masks = this.maskGrid(replica.widthPx, replica.heightPx);
      replica.forgetFingerprints();
    }
    this.masks = this.participants[0]?.masks ?? null;
    this.bindViews();
    this.rejudgeAll();
  }

  /** Switches between exact comparison (null) and a tolerance; every tile is judged again. */
  setTolerance(tolerance: Tolerance | null): void {
    checkTolerance(tolerance);
    this.tolerance = tolerance;
    this.bindViews();
    this.rejudgeAll();
  }

  /**
   * Judges what is due at `nowMs`: tiles nobody changed for the settle window (or that settled
   * into a blink cycle), the desktop sizes; confirms or clears disagreements. Returns the changes
   * in the report.
   */
  tick(nowMs: number): DivergenceEvent[] {
    this.decisionDueMs = Infinity;
    this.bindViews();
    const noting = this.notingBlocks?.noting ?? null;
    for (const replica of this.replicas.values()) {
      this.changedTiles.clear();
      if (noting !== null && this.participants.includes(replica)) {
        // The kernel noted the cold changes; the tiles it newly watched join the list here.
        noting.newlyWatched.clear();
        replica.flush(this.timing.blinkWindowMs, this.changedTiles, noting);
        this.watchTiles.set(noting.newlyWatched.tiles.subarray(0, noting.newlyWatched.count), this.watchCount);
        this.watchCount += noting.newlyWatched.count;
      } else replica.flush(this.timing.blinkWindowMs, this.changedTiles);
      this.noteChanges(replica);
    }
    this.judgeSizes(nowMs);
    // The list is swapped for the empty spare: judging a tile may watch it again, for the next tick.
    const list = this.watchTiles;
    const listed = this.watchCount;
    this.stats.lastTickTiles = listed;
    this.watchTiles = this.spareWatchTiles;
    this.spareWatchTiles = list;
    this.watchCount = 0;
    // Every listed tile classified on every compared replica first, one tight loop per replica.
    // (With the kernels, in their memory: the list copied in, classify_many per replica.)
    const blocks = this.scanBlocks;
    const states = blocks?.states.bytesView() ?? this.listStates;
    const latestMs = blocks?.latestMs.doubles() ?? this.listLatestMs;
    states.fill(0, 0, listed);
    latestMs.fill(-Infinity, 0, listed);
    if (this.participants.length >= 2) {
      if (blocks !== null) {
        blocks.list.ints().set(list.subarray(0, listed));
        for (const replica of this.participants) replica.classifyManyInKernel(blocks.list.offset, listed, nowMs, this.timing, blocks.states.offset, blocks.latestMs.offset);
      } else for (const replica of this.participants) replica.classifyMany(list, listed, nowMs, this.timing, states, latestMs);
    }
    const batch = this.batchTiles;
    let batched = 0;
    // observe's common case inline (every replica settled, the tile compared whole): a tile whose
    // pixels changed since its last comparison goes to the batch, any other keeps its observation.
    const { watched, serials, cachedSerials, cachedObservations, quietTiles } = this;
    const latestChangeMs = this.latestChangeMs;
    const judging = this.participants.length >= 2;
    const kinds = this.masks === null || this.masks.allCompared ? null : this.masks.kinds;
    for (let index = 0; index < listed; index++) {
      const tile = list[index]!;
      watched[tile] = 0;
      if (judging && states[index] === 0 && (kinds === null || kinds[tile] !== TILE_IGNORED)) {
        latestChangeMs[tile] = latestMs[index]!;
        if (cachedSerials[tile] !== serials[tile]) {
          quietTiles[tile] = 1;
          batch[batched++] = tile;
        } else this.apply(tile, cachedObservations[tile]!, nowMs, true);
        continue;
      }
      const observation = this.observe(tile, nowMs, states[index]!, latestMs[index]!);
      if (observation === NEEDS_PIXELS) {
        quietTiles[tile] = 0;
        batch[batched++] = tile;
      } else this.apply(tile, observation, nowMs, false, latestMs[index]! + this.timing.settleMs);
    }
    if (batched > 0) this.comparePixelBatch(batch, batched, nowMs);
    // A held split is looked at again on every tick (its pending tiles may have cleared).
    if (!this.reportChanged && this.held.size === 0) return [];
    this.reportChanged = false;
    return this.rebuildReport(nowMs);
  }

  /** With kernels, points `serials` and `watched` at their blocks again (the memory may have grown). */
  private bindViews(): void {
    const blocks = this.notingBlocks;
    if (blocks === null) return;
    this.serials = blocks.serials.words();
    this.watched = blocks.watched.bytesView();
  }

  /** Gives a replica's framebuffer block back to the arena (the replica is gone or replaced). */
  private releasePixels(replica: ReplicaFramebuffer): void {
    const block = this.pixelBlocks.get(replica);
    if (block === undefined) return;
    this.pixelBlocks.delete(replica);
    this.arena!.release(block);
    replica.release();
  }

  private maskGrid(widthPx: number, heightPx: number): MaskGrid {
    const key = `${widthPx}x${heightPx}`;
    let grid = this.maskGrids.get(key);
    if (grid === undefined) {
      grid = new MaskGrid(this.ignoreRegions, widthPx, heightPx, this.tileSizePx);
      this.maskGrids.set(key, grid);
    }
    return grid;
  }

  /** Recomputes who is compared (replicas with the strict-majority size) and resets the tiles. */
  private restructure(): void {
    const all = [...this.replicas.values()];
    const bySize = new Map<string, ReplicaFramebuffer[]>();
    for (const replica of all) {
      const key = `${replica.widthPx}x${replica.heightPx}`;
      const group = bySize.get(key) ?? [];
      group.push(replica);
      bySize.set(key, group);
    }
    const majority = [...bySize.values()].find((group) => group.length * 2 > all.length) ?? [];
    const order = all.map((replica) => replica.id);
    this.sizeSplit = all.length >= 2 ? { registry: new PartitionRegistry(order, all.length), order } : null;
    this.sizeVerdict = this.sizeVerdict.name === 'diverged' ? { ...this.sizeVerdict, next: null } : UNJUDGED;
    const sameParticipants = majority.length === this.participants.length && majority.every((replica, index) => this.participants[index] === replica);
    if (sameParticipants && this.replicaCountCompared === all.length) {
      // The memory may have grown for a new block: the views are re-bound all the same.
      this.bindViews();
      return;
    }
    const reference = majority[0];
    const sameGrid = reference !== undefined && reference.columns === this.columns && reference.tileCount === this.tileCount;
    const previous = { verdicts: this.verdicts, boxes: this.boxes };
    this.replicaCountCompared = all.length;
    this.participants = majority;
    this.registry = new PartitionRegistry(
      majority.map((replica) => replica.id),
      all.length,
    );
    this.columns = reference?.columns ?? 0;
    this.tileCount = reference?.tileCount ?? 0;
    this.masks = reference?.masks ?? null;
    this.verdicts = new Array<Verdict>(this.tileCount).fill(UNJUDGED);
    this.steadyPartitions = new Array<Partition | null>(this.tileCount).fill(null);
    this.boxes = new Int32Array(this.tileCount * 4);
    this.differing = new Uint32Array(this.tileCount);
    this.scanGroups = [];
    // (JavaScript only: its framebuffers never move; the kernels' are found by offset at each scan.)
    for (let index = 1; index < majority.length && this.arena === null; index += SCAN_WIDTH) {
      const members = majority.slice(index, index + SCAN_WIDTH);
      this.scanGroups.push({ others: members.map((replica) => replica.pixels), bits: members.map((_, offset) => 1 << (index + offset)) });
    }
    this.scanBoxes = new Int32Array(this.tileCount * 4);
    if (this.arena !== null) {
      if (this.scanBlocks !== null) for (const block of Object.values(this.scanBlocks)) this.arena.release(block);
      this.scanBlocks = {
        differing: this.arena.allocate(this.tileCount * 4),
        boxes: this.arena.allocate(this.tileCount * 16),
        runs: this.arena.allocate(this.tileCount * RUN_RECORD_BYTES),
        list: this.arena.allocate(this.tileCount * 4),
        states: this.arena.allocate(this.tileCount),
        latestMs: this.arena.allocate(this.tileCount * 8),
      };
      this.differing = new Uint32Array(0);
      this.scanBoxes = new Int32Array(0);
    }
    this.loneSplits = [];
    if (this.arena !== null) {
      if (this.notingBlocks !== null) {
        this.arena.release(this.notingBlocks.serials);
        this.arena.release(this.notingBlocks.watched);
      }
      const serials = this.arena.allocate(this.tileCount * 4);
      const watched = this.arena.allocate(this.tileCount);
      this.notingBlocks = { serials, watched, noting: { serials: serials.offset, watched: watched.offset, newlyWatched: new TileList() } };
      this.bindViews();
    } else {
      this.serials = new Uint32Array(this.tileCount);
      this.watched = new Uint8Array(this.tileCount);
    }
    this.cachedSerials = new Float64Array(this.tileCount).fill(-1);
    this.cachedObservations = new Array<Observation>(this.tileCount).fill(UNJUDGEABLE);
    this.latestChangeMs = new Float64Array(this.tileCount);
    this.watchTiles = new Int32Array(this.tileCount);
    this.spareWatchTiles = new Int32Array(this.tileCount);
    this.watchCount = 0;
    this.batchTiles = new Int32Array(this.tileCount);
    this.listStates = new Uint8Array(this.tileCount);
    this.listLatestMs = new Float64Array(this.tileCount);
    this.fastTiles = new Int32Array(this.tileCount);
    this.quietTiles = new Uint8Array(this.tileCount);
    for (let tile = 0; tile < this.tileCount; tile++) this.watch(tile);
    // Same screen geometry: confirmed divergences stay shown (their splits restated over the
    // replicas now compared) until their tiles are judged again, so a replica joining or leaving
    // does not flash a false "consensus".
    if (sameGrid) this.carryOver(previous.verdicts, previous.boxes);
    this.reportChanged = true;
  }

  /** Keeps confirmed divergences across a change of who is compared (see `restate`). */
  private carryOver(verdicts: readonly Verdict[], boxes: Int32Array): void {
    const restated = new Map<Partition, Partition | null>();
    const ids = this.participants.map((replica) => replica.id);
    for (let tile = 0; tile < this.tileCount; tile++) {
      const verdict = verdicts[tile]!;
      if (verdict.name !== 'diverged') continue;
      let partition = restated.get(verdict.partition);
      if (partition === undefined) {
        partition = this.restate(verdict.partition, ids);
        restated.set(verdict.partition, partition);
      }
      if (partition === null) continue;
      this.verdicts[tile] = { name: 'diverged', partition, sinceMs: verdict.sinceMs, next: null };
      this.steadyPartitions[tile] = partition;
      this.boxes.set(boxes.subarray(tile * 4, tile * 4 + 4), tile * 4);
    }
  }

  /**
   * The same split over the replicas compared now, until judged again: a replica that left is
   * dropped; a newcomer is assumed to side with the majority (or, without one, to stand alone, so
   * that no majority is invented). Null when nobody is split any more.
   */
  private restate(partition: Partition, ids: readonly string[]): Partition | null {
    const groupOf = new Map<string, number>();
    partition.groups.forEach((group, index) => group.forEach((id) => groupOf.set(id, index)));
    const renumbered = new Map<number, number>();
    let loners = partition.groups.length;
    for (const [index, id] of ids.entries()) {
      const group = groupOf.get(id) ?? (partition.noMajority ? loners++ : 0);
      if (!renumbered.has(group)) renumbered.set(group, renumbered.size);
      this.labels[index] = renumbered.get(group)!;
    }
    return renumbered.size < 2 ? null : this.registry!.fromLabels(this.labels);
  }

  private rejudgeAll(): void {
    this.cachedSerials.fill(-1);
    for (let tile = 0; tile < this.tileCount; tile++) this.watch(tile);
  }

  private watch(tile: number): void {
    if (this.watched[tile] === 1) return;
    this.watched[tile] = 1;
    this.watchTiles[this.watchCount++] = tile;
  }

  private noteChanges(replica: ReplicaFramebuffer): void {
    const changed = this.changedTiles;
    if (changed.count === 0 || !this.participants.includes(replica)) return;
    // watch() inline, over locals: this runs for every changed tile of every replica.
    const { serials, watched, watchTiles } = this;
    const tiles = changed.tiles;
    let watchCount = this.watchCount;
    for (let index = 0; index < changed.count; index++) {
      const tile = tiles[index]!;
      serials[tile] = serials[tile]! + 1;
      if (watched[tile] === 1) continue;
      watched[tile] = 1;
      watchTiles[watchCount++] = tile;
    }
    this.watchCount = watchCount;
  }

  private judgeSizes(nowMs: number): void {
    let observation: Observation = UNJUDGEABLE;
    const split = this.sizeSplit;
    if (split === null) observation = AGREE;
    else if (nowMs - this.lastResizeMs >= this.timing.settleMs) {
      const keys: string[] = [];
      split.order.forEach((id, index) => {
        const replica = this.replicas.get(id)!;
        const key = `${replica.widthPx}x${replica.heightPx}`;
        let label = keys.indexOf(key);
        if (label < 0) label = keys.push(key) - 1;
        this.labels[index] = label;
      });
      observation = keys.length === 1 ? AGREE : split.registry.fromLabels(this.labels).disagreement;
    }
    const next = nextVerdict(this.sizeVerdict, observation, nowMs, this.confirmMs);
    if (next !== this.sizeVerdict && (next.name === 'diverged' || this.sizeVerdict.name === 'diverged')) this.reportChanged = true;
    this.sizeVerdict = next;
    if (observation === UNJUDGEABLE) this.noteDecision(this.lastResizeMs + this.timing.settleMs, nowMs);
    this.noteVerdictDecision(next, nowMs);
  }

  /**
   * Applies one tile's observation to its verdict, and keeps watching the tile while needed.
   * `quiet`: every replica's tile was plainly settled, so nothing but a new write can change the
   * observation; otherwise a tile that changed within the blink window stays watched.
   * `settleDueMs`: when the tile will have been still for settleMs on every compared replica, if the
   * caller knows (classifyMany found the latest change); looked up otherwise.
   */
  private apply(tile: number, observation: Observation, nowMs: number, quiet = false, settleDueMs = Number.NaN): void {
    const before = this.verdicts[tile]!;
    const after = nextVerdict(before, observation, nowMs, this.confirmMs);
    if (after !== before) {
      this.verdicts[tile] = after;
      this.steadyPartitions[tile] = after.name === 'diverged' && after.next === null ? after.partition : null;
      if (after.name === 'diverged' || before.name === 'diverged') this.reportChanged = true;
    }
    if (observation === UNJUDGEABLE || after.name === 'pending' || (after.name === 'diverged' && after.next !== null)) {
      if (observation === UNJUDGEABLE) this.noteDecision(Number.isNaN(settleDueMs) ? this.settleDueMs(tile) : settleDueMs, nowMs);
      this.noteVerdictDecision(after, nowMs);
      this.watch(tile);
      return;
    }
    // Recently changed somewhere: it may yet turn out to blink, or a mixed tile may become judgeable.
    if (!quiet && nowMs - this.latestChangeMs[tile]! < this.timing.blinkWindowMs) this.watch(tile);
  }

  /** A decision falls due at `dueMs` (ignored unless it is still ahead of `nowMs`). */
  private noteDecision(dueMs: number, nowMs: number): void {
    if (dueMs > nowMs && dueMs < this.decisionDueMs) this.decisionDueMs = dueMs;
  }

  /** A pending disagreement (or a replacement being confirmed) falls due confirmMs after it was first seen. */
  private noteVerdictDecision(verdict: Verdict, nowMs: number): void {
    if (verdict.name === 'pending') this.noteDecision(verdict.sinceMs + this.confirmMs, nowMs);
    else if (verdict.name === 'diverged' && verdict.next !== null) this.noteDecision(verdict.next.sinceMs + this.confirmMs, nowMs);
  }

  /** When a tile last changed on any compared replica, plus the settle window. */
  private settleDueMs(tile: number): number {
    let latestChangeMs = -Infinity;
    for (const replica of this.participants) latestChangeMs = Math.max(latestChangeMs, replica.lastChangeMs(tile));
    return latestChangeMs + this.timing.settleMs;
  }

  /**
   * One tile's observation at `nowMs`; `states` and `latestChangeMs` are classifyMany's findings for
   * it over the compared replicas: only a tile that may be cycling is classified again one by one.
   */
  private observe(tile: number, nowMs: number, states: number, latestChangeMs: number): Observation {
    const participants = this.participants;
    const count = participants.length;
    if (count < 2 || this.masks?.kinds[tile] === TILE_IGNORED) return AGREE;
    if ((states & CLASSIFY_MAYBE_CYCLING) === 0) {
      if ((states & CLASSIFY_CHANGING) !== 0) return UNJUDGEABLE;
      this.latestChangeMs[tile] = latestChangeMs;
      if (this.cachedSerials[tile] === this.serials[tile]) return this.cachedObservations[tile]!;
      return NEEDS_PIXELS;
    }
    return this.observeOneByOne(tile, nowMs);
  }

  /** `observe` where some replica may be cycling: each replica's tile classified in full. */
  private observeOneByOne(tile: number, nowMs: number): Observation {
    const participants = this.participants;
    const count = participants.length;
    const stride = 2 * this.timing.maxBlinkStates;
    let allSettled = true;
    let latestChangeMs = -Infinity;
    for (let index = 0; index < count; index++) {
      const replica = participants[index]!;
      const tileClass = replica.classify(tile, nowMs, this.timing, this.signatures, index * stride);
      if (tileClass === TILE_CHANGING) return UNJUDGEABLE;
      latestChangeMs = Math.max(latestChangeMs, replica.lastChangeMs(tile));
      this.classes[index] = tileClass;
      if (tileClass === TILE_CYCLING) {
        allSettled = false;
        this.signatureLengths[index] = replica.signatureLength;
      }
    }
    this.latestChangeMs[tile] = latestChangeMs;
    if (!allSettled) return this.compareCycles(tile, nowMs);
    if (this.cachedSerials[tile] === this.serials[tile]) return this.cachedObservations[tile]!;
    return NEEDS_PIXELS;
  }

  /**
   * Compares the pixels of settled tiles, many at once: one flat pass per framebuffer row finds,
   * for every other replica, the tiles where it differs from the first replica and the box of those
   * differences; only tiles with a difference are then looked at tile by tile.
   */
  private comparePixelBatch(batch: Int32Array, batched: number, nowMs: number): void {
    const participants = this.participants;
    const first = participants[0]!;
    const widthPx = first.widthPx;
    const size = this.tileSizePx;
    const columns = this.columns;
    // With kernels, the scan's buffers are views of the kernels' memory, bound afresh (the memory
    // may have grown since); nothing allocated there before the next tick.
    if (this.scanBlocks !== null) {
      this.differing = this.scanBlocks.differing.words();
      this.scanBoxes = this.scanBlocks.boxes.ints();
    }
    const differing = this.differing;
    const scanBoxes = this.scanBoxes;
    // Tile kinds only matter where some ignore region covers a tile.
    const kinds = this.masks === null || this.masks.allCompared ? null : this.masks.kinds;
    const maxDelta = this.tolerance === null ? -1 : this.tolerance.maxChannelDelta;
    // Sorted tiles make long runs (any order is correct); they mostly come sorted already.
    let sorted = true;
    for (let index = 1; index < batched && sorted; index++) sorted = batch[index - 1]! < batch[index]!;
    if (!sorted) batch.subarray(0, batched).sort();
    // Without ignore regions every tile takes the fast path: the batch is the list as it is.
    let fast = batch;
    let fastCount = batched;
    if (kinds !== null) {
      fast = this.fastTiles;
      fastCount = 0;
      for (let index = 0; index < batched; index++) {
        const tile = batch[index]!;
        if (kinds[tile] !== TILE_COMPARED) this.settlePixels(tile, this.comparePixels(tile, ALL_DIFFER), nowMs);
        else fast[fastCount++] = tile;
      }
    }
    // (The kernel's scan clears its tiles' bits and boxes itself.)
    if (this.scanBlocks === null) {
      for (let index = 0; index < fastCount; index++) {
        const tile = fast[index]!;
        differing[tile] = 0;
        scanBoxes[tile * 4] = scanBoxes[tile * 4 + 1] = 0x7fffffff;
        scanBoxes[tile * 4 + 2] = scanBoxes[tile * 4 + 3] = -1;
      }
    }
    // Runs of adjacent tiles in one tile row, scanned row by row of pixels: each row of the first
    // replica stays in cache while the others' rows stream past it.
    const runs = this.scanBlocks?.runs.ints() ?? null;
    let runCount = 0;
    let start = 0;
    while (start < fastCount) {
      const row = Math.floor(fast[start]! / columns);
      let end = start;
      while (end + 1 < fastCount && fast[end + 1] === fast[end]! + 1 && Math.floor(fast[end + 1]! / columns) === row) end++;
      const fromPx = (fast[start]! - row * columns) * size;
      const toPx = Math.min(widthPx, (fast[end]! - row * columns + 1) * size);
      const lastY = Math.min(first.heightPx, (row + 1) * size);
      if (runs !== null) {
        // Recorded for the kernel: one call scans every run of this tick.
        const at = runCount * (RUN_RECORD_BYTES / 4);
        runs[at] = fromPx;
        runs[at + 1] = toPx;
        runs[at + 2] = row * size;
        runs[at + 3] = lastY;
        runs[at + 4] = row * columns;
        runCount += 1;
      } else {
        const pixels = first.pixels;
        for (let y = row * size; y < lastY; y++) {
          const rowStart = y * widthPx;
          for (const group of this.scanGroups) scanRowDifferences(pixels, group.others, group.bits, rowStart, y, fromPx, toPx, size, row * columns, maxDelta, differing, scanBoxes);
        }
      }
      start = end + 1;
    }
    if (runs !== null && runCount > 0) {
      const others = this.othersBlock!.words();
      for (let index = 1; index < participants.length; index++) others[index - 1] = this.pixelBlocks.get(participants[index]!)!.offset;
      this.arena!.scan(this.pixelBlocks.get(first)!.offset, this.othersBlock!.offset, participants.length - 1, this.scanBlocks!.runs.offset, runCount, widthPx, size, maxDelta, this.scanBlocks!.differing.offset, this.scanBlocks!.boxes.offset);
    }
    // With a tolerance of whole pixels only (no allowance), a set bit means "disagrees": the tile
    // is split like an exact one. An allowance needs counting, tile by tile.
    const counting = this.tolerance !== null && this.tolerance.maxDifferingPixelsPerTile > 0;
    // The common outcomes, inline over locals: a tile that agrees again, and a tile where the same
    // lone replica still differs from an already confirmed divergence. Their verdicts cannot change
    // (nextVerdict returns them as they are), so only the cache, the box and the watch are updated;
    // anything else goes through settlePixels.
    const { verdicts, steadyPartitions, serials, cachedSerials, cachedObservations, latestChangeMs, loneSplits, boxes, quietTiles } = this;
    const blinkWindowMs = this.timing.blinkWindowMs;
    for (let index = 0; index < fastCount; index++) {
      const tile = fast[index]!;
      const bits = differing[tile]!;
      if (bits === 0) {
        if (verdicts[tile] !== AGREED) {
          this.settlePixels(tile, AGREE, nowMs);
          continue;
        }
        cachedSerials[tile] = serials[tile]!;
        cachedObservations[tile] = AGREE;
      } else if (counting) {
        this.settlePixels(tile, this.comparePixels(tile, bits), nowMs);
        continue;
      } else {
        const lone = (bits & (bits - 1)) === 0 ? loneSplits[bits] : undefined;
        if (lone === undefined || steadyPartitions[tile] !== lone) {
          this.settlePixels(tile, this.splitDiffering(tile, bits), nowMs);
          continue;
        }
        cachedSerials[tile] = serials[tile]!;
        cachedObservations[tile] = lone.disagreement;
        const at = tile * 4;
        if (boxes[at] !== scanBoxes[at] || boxes[at + 1] !== scanBoxes[at + 1] || boxes[at + 2] !== scanBoxes[at + 2] || boxes[at + 3] !== scanBoxes[at + 3]) {
          boxes[at] = scanBoxes[at]!;
          boxes[at + 1] = scanBoxes[at + 1]!;
          boxes[at + 2] = scanBoxes[at + 2]!;
          boxes[at + 3] = scanBoxes[at + 3]!;
          this.reportChanged = true;
        }
      }
      // As in apply: recently changed somewhere, so it may yet turn out to blink (unless quiet).
      if (quietTiles[tile] === 0 && nowMs - latestChangeMs[tile]! < blinkWindowMs) this.watch(tile);
    }
    this.stats.comparedTiles += batched;
  }

  private settlePixels(tile: number, observation: Observation, nowMs: number): void {
    this.cachedSerials[tile] = this.serials[tile]!;
    this.cachedObservations[tile] = observation;
    this.apply(tile, observation, nowMs, this.quietTiles[tile] === 1);
  }

  /**
   * A tile where the replicas in `differingBits` differ from the first one (exactly, or beyond
   * the colour tolerance): groups those among themselves; the box found by the scan (differences
   * from the first replica, which are the differences from the majority) is the tile's box.
   */
  private splitDiffering(tile: number, differingBits: number): Observation {
    const at = tile * 4;
    this.storeBox(tile, this.scanBoxes[at]!, this.scanBoxes[at + 1]!, this.scanBoxes[at + 2]!, this.scanBoxes[at + 3]!);
    // One replica differs from the first: the split follows from the bits alone (the common case).
    if ((differingBits & (differingBits - 1)) === 0) {
      let partition = this.loneSplits[differingBits];
      if (partition === undefined) {
        for (let index = 0; index < this.participants.length; index++) this.labels[index] = differingBits === 1 << index ? 1 : 0;
        partition = this.registry!.fromLabels(this.labels);
        this.loneSplits[differingBits] = partition;
      }
      return partition.disagreement;
    }
    const participants = this.participants;
    const reference = participants[0]!;
    const left = reference.tileLeft(tile);
    const top = reference.tileTop(tile);
    const width = reference.tileWidth(tile);
    const height = reference.tileHeight(tile);
    let groups = 1;
    this.representatives[0] = 0;
    this.labels[0] = 0;
    for (let index = 1; index < participants.length; index++) {
      if ((differingBits & (1 << index)) === 0) {
        this.labels[index] = 0;
        continue;
      }
      let label = -1;
      for (let group = 1; group < groups && label < 0; group++) {
        if (this.agree(participants[this.representatives[group]!]!, participants[index]!, left, top, width, height, null)) label = group;
      }
      if (label < 0) {
        label = groups;
        this.representatives[groups] = index;
        groups += 1;
      }
      this.labels[index] = label;
    }
    return this.registry!.fromLabels(this.labels).disagreement;
  }

  /**
   * All replicas settled: groups them by one tile's pixels (exact, or within the tolerance; with
   * masks). Replicas whose bit is clear in `differingBits` are known to be identical to the first.
   */
  private comparePixels(tile: number, differingBits: number): Observation {
    const participants = this.participants;
    const count = participants.length;
    const reference = participants[0]!;
    const left = reference.tileLeft(tile);
    const top = reference.tileTop(tile);
    const width = reference.tileWidth(tile);
    const height = reference.tileHeight(tile);
    const stride = reference.widthPx;
    const mask = this.masks?.maskOf(tile) ?? null;
    const tolerance = this.tolerance;
    let groups = 0;
    for (let index = 0; index < count; index++) {
      if (index > 0 && (differingBits & (1 << index)) === 0) {
        this.labels[index] = 0;
        continue;
      }
      let label = -1;
      for (let group = 0; group < groups && label < 0; group++) {
        if (this.agree(participants[this.representatives[group]!]!, participants[index]!, left, top, width, height, mask)) label = group;
      }
      if (label < 0) {
        label = groups;
        this.representatives[groups] = index;
        groups += 1;
      }
      this.labels[index] = label;
    }
    if (groups === 1) return AGREE;
    const partition = this.registry!.fromLabels(this.labels);
    // Box the pixels where any group differs from the majority (or from the first group).
    const base = this.majorityLabel(partition, groups);
    const box = this.box;
    box[0] = left + width;
    box[1] = top + height;
    box[2] = left;
    box[3] = top;
    const maxDelta = tolerance === null ? -1 : tolerance.maxChannelDelta;
    const baseReplica = participants[this.representatives[base]!]!;
    if (this.arena !== null && mask === null) {
      // The kernel grows a box in its own memory: in with the start values, out with the result.
      const kernelBox = this.boxBlock!.ints();
      kernelBox.set(box);
      for (let group = 0; group < groups; group++) {
        if (group === base) continue;
        this.arena.growBox(this.pixelBlocks.get(baseReplica)!.offset, this.pixelBlocks.get(participants[this.representatives[group]!]!)!.offset, stride, left, top, width, height, maxDelta, this.boxBlock!.offset);
      }
      box.set(this.boxBlock!.ints());
    } else {
      const basePixels = baseReplica.pixels;
      for (let group = 0; group < groups; group++) {
        if (group === base) continue;
        growDifferenceBox(basePixels, participants[this.representatives[group]!]!.pixels, stride, left, top, width, height, maxDelta, mask, this.tileSizePx, box);
      }
    }
    if (box[2] <= box[0]) this.storeBox(tile, left, top, left + width, top + height);
    else this.storeBox(tile, box[0], box[1], box[2], box[3]);
    return partition.disagreement;
  }

  /**
   * Whether two replicas agree on a tile (exact, or within the tolerance; with the tile's mask):
   * the kernel when there is one and no mask (masked tiles are rare: JavaScript, on the same memory).
   */
  private agree(first: ReplicaFramebuffer, second: ReplicaFramebuffer, left: number, top: number, width: number, height: number, mask: TileMask | null): boolean {
    const tolerance = this.tolerance;
    if (this.arena !== null && mask === null) {
      const maxDelta = tolerance === null ? -1 : tolerance.maxChannelDelta;
      const allowed = tolerance === null ? 0 : tolerance.maxDifferingPixelsPerTile;
      return this.arena.tilesAgree(this.pixelBlocks.get(first)!.offset, this.pixelBlocks.get(second)!.offset, first.widthPx, left, top, width, height, maxDelta, allowed);
    }
    return tilesAgree(first.pixels, second.pixels, first.widthPx, left, top, width, height, tolerance, mask, this.tileSizePx);
  }

  private majorityLabel(partition: Partition, groups: number): number {
    if (partition.noMajority) return 0;
    for (let group = 0; group < groups; group++) {
      if (partition.agreeing[0] === this.participants[this.representatives[group]!]!.id) return group;
    }
    return 0;
  }

  /**
   * Some replica's tile is cycling (blinking): replicas agree when they cycle through the same set
   * of states, whatever their phase; a settled replica's set is its one current state.
   */
  private compareCycles(tile: number, nowMs: number): Observation {
    const participants = this.participants;
    const count = participants.length;
    const stride = 2 * this.timing.maxBlinkStates;
    for (let index = 0; index < count; index++) {
      if (this.classes[index] !== TILE_SETTLED) continue;
      participants[index]!.currentFingerprint(tile, this.signatures, index * stride);
      this.signatureLengths[index] = 1;
    }
    // A replica that stopped changing only lately, on a state another replica is still cycling
    // through, may just have stopped a moment earlier than the others: wait until it has been still
    // for a whole blink window before calling that a difference.
    for (let index = 0; index < count; index++) {
      if (this.classes[index] !== TILE_SETTLED || nowMs - participants[index]!.lastChangeMs(tile) >= this.timing.blinkWindowMs) continue;
      for (let other = 0; other < count; other++) {
        if (this.classes[other] === TILE_CYCLING && this.signatureHolds(other, index * stride)) return UNJUDGEABLE;
      }
    }
    let groups = 0;
    for (let index = 0; index < count; index++) {
      let label = -1;
      for (let group = 0; group < groups && label < 0; group++) if (this.sameSignature(this.representatives[group]!, index)) label = group;
      if (label < 0) {
        label = groups;
        this.representatives[groups] = index;
        groups += 1;
      }
      this.labels[index] = label;
    }
    if (groups === 1) return AGREE;
    // Fingerprints are exact: under a tolerance, different states may still be "equal enough".
    if (this.tolerance !== null) return UNJUDGEABLE;
    const reference = participants[0]!;
    const left = reference.tileLeft(tile);
    const top = reference.tileTop(tile);
    this.storeBox(tile, left, top, left + reference.tileWidth(tile), top + reference.tileHeight(tile));
    return this.registry!.fromLabels(this.labels).disagreement;
  }

  private signatureHolds(index: number, fingerprintOffset: number): boolean {
    const offset = index * 2 * this.timing.maxBlinkStates;
    const low = this.signatures[fingerprintOffset];
    const high = this.signatures[fingerprintOffset + 1];
    for (let state = 0; state < this.signatureLengths[index]!; state++) {
      if (this.signatures[offset + 2 * state] === low && this.signatures[offset + 2 * state + 1] === high) return true;
    }
    return false;
  }

  private sameSignature(first: number, second: number): boolean {
    const length = this.signatureLengths[first]!;
    if (length !== this.signatureLengths[second]) return false;
    const stride = 2 * this.timing.maxBlinkStates;
    for (let word = 0; word < 2 * length; word++) {
      if (this.signatures[first * stride + word] !== this.signatures[second * stride + word]) return false;
    }
    return true;
  }

  private storeBox(tile: number, left: number, top: number, right: number, bottom: number): void {
    const at = tile * 4;
    const boxes = this.boxes;
    if (boxes[at] === left && boxes[at + 1] === top && boxes[at + 2] === right && boxes[at + 3] === bottom) return;
    boxes[at] = left;
    boxes[at + 1] = top;
    boxes[at + 2] = right;
    boxes[at + 3] = bottom;
    if (this.verdicts[tile]!.name === 'diverged') this.reportChanged = true;
  }

  /**
   * Groups diverged tiles by split into divergences; returns how the report changed. A split seen
   * for the first time is held back (not reported, not in `state`) while some other tile with the
   * same split is still pending — it will confirm (or clear) within confirmMs — so the divergence is
   * reported once, with the whole settled region, instead of as a sliver followed by "changed"
   * events. A held split is reported at the latest confirmMs after it was first confirmed.
   */
  private rebuildReport(nowMs: number): DivergenceEvent[] {
    const byPartition = new Map<Partition, { tiles: number[]; sinceMs: number }>();
    const pendingKeys = new Set<string>();
    for (let tile = 0; tile < this.tileCount; tile++) {
      const verdict = this.verdicts[tile]!;
      if (verdict.name === 'pending') pendingKeys.add(divergenceKey('pixels', verdict.partition));
      if (verdict.name !== 'diverged') continue;
      const entry = byPartition.get(verdict.partition);
      if (entry === undefined) byPartition.set(verdict.partition, { tiles: [tile], sinceMs: verdict.sinceMs });
      else {
        entry.tiles.push(tile);
        entry.sinceMs = Math.min(entry.sinceMs, verdict.sinceMs);
      }
    }
    const previous = new Map(this.reportedByKey);
    this.reportedByKey.clear();
    const previousHeld = this.held;
    this.held = new Map();
    const next: Divergence[] = [];
    const events: DivergenceEvent[] = [];
    const add = (kind: Divergence['kind'], partition: Partition, regions: PixelRect[], sinceMs: number, sizes: ReplicaSize[]): void => {
      // Keyed by who is out and how (the majority may gain or lose members without a new divergence).
      const key = divergenceKey(kind, partition);
      const before = previous.get(key);
      previous.delete(key);
      const fields = { kind, regions, outliers: partition.outliers, agreeing: partition.agreeing, groups: partition.groups, noMajority: partition.noMajority, sizes };
      if (before === undefined) {
        const heldSinceMs = previousHeld.get(key)?.heldSinceMs ?? nowMs;
        if (kind === 'pixels' && pendingKeys.has(key) && nowMs - heldSinceMs < this.confirmMs) {
          this.held.set(key, { divergence: { id: '', sinceMs, ...fields }, heldSinceMs });
          this.noteDecision(heldSinceMs + this.confirmMs, nowMs);
          return;
        }
      }
      const divergence: Divergence = { id: before?.id ?? `d${this.nextDivergenceNumber++}`, sinceMs: Math.min(sinceMs, before?.sinceMs ?? Infinity), ...fields };
      next.push(divergence);
      this.reportedByKey.set(key, divergence);
      if (before === undefined) events.push({ type: 'divergence', change: 'new', divergence, atMs: nowMs });
      else if (!sameRegions(before.regions, regions) || before.agreeing.join() !== divergence.agreeing.join()) events.push({ type: 'divergence', change: 'changed', divergence, atMs: nowMs });
    };
    if (this.sizeVerdict.name === 'diverged') {
      const sizes = [...this.replicas.values()].map((replica) => ({ replicaId: replica.id, widthPx: replica.widthPx, heightPx: replica.heightPx }));
      const widthPx = Math.max(...sizes.map((size) => size.widthPx));
      const heightPx = Math.max(...sizes.map((size) => size.heightPx));
      add('size', this.sizeVerdict.partition, [{ x: 0, y: 0, width: widthPx, height: heightPx }], this.sizeVerdict.sinceMs, sizes);
    }
    for (const [partition, entry] of byPartition) add('pixels', partition, mergeTiles(entry.tiles, this.columns, this.boxes), entry.sinceMs, []);
    const resolved: DivergenceEvent[] = [...previous.values()].map((divergence) => ({ type: 'divergence-resolved', id: divergence.id, atMs: nowMs }));
    if (this.divergences.length > 0) this.consensusOwed = true;
    this.divergences = next;
    const all = [...resolved, ...events];
    // Consensus only once nothing is reported nor held (a held split would make it untrue).
    if (next.length > 0) this.consensusOwed = false;
    else if (this.consensusOwed && this.held.size === 0) {
      this.consensusOwed = false;
      all.push({ type: 'consensus', atMs: nowMs });
    }
    return all;
  }
}

/** What identifies a divergence over time: its kind and who is out, and how. */
function divergenceKey(kind: Divergence['kind'], partition: Partition): string {
  return `${kind}:${partition.noMajority ? partition.key : partition.groups.slice(1).map((group) => group.join(',')).join('|')}`;
}

function sameRegions(first: readonly PixelRect[], second: readonly PixelRect[]): boolean {
  return first.length === second.length && first.every((rect, index) => {
    const other = second[index]!;
    return rect.x === other.x && rect.y === other.y && rect.width === other.width && rect.height === other.height;
  });
}

function checkTolerance(tolerance: Tolerance | null): void {
  if (tolerance === null) return;
  if (!(tolerance.maxChannelDelta >= 0 && tolerance.maxChannelDelta <= 255) || !(tolerance.maxDifferingPixelsPerTile >= 0)) {
    throw new RangeError('tolerance: maxChannelDelta 0–255, maxDifferingPixelsPerTile ≥ 0');
  }
}
