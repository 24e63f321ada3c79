// What every importer of another tool's connection file returns: the VNC endpoints it found (a
// password kept apart, never in the profile), notices about what was left out, or problems naming the
// source, the line and the key at fault. Pure.

import { VNC_BASE_PORT } from '../endpoint';
import { isValidHost } from '../profile';

/** One VNC server found in an imported file or URI. */
export interface ImportedEndpoint {
  readonly host: string;
  readonly port: number;
  /** A name for the replica (the file's title, the connection's name). */
  readonly label?: string;
  /**
   * A password the file held in clear. Never written to the library as is: the library stores it in
   * the keyring, or drops it with a notice (asked at connect time).
   */
  readonly password?: string;
}

/** One problem of an imported source: where (source, line, key) and what. */
export interface ImportProblem {
  /** The file's name or the URI (without its password). */
  readonly source: string;
  /** 1-based; absent for a problem of the whole source. */
  readonly line?: number;
  readonly key?: string;
  readonly message: string;
}

export type ImportFormat = 'retrovisor' | 'virt-viewer' | 'tigervnc' | 'remmina' | 'vnc-uri';

/** The formats' names as a user reads them. */
export const IMPORT_FORMAT_NAMES: Readonly<Record<ImportFormat, string>> = {
  retrovisor: 'RetroVisor profile (JSON)',
  'virt-viewer': 'virt-viewer connection file (.vv)',
  tigervnc: 'TigerVNC connection file (.tigervnc)',
  remmina: 'Remmina connection file (.remmina)',
  'vnc-uri': 'vnc:// URI',
};

export type ParsedImport =
  | {
      readonly ok: true;
      readonly format: ImportFormat;
      readonly endpoints: readonly ImportedEndpoint[];
      /** A name for a new profile made from this source alone. */
      readonly title?: string;
      /** What was left out or changed, in words. */
      readonly notices: readonly string[];
    }
  | { readonly ok: false; readonly problems: readonly ImportProblem[] };

/** "vm.vv:3: port: must be ..." — a problem as one line for a terminal or a notice. */
export function formatImportProblem(problem: ImportProblem): string {
  const where = problem.line === undefined ? problem.source : `${problem.source}:${problem.line}`;
  return `${where}: ${problem.key === undefined ? '' : `${problem.key}: `}${problem.message}`;
}

/** A TCP port from text, or a problem message. */
export function parsePortText(text: string): number | string {
  if (!/^\d{1,5}$/.test(text)) return `must be a TCP port (a number from 1 to 65535), found "${text.slice(0, 40)}"`;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : `must be a TCP port, from 1 to 65535, found ${port}`;
}

/** Checks a host name found in a file; a problem message when a profile would refuse it. */
export function hostProblem(host: string): string | null {
  if (host.length === 0) return 'is empty: a host name or IP address is needed';
  return isValidHost(host) ? null : `"${host.slice(0, 80)}" is not a host name or IP address RetroVisor accepts (no spaces, quotes, shell characters or leading "-")`;
}

/** The default VNC port, for formats whose port is optional. */
export const DEFAULT_VNC_PORT = VNC_BASE_PORT;
