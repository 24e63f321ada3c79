// The tray icons in plain Node: every state drawn at every Linux tray size for light and dark panels,
// each a PNG of that size whose centre is the state's colour and whose outline follows the panel.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { TRAY_ICON_SIZES, TRAY_STATE_COLOURS, TRAY_STATE_PRECEDENCE } from '../../../common/desktop-status';
import { renderTrayIcons } from '../../../main/tray-icons';

function hex(colour: string): [number, number, number] {
  return [1, 3, 5].map((start) => Number.parseInt(colour.slice(start, start + 2), 16)) as [number, number, number];
}

describe('tray icons', { timeout: 30_000 }, () => {
  for (const theme of ['light', 'dark'] as const) {
    it(`draws every state at ${TRAY_ICON_SIZES.join(', ')} px for a ${theme} panel`, async () => {
      const icons = await renderTrayIcons(theme);
      for (const state of TRAY_STATE_PRECEDENCE) {
        const pngs = icons.get(state) ?? [];
        assert.deepEqual(
          pngs.map((icon) => icon.size),
          TRAY_ICON_SIZES,
        );
        for (const icon of pngs) {
          const { data, info } = await sharp(icon.png).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
          assert.equal(info.width, icon.size);
          assert.equal(info.height, icon.size);
          // A pixel inside the disc, off the glyph: the state's colour.
          const x = Math.floor(icon.size * 0.4);
          const y = Math.floor(icon.size * 0.2);
          const offset = (y * info.width + x) * 4;
          const [red, green, blue] = hex(TRAY_STATE_COLOURS[state]);
          const pixel = [data[offset], data[offset + 1], data[offset + 2]] as number[];
          assert.ok(Math.abs((pixel[0] as number) - red) + Math.abs((pixel[1] as number) - green) + Math.abs((pixel[2] as number) - blue) < 60, `${state} ${theme} ${icon.size}px: ${pixel.join(',')} at ${x},${y}`);
          // The corners are transparent: the panel shows through.
          assert.equal(data[3], 0);
        }
      }
    });
  }
});
