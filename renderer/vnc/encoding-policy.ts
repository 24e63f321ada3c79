// Which RFB encodings a RetroVisor session may ask for and decode: lossless only, so every replica's
// pixels are exactly its server's framebuffer and replicas can be compared pixel for pixel. Pure (no noVNC).

/** Lossy encodings noVNC asks for by default: H.264, JPEG, Tight (JPEG inside) and TightPNG. */
export const LOSSY_ENCODINGS: ReadonlySet<number> = new Set([50, 21, 7, -260]);

/**
 * Decoders noVNC registers that RetroVisor never offers (the lossy ones): each RFB instance drops
 * them, so a server sending such a rectangle anyway reaches no decoder and the session is dropped.
 */
export const UNOFFERED_DECODER_ENCODINGS: readonly number[] = [...LOSSY_ENCODINGS];

/** The first JPEG quality-level pseudo-encoding (level 0). */
export const QUALITY_LEVEL_FIRST = -32;
/** The last JPEG quality-level pseudo-encoding (level 9). */
export const QUALITY_LEVEL_LAST = -23;

/** Names of the pixel encodings (RFC 6143 and the RFB community registry), for failure reasons. */
const ENCODING_NAMES: ReadonlyMap<number, string> = new Map([
  [0, 'Raw'],
  [1, 'CopyRect'],
  [2, 'RRE'],
  [5, 'Hextile'],
  [6, 'Zlib'],
  [7, 'Tight'],
  [16, 'ZRLE'],
  [21, 'JPEG'],
  [50, 'H.264'],
  [-260, 'TightPNG'],
]);

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

/** Why a session is dropped when the server sends a rectangle in an encoding no decoder of ours takes. */
export function unacceptedEncodingProblem(encoding: number): string {
  const name = ENCODING_NAMES.get(encoding);
  return name === undefined
    ? `the server sent a rectangle in encoding ${encoding}, which RetroVisor did not offer`
    : `the server sent a ${name} rectangle (encoding ${encoding}), which RetroVisor did not offer`;
}
