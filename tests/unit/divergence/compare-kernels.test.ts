// The WebAssembly SIMD kernels against the JavaScript loops they replace (tile-pixels.ts), on
// random frames of awkward widths and at the tolerance's edges; the arena that holds the
// framebuffers (reuse, zeroing, views surviving growth); and when compiling gives up.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CONFIRM_MS, DivergenceEngine, SETTLE_MS } from '../../../common/divergence';
import { KernelArena, compileCompareKernels, type ArenaBlock } from '../../../common/divergence/compare-kernels';
import { growDifferenceBox, hashTile, scanRowDifferences, tilesAgree } from '../../../common/divergence/tile-pixels';
import { compileCompareKernelsWasm } from '../../../scripts/wasm.mjs';
import { seededRandom as random } from '../../fuzz/rfb-mutators';
import { KERNELS } from './engines';

function word(red: number, green: number, blue: number, alpha: number): number {
  return new Uint32Array(new Uint8Array([red, green, blue, alpha]).buffer)[0]!;
}

/** A block of `length` random opaque pixels. */
function randomFrame(arena: KernelArena, length: number, next: () => number): ArenaBlock {
  const block = arena.allocate(length * 4);
  const words = block.words();
  for (let index = 0; index < length; index++) words[index] = word((next() * 256) | 0, (next() * 256) | 0, (next() * 256) | 0, 255);
  return block;
}

/** Changes up to 5% of a frame's pixels: at the tolerance's edge (exactly maxDelta, one more), alpha only, or anyhow. */
function mutate(block: ArenaBlock, next: () => number, maxDelta: number): void {
  const bytes = block.bytesView();
  const length = block.bytes / 4;
  const changes = (next() * length * 0.05) | 0;
  for (let change = 0; change < changes; change++) {
    const at = ((next() * length) | 0) * 4 + ((next() * 4) | 0);
    const kind = next();
    const edge = Math.max(0, maxDelta) + (kind < 0.3 ? 0 : 1);
    const delta = kind < 0.6 ? edge : (next() * 256) | 0;
    bytes[at] = bytes[at]! + delta > 255 ? bytes[at]! - delta : bytes[at]! + delta;
  }
}

/** Two frames of `length` words in one arena, the second a copy of the first with some pixels changed. */
function framePair(arena: KernelArena, length: number, next: () => number, maxDelta: number): [ArenaBlock, ArenaBlock] {
  const first = randomFrame(arena, length, next);
  const second = arena.allocate(length * 4);
  second.words().set(first.words());
  mutate(second, next, maxDelta);
  return [first, second];
}

describe('compare kernels: compiling', { timeout: 30_000 }, () => {
  it('compiles the assembled module synchronously, and instantiates it', async () => {
    const kernels = compileCompareKernels(await compileCompareKernelsWasm());
    assert.notEqual(kernels, null);
    assert.ok(kernels!.createArena().capacityBytes >= 65_536);
  });

  it('gives null (the JavaScript path) for bytes the runtime cannot validate, or without WebAssembly', async () => {
    assert.equal(compileCompareKernels(new Uint8Array([0, 97, 115, 109, 9, 9, 9, 9])), null);
    const bytes = await compileCompareKernelsWasm();
    const original = Object.getOwnPropertyDescriptor(globalThis, 'WebAssembly')!;
    try {
      // A runtime without SIMD rejects the module at validation.
      Object.defineProperty(globalThis, 'WebAssembly', { value: { ...WebAssembly, validate: () => false }, configurable: true, writable: true });
      assert.equal(compileCompareKernels(bytes), null);
      Object.defineProperty(globalThis, 'WebAssembly', { value: undefined, configurable: true, writable: true });
      assert.equal(compileCompareKernels(bytes), null);
    } finally {
      Object.defineProperty(globalThis, 'WebAssembly', original);
    }
  });
});

describe('compare kernels: the arena', { timeout: 30_000 }, () => {
  it('hands out zeroed, aligned blocks and reuses freed ones, merged', () => {
    const arena = KERNELS.createArena();
    const first = arena.allocate(100);
    const second = arena.allocate(36);
    const third = arena.allocate(64);
    assert.equal(second.words().length, 9, 'views cover what was asked for');
    for (const block of [first, second, third]) assert.equal(block.offset % 16, 0);
    second.words().fill(0xdeadbeef);
    first.words().fill(7);
    arena.release(first);
    arena.release(second);
    // The two freed neighbours hold one block as large as both.
    const merged = arena.allocate(112 + 48);
    assert.equal(merged.offset, first.offset);
    assert.ok(merged.words().every((value) => value === 0), 'a reused block starts blank');
  });

  it('grows the memory for large blocks; views taken before re-bind and keep their contents', () => {
    const arena = KERNELS.createArena();
    const small = arena.allocate(64);
    const before = small.words();
    before.set([1, 2, 3]);
    const capacity = arena.capacityBytes;
    const large = arena.allocate(8 * 1024 * 1024);
    assert.ok(arena.capacityBytes > capacity);
    assert.equal(before.length, 0, 'growing detached the old view');
    assert.deepEqual([...small.words().subarray(0, 4)], [1, 2, 3, 0]);
    assert.equal(large.words().length, 2 * 1024 * 1024);
    // A freed block at the end is grown into rather than left behind.
    arena.release(large);
    const capacityAfter = arena.capacityBytes;
    arena.allocate(8 * 1024 * 1024 + 65_536);
    assert.equal(arena.capacityBytes, capacityAfter + 65_536);
  });
});

describe('compare kernels: an engine whose memory cannot grow', { timeout: 30_000 }, () => {
  it('refuses the resize and drops that replica instead of keeping it on freed memory; keeps nothing half made', () => {
    const engine = new DivergenceEngine({ kernels: KERNELS });
    const frame = new Uint8ClampedArray(32 * 16 * 4).fill(255);
    for (const id of ['r1', 'r2', 'r3']) engine.setFrame(id, 32, 16, frame, 0);
    const allocate = Object.getOwnPropertyDescriptor(KernelArena.prototype, 'allocate')!;
    try {
      Object.defineProperty(KernelArena.prototype, 'allocate', { value: () => { throw new RangeError('WebAssembly.Memory.grow(): Maximum memory size exceeded'); }, configurable: true, writable: true });
      assert.throws(() => engine.setReplicaSize('r2', 64, 32, 100), RangeError);
    } finally {
      Object.defineProperty(KernelArena.prototype, 'allocate', allocate);
    }
    assert.deepEqual(engine.replicaIds, ['r1', 'r3']);
    // The pixels' block granted, the history's refused: the pixels' block is given back.
    const release = Object.getOwnPropertyDescriptor(KernelArena.prototype, 'release')!;
    const granted: ArenaBlock[] = [];
    const released: ArenaBlock[] = [];
    try {
      Object.defineProperty(KernelArena.prototype, 'allocate', {
        value(this: KernelArena, bytes: number): ArenaBlock {
          if (granted.length > 0) throw new RangeError('WebAssembly.Memory.grow(): Maximum memory size exceeded');
          const block = (allocate.value as (bytes: number) => ArenaBlock).call(this, bytes);
          granted.push(block);
          return block;
        },
        configurable: true,
        writable: true,
      });
      Object.defineProperty(KernelArena.prototype, 'release', {
        value(this: KernelArena, block: ArenaBlock): void {
          released.push(block);
          (release.value as (block: ArenaBlock) => void).call(this, block);
        },
        configurable: true,
        writable: true,
      });
      assert.throws(() => engine.setReplicaSize('r4', 32, 16, 150), RangeError);
    } finally {
      Object.defineProperty(KernelArena.prototype, 'allocate', allocate);
      Object.defineProperty(KernelArena.prototype, 'release', release);
    }
    assert.equal(granted.length, 1);
    assert.ok(released.includes(granted[0]!), 'the half-made replica\'s pixels are given back');
    assert.deepEqual(engine.replicaIds, ['r1', 'r3']);
    engine.update('r3', { x: 0, y: 0, width: 32, height: 16 }, new Uint8ClampedArray(32 * 16 * 4), 200);
    engine.tick(200 + SETTLE_MS);
    engine.tick(200 + SETTLE_MS + CONFIRM_MS);
    assert.deepEqual(engine.state.divergences[0]?.outliers, ['r1', 'r3'], 'the two left are still compared (no majority of two)');
  });
});

describe('compare kernels: same answers as the JavaScript loops', { timeout: 60_000 }, () => {
  it('tile agreement and difference boxes, exact and tolerant, on random tiles of any size', () => {
    const next = random(1);
    const arena = KERNELS.createArena();
    const box = arena.allocate(16);
    for (let round = 0; round < 400; round++) {
      const widthPx = 1 + ((next() * 70) | 0);
      const heightPx = 1 + ((next() * 40) | 0);
      const maxDelta = next() < 0.4 ? -1 : next() < 0.2 ? (next() < 0.5 ? 0 : 255) : (next() * 40) | 0;
      const allowed = next() < 0.5 ? 0 : (next() * 6) | 0;
      const [first, second] = framePair(arena, widthPx * heightPx, next, maxDelta);
      const left = (next() * widthPx) | 0;
      const top = (next() * heightPx) | 0;
      const width = 1 + ((next() * (widthPx - left)) | 0);
      const height = 1 + ((next() * (heightPx - top)) | 0);
      const tolerance = maxDelta < 0 ? (allowed === 0 ? null : { maxChannelDelta: -1, maxDifferingPixelsPerTile: allowed }) : { maxChannelDelta: maxDelta, maxDifferingPixelsPerTile: allowed };
      const label = `round ${round}: ${widthPx}×${heightPx}, tile ${left},${top} ${width}×${height}, maxDelta ${maxDelta}, allowed ${allowed}`;
      // (JavaScript's tilesAgree reads maxChannelDelta -1 as exact, like the kernel.)
      const expectedAgree = tilesAgree(first.words(), second.words(), widthPx, left, top, width, height, tolerance, null, 16);
      assert.equal(arena.tilesAgree(first.offset, second.offset, widthPx, left, top, width, height, maxDelta, allowed), expectedAgree, label);
      const expectedBox = new Int32Array([left + width, top + height, left, top]);
      const expectedFound = growDifferenceBox(first.words(), second.words(), widthPx, left, top, width, height, maxDelta, null, 16, expectedBox);
      box.ints().set([left + width, top + height, left, top]);
      assert.equal(arena.growBox(first.offset, second.offset, widthPx, left, top, width, height, maxDelta, box.offset), expectedFound, label);
      assert.deepEqual([...box.ints()], [...expectedBox], label);
      arena.release(first);
      arena.release(second);
    }
  });

  it('the batched scan: differing bits and boxes per tile, for 1 to 12 other frames', () => {
    const next = random(2);
    const arena = KERNELS.createArena();
    for (let round = 0; round < 150; round++) {
      const widthPx = 1 + ((next() * 90) | 0);
      const heightPx = 1 + ((next() * 40) | 0);
      const tileSizePx = [4, 5, 7, 16, 16, 17, 32][(next() * 7) | 0]!;
      const columns = Math.ceil(widthPx / tileSizePx);
      const rows = Math.ceil(heightPx / tileSizePx);
      const tileCount = columns * rows;
      const maxDelta = next() < 0.5 ? -1 : (next() * 30) | 0;
      const others = 1 + ((next() * 12) | 0);
      const first = randomFrame(arena, widthPx * heightPx, next);
      const frames: ArenaBlock[] = [first];
      for (let other = 0; other < others; other++) {
        // Identical to the first, or differing in a few pixels (some near the tolerance's edge).
        const copy = arena.allocate(widthPx * heightPx * 4);
        copy.words().set(first.words());
        if (next() < 0.7) mutate(copy, next, maxDelta);
        frames.push(copy);
      }
      const runs: [number, number, number, number, number][] = [];
      for (let row = 0; row < rows; row++) {
        const fromColumn = (next() * columns) | 0;
        const toColumn = fromColumn + 1 + ((next() * (columns - fromColumn)) | 0);
        runs.push([fromColumn * tileSizePx, Math.min(widthPx, toColumn * tileSizePx), row * tileSizePx, Math.min(heightPx, (row + 1) * tileSizePx), row * columns]);
      }
      const expectedDiffering = new Uint32Array(tileCount);
      const expectedBoxes = new Int32Array(tileCount * 4);
      for (let tile = 0; tile < tileCount; tile++) expectedBoxes.set([0x7fffffff, 0x7fffffff, -1, -1], tile * 4);
      for (const [fromPx, toPx, firstY, endY, tileBase] of runs) {
        for (let y = firstY; y < endY; y++) {
          for (let index = 1; index < frames.length; index += 4) {
            const group = frames.slice(index, index + 4);
            scanRowDifferences(first.words(), group.map((block) => block.words()), group.map((_, offset) => 1 << (index + offset)), y * widthPx, y, fromPx, toPx, tileSizePx, tileBase, maxDelta, expectedDiffering, expectedBoxes);
          }
        }
      }
      const differing = arena.allocate(tileCount * 4);
      const boxes = arena.allocate(tileCount * 16);
      for (let tile = 0; tile < tileCount; tile++) boxes.ints().set([0x7fffffff, 0x7fffffff, -1, -1], tile * 4);
      const runBlock = arena.allocate(runs.length * 20);
      runBlock.ints().set(runs.flat());
      const table = arena.allocate(others * 4);
      table.words().set(frames.slice(1).map((block) => block.offset));
      arena.scan(first.offset, table.offset, others, runBlock.offset, runs.length, widthPx, tileSizePx, maxDelta, differing.offset, boxes.offset);
      const label = `round ${round}: ${widthPx}×${heightPx}, tiles of ${tileSizePx}, ${others} others, maxDelta ${maxDelta}`;
      assert.deepEqual([...differing.words()], [...expectedDiffering], label);
      assert.deepEqual([...boxes.ints()], [...expectedBoxes], label);
      assert.ok(round > 0 || expectedDiffering.some((bits) => bits !== 0), 'the first round has differences to find');
    }
  });

  it('which tiles a write changes: changed_tiles lists every tile with a differing pixel, row by row, and no other', () => {
    const next = random(4);
    const arena = KERNELS.createArena();
    let some = 0;
    let none = 0;
    for (let round = 0; round < 300; round++) {
      const widthPx = 1 + ((next() * 90) | 0);
      const heightPx = 1 + ((next() * 50) | 0);
      const tileSizePx = [4, 5, 7, 16, 17, 32][(next() * 6) | 0]!;
      const columns = Math.ceil(widthPx / tileSizePx);
      const frame = randomFrame(arena, widthPx * heightPx, next);
      const left = (next() * widthPx) | 0;
      const top = (next() * heightPx) | 0;
      const width = 1 + ((next() * (widthPx - left)) | 0);
      const height = 1 + ((next() * (heightPx - top)) | 0);
      // The source: the rectangle's pixels as they are, in a wider buffer (stride), a few changed
      // by one bit anywhere in the word (alpha included).
      const sourceStride = width + ((next() * 5) | 0);
      const source = arena.allocate(sourceStride * height * 4);
      for (let y = 0; y < height; y++) source.words().set(frame.words().subarray((top + y) * widthPx + left, (top + y) * widthPx + left + width), y * sourceStride);
      const changes = next() < 0.3 ? 0 : 1 + ((next() * 6) | 0);
      for (let change = 0; change < changes; change++) {
        const at = ((next() * height) | 0) * sourceStride + ((next() * width) | 0);
        source.words()[at] = source.words()[at]! ^ (1 << ((next() * 32) | 0));
      }
      const expected: number[] = [];
      for (let tileRow = Math.floor(top / tileSizePx); tileRow * tileSizePx < top + height; tileRow++) {
        for (let tileColumn = Math.floor(left / tileSizePx); tileColumn * tileSizePx < left + width; tileColumn++) {
          let differs = false;
          for (let y = Math.max(top, tileRow * tileSizePx); y < Math.min(top + height, (tileRow + 1) * tileSizePx); y++) {
            for (let x = Math.max(left, tileColumn * tileSizePx); x < Math.min(left + width, (tileColumn + 1) * tileSizePx); x++) {
              if (frame.words()[y * widthPx + x] !== source.words()[(y - top) * sourceStride + (x - left)]) differs = true;
            }
          }
          if (differs) expected.push(tileRow * columns + tileColumn);
        }
      }
      const out = arena.allocate(columns * Math.ceil(heightPx / tileSizePx) * 4);
      const count = arena.changedTiles(frame.offset, widthPx, source.offset, sourceStride, left, top, width, height, tileSizePx, columns, out.offset);
      assert.deepEqual([...out.ints().subarray(0, count)], expected, `round ${round}: ${widthPx}×${heightPx}, tiles of ${tileSizePx}, rect ${left},${top} ${width}×${height}, stride ${sourceStride}`);
      if (expected.length > 0) some++;
      else none++;
      for (const block of [frame, source, out]) arena.release(block);
    }
    assert.ok(some > 50 && none > 50, `rounds with and without changes (${some}, ${none})`);
  });

  it('the tile fingerprint: hash_tile gives what hashTile gives, for every tile width in whole 4-pixel chunks and any seed', () => {
    const next = random(3);
    const arena = KERNELS.createArena();
    const out = new Uint32Array(2);
    const expected = new Uint32Array(2);
    const seen = new Set<string>();
    for (let round = 0; round < 300; round++) {
      const width = 4 * (1 + ((next() * 20) | 0));
      const height = 1 + ((next() * 40) | 0);
      const left = (next() * 9) | 0;
      const top = (next() * 5) | 0;
      const stride = left + width + ((next() * 7) | 0);
      const frame = randomFrame(arena, stride * (top + height), next);
      // Some rounds with few distinct words (flat areas), where lanes get equal inputs.
      if (round % 3 === 0) for (let index = 0; index < frame.words().length; index++) frame.words()[index] = frame.words()[index]! & 0xff000001;
      const label = `round ${round}: ${width}×${height} at (${left}, ${top}), stride ${stride}`;
      // Half the rounds under a seed: both sides mix it in alike.
      if (round % 2 === 1) {
        const seed = { low: (next() * 2 ** 32) | 0, high: (next() * 2 ** 32) | 0 };
        arena.hashTile(frame.offset, stride, left, top, width, height, out, seed);
        hashTile(frame.words(), stride, left, top, width, height, null, width, expected, seed);
        assert.deepEqual([...out], [...expected], `${label}, seed ${seed.low}:${seed.high}`);
      }
      arena.hashTile(frame.offset, stride, left, top, width, height, out);
      hashTile(frame.words(), stride, left, top, width, height, null, width, expected);
      assert.deepEqual([...out], [...expected], label);
      seen.add(`${out[0]}:${out[1]}`);
      // Any one word of the tile changes the print, and so does swapping two columns' words.
      const column = (next() * width) | 0;
      const row = (next() * height) | 0;
      const at = (top + row) * stride + left + column;
      frame.words()[at] = frame.words()[at]! ^ 0x00010000;
      arena.hashTile(frame.offset, stride, left, top, width, height, expected);
      assert.notDeepEqual([...expected], [...out], `${label}: word (${column}, ${row}) changed`);
      frame.words()[at] = frame.words()[at]! ^ 0x00010000;
      const other = (column + 1 + ((next() * (width - 1)) | 0)) % width;
      const words = frame.words();
      const rowStart = (top + row) * stride + left;
      if (words[rowStart + column] !== words[rowStart + other]) {
        [words[rowStart + column], words[rowStart + other]] = [words[rowStart + other]!, words[rowStart + column]!];
        arena.hashTile(frame.offset, stride, left, top, width, height, expected);
        assert.notDeepEqual([...expected], [...out], `${label}: columns ${column} and ${other} swapped`);
      }
      arena.release(frame);
    }
    assert.equal(seen.size, 300, 'every tile got its own print');
  });

  it('the memory floor XOR-reduces every word', () => {
    const arena = KERNELS.createArena();
    for (const length of [0, 1, 3, 4, 15, 16, 17, 1000, 4099]) {
      const block = arena.allocate(Math.max(4, length * 4));
      const words = block.words().subarray(0, length);
      let expected = 0;
      for (let index = 0; index < length; index++) {
        words[index] = Math.imul(index + 1, 2654435761) >>> 0;
        expected ^= words[index]!;
      }
      assert.equal(arena.xorReduce(block, length * 4) >>> 0, expected >>> 0, `${length} words`);
    }
  });
});
