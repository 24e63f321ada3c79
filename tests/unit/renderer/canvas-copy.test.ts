// A CopyRect rectangle copied within one canvas (getImageData, putImageData): the pixels land where
// drawImage of the canvas onto itself would put them, overlapping copies included, and a source
// partly or wholly off the canvas is clipped as drawImage clips it. Plain Node: a fake 2D context
// over an RGBA array, with the canvas's clipping of getImageData and putImageData.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { copyWithinCanvas } from '../../../renderer/vnc/canvas-copy';

interface FakeImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8ClampedArray;
}

/** A canvas of `width`×`height` whose pixel (x, y) is a colour made from its position, unique per pixel. */
class FakeContext {
  readonly pixels: Uint8ClampedArray;
  readonly reads: { x: number; y: number; width: number; height: number }[] = [];
  readonly canvas: { width: number; height: number };

  constructor(width: number, height: number) {
    this.canvas = { width, height };
    this.pixels = new Uint8ClampedArray(width * height * 4);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) this.pixels.set([x, y, (x * 7 + y * 13) & 0xff, 255], (y * width + x) * 4);
    }
  }

  /** Outside the canvas reads as transparent black, as in a browser. */
  getImageData(x: number, y: number, width: number, height: number): FakeImage {
    assert.ok(width > 0 && height > 0, `getImageData with an empty rectangle (${width}×${height}) throws in a browser`);
    this.reads.push({ x, y, width, height });
    const data = new Uint8ClampedArray(width * height * 4);
    for (let row = 0; row < height; row++) {
      for (let column = 0; column < width; column++) {
        const [sx, sy] = [x + column, y + row];
        if (sx < 0 || sy < 0 || sx >= this.canvas.width || sy >= this.canvas.height) continue;
        data.set(this.pixels.subarray((sy * this.canvas.width + sx) * 4, (sy * this.canvas.width + sx) * 4 + 4), (row * width + column) * 4);
      }
    }
    return { width, height, data };
  }

  /** Pixels falling outside the canvas are dropped. */
  putImageData(image: FakeImage, x: number, y: number): void {
    for (let row = 0; row < image.height; row++) {
      for (let column = 0; column < image.width; column++) {
        const [tx, ty] = [x + column, y + row];
        if (tx < 0 || ty < 0 || tx >= this.canvas.width || ty >= this.canvas.height) continue;
        this.pixels.set(image.data.subarray((row * image.width + column) * 4, (row * image.width + column) * 4 + 4), (ty * this.canvas.width + tx) * 4);
      }
    }
  }

  pixel(x: number, y: number): number[] {
    return [...this.pixels.subarray((y * this.canvas.width + x) * 4, (y * this.canvas.width + x) * 4 + 4)];
  }
}

/** What drawImage(canvas, sx, sy, w, h, dx, dy, w, h) of a canvas onto itself leaves: the source clipped to the canvas, read before writing. */
function expectedAfterSelfDraw(before: FakeContext, source: { x: number; y: number; width: number; height: number }, toX: number, toY: number): Uint8ClampedArray {
  const { width, height } = before.canvas;
  const result = before.pixels.slice();
  for (let y = Math.max(source.y, 0); y < Math.min(source.y + source.height, height); y++) {
    for (let x = Math.max(source.x, 0); x < Math.min(source.x + source.width, width); x++) {
      const [tx, ty] = [toX + (x - source.x), toY + (y - source.y)];
      if (tx < 0 || ty < 0 || tx >= width || ty >= height) continue;
      result.set(before.pixels.subarray((y * width + x) * 4, (y * width + x) * 4 + 4), (ty * width + tx) * 4);
    }
  }
  return result;
}

function copy(context: FakeContext, source: { x: number; y: number; width: number; height: number }, toX: number, toY: number): void {
  copyWithinCanvas(context as unknown as CanvasRenderingContext2D, source, toX, toY);
}

describe('copyWithinCanvas', { timeout: 10_000 }, () => {
  it('scrolls a text area up one line: the overlapping rows move as one, the rest stays', () => {
    const context = new FakeContext(40, 30);
    const source = { x: 4, y: 8, width: 30, height: 20 };
    const expected = expectedAfterSelfDraw(context, source, 4, 2);
    copy(context, source, 4, 2);
    assert.deepEqual(context.pixels, expected);
    assert.deepEqual(context.pixel(4, 2), [4, 8, (4 * 7 + 8 * 13) & 0xff, 255], 'the first source pixel lands six rows up');
    assert.deepEqual(context.reads, [source], 'reads the source rectangle only, not the canvas');
  });

  it('moves down and right over its own source as well', () => {
    const context = new FakeContext(40, 30);
    const source = { x: 0, y: 0, width: 25, height: 20 };
    const expected = expectedAfterSelfDraw(context, source, 9, 7);
    copy(context, source, 9, 7);
    assert.deepEqual(context.pixels, expected);
  });

  it('clips a source reaching off the canvas and moves the target with it, as drawImage does', () => {
    const context = new FakeContext(40, 30);
    const source = { x: -5, y: 25, width: 20, height: 10 };
    const expected = expectedAfterSelfDraw(context, source, 10, 0);
    copy(context, source, 10, 0);
    assert.deepEqual(context.pixels, expected);
    assert.deepEqual(context.reads, [{ x: 0, y: 25, width: 15, height: 5 }]);
    assert.deepEqual(context.pixel(15, 0), [0, 25, (25 * 13) & 0xff, 255], 'the clipped source starts 5 pixels into the target');
    assert.deepEqual(context.pixel(10, 0), [10, 0, (10 * 7) & 0xff, 255], 'no transparent black where the source was off the canvas');
  });

  it('does nothing for a source wholly off the canvas or empty', () => {
    const context = new FakeContext(40, 30);
    const before = context.pixels.slice();
    copy(context, { x: 40, y: 0, width: 10, height: 10 }, 0, 0);
    copy(context, { x: 0, y: -10, width: 10, height: 10 }, 0, 0);
    copy(context, { x: 3, y: 3, width: 0, height: 10 }, 0, 0);
    assert.deepEqual(context.pixels, before);
    assert.equal(context.reads.length, 0);
  });
});
