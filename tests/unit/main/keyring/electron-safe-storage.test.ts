// The Electron shell's store with Electron's safeStorage replaced by a fake: ciphertext only, in a
// 0600 file in a 0700 folder, written whole; refused (nothing written) when safeStorage has no real
// keyring behind it ('basic_text') or cannot encrypt; failures name no secret.

import assert from 'node:assert/strict';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SafeStorageSecretStore, type SafeStorageLike } from '../../../../main/keyring/electron-safe-storage';
import { SecretStoreError, type SecretKey } from '../../../../main/keyring/secret-store';
import { createLogger, SecretRedactor } from '../../../../main/logger';

/** A stand-in for Electron's safeStorage: real AES, a key of its own, a back end the test chooses. */
class FakeSafeStorage implements SafeStorageLike {
  backend: string | undefined = 'gnome_libsecret';
  available = true;
  failDecrypt = false;
  private readonly key = randomBytes(32);

  isEncryptionAvailable(): boolean {
    return this.available;
  }

  encryptString(plainText: string): Buffer {
    const iv = randomBytes(16);
    const cipher = createCipheriv('aes-256-cbc', this.key, iv);
    return Buffer.concat([Buffer.from('v11'), iv, cipher.update(plainText, 'utf8'), cipher.final()]);
  }

  decryptString(encrypted: Buffer): string {
    if (this.failDecrypt) throw new Error('Error while decrypting the ciphertext provided to safeStorage.decryptString.');
    const decipher = createDecipheriv('aes-256-cbc', this.key, encrypted.subarray(3, 19));
    return Buffer.concat([decipher.update(encrypted.subarray(19)), decipher.final()]).toString('utf8');
  }

  getSelectedStorageBackend(): string {
    return this.backend ?? 'unknown';
  }
}

let folder = '';
let counter = 0;

/** A fresh store in a folder of its own, with its log lines captured. */
function newStore(safeStorage = new FakeSafeStorage()): { store: SafeStorageSecretStore; directory: string; lines: string[]; safeStorage: FakeSafeStorage } {
  counter += 1;
  const directory = path.join(folder, `data-${counter}`, 'secrets');
  const lines: string[] = [];
  const redactor = new SecretRedactor();
  const logger = createLogger({ sink: (line) => lines.push(line), redactor, level: 'debug' });
  return { store: new SafeStorageSecretStore({ safeStorage, directory, redactor, logger }), directory, lines, safeStorage };
}

const VNC: SecretKey = { profileId: 'lab', slot: 'replica/r1/vnc' };
const PASSPHRASE: SecretKey = { profileId: 'lab', slot: 'l0/a/passphrase' };

before(async () => {
  folder = await mkdtemp(path.join(os.tmpdir(), 'retrovisor-safe-storage-'));
});

after(async () => {
  await rm(folder, { recursive: true, force: true });
});

describe('SafeStorageSecretStore', { timeout: 20_000 }, () => {
  it('stores, finds, replaces and removes secrets, as ciphertext in a private file', async () => {
    const { store, directory, lines } = newStore();
    assert.deepEqual(await store.status(), { available: true, backend: 'electron-safe-storage' });
    await store.store(VNC, 'vnc-secret-value', 'label');
    await store.store(PASSPHRASE, 'passphrase-secret-value', 'label');
    await store.store({ profileId: 'other', slot: 'replica/r1/vnc' }, 'other-secret-value', 'label');
    assert.equal(await store.lookup(VNC), 'vnc-secret-value');
    assert.equal(await store.lookup({ profileId: 'lab', slot: 'replica/r2/vnc' }), null);
    assert.equal(await store.lookup({ profileId: 'nobody', slot: 'replica/r1/vnc' }), null);
    await store.store(VNC, 'vnc-secret-value-2', 'label');
    assert.equal(await store.lookup(VNC), 'vnc-secret-value-2');

    assert.equal((await stat(directory)).mode & 0o777, 0o700);
    const file = path.join(directory, 'lab.json');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.deepEqual((await readdir(directory)).sort(), ['lab.json', 'other.json'], 'no temporary file is left');
    for (const name of await readdir(directory)) {
      const text = await readFile(path.join(directory, name), 'utf8');
      assert.ok(!/vnc-secret-value|passphrase-secret-value|other-secret-value/.test(text), text);
    }
    assert.deepEqual(Object.keys((JSON.parse(await readFile(file, 'utf8')) as { slots: object }).slots).sort(), ['l0/a/passphrase', 'replica/r1/vnc']);

    await store.remove(VNC);
    assert.equal(await store.lookup(VNC), null);
    assert.equal(await store.lookup(PASSPHRASE), 'passphrase-secret-value');
    await store.remove(PASSPHRASE);
    assert.deepEqual(await readdir(directory), ['other.json'], 'the file goes with its last secret');
    await store.store(VNC, 'again', 'label');
    await store.removeProfile('lab');
    assert.equal(await store.lookup(VNC), null);
    assert.equal(await store.lookup({ profileId: 'other', slot: 'replica/r1/vnc' }), 'other-secret-value');
    for (const line of lines) assert.ok(!/secret-value/.test(line), line);
  });

  it('keeps every one of many stores made at once', async () => {
    const { store } = newStore();
    const keys = Array.from({ length: 12 }, (_, index): SecretKey => ({ profileId: 'lab', slot: `replica/r${index}/vnc` }));
    await Promise.all(keys.map((key, index) => store.store(key, `secret-${index}`, 'label')));
    assert.deepEqual(await Promise.all(keys.map((key) => store.lookup(key))), keys.map((_, index) => `secret-${index}`));
  });

  it("refuses to store when safeStorage would use its built-in key ('basic_text'), writing nothing", async () => {
    const safeStorage = new FakeSafeStorage();
    safeStorage.backend = 'basic_text';
    const { store, directory } = newStore(safeStorage);
    const status = await store.status();
    assert.equal(status.available, false);
    assert.match(status.available ? '' : status.reason, /no desktop keyring was found: Electron would encrypt with a key anyone can read/);
    assert.match(status.available ? '' : status.hint, /sudo apt-get install gnome-keyring/);
    await assert.rejects(store.store(VNC, 'secret-value', 'label'), (error: unknown) => {
      assert.ok(error instanceof SecretStoreError);
      assert.equal(error.code, 'unavailable');
      assert.match(error.message, /^nothing was saved: no desktop keyring was found/);
      assert.ok(!error.message.includes('secret-value'));
      return true;
    });
    await assert.rejects(stat(directory), /ENOENT/, 'nothing was written');
  });

  it('refuses to store when encryption is not available, or before the back end is chosen', async () => {
    const safeStorage = new FakeSafeStorage();
    safeStorage.available = false;
    const { store } = newStore(safeStorage);
    const status = await store.status();
    assert.match(status.available ? '' : status.reason, /cannot encrypt secrets \(it is missing or locked\)/);
    await assert.rejects(store.store(VNC, 'secret-value', 'label'), (error: unknown) => error instanceof SecretStoreError && error.code === 'unavailable');
    safeStorage.available = true;
    safeStorage.backend = 'unknown';
    await assert.rejects(store.lookup(VNC), (error: unknown) => error instanceof SecretStoreError && error.code === 'unavailable' && /not ready yet/.test(error.message));
    // macOS and Windows have no getSelectedStorageBackend: encryption available is enough there.
    const plain = new FakeSafeStorage();
    const noBackend: SafeStorageLike = {
      isEncryptionAvailable: () => plain.isEncryptionAvailable(),
      encryptString: (text) => plain.encryptString(text),
      decryptString: (bytes) => plain.decryptString(bytes),
    };
    const other = new SafeStorageSecretStore({ safeStorage: noBackend, directory: path.join(folder, 'no-backend'), redactor: new SecretRedactor() });
    assert.deepEqual(await other.status(), { available: true, backend: 'electron-safe-storage' });
  });

  it('says what to do when a secret cannot be decrypted or the file is damaged, naming no secret', async () => {
    const { store, directory, safeStorage } = newStore();
    await store.store(VNC, 'secret-value', 'label');
    safeStorage.failDecrypt = true;
    await assert.rejects(store.lookup(VNC), (error: unknown) => error instanceof SecretStoreError && error.code === 'failed' && /could not decrypt it .*enter the secret and save the profile again/.test(error.message));
    safeStorage.failDecrypt = false;
    await writeFile(path.join(directory, 'lab.json'), '{"version": 1, "slots": ');
    await assert.rejects(store.lookup(VNC), /secrets file ".*lab\.json" is damaged \(not JSON\): delete it/);
  });

  it('refuses a secrets folder that is a symlink, and tightens a loose folder mode', async () => {
    const { store, directory } = newStore();
    const elsewhere = path.join(folder, 'elsewhere');
    await mkdir(elsewhere);
    await mkdir(path.dirname(directory), { recursive: true });
    await symlink(elsewhere, directory);
    await assert.rejects(store.store(VNC, 'secret-value', 'label'), /is not a folder/);
    assert.deepEqual(await readdir(elsewhere), []);
    await rm(directory);
    await mkdir(directory, { mode: 0o755 });
    await chmod(directory, 0o755);
    await store.store(VNC, 'secret-value', 'label');
    assert.equal((await stat(directory)).mode & 0o777, 0o700);
  });

  it('refuses bad keys and secrets before touching anything', async () => {
    const { store, directory } = newStore();
    const refused = (error: unknown): boolean => error instanceof SecretStoreError && error.code === 'failed';
    await assert.rejects(store.store({ profileId: '../x', slot: 'replica/r1/vnc' }, 'pw', 'x'), refused);
    await assert.rejects(store.store({ profileId: 'p', slot: 'a/../../b' }, 'pw', 'x'), refused);
    await assert.rejects(store.store(VNC, '', 'x'), refused);
    await assert.rejects(store.removeProfile('.hidden'), refused);
    await assert.rejects(stat(directory), /ENOENT/);
  });
});
