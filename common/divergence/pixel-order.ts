// The byte order of the pixels one comparison engine is given. The engine is blind to it: alpha is
// byte 3 in both orders and R, G and B are compared alike (exactly, or each within the tolerance),
// so RGBA and BGRA frames give the same verdicts, as long as every pixel one engine holds comes in
// the same order. The worker's engine holds BGRA, the order Chromium keeps canvas snapshots in (its
// VideoFrame.copyTo then copies without converting: 0.2 ms for 1920×1080 instead of 1.6 ms); the
// engine on the page holds RGBA, as getImageData gives it.

export type PixelOrder = 'rgba' | 'bgra';

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Swaps bytes 0 and 2 of every 4-byte pixel in place: RGBA becomes BGRA and BGRA becomes RGBA. */
export function swapRedAndBlue(pixels: Uint8Array | Uint8ClampedArray): void {
  if (pixels.length % 4 !== 0) throw new RangeError(`pixels hold whole 4-byte pixels, got ${pixels.length} bytes`);
  if (LITTLE_ENDIAN && pixels.byteOffset % 4 === 0) {
    // Byte 0 is bits 0–7 of a little-endian word and byte 2 bits 16–23: swap them, keep G and alpha.
    const words = new Uint32Array(pixels.buffer, pixels.byteOffset, pixels.length / 4);
    for (let index = 0; index < words.length; index++) {
      const word = words[index]!;
      words[index] = (word & 0xff00ff00) | ((word & 0xff) << 16) | ((word >>> 16) & 0xff);
    }
    return;
  }
  for (let index = 0; index < pixels.length; index += 4) {
    const first = pixels[index]!;
    pixels[index] = pixels[index + 2]!;
    pixels[index + 2] = first;
  }
}
