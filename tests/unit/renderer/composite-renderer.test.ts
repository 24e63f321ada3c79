// The composite painter: what else the page paints goes in the composite's own animation frames
// (`alsoInFrame`, after it has drawn), even when its drawing fails. Plain Node: a fake canvas
// records what is drawn, a fake scheduler runs the animation frames.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CompositeRenderer } from '../../../renderer/workspace/composite-renderer';
import { ManualFrames } from './manual-frames';

function fakeCanvas(width: number, height: number, log: string[], failing = false): HTMLCanvasElement {
  const context = {
    imageSmoothingEnabled: true,
    drawImage: (_source: unknown, ...args: number[]) => {
      if (failing) throw new Error('the canvas is gone');
      log.push(`draw ${args.join(',')}`);
    },
  };
  return { width, height, getContext: () => context } as unknown as HTMLCanvasElement;
}

describe('CompositeRenderer', { timeout: 5000 }, () => {
  it('runs alsoInFrame in each frame it paints, after drawing, and in no other', () => {
    const frames = new ManualFrames();
    const log: string[] = [];
    const composite = new CompositeRenderer(frames, () => log.push('also'));
    composite.attachCanvas(fakeCanvas(0, 0, log));
    composite.setSource({ canvas: fakeCanvas(640, 480, []) });
    frames.run();
    assert.deepEqual(log, ['draw 0,0', 'also']);
    frames.run();
    assert.deepEqual(log, ['draw 0,0', 'also'], 'no damage, no frame');
    composite.damage([{ x: 10, y: 20, width: 30, height: 40 }]);
    frames.run();
    assert.deepEqual(log, ['draw 0,0', 'also', 'draw 10,20,30,40,10,20,30,40', 'also']);
  });

  it('still runs alsoInFrame when its own drawing throws', () => {
    const frames = new ManualFrames();
    const log: string[] = [];
    const composite = new CompositeRenderer(frames, () => log.push('also'));
    composite.attachCanvas(fakeCanvas(640, 480, log, true));
    composite.setSource({ canvas: fakeCanvas(640, 480, []) });
    assert.throws(() => frames.run(), /the canvas is gone/);
    assert.deepEqual(log, ['also']);
  });
});
