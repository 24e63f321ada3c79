// Keyring slots: the names under which a profile's secrets are saved in the desktop keyring
// ("replica/r1/vnc", "l0/a/passphrase", "l0/a/password"), their pattern and their wording. Pure.

/** A profile id, as it becomes a keyring attribute and a file name: plain characters, no leading dash. */
export const KEYRING_PROFILE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/**
 * A slot: 1 to 4 segments separated by "/", each a plain identifier (letters, digits, "_", "." or
 * "-", not starting with "_", "." or "-"). Slots reach secret-tool's argv and file contents as they
 * are: nothing here can look like an option, a path step ("..") or a shell word.
 */
export const KEYRING_SLOT_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}(?:\/[A-Za-z0-9][A-Za-z0-9_.-]{0,63}){0,3}$/;

/** Longest slot accepted (4 segments of 64 characters and their separators fit). */
export const MAX_KEYRING_SLOT_CHARS = 259;

/** True when `slot` is a valid keyring slot. */
export function isKeyringSlot(slot: string): boolean {
  return slot.length <= MAX_KEYRING_SLOT_CHARS && KEYRING_SLOT_PATTERN.test(slot);
}

/** True when `profileId` can be used as a keyring attribute and a file name. */
export function isKeyringProfileId(profileId: string): boolean {
  return KEYRING_PROFILE_ID_PATTERN.test(profileId);
}

/** The slot of a replica's VNC password. */
export function replicaVncSlot(replicaId: string): string {
  return `replica/${replicaId}/vnc`;
}

/** The slot of an L0's SSH key passphrase. */
export function l0PassphraseSlot(l0Name: string): string {
  return `l0/${l0Name}/passphrase`;
}

/** The slot of an L0's SSH password. */
export function l0PasswordSlot(l0Name: string): string {
  return `l0/${l0Name}/password`;
}

/**
 * What a slot holds, in words for a message: "password for r1", "SSH key passphrase for the L0 a".
 * An unknown layout is named by the slot itself.
 */
export function describeKeyringSlot(slot: string): string {
  const parts = slot.split('/');
  if (parts.length === 3 && parts[0] === 'replica' && parts[2] === 'vnc') return `password for ${parts[1]}`;
  if (parts.length === 3 && parts[0] === 'l0' && parts[2] === 'passphrase') return `SSH key passphrase for the L0 ${parts[1]}`;
  if (parts.length === 3 && parts[0] === 'l0' && parts[2] === 'password') return `SSH password for the L0 ${parts[1]}`;
  return `secret "${slot}"`;
}
