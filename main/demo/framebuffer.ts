// An RGBA pixel buffer with the few drawing primitives the demo guest needs (fill, text, lines,
// copy). Every primitive clips to the buffer and returns the rectangle it changed. Pure.

import { FONT_HEIGHT_PX, FONT_WIDTH_PX, glyphRows } from './bitmap-font';
import { containsRect, intersectRects, type Rect } from './region';

/** A colour as 0xRRGGBB. */
export type Rgb = number;

/** Width and height in pixels. */
export interface Size {
  readonly width: number;
  readonly height: number;
}

/** Bytes per pixel of RgbaFramebuffer.pixels (R, G, B, A; A is always 255). */
export const RGBA_BYTES_PER_PIXEL = 4;

/** A framebuffer of width × height pixels stored row-major as R, G, B, A bytes. */
export class RgbaFramebuffer {
  readonly width: number;
  readonly height: number;
  readonly pixels: Uint8Array;

  constructor(width: number, height: number, pixels?: Uint8Array) {
    if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
      throw new RangeError(`bad framebuffer size ${width}x${height}`);
    }
    this.width = width;
    this.height = height;
    const byteLength = width * height * RGBA_BYTES_PER_PIXEL;
    if (pixels !== undefined && pixels.length !== byteLength) {
      throw new RangeError(`pixel buffer holds ${pixels.length} bytes, expected ${byteLength}`);
    }
    this.pixels = pixels ?? new Uint8Array(byteLength).fill(255);
  }

  /** The whole buffer as a rectangle. */
  get bounds(): Rect {
    return { x: 0, y: 0, width: this.width, height: this.height };
  }

  /** An independent copy. */
  clone(): RgbaFramebuffer {
    return new RgbaFramebuffer(this.width, this.height, this.pixels.slice());
  }

  /** Fills `rect` (clipped) with `colour`; returns the changed rectangle or null. */
  fillRect(rect: Rect, colour: Rgb): Rect | null {
    const clipped = intersectRects(rect, this.bounds);
    if (clipped === null) return null;
    const rowBytes = clipped.width * RGBA_BYTES_PER_PIXEL;
    const first = (clipped.y * this.width + clipped.x) * RGBA_BYTES_PER_PIXEL;
    // Paint the first row pixel by pixel, then replicate it: copyWithin is much faster than a loop.
    for (let offset = first; offset < first + rowBytes; offset += RGBA_BYTES_PER_PIXEL) {
      this.pixels[offset] = (colour >> 16) & 0xff;
      this.pixels[offset + 1] = (colour >> 8) & 0xff;
      this.pixels[offset + 2] = colour & 0xff;
      this.pixels[offset + 3] = 255;
    }
    const stride = this.width * RGBA_BYTES_PER_PIXEL;
    for (let row = 1; row < clipped.height; row++) {
      this.pixels.copyWithin(first + row * stride, first, first + rowBytes);
    }
    return clipped;
  }

  /** Sets one pixel if it lies inside `clip` and the buffer. */
  plot(x: number, y: number, colour: Rgb, clip: Rect = this.bounds): void {
    if (x < clip.x || y < clip.y || x >= clip.x + clip.width || y >= clip.y + clip.height) return;
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const offset = (y * this.width + x) * RGBA_BYTES_PER_PIXEL;
    this.pixels[offset] = (colour >> 16) & 0xff;
    this.pixels[offset + 1] = (colour >> 8) & 0xff;
    this.pixels[offset + 2] = colour & 0xff;
    this.pixels[offset + 3] = 255;
  }

  /**
   * Draws `text` with the built-in font, one FONT_WIDTH_PX × cellHeight cell per character, glyph
   * `glyphTop` pixels below the cell top; returns the changed rectangle or null.
   */
  drawText(x: number, y: number, text: string, foreground: Rgb, background: Rgb, cellHeight = FONT_HEIGHT_PX, glyphTop = 0): Rect | null {
    if (text.length === 0) return null;
    const changed = this.fillRect({ x, y, width: text.length * FONT_WIDTH_PX, height: cellHeight }, background);
    if (changed === null) return null;
    for (let index = 0; index < text.length; index++) {
      const rows = glyphRows(text.charCodeAt(index));
      const cellX = x + index * FONT_WIDTH_PX;
      for (let row = 0; row < FONT_HEIGHT_PX; row++) {
        const bits = rows[row] ?? 0;
        if (bits === 0) continue;
        for (let column = 0; column < FONT_WIDTH_PX; column++) {
          if ((bits & (0x80 >> column)) !== 0) this.plot(cellX + column, y + glyphTop + row, foreground, changed);
        }
      }
    }
    return changed;
  }

  /**
   * Draws a line from (x0, y0) to (x1, y1) with a square brush of `brush` pixels (Bresenham),
   * clipped to `clip`; returns the changed rectangle or null.
   */
  drawLine(x0: number, y0: number, x1: number, y1: number, colour: Rgb, clip: Rect, brush = 2): Rect | null {
    const reach = intersectRects(
      {
        x: Math.min(x0, x1),
        y: Math.min(y0, y1),
        width: Math.abs(x1 - x0) + brush,
        height: Math.abs(y1 - y0) + brush,
      },
      clip,
    );
    const changed = reach === null ? null : intersectRects(reach, this.bounds);
    if (changed === null) return null;
    const dx = Math.abs(x1 - x0);
    const dy = -Math.abs(y1 - y0);
    const stepX = x0 < x1 ? 1 : -1;
    const stepY = y0 < y1 ? 1 : -1;
    let error = dx + dy;
    let x = x0;
    let y = y0;
    for (;;) {
      for (let by = 0; by < brush; by++) {
        for (let bx = 0; bx < brush; bx++) this.plot(x + bx, y + by, colour, changed);
      }
      if (x === x1 && y === y1) break;
      const doubled = 2 * error;
      if (doubled >= dy) {
        error += dy;
        x += stepX;
      }
      if (doubled <= dx) {
        error += dx;
        y += stepY;
      }
    }
    return changed;
  }

  /**
   * Copies the pixels of `source` to the same-size rectangle at (source.x + dx, source.y + dy),
   * correct when the two overlap. Both must lie inside the buffer.
   */
  copyRect(source: Rect, dx: number, dy: number): void {
    const target = { x: source.x + dx, y: source.y + dy, width: source.width, height: source.height };
    if (!containsRect(this.bounds, source) || !containsRect(this.bounds, target)) {
      throw new RangeError('copyRect: source and target must lie inside the framebuffer');
    }
    const rowBytes = source.width * RGBA_BYTES_PER_PIXEL;
    // Moving down: copy bottom rows first so no source row is overwritten before it is read.
    const bottomUp = dy > 0;
    for (let step = 0; step < source.height; step++) {
      const row = bottomUp ? source.height - 1 - step : step;
      const from = ((source.y + row) * this.width + source.x) * RGBA_BYTES_PER_PIXEL;
      const to = ((target.y + row) * this.width + target.x) * RGBA_BYTES_PER_PIXEL;
      this.pixels.copyWithin(to, from, from + rowBytes);
    }
  }
}

/** What a framebuffer source reports after changing its pixels. */
export type FramebufferEvent =
  /** Pixels inside `rect` changed. */
  | { readonly kind: 'damage'; readonly rect: Rect }
  /** The pixels of `source` were copied to `source` moved by (dx, dy) (e.g. a scroll). */
  | { readonly kind: 'copy'; readonly source: Rect; readonly dx: number; readonly dy: number }
  /** The framebuffer now has a new size and must be resent whole. */
  | { readonly kind: 'resize'; readonly width: number; readonly height: number };

/** Something that owns an RGBA framebuffer and reports its changes (the RFB server serves one). */
export interface FramebufferSource {
  readonly width: number;
  readonly height: number;
  /** RGBA bytes, row-major, width × height × 4; read synchronously, never kept. */
  readonly pixels: Uint8Array;
  /** Calls `listener` after every change until the returned function is called. */
  subscribe(listener: (event: FramebufferEvent) => void): () => void;
}
