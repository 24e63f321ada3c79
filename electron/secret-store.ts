// The Electron shell's keyring: main/'s safeStorage store given Electron's safeStorage (passed in by
// electron/main.ts, so a test can pass a stand-in), its ciphertext files under `<data>/secrets`.
// Runs in Electron's main process, after the app is ready (safeStorage picks its back end then).

import path from 'node:path';
import { SafeStorageSecretStore, type SafeStorageLike } from '../main/keyring/electron-safe-storage';
import type { SecretStore } from '../main/keyring/secret-store';
import type { Logger } from '../main/logger';

/** The secret store of the Electron shell; `dataDirectory` is RetroVisor's data folder (dataRoot()). */
export function createElectronSecretStore(safeStorage: SafeStorageLike, dataDirectory: string, logger: Logger): SecretStore {
  return new SafeStorageSecretStore({ safeStorage, directory: path.join(dataDirectory, 'secrets'), logger: logger.child({ component: 'keyring' }) });
}
