// The demo lab's deterministic "guest desktop": a title bar, a text area with a blinking block
// cursor fed by key events, a canvas drawn on by dragging with button 1 and a line showing the last
// pasted clipboard text. Pure (time comes in as numbers); the same inputs give the same pixels.

import { FONT_HEIGHT_PX, FONT_WIDTH_PX } from './bitmap-font';
import {
  RgbaFramebuffer,
  type FramebufferEvent,
  type FramebufferSource,
  type Rgb,
  type Size,
} from './framebuffer';
import { KEYSYM, keysymToChar } from './keysyms';
import { type Rect } from './region';

/** How to build a guest desktop. */
export interface GuestDesktopOptions {
  /** Framebuffer width in pixels (MIN_GUEST_SIZE..MAX_GUEST_SIZE); default 1024. */
  readonly width?: number;
  /** Framebuffer height in pixels; default 768. */
  readonly height?: number;
  /** Text of the title bar. */
  readonly title: string;
  /** Half period of the cursor blink; 0 keeps the cursor steady. Default CURSOR_BLINK_MS. */
  readonly cursorBlinkMs?: number;
}

/** A captured guest: everything needed to rebuild it pixel for pixel (a snapshot, or the boot state). */
export interface GuestSnapshot {
  readonly title: string;
  readonly cursorBlinkMs: number;
  readonly width: number;
  readonly height: number;
  readonly pixels: Uint8Array;
  readonly lines: readonly string[];
  readonly cursorRow: number;
  readonly cursorColumn: number;
  readonly cursorVisible: boolean;
  readonly clipboard: string;
  readonly pointer: PointerState;
}

interface PointerState {
  readonly x: number;
  readonly y: number;
  readonly buttonMask: number;
}

/** Screen size of a guest when none is given. */
export const DEFAULT_GUEST_SIZE: Size = { width: 1024, height: 768 };
/** Smallest screen the layout fits in. */
export const MIN_GUEST_SIZE: Size = { width: 200, height: 150 };
/** Largest screen accepted (RFB allows 65535, memory does not). */
export const MAX_GUEST_SIZE: Size = { width: 4096, height: 4096 };
/** The cursor is shown for this long, then hidden for as long (driven by the caller's clock). */
export const CURSOR_BLINK_MS = 500;
/** The first line of a freshly booted guest. */
export const BOOT_MESSAGE = 'RetroVisor demo guest. Type here; drag with button 1 in the box below to draw.';
/** Prefix of the clipboard line. */
export const CLIPBOARD_PREFIX = 'Clipboard: ';

const TITLE_BAR_HEIGHT_PX = 20;
const CLIPBOARD_LINE_HEIGHT_PX = 20;
const MARGIN_PX = 8;
const TEXT_PADDING_PX = 4;
/** Text rows are this tall; the 13-pixel glyph sits GLYPH_TOP_PX below the row top. */
const LINE_HEIGHT_PX = 16;
const GLYPH_TOP_PX = 2;
const TAB_STOP_COLUMNS = 8;
const BUTTON_1_MASK = 1;
const BANNER_HEIGHT_PX = 32;

const COLOUR = {
  desktop: 0x2e3440,
  titleBar: 0x3b5b92,
  titleText: 0xffffff,
  textBackground: 0x101418,
  text: 0xd8dee9,
  cursor: 0xd8dee9,
  canvas: 0xf5f5ef,
  canvasBorder: 0x7b8394,
  ink: 0x1a1a8c,
  clipboardText: 0xebcb8b,
  banner: 0xc01818,
  bannerText: 0xffffff,
} as const;

interface Layout {
  readonly title: Rect;
  readonly textArea: Rect;
  readonly textOriginX: number;
  readonly textOriginY: number;
  readonly columns: number;
  readonly rows: number;
  readonly canvasFrame: Rect;
  readonly canvas: Rect;
  readonly clipboardLine: Rect;
}

function computeLayout(width: number, height: number): Layout {
  const title = { x: 0, y: 0, width, height: TITLE_BAR_HEIGHT_PX };
  const clipboardLine = { x: 0, y: height - CLIPBOARD_LINE_HEIGHT_PX, width, height: CLIPBOARD_LINE_HEIGHT_PX };
  const top = TITLE_BAR_HEIGHT_PX + MARGIN_PX;
  const available = clipboardLine.y - MARGIN_PX - top - MARGIN_PX;
  const rows = Math.max(2, Math.floor((available * 0.45 - 2 * TEXT_PADDING_PX) / LINE_HEIGHT_PX));
  const columns = Math.floor((width - 2 * MARGIN_PX - 2 * TEXT_PADDING_PX) / FONT_WIDTH_PX);
  const textArea = { x: MARGIN_PX, y: top, width: width - 2 * MARGIN_PX, height: rows * LINE_HEIGHT_PX + 2 * TEXT_PADDING_PX };
  const canvasTop = textArea.y + textArea.height + MARGIN_PX;
  const canvasFrame = { x: MARGIN_PX, y: canvasTop, width: width - 2 * MARGIN_PX, height: clipboardLine.y - MARGIN_PX - canvasTop };
  const canvas = { x: canvasFrame.x + 1, y: canvasFrame.y + 1, width: canvasFrame.width - 2, height: canvasFrame.height - 2 };
  return {
    title,
    textArea,
    textOriginX: textArea.x + TEXT_PADDING_PX,
    textOriginY: textArea.y + TEXT_PADDING_PX,
    columns,
    rows,
    canvasFrame,
    canvas,
    clipboardLine,
  };
}

function checkSize(width: number, height: number): void {
  const ok =
    Number.isInteger(width) &&
    Number.isInteger(height) &&
    width >= MIN_GUEST_SIZE.width &&
    height >= MIN_GUEST_SIZE.height &&
    width <= MAX_GUEST_SIZE.width &&
    height <= MAX_GUEST_SIZE.height;
  if (!ok) {
    throw new RangeError(
      `guest size ${width}x${height} is outside ${MIN_GUEST_SIZE.width}x${MIN_GUEST_SIZE.height}..${MAX_GUEST_SIZE.width}x${MAX_GUEST_SIZE.height}`,
    );
  }
}

function isCursorVisible(nowMs: number, blinkMs: number): boolean {
  if (blinkMs <= 0) return true;
  const phase = Math.floor(nowMs / blinkMs);
  return ((phase % 2) + 2) % 2 === 0;
}

// Control characters would draw as '?'; whitespace reads better as a space.
function printable(text: string, maxChars: number): string {
  return text.slice(0, maxChars).replace(/[\t\n\r\f\v]/g, ' ');
}

/** The demo guest; feed it input, read `pixels`, subscribe to learn what changed. */
export class GuestDesktop implements FramebufferSource {
  private framebuffer: RgbaFramebuffer;
  private layout: Layout;
  private readonly listeners = new Set<(event: FramebufferEvent) => void>();
  private readonly title: string;
  private readonly cursorBlinkMs: number;
  private lines: string[];
  private cursorRow: number;
  private cursorColumn: number;
  private cursorVisible: boolean;
  private clipboard: string;
  private pointer: PointerState = { x: 0, y: 0, buttonMask: 0 };

  /** Boots a fresh guest; `nowMs` sets the initial blink phase. */
  constructor(options: GuestDesktopOptions, nowMs = 0) {
    const width = options.width ?? DEFAULT_GUEST_SIZE.width;
    const height = options.height ?? DEFAULT_GUEST_SIZE.height;
    checkSize(width, height);
    this.title = options.title;
    this.cursorBlinkMs = Math.max(0, options.cursorBlinkMs ?? CURSOR_BLINK_MS);
    this.framebuffer = new RgbaFramebuffer(width, height);
    this.layout = computeLayout(width, height);
    this.lines = Array.from({ length: this.layout.rows }, (_, row) => (row === 0 ? BOOT_MESSAGE.slice(0, this.layout.columns) : ''));
    this.cursorRow = 1;
    this.cursorColumn = 0;
    this.cursorVisible = isCursorVisible(nowMs, this.cursorBlinkMs);
    this.clipboard = '';
    this.renderAll();
  }

  /** Rebuilds a guest exactly as captured by `snapshot()`, then syncs the blink to `nowMs`. */
  static restore(snapshot: GuestSnapshot, nowMs = 0): GuestDesktop {
    const guest = new GuestDesktop(
      { width: snapshot.width, height: snapshot.height, title: snapshot.title, cursorBlinkMs: snapshot.cursorBlinkMs },
      nowMs,
    );
    guest.framebuffer.pixels.set(snapshot.pixels);
    guest.lines = [...snapshot.lines];
    guest.cursorRow = snapshot.cursorRow;
    guest.cursorColumn = snapshot.cursorColumn;
    guest.cursorVisible = snapshot.cursorVisible;
    guest.clipboard = snapshot.clipboard;
    guest.pointer = snapshot.pointer;
    guest.tick(nowMs);
    return guest;
  }

  get width(): number {
    return this.framebuffer.width;
  }

  get height(): number {
    return this.framebuffer.height;
  }

  /** RGBA bytes of the screen (live: read synchronously). */
  get pixels(): Uint8Array {
    return this.framebuffer.pixels;
  }

  /** Text rows and cursor, for tests and diagnostics. */
  get text(): { readonly lines: readonly string[]; readonly row: number; readonly column: number } {
    return { lines: [...this.lines], row: this.cursorRow, column: this.cursorColumn };
  }

  /** The canvas area where button-1 drags draw. */
  get canvasRect(): Rect {
    return this.layout.canvas;
  }

  /** The rectangle of text cell (row, column), for tests. */
  cellRect(row: number, column: number): Rect {
    return {
      x: this.layout.textOriginX + column * FONT_WIDTH_PX,
      y: this.layout.textOriginY + row * LINE_HEIGHT_PX,
      width: FONT_WIDTH_PX,
      height: LINE_HEIGHT_PX,
    };
  }

  /** The clipboard line's rectangle, for tests. */
  get clipboardRect(): Rect {
    return this.layout.clipboardLine;
  }

  /** The last pasted text. */
  get clipboardText(): string {
    return this.clipboard;
  }

  subscribe(listener: (event: FramebufferEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Captures the whole guest (pixels included). */
  snapshot(): GuestSnapshot {
    return {
      title: this.title,
      cursorBlinkMs: this.cursorBlinkMs,
      width: this.width,
      height: this.height,
      pixels: this.framebuffer.pixels.slice(),
      lines: [...this.lines],
      cursorRow: this.cursorRow,
      cursorColumn: this.cursorColumn,
      cursorVisible: this.cursorVisible,
      clipboard: this.clipboard,
      pointer: this.pointer,
    };
  }

  /**
   * Advances the cursor blink to `nowMs` (redrawing the cursor if its phase changed); returns the
   * milliseconds until the next change, or null when the cursor does not blink.
   */
  tick(nowMs: number): number | null {
    const visible = isCursorVisible(nowMs, this.cursorBlinkMs);
    if (visible !== this.cursorVisible) {
      this.cursorVisible = visible;
      this.drawCursorCell();
    }
    if (this.cursorBlinkMs <= 0) return null;
    const phase = Math.floor(nowMs / this.cursorBlinkMs);
    return (phase + 1) * this.cursorBlinkMs - nowMs;
  }

  /** A key press or release; only presses act (printable keysyms, Return, BackSpace, Tab). */
  keyEvent(keysym: number, down: boolean): void {
    if (!down) return;
    const char = keysymToChar(keysym);
    if (char !== null) this.typeChar(char);
    else if (keysym === KEYSYM.Return || keysym === KEYSYM.KP_Enter) this.newLine();
    else if (keysym === KEYSYM.BackSpace) this.backspace();
    else if (keysym === KEYSYM.Tab) this.tab();
  }

  /** A pointer event: while button 1 is held, successive positions are joined by lines on the canvas. */
  pointerEvent(pointerX: number, pointerY: number, buttonMask: number): void {
    // The pointer cannot leave the screen; clamping also bounds the work of drawing one segment.
    const x = Math.min(Math.max(0, pointerX), this.width - 1);
    const y = Math.min(Math.max(0, pointerY), this.height - 1);
    const pressed = (buttonMask & BUTTON_1_MASK) !== 0;
    const wasPressed = (this.pointer.buttonMask & BUTTON_1_MASK) !== 0;
    if (pressed) {
      const from = wasPressed ? this.pointer : { x, y };
      const changed = this.framebuffer.drawLine(from.x, from.y, x, y, COLOUR.ink, this.layout.canvas);
      if (changed) this.damage(changed);
    }
    this.pointer = { x, y, buttonMask };
  }

  /** Pasted text (ClientCutText): shown on the clipboard line. */
  clientCutText(text: string): void {
    this.clipboard = text;
    this.drawClipboardLine();
  }

  /**
   * Adds `amount` to every colour channel of every pixel (modulo 256, alpha kept) and damages the
   * whole screen: a full-screen change on demand, the stand-in for video or a scroll in the
   * benchmarks. Steps of 1 give 256 different screens before one repeats, so nothing looks like a
   * blink; shifting back by the same amount gives the screen back.
   */
  shiftColours(amount: number): void {
    const step = Math.trunc(amount);
    // A Uint8Array stores every value modulo 256: the sum wraps by itself, negative steps included.
    const pixels = this.framebuffer.pixels;
    for (let offset = 0; offset < pixels.length; offset += 4) {
      pixels[offset] = pixels[offset]! + step;
      pixels[offset + 1] = pixels[offset + 1]! + step;
      pixels[offset + 2] = pixels[offset + 2]! + step;
    }
    this.damage(this.framebuffer.bounds);
  }

  /** Paints an unexpected banner (a fault): a red box with `text` across the middle of the screen. */
  paintBanner(text: string, colour: Rgb = COLOUR.banner): void {
    const maxChars = Math.max(1, Math.floor((this.width - 2 * MARGIN_PX - 32) / FONT_WIDTH_PX));
    const shown = printable(text, maxChars);
    const width = shown.length * FONT_WIDTH_PX + 32;
    const box = {
      x: Math.floor((this.width - width) / 2),
      y: Math.floor((this.height - BANNER_HEIGHT_PX) / 2),
      width,
      height: BANNER_HEIGHT_PX,
    };
    this.framebuffer.fillRect(box, colour);
    this.framebuffer.drawText(box.x + 16, box.y + Math.floor((BANNER_HEIGHT_PX - FONT_HEIGHT_PX) / 2), shown, COLOUR.bannerText, colour);
    this.damage(box);
  }

  /** Changes the screen size (like a guest mode switch): text is kept, the canvas is cleared. */
  resize(size: Size): void {
    checkSize(size.width, size.height);
    this.framebuffer = new RgbaFramebuffer(size.width, size.height);
    this.layout = computeLayout(size.width, size.height);
    const { rows, columns } = this.layout;
    const dropped = Math.max(0, this.lines.length - rows, this.cursorRow + 1 - rows);
    const kept = this.lines.slice(dropped, dropped + rows).map((line) => line.slice(0, columns));
    while (kept.length < rows) kept.push('');
    this.lines = kept;
    this.cursorRow = Math.min(this.cursorRow - dropped, rows - 1);
    this.cursorColumn = Math.min(this.lines[this.cursorRow]?.length ?? 0, columns - 1);
    this.emit({ kind: 'resize', width: size.width, height: size.height });
    this.renderAll();
  }

  private emit(event: FramebufferEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  private damage(rect: Rect): void {
    this.emit({ kind: 'damage', rect });
  }

  private renderAll(): void {
    const fb = this.framebuffer;
    const layout = this.layout;
    fb.fillRect(fb.bounds, COLOUR.desktop);
    fb.fillRect(layout.title, COLOUR.titleBar);
    const titleChars = Math.max(0, Math.floor((this.width - 2 * MARGIN_PX) / FONT_WIDTH_PX));
    fb.drawText(MARGIN_PX, Math.floor((TITLE_BAR_HEIGHT_PX - FONT_HEIGHT_PX) / 2), printable(this.title, titleChars), COLOUR.titleText, COLOUR.titleBar);
    fb.fillRect(layout.textArea, COLOUR.textBackground);
    this.lines.forEach((line, row) => this.drawTextCells(row, 0, line));
    fb.fillRect(layout.canvasFrame, COLOUR.canvasBorder);
    fb.fillRect(layout.canvas, COLOUR.canvas);
    this.drawClipboardLine(false);
    this.drawCursorCell(false);
    this.damage(fb.bounds);
  }

  private drawTextCells(row: number, column: number, text: string): Rect | null {
    const cell = this.cellRect(row, column);
    return this.framebuffer.drawText(cell.x, cell.y, text, COLOUR.text, COLOUR.textBackground, LINE_HEIGHT_PX, GLYPH_TOP_PX);
  }

  private drawCursorCell(report = true): void {
    const cell = this.cellRect(this.cursorRow, this.cursorColumn);
    this.framebuffer.fillRect(cell, this.cursorVisible ? COLOUR.cursor : COLOUR.textBackground);
    if (report) this.damage(cell);
  }

  // Paints the cell under the cursor as plain background (the cursor cell never holds a character).
  private eraseCursorCell(): void {
    const cell = this.cellRect(this.cursorRow, this.cursorColumn);
    this.framebuffer.fillRect(cell, COLOUR.textBackground);
    this.damage(cell);
  }

  private drawClipboardLine(report = true): void {
    const line = this.layout.clipboardLine;
    this.framebuffer.fillRect(line, COLOUR.desktop);
    const maxChars = Math.max(0, Math.floor((this.width - 2 * MARGIN_PX) / FONT_WIDTH_PX));
    const text = printable(CLIPBOARD_PREFIX + this.clipboard, maxChars);
    this.framebuffer.drawText(MARGIN_PX, line.y + Math.floor((line.height - FONT_HEIGHT_PX) / 2), text, COLOUR.clipboardText, COLOUR.desktop);
    if (report) this.damage(line);
  }

  private typeChar(char: string): void {
    const line = this.lines[this.cursorRow] ?? '';
    this.lines[this.cursorRow] = line.slice(0, this.cursorColumn).padEnd(this.cursorColumn, ' ') + char;
    const changed = this.drawTextCells(this.cursorRow, this.cursorColumn, char);
    if (changed) this.damage(changed);
    this.cursorColumn++;
    if (this.cursorColumn >= this.layout.columns) this.advanceLine();
    else this.drawCursorCell();
  }

  private newLine(): void {
    this.eraseCursorCell();
    this.advanceLine();
  }

  // Moves the cursor to the start of the next row, scrolling the text area up when on the last row.
  private advanceLine(): void {
    this.cursorColumn = 0;
    if (this.cursorRow < this.layout.rows - 1) {
      this.cursorRow++;
    } else {
      this.scrollUp();
    }
    this.drawCursorCell();
  }

  private scrollUp(): void {
    const { rows, columns, textOriginX, textOriginY } = this.layout;
    this.lines.shift();
    this.lines.push('');
    const source = { x: textOriginX, y: textOriginY + LINE_HEIGHT_PX, width: columns * FONT_WIDTH_PX, height: (rows - 1) * LINE_HEIGHT_PX };
    this.framebuffer.copyRect(source, 0, -LINE_HEIGHT_PX);
    this.emit({ kind: 'copy', source, dx: 0, dy: -LINE_HEIGHT_PX });
    const lastRow = { x: textOriginX, y: textOriginY + (rows - 1) * LINE_HEIGHT_PX, width: columns * FONT_WIDTH_PX, height: LINE_HEIGHT_PX };
    this.framebuffer.fillRect(lastRow, COLOUR.textBackground);
    this.damage(lastRow);
  }

  private backspace(): void {
    if (this.cursorColumn === 0) return;
    this.eraseCursorCell();
    this.cursorColumn--;
    this.lines[this.cursorRow] = (this.lines[this.cursorRow] ?? '').slice(0, this.cursorColumn);
    this.drawCursorCell();
  }

  private tab(): void {
    const next = (Math.floor(this.cursorColumn / TAB_STOP_COLUMNS) + 1) * TAB_STOP_COLUMNS;
    this.eraseCursorCell();
    if (next >= this.layout.columns) {
      this.advanceLine();
      return;
    }
    this.lines[this.cursorRow] = (this.lines[this.cursorRow] ?? '').padEnd(next, ' ');
    this.cursorColumn = next;
    this.drawCursorCell();
  }
}
