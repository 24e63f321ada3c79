// Tests of VNC Authentication's DES response: a standard DES test vector, agreement with noVNC
// 1.7's own DES, and the password rules every VNC server follows. Runs in Node.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkVncAuthResponse, newVncChallenge, vncAuthKey, vncAuthResponse } from '../../../main/demo/vnc-auth';
import { importNoVncCore } from './rfb-test-client';

interface NoVncDes {
  importKey(key: number[]): { encrypt(algorithm: object, plaintext: number[]): Uint8Array };
}

async function loadNoVncDes(): Promise<NoVncDes> {
  return ((await importNoVncCore('crypto/des.js')) as { DESECBCipher: NoVncDes }).DESECBCipher;
}

describe('VNC authentication', { timeout: 60_000 }, () => {
  it('matches the classic DES test vector once the key bits are reversed', () => {
    // FIPS 81 style vector: key 133457799BBCDFF1, plaintext 0123456789ABCDEF → 85E813540F0AB405.
    const reverse = (byte: number): number => parseInt(byte.toString(2).padStart(8, '0').split('').reverse().join(''), 2);
    const password = String.fromCharCode(...Buffer.from('133457799BBCDFF1', 'hex').map(reverse));
    assert.deepEqual(vncAuthKey(password), Buffer.from('133457799BBCDFF1', 'hex'));
    const response = vncAuthResponse(password, Buffer.from('0123456789ABCDEF'.repeat(2), 'hex'));
    assert.equal(response.toString('hex'), '85e813540f0ab405'.repeat(2));
  });

  it('agrees with noVNC 1.7 for random passwords and challenges', async () => {
    const DESECBCipher = await loadNoVncDes();
    for (const password of ['a', 'secret12', 'pässwörd', 'longer than eight']) {
      const challenge = newVncChallenge();
      const key = [...password.slice(0, 8)].map((char) => char.charCodeAt(0));
      const expected = Buffer.from(DESECBCipher.importKey(key).encrypt({ name: 'DES-ECB' }, [...challenge]));
      assert.deepEqual(vncAuthResponse(password, challenge), expected, password);
    }
  });

  it('checks responses: right password, first 8 characters only, wrong lengths refused', () => {
    const challenge = newVncChallenge();
    assert.equal(challenge.length, 16);
    assert.notDeepEqual(newVncChallenge(), challenge, 'challenges are random');
    const response = vncAuthResponse('abcdefgh', challenge);
    assert.equal(checkVncAuthResponse('abcdefgh', challenge, response), true);
    assert.equal(checkVncAuthResponse('abcdefghXYZ', challenge, response), true);
    assert.equal(checkVncAuthResponse('abcdefgX', challenge, response), false);
    assert.equal(checkVncAuthResponse('abcdefgh', challenge, response.subarray(0, 15)), false);
    assert.throws(() => vncAuthResponse('pw', Buffer.alloc(8)), RangeError);
  });
});
