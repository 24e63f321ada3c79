// The checks every keyring back end shares: keys and secrets refused before anything runs, labels
// made safe for argv, and the wording of "nothing was saved".

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkSecretKey, checkSecretValue, cleanLabel, MAX_LABEL_CHARS, SecretStoreError, unavailableMessage } from '../../../../main/keyring/secret-store';

describe('secret store checks', { timeout: 10_000 }, () => {
  it('accepts plain keys and refuses the rest with a SecretStoreError', () => {
    checkSecretKey({ profileId: 'lab-1', slot: 'replica/r1/vnc' });
    for (const key of [{ profileId: '-x', slot: 'replica/r1/vnc' }, { profileId: 'p', slot: '--all' }, { profileId: 'p', slot: 'a/../b' }]) {
      assert.throws(() => checkSecretKey(key), (error: unknown) => error instanceof SecretStoreError && error.code === 'failed');
    }
  });

  it('refuses empty, oversized and NUL-holding secrets without quoting them', () => {
    checkSecretValue('pw with spaces\n');
    for (const secret of ['', 'x'.repeat(8193), 'ab\0cd-quoted?']) {
      assert.throws(() => checkSecretValue(secret), (error: unknown) => error instanceof SecretStoreError && !error.message.includes('quoted'));
    }
  });

  it('makes labels safe for argv: one line, clipped, never empty, never the secret', () => {
    assert.equal(cleanLabel('RetroVisor: r1\n\u001b[31m(lab)', 'pw-1234'), 'RetroVisor: r1  [31m(lab)');
    assert.equal(cleanLabel('x'.repeat(500), 'pw-1234').length, MAX_LABEL_CHARS);
    assert.equal(cleanLabel('  ', 'pw-1234'), 'RetroVisor secret');
    assert.equal(cleanLabel('password pw-1234 for r1', 'pw-1234'), 'RetroVisor secret');
  });

  it('says that nothing was saved, why, and what to do', () => {
    assert.equal(unavailableMessage({ reason: 'the keyring is locked', hint: 'Unlock it.' }), 'nothing was saved: the keyring is locked. Unlock it.');
  });
});
