// What a launch of the desktop app asks to open — its own at start-up, or a second launch's handed to
// the running instance (one instance per user) — and what that resolves to: a profile file, a saved
// profile, a connection file or vnc:// address imported into the library, the demo lab, or nothing.
// Runs in Node (the Electron main process uses it; it never imports electron).

import path from 'node:path';
import { formatImportProblems } from '../common/profile-import/import-profile';
import { formatProblems } from '../common/profile';
import { errorMessage } from './logger';
import { LibraryError, type ProfileLibrary } from './profile-library';
import { readImportInputs, resolveProfileArgument } from './profile-command';

/** Extensions of the connection files the app imports when it is asked to open one (the .desktop MIME types). */
const IMPORTED_EXTENSIONS = ['.vv', '.remmina', '.tigervnc'] as const;

/** What a command line asks for, before any file or library is read. */
export type OpenRequest =
  /** Nothing named: show the app (the running instance comes forward). */
  | { readonly kind: 'show' }
  | { readonly kind: 'demo' }
  /** `--profile ARG` or a .json path: a profile file or a saved profile's name or id. */
  | { readonly kind: 'profile'; readonly argument: string; readonly workingDirectory: string }
  /** A .vv, .remmina or .tigervnc file or a vnc:// address (from a file manager or a link): imported, then opened. */
  | { readonly kind: 'import'; readonly source: string; readonly workingDirectory: string };

/** What an OpenRequest resolved to. */
export type OpenTarget =
  | { readonly kind: 'show' }
  | { readonly kind: 'demo' }
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'saved'; readonly id: string; readonly path: string }
  /** The request cannot be served (no such saved profile, an unreadable import...): said to the user. */
  | { readonly kind: 'problem'; readonly message: string };

/** What a second launch hands to the running instance (Electron's additionalData): its arguments and folder. */
export interface InstanceMessage {
  readonly retrovisorOpen: 1;
  readonly args: readonly string[];
  readonly workingDirectory: string;
}

/** The message a launch hands over when another instance already runs. */
export function instanceMessage(args: readonly string[], workingDirectory: string): InstanceMessage {
  return { retrovisorOpen: 1, args: [...args], workingDirectory };
}

/** A handed-over message, checked (it crosses a process boundary); null when it is not one of ours. */
export function parseInstanceMessage(data: unknown): InstanceMessage | null {
  if (typeof data !== 'object' || data === null) return null;
  const { retrovisorOpen, args, workingDirectory } = data as Record<string, unknown>;
  if (retrovisorOpen !== 1 || typeof workingDirectory !== 'string' || !path.isAbsolute(workingDirectory)) return null;
  if (!Array.isArray(args) || !args.every((arg): arg is string => typeof arg === 'string')) return null;
  return { retrovisorOpen: 1, args, workingDirectory };
}

/**
 * Reads a launch's arguments (after the executable and, unpackaged, the app folder): `--profile X`
 * or `--profile=X`, `--demo`, and positional files or vnc:// addresses as a file manager passes them
 * (the first one counts). The word `start` is skipped (`retrovisor start ...`); Chromium's switches
 * (`--no-sandbox`, ...) are ignored.
 */
export function parseOpenArguments(args: readonly string[], workingDirectory: string): OpenRequest {
  let profile: string | undefined;
  let demo = false;
  const positionals: string[] = [];
  for (let index = 0; index < args.length; index += 1) {
    const arg = args[index]!;
    if (arg === '--profile' && index + 1 < args.length) {
      profile = args[index + 1];
      index += 1;
    } else if (arg.startsWith('--profile=')) {
      profile = arg.slice('--profile='.length);
    } else if (arg === '--demo') {
      demo = true;
    } else if (!arg.startsWith('-') && arg !== 'start' && arg !== '') {
      positionals.push(arg);
    }
  }
  if (profile !== undefined && profile !== '') return { kind: 'profile', argument: profile, workingDirectory };
  const named = positionals[0];
  if (named !== undefined) {
    const lower = named.toLowerCase();
    // A file manager may pass a file:// URL (%U in the .desktop entry): its path is the file.
    if (/^file:\/\//.test(lower)) return parseOpenArguments([decodeURIComponent(new URL(named).pathname)], workingDirectory);
    if (/^vnc:\/\//.test(lower) || IMPORTED_EXTENSIONS.some((extension) => lower.endsWith(extension))) {
      return { kind: 'import', source: named, workingDirectory };
    }
    return { kind: 'profile', argument: named, workingDirectory };
  }
  return demo ? { kind: 'demo' } : { kind: 'show' };
}

/**
 * A second launch's request: from its handed-over message when it sent one (its own arguments and
 * folder, exactly), else from the argv Electron reports (`argumentOffset` entries skipped: the
 * executable, and the app folder when unpackaged) against its working folder.
 */
export function requestFromSecondInstance(argv: readonly string[], workingDirectory: string, additionalData: unknown, argumentOffset: number): OpenRequest {
  const message = parseInstanceMessage(additionalData);
  if (message !== null) return parseOpenArguments(message.args, message.workingDirectory);
  return parseOpenArguments(argv.slice(argumentOffset), workingDirectory);
}

/** Resolves a request against the profile library: a saved profile's name, an import into it. */
export async function resolveOpenRequest(request: OpenRequest, library: ProfileLibrary): Promise<OpenTarget> {
  switch (request.kind) {
    case 'show':
    case 'demo':
      return request;
    case 'profile':
      try {
        const profile = await resolveProfileArgument(request.argument, library, request.workingDirectory);
        return profile.kind === 'saved' ? { kind: 'saved', id: profile.id, path: profile.path } : { kind: 'file', path: profile.path };
      } catch (error) {
        if (error instanceof LibraryError) return { kind: 'problem', message: error.message };
        throw error;
      }
    case 'import':
      return importAndResolve(request.source, request.workingDirectory, library);
  }
}

async function importAndResolve(source: string, workingDirectory: string, library: ProfileLibrary): Promise<OpenTarget> {
  const name = /^vnc:\/\//i.test(source) ? 'the vnc:// address' : path.basename(source);
  let result;
  try {
    // A password in a vnc:// address on a command line is already public (argv): nothing more to say here.
    const inputs = await readImportInputs([source], workingDirectory, () => undefined);
    result = await library.import(inputs);
  } catch (error) {
    return { kind: 'problem', message: `cannot import ${name}: ${errorMessage(error)}` };
  }
  switch (result.kind) {
    case 'saved':
      return { kind: 'saved', id: result.id, path: library.fileOf(result.id) };
    case 'unreadable':
      return { kind: 'problem', message: `cannot import ${name}:\n${formatImportProblems(result.problems)}` };
    case 'invalid':
      return { kind: 'problem', message: `${name} does not make a valid profile:\n${formatProblems(result.problems)}` };
    case 'conflict':
    case 'missing':
      return { kind: 'problem', message: `cannot import ${name}: the library changed meanwhile; open it again` };
  }
}

/**
 * The window a target belongs in: one window per profile, so opening a profile that already has a
 * window brings that window forward instead of opening it twice. Null: it needs no window of its own.
 */
export function windowKeyOf(target: OpenTarget): string | null {
  switch (target.kind) {
    case 'file':
      return `file:${path.resolve(target.path)}`;
    case 'saved':
      return `saved:${target.id}`;
    case 'demo':
      return 'demo';
    case 'show':
    case 'problem':
      return null;
  }
}
