// A profile saved in the library with a typed password, against a real gnome-keyring: the password goes
// to the keyring (the file keeps only its slot), is read back when the saved profile is opened, and is
// in no file of the data folder, no export and no log line.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createBackend, type Backend } from '../../main/backend';
import { LibsecretStore } from '../../main/keyring/libsecret-store';
import { createLogger, SecretRedactor } from '../../main/logger';
import { startKeyring, type KeyringLab } from './keyring';

let lab: KeyringLab;
let dataDirectory = '';
let backend: Backend;
let store: LibsecretStore;
const logLines: string[] = [];
const PASSWORD = `rv-vnc-${randomBytes(8).toString('hex')}`;

async function everyFileText(folder: string): Promise<string> {
  const entries = await readdir(folder, { withFileTypes: true, recursive: true });
  const texts = await Promise.all(entries.filter((entry) => entry.isFile()).map((entry) => readFile(path.join(entry.parentPath, entry.name), 'latin1')));
  return texts.join('\n');
}

before(async () => {
  lab = await startKeyring();
  dataDirectory = await mkdtemp(path.join(os.tmpdir(), 'retrovisor-keyring-library-'));
  const redactor = new SecretRedactor();
  const logger = createLogger({ sink: (line) => logLines.push(line), redactor, level: 'debug' });
  store = new LibsecretStore({ env: lab.env, redactor, logger });
  backend = createBackend({ shell: 'browser', version: 'test', headless: true, logger, redactor, dataDirectory, secretStore: store });
});

after(async () => {
  await backend?.close();
  await lab?.stop();
  if (dataDirectory) await rm(dataDirectory, { recursive: true, force: true });
});

describe('saved profiles keep their passwords in the keyring', { timeout: 120_000 }, () => {
  it('saves the typed password to the keyring, reads it back on open, never writes it to a file', async () => {
    const saved = await backend.handlers.saveProfile({
      document: {
        version: 1,
        name: 'keyring round trip',
        replicas: [
          { id: 'r1', vnc: { host: '127.0.0.1', port: 5901, password: PASSWORD } },
          { id: 'r2', vnc: { host: '127.0.0.1', port: 5902 } },
        ],
      },
    });
    assert.equal(saved.kind, 'saved', JSON.stringify(saved));
    if (saved.kind !== 'saved') return;
    assert.deepEqual(saved.notices, []);

    const onDisk = await everyFileText(dataDirectory);
    assert.ok(!onDisk.includes(PASSWORD), 'the password is in no file of the data folder');
    assert.match(onDisk, /"keyring":\s*"replica\/r1\/vnc"/);
    assert.equal(await store.lookup({ profileId: saved.id, slot: 'replica/r1/vnc' }), PASSWORD);

    const opened = await backend.handlers.openSavedProfile({ id: saved.id });
    assert.equal(opened.ok, true);
    if (!opened.ok) return;
    const answer = await backend.handlers.getReplicaPassword({ sessionId: opened.session.sessionId, replicaId: 'r1' });
    assert.equal(answer.password, PASSWORD);

    const exported = await backend.handlers.exportProfile({ id: saved.id });
    assert.ok(!exported.text.includes(PASSWORD));
    assert.doesNotMatch(exported.text, /"keyring"\s*:/, 'an export leaves keyring references out');
    assert.ok(logLines.every((line) => !line.includes(PASSWORD)), 'no log line holds the password');
    await backend.handlers.closeSession({ sessionId: opened.session.sessionId });
  });
});
