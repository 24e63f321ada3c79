// Which RFB encodings a RetroVisor session may ask for: lossless only, so every replica's pixels are
// exactly its server's framebuffer and replicas can be compared pixel for pixel. Pure (no noVNC).

/** Lossy encodings noVNC asks for by default: H.264, JPEG, Tight (JPEG inside) and TightPNG. */
export const LOSSY_ENCODINGS: ReadonlySet<number> = new Set([50, 21, 7, -260]);

/** The first JPEG quality-level pseudo-encoding (level 0). */
export const QUALITY_LEVEL_FIRST = -32;
/** The last JPEG quality-level pseudo-encoding (level 9). */
export const QUALITY_LEVEL_LAST = -23;

/** True for an encoding or pseudo-encoding that would let a server send lossy pixels. */
export function isLossyEncoding(encoding: number): boolean {
  return LOSSY_ENCODINGS.has(encoding) || (encoding >= QUALITY_LEVEL_FIRST && encoding <= QUALITY_LEVEL_LAST);
}

/**
 * The SetEncodings list with every lossy entry removed, order kept: CopyRect, ZRLE, Hextile, RRE,
 * Zlib, Raw and the other pseudo-encodings (DesktopSize, cursor, compress level, ...) stay.
 */
export function losslessEncodings(encodings: readonly number[]): number[] {
  return encodings.filter((encoding) => !isLossyEncoding(encoding));
}
