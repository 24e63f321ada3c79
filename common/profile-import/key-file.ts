// A strict reader of "key=value" files with [groups] (GLib key files, as virt-viewer and Remmina
// write them) and of TigerVNC's group-less variant, keeping each entry's line number for messages.
// Pure.

import type { ImportProblem } from './import-types';

export interface KeyFileEntry {
  readonly key: string;
  readonly value: string;
  readonly line: number;
}

export interface KeyFileGroup {
  readonly name: string;
  readonly line: number;
  /** By key as written (virt-viewer and Remmina keys are case-sensitive). */
  readonly entries: ReadonlyMap<string, KeyFileEntry>;
}

export type KeyFile =
  | { readonly ok: true; readonly groups: readonly KeyFileGroup[]; readonly ungrouped: readonly KeyFileEntry[] }
  | { readonly ok: false; readonly problems: readonly ImportProblem[] };

/** Escapes a key file value may hold: GLib's (\s \n \t \r \\), TigerVNC's are a subset. */
const ESCAPES: Readonly<Record<string, string>> = { s: ' ', n: '\n', t: '\t', r: '\r', '\\': '\\' };

/** Decodes a value's backslash escapes; returns a problem message for an unknown one. */
export function decodeEscapes(value: string): string | { readonly error: string } {
  let decoded = '';
  for (let index = 0; index < value.length; index++) {
    const character = value.charAt(index);
    if (character !== '\\') {
      decoded += character;
      continue;
    }
    const next = value.charAt(index + 1);
    const replacement = ESCAPES[next];
    if (replacement === undefined) return { error: next === '' ? 'ends with a lone "\\"' : `has an unknown escape "\\${next}"` };
    decoded += replacement;
    index += 1;
  }
  return decoded;
}

/** Largest file an importer reads (connection files are a few hundred bytes). */
export const MAX_IMPORT_BYTES = 256 * 1024;

/**
 * Reads `text` as a key file: blank lines and lines starting with "#" (and ";" when `semicolonComments`)
 * are skipped, "[name]" starts a group, every other line must be "key=value" (spaces around the key
 * trimmed; the value kept from the first non-space after "="). A key twice in one group is refused.
 * `firstLine`: lines before it are not read (TigerVNC's header).
 */
export function readKeyFile(text: string, source: string, options: { readonly firstLine?: number; readonly semicolonComments?: boolean } = {}): KeyFile {
  if (text.length > MAX_IMPORT_BYTES) return { ok: false, problems: [{ source, message: `the file is ${text.length} bytes; a connection file is at most ${MAX_IMPORT_BYTES}` }] };
  const lines = (text.startsWith('\uFEFF') ? text.slice(1) : text).split(/\r?\n/);
  const problems: ImportProblem[] = [];
  const groups: { name: string; line: number; entries: Map<string, KeyFileEntry> }[] = [];
  const ungrouped: KeyFileEntry[] = [];
  lines.forEach((raw, index) => {
    const line = index + 1;
    if (line < (options.firstLine ?? 1)) return;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#') || (options.semicolonComments === true && trimmed.startsWith(';'))) return;
    if (trimmed.startsWith('[')) {
      if (!trimmed.endsWith(']') || trimmed.length < 3) {
        problems.push({ source, line, message: 'a group header must be "[name]"' });
        return;
      }
      groups.push({ name: trimmed.slice(1, -1), line, entries: new Map() });
      return;
    }
    const equals = raw.indexOf('=');
    if (equals < 0) {
      problems.push({ source, line, message: 'expected "key=value", a [group] header, a comment or a blank line' });
      return;
    }
    const key = raw.slice(0, equals).trim();
    if (key === '') {
      problems.push({ source, line, message: 'a line starts with "=": the key is missing' });
      return;
    }
    const entry = { key, value: raw.slice(equals + 1).replace(/^[ \t]+/, '').replace(/[ \t]+$/, ''), line };
    const group = groups[groups.length - 1];
    if (group === undefined) {
      ungrouped.push(entry);
      return;
    }
    const earlier = group.entries.get(key);
    if (earlier !== undefined) {
      problems.push({ source, line, key, message: `appears twice in [${group.name}] (first on line ${earlier.line}): keep one` });
      return;
    }
    group.entries.set(key, entry);
  });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, groups, ungrouped };
}

/** A group's value with its escapes decoded, and where it was written. */
export interface KeyFileValue {
  readonly text: string;
  readonly line: number;
  readonly entry: KeyFileEntry;
}

/**
 * A reader of `group`'s values with their escapes decoded: an absent key reads as undefined, and so
 * does a value with an unknown escape, which is added to `problems` (with its line and key).
 */
export function groupValueReader(group: KeyFileGroup, source: string, problems: ImportProblem[]): (key: string) => KeyFileValue | undefined {
  return (key) => {
    const entry = group.entries.get(key);
    if (entry === undefined) return undefined;
    const decoded = decodeEscapes(entry.value);
    if (typeof decoded !== 'string') {
      problems.push({ source, line: entry.line, key, message: `the value ${decoded.error}` });
      return undefined;
    }
    return { text: decoded, line: entry.line, entry };
  };
}
