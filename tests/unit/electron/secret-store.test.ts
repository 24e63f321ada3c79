// The Electron shell's keyring adapter with Electron's safeStorage replaced by a stand-in: secrets
// land, encrypted, in `<data>/secrets/<profile>.json`, and a safeStorage without a keyring refuses.

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createElectronSecretStore } from '../../../electron/secret-store';
import type { SafeStorageLike } from '../../../main/keyring/electron-safe-storage';
import { createLogger } from '../../../main/logger';

let folder = '';

/** A safeStorage stand-in that "encrypts" by reversing and base64-encoding (enough to tell ciphertext from text). */
function fakeSafeStorage(backend: string): SafeStorageLike {
  return {
    isEncryptionAvailable: () => true,
    encryptString: (text) => Buffer.from(Buffer.from(text, 'utf8').reverse().toString('base64')),
    decryptString: (bytes) => Buffer.from(bytes.toString(), 'base64').reverse().toString('utf8'),
    getSelectedStorageBackend: () => backend,
  };
}

before(async () => {
  folder = await mkdtemp(path.join(os.tmpdir(), 'retrovisor-electron-secrets-'));
});

after(async () => {
  await rm(folder, { recursive: true, force: true });
});

describe('the Electron shell secret store', { timeout: 10_000 }, () => {
  const logger = createLogger({ sink: () => undefined });

  it('keeps ciphertext in <data>/secrets/<profile>.json', async () => {
    const store = createElectronSecretStore(fakeSafeStorage('gnome_libsecret'), folder, logger);
    assert.deepEqual(await store.status(), { available: true, backend: 'electron-safe-storage' });
    await store.store({ profileId: 'lab', slot: 'replica/r1/vnc' }, 'electron-secret', 'label');
    const text = await readFile(path.join(folder, 'secrets', 'lab.json'), 'utf8');
    assert.ok(text.includes('replica/r1/vnc') && !text.includes('electron-secret'), text);
    assert.equal(await store.lookup({ profileId: 'lab', slot: 'replica/r1/vnc' }), 'electron-secret');
  });

  it('is unavailable when safeStorage has no keyring behind it', async () => {
    const store = createElectronSecretStore(fakeSafeStorage('basic_text'), folder, logger);
    const status = await store.status();
    assert.equal(status.available, false);
  });
});
