// Joining one update's damaged rectangles in plain Node: a full screen of 64×64 tiles becomes one
// rectangle, scattered cells stay apart (nothing added), and many scattered pieces become their bounding box.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PixelRect } from '../../../common/divergence';
import { MAX_RECTS_PER_UPDATE, mergeDamage } from '../../../renderer/divergence/damage-merge';

/** The 64×64 tiles (clipped at the edges) of a width×height screen, in the order ZRLE sends them. */
function tiles(width: number, height: number): PixelRect[] {
  const out: PixelRect[] = [];
  for (let y = 0; y < height; y += 64) for (let x = 0; x < width; x += 64) out.push({ x, y, width: Math.min(64, width - x), height: Math.min(64, height - y) });
  return out;
}

const area = (rects: readonly PixelRect[]): number => rects.reduce((sum, rect) => sum + rect.width * rect.height, 0);

describe('mergeDamage', { timeout: 10_000 }, () => {
  it('joins the tiles of a full-screen update into the one screen rectangle', () => {
    assert.deepEqual(mergeDamage(tiles(1920, 1080)), [{ x: 0, y: 0, width: 1920, height: 1080 }]);
    assert.deepEqual(mergeDamage(tiles(1000, 700)), [{ x: 0, y: 0, width: 1000, height: 700 }], 'edge tiles narrower and shorter');
  });

  it('joins a band of tiles and leaves separate cells apart, adding no pixel', () => {
    const cells: PixelRect[] = [
      { x: 100, y: 40, width: 6, height: 13 },
      { x: 0, y: 0, width: 64, height: 64 },
      { x: 64, y: 0, width: 64, height: 64 },
      { x: 500, y: 300, width: 6, height: 13 },
    ];
    const merged = mergeDamage(cells);
    assert.equal(area(merged), area(cells));
    assert.deepEqual(merged, [
      { x: 0, y: 0, width: 128, height: 64 },
      { x: 100, y: 40, width: 6, height: 13 },
      { x: 500, y: 300, width: 6, height: 13 },
    ]);
  });

  it('takes the bounding box when more than the limit of separate pieces remain', () => {
    const scattered = Array.from({ length: MAX_RECTS_PER_UPDATE + 1 }, (_, index) => ({ x: index * 20, y: index * 10, width: 4, height: 4 }));
    assert.deepEqual(mergeDamage(scattered.slice(0, MAX_RECTS_PER_UPDATE)).length, MAX_RECTS_PER_UPDATE);
    assert.deepEqual(mergeDamage(scattered), [{ x: 0, y: 0, width: MAX_RECTS_PER_UPDATE * 20 + 4, height: MAX_RECTS_PER_UPDATE * 10 + 4 }]);
  });
});
