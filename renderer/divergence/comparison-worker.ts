// The comparison worker's entry point (built as its own bundle, dist/renderer/comparison-worker.js):
// runs in a dedicated Web Worker, off the page's main thread, and hands every posted message to a
// ComparisonCore whose clock is converted to the page's time line with performance.timeOrigin;
// snapshots of the page's canvases are read back here (snapshot-reader.ts: VideoFrame.copyTo into
// the engine's own memory, or an OffscreenCanvas where WebCodecs is missing), one message at a time, in order.
// Its engine holds BGRA pixels, the snapshots' own byte order.

import compareKernelsWasm from 'retrovisor-wasm:compare-kernels';
import type { TransferredBitmap } from '../../common/comparison-protocol';
import { ComparisonCore, comparisonKernels, onPageTimeline, provideComparisonKernels, type ComparisonClock } from './comparison-core';
import { SnapshotReader, type SnapshotBitmap, type SnapshotFrame } from './snapshot-reader';

/** The part of a dedicated worker's global scope used here (the renderer is typed with the DOM lib). */
interface WorkerScope {
  onmessage: ((event: MessageEvent) => void) | null;
  onmessageerror: ((event: MessageEvent) => void) | null;
  postMessage(message: unknown): void;
}

const scope = globalThis as unknown as WorkerScope;

provideComparisonKernels(compareKernelsWasm);

/** The worker's timers, its time read on the page's clock (the two performance.now() start at different origins). */
function pageClock(pageTimeOriginMs: number): ComparisonClock {
  return {
    now: onPageTimeline(() => performance.now(), performance.timeOrigin, pageTimeOriginMs),
    setInterval: (callback, intervalMs) => setInterval(callback, intervalMs),
    clearInterval: (handle) => clearInterval(handle as ReturnType<typeof setInterval>),
    setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
    clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  };
}

/** One canvas to read snapshots back on, grown to the largest seen (read often: kept in CPU memory). */
let readback: { canvas: OffscreenCanvas; context: OffscreenCanvasRenderingContext2D } | null = null;

/** The RGBA pixels of a snapshot (drawn at the origin of the read-back canvas, then read). */
function readBitmap(bitmap: SnapshotBitmap): Uint8ClampedArray {
  const image = bitmap as ImageBitmap;
  if (readback === null || readback.canvas.width < image.width || readback.canvas.height < image.height) {
    const canvas = new OffscreenCanvas(Math.max(image.width, readback?.canvas.width ?? 0), Math.max(image.height, readback?.canvas.height ?? 0));
    const context = canvas.getContext('2d', { willReadFrequently: true, alpha: false });
    if (context === null) throw new Error('no 2d context on an OffscreenCanvas');
    readback = { canvas, context };
  }
  readback.context.drawImage(image, 0, 0);
  return readback.context.getImageData(0, 0, image.width, image.height).data;
}

/**
 * Frees a read-back as soon as the engine has copied it: `transfer(0)` detaches its buffer, which
 * gives the memory back now instead of at the next garbage collection. V8 collects a worker's heap
 * only after about 64 MiB of such buffers have piled up, so a screen scrolling on 8 replicas kept
 * that much of dead read-backs alive in the worker for the rest of the session.
 */
function releasePixels(pixels: Uint8ClampedArray): void {
  const buffer = pixels.buffer as ArrayBuffer & { transfer?: (length: number) => ArrayBuffer };
  if (typeof buffer.transfer === 'function' && pixels.byteOffset === 0 && pixels.byteLength === buffer.byteLength) buffer.transfer(0);
}

const isBitmap = (value: unknown): value is TransferredBitmap => value instanceof ImageBitmap;

/** VideoFrame.copyTo with a pixel format: WebCodecs where the runtime has it. */
const frameOf =
  typeof VideoFrame === 'function' ? (bitmap: SnapshotBitmap): SnapshotFrame => new VideoFrame(bitmap as ImageBitmap, { timestamp: 0 }) : null;

/** The byte order of the engine's pixels: BGRA, the snapshots' own, copied without converting (pixel-order.ts). */
const PIXEL_ORDER = 'bgra';

const core: ComparisonCore = new ComparisonCore({
  bitmaps: {
    isBitmap,
    read: (bitmap) => reader.read(bitmap),
    release: (pixels) => {
      if (!reader.owns(pixels)) releasePixels(pixels);
    },
  },
  post: (report) => scope.postMessage(report),
  // Problems are posted to the page, which logs them.
  clockFor: pageClock,
  pixelOrder: PIXEL_ORDER,
});

const reader: SnapshotReader = new SnapshotReader({
  order: PIXEL_ORDER,
  isBitmap,
  frameOf,
  readByCanvas: readBitmap,
  warn: (message) => core.problem(message),
  // Snapshots are copied straight into the engine's memory, where its write compares them.
  destination: (bytes) => core.stagingPixels(bytes),
});

// What this worker compares with, for anyone inspecting it (devtools, the e2e tests): the
// WebAssembly SIMD kernels, or the JavaScript loops where the runtime has no SIMD; and how it reads
// snapshots back (VideoFrame.copyTo, or getImageData where WebCodecs is missing or failed).
(globalThis as unknown as { retrovisorComparison: { readonly kernels: string; readonly readback: string } }).retrovisorComparison = Object.freeze({
  kernels: comparisonKernels() === null ? 'javascript' : 'webassembly-simd',
  get readback(): string {
    return reader.readback;
  },
});

/** Messages are carried out one at a time, in arrival order: a frame's snapshots are copied first. */
let previous: Promise<void> = Promise.resolve();
function enqueue(message: unknown): void {
  previous = previous
    .then(() => reader.prepare(message))
    .then(() => core.handle(message))
    .catch(() => undefined);
}

scope.onmessage = (event) => enqueue(event.data);
scope.onmessageerror = () => enqueue({ type: 'unreadable message' });
