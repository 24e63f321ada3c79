// The profile library behind the contract: save, list, read for the editor, open as a session (the
// library records when), the session's outcome kept as the profile's last state, duplicate, delete and
// restore, import and export — and the contract's checks of these requests.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CONTRACT_CALLS, ContractError, type SaveProfileResult } from '../../../../common/contract';
import { createBackend } from '../../../../main/backend';
import { ProfileLibrary } from '../../../../main/profile-library';
import { recordingLogger } from './service-fakes';

let folder = '';

before(async () => {
  folder = await mkdtemp(path.join(os.tmpdir(), 'retrovisor-library-service-'));
});

after(async () => {
  await rm(folder, { recursive: true, force: true });
});

const DOCUMENT = {
  version: 2,
  name: 'payments',
  replicas: [
    { id: 'r1', vnc: { host: '127.0.0.1', port: 5901 } },
    { id: 'r2', vnc: { host: '127.0.0.1', port: 5902 } },
  ],
};

function savedId(result: SaveProfileResult): string {
  if (result.kind !== 'saved') assert.fail(`expected a save, got ${JSON.stringify(result)}`);
  return result.id;
}

describe('backend: the profile library', { timeout: 20_000 }, () => {
  it('saves, lists, opens as a session and records how it went', async () => {
    const dataDirectory = path.join(folder, 'one');
    const backend = createBackend({ shell: 'browser', headless: false, version: '9.9.9', logger: recordingLogger().logger, workingDirectory: folder, dataDirectory });
    const id = savedId(await backend.handlers.saveProfile({ document: DOCUMENT }));
    const listing = await backend.handlers.listProfiles();
    assert.deepEqual(listing.profiles.map((summary) => [summary.id, summary.name, summary.replicaCount, summary.lastOpenedAt]), [[id, 'payments', 2, null]]);
    const forEditor = await backend.handlers.getSavedProfile({ id });
    assert.ok(forEditor.ok);
    assert.equal(forEditor.revision, 1);
    assert.deepEqual(forEditor.notices, []);

    const opened = await backend.handlers.openSavedProfile({ id });
    assert.ok(opened.ok, JSON.stringify(opened));
    assert.equal(opened.session.name, 'payments');
    const sessionId = opened.session.sessionId;
    await backend.handlers.reportReplicaState({ sessionId, replicaId: 'r1', state: 'connected', width: 8, height: 8 });
    await backend.handlers.reportReplicaState({ sessionId, replicaId: 'r2', state: 'connected', width: 8, height: 8 });
    await backend.handlers.reportDivergence({ sessionId, kind: 'divergence', divergenceId: 'd1', change: 'changed', outliers: ['r2'], agreeing: ['r1'], regions: [], noMajority: false });
    await backend.close();

    const [summary] = (await new ProfileLibrary({ dataDirectory }).list()).profiles;
    assert.notEqual(summary?.lastOpenedAt, null);
    assert.equal(summary?.lastState, 'r2 diverged');
  });

  it('duplicates, deletes, restores, imports, exports; an unknown id is an answer, not a throw', async () => {
    const backend = createBackend({ shell: 'browser', headless: false, version: '9.9.9', logger: recordingLogger().logger, workingDirectory: folder, dataDirectory: path.join(folder, 'two') });
    try {
      const id = savedId(await backend.handlers.saveProfile({ document: DOCUMENT }));
      const copy = savedId(await backend.handlers.duplicateProfile({ id, name: 'payments B' }));
      assert.deepEqual(await backend.handlers.deleteProfile({ id: copy }), { ok: true });
      assert.deepEqual(await backend.handlers.restoreProfile({ id: copy }), { ok: true });
      const imported = await backend.handlers.importProfiles({ sources: [{ kind: 'uri', uri: 'vnc://127.0.0.1:5903' }], intoId: id, expectedRevision: 1 });
      assert.equal(imported.kind, 'saved', JSON.stringify(imported));
      const stale = await backend.handlers.saveProfile({ document: DOCUMENT, id, expectedRevision: 1 });
      assert.ok(stale.kind === 'conflict');
      assert.deepEqual(stale.differences, ['replica r3 (removed)']);
      const exported = await backend.handlers.exportProfile({ id });
      assert.equal((JSON.parse(exported.text) as { replicas: unknown[] }).replicas.length, 3);
      const names = (await backend.handlers.listProfiles()).profiles.map((summary) => summary.name).sort();
      assert.deepEqual(names, ['payments', 'payments B']);
      assert.equal((await backend.handlers.getSavedProfile({ id: 'nothere' })).ok, false);
      const missing = await backend.handlers.openSavedProfile({ id: 'nothere' });
      assert.ok(!missing.ok);
      assert.match(missing.problems[0]?.message ?? '', /no saved profile has the id "nothere"/);
    } finally {
      await backend.close();
    }
  });

  it('the contract refuses malformed library requests', () => {
    const refuse = (parse: (input: unknown) => unknown, input: unknown, pattern: RegExp): void => {
      assert.throws(() => parse(input), (error: unknown) => error instanceof ContractError && pattern.test(error.message));
    };
    refuse(CONTRACT_CALLS.openSavedProfile.parseRequest, { id: '../x' }, /not a profile id/);
    refuse(CONTRACT_CALLS.saveProfile.parseRequest, { document: [] }, /document: expected an object/);
    refuse(CONTRACT_CALLS.saveProfile.parseRequest, { document: {}, id: 'abc' }, /id and expectedRevision go together/);
    refuse(CONTRACT_CALLS.importProfiles.parseRequest, { sources: [] }, /sources: expected 1 to 16/);
    refuse(CONTRACT_CALLS.importProfiles.parseRequest, { sources: [{ kind: 'ftp' }] }, /sources\[0\]\.kind/);
    refuse(CONTRACT_CALLS.importProfiles.parseRequest, { sources: [{ kind: 'uri', uri: 'vnc://h' }], name: 'x', intoId: 'abc', expectedRevision: 1 }, /name and intoId/);
    assert.deepEqual(CONTRACT_CALLS.saveProfile.parseRequest({ document: { a: 1 }, id: 'abc', expectedRevision: 2 }), { document: { a: 1 }, id: 'abc', expectedRevision: 2 });
  });
});
