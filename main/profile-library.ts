// The user's profile library in the data folder: one JSON file per profile under profiles/, written
// atomically (private, 0600 in 0700 folders) with a revision checked on every save; files that do not
// parse or validate are set aside, never dropped; deleted profiles go to a trash folder and can be
// restored; when each was last opened and how it went live in small state files beside them. Node-side.

import { constants } from 'node:fs';
import { lstat, mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { isObject, type Json } from '../common/json-fields';
import { describeJsonSyntaxError } from '../common/json-syntax';
import {
  MAX_PROFILE_BYTES,
  PROFILE_ID_PATTERN,
  PROFILE_VERSION,
  formatProblems,
  migrateProfile,
  validateProfile,
  type Profile,
  type ProfileProblem,
} from '../common/profile';
import { assembleImport, type ImportInput } from '../common/profile-import/import-profile';
import type {
  DeleteProfileResult,
  ExportProfileResult,
  ImportProfilesResult,
  ProfileListing,
  SaveProfileResult,
  SavedProfileSummary,
  SetAsideFile,
} from '../common/contract';
import { folderName } from './divergence-evidence';
import { PRIVATE_FOLDER_MODE, TEMP_FILE_PREFIX, privateFolder, writeFileAtomic, type AtomicWriteHooks } from './private-files';
import { describeFileError } from './secrets';
import { summarizeReplica } from './sessions';

/** Where a secret lives in the keyring: the profile it belongs to and its slot ("replica/r1/vnc", "l0/a/passphrase"). */
export interface SecretKey {
  readonly profileId: string;
  readonly slot: string;
}

/**
 * The part of the keyring (main/keyring/secret-store.ts) the library uses: storing a secret the user
 * typed or an imported file held, and forgetting a profile's secrets when it is purged for good.
 */
export interface LibrarySecretStore {
  store(key: SecretKey, secret: string, label: string): Promise<void>;
  removeProfile(profileId: string): Promise<void>;
}

export interface ProfileLibraryOptions {
  /** The data folder (dataRoot()); the library is its profiles/ folder. */
  readonly dataDirectory: string;
  /** Where secrets typed by the user or found in imported files go; absent: they are not saved. */
  readonly secretStore?: LibrarySecretStore;
  readonly now?: () => number;
  /** Tests inject a crash between a profile's write and its rename. */
  readonly writeHooks?: AtomicWriteHooks;
}

/** How long a deleted profile stays in the trash (restorable) before a later delete purges it. */
export const TRASH_KEEP_MS = 30 * 24 * 60 * 60 * 1000;
/** How long a save waits for another process's lock on the same profile before it gives up. */
const LOCK_WAIT_MS = 5_000;
const LOCK_POLL_MS = 25;
/** Bytes of randomness in a new profile's id (16 hex characters). */
const ID_RANDOM_BYTES = 8;
const LIBRARY_KEYS = ['id', 'revision', 'createdAt', 'updatedAt'] as const;

/** What save() needs besides the document. */
export interface SaveOptions {
  /** The profile to replace; absent: a new profile with a new id. */
  readonly id?: string;
  /** The revision the caller started from; required with `id` (a stale one is a conflict). */
  readonly expectedRevision?: number;
  /** For notices: where an inline secret came from, by JSON path of the secret ("$.replicas[0].vnc.password" → "vm.vv"). */
  readonly secretOrigins?: Readonly<Record<string, string>>;
}

/** A profile read from the library: its document as stored and its validated form. */
export interface LibraryEntry {
  readonly id: string;
  readonly file: string;
  readonly document: Record<string, Json>;
  readonly profile: Profile;
  readonly revision: number;
}

/** The result of looking a profile up by name. */
export type NameLookup =
  | { readonly kind: 'found'; readonly summary: SavedProfileSummary }
  | { readonly kind: 'none' }
  | { readonly kind: 'ambiguous'; readonly ids: readonly string[] };

/** A library request that cannot be carried out (unknown id, a file that had to be set aside...). */
export class LibraryError extends Error {
  override readonly name = 'LibraryError';
}

interface ProfileState {
  readonly lastOpenedAt?: string;
  readonly lastState?: string;
}

/** One inline secret of a document: where it is, and the keyring slot it goes to. */
interface InlineSecret {
  readonly path: string;
  readonly slot: string;
  readonly label: string;
  readonly value: string;
  readonly holder: Record<string, Json>;
  readonly field: string;
}

/** Every inline secret of a valid document (replicas' VNC passwords, L0 passphrases). */
function inlineSecrets(document: Record<string, Json>): InlineSecret[] {
  const found: InlineSecret[] = [];
  const replicas = Array.isArray(document.replicas) ? document.replicas : [];
  replicas.forEach((replica: Json, index: number) => {
    if (!isObject(replica) || !isObject(replica.vnc) || typeof replica.vnc.password !== 'string') return;
    const id = String(replica.id);
    found.push({ path: `$.replicas[${index}].vnc.password`, slot: `replica/${id}/vnc`, label: `VNC password of replica ${id}`, value: replica.vnc.password, holder: replica.vnc, field: 'password' });
  });
  if (isObject(document.l0)) {
    for (const [key, entry] of Object.entries(document.l0)) {
      if (!isObject(entry) || !isObject(entry.ssh) || typeof entry.ssh.passphrase !== 'string') continue;
      found.push({ path: `$.l0.${key}.ssh.passphrase`, slot: `l0/${key}/passphrase`, label: `SSH key passphrase of L0 ${key}`, value: entry.ssh.passphrase, holder: entry.ssh, field: 'passphrase' });
    }
  }
  return found;
}

/** The keyring slots a document's secret references already name. */
function keyringSlotsIn(document: Record<string, Json>): Set<string> {
  const slots = new Set<string>();
  const add = (value: Json): void => {
    if (isObject(value) && typeof value.keyring === 'string') slots.add(value.keyring);
  };
  if (Array.isArray(document.replicas)) for (const replica of document.replicas) if (isObject(replica) && isObject(replica.vnc)) add(replica.vnc.password);
  if (isObject(document.l0)) {
    for (const entry of Object.values(document.l0)) {
      if (isObject(entry) && isObject(entry.ssh)) {
        add(entry.ssh.passphrase);
        add(entry.ssh.password);
      }
    }
  }
  return slots;
}

/** `slot` when no reference names it yet, else its first free variant `slot-2`, `slot-3`… */
function freeSlot(slot: string, taken: ReadonlySet<string>): string {
  if (!taken.has(slot)) return slot;
  for (let suffix = 2; ; suffix++) if (!taken.has(`${slot}-${suffix}`)) return `${slot}-${suffix}`;
}

/**
 * Removes every secret value, and keyring references unless `keepKeyring`: environment variable and
 * file references (which hold no secret) stay. One notice per secret removed, ending with `outcome`.
 */
function stripSecrets(document: Record<string, Json>, outcome: string, keepKeyring = false): string[] {
  const notices: string[] = [];
  const strip = (holder: Json, field: string, what: string): void => {
    if (!isObject(holder) || holder[field] === undefined) return;
    const value = holder[field];
    if (isObject(value) && (value.env !== undefined || value.file !== undefined || (keepKeyring && value.keyring !== undefined))) return;
    delete holder[field];
    notices.push(`${what}: ${outcome}`);
  };
  if (Array.isArray(document.replicas)) {
    for (const replica of document.replicas) if (isObject(replica)) strip(replica.vnc, 'password', `the VNC password of replica ${String(replica.id)}`);
  }
  if (isObject(document.l0)) {
    for (const [key, entry] of Object.entries(document.l0)) if (isObject(entry)) strip(entry.ssh, 'passphrase', `the SSH passphrase of L0 ${key}`);
  }
  return notices;
}

/** A deep copy of a JSON document (documents are plain JSON: this is exact). */
function copyJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** The document without its library fields, in the order a person would write it. */
function contentOf(document: Record<string, Json>): Record<string, Json> {
  const content: Record<string, Json> = {};
  for (const [key, value] of Object.entries(document)) {
    if (!(LIBRARY_KEYS as readonly string[]).includes(key)) content[key] = value;
  }
  return content;
}

/** What differs between two documents' contents, in words: "name", "replica r2", "l0 a", "divergence". */
export function describeDifferences(stored: Record<string, Json>, incoming: Record<string, Json>): string[] {
  const differences: string[] = [];
  const same = (left: Json, right: Json): boolean => JSON.stringify(left) === JSON.stringify(right);
  const byId = (list: Json): Map<string, Json> =>
    new Map((Array.isArray(list) ? list : []).map((replica: Json, index: number) => [isObject(replica) && typeof replica.id === 'string' ? replica.id : `#${index + 1}`, replica]));
  const keys = new Set([...Object.keys(contentOf(stored)), ...Object.keys(contentOf(incoming))]);
  for (const key of keys) {
    if (key === 'version' || same(stored[key], incoming[key])) continue;
    if (key === 'replicas') {
      const before = byId(stored.replicas);
      const after = byId(incoming.replicas);
      const found = differences.length;
      for (const id of new Set([...before.keys(), ...after.keys()])) {
        if (!before.has(id)) differences.push(`replica ${id} (added)`);
        else if (!after.has(id)) differences.push(`replica ${id} (removed)`);
        else if (!same(before.get(id), after.get(id))) differences.push(`replica ${id}`);
      }
      const common = (ids: Iterable<string>, other: Map<string, Json>): string[] => [...ids].filter((id) => other.has(id));
      if (differences.length === found || !same(common(before.keys(), after), common(after.keys(), before))) differences.push('replica order');
      continue;
    }
    if (key === 'l0' && isObject(stored.l0) && isObject(incoming.l0)) {
      for (const name of new Set([...Object.keys(stored.l0), ...Object.keys(incoming.l0)])) {
        if (!same(stored.l0[name], incoming.l0[name])) differences.push(`l0 ${name}`);
      }
      continue;
    }
    differences.push(key);
  }
  return [...new Set(differences)];
}

/** Whether a process with this id is alive (a lock of a dead process is stale). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: unknown }).code === 'EPERM';
  }
}

/** The profile library of one data folder. Several processes may share it: saves lock per profile. */
export class ProfileLibrary {
  readonly folder: string;
  private readonly stateFolder: string;
  private readonly trashFolder: string;
  private readonly setAsideFolder: string;
  private readonly now: () => number;
  /** Per-profile queue of this process's saves (other processes are kept out by the lock file). */
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(private readonly options: ProfileLibraryOptions) {
    this.folder = path.join(options.dataDirectory, 'profiles');
    this.stateFolder = path.join(this.folder, 'state');
    this.trashFolder = path.join(this.folder, 'trash');
    this.setAsideFolder = path.join(this.folder, 'set-aside');
    this.now = options.now ?? Date.now;
  }

  /** The file of a profile (whether or not it exists); throws on an id that is not file-safe. */
  fileOf(id: string): string {
    if (!PROFILE_ID_PATTERN.test(id)) throw new LibraryError(`"${id.slice(0, 80)}" is not a profile id`);
    return path.join(this.folder, `${id}.json`);
  }

  /**
   * Every saved profile, most recently opened (else saved) first, with what the start screen shows.
   * A file that does not parse or validate is moved to profiles/set-aside/ and reported in `setAside`.
   */
  async list(): Promise<ProfileListing> {
    await this.ensureFolders();
    const profiles: SavedProfileSummary[] = [];
    const setAside: SetAsideFile[] = [];
    const skipped: { file: string; reason: string }[] = [];
    for (const name of (await readdir(this.folder)).sort()) {
      if (!name.endsWith('.json') || name.startsWith('.') || name.startsWith(TEMP_FILE_PREFIX)) continue;
      const id = name.slice(0, -'.json'.length);
      const outcome = await this.load(id, name);
      if (outcome.kind === 'ok') profiles.push(await this.summarize(outcome.entry));
      else if (outcome.kind === 'set-aside') setAside.push(outcome.report);
      else if (outcome.kind === 'skipped') skipped.push({ file: name, reason: outcome.reason });
    }
    const recency = (summary: SavedProfileSummary): string => summary.lastOpenedAt ?? summary.updatedAt ?? '';
    profiles.sort((left, right) => recency(right).localeCompare(recency(left)) || left.name.localeCompare(right.name) || left.id.localeCompare(right.id));
    return { profiles, setAside, skipped };
  }

  /** A saved profile by id; throws LibraryError when there is none or its file had to be set aside. */
  async read(id: string): Promise<LibraryEntry> {
    const file = this.fileOf(id);
    await this.ensureFolders();
    const outcome = await this.load(id, path.basename(file));
    if (outcome.kind === 'ok') return outcome.entry;
    if (outcome.kind === 'missing') throw new LibraryError(`no saved profile has the id "${id}"`);
    if (outcome.kind === 'skipped') throw new LibraryError(`the saved profile "${id}" cannot be read: ${outcome.reason}`);
    throw new LibraryError(`the saved profile "${id}" was not valid and was set aside as ${outcome.report.movedTo}:\n${formatProblems(outcome.report.problems)}`);
  }

  /**
   * A saved profile's document for the editor: a secret held in clear (a file written by hand) is
   * left out, with a notice; references (environment, file, keyring) are kept.
   */
  async readForEditor(id: string): Promise<{ revision: number; document: Record<string, Json>; notices: string[] }> {
    const entry = await this.read(id);
    const document = copyJson(entry.document);
    const notices = stripSecrets(document, 'held in clear in the file, not shown; saving leaves it out (you will be asked at connect time)', true);
    return { revision: entry.revision, document, notices };
  }

  /** The saved profile named exactly `name` (case-sensitive); several with that name → ambiguous. */
  async findByName(name: string): Promise<NameLookup> {
    const matches = (await this.list()).profiles.filter((summary) => summary.name === name);
    if (matches.length === 0) return { kind: 'none' };
    if (matches.length > 1) return { kind: 'ambiguous', ids: matches.map((summary) => summary.id) };
    return { kind: 'found', summary: matches[0] as SavedProfileSummary };
  }

  /** Records that a profile was opened now (its state file, never the profile's own document). */
  async markOpened(id: string): Promise<void> {
    await this.updateState(id, { lastOpenedAt: new Date(this.now()).toISOString() });
  }

  /** Records how the last session of a profile went ("all agreed", "r2 diverged", "could not connect"). */
  async recordState(id: string, lastState: string): Promise<void> {
    await this.updateState(id, { lastState: lastState.slice(0, 200) });
  }

  /**
   * Saves a profile document: a new profile (no `id`: a new id, revision 1) or a new revision of an
   * existing one, refused as a conflict when its revision is no longer `expectedRevision`. Inline
   * secrets never reach the file: each goes to the keyring when there is one (the document then names
   * its slot), else it is dropped with a notice (RetroVisor asks for it at connect time).
   */
  async save(document: Json, options: SaveOptions = {}): Promise<SaveProfileResult> {
    const migrated = migrateProfile(document);
    if (!isObject(migrated)) return { kind: 'invalid', problems: [{ path: '$', message: 'a profile must be a JSON object' }] };
    const content = copyJson(contentOf(migrated));
    const validation = validateProfile(content);
    if (!validation.ok) return { kind: 'invalid', problems: validation.problems };
    if (options.id !== undefined && options.expectedRevision === undefined) {
      return { kind: 'invalid', problems: [{ path: '$', message: 'saving over a saved profile needs the revision it was read at' }] };
    }
    const id = options.id ?? randomBytes(ID_RANDOM_BYTES).toString('hex');
    const file = this.fileOf(id);
    return this.exclusively(id, async () => {
      let createdAt = new Date(this.now()).toISOString();
      let revision = 1;
      if (options.id !== undefined) {
        const outcome = await this.load(id, path.basename(file));
        if (outcome.kind !== 'ok') return { kind: 'missing', id, message: `no saved profile has the id "${id}" (it was deleted, or set aside as not valid)` };
        const current = outcome.entry;
        if (current.revision !== options.expectedRevision) {
          return {
            kind: 'conflict',
            id,
            currentRevision: current.revision,
            ...(typeof current.document.updatedAt === 'string' ? { updatedAt: current.document.updatedAt } : {}),
            differences: describeDifferences(current.document, content),
          };
        }
        revision = current.revision + 1;
        if (typeof current.document.createdAt === 'string') createdAt = current.document.createdAt;
      }
      const notices = await this.takeOutSecrets(id, content, options.secretOrigins ?? {});
      const stored: Record<string, Json> = {
        version: PROFILE_VERSION,
        id,
        name: content.name,
        revision,
        createdAt,
        updatedAt: new Date(this.now()).toISOString(),
        ...contentOf(content),
      };
      await writeFileAtomic(file, `${JSON.stringify(stored, null, 2)}\n`, this.options.writeHooks);
      return { kind: 'saved', id, revision, notices };
    });
  }

  /**
   * Imports files and vnc:// URIs as the replicas of a new profile (named `name`, else after its one
   * source) or of the saved profile `intoId` (at `expectedRevision`; default: its current revision).
   * Passwords the sources hold go to the keyring, or are dropped with a notice naming the file.
   */
  async import(inputs: readonly ImportInput[], options: { readonly name?: string; readonly intoId?: string; readonly expectedRevision?: number } = {}): Promise<ImportProfilesResult> {
    let into: Record<string, Json> | undefined;
    let expectedRevision = options.expectedRevision;
    if (options.intoId !== undefined) {
      const entry = await this.read(options.intoId);
      into = contentOf(copyJson(entry.document));
      expectedRevision ??= entry.revision;
    }
    const assembled = assembleImport(inputs, { ...(options.name === undefined ? {} : { name: options.name }), ...(into === undefined ? {} : { into }) });
    if (!assembled.ok) return { kind: 'unreadable', problems: assembled.problems };
    const result = await this.save(assembled.document, {
      secretOrigins: assembled.secretOrigins,
      ...(options.intoId === undefined ? {} : { id: options.intoId, expectedRevision: expectedRevision ?? 0 }),
    });
    return result.kind === 'saved' ? { ...result, notices: [...assembled.notices, ...result.notices] } : result;
  }

  /**
   * Saves a copy of a profile under a new id, named `name` (default: "<name> (copy)"). Keyring
   * secrets belong to the original's id: the copy leaves them out (asked at connect time), with a notice.
   */
  async duplicate(id: string, name?: string): Promise<SaveProfileResult> {
    const entry = await this.read(id);
    const copy = contentOf(copyJson(entry.document));
    copy.name = name ?? `${entry.profile.name} (copy)`;
    const notices = stripSecrets(copy, 'the copy asks for it at connect time');
    const result = await this.save(copy);
    return result.kind === 'saved' ? { ...result, notices: [...notices, ...result.notices] } : result;
  }

  /** Moves a profile (and its state) to the trash; restoreProfile brings it back. Purges old trash. */
  async delete(id: string): Promise<DeleteProfileResult> {
    const file = this.fileOf(id);
    return this.exclusively(id, async () => {
      try {
        await rename(file, path.join(this.trashFolder, `${id}.json`));
      } catch (error) {
        if ((error as { code?: unknown }).code === 'ENOENT') return { ok: false, error: `no saved profile has the id "${id}"` };
        throw error;
      }
      await rename(this.stateFileOf(id), path.join(this.trashFolder, `${id}.state.json`)).catch(() => undefined);
      await this.purgeTrash(id);
      return { ok: true };
    });
  }

  /** Brings a deleted profile back from the trash. */
  async restore(id: string): Promise<DeleteProfileResult> {
    const file = this.fileOf(id);
    return this.exclusively(id, async () => {
      const trashed = path.join(this.trashFolder, `${id}.json`);
      if (await exists(file)) return { ok: false, error: `a saved profile with the id "${id}" already exists` };
      try {
        await rename(trashed, file);
      } catch (error) {
        if ((error as { code?: unknown }).code === 'ENOENT') return { ok: false, error: `the trash holds no profile with the id "${id}" (it may have been purged after ${TRASH_KEEP_MS / 86_400_000} days)` };
        throw error;
      }
      await rename(path.join(this.trashFolder, `${id}.state.json`), this.stateFileOf(id)).catch(() => undefined);
      return { ok: true };
    });
  }

  /**
   * A profile as RetroVisor JSON for another machine or person: version 2 without the library's
   * fields and without secrets (keyring references and inline values are left out; environment
   * variable and file references, which hold no secret, are kept).
   */
  async export(id: string): Promise<ExportProfileResult> {
    const entry = await this.read(id);
    const exported = contentOf(copyJson(entry.document));
    const notices = stripSecrets(exported, 'not exported; the receiver is asked for it at connect time or adds a reference');
    exported.version = PROFILE_VERSION;
    return { fileName: `${folderName(entry.profile.name)}.json`, text: `${JSON.stringify(exported, null, 2)}\n`, notices };
  }

  // -------------------------------------------------------------------------------------------

  private stateFileOf(id: string): string {
    return path.join(this.stateFolder, `${id}.json`);
  }

  private async ensureFolders(): Promise<void> {
    // The data folder is the user's choice and may be reached through symlinks; below it, only
    // folders RetroVisor made or that are the user's own private folders are used.
    await mkdir(this.options.dataDirectory, { recursive: true, mode: PRIVATE_FOLDER_MODE });
    if (!(await stat(this.options.dataDirectory)).isDirectory()) throw new LibraryError(`the data folder ${this.options.dataDirectory} is not a folder`);
    for (const folder of [this.folder, this.stateFolder, this.trashFolder, this.setAsideFolder]) await privateFolder(folder);
  }

  /** Reads, parses and validates one library file; sets it aside when it is not a valid profile. */
  private async load(
    id: string,
    name: string,
  ): Promise<
    | { kind: 'ok'; entry: LibraryEntry }
    | { kind: 'missing' }
    | { kind: 'skipped'; reason: string }
    | { kind: 'set-aside'; report: SetAsideFile }
  > {
    const file = path.join(this.folder, name);
    let text: string;
    try {
      const info = await lstat(file);
      if (!info.isFile()) return { kind: 'skipped', reason: 'it is not a regular file' };
      if (info.size > MAX_PROFILE_BYTES) return this.setAside(name, [{ path: '$', message: `the file is ${info.size} bytes; a profile is at most ${MAX_PROFILE_BYTES}` }]);
      text = await readFile(file, { encoding: 'utf8', flag: constants.O_RDONLY | constants.O_NOFOLLOW });
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ENOENT') return { kind: 'missing' };
      return { kind: 'skipped', reason: describeFileError(error) };
    }
    if (text.startsWith('\uFEFF')) text = text.slice(1);
    let document: Json;
    try {
      document = JSON.parse(text) as Json;
    } catch {
      return this.setAside(name, [{ path: '$', message: `not valid JSON: ${describeJsonSyntaxError(text)}` }]);
    }
    if (isObject(document) && typeof document.version === 'number' && document.version > PROFILE_VERSION) {
      // Written by a newer RetroVisor: left where it is for that version to read.
      return { kind: 'skipped', reason: `it is a version ${document.version} profile, written by a newer RetroVisor` };
    }
    const problems: ProfileProblem[] = [];
    if (!PROFILE_ID_PATTERN.test(id)) problems.push({ path: '$', message: `the file name "${name}" is not a library id; import the file instead (retrovisor profile import FILE)` });
    const validation = validateProfile(document);
    if (!validation.ok) problems.push(...validation.problems);
    else if (validation.profile.id !== undefined && validation.profile.id !== id) {
      problems.push({ path: '$.id', message: `is "${validation.profile.id}" but the file is named "${name}" (a copied file? import it instead)` });
    }
    if (problems.length > 0 || !validation.ok || !isObject(document)) return this.setAside(name, problems);
    // A v1 file (or a v2 file written by hand) is migrated in memory: revision 0 until its first save.
    const migrated = migrateProfile(document) as Record<string, Json>;
    return { kind: 'ok', entry: { id, file, document: migrated, profile: validation.profile, revision: validation.profile.revision ?? 0 } };
  }

  /** Moves a bad file to profiles/set-aside/ under a new name (never overwriting); reports it. */
  private async setAside(name: string, problems: readonly ProfileProblem[]): Promise<{ kind: 'set-aside'; report: SetAsideFile } | { kind: 'missing' }> {
    const stamp = new Date(this.now()).toISOString().replace(/[:.]/g, '-');
    const movedTo = path.join(this.setAsideFolder, `${name.replace(/\.json$/, '')}.${stamp}-${randomBytes(4).toString('hex')}.json`);
    try {
      await rename(path.join(this.folder, name), movedTo);
    } catch (error) {
      // Another window set it aside first.
      if ((error as { code?: unknown }).code === 'ENOENT') return { kind: 'missing' };
      throw error;
    }
    return { kind: 'set-aside', report: { file: name, movedTo, problems } };
  }

  private async summarize(entry: LibraryEntry): Promise<SavedProfileSummary> {
    const state = await this.readState(entry.id);
    const document = entry.document;
    return {
      id: entry.id,
      name: entry.profile.name,
      replicaCount: entry.profile.replicas.length,
      endpoints: entry.profile.replicas.map((replica) => summarizeReplica(replica).endpoint),
      revision: entry.revision,
      createdAt: typeof document.createdAt === 'string' ? document.createdAt : null,
      updatedAt: typeof document.updatedAt === 'string' ? document.updatedAt : null,
      lastOpenedAt: state.lastOpenedAt ?? null,
      lastState: state.lastState ?? null,
    };
  }

  /** A profile's state file; a missing or unreadable one is an empty state (it is only a convenience). */
  private async readState(id: string): Promise<ProfileState> {
    try {
      const parsed = JSON.parse(await readFile(this.stateFileOf(id), { encoding: 'utf8', flag: constants.O_RDONLY | constants.O_NOFOLLOW })) as Json;
      if (!isObject(parsed)) return {};
      return {
        ...(typeof parsed.lastOpenedAt === 'string' ? { lastOpenedAt: parsed.lastOpenedAt } : {}),
        ...(typeof parsed.lastState === 'string' ? { lastState: parsed.lastState } : {}),
      };
    } catch {
      return {};
    }
  }

  private async updateState(id: string, change: ProfileState): Promise<void> {
    this.fileOf(id);
    // Queued at once (no await before): state changes are written in the order they were made.
    await this.exclusively(`${id}.state`, async () => {
      const next = { ...(await this.readState(id)), ...change };
      await writeFileAtomic(this.stateFileOf(id), `${JSON.stringify(next)}\n`);
    });
  }

  /**
   * Moves each inline secret to the keyring (the document then names its slot), or drops it with a
   * notice. A slot another field of the profile already names (a replica renamed from r1 keeps
   * `replica/r1/vnc`, and a new r1 is typed a password) is never overwritten: the new secret takes a
   * free variant of it (`replica/r1/vnc-2`).
   */
  private async takeOutSecrets(id: string, content: Record<string, Json>, origins: Readonly<Record<string, string>>): Promise<string[]> {
    const notices: string[] = [];
    const taken = keyringSlotsIn(content);
    for (const found of inlineSecrets(content)) {
      const secret = { ...found, slot: freeSlot(found.slot, taken) };
      taken.add(secret.slot);
      const where = origins[secret.path] === undefined ? `the ${secret.label}` : `the password in ${origins[secret.path]}`;
      const store = this.options.secretStore;
      if (store !== undefined) {
        try {
          await store.store({ profileId: id, slot: secret.slot }, secret.value, secret.label);
          secret.holder[secret.field] = { keyring: secret.slot };
          continue;
        } catch (error) {
          delete secret.holder[secret.field];
          notices.push(`${where} was not saved: the keyring refused it (${error instanceof Error ? error.message : String(error)}); you will be asked at connect time`);
          continue;
        }
      }
      delete secret.holder[secret.field];
      notices.push(`${where} was not saved: no keyring; you will be asked at connect time`);
    }
    return notices;
  }

  /** Removes trashed profiles older than TRASH_KEEP_MS (and their keyring secrets), except `keep`. */
  private async purgeTrash(keep: string): Promise<void> {
    for (const name of await readdir(this.trashFolder)) {
      const match = /^([A-Za-z0-9][A-Za-z0-9_-]{0,63})\.json$/.exec(name);
      if (match === null || match[1] === keep) continue;
      const file = path.join(this.trashFolder, name);
      const info = await stat(file).catch(() => null);
      // A rename into the trash sets the file's change time: it says when the profile was deleted.
      if (info === null || this.now() - info.ctimeMs < TRASH_KEEP_MS) continue;
      await unlink(file).catch(() => undefined);
      await unlink(path.join(this.trashFolder, `${match[1]}.state.json`)).catch(() => undefined);
      await this.options.secretStore?.removeProfile(match[1] as string).catch(() => undefined);
    }
  }

  /**
   * Runs `body` with this profile locked: in this process by a queue (in call order), across
   * processes by a lock file. The library's folders are made (or checked) first.
   */
  private exclusively<T>(key: string, body: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(key) ?? Promise.resolve();
    const run = previous.then(async () => {
      await this.ensureFolders();
      const release = await this.lock(key);
      try {
        return await body();
      } finally {
        await release();
      }
    });
    const settled = run.catch(() => undefined);
    this.queues.set(key, settled);
    void settled.then(() => {
      if (this.queues.get(key) === settled) this.queues.delete(key);
    });
    return run;
  }

  /** Takes `<key>.lock` (O_EXCL, holding this process's id); a lock of a dead process is taken over. */
  private async lock(key: string): Promise<() => Promise<void>> {
    const lockFile = path.join(this.folder, `.${key}.lock`);
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        const handle = await open(lockFile, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
        await handle.writeFile(String(process.pid));
        await handle.close();
        return () => unlink(lockFile).catch(() => undefined);
      } catch (error) {
        if ((error as { code?: unknown }).code !== 'EEXIST') throw error;
      }
      const holder = Number((await readFile(lockFile, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(holder) && holder > 0 && !processAlive(holder)) {
        await unlink(lockFile).catch(() => undefined);
        continue;
      }
      if (Date.now() > deadline) throw new LibraryError(`the profile is locked by another RetroVisor (process ${holder}); try again, or remove ${lockFile} if no RetroVisor runs`);
      await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
    }
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await lstat(file);
    return true;
  } catch {
    return false;
  }
}
