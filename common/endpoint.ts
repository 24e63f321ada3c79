// Quick-connect endpoints as VNC users write them ("host:1" is display 1 = port 5901,
// "host::5901" is a literal port) and the ad-hoc profile built from a list of them. Pure.

import type { Profile, ProfileProblem } from './profile';
import { MAX_REPLICAS, validateProfile } from './profile';

export const VNC_BASE_PORT = 5900;
/** Like TigerVNC's vncviewer: "host:N" with N below this is a display number, above it a port. */
export const MAX_DISPLAY_NUMBER = 99;

export interface ParsedEndpoint {
  readonly host: string;
  readonly port: number;
}

/**
 * Parses "host", "host:N" (display N, or a port when N > 99), "host::port", "[v6]:N" and "[v6]::port".
 * Returns an error message instead of throwing.
 */
export function parseEndpoint(text: string): ParsedEndpoint | { readonly error: string } {
  const trimmed = text.trim();
  if (trimmed.length === 0) return { error: 'empty endpoint' };
  let host: string;
  let rest: string;
  if (trimmed.startsWith('[')) {
    const close = trimmed.indexOf(']');
    if (close < 0) return { error: `"${trimmed}": missing "]" after the IPv6 address` };
    host = trimmed.slice(1, close);
    rest = trimmed.slice(close + 1);
  } else {
    const colon = trimmed.indexOf(':');
    host = colon < 0 ? trimmed : trimmed.slice(0, colon);
    rest = colon < 0 ? '' : trimmed.slice(colon);
  }
  if (host.length === 0) host = '127.0.0.1';
  let port: number;
  if (rest === '') {
    port = VNC_BASE_PORT;
  } else if (rest.startsWith('::')) {
    port = Number(rest.slice(2));
    if (!/^\d+$/.test(rest.slice(2))) return { error: `"${trimmed}": the port after "::" must be a number` };
  } else if (rest.startsWith(':')) {
    const digits = rest.slice(1);
    if (!/^\d+$/.test(digits)) return { error: `"${trimmed}": expected host:display or host::port` };
    const value = Number(digits);
    port = value <= MAX_DISPLAY_NUMBER ? VNC_BASE_PORT + value : value;
  } else {
    return { error: `"${trimmed}": expected host:display or host::port` };
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    return { error: `"${trimmed}": port ${port} is outside 1–65535` };
  }
  return { host, port };
}

/**
 * Builds an ad-hoc profile from a whitespace- or comma-separated list of endpoints.
 * The result goes through the same validator as a profile file.
 */
export function quickConnectProfile(
  endpointList: string,
  password?: string,
): { readonly ok: true; readonly profile: Profile } | { readonly ok: false; readonly problems: readonly ProfileProblem[] } {
  const items = endpointList.split(/[\s,]+/).filter((item) => item.length > 0);
  if (items.length === 0) return { ok: false, problems: [{ path: 'endpoints', message: 'enter at least one host:display, e.g. 127.0.0.1:1' }] };
  if (items.length > MAX_REPLICAS) {
    return { ok: false, problems: [{ path: 'endpoints', message: `at most ${MAX_REPLICAS} replicas, found ${items.length}` }] };
  }
  const problems: ProfileProblem[] = [];
  const replicas: unknown[] = [];
  items.forEach((item, index) => {
    const parsed = parseEndpoint(item);
    if ('error' in parsed) {
      problems.push({ path: `endpoints[${index}]`, message: parsed.error });
      return;
    }
    const shownHost = parsed.host.includes(':') ? `[${parsed.host}]` : parsed.host;
    replicas.push({
      id: `r${index + 1}`,
      label: `${shownHost}:${parsed.port}`,
      vnc: { host: parsed.host, port: parsed.port, ...(password ? { password } : {}) },
    });
  });
  if (problems.length > 0) return { ok: false, problems };
  // Through the same validator as a profile file, so quick-connect obeys exactly the same rules.
  return validateProfile({ version: 1, name: 'quick connect', replicas });
}
