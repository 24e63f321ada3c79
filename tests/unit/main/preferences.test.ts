// The user's preferences in the data folder: defaults without a file, every change written whole
// (private modes), an edited or broken file read safely, and quick connect remembering endpoint
// sets through the back end without ever writing the password.

import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createBackend } from '../../../main/backend';
import { createLogger } from '../../../main/logger';
import { DEFAULT_PREFERENCES, PREFERENCES_FILE_NAME, PreferencesStore } from '../../../main/preferences';

let root = '';
const logger = createLogger({ level: 'error', format: 'json', sink: () => undefined });

before(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'retrovisor-preferences-'));
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Every file under `folder`, read whole. */
async function everyFileText(folder: string): Promise<string> {
  const names = await readdir(folder, { recursive: true, withFileTypes: true });
  const texts = await Promise.all(names.filter((entry) => entry.isFile()).map((entry) => readFile(path.join(entry.parentPath, entry.name), 'utf8')));
  return texts.join('\n');
}

describe('PreferencesStore', { timeout: 10_000 }, () => {
  it('starts from the defaults and writes every change to a private file', { timeout: 5_000 }, async () => {
    const folder = path.join(root, 'fresh', 'data');
    const store = new PreferencesStore(folder, logger);
    assert.deepEqual(await store.get(), DEFAULT_PREFERENCES);
    await Promise.all([store.rememberEndpoints(['a::5901']), store.rememberEndpoints(['b::5902']), store.setConfirmSystemKeys(false)]);
    const again = new PreferencesStore(folder, logger);
    assert.deepEqual(await again.get(), { ...DEFAULT_PREFERENCES, recentEndpoints: [['b::5902'], ['a::5901']], confirmSystemKeys: false });
    assert.equal((await stat(path.join(folder, PREFERENCES_FILE_NAME))).mode & 0o777, 0o600);
    assert.equal((await stat(folder)).mode & 0o777, 0o700);
    assert.deepEqual((await again.forgetEndpoints(['b::5902'])).recentEndpoints, [['a::5901']]);
    assert.deepEqual((await again.forgetEndpoints()).recentEndpoints, []);
  });

  it('reads a broken or edited file as defaults plus what is valid', { timeout: 5_000 }, async () => {
    const folder = await mkdtemp(path.join(root, 'edited-'));
    await writeFile(path.join(folder, PREFERENCES_FILE_NAME), '{ not json');
    assert.deepEqual(await new PreferencesStore(folder, logger).get(), DEFAULT_PREFERENCES);
    await writeFile(
      path.join(folder, PREFERENCES_FILE_NAME),
      JSON.stringify({ recentEndpoints: [['h::5901'], 'junk'], confirmSystemKeys: 'no', closeToTray: 'yes', notifications: { disabledKinds: ['replica', 'bogus', 'replica'], doNotDisturb: 1 } }),
    );
    assert.deepEqual(await new PreferencesStore(folder, logger).get(), {
      ...DEFAULT_PREFERENCES,
      recentEndpoints: [['h::5901']],
      notifications: { disabledKinds: ['replica'], doNotDisturb: false },
    });
  });

  it('keeps close to tray, its one-time notice and the notification settings', { timeout: 5_000 }, async () => {
    const folder = await mkdtemp(path.join(root, 'desktop-'));
    const store = new PreferencesStore(folder, logger);
    assert.equal(store.latest().closeToTray, true);
    await store.setDesktop({ closeToTray: false, notifications: { disabledKinds: ['resolved'], doNotDisturb: true } });
    await store.markCloseToTrayNoticeShown();
    const again = new PreferencesStore(folder, logger);
    assert.deepEqual(await again.get(), { ...DEFAULT_PREFERENCES, closeToTray: false, closeToTrayNoticeShown: true, notifications: { disabledKinds: ['resolved'], doNotDisturb: true } });
    assert.equal(again.latest().closeToTray, false);
  });
});

describe('back end: recent quick-connect endpoint sets', { timeout: 10_000 }, () => {
  it('remembers a set that opened, most recent first, never its password', { timeout: 5_000 }, async () => {
    const dataDirectory = await mkdtemp(path.join(root, 'backend-'));
    const backend = createBackend({ shell: 'browser', headless: false, version: 'test', logger, workingDirectory: root, dataDirectory });
    try {
      assert.ok((await backend.handlers.quickConnect({ endpoints: '127.0.0.1:1 127.0.0.1::6000', password: 'never-stored-7' })).ok);
      assert.ok(!(await backend.handlers.quickConnect({ endpoints: 'bad:x' })).ok);
      assert.ok((await backend.handlers.quickConnect({ endpoints: '127.0.0.1::5902' })).ok);
      assert.ok((await backend.handlers.quickConnect({ endpoints: '127.0.0.1::5901, 127.0.0.1:6000' })).ok);
      const preferences = await backend.handlers.getPreferences();
      assert.deepEqual(preferences.recentEndpoints, [['127.0.0.1::5901', '127.0.0.1::6000'], ['127.0.0.1::5902']]);
      assert.ok(!(await everyFileText(dataDirectory)).includes('never-stored-7'), 'the password is in a file the back end wrote');
      assert.ok((await everyFileText(dataDirectory)).includes('127.0.0.1::6000'));
    } finally {
      await backend.close();
    }
  });
});
