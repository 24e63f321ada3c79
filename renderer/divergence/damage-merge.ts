// Joins the damaged rectangles of one framebuffer update into few, before they are snapshot or read:
// noVNC reports a full-screen ZRLE update as hundreds of 64×64 tiles, and each read or snapshot has a
// fixed cost on the page's thread. Pure (plain rectangles); runs in the renderer, tested in plain Node.

import type { PixelRect } from '../../common/divergence';

/** Above this many rectangles after joining, the update is taken as its bounding box (one read). */
export const MAX_RECTS_PER_UPDATE = 16;

/**
 * The same pixels in fewer rectangles: runs of side-by-side rectangles of one row band are joined,
 * then stacked bands of the same columns. Nothing is added, unless more than MAX_RECTS_PER_UPDATE
 * remain: then their bounding box (some undamaged pixels read again: the engine finds them unchanged).
 */
export function mergeDamage(rects: readonly PixelRect[]): PixelRect[] {
  if (rects.length <= 1) return [...rects];
  const byRow = [...rects].sort((a, b) => a.y - b.y || a.height - b.height || a.x - b.x);
  const bands: { x: number; y: number; width: number; height: number }[] = [];
  for (const rect of byRow) {
    const last = bands.at(-1);
    if (last !== undefined && last.y === rect.y && last.height === rect.height && last.x + last.width === rect.x) last.width += rect.width;
    else bands.push({ ...rect });
  }
  const byColumn = bands.sort((a, b) => a.x - b.x || a.width - b.width || a.y - b.y);
  const merged: { x: number; y: number; width: number; height: number }[] = [];
  for (const band of byColumn) {
    const last = merged.at(-1);
    if (last !== undefined && last.x === band.x && last.width === band.width && last.y + last.height === band.y) last.height += band.height;
    else merged.push(band);
  }
  if (merged.length <= MAX_RECTS_PER_UPDATE) return merged;
  const left = Math.min(...merged.map((rect) => rect.x));
  const top = Math.min(...merged.map((rect) => rect.y));
  const right = Math.max(...merged.map((rect) => rect.x + rect.width));
  const bottom = Math.max(...merged.map((rect) => rect.y + rect.height));
  return [{ x: left, y: top, width: right - left, height: bottom - top }];
}
