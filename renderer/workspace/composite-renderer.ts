// Paints the composite canvas from the reference replica's noVNC canvas: only the damaged
// rectangles, batched per animation frame, copied 1:1 (the composite's bitmap is framebuffer-sized;
// fitting to the window is CSS). Runs in the renderer (DOM canvas), no noVNC import.

import { DamageCollector, type DamageRect } from '../vnc/damage';

/** What the composite copies from: a canvas holding a replica's framebuffer pixels. */
export interface CompositeSource {
  readonly canvas: HTMLCanvasElement;
}

/** Schedules one callback before the next paint (requestAnimationFrame in the page). */
export interface FrameScheduler {
  request(callback: () => void): number;
  cancel(handle: number): void;
}

/** The page's animation frames. */
export const ANIMATION_FRAMES: FrameScheduler = {
  request: (callback) => requestAnimationFrame(callback),
  cancel: (handle) => cancelAnimationFrame(handle),
};

/** Draws the reference replica into the composite canvas. */
export class CompositeRenderer {
  private canvas: HTMLCanvasElement | null = null;
  private context: CanvasRenderingContext2D | null = null;
  private source: CompositeSource | null = null;
  private readonly pending = new DamageCollector();
  private fullRedraw = true;
  private frame: number | null = null;
  private sizeListener: ((width: number, height: number) => void) | null = null;

  /**
   * `alsoInFrame` runs in every animation frame the composite paints, after it: what else the page
   * paints goes in the same frame rather than one of its own (the thumbnails).
   */
  constructor(
    private readonly frames: FrameScheduler = ANIMATION_FRAMES,
    private readonly alsoInFrame: (() => void) | null = null,
  ) {}

  /** The composite canvas to paint (null when it unmounts). */
  attachCanvas(canvas: HTMLCanvasElement | null): void {
    if (canvas === this.canvas) return;
    this.canvas = canvas;
    this.context = canvas?.getContext('2d', { alpha: false }) ?? null;
    this.fullRedraw = true;
    this.schedule();
  }

  /** Called when the composite's bitmap changes size (the reference's desktop size). */
  onSizeChange(listener: ((width: number, height: number) => void) | null): void {
    this.sizeListener = listener;
  }

  /** Switches to another replica's canvas (or none: the last picture stays). */
  setSource(source: CompositeSource | null): void {
    if (source === this.source) return;
    this.source = source;
    this.pending.clear();
    this.fullRedraw = true;
    this.schedule();
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
    this.sizeListener = null;
  }

  private schedule(): void {
    if (this.frame !== null || this.canvas === null || this.source === null) return;
    this.frame = this.frames.request(() => {
      this.frame = null;
      try {
        this.paint();
      } finally {
        this.alsoInFrame?.();
      }
    });
  }

  private paint(): void {
    const canvas = this.canvas;
    const context = this.context;
    const source = this.source?.canvas;
    if (!canvas || !context || !source) return;
    const { width, height } = source;
    if (width === 0 || height === 0) return;
    if (canvas.width !== width || canvas.height !== height) {
      canvas.width = width;
      canvas.height = height;
      this.fullRedraw = true;
      this.sizeListener?.(width, height);
    }
    context.imageSmoothingEnabled = false;
    if (this.fullRedraw) {
      this.fullRedraw = false;
      this.pending.clear();
      context.drawImage(source, 0, 0);
      return;
    }
    for (const rect of this.pending.take(width, height)) {
      context.drawImage(source, rect.x, rect.y, rect.width, rect.height, rect.x, rect.y, rect.width, rect.height);
    }
  }
}
