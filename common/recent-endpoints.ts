// Recent quick-connect endpoint sets: the canonical form of a set ("host::port" each, in order), the
// most-recent-first list with duplicates removed, and the check of a list read back from disk. Pure.
// Passwords never enter here: a set is endpoints only.

import { parseEndpoint } from './endpoint';
import { MAX_REPLICAS } from './profile';

/** Endpoint sets remembered (older ones are forgotten). */
export const MAX_RECENT_ENDPOINT_SETS = 8;

/** One endpoint as "host::port" ("[v6]::port"): what it connects to, whatever form the user typed. */
function canonicalEndpoint(text: string): string | null {
  const parsed = parseEndpoint(text);
  if ('error' in parsed) return null;
  return `${parsed.host.includes(':') ? `[${parsed.host}]` : parsed.host}::${parsed.port}`;
}

/**
 * The canonical form of a quick-connect endpoint list ("127.0.0.1:1, x" → ["127.0.0.1::5901",
 * "x::5900"]), or null when it is empty, too long or has an endpoint that does not parse.
 */
export function canonicalEndpointSet(endpointList: string): string[] | null {
  const items = endpointList.split(/[\s,]+/).filter((item) => item.length > 0);
  if (items.length === 0 || items.length > MAX_REPLICAS) return null;
  const canonical = items.map(canonicalEndpoint);
  return canonical.every((item): item is string => item !== null) ? canonical : null;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((item, index) => item === b[index]);
}

/** `recent` with `set` first, an equal older entry removed, at most MAX_RECENT_ENDPOINT_SETS kept. */
export function rememberEndpointSet(recent: readonly (readonly string[])[], set: readonly string[]): string[][] {
  return [[...set], ...recent.filter((entry) => !sameSet(entry, set)).map((entry) => [...entry])].slice(0, MAX_RECENT_ENDPOINT_SETS);
}

/** `recent` without `set`. */
export function forgetEndpointSet(recent: readonly (readonly string[])[], set: readonly string[]): string[][] {
  return recent.filter((entry) => !sameSet(entry, set)).map((entry) => [...entry]);
}

/**
 * The recent sets in `value` (read from a file a person may have edited): every entry that is a
 * list of endpoints in canonical form is kept, in order, duplicates and the rest dropped.
 */
export function readRecentEndpointSets(value: unknown): string[][] {
  if (!Array.isArray(value)) return [];
  let recent: string[][] = [];
  for (const entry of value) {
    if (!Array.isArray(entry) || !entry.every((item): item is string => typeof item === 'string')) continue;
    const set = canonicalEndpointSet(entry.join(' '));
    if (set === null || !sameSet(set, entry) || recent.some((known) => sameSet(known, set))) continue;
    recent = [...recent, set];
  }
  return recent.slice(0, MAX_RECENT_ENDPOINT_SETS);
}
