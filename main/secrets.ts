// Resolves a profile's secret references (inline, environment variable, file, desktop keyring) to
// their values and registers every value with the log redactor, so a resolved secret can never be
// logged. Node-side.

import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describeKeyringSlot } from '../common/keyring-slot';
import type { SecretRef } from '../common/profile';
import { SecretStoreError, type SecretStore } from './keyring/secret-store';
import { SECRET_REDACTOR, type SecretRedactor } from './logger';

/** Largest secret file read (a password or passphrase file is a line; a bigger file is a mistake). */
export const MAX_SECRET_FILE_BYTES = 64 * 1024;

/** A secret that could not be resolved; the message names the variable or file, never a value. */
export class SecretError extends Error {
  override readonly name = 'SecretError';
}

const OS_REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a parent of it is not a directory',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'the path is too long',
  EMFILE: 'too many open files',
};

/** How resolveSecret reaches `{"keyring": slot}` secrets: the keyring and the id of the profile they belong to. */
export interface KeyringAccess {
  readonly store: SecretStore;
  readonly profileId: string;
}

/** The OS reason of a file error in words, with its code: "no such file (ENOENT)". */
export function describeFileError(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return `${OS_REASONS[code] ?? (error as Error).message} (${code})`;
  return error instanceof Error ? error.message : String(error);
}

/** Resolves `filePath` against `baseDir`; a leading "~/" means the user's home folder. */
export function resolveUserPath(filePath: string, baseDir: string): string {
  if (filePath === '~' || filePath.startsWith('~/')) return path.join(os.homedir(), filePath.slice(1));
  return path.resolve(baseDir, filePath);
}

/**
 * Reads a small regular file whole, refusing anything above `maxBytes` and FIFOs and devices (which
 * could block or never end). The file is opened first, without blocking, and checked through its
 * handle: what is read is what was checked, even if something else was swapped in meanwhile. A
 * symlink the user named is followed (dotfile managers and mounted secrets are made of them); what
 * it points to must be a regular file. Errors name `what`, the path and the OS reason.
 */
export async function readSmallFile(absolutePath: string, maxBytes: number, what: string): Promise<Buffer> {
  let handle: FileHandle | undefined;
  try {
    // O_NONBLOCK: opening a FIFO with no writer returns at once (fstat then refuses it) instead of waiting.
    handle = await open(absolutePath, constants.O_RDONLY | constants.O_NONBLOCK);
    const info = await handle.stat();
    if (!info.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'ENOTREGULAR' });
    if (info.size > maxBytes) {
      throw new Error(`cannot read ${what} "${absolutePath}": it is ${info.size} bytes, more than the ${maxBytes} allowed`);
    }
    // Read one byte past the limit: the file may have grown since fstat.
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > maxBytes) throw new Error(`cannot read ${what} "${absolutePath}": it is more than ${maxBytes} bytes`);
    return buffer.subarray(0, length);
  } catch (error) {
    if (error instanceof Error && error.message.startsWith('cannot read ')) throw error;
    const code = (error as { code?: unknown }).code;
    const reason =
      code === 'ENOTREGULAR' ? 'it is not a regular file' : describeFileError(error);
    throw new Error(`cannot read ${what} "${absolutePath}": ${reason}`);
  } finally {
    await handle?.close();
  }
}

/**
 * Resolves a secret reference to its value: inline as is, `{env}` from the environment, `{file}` as
 * the first line of the file (relative paths resolve against `baseDir`, the profile's folder),
 * `{keyring}` from the profile's slot in `keyring`. The value is registered with `redactor`
 * (default: the process-wide one) before it is returned.
 * Throws SecretError with a message a user can act on; the message never contains the value.
 */
export async function resolveSecret(
  ref: SecretRef,
  baseDir: string,
  redactor: SecretRedactor = SECRET_REDACTOR,
  keyring?: KeyringAccess,
): Promise<string> {
  let value: string;
  switch (ref.kind) {
    case 'inline':
      value = ref.value;
      break;
    case 'env': {
      const fromEnvironment = process.env[ref.name];
      if (fromEnvironment === undefined) {
        throw new SecretError(`environment variable ${ref.name} is not set: export it before starting RetroVisor`);
      }
      if (fromEnvironment.length === 0) throw new SecretError(`environment variable ${ref.name} is set but empty`);
      value = fromEnvironment;
      break;
    }
    case 'file': {
      const absolutePath = resolveUserPath(ref.path, baseDir);
      let content: Buffer;
      try {
        content = await readSmallFile(absolutePath, MAX_SECRET_FILE_BYTES, 'secret file');
      } catch (error) {
        throw new SecretError(error instanceof Error ? error.message : String(error));
      }
      const text = content.toString('utf8');
      // Register the whole file first: even a part that is not the secret is not for logs.
      redactor.addMultiline(text);
      const newline = text.indexOf('\n');
      value = (newline < 0 ? text : text.slice(0, newline)).replace(/\r$/, '');
      if (value.length === 0) {
        throw new SecretError(`secret file "${absolutePath}" has an empty first line: the secret is the file's first line`);
      }
      break;
    }
    case 'keyring':
      value = await lookupInKeyring(ref.slot, keyring);
      break;
  }
  redactor.add(value);
  return value;
}

/** Reads a keyring slot of the profile; nothing saved, no keyring or a locked one are SecretErrors saying what to do. */
async function lookupInKeyring(slot: string, keyring: KeyringAccess | undefined): Promise<string> {
  const what = describeKeyringSlot(slot);
  if (keyring === undefined) {
    throw new SecretError(
      `the ${what} is saved in the keyring, which only a profile of the profile library can read: open the profile from the library, or give the secret as {"env": "NAME"} or {"file": "/path"}`,
    );
  }
  let value: string | null;
  try {
    value = await keyring.store.lookup({ profileId: keyring.profileId, slot });
  } catch (error) {
    const message = error instanceof SecretStoreError ? error.message : 'the keyring failed';
    throw new SecretError(`cannot read the ${what} from the keyring: ${message}`);
  }
  if (value === null || value.length === 0) throw new SecretError(`no saved ${what} in the keyring: enter it, or save the profile again`);
  return value;
}
