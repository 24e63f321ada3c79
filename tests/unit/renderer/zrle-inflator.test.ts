// The ZRLE inflator that inflates ahead: against noVNC's own inflator (core/inflator.js over the same
// pako) on one zlib stream of many sync-flushed rectangles, read with the same random ask sizes, the
// bytes are identical; a truncated block fails as noVNC's does; a zip bomb does not grow its buffer.
// Plain Node (noVNC's inflator and pako need no window).

import assert from 'node:assert/strict';
import { constants as zlibConstants, deflateSync } from 'node:zlib';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { DeflateStream } from '../../../main/demo/rfb-encodings';
import { BufferedInflator, bufferZrleInflation, REFILL_BYTES, type NoVncInflator, type PakoInflate, type ZrleDecoderLike } from '../../../renderer/vnc/zrle-inflator';
import { seededRandom } from '../../fuzz/rfb-mutators';

const NOVNC = path.resolve(import.meta.dirname, '../../../node_modules/@novnc/novnc');

async function noVncModules(): Promise<{ Inflator: new () => NoVncInflator; inflate: PakoInflate }> {
  const inflatorModule = (await import(pathToFileURL(path.join(NOVNC, 'core/inflator.js')).href)) as { default: new () => NoVncInflator };
  const pako = (await import(pathToFileURL(path.join(NOVNC, 'vendor/pako/lib/zlib/inflate.js')).href)) as { inflate: PakoInflate };
  return { Inflator: inflatorModule.default, inflate: pako.inflate };
}

/** A rectangle's uncompressed ZRLE-like bytes: runs of one value and random stretches. */
function rectangleBytes(random: () => number): Uint8Array {
  const bytes = new Uint8Array(1 + Math.floor(random() * 40_000));
  for (let at = 0; at < bytes.length; ) {
    const run = 1 + Math.floor(random() * 300);
    const value = Math.floor(random() * 256);
    const solid = random() < 0.6;
    for (let index = 0; index < run && at < bytes.length; index += 1, at += 1) bytes[at] = solid ? value : Math.floor(random() * 256);
  }
  return bytes;
}

/** Ask sizes as noVNC's decoder makes them: mostly single bytes, some pixel runs, some whole raw tiles. */
function askSizes(total: number, random: () => number): number[] {
  const sizes: number[] = [];
  for (let left = total; left > 0; ) {
    const roll = random();
    const size = Math.min(left, roll < 0.7 ? 1 : roll < 0.95 ? 3 * (1 + Math.floor(random() * 16)) : 3 * 64 * 64);
    sizes.push(size);
    left -= size;
  }
  return sizes;
}

describe('buffered ZRLE inflator', { timeout: 60_000 }, () => {
  it("serves exactly the bytes noVNC's own inflator does, rectangle after rectangle of one stream", async () => {
    const { Inflator, inflate } = await noVncModules();
    const random = seededRandom(20261203);
    const deflate = new DeflateStream(6);
    const reference = new Inflator();
    const ownInflator = new Inflator();
    const buffered = new BufferedInflator(ownInflator.strm, inflate);
    for (let rect = 0; rect < 60; rect += 1) {
      const plain = rectangleBytes(random);
      const compressed = await deflate.compress(plain);
      const sizes = askSizes(plain.length, random);
      reference.setInput(compressed);
      buffered.setInput(compressed);
      let offset = 0;
      for (const size of sizes) {
        const expected = Array.from(reference.inflate(size));
        const actual = Array.from(buffered.inflate(size));
        assert.deepEqual(actual, expected, `rectangle ${rect}, ${size} bytes at ${offset}`);
        assert.deepEqual(actual, Array.from(plain.subarray(offset, offset + size)));
        offset += size;
      }
    }
    deflate.close();
  });

  it('fails a rectangle whose block ends before what the decoder asks, as noVNC does', async () => {
    const { Inflator, inflate } = await noVncModules();
    const deflate = new DeflateStream(6);
    const compressed = await deflate.compress(new Uint8Array(100).fill(7));
    for (const inflator of [new Inflator(), new BufferedInflator(new Inflator().strm, inflate)]) {
      inflator.setInput(compressed);
      assert.equal(inflator.inflate(60).length, 60);
      assert.throws(() => inflator.inflate(41), /Incomplete zlib block|zlib inflate failed/);
    }
    deflate.close();
  });

  it('fails on bytes that are not zlib, as noVNC does', async () => {
    const { Inflator, inflate } = await noVncModules();
    for (const inflator of [new Inflator(), new BufferedInflator(new Inflator().strm, inflate)]) {
      inflator.setInput(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
      assert.throws(() => inflator.inflate(1), /zlib inflate failed|Incomplete zlib block/);
    }
  });

  it('holds at most one refill ahead of what is asked: a zip bomb does not grow it', async () => {
    const { Inflator, inflate } = await noVncModules();
    // 64 MiB of zeros in about 64 KiB of zlib, as one rectangle's block (stream header included).
    const bomb = deflateSync(new Uint8Array(64 * 1024 * 1024), { level: 9, finishFlush: zlibConstants.Z_SYNC_FLUSH });
    const buffered = new BufferedInflator(new Inflator().strm, inflate);
    buffered.setInput(bomb);
    for (let ask = 0; ask < 10_000; ask += 1) buffered.inflate(ask % 10 === 0 ? 3 * 64 * 64 : 1);
    assert.equal(buffered.capacityBytes, REFILL_BYTES);
  });

  it("replaces a ZRLE decoder's inflator, keeping its z_stream", async () => {
    const { Inflator, inflate } = await noVncModules();
    const original = new Inflator();
    const decoder: ZrleDecoderLike = { _inflator: original };
    bufferZrleInflation(decoder, inflate);
    assert.ok(decoder._inflator instanceof BufferedInflator);
    assert.equal(decoder._inflator.strm, original.strm);
  });
});
