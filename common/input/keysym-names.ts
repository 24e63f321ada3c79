// X keysym names (as in X11's keysymdef.h, without the XK_ prefix) for scripts and the special-keys
// menu, each with the physical key (DOM code) of a US keyboard so that servers taking QEMU extended
// key events get a scancode too. Also parses key chords such as "Control_L+Alt_L+Delete". Pure.

import { charKey } from './text-keystrokes';

/** A key as RetroVisor sends it: keysym plus physical code (null when no US key has it). */
export interface NamedKey {
  readonly keysym: number;
  readonly code: string | null;
}

const FUNCTION_KEYS: ReadonlyArray<readonly [string, NamedKey]> = Array.from({ length: 24 }, (_unused, index) => [
  `F${index + 1}`,
  { keysym: 0xffbe + index, code: `F${index + 1}` },
]);

const KEYPAD_DIGITS: ReadonlyArray<readonly [string, NamedKey]> = Array.from({ length: 10 }, (_unused, digit) => [
  `KP_${digit}`,
  { keysym: 0xffb0 + digit, code: `Numpad${digit}` },
]);

/** Named keys beyond the printable characters. */
const NAMED_KEY_LIST: ReadonlyArray<readonly [string, NamedKey]> = [
  ['BackSpace', { keysym: 0xff08, code: 'Backspace' }],
  ['Tab', { keysym: 0xff09, code: 'Tab' }],
  ['ISO_Left_Tab', { keysym: 0xfe20, code: 'Tab' }],
  ['Return', { keysym: 0xff0d, code: 'Enter' }],
  ['Pause', { keysym: 0xff13, code: 'Pause' }],
  ['Scroll_Lock', { keysym: 0xff14, code: 'ScrollLock' }],
  ['Sys_Req', { keysym: 0xff15, code: 'PrintScreen' }],
  ['Escape', { keysym: 0xff1b, code: 'Escape' }],
  ['Delete', { keysym: 0xffff, code: 'Delete' }],
  ['Home', { keysym: 0xff50, code: 'Home' }],
  ['Left', { keysym: 0xff51, code: 'ArrowLeft' }],
  ['Up', { keysym: 0xff52, code: 'ArrowUp' }],
  ['Right', { keysym: 0xff53, code: 'ArrowRight' }],
  ['Down', { keysym: 0xff54, code: 'ArrowDown' }],
  ['Prior', { keysym: 0xff55, code: 'PageUp' }],
  ['Page_Up', { keysym: 0xff55, code: 'PageUp' }],
  ['Next', { keysym: 0xff56, code: 'PageDown' }],
  ['Page_Down', { keysym: 0xff56, code: 'PageDown' }],
  ['End', { keysym: 0xff57, code: 'End' }],
  ['Print', { keysym: 0xff61, code: 'PrintScreen' }],
  ['Insert', { keysym: 0xff63, code: 'Insert' }],
  ['Menu', { keysym: 0xff67, code: 'ContextMenu' }],
  ['Break', { keysym: 0xff6b, code: 'Pause' }],
  ['Num_Lock', { keysym: 0xff7f, code: 'NumLock' }],
  ['KP_Enter', { keysym: 0xff8d, code: 'NumpadEnter' }],
  ['KP_Multiply', { keysym: 0xffaa, code: 'NumpadMultiply' }],
  ['KP_Add', { keysym: 0xffab, code: 'NumpadAdd' }],
  ['KP_Subtract', { keysym: 0xffad, code: 'NumpadSubtract' }],
  ['KP_Decimal', { keysym: 0xffae, code: 'NumpadDecimal' }],
  ['KP_Divide', { keysym: 0xffaf, code: 'NumpadDivide' }],
  ...KEYPAD_DIGITS,
  ...FUNCTION_KEYS,
  ['Shift_L', { keysym: 0xffe1, code: 'ShiftLeft' }],
  ['Shift_R', { keysym: 0xffe2, code: 'ShiftRight' }],
  ['Control_L', { keysym: 0xffe3, code: 'ControlLeft' }],
  ['Control_R', { keysym: 0xffe4, code: 'ControlRight' }],
  ['Caps_Lock', { keysym: 0xffe5, code: 'CapsLock' }],
  ['Meta_L', { keysym: 0xffe7, code: 'MetaLeft' }],
  ['Meta_R', { keysym: 0xffe8, code: 'MetaRight' }],
  ['Alt_L', { keysym: 0xffe9, code: 'AltLeft' }],
  ['Alt_R', { keysym: 0xffea, code: 'AltRight' }],
  ['Super_L', { keysym: 0xffeb, code: 'MetaLeft' }],
  ['Super_R', { keysym: 0xffec, code: 'MetaRight' }],
  ['ISO_Level3_Shift', { keysym: 0xfe03, code: 'AltRight' }],
  // Printable characters by their X names (the character itself works too: "a", "(", "~").
  ['space', charKey(' ')],
  ['exclam', charKey('!')],
  ['quotedbl', charKey('"')],
  ['numbersign', charKey('#')],
  ['dollar', charKey('$')],
  ['percent', charKey('%')],
  ['ampersand', charKey('&')],
  ['apostrophe', charKey("'")],
  ['parenleft', charKey('(')],
  ['parenright', charKey(')')],
  ['asterisk', charKey('*')],
  ['plus', charKey('+')],
  ['comma', charKey(',')],
  ['minus', charKey('-')],
  ['period', charKey('.')],
  ['slash', charKey('/')],
  ['colon', charKey(':')],
  ['semicolon', charKey(';')],
  ['less', charKey('<')],
  ['equal', charKey('=')],
  ['greater', charKey('>')],
  ['question', charKey('?')],
  ['at', charKey('@')],
  ['bracketleft', charKey('[')],
  ['backslash', charKey('\\')],
  ['bracketright', charKey(']')],
  ['asciicircum', charKey('^')],
  ['underscore', charKey('_')],
  ['grave', charKey('`')],
  ['braceleft', charKey('{')],
  ['bar', charKey('|')],
  ['braceright', charKey('}')],
  ['asciitilde', charKey('~')],
];

const NAMED_KEYS: ReadonlyMap<string, NamedKey> = new Map(NAMED_KEY_LIST.map(([name, key]) => [name, { keysym: key.keysym, code: key.code }]));

/** Every name {@link lookupKeyName} knows besides single characters (for error messages and docs). */
export const KEY_NAMES: readonly string[] = [...NAMED_KEYS.keys()];

/** The key an X keysym name stands for: a name above, or one printable character ("a", "(", "7"). */
export function lookupKeyName(name: string): NamedKey | null {
  const named = NAMED_KEYS.get(name);
  if (named !== undefined) return named;
  if ([...name].length === 1) {
    const key = charKey(name);
    return { keysym: key.keysym, code: key.code };
  }
  return null;
}

/**
 * Parses a chord "Control_L+Alt_L+Delete" (parts joined by "+"; write "plus" for the + key) into the
 * keys to press in order (and release in reverse). Throws an Error saying which part is unknown.
 */
export function parseKeyChord(chord: string): NamedKey[] {
  const parts = chord === '+' ? ['+'] : chord.split('+');
  if (parts.some((part) => part === '')) throw new Error(`"${chord}" has an empty part: write "plus" for the + key`);
  return parts.map((part) => {
    const key = lookupKeyName(part);
    if (key === null) {
      throw new Error(`unknown key name "${part}": use an X keysym name such as Return, BackSpace, Control_L, F1, or one character`);
    }
    return key;
  });
}

/** The special-keys menu: chords every replica receives alike. */
export const SPECIAL_KEY_CHORDS: ReadonlyArray<{ readonly id: string; readonly label: string; readonly chord: string }> = [
  { id: 'ctrl-alt-del', label: 'Ctrl+Alt+Del', chord: 'Control_L+Alt_L+Delete' },
  { id: 'ctrl-alt-backspace', label: 'Ctrl+Alt+Backspace', chord: 'Control_L+Alt_L+BackSpace' },
  ...Array.from({ length: 12 }, (_unused, index) => ({
    id: `ctrl-alt-f${index + 1}`,
    label: `Ctrl+Alt+F${index + 1}`,
    chord: `Control_L+Alt_L+F${index + 1}`,
  })),
  { id: 'print', label: 'Print Screen', chord: 'Print' },
];
