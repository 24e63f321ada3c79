// Private files in the data folder: folders made 0700 (or checked to be this user's own real
// folders), new files created exclusively 0600, and atomic replacement of a file (temp file in the
// same folder, fsync, rename, fsync of the folder). Node-side; shared by evidence and the profile library.

import { constants } from 'node:fs';
import { chmod, lstat, mkdir, open, rename, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';

export const PRIVATE_FOLDER_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;
/** Random bytes in a temporary file's name: no two writers (processes) pick the same. */
const TEMP_NAME_RANDOM_BYTES = 8;
/** The prefix of every temporary file: listings skip names that start with it. */
export const TEMP_FILE_PREFIX = '.tmp-';

/** The current user's id, or null where there is none (Windows): folders are then not checked for an owner. */
function currentUserId(): number | null {
  return typeof process.getuid === 'function' ? process.getuid() : null;
}

/**
 * Makes `folder` (a direct child of a folder already checked) a private folder of this user: created
 * 0700, or, when it exists, a real folder (not a symlink) owned by this user, made 0700. Throws otherwise.
 */
export async function privateFolder(folder: string): Promise<void> {
  try {
    await mkdir(folder, { mode: PRIVATE_FOLDER_MODE });
    return;
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'EEXIST') throw error;
  }
  const info = await lstat(folder);
  if (info.isSymbolicLink()) throw new Error(`${folder} is a symbolic link: RetroVisor never writes through one`);
  if (!info.isDirectory()) throw new Error(`${folder} is not a folder`);
  const uid = currentUserId();
  if (uid !== null && info.uid !== uid) throw new Error(`${folder} belongs to another user (uid ${info.uid})`);
  if ((info.mode & 0o077) !== 0) await chmod(folder, PRIVATE_FOLDER_MODE);
}

/** Writes `data` to a new file (never an existing one, never through a symlink), mode 0600. */
export async function writeNewFile(file: string, data: string | Buffer): Promise<void> {
  const handle = await open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, PRIVATE_FILE_MODE);
  try {
    await handle.writeFile(data);
  } finally {
    await handle.close();
  }
}

/** Test hooks of writeFileAtomic: a failure injected here is a crash between write and rename. */
export interface AtomicWriteHooks {
  /** Runs once the temporary file is written and synced, before it replaces the target. */
  readonly beforeRename?: (tempFile: string) => Promise<void> | void;
}

/** Flushes a folder's entries (a rename is durable only once its folder is synced); not every system can. */
async function syncFolder(folder: string): Promise<void> {
  let handle;
  try {
    handle = await open(folder, constants.O_RDONLY);
    await handle.sync();
  } catch (error) {
    // Some file systems refuse fsync on a folder (EINVAL, EISDIR): the rename itself stands.
    const code = (error as { code?: unknown }).code;
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EPERM') throw error;
  } finally {
    await handle?.close();
  }
}

/**
 * Replaces `file` with `data` atomically: a reader (or a crash at any moment) sees either the old
 * content or the new, never a mix. The data goes to a new temporary file in the same folder (O_EXCL,
 * random name, 0600, never through a symlink), is synced, renamed over `file`, and the folder synced.
 * On a failure before the rename the temporary file is removed and `file` is untouched.
 */
export async function writeFileAtomic(file: string, data: string | Buffer, hooks: AtomicWriteHooks = {}): Promise<void> {
  const folder = path.dirname(file);
  const tempFile = path.join(folder, `${TEMP_FILE_PREFIX}${randomBytes(TEMP_NAME_RANDOM_BYTES).toString('hex')}-${path.basename(file)}`);
  const handle = await open(tempFile, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, PRIVATE_FILE_MODE);
  try {
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await hooks.beforeRename?.(tempFile);
    await rename(tempFile, file);
  } catch (error) {
    await unlink(tempFile).catch(() => undefined);
    throw error;
  }
  await syncFolder(folder);
}
