// Keyring slots: the pattern that keeps them plain (they reach secret-tool's argv and file contents),
// their wording in messages, and the profile's {"keyring": slot} secret reference.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeKeyringSlot, isKeyringProfileId, isKeyringSlot, l0PassphraseSlot, l0PasswordSlot, replicaVncSlot } from '../../../common/keyring-slot';
import { validateProfile } from '../../../common/profile';

function profileWithPassword(password: unknown): unknown {
  return { version: 1, name: 'lab', replicas: [{ id: 'r1', vnc: { host: '127.0.0.1', port: 5901, password } }] };
}

describe('keyring slots', { timeout: 10_000 }, () => {
  it('accepts the slots RetroVisor builds', () => {
    for (const slot of [replicaVncSlot('r1'), l0PassphraseSlot('a'), l0PasswordSlot('lab-2.x'), 'custom']) assert.ok(isKeyringSlot(slot), slot);
    assert.equal(replicaVncSlot('r1'), 'replica/r1/vnc');
    assert.equal(l0PassphraseSlot('a'), 'l0/a/passphrase');
    assert.equal(l0PasswordSlot('a'), 'l0/a/password');
  });

  it('refuses anything that could be an option, a path step, a shell word or a line break', () => {
    for (const slot of ['', '-x', '--label=x', 'a//b', 'a/../b', '../a', 'a/.', 'a b', 'a;b', 'a$b', 'a\nb', '/a', 'a/', 'a/b/c/d/e', 'x'.repeat(65)]) {
      assert.equal(isKeyringSlot(slot), false, JSON.stringify(slot));
    }
    for (const id of ['', '-p', '.hidden', 'a/b', 'a b', 'x'.repeat(65)]) assert.equal(isKeyringProfileId(id), false, JSON.stringify(id));
    assert.ok(isKeyringProfileId('lab-2026.1_a'));
  });

  it('words what a slot holds for a message', () => {
    assert.equal(describeKeyringSlot('replica/r1/vnc'), 'password for r1');
    assert.equal(describeKeyringSlot('l0/a/passphrase'), 'SSH key passphrase for the L0 a');
    assert.equal(describeKeyringSlot('l0/a/password'), 'SSH password for the L0 a');
    assert.equal(describeKeyringSlot('other/x'), 'secret "other/x"');
  });

  it('reads {"keyring": slot} as a secret reference of a profile', () => {
    const result = validateProfile(profileWithPassword({ keyring: 'replica/r1/vnc' }));
    assert.ok(result.ok);
    assert.deepEqual(result.profile.replicas[0]?.vnc.password, { kind: 'keyring', slot: 'replica/r1/vnc' });
  });

  it('refuses a bad slot without quoting it (it may be a pasted password)', () => {
    const result = validateProfile(profileWithPassword({ keyring: 'hunter2 secret!' }));
    assert.equal(result.ok, false);
    const text = result.ok ? '' : result.problems.map((problem) => `${problem.path}: ${problem.message}`).join('\n');
    assert.match(text, /\$\.replicas\[0\]\.vnc\.password\.keyring: must be a keyring slot/);
    assert.ok(!text.includes('hunter2'), text);
    const other = validateProfile(profileWithPassword({ keyring: 42 }));
    assert.equal(other.ok, false);
  });
});
