// The thumbnail painter: its bitmap is the size the thumbnail is shown at (never the framebuffer's),
// and after the first full draw it redraws only the damaged part, scaled; the pacer paints a
// workspace's thumbnails together, at most once per interval. Plain Node: fake canvases record what
// is drawn, a fake scheduler runs the animation frames, a hand-driven clock (ManualClock) runs the timers.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ThumbnailPacer, ThumbnailRenderer, thumbnailBitmapSize, thumbnailDamage } from '../../../renderer/workspace/thumbnail-renderer';
import { ManualClock } from '../support/fake-clocks';
import { ManualFrames } from './manual-frames';

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

interface Rect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** Whether some draw's source rectangle (its first four numbers) covers `rect`. */
function drawnOver(draws: readonly Draw[], rect: Rect): boolean {
  return draws.some(([x = 0, y = 0, width = 0, height = 0]) => x <= rect.x && y <= rect.y && x + width >= rect.x + rect.width && y + height >= rect.y + rect.height);
}

describe('ThumbnailPacer', { timeout: 5000 }, () => {
  it('waits for a frame the composite paints and paints every waiting thumbnail in it, in the order asked', () => {
    const frames = new ManualFrames();
    const timers = new ManualClock();
    const pacer = new ThumbnailPacer(frames, 200, timers);
    const painted: string[] = [];
    pacer.request(() => painted.push('r2'));
    pacer.request(() => painted.push('r1'));
    pacer.request(() => painted.push('r3'));
    assert.equal(frames.requested, 0, 'no frame of their own yet');
    assert.equal(timers.pending, 1, 'one timer for all of them');
    timers.advance(150);
    pacer.paintWaiting();
    assert.deepEqual(painted, ['r2', 'r1', 'r3']);
    assert.equal(timers.pending, 0, 'nothing left waiting');
    timers.advance(1000);
    assert.equal(frames.requested, 0);
  });

  it('paints them in a frame of their own when no composite frame comes within the wait', () => {
    const frames = new ManualFrames();
    const timers = new ManualClock();
    const pacer = new ThumbnailPacer(frames, 200, timers);
    const painted: string[] = [];
    pacer.request(() => painted.push('r1'));
    timers.advance(120);
    pacer.request(() => painted.push('r2'));
    timers.advance(79);
    assert.equal(frames.requested, 0);
    timers.advance(1);
    assert.equal(frames.requested, 1, 'one frame, 200 ms after the first paint asked');
    frames.run();
    assert.deepEqual(painted, ['r1', 'r2']);
    // The next paint waits again, from when it is asked.
    pacer.request(() => painted.push('r3'));
    assert.equal(timers.pending, 1);
  });

  it('drops a cancelled paint, keeps painting the others when one throws, and stops on dispose', () => {
    const frames = new ManualFrames();
    const timers = new ManualClock();
    const errors: unknown[] = [];
    const pacer = new ThumbnailPacer(frames, 200, timers, (error) => errors.push(error));
    const painted: string[] = [];
    const cancelled = pacer.request(() => painted.push('cancelled'));
    pacer.request(() => {
      throw new Error('broken canvas');
    });
    pacer.request(() => painted.push('r3'));
    pacer.cancel(cancelled);
    pacer.paintWaiting();
    assert.deepEqual(painted, ['r3']);
    assert.deepEqual(errors.map((error) => (error as Error).message), ['broken canvas']);

    pacer.request(() => painted.push('never'));
    timers.advance(200);
    assert.equal(frames.requested, 1);
    pacer.dispose();
    assert.equal(frames.requested, 0, 'its frame cancelled');
    timers.advance(1000);
    pacer.paintWaiting();
    assert.deepEqual(painted, ['r3']);
  });

  it('paints thumbnails in the composite\'s frames, and five times a second while the composite is still, losing no damage', () => {
    for (const compositeLive of [true, false]) {
      const frames = new ManualFrames();
      const timers = new ManualClock();
      const pacer = new ThumbnailPacer(frames, 200, timers);
      const thumbnails = [0, 1, 2].map(() => {
        const renderer = new ThumbnailRenderer(pacer);
        const thumbnail = fakeCanvas(0, 0);
        renderer.attachCanvas(thumbnail.canvas);
        renderer.setBox(192, 128, 1);
        renderer.setSource({ canvas: fakeCanvas(1920, 1080).canvas });
        return { renderer, thumbnail };
      });
      // The first full draws, out of the way.
      pacer.paintWaiting();
      for (const { thumbnail } of thumbnails) thumbnail.draws.length = 0;
      let ownFrames = 0;
      let batches = 0;
      const damaged: Rect[] = [];
      // One second of every replica drawing a new rectangle each 16 ms.
      for (let step = 0; step < 62; step++) {
        const rect = { x: (step * 40) % 1880, y: (step * 40) % 1040, width: 20, height: 20 };
        damaged.push(rect);
        for (const { renderer } of thumbnails) renderer.damage([rect]);
        if (compositeLive) {
          // The reference changes too: the composite paints a frame, the thumbnails go in it.
          pacer.paintWaiting();
          batches++;
        }
        if (frames.requested > 0) {
          ownFrames++;
          batches++;
        }
        frames.run();
        timers.advance(16);
      }
      if (compositeLive) assert.equal(ownFrames, 0, 'no frame of their own while the composite paints');
      else assert.ok(ownFrames >= 4 && ownFrames <= 5, `about five frames in a second, not ${ownFrames}`);
      assert.ok(batches > 0);
      // What was still waiting goes in the next frame.
      timers.advance(200);
      frames.run();
      for (const { thumbnail } of thumbnails) {
        for (const rect of damaged) assert.ok(drawnOver(thumbnail.draws, rect), `rectangle ${JSON.stringify(rect)} was painted (composite ${compositeLive ? 'live' : 'still'})`);
      }
    }
  });
});
