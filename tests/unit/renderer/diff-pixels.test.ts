// The diff view's pixel logic in plain Node: exact counts, the diff picture, grouped regions, sizes
// that differ, malformed input.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DIFF_CELL_PX, DIFF_HIGHLIGHT_RGBA, MAX_DIFF_REGIONS, describeDiffCount, describeSizeMismatch, diffImages, type RgbaImage } from '../../../renderer/divergence/diff-pixels';

function image(width: number, height: number, rgb: [number, number, number] = [40, 80, 120]): RgbaImage & { data: Uint8ClampedArray } {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let offset = 0; offset < data.length; offset += 4) data.set([...rgb, 255], offset);
  return { width, height, data };
}

function paint(target: RgbaImage & { data: Uint8ClampedArray }, x: number, y: number, rgba: [number, number, number, number]): void {
  target.data.set(rgba, (y * target.width + x) * 4);
}

describe('diffImages', { timeout: 60_000 }, () => {
  it('finds no difference between identical screens and paints them grey', () => {
    const a = image(40, 30);
    const out = new Uint8ClampedArray(a.data.length);
    const outcome = diffImages(a, image(40, 30), out);
    assert.equal(outcome.kind, 'compared');
    assert.equal(outcome.kind === 'compared' && outcome.differingPixels, 0);
    assert.deepEqual(outcome.kind === 'compared' && outcome.regions, []);
    for (let offset = 0; offset < out.length; offset += 4) {
      assert.ok(out[offset] === out[offset + 1] && out[offset + 1] === out[offset + 2] && out[offset + 3] === 255, `pixel ${offset / 4} is grey`);
    }
  });

  it('counts every differing pixel exactly (any channel, alpha too) and highlights exactly those', () => {
    const a = image(64, 48);
    const b = image(64, 48);
    paint(b, 3, 4, [41, 80, 120, 255]); // one unit of red
    paint(b, 5, 4, [40, 80, 120, 254]); // alpha only
    paint(b, 63, 47, [0, 0, 0, 255]); // the last pixel
    const out = new Uint8ClampedArray(a.data.length);
    const outcome = diffImages(a, b, out);
    assert.ok(outcome.kind === 'compared');
    assert.equal(outcome.differingPixels, 3);
    const highlighted: number[] = [];
    for (let index = 0; index < 64 * 48; index++) {
      const pixel = [...out.subarray(index * 4, index * 4 + 4)];
      if (pixel.join() === DIFF_HIGHLIGHT_RGBA.join()) highlighted.push(index);
    }
    assert.deepEqual(highlighted, [4 * 64 + 3, 4 * 64 + 5, 47 * 64 + 63]);
  });

  it("follows the profile: differences within the colour tolerance and inside ignore regions are not counted", () => {
    const a = image(64, 48);
    const b = image(64, 48);
    paint(b, 1, 1, [48, 80, 120, 255]); // red +8: within a tolerance of 8
    paint(b, 2, 1, [40, 71, 120, 255]); // green -9: beyond it
    paint(b, 3, 1, [40, 80, 120, 0]); // alpha only: never a difference under a tolerance
    paint(b, 20, 20, [255, 255, 255, 255]); // inside the ignore region
    paint(b, 40, 40, [255, 255, 255, 255]); // outside it
    const out = new Uint8ClampedArray(a.data.length);
    const outcome = diffImages(a, b, out, { maxChannelDelta: 8, ignoreRegions: [{ x: 16, y: 16, width: 8, height: 8 }] });
    assert.ok(outcome.kind === 'compared');
    assert.equal(outcome.differingPixels, 2, 'green -9 and the pixel outside the ignore region');
    assert.equal(outcome.toleratedPixels, 2, 'red +8 and the alpha-only pixel');
    assert.equal(outcome.ignoredPixels, 64);
    assert.deepEqual(outcome.regions, [
      { x: 2, y: 1, width: 1, height: 1 },
      { x: 40, y: 40, width: 1, height: 1 },
    ]);
    const at = (x: number, y: number): number[] => [...out.subarray((y * 64 + x) * 4, (y * 64 + x) * 4 + 4)];
    assert.deepEqual(at(2, 1), [...DIFF_HIGHLIGHT_RGBA]);
    assert.notDeepEqual(at(1, 1), [...DIFF_HIGHLIGHT_RGBA], 'a tolerated pixel is not highlighted');
    const ignored = at(20, 20);
    assert.ok((ignored[2] as number) > (ignored[0] as number), `an ignored pixel is tinted blue, got ${ignored.join()}`);
    // Exact comparison of the same screens counts every changed pixel outside the ignore region.
    const exact = diffImages(a, b, undefined, { ignoreRegions: [{ x: 16, y: 16, width: 8, height: 8 }] });
    assert.ok(exact.kind === 'compared');
    assert.equal(exact.differingPixels, 4);
    assert.equal(exact.toleratedPixels, 0);
  });

  it('groups nearby differences into one tight region and far ones into separate regions', () => {
    const a = image(200, 100);
    const b = image(200, 100);
    // Two pixels 10 px apart (neighbouring cells): one region; one far away: another.
    paint(b, 10, 10, [255, 0, 0, 255]);
    paint(b, 20, 14, [255, 0, 0, 255]);
    paint(b, 150, 80, [255, 0, 0, 255]);
    const outcome = diffImages(a, b);
    assert.ok(outcome.kind === 'compared');
    assert.deepEqual(outcome.regions, [
      { x: 10, y: 10, width: 11, height: 5 },
      { x: 150, y: 80, width: 1, height: 1 },
    ]);
    assert.equal(outcome.regionsMerged, false);
  });

  it('merges the regions past MAX_DIFF_REGIONS into one box, the count staying exact', () => {
    const spacing = DIFF_CELL_PX * 2;
    const across = 20;
    const down = Math.ceil((MAX_DIFF_REGIONS + 10) / across);
    const a = image(across * spacing, down * spacing);
    const b = image(across * spacing, down * spacing);
    for (let row = 0; row < down; row++) for (let column = 0; column < across; column++) paint(b, column * spacing, row * spacing, [0, 0, 0, 255]);
    const outcome = diffImages(a, b);
    assert.ok(outcome.kind === 'compared');
    assert.equal(outcome.differingPixels, across * down);
    assert.equal(outcome.regions.length, MAX_DIFF_REGIONS);
    assert.equal(outcome.regionsMerged, true);
    const last = outcome.regions[MAX_DIFF_REGIONS - 1];
    assert.deepEqual(last && [last.x + last.width, last.y + last.height], [(across - 1) * spacing + 1, (down - 1) * spacing + 1]);
  });

  it('compares unaligned buffers (a Uint8Array at an odd offset) the same way', () => {
    const a = image(8, 8);
    const b = image(8, 8);
    paint(b, 7, 0, [1, 2, 3, 255]);
    const shifted = new Uint8Array(b.data.length + 1).subarray(1);
    shifted.set(b.data);
    const outcome = diffImages(a, { width: 8, height: 8, data: shifted });
    assert.ok(outcome.kind === 'compared');
    assert.equal(outcome.differingPixels, 1);
  });

  it('explains screens of different sizes instead of comparing them', () => {
    const outcome = diffImages(image(800, 600), image(1024, 768));
    assert.deepEqual(outcome, { kind: 'size-mismatch', subject: { width: 800, height: 600 }, reference: { width: 1024, height: 768 } });
    assert.match(describeSizeMismatch('Demo 2', { width: 800, height: 600 }, 'Demo 1', { width: 1024, height: 768 }), /Demo 2's desktop is 800×600, Demo 1's is 1024×768: screens of different sizes are not compared/);
  });

  it('refuses buffers that do not match their size, and an output of the wrong size', () => {
    assert.throws(() => diffImages({ width: 4, height: 4, data: new Uint8ClampedArray(10) }, image(4, 4)), /subject: expected 64 bytes for 4×4 RGBA, got 10/);
    assert.throws(() => diffImages(image(4, 4), image(4, 4), new Uint8ClampedArray(4)), /out: expected 64 bytes/);
  });

  it('says the count in words', () => {
    assert.equal(describeDiffCount(0, 0), 'No pixel differs');
    assert.equal(describeDiffCount(1, 1), '1 pixel differs in 1 region');
    assert.equal(describeDiffCount(2560, 3), '2,560 pixels differ in 3 regions');
  });
});
