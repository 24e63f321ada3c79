// Paints one replica's thumbnail: a small canvas holding its screen scaled down to the size it is
// shown at (device pixels), redrawn only where the framebuffer changed. The full-size frame stays in
// noVNC's canvas, which is never displayed. A workspace's thumbnails are painted in the frames the
// composite paints, or together at most THUMBNAIL_MAX_WAIT_MS later (ThumbnailPacer). Runs in the
// renderer (DOM canvas).

import { DamageCollector, type DamageRect } from '../vnc/damage';
import { SYSTEM_CLOCK, type Clock } from '../vnc/replica-session';
import { ANIMATION_FRAMES, type CompositeSource, type FrameScheduler } from './composite-renderer';

/**
 * How long a thumbnail's damage waits for a frame the composite paints before it gets a frame of
 * its own, with every other thumbnail waiting by then. Every frame the page paints costs its main
 * thread a commit (1.5–3 ms of CPU on a 2-core machine) besides what it draws: painted in a frame
 * of their own each time a replica changed, replicas updating a moment apart made two or three
 * frames more per update of all of them. While the reference replica changes, the thumbnails follow
 * in its frames; otherwise they still show a live view, five times a second.
 */
export const THUMBNAIL_MAX_WAIT_MS = 200;

/** An error surfaces as uncaught (the console, window.onerror), as it would from an animation frame of its own. */
function reportUncaught(error: unknown): void {
  queueMicrotask(() => {
    throw error;
  });
}

/**
 * The frame scheduler a workspace's thumbnails share. A paint asked for waits, in the order asked,
 * for the next frame the composite paints (`paintWaiting`, called from it), or at most `maxWaitMs`
 * for a frame of the thumbnails' own; either way every waiting thumbnail is painted in that frame.
 */
export class ThumbnailPacer implements FrameScheduler {
  private readonly waiting = new Map<number, () => void>();
  private nextHandle = 1;
  private frame: number | null = null;
  private timer: unknown = null;

  constructor(
    private readonly frames: FrameScheduler = ANIMATION_FRAMES,
    private readonly maxWaitMs = THUMBNAIL_MAX_WAIT_MS,
    private readonly clock: Pick<Clock, 'setTimeout' | 'clearTimeout'> = SYSTEM_CLOCK,
    private readonly reportError: (error: unknown) => void = reportUncaught,
  ) {}

  request(callback: () => void): number {
    const handle = this.nextHandle++;
    this.waiting.set(handle, callback);
    if (this.frame === null && this.timer === null) {
      this.timer = this.clock.setTimeout(() => {
        this.timer = null;
        if (this.waiting.size > 0) this.frame = this.frames.request(() => this.paintWaiting());
      }, this.maxWaitMs);
    }
    return handle;
  }

  cancel(handle: number): void {
    this.waiting.delete(handle);
  }

  /** Paints every waiting thumbnail now, in the order asked: from inside an animation frame. */
  paintWaiting(): void {
    this.stopWaiting();
    const callbacks = [...this.waiting.values()];
    this.waiting.clear();
    for (const callback of callbacks) {
      // One thumbnail failing to paint leaves the others painted.
      try {
        callback();
      } catch (error) {
        this.reportError(error);
      }
    }
  }

  /** Drops every waiting paint and stops (the workspace closes). */
  dispose(): void {
    this.waiting.clear();
    this.stopWaiting();
  }

  private stopWaiting(): void {
    if (this.frame !== null) this.frames.cancel(this.frame);
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.frame = null;
    this.timer = null;
  }
}

/** A bitmap size in pixels. */
export interface BitmapSize {
  readonly width: number;
  readonly height: number;
}

/**
 * The thumbnail bitmap for a `framebuffer` shown in a `box` of CSS pixels at `pixelRatio` device
 * pixels per CSS pixel: the framebuffer's aspect ratio, as large as fits, never larger than the
 * framebuffer itself; 0×0 when there is nothing to show or no room.
 */
export function thumbnailBitmapSize(framebuffer: BitmapSize, box: BitmapSize, pixelRatio: number): BitmapSize {
  if (!(framebuffer.width > 0 && framebuffer.height > 0 && box.width > 0 && box.height > 0 && pixelRatio > 0)) return { width: 0, height: 0 };
  const scale = Math.min(1, (box.width * pixelRatio) / framebuffer.width, (box.height * pixelRatio) / framebuffer.height);
  return { width: Math.max(1, Math.round(framebuffer.width * scale)), height: Math.max(1, Math.round(framebuffer.height * scale)) };
}

/**
 * Where a damaged framebuffer rectangle lands in a thumbnail `scaleX`×`scaleY` its size: whole
 * thumbnail pixels covering it (so a redraw leaves no half-updated edge), and the framebuffer
 * rectangle that maps exactly onto them.
 */
export function thumbnailDamage(rect: DamageRect, scaleX: number, scaleY: number, thumbnail: BitmapSize): { source: DamageRect; target: DamageRect } | null {
  const left = Math.max(0, Math.floor(rect.x * scaleX));
  const top = Math.max(0, Math.floor(rect.y * scaleY));
  const right = Math.min(thumbnail.width, Math.ceil((rect.x + rect.width) * scaleX));
  const bottom = Math.min(thumbnail.height, Math.ceil((rect.y + rect.height) * scaleY));
  if (right <= left || bottom <= top) return null;
  return {
    target: { x: left, y: top, width: right - left, height: bottom - top },
    source: { x: left / scaleX, y: top / scaleY, width: (right - left) / scaleX, height: (bottom - top) / scaleY },
  };
}

/** Draws one replica's screen, scaled down, into its thumbnail canvas. */
export class ThumbnailRenderer {
  private canvas: HTMLCanvasElement | null = null;
  private context: CanvasRenderingContext2D | null = null;
  private source: CompositeSource | null = null;
  private box: BitmapSize = { width: 0, height: 0 };
  private pixelRatio = 1;
  private readonly pending = new DamageCollector();
  private fullRedraw = true;
  private frame: number | null = null;

  constructor(private readonly frames: FrameScheduler = ANIMATION_FRAMES) {}

  /** The thumbnail canvas to paint (null when it unmounts). */
  attachCanvas(canvas: HTMLCanvasElement | null): void {
    if (canvas === this.canvas) return;
    this.canvas = canvas;
    this.context = canvas?.getContext('2d', { alpha: false }) ?? null;
    this.fullRedraw = true;
    this.schedule();
  }

  /** The room the thumbnail is shown in (CSS px) and the device pixels per CSS pixel. */
  setBox(widthCss: number, heightCss: number, pixelRatio: number): void {
    if (widthCss === this.box.width && heightCss === this.box.height && pixelRatio === this.pixelRatio) return;
    this.box = { width: widthCss, height: heightCss };
    this.pixelRatio = pixelRatio;
    this.fullRedraw = true;
    this.schedule();
  }

  /** Shows another canvas (a new connection), or none: the thumbnail is cleared. */
  setSource(source: CompositeSource | null): void {
    if (source === this.source) return;
    this.source = source;
    this.pending.clear();
    this.fullRedraw = true;
    if (source === null) this.clear();
    else this.schedule();
  }

  /** The source's framebuffer changed in these rectangles. */
  damage(rects: readonly DamageRect[]): void {
    if (this.source === null) return;
    for (const rect of rects) this.pending.add(rect);
    this.schedule();
  }

  /** Stops painting (the workspace closes). */
  dispose(): void {
    if (this.frame !== null) this.frames.cancel(this.frame);
    this.frame = null;
    this.source = null;
    this.canvas = null;
    this.context = null;
  }

  private clear(): void {
    // A 0×0 bitmap holds no memory and shows nothing (the placeholder says why).
    if (this.canvas !== null && (this.canvas.width !== 0 || this.canvas.height !== 0)) {
      this.canvas.width = 0;
      this.canvas.height = 0;
    }
  }

  private schedule(): void {
    if (this.frame !== null || this.canvas === null || this.source === null) return;
    this.frame = this.frames.request(() => {
      this.frame = null;
      this.paint();
    });
  }

  private paint(): void {
    const canvas = this.canvas;
    const context = this.context;
    const source = this.source?.canvas;
    if (!canvas || !context || !source) return;
    const framebuffer = { width: source.width, height: source.height };
    const size = thumbnailBitmapSize(framebuffer, this.box, this.pixelRatio);
    if (size.width === 0) return;
    if (canvas.width !== size.width || canvas.height !== size.height) {
      canvas.width = size.width;
      canvas.height = size.height;
      this.fullRedraw = true;
    }
    // Bilinear, as the compositor scaled the full-size canvas before: cheap, and only damage is redrawn.
    context.imageSmoothingEnabled = true;
    context.imageSmoothingQuality = 'low';
    if (this.fullRedraw) {
      this.fullRedraw = false;
      this.pending.clear();
      context.drawImage(source, 0, 0, framebuffer.width, framebuffer.height, 0, 0, size.width, size.height);
      return;
    }
    const scaleX = size.width / framebuffer.width;
    const scaleY = size.height / framebuffer.height;
    for (const rect of this.pending.take(framebuffer.width, framebuffer.height)) {
      const mapped = thumbnailDamage(rect, scaleX, scaleY, size);
      if (mapped === null) continue;
      const { source: from, target: to } = mapped;
      context.drawImage(source, from.x, from.y, from.width, from.height, to.x, to.y, to.width, to.height);
    }
  }
}
