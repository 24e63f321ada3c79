// Profile schema v2: v1 documents migrate to v2 unchanged but for the version (pure); v2 adds the
// library's optional fields (id, revision, createdAt, updatedAt), which a v1 document may not carry;
// a newer version is named as such.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { migrateProfile, PROFILE_VERSION, validateProfile } from '../../../common/profile';

const V1 = { version: 1, name: 'lab', replicas: [{ id: 'r1', vnc: { host: '127.0.0.1', port: 5901, password: { env: 'PW' } } }] };

describe('profile schema v2 and migration', { timeout: 10_000 }, () => {
  it('migrates a v1 document to v2 without touching it or anything else', () => {
    const before = JSON.stringify(V1);
    const migrated = migrateProfile(V1);
    assert.deepEqual(migrated, { ...V1, version: PROFILE_VERSION });
    assert.equal(JSON.stringify(V1), before, 'the input is not modified');
    const v2 = { ...V1, version: 2 };
    assert.equal(migrateProfile(v2), v2, 'a v2 document is returned as it is');
    const migratedResult = validateProfile(migrated);
    const original = validateProfile(V1);
    assert.ok(migratedResult.ok && original.ok);
    assert.deepEqual({ ...migratedResult.profile, version: 1 }, original.profile, 'the same profile either way');
  });

  it('accepts the library fields in v2 and refuses them in v1', () => {
    const library = { id: 'a1b2c3d4e5f60718', revision: 3, createdAt: '2030-01-02T03:04:05.000Z', updatedAt: '2030-01-03T03:04:05.000Z' };
    const result = validateProfile({ ...V1, version: 2, ...library });
    assert.ok(result.ok, JSON.stringify(result));
    assert.equal(result.profile.id, library.id);
    assert.equal(result.profile.revision, 3);
    const v1 = validateProfile({ ...V1, ...library });
    assert.ok(!v1.ok);
    assert.deepEqual(v1.problems.map((problem) => problem.path).sort(), ['$.createdAt', '$.id', '$.revision', '$.updatedAt']);
  });

  it('refuses a bad id, revision or time, at their paths', () => {
    const result = validateProfile({ ...V1, version: 2, id: '../etc', revision: 0, createdAt: 'yesterday' });
    assert.ok(!result.ok);
    assert.deepEqual(result.problems.map((problem) => problem.path), ['$.id', '$.revision', '$.createdAt']);
  });
});
