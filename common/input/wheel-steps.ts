// Turns browser wheel deltas (pixels, lines or pages, any size) into whole VNC wheel steps, keeping the
// remainder so slow trackpad scrolling still adds up. Pure.

/** Pixels of wheel travel that make one VNC wheel step (noVNC's own WHEEL_STEP). */
export const WHEEL_STEP_PX = 50;
/** Pixels one "line" of wheel travel counts as (DOM deltaMode 1), as noVNC does. */
export const WHEEL_LINE_PX = 19;
/** Pixels one "page" counts as (DOM deltaMode 2). */
export const WHEEL_PAGE_PX = 400;

/** Accumulates wheel travel on both axes. */
export class WheelAccumulator {
  private x = 0;
  private y = 0;

  /** Adds one wheel event's travel; returns the whole steps it completes (positive: right / down). */
  add(deltaX: number, deltaY: number, deltaMode: 0 | 1 | 2): { dx: number; dy: number } {
    const scale = deltaMode === 1 ? WHEEL_LINE_PX : deltaMode === 2 ? WHEEL_PAGE_PX : 1;
    this.x += deltaX * scale;
    this.y += deltaY * scale;
    const dx = Math.trunc(this.x / WHEEL_STEP_PX);
    const dy = Math.trunc(this.y / WHEEL_STEP_PX);
    this.x -= dx * WHEEL_STEP_PX;
    this.y -= dy * WHEEL_STEP_PX;
    return { dx, dy };
  }

  /** Forgets partial travel (the pointer left, or the direction reversed). */
  reset(): void {
    this.x = 0;
    this.y = 0;
  }
}
