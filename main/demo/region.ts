// Rectangles and a small damage region (a bounded list of rectangles) for the demo RFB server:
// each connection accumulates what changed since its last update. Pure, no I/O.

/** An axis-aligned rectangle in framebuffer pixels. */
export interface Rect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** True when the rectangle covers no pixel. */
export function isEmptyRect(rect: Rect): boolean {
  return rect.width <= 0 || rect.height <= 0;
}

/** The overlap of two rectangles, or null when they do not overlap. */
export function intersectRects(a: Rect, b: Rect): Rect | null {
  const x = Math.max(a.x, b.x);
  const y = Math.max(a.y, b.y);
  const right = Math.min(a.x + a.width, b.x + b.width);
  const bottom = Math.min(a.y + a.height, b.y + b.height);
  if (right <= x || bottom <= y) return null;
  return { x, y, width: right - x, height: bottom - y };
}

/** The smallest rectangle holding both. */
export function unionRects(a: Rect, b: Rect): Rect {
  const x = Math.min(a.x, b.x);
  const y = Math.min(a.y, b.y);
  return {
    x,
    y,
    width: Math.max(a.x + a.width, b.x + b.width) - x,
    height: Math.max(a.y + a.height, b.y + b.height) - y,
  };
}

/** True when `outer` covers all of `inner`. */
export function containsRect(outer: Rect, inner: Rect): boolean {
  return (
    inner.x >= outer.x &&
    inner.y >= outer.y &&
    inner.x + inner.width <= outer.x + outer.width &&
    inner.y + inner.height <= outer.y + outer.height
  );
}

/** `a` minus `b`, as at most four disjoint rectangles. */
export function subtractRect(a: Rect, b: Rect): Rect[] {
  const overlap = intersectRects(a, b);
  if (overlap === null) return [a];
  const pieces: Rect[] = [];
  const aRight = a.x + a.width;
  const aBottom = a.y + a.height;
  const oRight = overlap.x + overlap.width;
  const oBottom = overlap.y + overlap.height;
  if (overlap.y > a.y) pieces.push({ x: a.x, y: a.y, width: a.width, height: overlap.y - a.y });
  if (oBottom < aBottom) pieces.push({ x: a.x, y: oBottom, width: a.width, height: aBottom - oBottom });
  if (overlap.x > a.x) pieces.push({ x: a.x, y: overlap.y, width: overlap.x - a.x, height: overlap.height });
  if (oRight < aRight) pieces.push({ x: oRight, y: overlap.y, width: aRight - oRight, height: overlap.height });
  return pieces;
}

function area(rect: Rect): number {
  return rect.width * rect.height;
}

// Two rectangles are merged when their bounding box wastes at most this many pixels: typing a
// line then damages one strip instead of one rectangle per character.
const MERGE_SLACK_PIXELS = 4096;

/** Damage as a bounded list of rectangles (they may overlap: sending a pixel twice is harmless). */
export class Region {
  private rects: Rect[] = [];

  /** Beyond `maxRects` rectangles the region collapses to its bounding box. */
  constructor(private readonly maxRects = 32) {}

  /** Adds a rectangle, merging it with close neighbours. */
  add(rect: Rect): void {
    if (isEmptyRect(rect)) return;
    let incoming = rect;
    let merged = true;
    while (merged) {
      merged = false;
      for (let index = 0; index < this.rects.length; index++) {
        const existing = this.rects[index];
        if (existing === undefined) continue;
        if (containsRect(existing, incoming)) return;
        const box = unionRects(existing, incoming);
        if (area(box) <= area(existing) + area(incoming) + MERGE_SLACK_PIXELS) {
          this.rects.splice(index, 1);
          incoming = box;
          merged = true;
          break;
        }
      }
    }
    this.rects.push(incoming);
    if (this.rects.length > this.maxRects) this.rects = [this.bounds() ?? incoming];
  }

  /** True when nothing is damaged. */
  isEmpty(): boolean {
    return this.rects.length === 0;
  }

  /** Forgets all damage. */
  clear(): void {
    this.rects = [];
  }

  /** The bounding box of all damage, or null when empty. */
  bounds(): Rect | null {
    let box: Rect | null = null;
    for (const rect of this.rects) box = box === null ? rect : unionRects(box, rect);
    return box;
  }

  /** True when some damage overlaps `rect`. */
  intersects(rect: Rect): boolean {
    return this.rects.some((existing) => intersectRects(existing, rect) !== null);
  }

  /** A copy of the rectangles. */
  toArray(): Rect[] {
    return [...this.rects];
  }

  /** Removes and returns the damage inside `area`; damage outside it stays. */
  takeWithin(within: Rect): Rect[] {
    const taken: Rect[] = [];
    const kept: Rect[] = [];
    for (const rect of this.rects) {
      const inside = intersectRects(rect, within);
      if (inside === null) {
        kept.push(rect);
        continue;
      }
      taken.push(inside);
      kept.push(...subtractRect(rect, within));
    }
    this.rects = [];
    for (const rect of kept) this.add(rect);
    return taken;
  }
}

/** The largest rectangle a FramebufferUpdate carries, in pixels, as in TigerVNC's encoder (SubRectMaxArea). */
export const SUBRECT_MAX_AREA_PX = 65536;
/** The widest rectangle a FramebufferUpdate carries, as in TigerVNC's encoder (SubRectMaxWidth). */
export const SUBRECT_MAX_WIDTH_PX = 2048;

/**
 * `rect` cut into row-major subrectangles of at most SUBRECT_MAX_WIDTH_PX columns and
 * SUBRECT_MAX_AREA_PX pixels, the way TigerVNC sends a large change. A viewer decodes a rectangle
 * whole once its last byte is in (noVNC inflates a ZRLE rectangle in one go), so a full-screen
 * 1920×1080 change sent as one rectangle is one 20–30 ms decode on the viewer's UI thread; as bands of
 * 34 rows it is 32 decodes of under a millisecond each, and the viewer can take input between them.
 */
export function splitIntoSubrects(rect: Rect): Rect[] {
  if (isEmptyRect(rect)) return [];
  const width = Math.min(rect.width, SUBRECT_MAX_WIDTH_PX);
  const bandHeight = Math.max(1, Math.floor(SUBRECT_MAX_AREA_PX / width));
  const parts: Rect[] = [];
  for (let y = rect.y; y < rect.y + rect.height; y += bandHeight) {
    const height = Math.min(bandHeight, rect.y + rect.height - y);
    for (let x = rect.x; x < rect.x + rect.width; x += width) parts.push({ x, y, width: Math.min(width, rect.x + rect.width - x), height });
  }
  return parts;
}
