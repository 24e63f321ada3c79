// The comparison worker's snapshot reader, with stand-ins for ImageBitmap and VideoFrame: copies made
// before the message is handled are what `read` returns, into buffers kept from one message to the
// next; in BGRA order, copyTo is asked for BGRA and the canvas's RGBA is swapped; a runtime whose
// copyTo fails falls back to the canvas for good, saying so once. The real
// VideoFrame's pixels against getImageData's are checked in Chromium (tests/e2e/snapshot-readback.test.ts).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DivergenceEngine } from '../../../common/divergence';
import { SnapshotReader, type SnapshotBitmap, type SnapshotFrame } from '../../../renderer/divergence/snapshot-reader';
import { KERNELS } from '../divergence/engines';

class FakeBitmap implements SnapshotBitmap {
  constructor(
    readonly width: number,
    readonly height: number,
    readonly fill: number,
  ) {}
}

const isBitmap = (value: unknown): value is FakeBitmap => value instanceof FakeBitmap;

function frames(log: string[], fail = false): (bitmap: SnapshotBitmap) => SnapshotFrame {
  return (bitmap) => {
    const fake = bitmap as FakeBitmap;
    return {
      copyTo: async (destination, options) => {
        log.push(`copy ${fake.width}x${fake.height} ${options.format} ${options.colorSpace}`);
        if (fail) throw new Error('format not supported');
        destination.fill(fake.fill);
      },
      close: () => log.push('close'),
    };
  };
}

const byCanvas = (log: string[]) => (bitmap: SnapshotBitmap): Uint8ClampedArray => {
  log.push('canvas');
  return new Uint8ClampedArray(bitmap.width * bitmap.height * 4).fill((bitmap as FakeBitmap).fill);
};

describe('the comparison worker reads snapshots back', { timeout: 5000 }, () => {
  it('copies a frame message\'s snapshots before it is handled, into buffers kept for the next message', async () => {
    const log: string[] = [];
    const reader = new SnapshotReader({ order: 'rgba', isBitmap, frameOf: frames(log), readByCanvas: byCanvas(log) });
    assert.equal(reader.readback, 'videoframe');
    const big = new FakeBitmap(4, 3, 7);
    const small = new FakeBitmap(2, 2, 9);
    await reader.prepare({ type: 'frame', bitmaps: [big, small] });
    const first = reader.read(big);
    assert.equal(first.length, 4 * 3 * 4);
    assert.ok(first.every((value) => value === 7));
    assert.ok(reader.read(small).every((value) => value === 9));
    assert.ok(reader.owns(first), 'the copy is a kept buffer, never to be detached');
    assert.deepEqual(log, ['copy 4x3 RGBA srgb', 'close', 'copy 2x2 RGBA srgb', 'close']);
    // The next message reuses the same memory, sized to the snapshot.
    const next = new FakeBitmap(3, 3, 1);
    await reader.prepare({ type: 'frame', bitmaps: [next] });
    const second = reader.read(next);
    assert.equal(second.buffer, first.buffer);
    assert.equal(second.length, 3 * 3 * 4);
    assert.ok(second.every((value) => value === 1));
    assert.ok(!reader.owns(new Uint8ClampedArray(4)));
  });

  it('reads by canvas what it did not copy: other messages, stale bitmaps, no WebCodecs', async () => {
    const log: string[] = [];
    const reader = new SnapshotReader({ order: 'rgba', isBitmap, frameOf: frames(log), readByCanvas: byCanvas(log) });
    const bitmap = new FakeBitmap(1, 1, 3);
    await reader.prepare({ type: 'update', bitmaps: [bitmap] });
    await reader.prepare(null);
    await reader.prepare({ type: 'frame', bitmaps: 'not a list' });
    assert.deepEqual(log, []);
    assert.deepEqual([...reader.read(bitmap)], [3, 3, 3, 3]);
    assert.deepEqual(log, ['canvas']);
    // A copy is read once: a second read of the same bitmap goes to the canvas.
    await reader.prepare({ type: 'frame', bitmaps: [bitmap] });
    reader.read(bitmap);
    reader.read(bitmap);
    assert.deepEqual(log, ['canvas', 'copy 1x1 RGBA srgb', 'close', 'canvas']);

    const without = new SnapshotReader({ order: 'rgba', isBitmap, frameOf: null, readByCanvas: byCanvas(log) });
    assert.equal(without.readback, 'canvas');
    await without.prepare({ type: 'frame', bitmaps: [bitmap] });
    assert.deepEqual([...without.read(bitmap)], [3, 3, 3, 3]);
  });

  it('in BGRA order: asks copyTo for BGRA, and swaps red and blue of what the canvas reads (RGBA)', async () => {
    const log: string[] = [];
    // The canvas stand-in gives R, G, B, A = 10, 20, 30, 255 for every pixel.
    const rgbaCanvas = (bitmap: SnapshotBitmap): Uint8ClampedArray => {
      log.push('canvas');
      const pixels = new Uint8ClampedArray(bitmap.width * bitmap.height * 4);
      for (let index = 0; index < pixels.length; index += 4) pixels.set([10, 20, 30, 255], index);
      return pixels;
    };
    const reader = new SnapshotReader({ order: 'bgra', isBitmap, frameOf: frames(log), readByCanvas: rgbaCanvas });
    const bitmap = new FakeBitmap(2, 1, 4);
    await reader.prepare({ type: 'frame', bitmaps: [bitmap] });
    assert.deepEqual([...reader.read(bitmap)], [4, 4, 4, 4, 4, 4, 4, 4], 'the copy is handed over as copyTo made it');
    assert.deepEqual([...reader.read(bitmap)], [30, 20, 10, 255, 30, 20, 10, 255], 'the canvas read comes back BGRA');
    assert.deepEqual(log, ['copy 2x1 BGRA srgb', 'close', 'canvas']);
    // Without WebCodecs, the same BGRA from the canvas.
    const without = new SnapshotReader({ order: 'bgra', isBitmap, frameOf: null, readByCanvas: rgbaCanvas });
    assert.deepEqual([...without.read(new FakeBitmap(1, 1, 0))], [30, 20, 10, 255]);
  });

  it('falls back to the canvas for good when copyTo fails, and says so once', async () => {
    const log: string[] = [];
    const warnings: string[] = [];
    const reader = new SnapshotReader({ order: 'rgba', isBitmap, frameOf: frames(log, true), readByCanvas: byCanvas(log), warn: (message) => warnings.push(message) });
    const a = new FakeBitmap(1, 1, 5);
    const b = new FakeBitmap(1, 1, 6);
    await reader.prepare({ type: 'frame', bitmaps: [a, b] });
    assert.equal(reader.readback, 'canvas');
    assert.deepEqual([...reader.read(a)], [5, 5, 5, 5]);
    assert.deepEqual([...reader.read(b)], [6, 6, 6, 6]);
    await reader.prepare({ type: 'frame', bitmaps: [a] });
    assert.deepEqual(log, ['copy 1x1 RGBA srgb', 'close', 'canvas', 'canvas']);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /getImageData.*format not supported/);
  });
});

describe('the comparison worker reads snapshots straight into the engine\'s memory', { timeout: 5000 }, () => {
  it('copies a message\'s snapshots one after the other into the memory the engine offers, hands out fresh views, never frees them', async () => {
    const log: string[] = [];
    const engine = new DivergenceEngine({ kernels: KERNELS });
    const asked: number[] = [];
    const destination = (bytes: number): Uint8ClampedArray | null => {
      asked.push(bytes);
      return engine.stagingPixels(bytes);
    };
    const reader = new SnapshotReader({ order: 'bgra', isBitmap, frameOf: frames(log), readByCanvas: byCanvas(log), destination });
    // 3×3 pixels = 36 bytes, placed at a 16-byte boundary: the next snapshot starts at 48.
    const first = new FakeBitmap(3, 3, 7);
    const second = new FakeBitmap(64, 64, 9);
    await reader.prepare({ type: 'frame', bitmaps: [first, 'not a bitmap', second] });
    assert.deepEqual(asked, [48 + 16384], 'asked once for the whole message');
    const pixels = reader.read(first);
    assert.equal(pixels.length, 36);
    assert.ok(pixels.every((value) => value === 7));
    const other = reader.read(second);
    assert.equal(other.byteOffset - pixels.byteOffset, 48);
    assert.ok(other.every((value) => value === 9));
    assert.deepEqual(asked, [16432, 16432, 16432], 'asked again by each read, for the same size');
    assert.ok(reader.owns(pixels) && reader.owns(other), 'the engine\'s memory is never freed or detached by the worker');
    assert.deepEqual(log, ['copy 3x3 BGRA srgb', 'close', 'copy 64x64 BGRA srgb', 'close'], 'no canvas read');
    // A bigger message moves the block (the memory may grow): read asks again and finds its bytes.
    const big = new FakeBitmap(300, 300, 5);
    await reader.prepare({ type: 'frame', bitmaps: [big] });
    assert.ok(reader.read(big).every((value) => value === 5));
    // The engine takes pixels in its memory as they are: nothing staged.
    engine.setReplicaSize('a', 64, 64, 0);
    await reader.prepare({ type: 'frame', bitmaps: [second] });
    engine.update('a', { x: 0, y: 0, width: 64, height: 64 }, reader.read(second), 0);
    assert.equal(engine.stats.stagedBytes, 0);
  });

  it('uses its own buffers where the engine offers none (no kernels) or cannot make room', async () => {
    const log: string[] = [];
    const reader = new SnapshotReader({
      order: 'rgba',
      isBitmap,
      frameOf: frames(log),
      readByCanvas: byCanvas(log),
      destination: (bytes) => {
        if (bytes > 100) throw new RangeError('WebAssembly.Memory.grow(): Maximum memory size exceeded');
        return null;
      },
    });
    const small = new FakeBitmap(2, 2, 3);
    const big = new FakeBitmap(10, 10, 5);
    await reader.prepare({ type: 'frame', bitmaps: [small, big] });
    assert.ok(reader.read(small).every((value) => value === 3));
    assert.ok(reader.read(big).every((value) => value === 5));
    assert.equal(reader.readback, 'videoframe', 'still copied by VideoFrame');
    await reader.prepare({ type: 'frame', bitmaps: [small] });
    const again = reader.read(small);
    assert.ok(again.every((value) => value === 3));
    assert.ok(reader.owns(again), 'a kept buffer of the reader\'s');
    // A snapshot too large for any buffer (a hostile desktop size): not copied, the message still prepared.
    const huge = new FakeBitmap(100_000, 100_000, 1);
    log.length = 0;
    await reader.prepare({ type: 'frame', bitmaps: [huge, small] });
    assert.deepEqual(log, ['copy 2x2 RGBA srgb', 'close'], 'the huge one skipped, the next one copied');
    assert.ok(reader.read(small).every((value) => value === 3));
  });
});
