// Benchmark section "frame comparison": the divergence engine (WebAssembly SIMD kernels, and the
// JavaScript reference) vs pixelmatch 7 vs the memory floor (one SIMD pass reading the same bytes,
// beside the same pass as a JavaScript loop), measured side by side in one run, median of several
// repetitions. Runs in Node: `node --import tsx scripts/bench-compare.ts [--quick] [--repetitions N]`,
// or through `runCompareBenchmark()` from the shared benchmark runner.

import { cpus, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import pixelmatch from 'pixelmatch';
import { DivergenceEngine, SETTLE_MS, TILE_SIZE_PX, type Tolerance } from '../common/divergence';
import { compileCompareKernels, type ArenaBlock, type CompareKernels, type KernelArena } from '../common/divergence/compare-kernels';
import { median } from './bench-stats';
import { compileCompareKernelsWasm } from './wasm.mjs';

/** One benchmark section, ready to print or to merge into a report. */
export interface BenchSection {
  readonly title: string;
  readonly machine: string;
  /** Column names, then rows of cells (already formatted). */
  readonly columns: readonly string[];
  readonly rows: readonly (readonly string[])[];
  readonly notes: readonly string[];
  /** The whole section as aligned text. */
  readonly text: string;
}

export interface CompareBenchmarkOptions {
  /** Only 1920×1080 (a few seconds instead of about a minute). */
  readonly quick?: boolean;
  /** Rounds of measurements (medians reported). Default 9. */
  readonly repetitions?: number;
  /** Progress lines (default: none). */
  readonly log?: (line: string) => void;
}

type DifferenceCase = 'identical' | '1% differing' | 'all differing';

const TOLERANCE: Tolerance = { maxChannelDelta: 8, maxDifferingPixelsPerTile: 0 };
/** pixelmatch's own default threshold; its anti-aliasing detection on (the default). */
const PIXELMATCH_OPTIONS = { threshold: 0.1 } as const;
/** pixelmatch repetitions stop early once this much time was spent on one case. */
const PIXELMATCH_BUDGET_MS = 4000;

/** Runs every case and returns the formatted section. */
export async function runCompareBenchmark(options: CompareBenchmarkOptions = {}): Promise<BenchSection> {
  const repetitions = options.repetitions ?? 9;
  const log = options.log ?? ((): void => undefined);
  const kernels = compileCompareKernels(await compileCompareKernelsWasm());
  if (kernels === null) throw new Error(`Node ${process.versions.node} has no WebAssembly SIMD: the benchmark needs it (Node 20 or newer)`);
  const sizes: (readonly [number, number])[] = options.quick ? [[1920, 1080]] : [[1920, 1080], [3840, 2160]];
  const rows: string[][] = [];
  for (const [widthPx, heightPx] of sizes) {
    for (const replicaCount of [3, 8]) {
      const base = desktopFrame(widthPx, heightPx);
      for (const difference of ['identical', '1% differing', 'all differing'] as const) {
        log(`» ${widthPx}×${heightPx} N=${replicaCount} ${difference}`);
        const frames = replicaFrames(base, replicaCount, difference);
        const result = measureCase(kernels, frames, widthPx, heightPx, difference, repetitions);
        rows.push([
          `${widthPx}×${heightPx}`,
          String(replicaCount),
          difference,
          ms(result.floorMs),
          ms(result.jsFloorMs),
          ms(result.exactMs),
          ratio(result.engineOverFloor),
          ms(result.jsExactMs),
          ms(result.toleranceMs),
          ms(result.pixelmatchMs),
          ratio(result.pixelmatchOverEngine),
          ratio(result.pixelmatchOverTolerant),
          ms(result.copyMs),
        ]);
        await yieldToEventLoop();
      }
    }
  }
  const damage = measureDamageProportionality(kernels, 1920, 1080, 3, repetitions * 3);
  log('» damaged-region cost');
  const columns = ['frame', 'N', 'case', 'floor ms', 'JS floor ms', 'engine ms', 'engine/floor', 'JS engine ms', 'tolerant ms', 'pixelmatch ms', 'pixelmatch/engine', 'pixelmatch/tolerant', 'copy-in ms'];
  const notes = [
    `Each row: N replicas, replicas 1..N-1 identical, replica N differing (1%: random scattered pixels, the worst case for tiles; all: every pixel's colour inverted).`,
    `floor: the fastest one-pass read of the N frames this runtime offers: a WebAssembly SIMD XOR-reduce of their words, frames in WebAssembly memory (16 bytes per load, four accumulators), i.e. the distance to the machine's memory bandwidth. JS floor: the same pass as a JavaScript loop over 32-bit words.`,
    `engine: DivergenceEngine.tick with the WebAssembly SIMD kernels, judging every tile of the N frames (exact: classification, batched scan, grouping, difference boxes, verdicts); engine/floor is against the SIMD floor. JS engine: the same tick on the JavaScript loops (the reference, and what runs where WebAssembly SIMD is missing).`,
    `tolerant: the SIMD engine with a tolerance (max channel delta ${TOLERANCE.maxChannelDelta}). pixelmatch: pixelmatch 7 (threshold ${PIXELMATCH_OPTIONS.threshold}, no diff output) of replica 1 against each of the N-1 others; its ratios are against the SIMD engine.`,
    `copy-in: DivergenceEngine.update of the N full frames, each already in the SIMD engine's staging memory as the worker's read-back leaves it: compared with the framebuffer, then copied into it (the renderer pays it per damaged rectangle; pixelmatch would need the same full frames).`,
    `${repetitions} rounds after 2 untimed ones (the divergence confirmed), each timing every method once, caches evicted (128 MiB read) before each timed step; times are medians; a ratio is the median of the rounds' own ratios, each from two figures measured moments apart in one round (the floor right before the engine), so that a burst of load elsewhere on the machine tilts only the rounds it falls in, not the median (pixelmatch: at least 1 round, more while under ${PIXELMATCH_BUDGET_MS / 1000} s per case).`,
    `Damaged-region cost, SIMD engine, 1920×1080, N=3, update+tick: 64×64 ${ms(damage.smallMs)} vs full screen ${ms(damage.fullMs)} — ${ratio(damage.fullMs / damage.smallMs)} for ${ratio((1920 * 1080) / (64 * 64))} the area (${damage.smallTiles} vs ${damage.fullTiles} tiles compared).`,
  ];
  const machine = `${cpus()[0]?.model ?? 'unknown CPU'} ×${cpus().length}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.versions.node}`;
  const title = 'Frame comparison: divergence engine (SIMD, JavaScript) vs pixelmatch 7 vs memory floor';
  return { title, machine, columns, rows, notes, text: formatSection(title, machine, columns, rows, notes) };
}

interface CaseResult {
  floorMs: number;
  jsFloorMs: number;
  exactMs: number;
  jsExactMs: number;
  toleranceMs: number;
  pixelmatchMs: number;
  copyMs: number;
  /** Medians of the per-round ratios. */
  engineOverFloor: number;
  pixelmatchOverEngine: number;
  pixelmatchOverTolerant: number;
}

function measureCase(kernels: CompareKernels, frames: readonly Uint8ClampedArray[], widthPx: number, heightPx: number, difference: DifferenceCase, repetitions: number): CaseResult {
  // The frames and their twins, shared by the three engines (at 3840×2160 and N = 8 a set is 253 MiB).
  const twins = [frames, repainted(frames)] as const;
  const exact = new EngineRun(twins, widthPx, heightPx, null, kernels);
  const jsExact = new EngineRun(twins, widthPx, heightPx, null, null);
  const tolerant = new EngineRun(twins, widthPx, heightPx, TOLERANCE, kernels);
  const simdFloor = new SimdFloor(kernels, frames);
  // Two untimed rounds: compiled code, and a differing case's divergence confirmed (the verdicts and
  // the report are built once per new divergence, not per frame).
  for (let round = 0; round < 2; round++) {
    exact.round();
    jsExact.round();
    tolerant.round();
    simdFloor.read();
  }
  const floor: number[] = [];
  const jsFloor: number[] = [];
  const exactTimes: number[] = [];
  const jsExactTimes: number[] = [];
  const tolerantTimes: number[] = [];
  const copyTimes: number[] = [];
  const pixelmatchTimes: number[] = [];
  let pixelmatchSpentMs = 0;
  // Per-round ratios: the two figures of a ratio come from one round, measured moments apart, so a
  // burst of load from elsewhere on the machine (a shared VM) scales both or spoils one round only.
  const engineOverFloor: number[] = [];
  const pixelmatchOverEngine: number[] = [];
  const pixelmatchOverTolerant: number[] = [];
  // Interleaved: every method runs once per round, so they share the machine's state; the floor
  // right before the engine it is set against.
  for (let round = 0; round < repetitions; round++) {
    evictCaches();
    const floorMs = time(() => simdFloor.read());
    floor.push(floorMs);
    const exactRound = exact.round();
    evictCaches();
    jsFloor.push(time(() => readFloor(frames)));
    const tolerantMs = tolerant.round().compareMs;
    jsExactTimes.push(jsExact.round().compareMs);
    exactTimes.push(exactRound.compareMs);
    copyTimes.push(exactRound.copyMs);
    tolerantTimes.push(tolerantMs);
    engineOverFloor.push(exactRound.compareMs / floorMs);
    if (pixelmatchTimes.length === 0 || pixelmatchSpentMs < PIXELMATCH_BUDGET_MS) {
      evictCaches();
      const spent = time(() => {
        for (let index = 1; index < frames.length; index++) pixelmatch(frames[0]!, frames[index]!, undefined, widthPx, heightPx, PIXELMATCH_OPTIONS);
      });
      pixelmatchTimes.push(spent);
      pixelmatchSpentMs += spent;
      pixelmatchOverEngine.push(spent / exactRound.compareMs);
      pixelmatchOverTolerant.push(spent / tolerantMs);
    }
  }
  // The figures mean something only if every method saw what the frames hold.
  const expected = difference === 'identical' ? [] : [`r${frames.length}`];
  for (const run of [exact, jsExact, tolerant]) {
    const outliers = run.engine.state.divergences.flatMap((divergence) => divergence.outliers);
    if (outliers.join() !== expected.join()) throw new Error(`engine reported outliers [${outliers.join()}], expected [${expected.join()}]`);
  }
  const pixelmatchDiffers = pixelmatch(frames[0]!, frames[frames.length - 1]!, undefined, widthPx, heightPx, PIXELMATCH_OPTIONS) > 0;
  if (pixelmatchDiffers !== (difference !== 'identical')) throw new Error('pixelmatch disagrees with the case');
  if (simdFloor.read() !== readFloor(frames)) throw new Error('the SIMD floor read something else than the JavaScript floor');
  simdFloor.release();
  return {
    floorMs: median(floor),
    jsFloorMs: median(jsFloor),
    exactMs: median(exactTimes),
    jsExactMs: median(jsExactTimes),
    toleranceMs: median(tolerantTimes),
    pixelmatchMs: median(pixelmatchTimes),
    copyMs: median(copyTimes),
    engineOverFloor: median(engineOverFloor),
    pixelmatchOverEngine: median(pixelmatchOverEngine),
    pixelmatchOverTolerant: median(pixelmatchOverTolerant),
  };
}

/**
 * The frames with `bits` of every pixel's alpha byte flipped: a full-screen change of every replica
 * alike, which leaves every case as it was (replicas equal or different at the same pixels, by the
 * same colour distances: the tolerance ignores alpha, the exact rule sees every replica flipped).
 */
function repainted(frames: readonly Uint8ClampedArray[], bits = 1): Uint8ClampedArray[] {
  return frames.map((frame) => {
    const copy = frame.slice();
    for (let offset = 3; offset < copy.length; offset += 4) copy[offset] = copy[offset]! ^ bits;
    return copy;
  });
}

/**
 * One engine fed the same picture again and again, each round a new framebuffer update that changes
 * every pixel: the frames and their alpha-flipped twins alternate (`repainted`). The engine writes
 * only the tiles a repaint changes, so the same frames twice would leave it nothing to compare.
 */
class EngineRun {
  readonly engine: DivergenceEngine;
  private nowMs = 0;
  private rounds = 0;

  constructor(
    /** The frames and their `repainted` twins, fed in turn. */
    private readonly twins: readonly [readonly Uint8ClampedArray[], readonly Uint8ClampedArray[]],
    private readonly widthPx: number,
    private readonly heightPx: number,
    tolerance: Tolerance | null,
    kernels: CompareKernels | null,
  ) {
    this.engine = new DivergenceEngine({ tolerance, kernels });
    twins[0].forEach((_, index) => this.engine.setReplicaSize(`r${index + 1}`, widthPx, heightPx, 0));
  }

  round(): { copyMs: number; compareMs: number } {
    // Far apart in (simulated) time: every update is a plain change, as after a redraw.
    this.nowMs += 10_000;
    const rect = { x: 0, y: 0, width: this.widthPx, height: this.heightPx };
    const frames = this.twins[this.rounds++ % 2 === 0 ? 0 : 1];
    evictCaches();
    // As the worker pays it: each frame is already in the engine's staging memory (its read-back
    // writes there), and `update` compares it with the framebuffer and copies what changed.
    let copyMs = 0;
    frames.forEach((frame, index) => {
      const staged = this.engine.stagingPixels(frame.length);
      staged?.set(frame);
      copyMs += time(() => this.engine.update(`r${index + 1}`, rect, staged ?? frame, this.nowMs));
    });
    evictCaches();
    const compareMs = time(() => this.engine.tick(this.nowMs + SETTLE_MS));
    // A round that changed fewer tiles than the screen holds would time less than a full compare.
    const tiles = Math.ceil(this.widthPx / TILE_SIZE_PX) * Math.ceil(this.heightPx / TILE_SIZE_PX);
    if (this.engine.stats.lastTickTiles !== tiles) throw new Error(`a round judged ${this.engine.stats.lastTickTiles} tiles, expected all ${tiles}`);
    return { copyMs, compareMs };
  }
}

/** Cost of one 64×64 damaged rectangle on every replica vs a full-screen one, update + tick. */
function measureDamageProportionality(kernels: CompareKernels, widthPx: number, heightPx: number, replicaCount: number, repetitions: number): { smallMs: number; fullMs: number; smallTiles: number; fullTiles: number } {
  const base = desktopFrame(widthPx, heightPx);
  const frames = replicaFrames(base, replicaCount, 'identical');
  // Every update changes every pixel it covers (see `repainted`): full-screen updates alternate
  // between the frames and one twin, the small squares always come from a third.
  const twins = [frames, repainted(frames, 1)];
  const squares = repainted(frames, 2);
  let fullUpdates = 0;
  const engine = new DivergenceEngine({ kernels });
  frames.forEach((frame, index) => engine.setFrame(`r${index + 1}`, widthPx, heightPx, frame, 0));
  let nowMs = 0;
  engine.tick(SETTLE_MS);
  engine.tick(5_000);
  const run = (rect: { x: number; y: number; width: number; height: number }): { ms: number; tiles: number } => {
    nowMs += 10_000;
    // What getImageData(rect) would hand over, prepared outside the timing.
    const pixels = rect.width === widthPx ? twins[++fullUpdates % 2]! : squares.map((frame) => cropFrame(frame, widthPx, rect));
    const before = engine.stats.comparedTiles;
    evictCaches();
    const ms = time(() => {
      pixels.forEach((rectPixels, index) => engine.update(`r${index + 1}`, rect, rectPixels, nowMs));
      engine.tick(nowMs + SETTLE_MS);
    });
    // Let the tiles' blink window pass, so the next round starts from a quiet engine.
    engine.tick(nowMs + 5_000);
    return { ms, tiles: engine.stats.comparedTiles - before };
  };
  const small: number[] = [];
  const full: number[] = [];
  let smallTiles = 0;
  let fullTiles = 0;
  for (let round = 0; round < repetitions; round++) {
    // A tile-aligned 64×64 square somewhere new each time (4×4 tiles).
    const smallRun = run({ x: ((round * 7) % 28) * 64, y: ((round * 5) % 16) * 64, width: 64, height: 64 });
    small.push(smallRun.ms);
    smallTiles = smallRun.tiles;
    const fullRun = run({ x: 0, y: 0, width: widthPx, height: heightPx });
    full.push(fullRun.ms);
    fullTiles = fullRun.tiles;
  }
  return { smallMs: median(small), fullMs: median(full), smallTiles, fullTiles };
}

const EVICTION_BUFFER = new Uint32Array(2 ** 25);

/** Reads 128 MiB of unrelated memory, so that every timed method starts with cold caches. */
function evictCaches(): number {
  let accumulator = 0;
  for (let index = 0; index < EVICTION_BUFFER.length; index += 16) accumulator ^= EVICTION_BUFFER[index]!++;
  return accumulator;
}

/**
 * The memory floor: the N frames in WebAssembly memory (copied in once, outside the timing),
 * every word read once by the SIMD XOR-reduce kernel.
 */
class SimdFloor {
  private readonly arena: KernelArena;
  private readonly blocks: ArenaBlock[];

  constructor(kernels: CompareKernels, frames: readonly Uint8ClampedArray[]) {
    this.arena = kernels.createArena();
    this.blocks = frames.map((frame) => {
      const block = this.arena.allocate(frame.length);
      block.bytesView().set(frame);
      return block;
    });
  }

  read(): number {
    let accumulator = 0;
    for (const block of this.blocks) accumulator ^= this.arena.xorReduce(block);
    return accumulator;
  }

  release(): void {
    for (const block of this.blocks) this.arena.release(block);
  }
}

/** The JavaScript floor: reads every word of every frame once, in a plain loop. */
function readFloor(frames: readonly Uint8ClampedArray[]): number {
  let accumulator = 0;
  for (const frame of frames) {
    const words = new Uint32Array(frame.buffer, frame.byteOffset, frame.length / 4);
    for (let index = 0; index < words.length; index++) accumulator ^= words[index]!;
  }
  return accumulator;
}

/** A deterministic desktop-like frame: flat panels, gradients and text-like speckles. */
function desktopFrame(widthPx: number, heightPx: number): Uint8ClampedArray {
  const frame = new Uint8ClampedArray(widthPx * heightPx * 4);
  for (let y = 0; y < heightPx; y++) {
    for (let x = 0; x < widthPx; x++) {
      const offset = (y * widthPx + x) * 4;
      const panel = ((x >> 7) + (y >> 6)) % 4;
      const text = panel === 1 && ((Math.imul(x * 31 + y * 17, 2654435761) >>> 28) & 3) === 0;
      frame[offset] = text ? 20 : panel === 0 ? (x * 255) / widthPx : 40 + panel * 50;
      frame[offset + 1] = text ? 20 : panel === 0 ? (y * 255) / heightPx : 60 + panel * 40;
      frame[offset + 2] = text ? 20 : 180 - panel * 30;
      frame[offset + 3] = 255;
    }
  }
  return frame;
}

/** N frames (separate buffers): copies of `base`, the last one altered as the case says. */
function replicaFrames(base: Uint8ClampedArray, count: number, difference: DifferenceCase): Uint8ClampedArray[] {
  const frames = Array.from({ length: count }, () => base.slice());
  const outlier = frames[count - 1]!;
  const invert = (pixel: number): void => {
    outlier[pixel * 4] = 255 - outlier[pixel * 4]!;
    outlier[pixel * 4 + 1] = 255 - outlier[pixel * 4 + 1]!;
    outlier[pixel * 4 + 2] = 255 - outlier[pixel * 4 + 2]!;
  };
  const pixels = base.length / 4;
  if (difference === 'all differing') for (let pixel = 0; pixel < pixels; pixel++) invert(pixel);
  if (difference === '1% differing') {
    let seed = 12345;
    const chosen = new Uint8Array(pixels);
    for (let changed = 0; changed < pixels / 100; ) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      const pixel = seed % pixels;
      if (chosen[pixel] === 1) continue;
      chosen[pixel] = 1;
      invert(pixel);
      changed += 1;
    }
  }
  return frames;
}

function cropFrame(frame: Uint8ClampedArray, widthPx: number, rect: { x: number; y: number; width: number; height: number }): Uint8ClampedArray {
  const out = new Uint8ClampedArray(rect.width * rect.height * 4);
  for (let row = 0; row < rect.height; row++) {
    const from = ((rect.y + row) * widthPx + rect.x) * 4;
    out.set(frame.subarray(from, from + rect.width * 4), row * rect.width * 4);
  }
  return out;
}

function time(work: () => unknown): number {
  const started = performance.now();
  work();
  return performance.now() - started;
}

function ms(value: number): string {
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

function ratio(value: number): string {
  return value >= 100 ? `${value.toFixed(0)}×` : value >= 10 ? `${value.toFixed(1)}×` : `${value.toFixed(2)}×`;
}

function formatSection(title: string, machine: string, columns: readonly string[], rows: readonly (readonly string[])[], notes: readonly string[]): string {
  const widths = columns.map((column, index) => Math.max(column.length, ...rows.map((row) => row[index]?.length ?? 0)));
  const line = (cells: readonly string[]): string => cells.map((cell, index) => (index < 3 ? cell.padEnd(widths[index]!) : cell.padStart(widths[index]!))).join('  ');
  return [`## ${title}`, `machine: ${machine}`, '', line(columns), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line), '', ...notes.map((note) => `- ${note}`)].join('\n');
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ args: process.argv.slice(2), options: { quick: { type: 'boolean', default: false }, repetitions: { type: 'string' } } });
  const repetitions = values.repetitions === undefined ? undefined : Number(values.repetitions);
  const section = await runCompareBenchmark({ quick: values.quick, repetitions, log: (line) => console.error(line) });
  console.log(section.text);
}
