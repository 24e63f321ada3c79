// Shortens a name to fit a width by cutting its middle, never its distinguishing end: the port of
// "host:port", the last folder or file of a path. Pure: the width check is passed in (the renderer
// measures with a canvas; tests count characters).

/** The ellipsis put where text was cut. */
export const ELLIPSIS = '…';

/**
 * Where the distinguishing end of `text` starts: at its last ':' (a port, or a display after "::"),
 * '/' or '\\' (a path), or ' ' (a label's last word) — the end is kept whole as long as it fits.
 * Returns text.length when there is no such separator (the whole text is its own end).
 */
export function distinguishingTailStart(text: string): number {
  const separator = Math.max(text.lastIndexOf(':'), text.lastIndexOf('/'), text.lastIndexOf('\\'), text.lastIndexOf(' '));
  // A separator at the very end ("host:" or "dir/") distinguishes nothing: keep the text's last characters.
  return separator <= 0 || separator === text.length - 1 ? text.length : separator;
}

/**
 * `text` as it fits: itself when `fits(text)`, else the longest "head…tail" that fits, where the tail
 * is the distinguishing end (from its separator on) and the head as much of the start as room allows.
 * When even "…" + that end does not fit, as many of the text's last characters as fit after "…".
 * Returns "" when not even "…" fits.
 */
export function middleEllipsis(text: string, fits: (candidate: string) => boolean): string {
  if (fits(text)) return text;
  const characters = Array.from(text);
  const tailStart = Array.from(text.slice(0, distinguishingTailStart(text))).length;
  const tail = characters.slice(tailStart).join('');
  if (tail !== '' && fits(ELLIPSIS + tail)) {
    // The most head characters that still fit (fits is monotone in the head's length).
    let low = 0;
    let high = tailStart;
    while (low < high) {
      const middle = Math.ceil((low + high) / 2);
      if (fits(characters.slice(0, middle).join('') + ELLIPSIS + tail)) low = middle;
      else high = middle - 1;
    }
    return characters.slice(0, low).join('') + ELLIPSIS + tail;
  }
  // The end alone is too long: keep its last characters, the most that fit.
  let low = 0;
  let high = characters.length;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (fits(ELLIPSIS + characters.slice(characters.length - middle).join(''))) low = middle;
    else high = middle - 1;
  }
  if (low === 0) return fits(ELLIPSIS) ? ELLIPSIS : '';
  return ELLIPSIS + characters.slice(characters.length - low).join('');
}
