// A rectangle copied within one canvas without drawing the canvas onto itself: what RetroVisor's
// noVNC display does for a CopyRect rectangle (see copyWithinCanvas).

/**
 * Copies `source` of the canvas behind `context` to (`toX`, `toY`) through a CPU copy of just that
 * rectangle (getImageData, putImageData), as a CopyRect rectangle asks. noVNC draws the canvas onto
 * itself instead (drawImage): Chromium then snapshots the whole canvas and, the canvas being written
 * while that snapshot lives, copies all of it; from the first such copy on it keeps one more
 * framebuffer-sized buffer per canvas (measured: +63 MiB for 8 replicas at 1920×1080 once their text
 * scrolls). The source is clipped to the canvas and the target moved with it, as drawImage clips;
 * putImageData clips the target. The framebuffer's pixels are opaque, so the unpremultiplied round
 * trip of getImageData and putImageData is exact.
 */
export function copyWithinCanvas(context: CanvasRenderingContext2D, source: { readonly x: number; readonly y: number; readonly width: number; readonly height: number }, toX: number, toY: number): void {
  const left = Math.max(source.x, 0);
  const top = Math.max(source.y, 0);
  const right = Math.min(source.x + source.width, context.canvas.width);
  const bottom = Math.min(source.y + source.height, context.canvas.height);
  if (!(right > left && bottom > top)) return;
  context.putImageData(context.getImageData(left, top, right - left, bottom - top), toX + (left - source.x), toY + (top - source.y));
}
