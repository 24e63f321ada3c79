// The comparison worker's snapshot reader in real Chromium, in a dedicated worker as the app runs it:
// the pixels VideoFrame.copyTo puts in the reader's kept buffers are exactly those getImageData
// returns for the same snapshot (random opaque pixels, as noVNC's canvases hold), for regions of
// several sizes one after another, and the reader says it reads by VideoFrame. No app, no lab.

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
        const reader = new SnapshotReader({
          isBitmap: (value) => value instanceof ImageBitmap,
          frameOf: (bitmap) => new VideoFrame(bitmap, { timestamp: 0 }),
          readByCanvas: canvasRead,
          warn: (message) => warnings.push(message),
        });
        onmessage = async (event) => {
          const results = [];
          let buffer = null;
          for (const bitmap of event.data.bitmaps) {
            await reader.prepare({ type: 'frame', bitmaps: [bitmap] });
            const copied = reader.read(bitmap);
            const expected = canvasRead(bitmap);
            let differing = 0;
            for (let index = 0; index < expected.length; index++) if (copied[index] !== expected[index]) differing++;
            results.push({ width: bitmap.width, height: bitmap.height, length: copied.length, differing, kept: reader.owns(copied), sameBuffer: buffer === null || buffer === copied.buffer });
            buffer = copied.buffer;
            bitmap.close();
          }
          postMessage({ results, readback: reader.readback, warnings });
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

  it('gives exactly the pixels getImageData gives, into one kept buffer', async () => {
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
      const { results, readback, warnings } = outcome as { results: { width: number; height: number; length: number; differing: number; kept: boolean; sameBuffer: boolean }[]; readback: string; warnings: string[] };
      assert.deepEqual(warnings, []);
      assert.equal(readback, 'videoframe');
      assert.equal(results.length, 5);
      for (const result of results) {
        assert.equal(result.length, result.width * result.height * 4, `${result.width}×${result.height}`);
        assert.equal(result.differing, 0, `${result.width}×${result.height}: ${result.differing} bytes differ from getImageData`);
        assert.ok(result.kept && result.sameBuffer, `${result.width}×${result.height} was not read into the kept buffer`);
      }
    } finally {
      await page.close();
    }
  });
});
