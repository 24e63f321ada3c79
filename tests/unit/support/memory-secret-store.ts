// An in-memory SecretStore for tests of code that uses a keyring (not of the keyring itself): it
// records calls and can be told to be unavailable or to fail.

import { SecretStoreError, type SecretKey, type SecretStore, type SecretStoreErrorCode, type SecretStoreStatus } from '../../../main/keyring/secret-store';

/** A SecretStore holding secrets in a map; `failWith` makes every call throw that error code. */
export class MemorySecretStore implements SecretStore {
  readonly secrets = new Map<string, string>();
  readonly calls: string[] = [];
  failWith: SecretStoreErrorCode | null = null;

  private static id(key: SecretKey): string {
    return `${key.profileId}\u0000${key.slot}`;
  }

  private check(call: string): void {
    this.calls.push(call);
    if (this.failWith !== null) throw new SecretStoreError(this.failWith, `the test keyring fails with ${this.failWith}`);
  }

  status(): Promise<SecretStoreStatus> {
    return Promise.resolve(
      this.failWith === null ? { available: true, backend: 'secret-service' } : { available: false, reason: `failing with ${this.failWith}`, hint: 'a test' },
    );
  }

  store(key: SecretKey, secret: string): Promise<void> {
    this.check(`store ${key.profileId} ${key.slot}`);
    this.secrets.set(MemorySecretStore.id(key), secret);
    return Promise.resolve();
  }

  lookup(key: SecretKey): Promise<string | null> {
    this.check(`lookup ${key.profileId} ${key.slot}`);
    return Promise.resolve(this.secrets.get(MemorySecretStore.id(key)) ?? null);
  }

  remove(key: SecretKey): Promise<void> {
    this.check(`remove ${key.profileId} ${key.slot}`);
    this.secrets.delete(MemorySecretStore.id(key));
    return Promise.resolve();
  }

  removeProfile(profileId: string): Promise<void> {
    this.check(`removeProfile ${profileId}`);
    for (const id of [...this.secrets.keys()]) if (id.startsWith(`${profileId}\u0000`)) this.secrets.delete(id);
    return Promise.resolve();
  }
}
