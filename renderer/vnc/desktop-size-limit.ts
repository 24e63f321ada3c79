// The largest desktop a replica's server may announce, and the rule that every pixel rectangle lies
// inside the desktop. A hostile or broken server asking for a 65535×65535 framebuffer, or sending a
// 16384×16384 rectangle that a decoder allocates before reading, would make the page allocate
// gigabytes; that session fails instead. Pure.

/** Widest and tallest desktop accepted, in pixels. */
export const MAX_DESKTOP_SIDE_PIXELS = 8192;
/** Largest desktop area accepted, in pixels (e.g. 7680×4320 = 33 M fits, 8192×8192 = 67 M does not). */
export const MAX_DESKTOP_AREA_PIXELS = 40_000_000;

/** A rectangle's place and size, in framebuffer pixels (as a FramebufferUpdate rectangle header gives it). */
export interface RectangleHeader {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** Null when a server-announced desktop size is acceptable, else the reason the session fails. */
export function desktopSizeProblem(width: number, height: number): string | null {
  const valid = Number.isInteger(width) && Number.isInteger(height) && width >= 0 && height >= 0;
  if (valid && width <= MAX_DESKTOP_SIDE_PIXELS && height <= MAX_DESKTOP_SIDE_PIXELS && width * height <= MAX_DESKTOP_AREA_PIXELS) {
    return null;
  }
  return `server asked for a ${width}×${height} desktop, larger than RetroVisor accepts`;
}

/**
 * Null when a pixel rectangle lies wholly inside the `desktopWidth`×`desktopHeight` framebuffer,
 * else the reason the session is dropped (TigerVNC's viewer refuses such a rectangle the same way).
 * Pseudo-encoding rectangles (cursor: hotspot and cursor size; DesktopSize: the new size; LastRect,
 * DesktopName, ...) give these fields other meanings and are not checked with this.
 */
export function rectangleBoundsProblem(rect: RectangleHeader, desktopWidth: number, desktopHeight: number): string | null {
  const { x, y, width, height } = rect;
  const valid = [x, y, width, height].every((value) => Number.isInteger(value) && value >= 0);
  if (valid && x + width <= desktopWidth && y + height <= desktopHeight) return null;
  return `rectangle ${width}×${height} at ${x},${y} outside the ${desktopWidth}×${desktopHeight} desktop`;
}
