// Rectangles in framebuffer pixels, and the merge of a set of tiles into few rectangles for
// reporting. Pure: plain numbers, runs in the renderer and in plain Node tests.

/** A rectangle of framebuffer pixels (same shape as the renderer's damage rectangles). */
export interface PixelRect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** The part of `rect` inside a widthPx×heightPx framebuffer, on whole pixels; null when nothing is left. */
export function clipToFramebuffer(rect: PixelRect, widthPx: number, heightPx: number): PixelRect | null {
  const left = Math.max(0, Math.floor(rect.x));
  const top = Math.max(0, Math.floor(rect.y));
  const right = Math.min(widthPx, Math.ceil(rect.x + rect.width));
  const bottom = Math.min(heightPx, Math.ceil(rect.y + rect.height));
  if (!(right > left && bottom > top)) return null;
  return { x: left, y: top, width: right - left, height: bottom - top };
}

/**
 * Per-tile boxes of differing pixels, [left, top, right, bottom) in framebuffer pixels, four
 * numbers per tile of a `columns`-wide grid.
 */
export type TileBoxes = Int32Array;

/**
 * Merges tiles into rectangles: runs of horizontally adjacent tiles, then runs of rows whose run
 * spans the same columns. Each rectangle is then shrunk to the union of its tiles' boxes, so a
 * one-character difference is reported as that character's box, not as its tiles.
 * `tiles` must be sorted by index (row-major); the result is sorted top to bottom, left to right.
 */
export function mergeTiles(tiles: readonly number[], columns: number, boxes: TileBoxes): PixelRect[] {
  interface Open {
    firstColumn: number;
    lastColumn: number;
    lastRow: number;
    left: number;
    top: number;
    right: number;
    bottom: number;
  }
  const done: Open[] = [];
  // Rectangles that may still grow downwards, keyed by their column span.
  let open = new Map<number, Open>();
  let index = 0;
  while (index < tiles.length) {
    const row = Math.floor(tiles[index]! / columns);
    const next = new Map<number, Open>();
    while (index < tiles.length && Math.floor(tiles[index]! / columns) === row) {
      const firstColumn = tiles[index]! - row * columns;
      let lastColumn = firstColumn;
      let left = Infinity;
      let top = Infinity;
      let right = -Infinity;
      let bottom = -Infinity;
      for (;;) {
        const box = (row * columns + lastColumn) * 4;
        left = Math.min(left, boxes[box]!);
        top = Math.min(top, boxes[box + 1]!);
        right = Math.max(right, boxes[box + 2]!);
        bottom = Math.max(bottom, boxes[box + 3]!);
        index += 1;
        if (index < tiles.length && tiles[index] === row * columns + lastColumn + 1) lastColumn += 1;
        else break;
      }
      const key = firstColumn * 65_536 + lastColumn;
      const above = open.get(key);
      if (above !== undefined && above.lastRow === row - 1) {
        above.lastRow = row;
        above.left = Math.min(above.left, left);
        above.top = Math.min(above.top, top);
        above.right = Math.max(above.right, right);
        above.bottom = Math.max(above.bottom, bottom);
        open.delete(key);
        next.set(key, above);
      } else {
        next.set(key, { firstColumn, lastColumn, lastRow: row, left, top, right, bottom });
      }
    }
    for (const closed of open.values()) done.push(closed);
    open = next;
  }
  for (const closed of open.values()) done.push(closed);
  return done
    .map((merged) => ({ x: merged.left, y: merged.top, width: merged.right - merged.left, height: merged.bottom - merged.top }))
    .sort((a, b) => a.y - b.y || a.x - b.x);
}
