// The tile loops on real RGBA buffers: exact equality, tolerance (channel delta and pixel count),
// masks, the box of differing pixels and the fingerprint of a tile's state.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  UNSEEDED,
  channelDelta,
  growDifferenceBox,
  hashTile,
  randomFingerprintSeed,
  scanRowDifferences,
  tilesAgree,
  tilesEqual,
  type FingerprintSeed,
} from '../../../common/divergence/tile-pixels';

const WIDTH = 48;
const HEIGHT = 32;

function frame(): Uint32Array {
  const bytes = new Uint8ClampedArray(WIDTH * HEIGHT * 4);
  for (let pixel = 0; pixel < WIDTH * HEIGHT; pixel++) bytes.set([pixel % 251, (pixel * 3) % 256, 100, 255], pixel * 4);
  return new Uint32Array(bytes.buffer);
}

/** Adds `delta` to the red channel of pixel (x, y). */
function nudge(pixels: Uint32Array, x: number, y: number, delta: number): void {
  const bytes = new Uint8Array(pixels.buffer);
  bytes[(y * WIDTH + x) * 4] = bytes[(y * WIDTH + x) * 4]! + delta;
}

function emptyBox(): Int32Array {
  return new Int32Array([1 << 30, 1 << 30, -(1 << 30), -(1 << 30)]);
}

describe('tile comparison', { timeout: 60_000 }, () => {
  it('finds one differing pixel, and only in the tile that holds it', () => {
    const first = frame();
    const second = frame();
    assert.equal(tilesEqual(first, second, WIDTH, 16, 16, 16, 16), true);
    nudge(second, 31, 31, 1);
    assert.equal(tilesEqual(first, second, WIDTH, 16, 16, 16, 16), false);
    assert.equal(tilesEqual(first, second, WIDTH, 0, 16, 16, 16), true);
    assert.equal(tilesEqual(first, second, WIDTH, 32, 16, 16, 16), true);
    assert.equal(tilesEqual(first, second, WIDTH, 16, 0, 16, 16), true);
  });

  it('measures colour distance as the largest R, G or B difference, ignoring alpha', () => {
    const word = (red: number, green: number, blue: number, alpha: number): number => new Uint32Array(new Uint8Array([red, green, blue, alpha]).buffer)[0]!;
    assert.equal(channelDelta(word(10, 20, 30, 255), word(13, 15, 30, 0)), 5);
    assert.equal(channelDelta(word(0, 0, 255, 255), word(0, 0, 0, 255)), 255);
  });

  it('tolerates small colour differences and a few differing pixels, not more', () => {
    const first = frame();
    const second = frame();
    nudge(second, 3, 3, 4);
    const exact = null;
    assert.equal(tilesAgree(first, second, WIDTH, 0, 0, 16, 16, exact, null, 16), false);
    assert.equal(tilesAgree(first, second, WIDTH, 0, 0, 16, 16, { maxChannelDelta: 4, maxDifferingPixelsPerTile: 0 }, null, 16), true);
    assert.equal(tilesAgree(first, second, WIDTH, 0, 0, 16, 16, { maxChannelDelta: 3, maxDifferingPixelsPerTile: 0 }, null, 16), false);
    assert.equal(tilesAgree(first, second, WIDTH, 0, 0, 16, 16, { maxChannelDelta: 3, maxDifferingPixelsPerTile: 1 }, null, 16), true);
    nudge(second, 9, 9, 40);
    assert.equal(tilesAgree(first, second, WIDTH, 0, 0, 16, 16, { maxChannelDelta: 3, maxDifferingPixelsPerTile: 1 }, null, 16), false);
    assert.equal(tilesAgree(first, second, WIDTH, 0, 0, 16, 16, { maxChannelDelta: 3, maxDifferingPixelsPerTile: 2 }, null, 16), true);
  });

  it('skips masked pixels', () => {
    const first = frame();
    const second = frame();
    nudge(second, 5, 2, 9);
    const mask = new Uint8Array(16 * 16).fill(1);
    mask[2 * 16 + 5] = 0;
    assert.equal(tilesAgree(first, second, WIDTH, 0, 0, 16, 16, null, mask, 16), true);
    nudge(second, 6, 2, 9);
    assert.equal(tilesAgree(first, second, WIDTH, 0, 0, 16, 16, null, mask, 16), false);
  });

  it('boxes exactly the differing pixels', () => {
    const first = frame();
    const second = frame();
    nudge(second, 18, 5, 1);
    nudge(second, 22, 12, 1);
    const box = emptyBox();
    growDifferenceBox(first, second, WIDTH, 16, 0, 16, 16, -1, null, 16, box);
    assert.deepEqual([...box], [18, 5, 23, 13]);
    const tolerant = emptyBox();
    growDifferenceBox(first, second, WIDTH, 16, 0, 16, 16, 1, null, 16, tolerant);
    assert.deepEqual([...tolerant], [1 << 30, 1 << 30, -(1 << 30), -(1 << 30)], 'differences within the tolerance are not boxed');
  });

  it('fingerprints a state: same pixels same print, one pixel changes it, masked pixels do not', () => {
    const first = frame();
    const second = frame();
    const printOf = (pixels: Uint32Array, mask: Uint8Array | null = null): string => {
      const out = new Uint32Array(2);
      hashTile(pixels, WIDTH, 16, 16, 16, 16, mask, 16, out);
      return `${out[0]}:${out[1]}`;
    };
    assert.equal(printOf(first), printOf(second));
    nudge(second, 20, 20, 1);
    assert.notEqual(printOf(first), printOf(second));
    const mask = new Uint8Array(16 * 16).fill(1);
    mask[4 * 16 + 4] = 0;
    assert.equal(printOf(first, mask), printOf(second, mask));
  });

  it('fingerprints under a seed: the same pixels agree under one seed and not across seeds', () => {
    const pixels = frame();
    const printOf = (seed: FingerprintSeed): string => {
      const out = new Uint32Array(2);
      hashTile(pixels, WIDTH, 16, 16, 16, 16, null, 16, out, seed);
      return `${out[0]}:${out[1]}`;
    };
    const [one, two] = [randomFingerprintSeed(), randomFingerprintSeed()];
    assert.notDeepEqual(one, two, 'each engine draws its own seed');
    assert.equal(printOf(one), printOf({ ...one }));
    assert.notEqual(printOf(one), printOf(two));
    assert.notEqual(printOf(one), printOf(UNSEEDED));
    // Each half of the seed reaches its half of the print.
    assert.notEqual(printOf({ low: one.low, high: 0 }).split(':')[0], printOf(UNSEEDED).split(':')[0]);
    assert.notEqual(printOf({ low: 0, high: one.high }).split(':')[1], printOf(UNSEEDED).split(':')[1]);
  });
});

describe('row scan', { timeout: 60_000 }, () => {
  /** A seeded pseudo-random generator (the cases must be the same on every run). */
  function random(seed: number): () => number {
    let state = seed;
    return () => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return state / 2 ** 32;
    };
  }

  for (const maxDelta of [-1, 2]) {
    it(`finds exactly the differing tiles, per replica, and their boxes (${maxDelta < 0 ? 'exact' : 'tolerance 2'}; against a pixel-by-pixel reference)`, () => {
      const width = 70;
      const height = 40;
      const size = 16;
      const columns = Math.ceil(width / size);
      const rows = Math.ceil(height / size);
      const next = random(7 + maxDelta);
      const differs = (a: number, b: number): boolean => a !== b && (maxDelta < 0 || channelDelta(a, b) > maxDelta);
      for (let trial = 0; trial < 40; trial++) {
        const first = new Uint32Array(width * height).map(() => 100 + Math.floor(next() * 4));
        const count = 1 + (trial % 4);
        const others = Array.from({ length: count }, () => {
          const other = first.slice();
          const changes = Math.floor(next() * 12);
          for (let change = 0; change < changes; change++) other[Math.floor(next() * other.length)] = 10 + change;
          // Small colour slips (within the tolerance) everywhere in some trials.
          if (next() < 0.3) for (let pixel = 0; pixel < other.length; pixel += 3) other[pixel] = other[pixel]! + 1;
          if (next() < 0.2) other.fill(7, 0, Math.floor(next() * other.length));
          return other;
        });
        const bits = others.map((_, index) => 1 << (index + 1));
        const differing = new Uint32Array(columns * rows);
        const boxes = new Int32Array(columns * rows * 4);
        for (let tile = 0; tile < columns * rows; tile++) boxes.set([1e9, 1e9, -1, -1], tile * 4);
        for (let y = 0; y < height; y++) scanRowDifferences(first, others, bits, y * width, y, 0, width, size, Math.floor(y / size) * columns, maxDelta, differing, boxes);
        for (let tile = 0; tile < columns * rows; tile++) {
          let expectedBits = 0;
          const expectedBox = [1e9, 1e9, -1, -1];
          const left = (tile % columns) * size;
          const top = Math.floor(tile / columns) * size;
          for (let y = top; y < Math.min(height, top + size); y++) {
            for (let x = left; x < Math.min(width, left + size); x++) {
              others.forEach((other, index) => {
                if (!differs(first[y * width + x]!, other[y * width + x]!)) return;
                expectedBits |= bits[index]!;
                expectedBox[0] = Math.min(expectedBox[0]!, x);
                expectedBox[1] = Math.min(expectedBox[1]!, y);
                expectedBox[2] = Math.max(expectedBox[2]!, x + 1);
                expectedBox[3] = Math.max(expectedBox[3]!, y + 1);
              });
            }
          }
          assert.equal(differing[tile], expectedBits, `trial ${trial}, tile ${tile}: bits`);
          assert.deepEqual([...boxes.subarray(tile * 4, tile * 4 + 4)], expectedBox, `trial ${trial}, tile ${tile}: box`);
        }
      }
    });
  }
});
