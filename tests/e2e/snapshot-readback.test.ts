// The comparison worker's snapshot reader in real Chromium, in a dedicated worker as the app runs it:
// the pixels VideoFrame.copyTo puts in the reader's kept buffers are exactly those getImageData
// returns for the same snapshot (random opaque pixels, as noVNC's canvases hold), in RGBA, and with
// red and blue swapped in BGRA (the order the worker's engine holds), for regions of several sizes one
// after another; the canvas fallback in BGRA gives the same bytes; the reader says it reads by
// VideoFrame. No app, no lab.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { build } from 'esbuild';
import type { Browser } from 'playwright-core';
import { launchBrowser } from './support/app';

/** The worker's script: snapshot-reader.ts bundled, plus a handler comparing its two ways of reading. */
async function workerScript(): Promise<string> {
  const bundled = await build({
    stdin: {
      contents: `
        import { SnapshotReader } from './renderer/divergence/snapshot-reader';
        const canvasRead = (bitmap) => {
          const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
          const context = canvas.getContext('2d', { willReadFrequently: true, alpha: false });
          context.drawImage(bitmap, 0, 0);
          return context.getImageData(0, 0, bitmap.width, bitmap.height).data;
        };
        const warnings = [];
        const readerIn = (order, frameOf) => new SnapshotReader({
          order,
          isBitmap: (value) => value instanceof ImageBitmap,
          frameOf,
          readByCanvas: canvasRead,
          warn: (message) => warnings.push(message),
        });
        const byVideoFrame = (bitmap) => new VideoFrame(bitmap, { timestamp: 0 });
        const readers = { rgba: readerIn('rgba', byVideoFrame), bgra: readerIn('bgra', byVideoFrame) };
        const bgraByCanvas = readerIn('bgra', null);
        onmessage = async (event) => {
          const results = [];
          const buffers = { rgba: null, bgra: null };
          for (const bitmap of event.data.bitmaps) {
            const rgba = canvasRead(bitmap);
            for (const order of ['rgba', 'bgra']) {
              const reader = readers[order];
              await reader.prepare({ type: 'frame', bitmaps: [bitmap] });
              const copied = reader.read(bitmap);
              // BGRA: bytes 0 and 2 of each pixel swapped against getImageData's RGBA.
              const expectedAt = (index) => (order === 'rgba' || index % 4 === 1 || index % 4 === 3 ? rgba[index] : rgba[index % 4 === 0 ? index + 2 : index - 2]);
              let differing = 0;
              for (let index = 0; index < rgba.length; index++) if (copied[index] !== expectedAt(index)) differing++;
              let differingByCanvas = 0;
              if (order === 'bgra') {
                const fallback = bgraByCanvas.read(bitmap);
                for (let index = 0; index < rgba.length; index++) if (fallback[index] !== copied[index]) differingByCanvas++;
              }
              results.push({ order, width: bitmap.width, height: bitmap.height, length: copied.length, differing, differingByCanvas, kept: reader.owns(copied), sameBuffer: buffers[order] === null || buffers[order] === copied.buffer });
              buffers[order] = copied.buffer;
            }
            bitmap.close();
          }
          postMessage({ results, readback: [readers.rgba.readback, readers.bgra.readback], warnings });
        };`,
      resolveDir: process.cwd(),
      loader: 'ts',
    },
    bundle: true,
    format: 'iife',
    target: 'es2022',
    write: false,
  });
  return bundled.outputFiles[0]!.text;
}

describe('snapshots read back by VideoFrame in Chromium', { timeout: 60_000 }, () => {
  let browser: Browser;
  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
  });

  it('gives exactly the pixels getImageData gives, RGBA or with red and blue swapped (BGRA), into one kept buffer', async () => {
    const script = await workerScript();
    const page = await browser.newPage();
    try {
      await page.goto('about:blank');
      const outcome = await page.evaluate(async (source) => {
        const canvas = document.createElement('canvas');
        canvas.width = 1920;
        canvas.height = 1080;
        const context = canvas.getContext('2d', { alpha: false })!;
        const image = context.createImageData(canvas.width, canvas.height);
        let seed = 7;
        for (let index = 0; index < image.data.length; index++) {
          seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
          image.data[index] = index % 4 === 3 ? 255 : seed >>> 24;
        }
        context.putImageData(image, 0, 0);
        // Largest first: the later, smaller ones reuse the buffer the first one grew.
        const regions = [[0, 0, 1920, 1080], [5, 300, 1910, 437], [64, 64, 64, 64], [1919, 1079, 1, 1], [3, 7, 17, 5]];
        const bitmaps = await Promise.all(regions.map(([x, y, width, height]) => createImageBitmap(canvas, x!, y!, width!, height!)));
        const worker = new Worker(URL.createObjectURL(new Blob([source], { type: 'text/javascript' })));
        return await new Promise<unknown>((resolve, reject) => {
          worker.onmessage = (event) => resolve(event.data);
          worker.onerror = (event) => reject(new Error(event.message));
          worker.postMessage({ bitmaps }, bitmaps);
        });
      }, script);
      const { results, readback, warnings } = outcome as {
        results: { order: string; width: number; height: number; length: number; differing: number; differingByCanvas: number; kept: boolean; sameBuffer: boolean }[];
        readback: string[];
        warnings: string[];
      };
      assert.deepEqual(warnings, []);
      assert.deepEqual(readback, ['videoframe', 'videoframe']);
      assert.equal(results.length, 10);
      for (const result of results) {
        const what = `${result.order} ${result.width}×${result.height}`;
        assert.equal(result.length, result.width * result.height * 4, what);
        assert.equal(result.differing, 0, `${what}: ${result.differing} bytes differ from getImageData's`);
        assert.equal(result.differingByCanvas, 0, `${what}: ${result.differingByCanvas} bytes differ from the canvas fallback's`);
        assert.ok(result.kept && result.sameBuffer, `${what} was not read into the kept buffer`);
      }
    } finally {
      await page.close();
    }
  });
});
