// Swapping red and blue in place (RGBA ⇄ BGRA), the conversion the comparison worker applies to the
// RGBA pixels it is sent so that they match the BGRA snapshots it reads back.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { swapRedAndBlue } from '../../../common/divergence';

describe('swapRedAndBlue', { timeout: 5000 }, () => {
  it('swaps bytes 0 and 2 of every pixel, keeps green and alpha, and undoes itself', () => {
    const pixels = new Uint8ClampedArray([1, 2, 3, 4, 250, 128, 0, 255, 0, 0, 255, 7]);
    swapRedAndBlue(pixels);
    assert.deepEqual([...pixels], [3, 2, 1, 4, 0, 128, 250, 255, 255, 0, 0, 7]);
    swapRedAndBlue(pixels);
    assert.deepEqual([...pixels], [1, 2, 3, 4, 250, 128, 0, 255, 0, 0, 255, 7]);
  });

  it('swaps a view that does not start on a word boundary, and nothing outside it', () => {
    const backing = new Uint8Array(14).map((_, index) => index + 1);
    const view = backing.subarray(1, 9);
    swapRedAndBlue(view);
    assert.deepEqual([...backing], [1, 4, 3, 2, 5, 8, 7, 6, 9, 10, 11, 12, 13, 14]);
  });

  it('refuses a length that is not whole pixels', () => {
    assert.throws(() => swapRedAndBlue(new Uint8ClampedArray(6)), /whole 4-byte pixels/);
  });
});
