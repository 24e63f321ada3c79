// End to end, opening profiles: `serve --profile` with a missing or invalid file says so on the
// terminal (path and reason) and the page names the file; a picked profile naming its password file
// relative to its own folder is refused with the way out, and the same profile opened by its path
// finds the file beside it and connects to a real Xvnc that wants that password.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { loadLabDescription, type LabDescription } from '../lab/lab';
import { eventually, launchBrowser, openAppPage, startApp, waitForReplicaState, type RunningApp } from './support/app';
import { scratchFolder } from './support/scratch';

describe('serve --profile with a profile that cannot be opened', { timeout: 120_000 }, () => {
  let browser: Browser;
  let folder: string;

  before(async () => {
    browser = await launchBrowser();
    folder = scratchFolder('bad-profiles');
  });

  after(async () => {
    await browser?.close();
  });

  const cases: ReadonlyArray<{ readonly what: string; readonly file: string; readonly text: string | null; readonly reason: RegExp }> = [
    { what: 'a missing file', file: 'missing.json', text: null, reason: /no such file \(ENOENT\)/ },
    { what: 'invalid JSON', file: 'broken.json', text: '{"version": 1, "name": ', reason: /not valid JSON/ },
    { what: 'invalid fields', file: 'fields.json', text: JSON.stringify({ version: 1, name: 'x', replicas: [{ id: 'r1', vnc: { host: '127.0.0.1', port: 70000 } }] }), reason: /\$\.replicas\[0\]\.vnc\.port: must be a TCP port/ },
  ];

  for (const entry of cases) {
    it(`prints ${entry.what} on the terminal and names the file on the page`, { timeout: 60_000 }, async () => {
      const profilePath = join(folder, entry.file);
      if (entry.text !== null) writeFileSync(profilePath, entry.text);
      const app = await startApp({ profilePath });
      try {
        const printed = await eventually(async () => entry.reason.test(app.stderr()), 10_000, 100);
        assert.ok(printed, `the terminal did not get the reason; stderr:\n${app.stderr()}`);
        assert.ok(app.stderr().includes(`the profile ${profilePath} could not be opened`), app.stderr());
        const page = await openAppPage(browser, app);
        const title = (await page.textContent('#problems-title', { timeout: 15_000 })) ?? '';
        assert.ok(title.includes(`${profilePath} (from the command line) could not be opened`), title);
        const problems = (await page.textContent('[data-testid="profile-problems"]')) ?? '';
        assert.match(problems, entry.reason);
        await page.close();
      } finally {
        await app.stop();
      }
    });
  }
});

describe('a profile naming its password file relative to its own folder', { timeout: 120_000 }, () => {
  let lab: LabDescription;
  let app: RunningApp;
  let browser: Browser;
  let profilePath: string;
  let profileText: string;

  before(async () => {
    lab = loadLabDescription();
    const xpw = lab.xvnc.find((server) => server.password !== undefined);
    assert.ok(xpw?.password, 'the lab must have an Xvnc with a password');
    // The profile and its password file in a folder of their own; the server runs elsewhere
    // (the checkout), where a file of the same name holds a wrong password.
    const folder = scratchFolder('relative');
    writeFileSync(join(folder, 'pwplain'), `${xpw.password}\n`);
    profilePath = join(folder, 'profile.json');
    profileText = JSON.stringify({ version: 1, name: 'relative', replicas: [{ id: 'xpw', vnc: { host: xpw.host, port: xpw.port, password: { file: 'pwplain' } } }] });
    writeFileSync(profilePath, profileText);
    const elsewhere = scratchFolder('cwd');
    writeFileSync(join(elsewhere, 'pwplain'), 'not-the-password\n');
    [app, browser] = await Promise.all([startApp({ cwd: elsewhere }), launchBrowser()]);
  });

  after(async () => {
    await browser?.close();
    await app?.stop();
  });

  it('is refused when picked in the browser (its folder is unknown), saying how to open it', { timeout: 60_000 }, async () => {
    const page = await openAppPage(browser, app);
    await page.setInputFiles('[data-testid="open-profile-input"]', { name: 'profile.json', mimeType: 'application/json', buffer: Buffer.from(profileText) });
    const problems = (await page.textContent('[data-testid="profile-problems"]', { timeout: 15_000 })) ?? '';
    assert.match(problems, /\$\.replicas\[0\]\.vnc\.password\.file/);
    assert.match(problems, /names its password file "pwplain" relative to its own folder, which the browser did not tell RetroVisor/);
    assert.match(problems, /retrovisor start --profile PATH/);
    assert.match(problems, /or use an absolute path/);
    assert.equal(await page.locator('[data-replica-id]').count(), 0, 'no session opened');
    await page.close();
  });

  it('opens by its path and reads the password file beside it', { timeout: 60_000 }, async () => {
    const page = await openAppPage(browser, app);
    await page.fill('[data-testid="open-profile-path"]', profilePath);
    await page.click('[data-testid="open-profile-path-submit"]');
    await waitForReplicaState(page, 'xpw', 'connected', 30_000);
    assert.equal(await page.locator('[data-testid="password-input"]').count(), 0, 'no password was asked for');
    await page.close();
  });
});
