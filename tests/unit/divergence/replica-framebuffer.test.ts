// A replica's tile history: the settle clock, what counts as a change, and the cycle (blink)
// rule — both halves of the blink window must show the same set of fingerprinted states. Twice: the
// history in JavaScript, and in the WebAssembly kernels' memory (flush and classification there).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BLINK_WINDOW_MS, MAX_BLINK_STATES, SETTLE_MS } from '../../../common/divergence';
import { type KernelArena } from '../../../common/divergence/compare-kernels';
import {
  CLASSIFY_CHANGING,
  CLASSIFY_MAYBE_CYCLING,
  HISTORY_LENGTH,
  MaskGrid,
  ReplicaFramebuffer,
  TILE_CHANGING,
  TILE_CYCLING,
  TILE_SETTLED,
  TileList,
} from '../../../common/divergence/replica-framebuffer';
import { seededRandom } from '../../fuzz/rfb-mutators';
import { KERNELS } from './engines';

const TIMING = { settleMs: SETTLE_MS, blinkWindowMs: BLINK_WINDOW_MS, maxBlinkStates: MAX_BLINK_STATES };
const SIZE = 16;

function solid(value: number): Uint32Array {
  return new Uint32Array(SIZE * SIZE).fill(value);
}

/** One 16×16 tile, written whole with solid "states" (colours as words). */
class OneTile {
  readonly framebuffer: ReplicaFramebuffer;

  /**
   * With `arena`, the history lives in the kernels' memory and flush/classify run there; with
   * `pixelsThere` too, the pixels as well, so that hot changes are fingerprinted by flush_hot.
   */
  constructor(
    private readonly arena: KernelArena | null,
    pixelsThere = false,
  ) {
    const storage = pixelsThere && arena !== null ? arena.allocate(SIZE * SIZE * 4) : undefined;
    this.framebuffer = new ReplicaFramebuffer('r', SIZE, SIZE, SIZE, new MaskGrid([], SIZE, SIZE, SIZE), 0, MAX_BLINK_STATES, storage, arena);
  }

  readonly changes = new TileList();

  show(state: number, nowMs: number): void {
    this.lastShownMs = nowMs;
    this.framebuffer.write({ x: 0, y: 0, width: SIZE, height: SIZE }, solid(state), SIZE, 0, nowMs, BLINK_WINDOW_MS, this.changes);
    this.framebuffer.flush(BLINK_WINDOW_MS, this.changes);
  }

  private lastShownMs = -Infinity;

  /** Alternates between `states`, one every `everyMs`, from `fromMs` to before `toMs` (skipping what was shown already). */
  cycle(states: readonly number[], fromMs: number, toMs: number, everyMs = 250): void {
    for (let atMs = fromMs, index = 0; atMs < toMs; atMs += everyMs, index++) {
      if (atMs > this.lastShownMs) this.show(states[index % states.length]!, atMs);
    }
  }

  classify(nowMs: number, signature = new Uint32Array(2 * MAX_BLINK_STATES)): number {
    if (this.arena !== null) {
      // The kernel's classify_many must find what the JavaScript classifyMany finds.
      const [list, states, latest] = [this.arena.allocate(4), this.arena.allocate(1), this.arena.allocate(8)];
      latest.doubles()[0] = -Infinity;
      this.framebuffer.classifyManyInKernel(list.offset, 1, nowMs, TIMING, states.offset, latest.offset);
      const expectedStates = new Uint8Array(1);
      const expectedLatest = new Float64Array([-Infinity]);
      this.framebuffer.classifyMany(new Int32Array(1), 1, nowMs, TIMING, expectedStates, expectedLatest);
      assert.deepEqual([states.bytesView()[0], latest.doubles()[0]], [expectedStates[0], expectedLatest[0]]);
      for (const block of [list, states, latest]) this.arena.release(block);
    }
    return this.framebuffer.classify(0, nowMs, TIMING, signature, 0);
  }

  /** classifyMany's bits for the tile at `nowMs` (checked against the kernel's by `classify`). */
  bits(nowMs: number): number {
    this.classify(nowMs);
    const states = new Uint8Array(1);
    this.framebuffer.classifyMany(new Int32Array(1), 1, nowMs, TIMING, states, new Float64Array([-Infinity]));
    return states[0]!;
  }

  signature(nowMs: number): string {
    const signature = new Uint32Array(2 * MAX_BLINK_STATES);
    assert.equal(this.classify(nowMs, signature), TILE_CYCLING);
    return [...signature.subarray(0, 2 * this.framebuffer.signatureLength)].join(',');
  }
}

/**
 * The suite below on a framebuffer whose history is in a JavaScript buffer, or in the kernels'
 * memory (its pixels on the heap, or there too).
 */
function historySuites(variant: 'js' | 'simd' | 'simd, pixels in the kernels\' memory'): void {
  const newTile = (): OneTile => new OneTile(variant === 'js' ? null : KERNELS.createArena(), variant !== 'js' && variant !== 'simd');

  describe(`tile history [${variant}]`, { timeout: 60_000 }, () => {
    it('a new framebuffer is unsettled for the settle window', () => {
      const tile = newTile();
      assert.equal(tile.classify(SETTLE_MS - 1), TILE_CHANGING);
      assert.equal(tile.classify(SETTLE_MS), TILE_SETTLED);
    });

    it('one change restarts the settle clock and is never taken for a cycle', () => {
      const tile = newTile();
      tile.show(1, 1000);
      tile.show(2, 1100);
      assert.equal(tile.classify(1100 + SETTLE_MS - 1), TILE_CHANGING);
      for (const nowMs of [1100 + SETTLE_MS, 2000, 2700, 3000, 5000]) assert.equal(tile.classify(nowMs), TILE_SETTLED, `at ${nowMs}`);
    });

    it('a redraw with the same pixels is no change once the tile is hot', () => {
      const tile = newTile();
      tile.show(1, 1000);
      tile.show(2, 1100);
      tile.show(2, 1300);
      assert.equal(tile.framebuffer.lastChangeMs(0), 1100);
    });

    it('a blink is seen as a cycle after one blink window, whatever its phase', () => {
      const early = newTile();
      const late = newTile();
      early.cycle([1, 2], 1000, 2300);
      late.cycle([2, 1], 1130, 2300);
      assert.notEqual(early.classify(2300), TILE_CYCLING, 'not before the window has seen it');
      for (const nowMs of [3000, 4020, 5980]) {
        early.cycle([1, 2], 1000, nowMs + 1);
        late.cycle([2, 1], 1130, nowMs + 1);
        assert.equal(early.signature(nowMs), late.signature(nowMs), `at ${nowMs}`);
      }
    });

    it('a cycle through new states is not a cycle until the old states are out of both halves', () => {
      const tile = newTile();
      const reference = newTile();
      tile.cycle([1, 2], 1000, 4000);
      // Exactly one half-window after the switch: first half {1, 2}, second half {3, 4}.
      const split = 4000 + BLINK_WINDOW_MS / 2;
      tile.cycle([3, 4], 4000, split + 1);
      assert.notEqual(tile.classify(split), TILE_CYCLING);
      tile.cycle([3, 4], 4000, 4000 + BLINK_WINDOW_MS - 49);
      assert.notEqual(tile.classify(4000 + BLINK_WINDOW_MS - 50), TILE_CYCLING);
      const later = 4000 + BLINK_WINDOW_MS + 10;
      tile.cycle([3, 4], 4000, later + 1);
      reference.cycle([3, 4], 0, later + 1);
      assert.equal(tile.signature(later), reference.signature(later));
    });

    it('more states than MAX_BLINK_STATES is no cycle', () => {
      const tile = newTile();
      tile.cycle([1, 2, 3, 4, 5], 1000, 5001, 150);
      assert.equal(tile.classify(5000), TILE_CHANGING);
      const spinner = newTile();
      spinner.cycle([1, 2, 3, 4], 1000, 5001, 150);
      assert.equal(spinner.classify(5000), TILE_CYCLING);
    });

    it('a cycle faster than the history can hold over a blink window is not judged', () => {
      // 13 changes per window, HISTORY_LENGTH remembered: the start of the window is unknown.
      const tile = newTile();
      tile.cycle([1, 2, 3, 4], 1000, 5001, 120);
      assert.equal(HISTORY_LENGTH < BLINK_WINDOW_MS / 120, true);
      assert.equal(tile.classify(5000), TILE_CHANGING);
    });

    it('only a state that came back makes a tile a candidate for a cycle', () => {
      // New pixels on every redraw (video, a colour ramp): changing, never worth a cycle search.
      const tile = newTile();
      tile.show(1, 1000);
      for (const [state, atMs] of [[2, 1300], [3, 1600], [4, 1900]] as const) {
        tile.show(state, atMs);
        assert.equal(tile.bits(atMs + 100), CLASSIFY_CHANGING, `state ${state} is new`);
        assert.equal(tile.classify(atMs + 100), TILE_CHANGING);
      }
      // An earlier state again: it may be a blink, and only the one-by-one classification can tell.
      tile.show(2, 2200);
      assert.equal(tile.bits(2300), CLASSIFY_MAYBE_CYCLING);
      tile.show(5, 2500);
      assert.equal(tile.bits(2600), CLASSIFY_CHANGING, 'a new state again');
      // Fingerprints forgotten (the ignore regions changed): no state is known to come back.
      tile.show(4, 2800);
      assert.equal(tile.bits(2900), CLASSIFY_MAYBE_CYCLING);
      tile.framebuffer.forgetFingerprints();
      assert.equal(tile.bits(2900), CLASSIFY_CHANGING);
    });

    it('a state is an echo only while the history still holds it', () => {
      // HISTORY_LENGTH - 1 states and the blank one fill the history: the first state is still there.
      const remembered = newTile();
      remembered.cycle(Array.from({ length: HISTORY_LENGTH - 1 }, (_, index) => index + 1), 1000, 1000 + 100 * HISTORY_LENGTH, 100);
      assert.equal(remembered.bits(1000 + 100 * HISTORY_LENGTH - 50), CLASSIFY_MAYBE_CYCLING);
      // One state more: each one comes back just as the new entry replaces it.
      const forgotten = newTile();
      const states = Array.from({ length: HISTORY_LENGTH }, (_, index) => index + 1);
      for (const endMs of [1000 + 100 * HISTORY_LENGTH, 1000 + 100 * (HISTORY_LENGTH + 3)]) {
        forgotten.cycle(states, 1000, endMs + 1, 100);
        assert.equal(forgotten.bits(endMs + 50), CLASSIFY_CHANGING, `at ${endMs}`);
      }
    });

    it('a blink that stops is settled one half-window later', () => {
      const tile = newTile();
      tile.cycle([1, 2], 1000, 4000);
      assert.equal(tile.classify(4000), TILE_CYCLING);
      assert.equal(tile.classify(3750 + BLINK_WINDOW_MS / 2 + 1), TILE_SETTLED);
    });
  });
}

historySuites('js');
historySuites('simd');
historySuites('simd, pixels in the kernels\' memory');

describe('tile history [simd]: the engine noted by flush_cold', { timeout: 30_000 }, () => {
  it('counts every cold change in the serials and lists only tiles not watched yet; hot changes stay for JavaScript', () => {
    const arena = KERNELS.createArena();
    // Two tiles side by side; tile 1 is already on the engine's list.
    const framebuffer = new ReplicaFramebuffer('r', 2 * SIZE, SIZE, SIZE, new MaskGrid([], 2 * SIZE, SIZE, SIZE), 0, MAX_BLINK_STATES, undefined, arena);
    const serials = arena.allocate(2 * 4);
    const watched = arena.allocate(2);
    watched.bytesView()[1] = 1;
    const noting = { serials: serials.offset, watched: watched.offset, newlyWatched: new TileList() };
    const changes = new TileList();
    const writeBoth = (state: number, nowMs: number): void => {
      framebuffer.write({ x: 0, y: 0, width: 2 * SIZE, height: SIZE }, new Uint32Array(2 * SIZE * SIZE).fill(state), 2 * SIZE, 0, nowMs, BLINK_WINDOW_MS, changes);
      framebuffer.flush(BLINK_WINDOW_MS, changes, noting);
    };
    writeBoth(1, 10_000);
    assert.deepEqual([...serials.words()], [1, 1]);
    assert.deepEqual([...noting.newlyWatched.tiles.subarray(0, noting.newlyWatched.count)], [0]);
    assert.deepEqual([...watched.bytesView().subarray(0, 2)], [1, 1]);
    assert.equal(changes.count, 0);
    noting.newlyWatched.clear();
    writeBoth(2, 20_000);
    assert.deepEqual([...serials.words()], [2, 2]);
    assert.equal(noting.newlyWatched.count, 0);
    // Soon after: a hot change, fingerprinted in JavaScript and handed back as a change, not noted.
    writeBoth(3, 20_100);
    assert.deepEqual([...serials.words()], [2, 2]);
    assert.deepEqual([...changes.tiles.subarray(0, changes.count)].sort(), [0, 1]);
  });
});

// Three storages: pixels and history in plain arrays (JavaScript compares the write), history in
// the kernels' memory with pixels in a plain array (still JavaScript), and both in the kernels'
// memory with the source staged there too (changed_tiles compares).
for (const storage of ['js', 'history in kernels', 'all in kernels'] as const) {
  describe(`a write of identical pixels [${storage}]`, { timeout: 30_000 }, () => {
    const WIDTH = 3 * SIZE;
    const HEIGHT = 2 * SIZE;

    function setup(): { framebuffer: ReplicaFramebuffer; source: () => Uint32Array } {
      const arena = storage === 'js' ? null : KERNELS.createArena();
      const pixels = storage === 'all in kernels' ? arena!.allocate(WIDTH * HEIGHT * 4) : undefined;
      const framebuffer = new ReplicaFramebuffer('r', WIDTH, HEIGHT, SIZE, new MaskGrid([], WIDTH, HEIGHT, SIZE), 0, MAX_BLINK_STATES, pixels, arena);
      const staged = storage === 'all in kernels' ? arena!.allocate(WIDTH * HEIGHT * 4) : null;
      const plain = new Uint32Array(WIDTH * HEIGHT);
      return { framebuffer, source: () => staged?.words() ?? plain };
    }

    it('writes only the tiles where a pixel differs: no change, no settle clock restarted, the rest copied', () => {
      const { framebuffer, source } = setup();
      const whole = { x: 0, y: 0, width: WIDTH, height: HEIGHT };
      const changes = new TileList();
      source().fill(7);
      assert.equal(framebuffer.write(whole, source(), WIDTH, 0, 100, BLINK_WINDOW_MS, changes), 6, 'the first screen changes every tile');
      framebuffer.flush(BLINK_WINDOW_MS, changes);
      assert.equal(framebuffer.lastChangeMs(4), 100);
      changes.clear();
      assert.equal(framebuffer.write(whole, source(), WIDTH, 0, 5000, BLINK_WINDOW_MS, changes), 0, 'the same screen again: nothing written');
      framebuffer.flush(BLINK_WINDOW_MS, changes);
      assert.equal(changes.count, 0);
      assert.equal(framebuffer.lastChangeMs(4), 100, 'the settle clock runs on');
      // One pixel of tile 4 (second row, second column), inside a damage rectangle of the whole screen.
      source()[SIZE * WIDTH + SIZE + 3] = 9;
      assert.equal(framebuffer.write(whole, source(), WIDTH, 0, 6000, BLINK_WINDOW_MS, changes), 1);
      framebuffer.flush(BLINK_WINDOW_MS, changes);
      assert.deepEqual([...changes.tiles.subarray(0, changes.count)], [4]);
      assert.equal(framebuffer.lastChangeMs(4), 6000);
      assert.equal(framebuffer.lastChangeMs(0), 100);
      assert.equal(framebuffer.pixels[SIZE * WIDTH + SIZE + 3], 9, 'the changed pixel is copied');
      // A rectangle not aligned to tiles, from a source with a stride of its own: two of its four tiles differ.
      const rect = { x: 10, y: 10, width: 20, height: 12 };
      const stride = 23;
      const block = new Uint32Array(stride * rect.height);
      for (let y = 0; y < rect.height; y++) block.set(framebuffer.pixels.subarray((rect.y + y) * WIDTH + rect.x, (rect.y + y) * WIDTH + rect.x + rect.width), y * stride);
      block[0] = 1; // (10, 10): tile 0
      block[(rect.height - 1) * stride + rect.width - 1] = 2; // (29, 21): tile 4
      const staged = source();
      staged.set(block);
      changes.clear();
      assert.equal(framebuffer.write(rect, staged, stride, 0, 7000, BLINK_WINDOW_MS, changes), 2);
      framebuffer.flush(BLINK_WINDOW_MS, changes);
      assert.deepEqual([...changes.tiles.subarray(0, changes.count)].sort(), [0, 4]);
      assert.deepEqual([framebuffer.pixels[10 * WIDTH + 10], framebuffer.pixels[21 * WIDTH + 29]], [1, 2]);
      assert.deepEqual([1, 3].map((tile) => framebuffer.lastChangeMs(tile)), [100, 100], 'the unchanged tiles of the rectangle keep their clock');
    });
  });
}

// A write staged in the kernels' memory is copied by copy_tiles, which fingerprints the tiles whose
// flush will be hot right after copying them; flush_hot then takes that fingerprint instead of
// reading the tile again. The same writes on a framebuffer kept in JavaScript must leave the same pixels and
// the same history: every tile's current fingerprint and classification after every flush.
describe('a write copied by the kernels: fingerprinted while in the cache', { timeout: 60_000 }, () => {
  // Three columns of tiles, the last 6 pixels wide (not whole 4-pixel chunks: never fingerprinted
  // in a copy), two rows, the last 10 pixels high.
  const WIDTH = 2 * SIZE + 6;
  const HEIGHT = SIZE + 10;

  function twins(): { js: ReplicaFramebuffer; kernels: ReplicaFramebuffer; staged: () => Uint32Array } {
    const arena = KERNELS.createArena();
    const grid = (): MaskGrid => new MaskGrid([], WIDTH, HEIGHT, SIZE);
    const js = new ReplicaFramebuffer('r', WIDTH, HEIGHT, SIZE, grid(), 0, MAX_BLINK_STATES);
    const kernels = new ReplicaFramebuffer('r', WIDTH, HEIGHT, SIZE, grid(), 0, MAX_BLINK_STATES, arena.allocate(WIDTH * HEIGHT * 4), arena);
    const block = arena.allocate(WIDTH * HEIGHT * 4);
    return { js, kernels, staged: () => block.words() };
  }

  function assertSame(js: ReplicaFramebuffer, kernels: ReplicaFramebuffer, nowMs: number, what: string): void {
    assert.deepEqual([...kernels.pixels.subarray(0, WIDTH * HEIGHT)], [...js.pixels], `${what}: pixels`);
    const tiles = js.tileCount;
    const expected = new Uint32Array(2 * tiles);
    const actual = new Uint32Array(2 * tiles);
    for (let tile = 0; tile < tiles; tile++) {
      js.currentFingerprint(tile, expected, 2 * tile);
      kernels.currentFingerprint(tile, actual, 2 * tile);
      assert.equal(kernels.lastChangeMs(tile), js.lastChangeMs(tile), `${what}: tile ${tile}'s last change`);
    }
    assert.deepEqual([...actual], [...expected], `${what}: fingerprints`);
    const list = Int32Array.from({ length: tiles }, (_, tile) => tile);
    const bits = (framebuffer: ReplicaFramebuffer): number[] => {
      const states = new Uint8Array(tiles);
      framebuffer.classifyMany(list, tiles, nowMs, TIMING, states, new Float64Array(tiles).fill(-Infinity));
      return [...states];
    };
    assert.deepEqual(bits(kernels), bits(js), `${what}: classification`);
  }

  /** Writes `rect` of `screen` (whole-framebuffer words) to both at `nowMs`; the kernels' copy from its staging memory. */
  function writeBoth(pair: ReturnType<typeof twins>, screen: Uint32Array, rect: { x: number; y: number; width: number; height: number }, nowMs: number, changes: TileList): void {
    const block = new Uint32Array(rect.width * rect.height);
    for (let y = 0; y < rect.height; y++) block.set(screen.subarray((rect.y + y) * WIDTH + rect.x, (rect.y + y) * WIDTH + rect.x + rect.width), y * rect.width);
    const staged = pair.staged();
    staged.set(block);
    pair.js.write(rect, block, rect.width, 0, nowMs, BLINK_WINDOW_MS, changes);
    pair.kernels.write(rect, staged, rect.width, 0, nowMs, BLINK_WINDOW_MS, changes);
  }

  it('a tile written whole and then in part at the same time is fingerprinted from its final pixels', () => {
    const pair = twins();
    const whole = { x: 0, y: 0, width: WIDTH, height: HEIGHT };
    const changes = new TileList();
    const screen = (value: number): Uint32Array => new Uint32Array(WIDTH * HEIGHT).fill(value);
    const flush = (nowMs: number, what: string): void => {
      pair.js.flush(BLINK_WINDOW_MS, changes);
      pair.kernels.flush(BLINK_WINDOW_MS, changes);
      assertSame(pair.js, pair.kernels, nowMs, what);
    };
    writeBoth(pair, screen(1), whole, 10_000, changes);
    flush(10_000, 'A, a cold change');
    writeBoth(pair, screen(2), whole, 10_100, changes);
    flush(10_100, 'B, hot');
    // A again, whole (fingerprinted as copied), then one pixel of tile 0 changed in the same update:
    // the tile's state is neither A nor B, and must not be taken for A's echo.
    writeBoth(pair, screen(1), whole, 10_200, changes);
    const last = screen(1);
    last[3 * WIDTH + 5] = 3;
    writeBoth(pair, last, { x: 4, y: 2, width: 4, height: 4 }, 10_200, changes);
    flush(10_200, 'A, then a pixel of tile 0 in the same update');
    const bits = new Uint8Array(2);
    pair.kernels.classifyMany(Int32Array.of(0, 1), 2, 10_250, TIMING, bits, new Float64Array(2).fill(-Infinity));
    assert.equal(bits[0]! & CLASSIFY_MAYBE_CYCLING, 0, 'tile 0 holds a new state: no echo');
    assert.equal(bits[1]! & CLASSIFY_MAYBE_CYCLING, CLASSIFY_MAYBE_CYCLING, 'tile 1 is A again: an echo');
  });

  it('random writes, whole screens and rectangles, hot and cold, leave the same history as in JavaScript', () => {
    const next = seededRandom(20261204);
    for (let session = 0; session < 40; session++) {
      const pair = twins();
      const changes = new TileList();
      // A few screens to choose from, so that states come back (echoes, cycles).
      const screens = Array.from({ length: 3 }, () => Uint32Array.from({ length: WIDTH * HEIGHT }, () => Math.floor(next() * 4)));
      let nowMs = 1_000;
      for (let step = 0; step < 30; step++) {
        // Often within the blink window (hot), sometimes long after (cold), sometimes no time at all.
        const gap = [0, 50, 150, 400, 5_000][Math.floor(next() * 5)]!;
        nowMs += gap;
        const screen = screens[Math.floor(next() * screens.length)]!;
        const x = next() < 0.5 ? 0 : Math.floor(next() * WIDTH);
        const y = next() < 0.5 ? 0 : Math.floor(next() * HEIGHT);
        const rect = next() < 0.5 ? { x: 0, y: 0, width: WIDTH, height: HEIGHT } : { x, y, width: 1 + Math.floor(next() * (WIDTH - x)), height: 1 + Math.floor(next() * (HEIGHT - y)) };
        writeBoth(pair, screen, rect, nowMs, changes);
        if (next() < 0.7) {
          pair.js.flush(BLINK_WINDOW_MS, changes);
          pair.kernels.flush(BLINK_WINDOW_MS, changes);
          assertSame(pair.js, pair.kernels, nowMs, `session ${session}, step ${step}`);
        }
      }
    }
  });
});
