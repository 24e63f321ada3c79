// The pure rules around noVNC: lossless encodings only, the desktop size limit, rectangles inside
// the desktop, and damage bookkeeping. Plain Node.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { boundingRect, clipRect, DamageCollector } from '../../../renderer/vnc/damage';
import { desktopSizeProblem, rectangleBoundsProblem } from '../../../renderer/vnc/desktop-size-limit';
import { isLossyEncoding, losslessEncodings, unacceptedEncodingProblem, UNOFFERED_DECODER_ENCODINGS } from '../../../renderer/vnc/encoding-policy';

/** What noVNC 1.7 sends by default (H.264 when WebCodecs decodes it, quality 6, compression 2). */
const NOVNC_DEFAULT = [1, 50, 7, -260, 16, 21, 5, 2, 6, 0, -26, -254, -223, -224, -258, -261, -308, -309, -312, -313, -307, 0xc0a1e5ce | 0, -316, 0x574d5664, -239];

describe('losslessEncodings', { timeout: 60_000 }, () => {
  it('drops H.264, JPEG, Tight, TightPNG and every quality level, keeping order', () => {
    assert.deepEqual(losslessEncodings(NOVNC_DEFAULT), [1, 16, 5, 2, 6, 0, -254, -223, -224, -258, -261, -308, -309, -312, -313, -307, 0xc0a1e5ce | 0, -316, 0x574d5664, -239]);
  });

  it('treats -32..-23 as lossy and the compress levels as lossless', () => {
    for (let level = -32; level <= -23; level += 1) assert.equal(isLossyEncoding(level), true);
    assert.equal(isLossyEncoding(-33), false);
    assert.equal(isLossyEncoding(-22), false);
    assert.equal(isLossyEncoding(-256), false);
    assert.equal(isLossyEncoding(-247), false);
  });
});

describe('desktopSizeProblem', { timeout: 60_000 }, () => {
  it('accepts ordinary desktops up to the limits', () => {
    assert.equal(desktopSizeProblem(640, 400), null);
    assert.equal(desktopSizeProblem(7680, 4320), null);
    assert.equal(desktopSizeProblem(8192, 4096), null);
    assert.equal(desktopSizeProblem(0, 0), null);
  });

  it('refuses a side above 8192 or an area above 40 M pixels, with the reason shown to the user', () => {
    assert.equal(desktopSizeProblem(65535, 65535), 'server asked for a 65535×65535 desktop, larger than RetroVisor accepts');
    assert.notEqual(desktopSizeProblem(8193, 10), null);
    assert.notEqual(desktopSizeProblem(8192, 8192), null);
    assert.notEqual(desktopSizeProblem(-1, 10), null);
  });
});

describe('rectangleBoundsProblem', { timeout: 5_000 }, () => {
  it('accepts rectangles inside the desktop, up to its edges, and empty ones on them', () => {
    assert.equal(rectangleBoundsProblem({ x: 0, y: 0, width: 640, height: 400 }, 640, 400), null);
    assert.equal(rectangleBoundsProblem({ x: 600, y: 384, width: 40, height: 16 }, 640, 400), null);
    assert.equal(rectangleBoundsProblem({ x: 640, y: 400, width: 0, height: 0 }, 640, 400), null);
  });

  it('refuses one that reaches past an edge, with the reason shown to the user', () => {
    assert.equal(rectangleBoundsProblem({ x: 0, y: 0, width: 16384, height: 16384 }, 640, 400), 'rectangle 16384×16384 at 0,0 outside the 640×400 desktop');
    assert.equal(rectangleBoundsProblem({ x: 0, y: 0, width: 4096, height: 4096 }, 640, 400), 'rectangle 4096×4096 at 0,0 outside the 640×400 desktop');
    assert.notEqual(rectangleBoundsProblem({ x: 601, y: 0, width: 40, height: 1 }, 640, 400), null);
    assert.notEqual(rectangleBoundsProblem({ x: 0, y: 399, width: 1, height: 2 }, 640, 400), null);
    assert.notEqual(rectangleBoundsProblem({ x: 65535, y: 0, width: 0, height: 0 }, 640, 400), null);
    assert.notEqual(rectangleBoundsProblem({ x: 0, y: 0, width: 1, height: 1 }, 0, 0), null, 'nothing fits a 0×0 desktop');
  });
});

describe('decoders RetroVisor never offers', { timeout: 5_000 }, () => {
  it('are exactly the lossy encodings: H.264, JPEG, Tight and TightPNG', () => {
    assert.deepEqual([...UNOFFERED_DECODER_ENCODINGS].sort((a, b) => a - b), [-260, 7, 21, 50]);
  });

  it('name the encoding a server sent anyway', () => {
    assert.equal(unacceptedEncodingProblem(7), 'the server sent a Tight rectangle (encoding 7), which RetroVisor did not offer');
    assert.equal(unacceptedEncodingProblem(21), 'the server sent a JPEG rectangle (encoding 21), which RetroVisor did not offer');
    assert.equal(unacceptedEncodingProblem(0x7f123456), 'the server sent a rectangle in encoding 2131899478, which RetroVisor did not offer');
  });
});

describe('damage', { timeout: 60_000 }, () => {
  it('clips rectangles to the framebuffer', () => {
    assert.deepEqual(clipRect({ x: -5, y: 10, width: 20, height: 100 }, 100, 50), { x: 0, y: 10, width: 15, height: 40 });
    assert.equal(clipRect({ x: 100, y: 0, width: 5, height: 5 }, 100, 50), null);
  });

  it('collects rectangles per update and starts afresh', () => {
    const collector = new DamageCollector();
    collector.add({ x: 0, y: 0, width: 10, height: 10 });
    collector.add({ x: 5, y: 5, width: 0, height: 10 });
    collector.add({ x: 90, y: 40, width: 20, height: 20 });
    assert.deepEqual(collector.take(100, 50), [
      { x: 0, y: 0, width: 10, height: 10 },
      { x: 90, y: 40, width: 10, height: 10 },
    ]);
    assert.equal(collector.isEmpty, true);
  });

  it('collapses a flood of rectangles into their bounding box', () => {
    const collector = new DamageCollector(4);
    for (let index = 0; index < 10; index += 1) collector.add({ x: index * 10, y: index, width: 1, height: 1 });
    const taken = collector.take(1000, 1000);
    assert.ok(taken.length <= 4);
    assert.deepEqual(boundingRect(taken), { x: 0, y: 0, width: 91, height: 10 });
  });
});
