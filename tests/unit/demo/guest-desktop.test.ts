// Tests of the demo guest desktop (pure, no sockets): text input, glyphs, scrolling, drawing,
// clipboard line, blink phase, snapshots, resize and the completeness of its damage reports.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FONT_HEIGHT_PX, FONT_WIDTH_PX, glyphRows } from '../../../main/demo/bitmap-font';
import { type FramebufferEvent } from '../../../main/demo/framebuffer';
import { BOOT_MESSAGE, GuestDesktop } from '../../../main/demo/guest-desktop';
import { KEYSYM } from '../../../main/demo/keysyms';
import { type Rect } from '../../../main/demo/region';
import { assertSamePixels, diffBounds, rectInside } from './rfb-test-client';

function newGuest(overrides: Partial<ConstructorParameters<typeof GuestDesktop>[0]> = {}, nowMs = 0): GuestDesktop {
  return new GuestDesktop({ title: 'guest', width: 640, height: 480, cursorBlinkMs: 0, ...overrides }, nowMs);
}

function press(guest: GuestDesktop, keysym: number): void {
  guest.keyEvent(keysym, true);
  guest.keyEvent(keysym, false);
}

function typeText(guest: GuestDesktop, text: string): void {
  for (const char of text) press(guest, char === '\n' ? KEYSYM.Return : char.charCodeAt(0));
}

function pixelAt(guest: GuestDesktop, x: number, y: number): number {
  const offset = (y * guest.width + x) * 4;
  return ((guest.pixels[offset] ?? 0) << 16) | ((guest.pixels[offset + 1] ?? 0) << 8) | (guest.pixels[offset + 2] ?? 0);
}

/** A "client" that only learns about pixels through the guest's events, to check they are complete. */
function mirror(guest: GuestDesktop): { readonly pixels: Uint8Array; readonly events: FramebufferEvent[] } {
  const pixels = guest.pixels.slice();
  const events: FramebufferEvent[] = [];
  guest.subscribe((event) => {
    events.push(event);
    const copyRows = (rect: Rect, dx: number, dy: number, from: Uint8Array): void => {
      const rows: Uint8Array[] = [];
      for (let row = 0; row < rect.height; row++) {
        const start = ((rect.y + row) * guest.width + rect.x) * 4;
        rows.push(from.slice(start, start + rect.width * 4));
      }
      rows.forEach((data, row) => pixels.set(data, ((rect.y + dy + row) * guest.width + rect.x + dx) * 4));
    };
    if (event.kind === 'damage') copyRows(event.rect, 0, 0, guest.pixels);
    if (event.kind === 'copy') copyRows(event.source, event.dx, event.dy, pixels);
  });
  return { pixels, events };
}

describe('guest desktop: text', { timeout: 60_000 }, () => {
  it('boots to the same pixels every time', () => {
    assertSamePixels(newGuest().pixels, newGuest().pixels, 640);
    assert.equal(newGuest().text.lines[0], BOOT_MESSAGE.slice(0, newGuest().text.lines[0]?.length));
    assert.deepEqual([newGuest().text.row, newGuest().text.column], [1, 0]);
  });

  it('types printable keysyms, shifted characters included, as the exact glyphs', () => {
    const guest = newGuest();
    const text = '"(|)_~!@#$%^&*{}<>?Az09';
    typeText(guest, text);
    assert.equal(guest.text.lines[1], text);
    const foreground = 0xd8dee9;
    [...text].forEach((char, column) => {
      const cell = guest.cellRect(1, column);
      const rows = glyphRows(char.charCodeAt(0));
      for (let row = 0; row < FONT_HEIGHT_PX; row++) {
        for (let x = 0; x < FONT_WIDTH_PX; x++) {
          const lit = ((rows[row] ?? 0) & (0x80 >> x)) !== 0;
          const pixel = pixelAt(guest, cell.x + x, cell.y + 2 + row);
          assert.equal(pixel === foreground, lit, `glyph ${JSON.stringify(char)} row ${row} column ${x}`);
        }
      }
    });
  });

  it('accepts keypad and Unicode keysyms, and ignores releases, modifiers and function keys', () => {
    const guest = newGuest();
    press(guest, 0xffb7); // KP_7
    press(guest, 0x01000041); // Unicode 'A'
    guest.keyEvent('z'.charCodeAt(0), false);
    press(guest, KEYSYM.Shift_L);
    press(guest, 0xffbe); // F1
    press(guest, 0xe9); // é: no glyph, not typed
    assert.equal(guest.text.lines[1], '7A');
  });

  it('handles Return, BackSpace and Tab', () => {
    const guest = newGuest();
    typeText(guest, 'abc');
    press(guest, KEYSYM.BackSpace);
    press(guest, KEYSYM.Tab);
    typeText(guest, 'x\nnext');
    press(guest, KEYSYM.BackSpace);
    press(guest, KEYSYM.BackSpace);
    press(guest, KEYSYM.BackSpace);
    press(guest, KEYSYM.BackSpace);
    press(guest, KEYSYM.BackSpace); // at column 0: nothing
    assert.deepEqual(guest.text.lines.slice(1, 3), ['ab      x', '']);
    assert.deepEqual([guest.text.row, guest.text.column], [2, 0]);
  });

  it('erases a character with BackSpace pixel for pixel', () => {
    const before = newGuest();
    const after = newGuest();
    typeText(after, 'q');
    press(after, KEYSYM.BackSpace);
    assertSamePixels(after.pixels, before.pixels, 640);
  });

  it('wraps long lines and scrolls when the text area is full', () => {
    const guest = newGuest();
    const { rows, columns } = { rows: guest.text.lines.length, columns: Math.floor((640 - 24) / FONT_WIDTH_PX) };
    typeText(guest, 'w'.repeat(columns + 3));
    assert.equal(guest.text.lines[1], 'w'.repeat(columns));
    assert.equal(guest.text.lines[2], 'www');
    const events = mirror(guest).events;
    typeText(guest, '\n'.repeat(rows));
    assert.equal(guest.text.lines[rows - 1], '');
    assert.ok(!guest.text.lines.includes(BOOT_MESSAGE.slice(0, columns)), 'the first line scrolled away');
    assert.ok(events.some((event) => event.kind === 'copy' && event.dy === -16), 'scrolling is reported as a copy');
  });

  it('reports damage that covers every pixel change (a mirror fed only by events stays equal)', () => {
    const guest = newGuest({ cursorBlinkMs: 500 });
    const view = mirror(guest);
    let seed = 7;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let step = 0; step < 3000; step++) {
      const choice = random();
      if (choice < 0.6) press(guest, 0x20 + Math.floor(random() * 95));
      else if (choice < 0.68) press(guest, KEYSYM.Return);
      else if (choice < 0.72) press(guest, KEYSYM.BackSpace);
      else if (choice < 0.75) press(guest, KEYSYM.Tab);
      else if (choice < 0.95) guest.pointerEvent(Math.floor(random() * 700) - 30, Math.floor(random() * 520) - 20, random() < 0.7 ? 1 : 0);
      else if (choice < 0.97) guest.clientCutText(`clip ${step}`);
      else if (choice < 0.99) guest.tick(step * 37);
      else guest.paintBanner(`banner ${step}`);
    }
    assertSamePixels(view.pixels, guest.pixels, guest.width, 'mirror vs guest');
  });
});

describe('guest desktop: pointer, clipboard, banner', { timeout: 60_000 }, () => {
  it('draws line segments between successive positions while button 1 is down, clipped to the canvas', () => {
    const guest = newGuest();
    const canvas = guest.canvasRect;
    const before = guest.pixels.slice();
    guest.pointerEvent(canvas.x + 10, canvas.y + 10, 0);
    guest.pointerEvent(canvas.x + 60, canvas.y + 10, 0); // moving without a button: nothing
    assertSamePixels(guest.pixels, before, guest.width);
    guest.pointerEvent(canvas.x + 10, canvas.y + 20, 1);
    guest.pointerEvent(canvas.x + 110, canvas.y + 20, 1);
    guest.pointerEvent(canvas.x + 110, canvas.y + 70, 1);
    guest.pointerEvent(canvas.x + 110, canvas.y + 70, 0);
    const ink = 0x1a1a8c;
    for (let x = canvas.x + 10; x <= canvas.x + 110; x++) assert.equal(pixelAt(guest, x, canvas.y + 20), ink, `horizontal segment at x=${x}`);
    for (let y = canvas.y + 20; y <= canvas.y + 70; y++) assert.equal(pixelAt(guest, canvas.x + 110, y), ink, `vertical segment at y=${y}`);
    assert.notEqual(pixelAt(guest, canvas.x + 60, canvas.y + 45), ink);
    // A drag from outside the canvas never paints outside it.
    guest.pointerEvent(5, 5, 1);
    guest.pointerEvent(canvas.x + 200, canvas.y + 100, 1);
    const changed = diffBounds(before, guest.pixels, guest.width);
    assert.ok(changed && rectInside(changed, canvas), `changed ${JSON.stringify(changed)} outside ${JSON.stringify(canvas)}`);
  });

  it('ignores drags with other buttons', () => {
    const guest = newGuest();
    const before = guest.pixels.slice();
    const canvas = guest.canvasRect;
    guest.pointerEvent(canvas.x + 10, canvas.y + 10, 4);
    guest.pointerEvent(canvas.x + 90, canvas.y + 90, 4);
    assertSamePixels(guest.pixels, before, guest.width);
  });

  it('shows the last pasted text on the clipboard line only', () => {
    const guest = newGuest();
    const before = guest.pixels.slice();
    guest.clientCutText('first');
    guest.clientCutText('second paste\nwith a newline');
    assert.equal(guest.clipboardText, 'second paste\nwith a newline');
    const changed = diffBounds(before, guest.pixels, guest.width);
    assert.ok(changed && rectInside(changed, guest.clipboardRect));
    const reference = newGuest();
    reference.clientCutText('second paste with a newline');
    assertSamePixels(guest.pixels, reference.pixels, guest.width);
  });

  it('shifts every pixel\'s colour on demand, alpha kept, and damages the whole screen; shifting back gives it back', () => {
    const guest = newGuest();
    const events: FramebufferEvent[] = [];
    guest.subscribe((event) => events.push(event));
    const before = guest.pixels.slice();
    guest.shiftColours(3);
    assert.deepEqual(events, [{ kind: 'damage', rect: { x: 0, y: 0, width: guest.width, height: guest.height } }]);
    for (let offset = 0; offset < before.length; offset += 4) {
      const expected = [(before[offset]! + 3) % 256, (before[offset + 1]! + 3) % 256, (before[offset + 2]! + 3) % 256, before[offset + 3]!];
      if (expected.some((value, channel) => guest.pixels[offset + channel] !== value)) assert.fail(`pixel ${offset / 4} not shifted`);
    }
    guest.shiftColours(-3);
    assertSamePixels(guest.pixels, before, guest.width);
    guest.shiftColours(256);
    assertSamePixels(guest.pixels, before, guest.width);
  });

  it('paints a banner in the middle of the screen', () => {
    const guest = newGuest();
    const before = guest.pixels.slice();
    guest.paintBanner('HACKED');
    const changed = diffBounds(before, guest.pixels, guest.width);
    assert.ok(changed);
    assert.equal(pixelAt(guest, changed.x + 2, changed.y + 2), 0xc01818);
    assert.ok(Math.abs(changed.x + changed.width / 2 - guest.width / 2) <= 1);
  });
});

describe('guest desktop: time, snapshots, resize', { timeout: 60_000 }, () => {
  it('blinks the cursor with the clock passed in, so replicas with offset clocks differ only there', () => {
    const a = newGuest({ cursorBlinkMs: 500 }, 0);
    const b = newGuest({ cursorBlinkMs: 500 }, 0);
    typeText(a, 'same');
    typeText(b, 'same');
    const cursor = a.cellRect(1, 4);
    assert.equal(a.tick(100), 400);
    assertSamePixels(a.pixels, b.pixels, a.width);
    assert.equal(pixelAt(a, cursor.x + 1, cursor.y + 1), 0xd8dee9, 'cursor shown in the first half period');
    a.tick(600);
    assert.notEqual(pixelAt(a, cursor.x + 1, cursor.y + 1), 0xd8dee9, 'cursor hidden in the second');
    const changed = diffBounds(a.pixels, b.pixels, a.width);
    assert.deepEqual(changed, cursor);
    a.tick(1000);
    assertSamePixels(a.pixels, b.pixels, a.width);
  });

  it('restores a snapshot pixel for pixel, and keeps working from there like the original', () => {
    const original = newGuest();
    typeText(original, 'before snapshot');
    original.clientCutText('clip');
    original.pointerEvent(100, 300, 1);
    const snapshot = original.snapshot();
    const restored = GuestDesktop.restore(snapshot);
    assertSamePixels(restored.pixels, original.pixels, original.width);
    for (const guest of [original, restored]) {
      guest.pointerEvent(200, 350, 1); // continues the drag started before the snapshot
      typeText(guest, ' and after\nmore');
    }
    assertSamePixels(restored.pixels, original.pixels, original.width);
    typeText(original, 'diverge');
    assert.notEqual(Buffer.compare(Buffer.from(restored.pixels), Buffer.from(original.pixels)), 0);
    assert.notEqual(snapshot.pixels, original.pixels, 'the snapshot owns its pixels');
  });

  it('resizes: keeps the text, reports a resize then full damage', () => {
    const guest = newGuest();
    typeText(guest, 'kept');
    const events: FramebufferEvent[] = [];
    guest.subscribe((event) => events.push(event));
    guest.resize({ width: 800, height: 600 });
    assert.deepEqual(events[0], { kind: 'resize', width: 800, height: 600 });
    assert.deepEqual(events[1], { kind: 'damage', rect: { x: 0, y: 0, width: 800, height: 600 } });
    assert.equal(guest.pixels.length, 800 * 600 * 4);
    assert.equal(guest.text.lines[1], 'kept');
    assert.throws(() => guest.resize({ width: 10, height: 10 }), RangeError);
  });

  it('refuses sizes outside the supported range', () => {
    assert.throws(() => newGuest({ width: 100 }), RangeError);
    assert.throws(() => newGuest({ height: 5000 }), RangeError);
    assert.throws(() => newGuest({ width: 640.5 }), RangeError);
  });
});
