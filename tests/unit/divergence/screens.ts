// Test helper for the divergence engine: real RGBA framebuffers per replica, drawn on with
// rectangles and text-like glyphs, fed to the engine as damaged rectangles, with a fake clock.

import { DivergenceEngine, type DivergenceEvent, type DivergenceOptions } from '../../../common/divergence';
import { type PixelRect } from '../../../common/divergence/pixel-rect';

/** An RGBA colour. */
export type Colour = readonly [number, number, number, number];

export const BACKGROUND: Colour = [0, 0, 170, 255];
export const INK: Colour = [170, 170, 170, 255];
export const CURSOR: Colour = [255, 255, 255, 255];

/** A blank widthPx×heightPx RGBA frame filled with `colour`. */
export function solidFrame(widthPx: number, heightPx: number, colour: Colour = BACKGROUND): Uint8ClampedArray {
  const frame = new Uint8ClampedArray(widthPx * heightPx * 4);
  for (let offset = 0; offset < frame.length; offset += 4) frame.set(colour, offset);
  return frame;
}

/** Paints `rect` of a frame `widthPx` wide. */
export function fillRect(frame: Uint8ClampedArray, widthPx: number, rect: PixelRect, colour: Colour): void {
  for (let y = rect.y; y < rect.y + rect.height; y++) {
    for (let x = rect.x; x < rect.x + rect.width; x++) frame.set(colour, (y * widthPx + x) * 4);
  }
}

/** The pixels of `rect`, as getImageData(rect) would return them. */
export function crop(frame: Uint8ClampedArray, widthPx: number, rect: PixelRect): Uint8ClampedArray {
  const out = new Uint8ClampedArray(rect.width * rect.height * 4);
  for (let row = 0; row < rect.height; row++) {
    const from = ((rect.y + row) * widthPx + rect.x) * 4;
    out.set(frame.subarray(from, from + rect.width * 4), row * rect.width * 4);
  }
  return out;
}

/** Character cells like the VGA text console's: 8×16, glyph pixels inside a 7×13 box. */
export const CELL_WIDTH_PX = 8;
export const CELL_HEIGHT_PX = 16;

/** The box a glyph drawn in cell (column, row) can touch. */
export function glyphBox(column: number, row: number): PixelRect {
  return { x: column * CELL_WIDTH_PX, y: row * CELL_HEIGHT_PX + 1, width: 7, height: 13 };
}

/** Draws a deterministic glyph for `char` in a text cell (every glyph touches its box's corners). */
export function drawGlyph(frame: Uint8ClampedArray, widthPx: number, column: number, row: number, char: string): void {
  const box = glyphBox(column, row);
  fillRect(frame, widthPx, { x: column * CELL_WIDTH_PX, y: row * CELL_HEIGHT_PX, width: CELL_WIDTH_PX, height: CELL_HEIGHT_PX }, BACKGROUND);
  const code = char.charCodeAt(0);
  for (let y = 0; y < box.height; y++) {
    for (let x = 0; x < box.width; x++) {
      const corner = (x === 0 || x === box.width - 1) && (y === 0 || y === box.height - 1);
      if (corner || ((x * 7 + y * 3 + code) * 2654435761) % 5 === 0) frame.set(INK, ((box.y + y) * widthPx + box.x + x) * 4);
    }
  }
}

/** The cell's area (what a text console redraws when a character or the cursor changes). */
export function cellRect(column: number, row: number): PixelRect {
  return { x: column * CELL_WIDTH_PX, y: row * CELL_HEIGHT_PX, width: CELL_WIDTH_PX, height: CELL_HEIGHT_PX };
}

/** The underline cursor of the VGA console: the cell's two bottom rows. */
export function cursorRect(column: number, row: number): PixelRect {
  return { x: column * CELL_WIDTH_PX, y: row * CELL_HEIGHT_PX + 14, width: CELL_WIDTH_PX, height: 2 };
}

/** N replicas with their own frames, an engine fed exactly like the renderer feeds it, and a clock. */
export class Replicas {
  readonly engine: DivergenceEngine;
  readonly frames = new Map<string, Uint8ClampedArray>();
  readonly events: DivergenceEvent[] = [];
  nowMs = 0;

  constructor(
    readonly ids: readonly string[],
    readonly widthPx = 128,
    readonly heightPx = 64,
    options: DivergenceOptions = {},
  ) {
    this.engine = new DivergenceEngine(options);
    for (const id of ids) {
      const frame = solidFrame(widthPx, heightPx);
      this.frames.set(id, frame);
      this.engine.setFrame(id, widthPx, heightPx, frame, this.nowMs);
    }
  }

  frame(id: string): Uint8ClampedArray {
    const frame = this.frames.get(id);
    if (frame === undefined) throw new Error(`no replica ${id}`);
    return frame;
  }

  /** Changes a replica's pixels with `draw`, then sends `damage` to the engine now. */
  change(id: string, damage: PixelRect, draw: (frame: Uint8ClampedArray, widthPx: number) => void): void {
    const frame = this.frame(id);
    draw(frame, this.widthPx);
    this.engine.update(id, damage, crop(frame, this.widthPx, damage), this.nowMs);
  }

  /** Fills `rect` on the given replicas (now). */
  paint(ids: readonly string[], rect: PixelRect, colour: Colour): void {
    for (const id of ids) this.change(id, rect, (frame, widthPx) => fillRect(frame, widthPx, rect, colour));
  }

  /** Types a character into a cell on the given replicas (now). */
  type(ids: readonly string[], column: number, row: number, char: string): void {
    for (const id of ids) this.change(id, cellRect(column, row), (frame, widthPx) => drawGlyph(frame, widthPx, column, row, char));
  }

  /** Advances the clock to `untilMs`, ticking every `stepMs`; collects the events. */
  runUntil(untilMs: number, stepMs = 50): void {
    while (this.nowMs + stepMs <= untilMs) {
      this.nowMs += stepMs;
      this.events.push(...this.engine.tick(this.nowMs));
    }
  }

  /** Advances the clock to `untilMs` by `stepMs`, calling `each(nowMs)` at every step; ticks every 50 ms. */
  runWith(untilMs: number, each: (nowMs: number) => void, stepMs = 10): void {
    while (this.nowMs + stepMs <= untilMs) {
      this.nowMs += stepMs;
      each(this.nowMs);
      if (this.nowMs % 50 === 0) this.events.push(...this.engine.tick(this.nowMs));
    }
  }
}

/**
 * A blinking underline cursor per replica: on for `halfPeriodMs`, off for `halfPeriodMs`, each
 * replica with its own phase; `step(nowMs)` redraws (and damages) the cursor cell when it toggles.
 */
export class BlinkingCursor {
  private readonly shown = new Map<string, boolean>();
  private readonly stopped = new Set<string>();
  /** Per replica, the cursor's column once typing has moved it. */
  private readonly columnOf = new Map<string, number>();

  constructor(
    private readonly replicas: Replicas,
    readonly row: number,
    readonly column: number,
    private readonly phaseMs: Readonly<Record<string, number>>,
    private readonly halfPeriodMs = 250,
  ) {}

  /** Freezes one replica's cursor where it is (a replica whose console stopped blinking). */
  stop(id: string): void {
    this.stopped.add(id);
  }

  /** Hides one replica's cursor for good (a program switched the cursor off). */
  hide(id: string): void {
    if (this.shown.get(id) === true) this.draw(id, false);
    this.stopped.add(id);
  }

  /** Redraws the cursor on replicas whose phase toggles at `nowMs`. */
  step(nowMs: number): void {
    for (const id of this.replicas.ids) {
      if (this.stopped.has(id)) continue;
      const visible = Math.floor((nowMs + (this.phaseMs[id] ?? 0)) / this.halfPeriodMs) % 2 === 0;
      if (this.shown.get(id) === visible) continue;
      this.draw(id, visible);
    }
  }

  /** Moves the cursor on one replica (as typing does): the old cell loses it. */
  moveTo(id: string, column: number): void {
    if (this.shown.get(id) === true) this.draw(id, false);
    this.columnOf.set(id, column);
  }

  private draw(id: string, visible: boolean): void {
    this.shown.set(id, visible);
    const rect = cursorRect(this.columnOf.get(id) ?? this.column, this.row);
    this.replicas.change(id, rect, (frame, widthPx) => fillRect(frame, widthPx, rect, visible ? CURSOR : BACKGROUND));
  }
}
