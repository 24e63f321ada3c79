// The tray's state icons as PNGs, drawn with sharp from the one SVG per state and panel theme
// (common/desktop-status.ts) at every size a Linux tray asks for. Node-side; Electron wraps them.

import sharp from 'sharp';
import { TRAY_ICON_SIZES, TRAY_STATE_PRECEDENCE, stateIconSvg, type PanelTheme, type TrayState } from '../common/desktop-status';

/** One drawn icon. */
export interface TrayIconPng {
  readonly size: number;
  readonly png: Buffer;
}

/** Every state's icon for one panel theme, at every size (smallest first). */
export type TrayIconSet = ReadonlyMap<TrayState, readonly TrayIconPng[]>;

/** Draws every state's icon for `theme` at TRAY_ICON_SIZES (or `sizes`). */
export async function renderTrayIcons(theme: PanelTheme, sizes: readonly number[] = TRAY_ICON_SIZES): Promise<TrayIconSet> {
  const entries = await Promise.all(
    TRAY_STATE_PRECEDENCE.map(async (state): Promise<[TrayState, TrayIconPng[]]> => {
      const svg = Buffer.from(stateIconSvg(state, theme));
      // Drawn at each size from the vector (not scaled from one bitmap): 16 px stays crisp.
      const pngs = await Promise.all(sizes.map(async (size) => ({ size, png: await sharp(svg, { density: (72 * size) / 32 }).resize(size, size).png().toBuffer() })));
      return [state, pngs];
    }),
  );
  return new Map(entries);
}
