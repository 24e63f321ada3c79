// Text from a server, a profile or a file made safe to print on a terminal or in a log line: every
// control character written as an escape. Pure; used by the CLI, the logger and the audit log.

/**
 * What a terminal could act on: C0 (ESC starts every escape sequence), DEL, C1 (U+009B is CSI on
 * its own), the line and paragraph separators, and the bidirectional marks, embeddings, overrides and
 * isolates that make a line read in another order than it is written ("Trojan source").
 */
// eslint-disable-next-line no-control-regex -- finding control characters is the point.
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const SHORT_ESCAPES: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * Writes every control character as an escape (`\n`, `\r`, `\t`, else `\uXXXX`, as JSON does), so a
 * text prints on one line and cannot move the cursor, recolour, retitle or reorder a terminal. The
 * escapes are JSON's: applied to a JSON line they leave the value it decodes to unchanged.
 */
export function escapeControl(text: string): string {
  return text.replace(CONTROL_CHARACTERS, (character) => SHORT_ESCAPES[character] ?? `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Cuts a text to at most `maxChars` UTF-16 units, ending with "…" when cut (never inside a surrogate pair). */
export function clipText(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  let end = Math.max(0, maxChars - 1);
  // A lone high surrogate at the cut would be an invalid character.
  const last = text.charCodeAt(end - 1);
  if (end > 0 && last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}…`;
}

/** escapeControl for a text of several lines: its line breaks are kept, every other control character escaped. */
export function escapeControlKeepingLines(text: string): string {
  return text.split(/\r?\n/).map(escapeControl).join('\n');
}
