// The largest desktop a replica's server may announce. A hostile or broken server asking for a
// 65535×65535 framebuffer would make the page allocate gigabytes; that session fails instead. Pure.

/** Widest and tallest desktop accepted, in pixels. */
export const MAX_DESKTOP_SIDE_PIXELS = 8192;
/** Largest desktop area accepted, in pixels (e.g. 7680×4320 = 33 M fits, 8192×8192 = 67 M does not). */
export const MAX_DESKTOP_AREA_PIXELS = 40_000_000;

/** Null when a server-announced desktop size is acceptable, else the reason the session fails. */
export function desktopSizeProblem(width: number, height: number): string | null {
  const valid = Number.isInteger(width) && Number.isInteger(height) && width >= 0 && height >= 0;
  if (valid && width <= MAX_DESKTOP_SIDE_PIXELS && height <= MAX_DESKTOP_SIDE_PIXELS && width * height <= MAX_DESKTOP_AREA_PIXELS) {
    return null;
  }
  return `server asked for a ${width}×${height} desktop, larger than RetroVisor accepts`;
}
