// The thumbnail painter: its bitmap is the size the thumbnail is shown at (never the framebuffer's),
// and after the first full draw it redraws only the damaged part, scaled. Plain Node: fake canvases
// record what is drawn, a fake scheduler runs the animation frames.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FrameScheduler } from '../../../renderer/workspace/composite-renderer';
import { ThumbnailRenderer, thumbnailBitmapSize, thumbnailDamage } from '../../../renderer/workspace/thumbnail-renderer';

class ManualFrames implements FrameScheduler {
  private callbacks = new Map<number, () => void>();
  private next = 1;

  request(callback: () => void): number {
    this.callbacks.set(this.next, callback);
    return this.next++;
  }

  cancel(handle: number): void {
    this.callbacks.delete(handle);
  }

  /** Runs the frames requested so far. */
  run(): void {
    const callbacks = [...this.callbacks.values()];
    this.callbacks.clear();
    for (const callback of callbacks) callback();
  }
}

type Draw = readonly number[];

function fakeCanvas(width: number, height: number): { canvas: HTMLCanvasElement; draws: Draw[] } {
  const draws: Draw[] = [];
  const context = {
    imageSmoothingEnabled: false,
    imageSmoothingQuality: 'low',
    drawImage: (_source: unknown, ...args: number[]) => draws.push(args),
  };
  const canvas = { width, height, getContext: () => context } as unknown as HTMLCanvasElement;
  return { canvas, draws };
}

describe('thumbnail bitmap size', { timeout: 5000 }, () => {
  it('fits the framebuffer into the box in device pixels, keeping its aspect ratio', () => {
    assert.deepEqual(thumbnailBitmapSize({ width: 1920, height: 1080 }, { width: 224, height: 128 }, 1), { width: 224, height: 126 });
    assert.deepEqual(thumbnailBitmapSize({ width: 1920, height: 1080 }, { width: 224, height: 128 }, 2), { width: 448, height: 252 });
    assert.deepEqual(thumbnailBitmapSize({ width: 1024, height: 768 }, { width: 224, height: 128 }, 1), { width: 171, height: 128 });
  });

  it('is never larger than the framebuffer, and empty without a box or a framebuffer', () => {
    assert.deepEqual(thumbnailBitmapSize({ width: 640, height: 400 }, { width: 800, height: 600 }, 2), { width: 640, height: 400 });
    assert.deepEqual(thumbnailBitmapSize({ width: 640, height: 400 }, { width: 0, height: 0 }, 1), { width: 0, height: 0 });
    assert.deepEqual(thumbnailBitmapSize({ width: 0, height: 0 }, { width: 224, height: 128 }, 1), { width: 0, height: 0 });
  });
});

describe('thumbnail damage', { timeout: 5000 }, () => {
  it('covers whole thumbnail pixels and maps back onto exactly the framebuffer part they show', () => {
    const mapped = thumbnailDamage({ x: 100, y: 50, width: 12, height: 13 }, 0.1, 0.1, { width: 192, height: 108 });
    assert.deepEqual(mapped?.target, { x: 10, y: 5, width: 2, height: 2 });
    assert.deepEqual(mapped?.source, { x: 100, y: 50, width: 20, height: 20 });
  });

  it('clips to the thumbnail', () => {
    const mapped = thumbnailDamage({ x: 1910, y: 1070, width: 50, height: 50 }, 0.1, 0.1, { width: 192, height: 108 });
    assert.deepEqual(mapped?.target, { x: 191, y: 107, width: 1, height: 1 });
    assert.equal(thumbnailDamage({ x: 0, y: 0, width: 0, height: 5 }, 0.1, 0.1, { width: 192, height: 108 }), null);
  });
});

describe('ThumbnailRenderer', { timeout: 5000 }, () => {
  it('draws the whole screen small once, then only the damaged part, once per frame', () => {
    const frames = new ManualFrames();
    const renderer = new ThumbnailRenderer(frames);
    const thumbnail = fakeCanvas(0, 0);
    const source = fakeCanvas(1920, 1080);
    renderer.attachCanvas(thumbnail.canvas);
    renderer.setBox(192, 128, 1);
    renderer.setSource({ canvas: source.canvas });
    frames.run();
    assert.equal(thumbnail.canvas.width, 192);
    assert.equal(thumbnail.canvas.height, 108);
    assert.deepEqual(thumbnail.draws, [[0, 0, 1920, 1080, 0, 0, 192, 108]]);

    thumbnail.draws.length = 0;
    renderer.damage([{ x: 100, y: 50, width: 12, height: 13 }]);
    renderer.damage([{ x: 0, y: 0, width: 10, height: 10 }]);
    frames.run();
    assert.deepEqual(thumbnail.draws, [
      [100, 50, 20, 20, 10, 5, 2, 2],
      [0, 0, 10, 10, 0, 0, 1, 1],
    ]);
  });

  it('draws everything again at the new size when the box changes, and clears when the connection goes', () => {
    const frames = new ManualFrames();
    const renderer = new ThumbnailRenderer(frames);
    const thumbnail = fakeCanvas(0, 0);
    renderer.attachCanvas(thumbnail.canvas);
    renderer.setBox(192, 128, 1);
    renderer.setSource({ canvas: fakeCanvas(1920, 1080).canvas });
    frames.run();
    thumbnail.draws.length = 0;
    renderer.damage([{ x: 0, y: 0, width: 10, height: 10 }]);
    renderer.setBox(96, 64, 1);
    frames.run();
    assert.deepEqual([thumbnail.canvas.width, thumbnail.canvas.height], [96, 54]);
    assert.deepEqual(thumbnail.draws, [[0, 0, 1920, 1080, 0, 0, 96, 54]]);

    renderer.setSource(null);
    assert.deepEqual([thumbnail.canvas.width, thumbnail.canvas.height], [0, 0]);
  });
});
