// Damaged-rectangle bookkeeping shared by the damage tap (one list per framebuffer update) and the
// composite (rectangles batched per animation frame). Pure: plain numbers, no DOM.

/** A rectangle of framebuffer pixels, in framebuffer coordinates. */
export interface DamageRect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** Past this many rectangles a batch collapses to their bounding box (one copy beats hundreds). */
export const MAX_DAMAGE_RECTS = 64;

/** Clips a rectangle to a width×height framebuffer; null when nothing is left. */
export function clipRect(rect: DamageRect, width: number, height: number): DamageRect | null {
  const left = Math.max(0, Math.floor(rect.x));
  const top = Math.max(0, Math.floor(rect.y));
  const right = Math.min(width, Math.ceil(rect.x + rect.width));
  const bottom = Math.min(height, Math.ceil(rect.y + rect.height));
  if (right <= left || bottom <= top) return null;
  return { x: left, y: top, width: right - left, height: bottom - top };
}

/** The smallest rectangle holding every given one (which must not be empty). */
export function boundingRect(rects: readonly DamageRect[]): DamageRect {
  let left = Infinity;
  let top = Infinity;
  let right = -Infinity;
  let bottom = -Infinity;
  for (const rect of rects) {
    left = Math.min(left, rect.x);
    top = Math.min(top, rect.y);
    right = Math.max(right, rect.x + rect.width);
    bottom = Math.max(bottom, rect.y + rect.height);
  }
  return { x: left, y: top, width: right - left, height: bottom - top };
}

/**
 * Collects damaged rectangles until taken. Keeps at most `maxRects`: beyond that the collection
 * collapses into its bounding box, so a flood of tiny updates costs constant memory.
 */
export class DamageCollector {
  private rects: DamageRect[] = [];

  constructor(private readonly maxRects: number = MAX_DAMAGE_RECTS) {}

  /** True when nothing was added since the last take. */
  get isEmpty(): boolean {
    return this.rects.length === 0;
  }

  /** Records one damaged rectangle (empty ones are ignored). */
  add(rect: DamageRect): void {
    if (!(rect.width > 0 && rect.height > 0)) return;
    this.rects.push(rect);
    if (this.rects.length > this.maxRects) this.rects = [boundingRect(this.rects)];
  }

  /** Returns what was collected, clipped to a width×height framebuffer, and starts afresh. */
  take(width: number, height: number): DamageRect[] {
    const taken: DamageRect[] = [];
    for (const rect of this.rects) {
      const clipped = clipRect(rect, width, height);
      if (clipped) taken.push(clipped);
    }
    this.rects = [];
    return taken;
  }

  /** Forgets everything collected. */
  clear(): void {
    this.rects = [];
  }
}
