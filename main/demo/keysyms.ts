// X11 keysyms the demo guest understands, and the mappings around them: keysym → typed character,
// text → keysyms (for injected typing) and QEMU/XT scancode → keysym (US layout). Pure.

/** Keysyms with a meaning of their own in the demo guest. */
export const KEYSYM = {
  BackSpace: 0xff08,
  Tab: 0xff09,
  Return: 0xff0d,
  KP_Enter: 0xff8d,
  Shift_L: 0xffe1,
  Shift_R: 0xffe2,
} as const;

// Unicode keysyms are 0x01000000 + code point (X11 keysymdef.h).
const UNICODE_KEYSYM_BASE = 0x01000000;

// Keypad keysyms that type a character.
const KEYPAD_CHARS: ReadonlyMap<number, string> = new Map([
  [0xff80, ' '],
  [0xffaa, '*'],
  [0xffab, '+'],
  [0xffac, ','],
  [0xffad, '-'],
  [0xffae, '.'],
  [0xffaf, '/'],
  [0xffbd, '='],
  ...Array.from({ length: 10 }, (_, digit): [number, string] => [0xffb0 + digit, String(digit)]),
]);

/** The printable ASCII character a keysym types, or null (function keys, modifiers, non-ASCII). */
export function keysymToChar(keysym: number): string | null {
  if (keysym >= 0x20 && keysym <= 0x7e) return String.fromCharCode(keysym);
  if (keysym >= UNICODE_KEYSYM_BASE + 0x20 && keysym <= UNICODE_KEYSYM_BASE + 0x7e) {
    return String.fromCharCode(keysym - UNICODE_KEYSYM_BASE);
  }
  return KEYPAD_CHARS.get(keysym) ?? null;
}

/** The keysyms that type `text` ("\n" → Return, "\t" → Tab, "\b" → BackSpace); other characters are skipped. */
export function textToKeysyms(text: string): number[] {
  const keysyms: number[] = [];
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if (char === '\n') keysyms.push(KEYSYM.Return);
    else if (char === '\t') keysyms.push(KEYSYM.Tab);
    else if (char === '\b') keysyms.push(KEYSYM.BackSpace);
    else if (code >= 0x20 && code <= 0x7e) keysyms.push(code);
  }
  return keysyms;
}

// XT (set 1) scancodes as QEMU's extended key event carries them, US layout: [plain, shifted].
const SCANCODE_CHARS: ReadonlyMap<number, readonly [string, string]> = new Map<number, readonly [string, string]>([
  ...[...'1234567890-='].map((char, index): [number, [string, string]] => [0x02 + index, [char, '!@#$%^&*()_+'[index] ?? char]]),
  ...[...'qwertyuiop[]'].map((char, index): [number, [string, string]] => [0x10 + index, [char, 'QWERTYUIOP{}'[index] ?? char]]),
  ...[...'asdfghjkl;\'`'].map((char, index): [number, [string, string]] => [0x1e + index, [char, 'ASDFGHJKL:"~'[index] ?? char]]),
  [0x2b, ['\\', '|']],
  ...[...'zxcvbnm,./'].map((char, index): [number, [string, string]] => [0x2c + index, [char, 'ZXCVBNM<>?'[index] ?? char]]),
  [0x39, [' ', ' ']],
]);

const SCANCODE_KEYSYMS: ReadonlyMap<number, number> = new Map([
  [0x0e, KEYSYM.BackSpace],
  [0x0f, KEYSYM.Tab],
  [0x1c, KEYSYM.Return],
  [0x2a, KEYSYM.Shift_L],
  [0x36, KEYSYM.Shift_R],
  [0x9c, KEYSYM.KP_Enter],
]);

/** The keysym of an XT scancode (US layout, `shifted` when a Shift key is down), or null if unknown. */
export function scancodeToKeysym(scancode: number, shifted: boolean): number | null {
  const special = SCANCODE_KEYSYMS.get(scancode);
  if (special !== undefined) return special;
  const chars = SCANCODE_CHARS.get(scancode);
  if (chars === undefined) return null;
  return chars[shifted ? 1 : 0].charCodeAt(0);
}
