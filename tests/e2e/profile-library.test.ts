// End to end in Chromium, the profile library's UI against real Xvnc servers and a loopback sshd:
// a profile created through the editor (one replica with a typed password), each replica tested,
// an L0 trusted on first contact and tested again, saved, listed, reopened (no keyring here: the
// password is asked at connect time and never written), connected, edited, duplicated, deleted with
// undo; a changed host key refused; search; a profile made with the keyboard alone; import of a .vv
// file, a vnc:// URI and dropped files; a save that meets another's; export; set-aside files shown.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { loadLabDescription, type LabDescription } from '../lab/lab';
import { launchBrowser, openAppPage, runCli, startApp, waitForReplicaState, type RunningApp } from './support/app';
import { scratchFolder } from './support/scratch';

const PASSWORD = 'retro-pw';

/** Every file under `folder`, recursively. */
function filesUnder(folder: string): string[] {
  return readdirSync(folder).flatMap((name) => {
    const path = join(folder, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** Fills replica row `index` of the editor. */
async function fillReplica(page: Page, index: number, fields: { host: string; port: number; password?: string; label?: string }): Promise<void> {
  await page.getByTestId(`replica-${index}-host`).fill(fields.host);
  await page.getByTestId(`replica-${index}-port`).fill(String(fields.port));
  if (fields.label !== undefined) await page.getByTestId(`replica-${index}-label`).fill(fields.label);
  if (fields.password !== undefined) {
    await page.getByTestId(`replica-${index}-password-kind`).selectOption('typed');
    await page.getByTestId(`replica-${index}-password-value`).fill(fields.password);
  }
}

/** Clicks a Test button and waits for its results: each step's outcome by id. */
async function runTest(page: Page, prefix: string): Promise<Record<string, string>> {
  await page.getByTestId(`${prefix}-test`).click();
  await page.waitForSelector(`[data-testid="${prefix}-test-results"]:not([data-state="running"]):not([data-state="none"])`, { timeout: 30_000 });
  return stepsOf(page, prefix);
}

async function stepsOf(page: Page, prefix: string): Promise<Record<string, string>> {
  return page.$$eval(`[data-testid="${prefix}-test-results"] [data-testid="test-step"]`, (steps) =>
    Object.fromEntries(steps.map((step) => [step.getAttribute('data-step-id') ?? '', step.getAttribute('data-outcome') ?? ''])),
  );
}

async function listedNames(page: Page): Promise<string[]> {
  return page.$$eval('[data-testid="library-name"]', (names) => names.map((name) => name.textContent ?? ''));
}

async function waitForListed(page: Page, expected: readonly string[]): Promise<void> {
  await page
    .waitForFunction((names: readonly string[]) => {
      const shown = Array.from(document.querySelectorAll('[data-testid="library-name"]')).map((name) => name.textContent ?? '');
      return shown.length === names.length && names.every((name) => shown.includes(name));
    }, expected, { timeout: 15_000 })
    .catch(async () => assert.fail(`the library lists ${JSON.stringify(await listedNames(page))}, expected ${JSON.stringify(expected)}`));
}

function row(page: Page, name: string) {
  return page.locator('[data-testid="library-row"]', { has: page.locator('[data-testid="library-name"]', { hasText: new RegExp(`^${name.replace(/[()]/g, '\\$&')}$`) }) });
}

describe('the profile library and editor', { timeout: 300_000 }, () => {
  let lab: LabDescription;
  let app: RunningApp;
  let browser: Browser;
  let page: Page;
  let dataDirectory: string;

  before(async () => {
    lab = loadLabDescription();
    assert.equal(lab.xvnc.length >= 3, true, 'the lab needs 3 Xvnc servers (the third with a password)');
    assert.ok(lab.sshd, 'the lab needs its sshd: start it with "sshd": true');
    dataDirectory = scratchFolder('library-ui');
    // No D-Bus session: no Secret Service, so typed passwords cannot be kept.
    [app, browser] = await Promise.all([startApp({ env: { RETROVISOR_DATA_DIR: dataDirectory, DBUS_SESSION_BUS_ADDRESS: '' } }), launchBrowser()]);
    page = await openAppPage(browser, app);
    await page.getByTestId('library-empty').waitFor({ timeout: 15_000 });
  });

  after(async () => {
    await browser?.close();
    await app?.stop();
  });

  it('creates a profile through the form, tests it, trusts the L0 key, saves, reopens, connects, edits, duplicates, deletes and undoes', { timeout: 240_000 }, async () => {
    const [plain1, plain2, withPassword] = lab.xvnc;
    const sshd = lab.sshd;
    assert.ok(plain1 && plain2 && withPassword?.password === PASSWORD && sshd);

    await page.getByTestId('library-new').click();
    await page.getByTestId('editor-name').fill('lab trio');
    await fillReplica(page, 0, { host: plain1.host, port: plain1.port, label: 'first' });
    await page.getByTestId('editor-add-replica').click();
    await fillReplica(page, 1, { host: plain2.host, port: plain2.port });
    await page.getByTestId('editor-add-replica').click();
    await fillReplica(page, 2, { host: withPassword.host, port: withPassword.port, password: PASSWORD });

    // No Secret Service here: the editor says so beside the typed password.
    const note = (await page.getByTestId('replica-2-password-keyring-note').textContent({ timeout: 10_000 })) ?? '';
    assert.match(note, /No keyring on this machine .*the password will not be saved; you will be asked at connect time/);

    for (const index of [0, 1, 2]) {
      const steps = await runTest(page, `replica-${index}`);
      assert.deepEqual(
        [steps.reach, steps.version, steps.security, steps.auth, steps.desktop],
        ['passed', 'passed', 'passed', 'passed', 'passed'],
        `replica ${index}: ${JSON.stringify(steps)}`,
      );
    }
    const authDetail = (await page.locator('[data-testid="replica-2-test-results"] [data-step-id="auth"]').textContent()) ?? '';
    assert.doesNotMatch(authDetail, new RegExp(PASSWORD), 'the password is never shown');

    // An L0 on the lab's sshd, with no host key yet: first contact asks to trust the key it presents.
    await page.getByTestId('editor-add-l0').click();
    await page.getByTestId('l0-0-name').fill('lab');
    await page.getByTestId('l0-0-host').fill(sshd.host);
    await page.getByTestId('l0-0-port').fill(String(sshd.port));
    await page.getByTestId('l0-0-user').fill(sshd.user);
    await page.getByTestId('l0-0-identity').fill(sshd.identityFile);
    await page.getByTestId('l0-0-uri').fill('test:///default');
    await page.getByTestId('replica-0-l0').selectOption('lab');
    await page.getByTestId('replica-0-domain').fill('test');
    await page.getByTestId('l0-0-test').click();
    const dialog = page.getByTestId('trust-host-key-dialog');
    await dialog.waitFor({ timeout: 30_000 });
    assert.match((await dialog.textContent()) ?? '', /Trust this key\?/);
    assert.equal(await page.getByTestId('trust-host-key-fingerprint').first().textContent(), sshd.hostKeyFingerprint);
    await page.getByTestId('trust-host-key-0').click();
    assert.equal(await page.getByTestId('l0-0-host-key').inputValue(), sshd.hostKeyFingerprint, 'trusting pins the key in the draft');
    // Trusting tests again at once, now with the pin.
    await page.waitForFunction(() => document.querySelector('[data-testid="l0-0-test-results"] [data-step-id="virsh"]') !== null, undefined, { timeout: 30_000 });
    const l0Steps = await stepsOf(page, 'l0-0');
    assert.deepEqual([l0Steps.ssh, l0Steps['host-key'], l0Steps.login, l0Steps.virsh], ['passed', 'passed', 'passed', 'passed'], JSON.stringify(l0Steps));
    assert.ok(['passed', 'warning'].includes(l0Steps['domain:r1'] ?? ''), `the domain "test" is found: ${JSON.stringify(l0Steps)}`);

    await page.getByTestId('editor-save').click();
    await page.waitForFunction(() => /Saved \(revision 1\)/.test(document.querySelector('[data-testid="editor-status"]')?.textContent ?? ''), undefined, { timeout: 15_000 });
    // The save said the password was not kept, and the editor now shows none.
    assert.match((await page.getByTestId('editor-notices').textContent()) ?? '', /not saved/);
    assert.equal(await page.getByTestId('replica-2-password-kind').inputValue(), 'none');
    for (const file of filesUnder(dataDirectory)) assert.ok(!readFileSync(file, 'utf8').includes(PASSWORD), `${file} holds the password`);

    await page.getByTestId('editor-close').click();
    await waitForListed(page, ['lab trio']);
    assert.match((await row(page, 'lab trio').textContent()) ?? '', /3 replicas · opened never/);

    // Reopen from the start screen: the password is asked at connect time.
    await row(page, 'lab trio').getByTestId('library-open').click();
    await page.getByTestId('password-input').waitFor({ timeout: 20_000 });
    await page.getByTestId('password-input').fill(PASSWORD);
    await page.getByTestId('password-submit').click();
    for (const id of ['r1', 'r2', 'r3']) await waitForReplicaState(page, id, 'connected');
    await page.getByTestId('close-session').click();
    await page.getByTestId('close-confirm-confirm').click();
    await waitForListed(page, ['lab trio']);
    await page.waitForFunction(() => /opened just now/.test(document.querySelector('[data-testid="library-row"]')?.textContent ?? ''), undefined, { timeout: 15_000 });

    // Edit: rename, remove a replica, save.
    await row(page, 'lab trio').getByTestId('library-edit').click();
    await page.getByTestId('editor-name').fill('lab pair');
    await page.getByTestId('replica-1-remove').click();
    await page.keyboard.press('Control+s');
    await page.waitForFunction(() => /Saved \(revision 2\)/.test(document.querySelector('[data-testid="editor-status"]')?.textContent ?? ''), undefined, { timeout: 15_000 });
    await page.getByTestId('editor-close').click();
    await waitForListed(page, ['lab pair']);
    assert.match((await row(page, 'lab pair').textContent()) ?? '', /2 replicas/);

    // Duplicate, delete the copy and undo, then delete it for good.
    await row(page, 'lab pair').getByTestId('library-duplicate').click();
    await waitForListed(page, ['lab pair', 'lab pair (copy)']);
    await row(page, 'lab pair (copy)').getByTestId('library-delete').click();
    await waitForListed(page, ['lab pair']);
    await page.getByTestId('library-undo').click();
    await waitForListed(page, ['lab pair', 'lab pair (copy)']);
    await row(page, 'lab pair (copy)').getByTestId('library-delete').click();
    await waitForListed(page, ['lab pair']);
  });

  it('refuses a changed host key with a clear alert and tests nothing past it', { timeout: 60_000 }, async () => {
    const sshd = lab.sshd;
    assert.ok(sshd);
    await row(page, 'lab pair').getByTestId('library-edit').click();
    const other = 'SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU';
    assert.notEqual(other, sshd.hostKeyFingerprint);
    await page.getByTestId('l0-0-host-key').fill(other);
    const steps = await runTest(page, 'l0-0');
    assert.equal(steps['host-key'], 'failed', JSON.stringify(steps));
    assert.equal(steps.login, undefined, `nothing past the host key is tried: ${JSON.stringify(steps)}`);
    assert.equal(steps.virsh, undefined);
    const alert = (await page.getByTestId('l0-0-host-key-changed').textContent()) ?? '';
    assert.match(alert, /does not match the pinned one/);
    // No trust dialog: a changed key is never offered for a silent replacement.
    assert.equal(await page.getByTestId('trust-host-key-dialog').count(), 0);
    assert.equal(await page.getByTestId('l0-0-host-key').inputValue(), other);
    // Escape with a change asks before dropping it.
    await page.getByTestId('l0-0-host-key').focus();
    await page.keyboard.press('Escape');
    await page.getByTestId('editor-discard-confirm').click();
    await waitForListed(page, ['lab pair']);
  });

  it('filters the list by the search field', { timeout: 60_000 }, async () => {
    await row(page, 'lab pair').getByTestId('library-duplicate').click();
    await waitForListed(page, ['lab pair', 'lab pair (copy)']);
    await page.getByTestId('library-search').fill('COPY');
    await waitForListed(page, ['lab pair (copy)']);
    await page.getByTestId('library-search').fill('nothing like it');
    await waitForListed(page, []);
    // An address finds the profiles with a replica there.
    const [plain1] = lab.xvnc;
    assert.ok(plain1);
    await page.getByTestId('library-search').fill(`:${plain1.port}`);
    await waitForListed(page, ['lab pair', 'lab pair (copy)']);
    await page.getByTestId('library-search').fill('');
    await waitForListed(page, ['lab pair', 'lab pair (copy)']);
  });

  it('creates a minimal profile with the keyboard alone', { timeout: 60_000 }, async () => {
    const [plain1] = lab.xvnc;
    assert.ok(plain1);
    await page.locator('body').focus();
    // Tab to "New profile", as a keyboard user would.
    for (let presses = 0; presses < 40; presses += 1) {
      if (await page.evaluate(() => document.activeElement?.getAttribute('data-testid') === 'library-new')) break;
      await page.keyboard.press('Tab');
    }
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-testid')), 'library-new');
    await page.keyboard.press('Enter');
    // The name field has the focus; then id (r1 already), label, host, port.
    await page.getByTestId('editor-name').waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-testid')), 'editor-name');
    await page.keyboard.type('typed by keyboard');
    for (const [field, text] of [
      ['replica-0-id', null],
      ['replica-0-label', null],
      ['replica-0-host', plain1.host],
      ['replica-0-port', String(plain1.port)],
    ] as const) {
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-testid')), field, `Tab reaches ${field}`);
      if (text !== null) await page.keyboard.type(text);
    }
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => /Saved \(revision 1\)/.test(document.querySelector('[data-testid="editor-status"]')?.textContent ?? ''), undefined, { timeout: 15_000 });
    await page.keyboard.press('Escape');
    await waitForListed(page, ['lab pair', 'lab pair (copy)', 'typed by keyboard']);
  });

  it('imports a .vv file through the file picker and a vnc:// URI', { timeout: 60_000 }, async () => {
    const [, plain2] = lab.xvnc;
    assert.ok(plain2);
    const folder = scratchFolder('import');
    const vv = join(folder, 'console.vv');
    writeFileSync(vv, `[virt-viewer]\ntype=vnc\nhost=${plain2.host}\nport=${plain2.port}\ntitle=console vm\n`);
    await page.getByTestId('library-import-toggle').click();
    await page.getByTestId('library-import-files').setInputFiles(vv);
    await waitForListed(page, ['lab pair', 'lab pair (copy)', 'typed by keyboard', 'console vm']);
    await page.getByTestId('library-import-uri').fill(`vnc://${plain2.host}:${plain2.port}?ConnectionName=From%20URI`);
    await page.getByTestId('library-import-name').fill('uri profile');
    await page.getByTestId('library-import-uri-submit').click();
    await waitForListed(page, ['lab pair', 'lab pair (copy)', 'typed by keyboard', 'console vm', 'uri profile']);
    await row(page, 'uri profile').getByTestId('library-open').click();
    await waitForReplicaState(page, 'r1', 'connected');
    const label = (await page.locator('[data-replica-id="r1"]').textContent()) ?? '';
    assert.match(label, /From URI/);
  });

  it('imports files dropped on the library, and still opens a profile dropped elsewhere', { timeout: 60_000 }, async () => {
    const [plain1] = lab.xvnc;
    assert.ok(plain1);
    await page.getByTestId('close-session').click();
    await page.getByTestId('close-confirm-confirm').click();
    await page.getByTestId('profile-library').waitFor();
    const drop = async (selector: string, name: string, text: string): Promise<void> => {
      const transfer = await page.evaluateHandle(
        ([fileName, fileText]) => {
          const data = new DataTransfer();
          data.items.add(new File([fileText], fileName));
          return data;
        },
        [name, text] as const,
      );
      await page.dispatchEvent(selector, 'dragenter', { dataTransfer: transfer });
      await page.dispatchEvent(selector, 'dragover', { dataTransfer: transfer });
      await page.dispatchEvent(selector, 'drop', { dataTransfer: transfer });
    };
    const before = await listedNames(page);
    await drop('[data-testid="profile-library"]', 'xen.tigervnc', `TigerVNC Configuration file Version 1.0\n\nServerName=${plain1.host}::${plain1.port}\n`);
    await waitForListed(page, [...before, 'xen']);
    // Outside the library, a single RetroVisor profile opens (as before the library existed): not imported.
    const profile = JSON.stringify({ version: 1, name: 'dropped to open', replicas: [{ id: 'd1', vnc: { host: plain1.host, port: plain1.port } }] });
    await drop('.start-hero', 'open-me.json', profile);
    await waitForReplicaState(page, 'd1', 'connected');
    await page.getByTestId('close-session').click();
    await page.getByTestId('close-confirm-confirm').click();
    await waitForListed(page, [...before, 'xen']);
  });

  it('says when the profile was saved elsewhere meanwhile, and reloads it on request', { timeout: 60_000 }, async () => {
    const [, plain2] = lab.xvnc;
    assert.ok(plain2);
    await row(page, 'typed by keyboard').getByTestId('library-edit').click();
    await page.getByTestId('editor-name').fill('typed again');
    // Another RetroVisor (here the command line) adds a replica to the same profile.
    const imported = await runCli(['profile', 'import', `vnc://${plain2.host}:${plain2.port}`, '--name', 'typed by keyboard'], { RETROVISOR_DATA_DIR: dataDirectory, DBUS_SESSION_BUS_ADDRESS: '' });
    assert.equal(imported.status, 0, imported.stderr);
    await page.getByTestId('editor-save').click();
    const conflict = (await page.getByTestId('editor-conflict').textContent({ timeout: 15_000 })) ?? '';
    assert.match(conflict, /changed|saved this profile/);
    assert.match(conflict, /replica r2/);
    await page.getByTestId('editor-conflict-reload').click();
    await page.waitForFunction(() => document.querySelector<HTMLInputElement>('[data-testid="editor-name"]')?.value === 'typed by keyboard', undefined, { timeout: 15_000 });
    assert.equal(await page.getByTestId('replica-1-port').inputValue(), String(plain2.port));
    await page.keyboard.press('Escape');
    await page.getByTestId('profile-library').waitFor();
  });

  it('exports a profile as a download without the library fields or secrets', { timeout: 60_000 }, async () => {
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 15_000 }), row(page, 'lab pair').getByTestId('library-export').click()]);
    const path = await download.path();
    const text = readFileSync(path, 'utf8');
    const exported = JSON.parse(text) as { name: string; replicas: unknown[]; revision?: number };
    assert.equal(exported.name, 'lab pair');
    assert.equal(exported.replicas.length, 2);
    assert.equal(exported.revision, undefined);
    assert.ok(!text.includes(PASSWORD));
    assert.match(download.suggestedFilename(), /\.json$/);
  });

  it('shows library files that had to be set aside, with their problems', { timeout: 60_000 }, async () => {
    writeFileSync(join(dataDirectory, 'profiles', 'broken.json'), '{"version": 2, "name": ');
    await page.reload();
    const warning = (await page.getByTestId('library-set-aside').textContent({ timeout: 15_000 })) ?? '';
    assert.match(warning, /broken\.json was moved to .*set-aside/);
    assert.match(warning, /JSON/);
  });
});
