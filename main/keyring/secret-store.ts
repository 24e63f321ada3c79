// The interface every keyring back end implements (libsecret's secret-tool, Electron's safeStorage),
// its error type and the checks of its keys. Node-side; the back ends live next to it.

import { isKeyringProfileId, isKeyringSlot } from '../../common/keyring-slot';

/** Where one secret is saved: the profile it belongs to and its slot ("replica/r1/vnc", "l0/a/passphrase"). */
export interface SecretKey {
  readonly profileId: string;
  readonly slot: string;
}

/** Whether secrets can be saved here, and if not, why and what the user can do about it. */
export type SecretStoreStatus =
  | { readonly available: true; readonly backend: 'secret-service' | 'electron-safe-storage' }
  | { readonly available: false; readonly reason: string; readonly hint: string };

/** A place secrets are saved in, never in clear: the desktop's Secret Service, directly or through Electron. */
export interface SecretStore {
  /** Whether secrets can be saved now (the keyring may be missing, unreachable or locked). */
  status(): Promise<SecretStoreStatus>;
  /** Saves `secret` under `key`, replacing any previous one. Throws SecretStoreError (never naming the secret). */
  store(key: SecretKey, secret: string, label: string): Promise<void>;
  /** The secret saved under `key`, or null when there is none. Throws SecretStoreError when the keyring cannot answer. */
  lookup(key: SecretKey): Promise<string | null>;
  /** Forgets the secret under `key` (nothing saved is not an error). */
  remove(key: SecretKey): Promise<void>;
  /** Forgets every secret of a profile (the profile is deleted). */
  removeProfile(profileId: string): Promise<void>;
}

/** Why a keyring operation failed: no keyring, a locked one, no answer in time, anything else. */
export type SecretStoreErrorCode = 'unavailable' | 'locked' | 'timeout' | 'failed';

/** A keyring operation that failed; the message is for the user and never contains a secret. */
export class SecretStoreError extends Error {
  override readonly name = 'SecretStoreError';

  constructor(
    readonly code: SecretStoreErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Longest secret saved: a password or passphrase is a line; anything longer is a mistake. */
export const MAX_STORED_SECRET_CHARS = 8192;
/** Longest label given to the keyring (shown in the desktop's "Passwords and Keys"). */
export const MAX_LABEL_CHARS = 200;

/** Throws SecretStoreError('failed') unless `key` has a valid profile id and slot. */
export function checkSecretKey(key: SecretKey): void {
  checkProfileId(key.profileId);
  if (typeof key.slot !== 'string' || !isKeyringSlot(key.slot)) {
    throw new SecretStoreError('failed', 'invalid keyring slot: expected names of letters, digits, "_", "." or "-" separated by "/", such as "replica/r1/vnc"');
  }
}

/** Throws SecretStoreError('failed') unless `profileId` is a plain identifier. */
export function checkProfileId(profileId: string): void {
  if (typeof profileId !== 'string' || !isKeyringProfileId(profileId)) {
    throw new SecretStoreError('failed', 'invalid profile id for the keyring: expected letters, digits, "_", "." or "-", at most 64');
  }
}

/**
 * Throws SecretStoreError('failed') for a secret that cannot be saved faithfully: empty, too long, or
 * holding a NUL (libsecret hands secrets around as C strings). The message never quotes it.
 */
export function checkSecretValue(secret: string): void {
  if (typeof secret !== 'string' || secret.length === 0) throw new SecretStoreError('failed', 'nothing to save: the secret is empty');
  if (secret.length > MAX_STORED_SECRET_CHARS) {
    throw new SecretStoreError('failed', `the secret is longer than ${MAX_STORED_SECRET_CHARS} characters: not a password`);
  }
  if (secret.includes('\0')) throw new SecretStoreError('failed', 'the secret holds a NUL character, which the keyring cannot keep');
}

/**
 * A label fit for the keyring (and secret-tool's argv): control characters replaced by spaces,
 * clipped, never empty, and never holding `secret` (a caller's slip must not put it in argv).
 */
export function cleanLabel(label: string, secret: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is replaced
  const cleaned = label.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ').trim().slice(0, MAX_LABEL_CHARS);
  return cleaned.length > 0 && !cleaned.includes(secret) ? cleaned : 'RetroVisor secret';
}

/** The message a user reads when no secret can be saved: the reason, then what to do. */
export function unavailableMessage(status: { readonly reason: string; readonly hint: string }): string {
  return `nothing was saved: ${status.reason}. ${status.hint}`;
}
