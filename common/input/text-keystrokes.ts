// Text → key strokes as a person on a US keyboard would type them: each character's keysym plus its
// physical key, with Shift pressed and released around shifted characters (QEMU does not add Shift
// from a keysym: without a real Shift, "(" arrives as "9"). Used by scripts and "type clipboard". Pure.

/** A character's key: keysym, physical key on a US keyboard (null if none) and whether Shift is needed. */
export interface CharKey {
  readonly keysym: number;
  readonly code: string | null;
  readonly shift: boolean;
}

/** One key press or release. */
export interface KeyStroke {
  readonly keysym: number;
  readonly code: string | null;
  readonly down: boolean;
}

const SHIFT_LEFT = { keysym: 0xffe1, code: 'ShiftLeft' } as const;
// Unicode keysyms are 0x01000000 + code point (X11 keysymdef.h); Latin-1 keysyms equal the code point.
const UNICODE_KEYSYM_BASE = 0x01000000;

/** US layout: unshifted and shifted character of each key that types one. */
const US_KEYS: ReadonlyArray<readonly [code: string, plain: string, shifted: string]> = [
  ['Backquote', '`', '~'],
  ['Digit1', '1', '!'],
  ['Digit2', '2', '@'],
  ['Digit3', '3', '#'],
  ['Digit4', '4', '$'],
  ['Digit5', '5', '%'],
  ['Digit6', '6', '^'],
  ['Digit7', '7', '&'],
  ['Digit8', '8', '*'],
  ['Digit9', '9', '('],
  ['Digit0', '0', ')'],
  ['Minus', '-', '_'],
  ['Equal', '=', '+'],
  ['BracketLeft', '[', '{'],
  ['BracketRight', ']', '}'],
  ['Backslash', '\\', '|'],
  ['Semicolon', ';', ':'],
  ['Quote', "'", '"'],
  ['Comma', ',', '<'],
  ['Period', '.', '>'],
  ['Slash', '/', '?'],
  ['Space', ' ', ' '],
  ...'abcdefghijklmnopqrstuvwxyz'.split('').map((letter): [string, string, string] => [`Key${letter.toUpperCase()}`, letter, letter.toUpperCase()]),
];

const CHAR_KEYS: ReadonlyMap<string, CharKey> = (() => {
  const keys = new Map<string, CharKey>();
  for (const [code, plain, shifted] of US_KEYS) {
    keys.set(plain, { keysym: plain.charCodeAt(0), code, shift: false });
    if (!keys.has(shifted)) keys.set(shifted, { keysym: shifted.charCodeAt(0), code, shift: true });
  }
  keys.set('\n', { keysym: 0xff0d, code: 'Enter', shift: false });
  keys.set('\r', { keysym: 0xff0d, code: 'Enter', shift: false });
  keys.set('\t', { keysym: 0xff09, code: 'Tab', shift: false });
  keys.set('\b', { keysym: 0xff08, code: 'Backspace', shift: false });
  return keys;
})();

/** The key that types `character` (one code point); characters off the US layout get a keysym only. */
export function charKey(character: string): CharKey {
  const known = CHAR_KEYS.get(character);
  if (known !== undefined) return known;
  const codePoint = character.codePointAt(0) ?? 0;
  const keysym = codePoint >= 0xa0 && codePoint <= 0xff ? codePoint : UNICODE_KEYSYM_BASE + codePoint;
  return { keysym, code: null, shift: false };
}

/**
 * The strokes that type `text`: "\n" (and "\r\n", once) is Return, "\t" Tab, "\b" BackSpace. Shift is
 * held across a run of shifted characters, as a typist would, and released before the next plain one.
 */
export function textToKeyStrokes(text: string): KeyStroke[] {
  const strokes: KeyStroke[] = [];
  let shiftDown = false;
  const characters = [...text.replace(/\r\n/g, '\n')];
  for (const character of characters) {
    const key = charKey(character);
    const wantShift = key.shift;
    if (wantShift !== shiftDown && (wantShift || key.code !== null)) {
      strokes.push({ ...SHIFT_LEFT, down: wantShift });
      shiftDown = wantShift;
    }
    strokes.push({ keysym: key.keysym, code: key.code, down: true }, { keysym: key.keysym, code: key.code, down: false });
  }
  if (shiftDown) strokes.push({ ...SHIFT_LEFT, down: false });
  return strokes;
}
