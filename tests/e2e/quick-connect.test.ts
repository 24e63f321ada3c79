// End to end, quick connect as a new user meets it, against real Xvnc servers (one wants the
// password retro-pw): Ctrl+Enter in the password field connects; the set is remembered (most recent
// first) and never its password — not in the page's storage, not in any file the back end wrote; one
// click on a remembered set connects again; a password prompt after a refused password says so;
// a remembered set can be forgotten.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { loadLabDescription } from '../lab/lab';
import { launchBrowser, openAppPage, startApp, waitForReplicaState, type RunningApp } from './support/app';
import { scratchFolder } from './support/scratch';

/** Every file under `folder`, read whole (as Latin-1: any byte sequence is text). */
function everyFileText(folder: string): string {
  return readdirSync(folder, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => readFileSync(join(entry.parentPath, entry.name), 'latin1'))
    .join('\n');
}

describe('quick connect: Ctrl+Enter, recent endpoint sets, refused passwords', { timeout: 180_000 }, () => {
  let app: RunningApp;
  let browser: Browser;
  let page: Page;
  let dataDir: string;
  let password: string;
  let setText: string;
  let endpoints: string;

  before(async () => {
    const lab = loadLabDescription();
    const xpw = lab.xvnc.find((server) => server.password !== undefined);
    const plain = lab.xvnc.find((server) => server.password === undefined);
    assert.ok(xpw?.password && plain, 'the lab must have an Xvnc with a password and one without');
    password = xpw.password;
    endpoints = `127.0.0.1::${xpw.port}\n127.0.0.1:${plain.port}`;
    setText = `127.0.0.1::${xpw.port}, 127.0.0.1::${plain.port}`;
    dataDir = scratchFolder('quick-data');
    [app, browser] = await Promise.all([startApp({ env: { RETROVISOR_DATA_DIR: dataDir } }), launchBrowser()]);
    page = await openAppPage(browser, app);
  });

  after(async () => {
    await browser?.close();
    await app?.stop();
  });

  /** Close, confirming the "Disconnect from N replicas?" question, back to the start screen. */
  async function closeSession(connected: number): Promise<void> {
    await page.click('[data-testid="close-session"]');
    const question = (await page.textContent('[data-testid="close-confirm"] h2', { timeout: 10_000 })) ?? '';
    assert.equal(question, `Disconnect from ${connected} replicas?`);
    await page.click('[data-testid="close-confirm-confirm"]');
    await page.waitForSelector('[data-testid="quick-connect-endpoints"]', { timeout: 10_000 });
  }

  it('connects with Ctrl+Enter from the password field', { timeout: 60_000 }, async () => {
    await page.fill('[data-testid="quick-connect-endpoints"]', endpoints);
    await page.fill('[data-testid="quick-connect-password"]', password);
    await page.focus('[data-testid="quick-connect-password"]');
    await page.keyboard.press('Control+Enter');
    await waitForReplicaState(page, 'r1', 'connected');
    await waitForReplicaState(page, 'r2', 'connected');
    await closeSession(2);
  });

  it('remembers the set that opened, never its password', { timeout: 30_000 }, async () => {
    await page.waitForSelector('[data-testid="recent-endpoint-set"]', { timeout: 10_000 });
    const shown = await page.locator('[data-testid="recent-endpoint-set"]').allTextContents();
    assert.deepEqual(shown, [setText]);
    const storage = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
    assert.ok(!storage.includes(password), 'the password is in the page storage');
    const files = everyFileText(dataDir);
    assert.ok(files.includes(`127.0.0.1::`), 'the set is in the data folder');
    assert.ok(!files.includes(password), 'the password is in a file under the data folder');
    // A new page is offered the same set: it comes from the back end, not from the page.
    const fresh = await openAppPage(browser, app);
    await fresh.waitForSelector('[data-testid="recent-endpoint-set"]', { timeout: 10_000 });
    assert.deepEqual(await fresh.locator('[data-testid="recent-endpoint-set"]').allTextContents(), [setText]);
    await fresh.close();
  });

  it('connects a remembered set with one click, and says when a password was refused', { timeout: 60_000 }, async () => {
    await page.click('[data-testid="recent-endpoint-set"]');
    await waitForReplicaState(page, 'r2', 'connected');
    await waitForReplicaState(page, 'r1', 'needs-password');
    assert.equal(await page.locator('[data-testid="password-message"]').count(), 0, 'a first prompt has nothing to report');
    await page.fill('[data-testid="password-input"]', 'not-the-password');
    await page.click('[data-testid="password-submit"]');
    await waitForReplicaState(page, 'r1', 'auth-failed');
    await page.click('[data-replica-id="r1"] [data-testid="retry-now"]');
    const message = (await page.textContent('[data-testid="password-message"]', { timeout: 10_000 })) ?? '';
    assert.match(message, new RegExp(`^The last password was refused by 127\\.0\\.0\\.1:\\d+`));
    await page.fill('[data-testid="password-input"]', password);
    await page.click('[data-testid="password-submit"]');
    await waitForReplicaState(page, 'r1', 'connected');
    await closeSession(2);
  });

  it('forgets a remembered set', { timeout: 30_000 }, async () => {
    await page.click('[data-testid="recent-endpoint-forget"]');
    await page.waitForSelector('[data-testid="recent-endpoints"]', { state: 'detached', timeout: 10_000 });
    assert.ok(!everyFileText(dataDir).includes('127.0.0.1::'), 'the set is still in the data folder');
  });
});
