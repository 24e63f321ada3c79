// VNC Authentication (RFC 6143 §7.2.2): DES-encrypt a 16-byte challenge with the password as key,
// each key byte bit-reversed as every VNC implementation does. Runs in Node.

import { createCipheriv, randomBytes, timingSafeEqual } from 'node:crypto';

/** Length of the challenge and of the response, in bytes. */
export const VNC_CHALLENGE_BYTES = 16;
/** Only the first 8 characters of a VNC password count. */
export const VNC_PASSWORD_MAX_CHARS = 8;

function reverseBits(byte: number): number {
  let reversed = 0;
  for (let bit = 0; bit < 8; bit++) {
    if ((byte & (1 << bit)) !== 0) reversed |= 0x80 >> bit;
  }
  return reversed;
}

/** The 8-byte DES key VNC derives from a password: Latin-1 bytes, zero-padded, bits reversed. */
export function vncAuthKey(password: string): Buffer {
  const key = Buffer.alloc(8);
  for (let index = 0; index < Math.min(password.length, VNC_PASSWORD_MAX_CHARS); index++) {
    key[index] = reverseBits(password.charCodeAt(index) & 0xff);
  }
  return key;
}

/** The 16-byte response to `challenge` for `password`. */
export function vncAuthResponse(password: string, challenge: Uint8Array): Buffer {
  if (challenge.length !== VNC_CHALLENGE_BYTES) {
    throw new RangeError(`a VNC challenge is ${VNC_CHALLENGE_BYTES} bytes, got ${challenge.length}`);
  }
  const key = vncAuthKey(password);
  // OpenSSL 3 dropped single DES ('des-ecb'); two-key triple DES with K1 = K2 is the same cipher.
  const cipher = createCipheriv('des-ede-ecb', Buffer.concat([key, key]), null);
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(challenge), cipher.final()]);
}

/** A fresh random challenge. */
export function newVncChallenge(): Buffer {
  return randomBytes(VNC_CHALLENGE_BYTES);
}

/** True when `response` answers `challenge` for `password` (constant-time comparison). */
export function checkVncAuthResponse(password: string, challenge: Uint8Array, response: Uint8Array): boolean {
  if (response.length !== VNC_CHALLENGE_BYTES) return false;
  return timingSafeEqual(vncAuthResponse(password, challenge), response);
}
