// `retrovisor profile list|import|export|delete|restore`: the profile library from the terminal, and
// how `--profile NAME` finds a saved profile (or a file). Every name, file text and problem printed
// goes through common/terminal-text.ts. Runs in Node.

import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { SavedProfileSummary } from '../common/contract';
import { isObject, type Json } from '../common/json-fields';
import { detectFormat, formatImportProblems, type ImportInput } from '../common/profile-import/import-profile';
import { MAX_IMPORT_BYTES } from '../common/profile-import/key-file';
import { formatProblems } from '../common/profile';
import { escapeControl, escapeControlKeepingLines } from '../common/terminal-text';
import { dataRoot } from './divergence-evidence';
import { LibraryError, ProfileLibrary, type LibrarySecretStore } from './profile-library';
import { readSmallFile, resolveUserPath } from './secrets';

/** Exit statuses of `retrovisor profile`. */
export const PROFILE_EXIT = { ok: 0, failure: 1, badInput: 2 } as const;

export const PROFILE_USAGE = `Usage:
  retrovisor profile list [--json]                 saved profiles, most recently opened first
  retrovisor profile import FILE|URI... [--name NAME]
                                                   .vv, .tigervnc, .remmina, RetroVisor JSON files and vnc:// URIs;
                                                   each becomes a profile, or with --name all become the replicas of
                                                   the profile NAME (a new one, or added to the saved one of that name)
  retrovisor profile export NAME                   the profile as RetroVisor JSON without its secrets, on stdout
  retrovisor profile delete NAME                   moves it to the library's trash (restore prints how to undo)
  retrovisor profile restore ID                    brings a deleted profile back
NAME is a saved profile's name (exact, case-sensitive) or its id.`;

/** Warned when a vnc:// URI with a password is given on the command line. */
export const URI_PASSWORD_ARGV_WARNING =
  'a password in a vnc:// URI on the command line is visible to other users of this machine (ps); prefer a file, or let RetroVisor ask at connect time';

export interface ProfileCommandIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly workingDirectory: string;
  /** Default process.env: RETROVISOR_DATA_DIR and XDG_DATA_HOME choose the library. */
  readonly env?: NodeJS.ProcessEnv;
  /** Where imported passwords go; absent: they are not saved (asked at connect time). */
  readonly secretStore?: LibrarySecretStore;
}

/** What `--profile ARG` names: a profile file, or a saved profile (with its library file). */
export type ProfileArgument =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'saved'; readonly id: string; readonly name: string; readonly path: string };

/**
 * Resolves `--profile ARG`: a file when ARG contains a "/" or ends in ".json" and exists; else the
 * saved profile named ARG (exact, case-sensitive), else the saved profile with id ARG. Throws
 * LibraryError when the name is ambiguous or nothing matches.
 */
export async function resolveProfileArgument(argument: string, library: ProfileLibrary, workingDirectory: string): Promise<ProfileArgument> {
  const looksLikePath = argument.includes('/') || argument.endsWith('.json');
  const asPath = resolveUserPath(argument, workingDirectory);
  if (looksLikePath && existsSync(asPath)) return { kind: 'file', path: asPath };
  const summary = await findSaved(argument, library);
  if (summary !== null) return { kind: 'saved', id: summary.id, name: summary.name, path: library.fileOf(summary.id) };
  if (looksLikePath) return { kind: 'file', path: asPath };
  throw new LibraryError(`no saved profile is named "${argument}" (see retrovisor profile list); for a file in this folder write ./${argument}`);
}

/** A saved profile by exact name, else by id; null when none; ambiguous names throw. */
async function findSaved(nameOrId: string, library: ProfileLibrary): Promise<SavedProfileSummary | null> {
  const byName = await library.findByName(nameOrId);
  if (byName.kind === 'found') return byName.summary;
  if (byName.kind === 'ambiguous') {
    throw new LibraryError(`${byName.ids.length} saved profiles are named "${nameOrId}": name one by its id (${byName.ids.join(', ')})`);
  }
  const listing = await library.list();
  return listing.profiles.find((summary) => summary.id === nameOrId) ?? null;
}

/** Makes a RetroVisor profile's relative secret and key file paths absolute (they were relative to its file). */
function absolutizePaths(text: string, baseDir: string): string {
  let document: Json;
  try {
    document = JSON.parse(text.replace(/^\uFEFF/, '')) as Json;
  } catch {
    return text; // The importer reports the syntax error with its line.
  }
  if (!isObject(document)) return text;
  const fix = (holder: Json, field: string): void => {
    if (!isObject(holder)) return;
    const value = holder[field];
    if (typeof value === 'string' && field === 'identityFile') holder[field] = resolveUserPath(value, baseDir);
    else if (isObject(value) && typeof value.file === 'string' && value.file !== '') value.file = resolveUserPath(value.file, baseDir);
  };
  for (const replica of Array.isArray(document.replicas) ? document.replicas : []) if (isObject(replica)) fix(replica.vnc, 'password');
  if (isObject(document.l0)) {
    for (const entry of Object.values(document.l0)) {
      if (!isObject(entry)) continue;
      fix(entry.ssh, 'passphrase');
      fix(entry.ssh, 'identityFile');
    }
  }
  return JSON.stringify(document);
}

/**
 * Reads import sources: vnc:// URIs as they are, files by path relative to `workingDirectory`
 * (RetroVisor JSON with its paths made absolute). `warn` hears that a URI in argv carries a password.
 */
export async function readImportInputs(sources: readonly string[], workingDirectory: string, warn: (line: string) => void): Promise<ImportInput[]> {
  const inputs: ImportInput[] = [];
  for (const source of sources) {
    if (/^vnc:\/\//i.test(source)) {
      if (/^vnc:\/\/[^@/?#]*:[^@/?#]*@/i.test(source) || /[?&](VncPassword|SshPassword)=/i.test(source)) warn(URI_PASSWORD_ARGV_WARNING);
      inputs.push({ kind: 'uri', uri: source });
      continue;
    }
    const file = resolveUserPath(source, workingDirectory);
    const text = (await readSmallFile(file, MAX_IMPORT_BYTES, 'file to import')).toString('utf8');
    const name = path.basename(file);
    inputs.push({ kind: 'file', name, text: detectFormat(name, text) === 'retrovisor' ? absolutizePaths(text, path.dirname(file)) : text });
  }
  return inputs;
}

function describeSummary(summary: SavedProfileSummary): string {
  const replicas = `${summary.replicaCount} replica${summary.replicaCount === 1 ? '' : 's'}`;
  const opened = summary.lastOpenedAt === null ? 'never opened' : `opened ${summary.lastOpenedAt}`;
  return `${summary.name}  (${replicas}, ${opened}${summary.lastState === null ? '' : `, ${summary.lastState}`})  id ${summary.id}`;
}

/** Runs `retrovisor profile ...`; resolves with the exit status. */
export async function runProfileCommand(argv: readonly string[], io: ProfileCommandIo): Promise<number> {
  const say = (line: string): void => void io.stdout.write(`${escapeControl(line)}\n`);
  const complain = (line: string): void => void io.stderr.write(`retrovisor profile: ${escapeControlKeepingLines(line)}\n`);
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: { json: { type: 'boolean', default: false }, name: { type: 'string' }, help: { type: 'boolean', short: 'h', default: false } },
    });
  } catch (error) {
    complain(`${error instanceof Error ? error.message : String(error)}\n\n${PROFILE_USAGE}`);
    return PROFILE_EXIT.badInput;
  }
  const [verb, ...operands] = parsed.positionals;
  if (parsed.values.help || verb === undefined) {
    (parsed.values.help ? io.stdout : io.stderr).write(`${PROFILE_USAGE}\n`);
    return parsed.values.help ? PROFILE_EXIT.ok : PROFILE_EXIT.badInput;
  }
  const usage = (message: string): number => {
    complain(`${message}\n\n${PROFILE_USAGE}`);
    return PROFILE_EXIT.badInput;
  };
  if (parsed.values.json && verb !== 'list') return usage('--json goes with list');
  if (parsed.values.name !== undefined && verb !== 'import') return usage('--name goes with import');
  const library = new ProfileLibrary({ dataDirectory: dataRoot(io.env ?? process.env), ...(io.secretStore === undefined ? {} : { secretStore: io.secretStore }) });

  try {
    switch (verb) {
      case 'list': {
        if (operands.length > 0) return usage(`list takes no arguments, found "${operands[0]}"`);
        const listing = await library.list();
        for (const file of listing.setAside) complain(`${file.file} is not a valid profile and was set aside as ${file.movedTo}:\n${formatProblems(file.problems)}`);
        for (const file of listing.skipped) complain(`${file.file} was skipped: ${file.reason}`);
        if (parsed.values.json) {
          // JSON's own escapes: the line decodes to the same names.
          io.stdout.write(`${escapeControl(JSON.stringify(listing.profiles))}\n`);
        } else if (listing.profiles.length === 0) {
          say('No saved profiles. Import one: retrovisor profile import FILE|URI');
        } else {
          for (const summary of listing.profiles) say(describeSummary(summary));
        }
        return PROFILE_EXIT.ok;
      }
      case 'import': {
        if (operands.length === 0) return usage('import needs at least one file or vnc:// URI');
        const inputs = await readImportInputs(operands, io.workingDirectory, complain);
        const name = parsed.values.name;
        const groups = name === undefined ? inputs.map((input) => [input]) : [inputs];
        let status: number = PROFILE_EXIT.ok;
        const into = name === undefined ? null : await library.findByName(name);
        if (into?.kind === 'ambiguous') return usage(`${into.ids.length} saved profiles are named "${name}": import into one of them is ambiguous (ids ${into.ids.join(', ')})`);
        for (const group of groups) {
          const result = await library.import(group, {
            ...(name === undefined ? {} : into?.kind === 'found' ? { intoId: into.summary.id } : { name }),
          });
          switch (result.kind) {
            case 'saved': {
              for (const notice of result.notices) complain(notice);
              const saved = (await library.list()).profiles.find((summary) => summary.id === result.id);
              say(`${into?.kind === 'found' ? 'added to' : 'imported'} ${saved === undefined ? result.id : describeSummary(saved)}`);
              break;
            }
            case 'unreadable':
              complain(`cannot import:\n${formatImportProblems(result.problems)}`);
              status = PROFILE_EXIT.badInput;
              break;
            case 'invalid':
              complain(`the imported replicas do not make a valid profile:\n${formatProblems(result.problems)}`);
              status = PROFILE_EXIT.badInput;
              break;
            case 'conflict':
              complain(`the profile changed while importing (now revision ${result.currentRevision}: ${result.differences.join(', ')}); run the import again`);
              status = PROFILE_EXIT.failure;
              break;
            case 'missing':
              complain(result.message);
              status = PROFILE_EXIT.failure;
              break;
          }
        }
        return status;
      }
      case 'export':
      case 'delete': {
        if (operands.length !== 1) return usage(`${verb} takes one profile name`);
        const summary = await findSaved(operands[0] as string, library);
        if (summary === null) {
          complain(`no saved profile is named "${operands[0]}" (see retrovisor profile list)`);
          return PROFILE_EXIT.failure;
        }
        if (verb === 'export') {
          const exported = await library.export(summary.id);
          for (const notice of exported.notices) complain(notice);
          // Names and labels keep JSON's escapes: the text is the exact file.
          io.stdout.write(escapeControlKeepingLines(exported.text));
          return PROFILE_EXIT.ok;
        }
        const deleted = await library.delete(summary.id);
        if (!deleted.ok) {
          complain(deleted.error ?? 'not deleted');
          return PROFILE_EXIT.failure;
        }
        say(`deleted "${summary.name}" (moved to the library's trash); undo with: retrovisor profile restore ${summary.id}`);
        return PROFILE_EXIT.ok;
      }
      case 'restore': {
        if (operands.length !== 1) return usage('restore takes one profile id (printed by delete)');
        const restored = await library.restore(operands[0] as string);
        if (!restored.ok) {
          complain(restored.error ?? 'not restored');
          return PROFILE_EXIT.failure;
        }
        say(`restored ${operands[0]}`);
        return PROFILE_EXIT.ok;
      }
      default:
        return usage(`unknown profile command "${verb}"`);
    }
  } catch (error) {
    complain(error instanceof Error ? error.message : String(error));
    return PROFILE_EXIT.failure;
  }
}
