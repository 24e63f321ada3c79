// The diff view's pixel logic: compares two RGBA screens (exactly, or under the profile's
// colour tolerance, skipping its ignore regions), counts the differing pixels, groups them into
// outlined regions and paints the diff picture (equal pixels dimmed to grey, differing pixels in one
// strong colour, ignored pixels tinted blue). Runs in the renderer, DOM-free: tested in plain Node.

import type { PixelRect } from '../../common/divergence';

/** An RGBA picture, row by row: getImageData(...) or any buffer of width × height × 4 bytes. */
export interface RgbaImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8ClampedArray | Uint8Array;
}

/** Differing pixels are painted in this colour (RGBA): saturated, while every equal pixel is grey. */
export const DIFF_HIGHLIGHT_RGBA: readonly [number, number, number, number] = [255, 36, 92, 255];
/** Pixels inside an ignore region are painted in this tint (RGB, scaled by their luma). */
export const DIFF_IGNORED_TINT: readonly [number, number, number] = [60, 90, 150];
/** Differences closer than this many pixels (one grid cell) are outlined as one region. */
export const DIFF_CELL_PX = 16;
/** Most regions returned (a screen differing everywhere would otherwise give thousands of boxes). */
export const MAX_DIFF_REGIONS = 256;

/** The outcome of comparing two screens. */
export type DiffOutcome =
  | {
      readonly kind: 'compared';
      readonly width: number;
      readonly height: number;
      /** Pixels that differ: any RGBA bit, or beyond the tolerance's channel delta (ignored pixels never count). */
      readonly differingPixels: number;
      /** Pixels that differ but within the tolerance's channel delta (0 without a tolerance). */
      readonly toleratedPixels: number;
      /** Pixels inside the ignore regions (not compared). */
      readonly ignoredPixels: number;
      /** Tight boxes around groups of differing pixels, top to bottom; at most MAX_DIFF_REGIONS. */
      readonly regions: readonly PixelRect[];
      /** More groups than MAX_DIFF_REGIONS existed: the last region is the bounding box of the rest. */
      readonly regionsMerged: boolean;
    }
  | {
      readonly kind: 'size-mismatch';
      readonly subject: { readonly width: number; readonly height: number };
      readonly reference: { readonly width: number; readonly height: number };
    };

/** Why two screens of different sizes are not compared pixel by pixel, in words for the user. */
export function describeSizeMismatch(subjectName: string, subject: { width: number; height: number }, referenceName: string, reference: { width: number; height: number }): string {
  return (
    `${subjectName}'s desktop is ${subject.width}×${subject.height}, ${referenceName}'s is ${reference.width}×${reference.height}: ` +
    'screens of different sizes are not compared pixel by pixel (the size difference itself is the divergence). ' +
    'Switch between the two screens above to see each one.'
  );
}

function checkImage(image: RgbaImage, name: string): void {
  if (!(Number.isInteger(image.width) && Number.isInteger(image.height) && image.width >= 0 && image.height >= 0)) {
    throw new RangeError(`${name}: width and height must be whole numbers ≥ 0, not ${image.width}×${image.height}`);
  }
  if (image.data.length !== image.width * image.height * 4) {
    throw new RangeError(`${name}: expected ${image.width * image.height * 4} bytes for ${image.width}×${image.height} RGBA, got ${image.data.length}`);
  }
}

/** A 32-bit view of the image's bytes (copied once when the buffer is not 4-byte aligned). */
function words(data: Uint8ClampedArray | Uint8Array): Uint32Array {
  if (data.byteOffset % 4 === 0) return new Uint32Array(data.buffer, data.byteOffset, data.length >> 2);
  const copy = new Uint8Array(data.length);
  copy.set(data);
  return new Uint32Array(copy.buffer);
}

/** How the diff view compares: the session profile's tolerance and ignore regions (docs/profiles.md). */
export interface DiffOptions {
  /** A pixel differs when its R, G or B differs by more than this (alpha ignored); null: any bit. */
  readonly maxChannelDelta?: number | null;
  /** Framebuffer rectangles never compared. */
  readonly ignoreRegions?: readonly PixelRect[];
}

/** One byte per pixel: 1 inside an ignore region. Null when there is none. */
function ignoreMask(width: number, height: number, regions: readonly PixelRect[]): Uint8Array | null {
  if (regions.length === 0) return null;
  const mask = new Uint8Array(width * height);
  for (const region of regions) {
    const left = Math.max(0, region.x);
    const top = Math.max(0, region.y);
    const right = Math.min(width, region.x + region.width);
    const bottom = Math.min(height, region.y + region.height);
    for (let y = top; y < bottom; y++) mask.fill(1, y * width + left, y * width + Math.max(left, right));
  }
  return mask;
}

/** The largest of the R, G, B differences of two RGBA words (alpha ignored). */
function channelDelta(a: number, b: number): number {
  const r = Math.abs((a & 0xff) - (b & 0xff));
  const g = Math.abs(((a >>> 8) & 0xff) - ((b >>> 8) & 0xff));
  const bl = Math.abs(((a >>> 16) & 0xff) - ((b >>> 16) & 0xff));
  return r > g ? (r > bl ? r : bl) : g > bl ? g : bl;
}

/**
 * Compares `subject` with `reference`: exactly, or under `options` (a channel-delta tolerance;
 * ignore regions, never compared). With `out` (width × height × 4 bytes, e.g. an ImageData's data),
 * paints the diff picture there: equal and tolerated pixels as the subject's pixel in dimmed grey,
 * ignored pixels tinted DIFF_IGNORED_TINT, differing pixels in DIFF_HIGHLIGHT_RGBA. Screens of
 * different sizes are not compared.
 */
export function diffImages(subject: RgbaImage, reference: RgbaImage, out?: Uint8ClampedArray | Uint8Array, options: DiffOptions = {}): DiffOutcome {
  checkImage(subject, 'subject');
  checkImage(reference, 'reference');
  if (subject.width !== reference.width || subject.height !== reference.height) {
    return { kind: 'size-mismatch', subject: { width: subject.width, height: subject.height }, reference: { width: reference.width, height: reference.height } };
  }
  const { width, height } = subject;
  if (out !== undefined && out.length !== width * height * 4) {
    throw new RangeError(`out: expected ${width * height * 4} bytes, got ${out.length}`);
  }
  const a = words(subject.data);
  const b = words(reference.data);
  const source = subject.data;
  const [hr, hg, hb, ha] = DIFF_HIGHLIGHT_RGBA;
  const [ir, ig, ib] = DIFF_IGNORED_TINT;
  const maxDelta = options.maxChannelDelta ?? null;
  const mask = ignoreMask(width, height, options.ignoreRegions ?? []);
  let toleratedPixels = 0;
  let ignoredPixels = 0;

  const cellsX = Math.ceil(width / DIFF_CELL_PX);
  const cellsY = Math.ceil(height / DIFF_CELL_PX);
  // Per grid cell, the box of its differing pixels (minX = -1: none).
  const minX = new Int32Array(cellsX * cellsY).fill(-1);
  const maxX = new Int32Array(cellsX * cellsY);
  const minY = new Int32Array(cellsX * cellsY);
  const maxY = new Int32Array(cellsX * cellsY);
  let differingPixels = 0;

  for (let y = 0; y < height; y++) {
    const rowStart = y * width;
    const cellRow = Math.floor(y / DIFF_CELL_PX) * cellsX;
    for (let x = 0; x < width; x++) {
      const index = rowStart + x;
      const offset = index * 4;
      if (mask !== null && mask[index] === 1) {
        ignoredPixels++;
        if (out !== undefined) {
          const luma = ((source[offset] as number) * 77 + (source[offset + 1] as number) * 150 + (source[offset + 2] as number) * 29) >> 8;
          const scale = 96 + ((luma * 96) >> 8);
          out[offset] = (ir * scale) >> 8;
          out[offset + 1] = (ig * scale) >> 8;
          out[offset + 2] = (ib * scale) >> 8;
          out[offset + 3] = 255;
        }
        continue;
      }
      const same = a[index] === b[index];
      const tolerated = !same && maxDelta !== null && channelDelta(a[index] as number, b[index] as number) <= maxDelta;
      if (tolerated) toleratedPixels++;
      if (same || tolerated) {
        if (out !== undefined) {
          // Luma (BT.601 weights) scaled into a dark band: the picture stays readable, never colourful.
          const luma = ((source[offset] as number) * 77 + (source[offset + 1] as number) * 150 + (source[offset + 2] as number) * 29) >> 8;
          const grey = 18 + ((luma * 80) >> 8);
          out[offset] = grey;
          out[offset + 1] = grey;
          out[offset + 2] = grey;
          out[offset + 3] = 255;
        }
        continue;
      }
      differingPixels++;
      if (out !== undefined) {
        out[offset] = hr;
        out[offset + 1] = hg;
        out[offset + 2] = hb;
        out[offset + 3] = ha;
      }
      const cell = cellRow + Math.floor(x / DIFF_CELL_PX);
      if (minX[cell] === -1) {
        minX[cell] = x;
        maxX[cell] = x;
        minY[cell] = y;
        maxY[cell] = y;
      } else {
        if (x < (minX[cell] as number)) minX[cell] = x;
        if (x > (maxX[cell] as number)) maxX[cell] = x;
        maxY[cell] = y;
      }
    }
  }
  const { regions, merged } = groupCells(cellsX, cellsY, minX, maxX, minY, maxY);
  return { kind: 'compared', width, height, differingPixels, toleratedPixels, ignoredPixels, regions, regionsMerged: merged };
}

/** Joins touching cells (8 neighbours) that hold differences into regions: the union of their boxes. */
function groupCells(
  cellsX: number,
  cellsY: number,
  minX: Int32Array,
  maxX: Int32Array,
  minY: Int32Array,
  maxY: Int32Array,
): { regions: PixelRect[]; merged: boolean } {
  const seen = new Uint8Array(cellsX * cellsY);
  const boxes: PixelRect[] = [];
  const stack: number[] = [];
  for (let start = 0; start < minX.length; start++) {
    if (minX[start] === -1 || seen[start] === 1) continue;
    seen[start] = 1;
    stack.push(start);
    let left = Infinity;
    let top = Infinity;
    let right = -Infinity;
    let bottom = -Infinity;
    while (stack.length > 0) {
      const cell = stack.pop() as number;
      left = Math.min(left, minX[cell] as number);
      right = Math.max(right, maxX[cell] as number);
      top = Math.min(top, minY[cell] as number);
      bottom = Math.max(bottom, maxY[cell] as number);
      const cx = cell % cellsX;
      const cy = (cell - cx) / cellsX;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const nx = cx + dx;
          const ny = cy + dy;
          if (nx < 0 || ny < 0 || nx >= cellsX || ny >= cellsY) continue;
          const neighbour = ny * cellsX + nx;
          if (minX[neighbour] === -1 || seen[neighbour] === 1) continue;
          seen[neighbour] = 1;
          stack.push(neighbour);
        }
      }
    }
    boxes.push({ x: left, y: top, width: right - left + 1, height: bottom - top + 1 });
  }
  if (boxes.length <= MAX_DIFF_REGIONS) return { regions: boxes, merged: false };
  const kept = boxes.slice(0, MAX_DIFF_REGIONS - 1);
  const rest = boxes.slice(MAX_DIFF_REGIONS - 1);
  const left = Math.min(...rest.map((box) => box.x));
  const top = Math.min(...rest.map((box) => box.y));
  const right = Math.max(...rest.map((box) => box.x + box.width));
  const bottom = Math.max(...rest.map((box) => box.y + box.height));
  kept.push({ x: left, y: top, width: right - left, height: bottom - top });
  return { regions: kept, merged: true };
}

/** "1 234 pixels differ in 2 regions" / "No pixel differs". */
export function describeDiffCount(differingPixels: number, regionCount: number): string {
  if (differingPixels === 0) return 'No pixel differs';
  const pixels = `${differingPixels.toLocaleString('en-US')} ${differingPixels === 1 ? 'pixel differs' : 'pixels differ'}`;
  return `${pixels} in ${regionCount === 1 ? '1 region' : `${regionCount} regions`}`;
}
