// The hot loops over RGBA framebuffers read as 32-bit words (one word = one pixel): compare, hash and
// box one tile, and scan a row of many tiles against several replicas at once. No allocation and no
// closures inside; pure, any runtime.

/**
 * Which pixels of a tile take part in comparisons: one byte per pixel of a full tile
 * (row-major, `tileSizePx` wide), 1 = compared, 0 = inside an ignore region.
 */
export type TileMask = Uint8Array;

/** Colour tolerance: how far two pixels may be apart, and how many such pixels a tile may hold. */
export interface Tolerance {
  /**
   * Largest accepted difference on any of R, G, B (0–255; alpha is not compared: noVNC's canvas
   * is opaque). A pixel whose channels all differ by at most this much counts as equal.
   */
  readonly maxChannelDelta: number;
  /** A tile still agrees when at most this many of its pixels differ by more than maxChannelDelta. */
  readonly maxDifferingPixelsPerTile: number;
}

// Where R, G and B sit inside a 32-bit word read from RGBA bytes (little-endian on every platform
// RetroVisor targets; big-endian handled for completeness).
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const RED_SHIFT = LITTLE_ENDIAN ? 0 : 24;
const GREEN_SHIFT = LITTLE_ENDIAN ? 8 : 16;
const BLUE_SHIFT = LITTLE_ENDIAN ? 16 : 8;

/** Largest per-channel (R, G, B) difference between two pixels given as words. */
export function channelDelta(first: number, second: number): number {
  const red = Math.abs(((first >>> RED_SHIFT) & 255) - ((second >>> RED_SHIFT) & 255));
  const green = Math.abs(((first >>> GREEN_SHIFT) & 255) - ((second >>> GREEN_SHIFT) & 255));
  const blue = Math.abs(((first >>> BLUE_SHIFT) & 255) - ((second >>> BLUE_SHIFT) & 255));
  return red > green ? (red > blue ? red : blue) : green > blue ? green : blue;
}

/**
 * True when the tile (left, top, width, height) is bit-identical in both framebuffers (same
 * stride, in pixels). Stops at the first differing word.
 */
export function tilesEqual(first: Uint32Array, second: Uint32Array, strideWords: number, left: number, top: number, width: number, height: number): boolean {
  let rowStart = top * strideWords + left;
  for (let row = 0; row < height; row++) {
    const rowEnd = rowStart + width;
    for (let index = rowStart; index < rowEnd; index++) {
      if (first[index] !== second[index]) return false;
    }
    rowStart += strideWords;
  }
  return true;
}

/**
 * Compares one tile of two framebuffers under an optional tolerance and mask: true when they
 * agree. Exact without a tolerance (bit equality of the compared pixels).
 */
export function tilesAgree(
  first: Uint32Array,
  second: Uint32Array,
  strideWords: number,
  left: number,
  top: number,
  width: number,
  height: number,
  tolerance: Tolerance | null,
  mask: TileMask | null,
  maskStride: number,
): boolean {
  if (tolerance === null && mask === null) return tilesEqual(first, second, strideWords, left, top, width, height);
  const maxDelta = tolerance === null ? -1 : tolerance.maxChannelDelta;
  const allowed = tolerance === null ? 0 : tolerance.maxDifferingPixelsPerTile;
  let differing = 0;
  let rowStart = top * strideWords + left;
  for (let row = 0; row < height; row++) {
    const maskRow = row * maskStride - rowStart;
    const rowEnd = rowStart + width;
    for (let index = rowStart; index < rowEnd; index++) {
      const a = first[index]!;
      const b = second[index]!;
      if (a === b) continue;
      if (mask !== null && mask[maskRow + index] === 0) continue;
      if (maxDelta >= 0 && channelDelta(a, b) <= maxDelta) continue;
      differing += 1;
      if (differing > allowed) return false;
    }
    rowStart += strideWords;
  }
  return true;
}

/**
 * Grows the box at `boxes[boxOffset..+4]` ([left, top, right, bottom) in framebuffer pixels) to
 * hold every pixel of the area that differs between the two framebuffers (beyond
 * `maxChannelDelta` when given, -1 for exact), skipping masked pixels. True when any differs.
 * Per row it looks for the first difference from the left and the last from the right only.
 */
export function growDifferenceBox(
  first: Uint32Array,
  second: Uint32Array,
  strideWords: number,
  left: number,
  top: number,
  width: number,
  height: number,
  maxChannelDelta: number,
  mask: TileMask | null,
  maskStride: number,
  boxes: Int32Array,
  boxOffset = 0,
): boolean {
  let boxLeft = boxes[boxOffset]!;
  let boxTop = boxes[boxOffset + 1]!;
  let boxRight = boxes[boxOffset + 2]!;
  let boxBottom = boxes[boxOffset + 3]!;
  let found = false;
  let rowStart = top * strideWords + left;
  for (let row = 0; row < height; row++) {
    const maskRow = row * maskStride;
    let firstColumn = 0;
    while (firstColumn < width && !pixelsDiffer(first[rowStart + firstColumn]!, second[rowStart + firstColumn]!, maxChannelDelta, mask, maskRow + firstColumn)) firstColumn++;
    if (firstColumn < width) {
      let lastColumn = width - 1;
      while (!pixelsDiffer(first[rowStart + lastColumn]!, second[rowStart + lastColumn]!, maxChannelDelta, mask, maskRow + lastColumn)) lastColumn--;
      const y = top + row;
      if (left + firstColumn < boxLeft) boxLeft = left + firstColumn;
      if (left + lastColumn + 1 > boxRight) boxRight = left + lastColumn + 1;
      if (y < boxTop) boxTop = y;
      if (y + 1 > boxBottom) boxBottom = y + 1;
      found = true;
    }
    rowStart += strideWords;
  }
  boxes[boxOffset] = boxLeft;
  boxes[boxOffset + 1] = boxTop;
  boxes[boxOffset + 2] = boxRight;
  boxes[boxOffset + 3] = boxBottom;
  return found;
}

/** True when two pixels differ (beyond `maxChannelDelta` unless it is -1) and the mask compares them. */
function pixelsDiffer(a: number, b: number, maxChannelDelta: number, mask: TileMask | null, maskIndex: number): boolean {
  if (a === b) return false;
  if (mask !== null && mask[maskIndex] === 0) return false;
  return maxChannelDelta < 0 || channelDelta(a, b) > maxChannelDelta;
}

/** The fingerprint's lanes: the word in column c of a tile row is mixed into lane c mod HASH_LANES. */
export const HASH_LANES = 16;

/**
 * A secret mixed into every fingerprint's start (two 32-bit words). The fingerprint is no
 * cryptographic hash: with the constants alone public, a hostile server could search offline for
 * two screens of a tile with the same fingerprint and pass one for the other (a change taken for
 * none, or a state taken for one of a blink's). Each engine draws its own seed, so the search
 * would have to be made against a value it never sees. Fingerprints are only ever compared within
 * one engine.
 */
export interface FingerprintSeed {
  readonly low: number;
  readonly high: number;
}

/** No seed: the fingerprint of the constants alone (tests; hashTile's default). */
export const UNSEEDED: FingerprintSeed = { low: 0, high: 0 };

/** The Web Crypto global every runtime RetroVisor uses has (Node 20, Chromium, workers), typed locally: common/ is compiled without the DOM's declarations. */
interface RandomSource {
  getRandomValues(array: Uint32Array): Uint32Array;
}

/** A fresh seed from the runtime's cryptographic random source. */
export function randomFingerprintSeed(): FingerprintSeed {
  const source = (globalThis as { crypto?: RandomSource }).crypto;
  if (source === undefined) throw new Error('no cryptographic random source (globalThis.crypto) in this runtime');
  const words = source.getRandomValues(new Uint32Array(2));
  return { low: words[0]! | 0, high: words[1]! | 0 };
}

/**
 * A 64-bit fingerprint of a tile's compared pixels, as two 32-bit halves written to `out`.
 * Identifies the states a blinking tile cycles through; never used to declare two settled tiles
 * equal (those are compared pixel by pixel).
 *
 * The definition (the kernels' hash_tile computes the same for tiles without a mask): HASH_LANES
 * lanes, each two multiplicative chains (FNV-1a over words; multiply-add) started from the tile's
 * width and height and the seed; the word in column c of each row, top to bottom, goes into lane c mod 16
 * (masked words are left out); then the lanes are folded in order, 0 to 15, by the same two steps,
 * and each half avalanched. Sixteen independent chains instead of one, so that SIMD runs four at
 * a time (hash_tile: 1.3 ms for a 1080p screen of tiles, this loop 3.9–5.8 ms, in Node). This loop
 * is the reference, and serves masked tiles, widths not in whole 4-pixel chunks and runtimes
 * without SIMD; it costs about 1.4 times what the former single chain did.
 */
export function hashTile(
  pixels: Uint32Array,
  strideWords: number,
  left: number,
  top: number,
  width: number,
  height: number,
  mask: TileMask | null,
  maskStride: number,
  out: Uint32Array,
  seed: FingerprintSeed = UNSEEDED,
): void {
  const startLow = 0x811c9dc5 ^ width ^ seed.low;
  const startHigh = 0x9e3779b9 ^ (height << 16) ^ seed.high;
  let foldLow = 0x811c9dc5;
  let foldHigh = 0x9e3779b9;
  const origin = top * strideWords + left;
  // Four lanes at a time (lanes 4g..4g+3: columns 4g..4g+3 of every 16), four independent chains
  // per half; then those four folded, in lane order.
  for (let group = 0; group < HASH_LANES; group += 4) {
    let low0 = startLow;
    let low1 = startLow;
    let low2 = startLow;
    let low3 = startLow;
    let high0 = startHigh;
    let high1 = startHigh;
    let high2 = startHigh;
    let high3 = startHigh;
    for (let row = 0; row < height; row++) {
      const rowStart = origin + row * strideWords;
      const maskRow = row * maskStride;
      for (let column = group; column < width; column += HASH_LANES) {
        if (column + 3 < width && mask === null) {
          const at = rowStart + column;
          const word0 = pixels[at]!;
          const word1 = pixels[at + 1]!;
          const word2 = pixels[at + 2]!;
          const word3 = pixels[at + 3]!;
          low0 = Math.imul(low0 ^ word0, 0x01000193);
          low1 = Math.imul(low1 ^ word1, 0x01000193);
          low2 = Math.imul(low2 ^ word2, 0x01000193);
          low3 = Math.imul(low3 ^ word3, 0x01000193);
          high0 = Math.imul(high0 + word0, 0x5bd1e995);
          high1 = Math.imul(high1 + word1, 0x5bd1e995);
          high2 = Math.imul(high2 + word2, 0x5bd1e995);
          high3 = Math.imul(high3 + word3, 0x5bd1e995);
          continue;
        }
        // A chunk cut by the tile's edge, or under a mask: word by word (masked words left out).
        for (let lane = 0; lane < 4 && column + lane < width; lane++) {
          if (mask !== null && mask[maskRow + column + lane] === 0) continue;
          const word = pixels[rowStart + column + lane]!;
          if (lane === 0) {
            low0 = Math.imul(low0 ^ word, 0x01000193);
            high0 = Math.imul(high0 + word, 0x5bd1e995);
          } else if (lane === 1) {
            low1 = Math.imul(low1 ^ word, 0x01000193);
            high1 = Math.imul(high1 + word, 0x5bd1e995);
          } else if (lane === 2) {
            low2 = Math.imul(low2 ^ word, 0x01000193);
            high2 = Math.imul(high2 + word, 0x5bd1e995);
          } else {
            low3 = Math.imul(low3 ^ word, 0x01000193);
            high3 = Math.imul(high3 + word, 0x5bd1e995);
          }
        }
      }
    }
    foldLow = Math.imul(Math.imul(Math.imul(Math.imul(foldLow ^ low0, 0x01000193) ^ low1, 0x01000193) ^ low2, 0x01000193) ^ low3, 0x01000193);
    foldHigh = Math.imul(Math.imul(Math.imul(Math.imul(foldHigh + high0, 0x5bd1e995) + high1, 0x5bd1e995) + high2, 0x5bd1e995) + high3, 0x5bd1e995);
  }
  finishHash(foldLow, foldHigh, out);
}

/** The fingerprint's last step: each half avalanched, written to out[0..2). */
function finishHash(low: number, high: number, out: Uint32Array): void {
  low ^= low >>> 16;
  low = Math.imul(low, 0x85ebca6b);
  low ^= low >>> 13;
  high ^= high >>> 15;
  high = Math.imul(high, 0xc2b2ae35);
  high ^= high >>> 16;
  out[0] = low;
  out[1] = high;
}

/** Up to this many replicas are scanned against the first in one pass (see `scanRowDifferences`). */
export const SCAN_WIDTH = 4;

/**
 * Scans one framebuffer row, columns [fromPx, toPx), of `first` against 1–SCAN_WIDTH `others` in
 * one flat pass that reads each word of `first` once (the fast path for many tiles at once). For
 * each tile where `others[k]` holds a differing pixel (beyond `maxChannelDelta`, or any bit
 * difference when it is -1) it sets `bits[k]` in `differing[tile]` and grows the tile's box in
 * `boxes` (four numbers per tile: left, top, right, bottom) to that row's first and last differing
 * pixel in the tile. After a difference the rest of that tile's row is settled at once (forwards
 * to the first, backwards to the last difference per replica), then the scan moves to the next
 * tile: a row of a wholly different tile costs a few comparisons, not sixteen.
 */
export function scanRowDifferences(
  first: Uint32Array,
  others: readonly Uint32Array[],
  bits: readonly number[],
  rowStart: number,
  y: number,
  fromPx: number,
  toPx: number,
  tileSizePx: number,
  rowTileBase: number,
  maxChannelDelta: number,
  differing: Uint32Array,
  boxes: Int32Array,
): void {
  let index = rowStart + fromPx;
  const end = rowStart + toPx;
  while (index < end) {
    index = firstDifference(first, others, index, end);
    if (index >= end) return;
    const column = ((index - rowStart) / tileSizePx) | 0;
    const tileEnd = Math.min(rowStart + (column + 1) * tileSizePx, end);
    const tile = rowTileBase + column;
    let rowFirst = tileEnd;
    let rowLast = -1;
    let rowBits = 0;
    for (let which = 0; which < others.length; which++) {
      const other = others[which]!;
      let from = index;
      let last = tileEnd - 1;
      if (maxChannelDelta < 0) {
        while (from < tileEnd && first[from] === other[from]) from++;
        if (from === tileEnd) continue;
        while (first[last] === other[last]) last--;
      } else {
        while (from < tileEnd && !pixelsDiffer(first[from]!, other[from]!, maxChannelDelta, null, 0)) from++;
        if (from === tileEnd) continue;
        while (!pixelsDiffer(first[last]!, other[last]!, maxChannelDelta, null, 0)) last--;
      }
      rowBits |= bits[which]!;
      if (from < rowFirst) rowFirst = from;
      if (last > rowLast) rowLast = last;
    }
    if (rowBits !== 0) {
      differing[tile] = differing[tile]! | rowBits;
      const box = tile * 4;
      if (rowFirst - rowStart < boxes[box]!) boxes[box] = rowFirst - rowStart;
      if (y < boxes[box + 1]!) boxes[box + 1] = y;
      if (rowLast - rowStart + 1 > boxes[box + 2]!) boxes[box + 2] = rowLast - rowStart + 1;
      if (y + 1 > boxes[box + 3]!) boxes[box + 3] = y + 1;
    }
    index = tileEnd;
  }
}

/** The first index in [from, end) where any of `others` differs from `first` (bit for bit), or `end`. */
function firstDifference(first: Uint32Array, others: readonly Uint32Array[], from: number, end: number): number {
  // One specialised loop per width: `first` is read once per word, whatever the width.
  switch (others.length) {
    case 1:
      return firstDifference1(first, others[0]!, from, end);
    case 2:
      return firstDifference2(first, others[0]!, others[1]!, from, end);
    case 3:
      return firstDifference3(first, others[0]!, others[1]!, others[2]!, from, end);
    default:
      return firstDifference4(first, others[0]!, others[1]!, others[2]!, others[3]!, from, end);
  }
}

function firstDifference1(first: Uint32Array, a: Uint32Array, from: number, end: number): number {
  for (let index = from; index < end; index++) if (first[index] !== a[index]) return index;
  return end;
}

function firstDifference2(first: Uint32Array, a: Uint32Array, b: Uint32Array, from: number, end: number): number {
  for (let index = from; index < end; index++) {
    const word = first[index];
    if (word !== a[index] || word !== b[index]) return index;
  }
  return end;
}

function firstDifference3(first: Uint32Array, a: Uint32Array, b: Uint32Array, c: Uint32Array, from: number, end: number): number {
  for (let index = from; index < end; index++) {
    const word = first[index];
    if (word !== a[index] || word !== b[index] || word !== c[index]) return index;
  }
  return end;
}

function firstDifference4(first: Uint32Array, a: Uint32Array, b: Uint32Array, c: Uint32Array, d: Uint32Array, from: number, end: number): number {
  for (let index = from; index < end; index++) {
    const word = first[index];
    if (word !== a[index] || word !== b[index] || word !== c[index] || word !== d[index]) return index;
  }
  return end;
}
