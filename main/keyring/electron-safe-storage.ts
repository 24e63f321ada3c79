// Secrets encrypted by Electron's safeStorage (whose key lives in the desktop's Secret Service on
// Linux), kept as ciphertext in `<data>/secrets/<profile>.json` (0600 in a 0700 folder). Node-side:
// the Electron shell passes its real safeStorage in (electron/secret-store.ts); tests pass a fake.

import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, lstat, mkdir, open, readdir, rename, rm, unlink } from 'node:fs/promises';
import path from 'node:path';
import { isObject } from '../../common/json-fields';
import { isKeyringSlot } from '../../common/keyring-slot';
import { readSmallFile } from '../secrets';
import { SECRET_REDACTOR, type Logger, type SecretRedactor } from '../logger';
import {
  checkProfileId,
  checkSecretKey,
  checkSecretValue,
  SecretStoreError,
  unavailableMessage,
  type SecretKey,
  type SecretStore,
  type SecretStoreStatus,
} from './secret-store';

/** What RetroVisor uses of Electron's safeStorage (the same names, so the real module fits as is). */
export interface SafeStorageLike {
  isEncryptionAvailable(): boolean;
  encryptString(plainText: string): Buffer;
  decryptString(encrypted: Buffer): string;
  /** Linux only: 'basic_text', 'gnome_libsecret', 'kwallet', 'kwallet5', 'kwallet6' or 'unknown'. */
  getSelectedStorageBackend?(): string;
}

/** Options of SafeStorageSecretStore. */
export interface SafeStorageSecretStoreOptions {
  readonly safeStorage: SafeStorageLike;
  /** The folder of the ciphertext files: `<data>/secrets`. */
  readonly directory: string;
  /** Secrets saved or read are registered here so no log line can show them. Default: SECRET_REDACTOR. */
  readonly redactor?: SecretRedactor;
  readonly logger?: Logger;
}

/** One profile's file: each slot's ciphertext, base64. */
interface SecretsFile {
  readonly version: 1;
  readonly slots: Record<string, string>;
}

const MAX_SECRETS_FILE_BYTES = 1024 * 1024;

/**
 * safeStorage's back ends that are not a keyring: 'basic_text' encrypts with a key written in
 * Chromium's source, which for our purposes is in clear. 'unknown' means not decided yet (before
 * the app is ready).
 */
const NOT_A_KEYRING = new Set(['basic_text', 'unknown']);

/** Secrets through Electron's safeStorage, ciphertext in the data folder. */
export class SafeStorageSecretStore implements SecretStore {
  private readonly safeStorage: SafeStorageLike;
  private readonly directory: string;
  private readonly redactor: SecretRedactor;
  private readonly logger: Logger | undefined;
  /** Writes of one profile's file, in order: two stores at once must not lose one of them. */
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(options: SafeStorageSecretStoreOptions) {
    this.safeStorage = options.safeStorage;
    this.directory = options.directory;
    this.redactor = options.redactor ?? SECRET_REDACTOR;
    this.logger = options.logger;
  }

  /** Available only when safeStorage encrypts with a key kept in a real keyring. */
  status(): Promise<SecretStoreStatus> {
    return Promise.resolve(this.currentStatus());
  }

  /** Encrypts and saves one secret in the profile's file (written to a temporary file, then renamed). */
  async store(key: SecretKey, secret: string, _label: string): Promise<void> {
    checkSecretKey(key);
    checkSecretValue(secret);
    this.redactor.add(secret);
    this.requireAvailable();
    let ciphertext: Buffer;
    try {
      ciphertext = this.safeStorage.encryptString(secret);
    } catch {
      throw new SecretStoreError('failed', 'cannot save the secret: the keyring refused to encrypt it (it may be locked): unlock it, then try again');
    }
    await this.update(key.profileId, (slots) => {
      slots[key.slot] = ciphertext.toString('base64');
    });
    this.logger?.info('secret saved (encrypted by the keyring)', { profileId: key.profileId, slot: key.slot });
  }

  /** The decrypted secret, or null when none is saved. */
  async lookup(key: SecretKey): Promise<string | null> {
    checkSecretKey(key);
    this.requireAvailable();
    const slots = await this.read(key.profileId);
    const encoded = slots[key.slot];
    if (encoded === undefined) return null;
    let secret: string;
    try {
      secret = this.safeStorage.decryptString(Buffer.from(encoded, 'base64'));
    } catch {
      throw new SecretStoreError(
        'failed',
        'cannot read the secret: the keyring could not decrypt it (it may be locked, or the keyring was reset since it was saved): unlock it, or enter the secret and save the profile again',
      );
    }
    this.redactor.add(secret);
    return secret.length === 0 ? null : secret;
  }

  /** Forgets one secret; the file goes when its last slot does. Works without a keyring: nothing is decrypted. */
  async remove(key: SecretKey): Promise<void> {
    checkSecretKey(key);
    await this.update(key.profileId, (slots) => {
      delete slots[key.slot];
    });
  }

  /** Deletes the profile's file. */
  async removeProfile(profileId: string): Promise<void> {
    checkProfileId(profileId);
    await this.serialized(profileId, async () => {
      await rm(this.filePath(profileId), { force: true });
    });
  }

  private currentStatus(): SecretStoreStatus {
    let encrypts: boolean;
    try {
      encrypts = this.safeStorage.isEncryptionAvailable();
    } catch {
      encrypts = false;
    }
    const backend = this.safeStorage.getSelectedStorageBackend?.();
    if (backend !== undefined && NOT_A_KEYRING.has(backend)) {
      return {
        available: false,
        reason:
          backend === 'basic_text'
            ? 'no desktop keyring was found: Electron would encrypt with a key anyone can read'
            : 'the keyring is not ready yet',
        hint: 'Run RetroVisor in a desktop session with a keyring (GNOME Keyring, KWallet); on Debian: sudo apt-get install gnome-keyring.',
      };
    }
    if (!encrypts) {
      return {
        available: false,
        reason: 'the desktop keyring cannot encrypt secrets (it is missing or locked)',
        hint: 'Unlock your keyring, or install one (on Debian: sudo apt-get install gnome-keyring), then restart RetroVisor.',
      };
    }
    return { available: true, backend: 'electron-safe-storage' };
  }

  private requireAvailable(): void {
    const status = this.currentStatus();
    if (!status.available) throw new SecretStoreError('unavailable', unavailableMessage(status));
  }

  private filePath(profileId: string): string {
    return path.join(this.directory, `${profileId}.json`);
  }

  /** Runs `body` after every earlier write of the same profile. */
  private serialized<T>(profileId: string, body: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(profileId) ?? Promise.resolve();
    const next = previous.then(body, body);
    const settled = next.catch(() => undefined);
    this.queues.set(profileId, settled);
    void settled.then(() => {
      if (this.queues.get(profileId) === settled) this.queues.delete(profileId);
    });
    return next;
  }

  private update(profileId: string, change: (slots: Record<string, string>) => void): Promise<void> {
    return this.serialized(profileId, async () => {
      const slots = await this.read(profileId);
      change(slots);
      if (Object.keys(slots).length === 0) await rm(this.filePath(profileId), { force: true });
      else await this.write(profileId, { version: 1, slots });
    });
  }

  /** The profile's slots ({} when it has no file); a damaged file is an error, not an empty one. */
  private async read(profileId: string): Promise<Record<string, string>> {
    const file = this.filePath(profileId);
    let text: string;
    try {
      text = (await readSmallFile(file, MAX_SECRETS_FILE_BYTES, 'secrets file')).toString('utf8');
    } catch (error) {
      if (/no such file/.test((error as Error).message)) return {};
      throw new SecretStoreError('failed', (error as Error).message);
    }
    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch {
      throw new SecretStoreError('failed', `the secrets file "${file}" is damaged (not JSON): delete it and save the profile's secrets again`);
    }
    if (!isObject(document) || document.version !== 1 || !isObject(document.slots)) {
      throw new SecretStoreError('failed', `the secrets file "${file}" is damaged (not a RetroVisor secrets file): delete it and save the profile's secrets again`);
    }
    const slots: Record<string, string> = {};
    for (const [slot, value] of Object.entries(document.slots)) {
      if (isKeyringSlot(slot) && typeof value === 'string') slots[slot] = value;
    }
    return slots;
  }

  /** Writes the file atomically: a fresh 0600 file (exclusive, no symlink followed), then renamed over the old one. */
  private async write(profileId: string, content: SecretsFile): Promise<void> {
    await this.prepareDirectory(profileId);
    const target = this.filePath(profileId);
    const temporary = path.join(this.directory, `.${profileId}.${randomBytes(6).toString('hex')}.tmp`);
    const handle = await open(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    try {
      await handle.writeFile(`${JSON.stringify(content, null, 2)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await rename(temporary, target);
    } catch (error) {
      await unlink(temporary).catch(() => undefined);
      throw error;
    }
  }

  /**
   * Creates the folder 0700, refusing one that is a symlink; tightens an existing one's mode. Removes
   * this profile's leftovers of a write cut short (a crash between create and rename): writes of one
   * profile are serialized, so none of them is in progress.
   */
  private async prepareDirectory(profileId: string): Promise<void> {
    await mkdir(this.directory, { recursive: true, mode: 0o700 });
    const info = await lstat(this.directory);
    if (!info.isDirectory()) throw new SecretStoreError('failed', `"${this.directory}" is not a folder: move it away so secrets can be saved`);
    if ((info.mode & 0o077) !== 0) await chmod(this.directory, 0o700);
    for (const name of await readdir(this.directory)) {
      if (name.startsWith(`.${profileId}.`) && /^\.[0-9a-f]{12}\.tmp$/.test(name.slice(profileId.length + 1))) {
        await unlink(path.join(this.directory, name)).catch(() => undefined);
      }
    }
  }
}
