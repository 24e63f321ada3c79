// The session service: profiles opened from a file, text, quick connect and an in-process document,
// closed once whoever asks (the closed hook fires once, with the reason), and forgotten on shutdown.

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { OpenResult, SessionInfo } from '../../../../common/contract';
import { SessionService } from '../../../../main/backend/session-service';
import type { Session } from '../../../../main/sessions';
import { MemorySecretStore } from '../../support/memory-secret-store';
import { recordingLogger } from './service-fakes';

let folder = '';

before(async () => {
  folder = await mkdtemp(path.join(os.tmpdir(), 'retrovisor-sessions-'));
});

after(async () => {
  await rm(folder, { recursive: true, force: true });
});

function setup() {
  const log = recordingLogger();
  const sessions = new SessionService({ logger: log.logger, redactor: log.redactor, workingDirectory: folder });
  return { log, sessions };
}

function opened(result: OpenResult): SessionInfo {
  assert.ok(result.ok, JSON.stringify(result));
  return result.session;
}

const PROFILE = { version: 1, name: 'lab', replicas: [{ id: 'a', vnc: { host: '127.0.0.1', port: 5901, password: { file: 'pw.txt' } } }] };

describe('SessionService: opening', { timeout: 10_000 }, () => {
  it('opens a profile file (with a byte-order mark) relative to the working directory; its secrets resolve next to it', { timeout: 5_000 }, async () => {
    const { sessions } = setup();
    await writeFile(path.join(folder, 'lab.json'), `\uFEFF${JSON.stringify(PROFILE)}`);
    await writeFile(path.join(folder, 'pw.txt'), 'file-secret-1\n');
    const session = opened(await sessions.openFile('lab.json'));
    assert.equal(session.source, path.join(folder, 'lab.json'));
    assert.equal(sessions.get(session.sessionId)?.baseDir, folder);
    assert.deepEqual(await sessions.replicaPassword(session.sessionId, 'a'), { password: 'file-secret-1' });
    assert.match((await sessions.replicaPassword(session.sessionId, 'zz')).error ?? '', /has no replica "zz"/);
  });

  it('answers an unreadable file and an invalid profile with problems, never a throw', { timeout: 5_000 }, async () => {
    const { sessions, log } = setup();
    const missing = await sessions.openFile('missing.json');
    assert.ok(!missing.ok);
    assert.equal(missing.problems[0]?.path, '$');
    assert.match(missing.problems[0]?.message ?? '', /check the path$/);
    const invalid = sessions.openText('{"version":3}', 'dropped.json');
    assert.ok(!invalid.ok);
    assert.ok(invalid.problems.some((problem) => problem.path === '$.version'));
    assert.ok(log.messages().includes('profile rejected'));
  });

  it('refuses text (no folder known) naming files relative to its folder, never reading them from the working folder', { timeout: 5_000 }, async () => {
    const { sessions } = setup();
    // A file of that name in the working folder must not be used.
    await writeFile(path.join(folder, 'pw.txt'), 'working-folder-secret\n');
    const document = {
      ...PROFILE,
      l0: { a: { ssh: { host: 'l0.example', user: 'virt', identityFile: 'keys/id', passphrase: { file: '~/pp' }, hostKey: `SHA256:${'A'.repeat(43)}` } } },
    };
    const refused = sessions.openText(JSON.stringify(document), 'picked.json');
    assert.ok(!refused.ok);
    assert.deepEqual(
      refused.problems.map((problem) => problem.path),
      ['$.replicas[0].vnc.password.file', '$.l0.a.ssh.identityFile'],
    );
    assert.match(refused.problems[0]?.message ?? '', /names its password file "pw\.txt" relative to its own folder, which the browser did not tell RetroVisor/);
    assert.match(refused.problems[0]?.message ?? '', /retrovisor start --profile PATH/);
    assert.match(refused.problems[1]?.message ?? '', /SSH key file "keys\/id"/);
    // Absolute and home-relative paths do not depend on the profile's folder.
    const absolute = { ...PROFILE, replicas: [{ id: 'a', vnc: { host: '127.0.0.1', port: 5901, password: { file: path.join(folder, 'pw.txt') } } }] };
    const session = opened(sessions.openText(JSON.stringify(absolute), 'picked.json'));
    assert.deepEqual(await sessions.replicaPassword(session.sessionId, 'a'), { password: 'working-folder-secret' });
  });

  it('resolves a relative password file beside the profile opened by path, wherever the working folder is', { timeout: 5_000 }, async () => {
    const { sessions } = setup();
    const elsewhere = await mkdtemp(path.join(folder, 'profiles-'));
    await writeFile(path.join(elsewhere, 'lab.json'), JSON.stringify(PROFILE));
    await writeFile(path.join(elsewhere, 'pw.txt'), 'beside-the-profile\n');
    await writeFile(path.join(folder, 'pw.txt'), 'working-folder-secret\n');
    const session = opened(await sessions.openFile(path.join(elsewhere, 'lab.json')));
    assert.deepEqual(await sessions.replicaPassword(session.sessionId, 'a'), { password: 'beside-the-profile' });
  });

  it('names the file it read when a profile file fails', { timeout: 5_000 }, async () => {
    const { sessions } = setup();
    const missing = await sessions.openFile('nowhere.json');
    assert.ok(!missing.ok);
    assert.equal(missing.source, path.join(folder, 'nowhere.json'));
    await writeFile(path.join(folder, 'invalid.json'), JSON.stringify({ version: 1, name: 'x', replicas: [] }));
    const invalid = await sessions.openFile('invalid.json');
    assert.ok(!invalid.ok);
    assert.equal(invalid.source, path.join(folder, 'invalid.json'));
  });

  it('opens quick-connect endpoints with the password registered for redaction first', { timeout: 5_000 }, async () => {
    const { sessions, log } = setup();
    const session = opened(sessions.quickConnect('127.0.0.1:1, 127.0.0.1::6000', 'quick-secret-2'));
    assert.deepEqual(
      session.replicas.map((replica) => replica.id),
      ['r1', 'r2'],
    );
    log.logger.info('oops quick-secret-2');
    assert.ok(!JSON.stringify(log.records).includes('quick-secret-2'));
    assert.deepEqual(await sessions.replicaPassword(session.sessionId, 'r2'), { password: 'quick-secret-2' });
  });

  it('opens an in-process document (the demo lab\'s) validated like any profile', { timeout: 5_000 }, () => {
    const { sessions } = setup();
    const session = opened(sessions.openDocument({ ...PROFILE, name: 'Demo lab' }, 'built-in demo lab'));
    assert.equal(session.name, 'Demo lab');
    assert.equal(session.source, 'built-in demo lab');
    assert.ok(!sessions.openDocument({ version: 1 }, 'broken').ok);
  });
});

describe('SessionService: closing', { timeout: 10_000 }, () => {
  it('closes a session once: forgotten, logged with the reason, the hook fired once', { timeout: 5_000 }, () => {
    const { sessions, log } = setup();
    const session = opened(sessions.quickConnect('127.0.0.1:1'));
    const heard: [Session, string][] = [];
    sessions.onSessionClosed((closed, reason) => heard.push([closed, reason]));
    assert.equal(sessions.close(session.sessionId, 'the session was closed'), true);
    assert.equal(sessions.close(session.sessionId, 'again'), false);
    assert.equal(sessions.close('never-opened', 'whatever'), false);
    assert.equal(sessions.get(session.sessionId), undefined);
    const gone = sessions.replica(session.sessionId, 'r1');
    assert.ok('error' in gone);
    assert.match(gone.error, /no open session/);
    assert.equal(heard.length, 1);
    assert.equal(heard[0]![0].id, session.sessionId);
    assert.equal(heard[0]![1], 'the session was closed');
    const closedLines = log.records.filter((record) => record.message === 'session closed');
    assert.deepEqual(
      closedLines.map((record) => [record.sessionId, record.reason]),
      [[session.sessionId, 'the session was closed']],
    );
  });

  it('tells every hook even when one throws, and stops telling an unsubscribed one', { timeout: 5_000 }, () => {
    const { sessions, log } = setup();
    const first = opened(sessions.quickConnect('127.0.0.1:1'));
    const second = opened(sessions.quickConnect('127.0.0.1:2'));
    const heard: string[] = [];
    sessions.onSessionClosed(() => {
      throw new Error('hook bug');
    });
    const stop = sessions.onSessionClosed((session) => heard.push(session.id));
    sessions.close(first.sessionId, 'one');
    stop();
    sessions.close(second.sessionId, 'two');
    assert.deepEqual(heard, [first.sessionId]);
    assert.equal(log.records.filter((record) => record.message === 'session closed listener failed').length, 2);
  });

  it('forgets every session and hook on clear, without firing the hook', { timeout: 5_000 }, () => {
    const { sessions } = setup();
    const session = opened(sessions.quickConnect('127.0.0.1:1'));
    let fired = 0;
    sessions.onSessionClosed(() => fired++);
    sessions.clear();
    assert.equal(sessions.get(session.sessionId), undefined);
    assert.equal(fired, 0);
    const later = opened(sessions.quickConnect('127.0.0.1:1'));
    sessions.close(later.sessionId, 'after clear');
    assert.equal(fired, 0);
  });
});

describe('SessionService: keyring secrets', { timeout: 10_000 }, () => {
  const KEYRING_PROFILE = { version: 1, name: 'lab', replicas: [{ id: 'r1', vnc: { host: '127.0.0.1', port: 5901, password: { keyring: 'replica/r1/vnc' } } }] };

  it("reads a replica's password from the keyring of a profile opened with keyring access", async () => {
    const { sessions, log } = setup();
    const store = new MemorySecretStore();
    await store.store({ profileId: 'lab-1', slot: 'replica/r1/vnc' }, 'keyring-secret-1');
    await writeFile(path.join(folder, 'keyring.json'), JSON.stringify(KEYRING_PROFILE));
    const session = opened(await sessions.openFile('keyring.json', { store, profileId: 'lab-1' }));
    assert.deepEqual(await sessions.replicaPassword(session.sessionId, 'r1'), { password: 'keyring-secret-1' });
    assert.equal(log.redactor.redact('keyring-secret-1'), '***');
    await store.remove({ profileId: 'lab-1', slot: 'replica/r1/vnc' });
    const missing = await sessions.replicaPassword(session.sessionId, 'r1');
    assert.equal(missing.password, null);
    assert.equal(missing.error, 'the password of replica "r1": no saved password for r1 in the keyring: enter it, or save the profile again');
  });

  it('explains a keyring reference in a profile opened without keyring access', async () => {
    const { sessions } = setup();
    const session = opened(sessions.openText(JSON.stringify(KEYRING_PROFILE), 'dropped.json'));
    assert.match((await sessions.replicaPassword(session.sessionId, 'r1')).error ?? '', /only a profile of the profile library can read/);
  });
});
