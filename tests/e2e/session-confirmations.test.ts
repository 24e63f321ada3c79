// End to end, against two real Xvnc servers: the Keys menu works from the keyboard (WAI-ARIA menu
// button: arrows, Home/End, Escape back to the button); Ctrl+Alt+Del asks first and sends nothing
// when cancelled (the input journal shows what reached the replicas), and "Don't ask again" is kept;
// Close asks while replicas are connected, and not when none is.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { loadLabDescription } from '../lab/lab';
import { eventually, launchBrowser, openAppPage, startApp, waitForReplicaState, type RunningApp } from './support/app';
import { scratchFolder } from './support/scratch';

const DELETE_KEYSYM = 0xffff;
const PRINT_KEYSYM = 0xff61;

describe('Keys menu and confirmations', { timeout: 180_000 }, () => {
  let app: RunningApp;
  let browser: Browser;
  let page: Page;
  let dataDir: string;

  before(async () => {
    const lab = loadLabDescription();
    const plain = lab.xvnc.filter((server) => server.password === undefined);
    assert.ok(plain.length >= 2, 'the lab must have two Xvnc servers without a password');
    dataDir = scratchFolder('confirm-data');
    [app, browser] = await Promise.all([startApp({ env: { RETROVISOR_DATA_DIR: dataDir } }), launchBrowser()]);
    page = await openAppPage(browser, app);
    await page.fill('[data-testid="quick-connect-endpoints"]', plain.map((server) => `127.0.0.1::${server.port}`).join('\n'));
    await page.click('[data-testid="quick-connect-submit"]');
    await waitForReplicaState(page, 'r1', 'connected');
    await waitForReplicaState(page, 'r2', 'connected');
  });

  after(async () => {
    await browser?.close();
    await app?.stop();
  });

  /** Waits until the element with this data-testid has the focus; the error says which one has it. */
  async function expectFocus(testId: string, why = ''): Promise<void> {
    try {
      await page.waitForFunction((id) => document.activeElement?.getAttribute('data-testid') === id, testId, { timeout: 5_000 });
    } catch {
      const actual = await page.evaluate(() => document.activeElement?.getAttribute('data-testid') ?? document.activeElement?.tagName ?? null);
      assert.fail(`the focus is on ${actual}, not ${testId}${why === '' ? '' : `: ${why}`}`);
    }
  }
  /** Waits until the Keys menu is open (or closed). */
  const expectMenu = (open: boolean): Promise<unknown> => page.waitForSelector(`[data-testid="special-keys"][aria-expanded="${open}"]`, { timeout: 5_000 });

  /** The session's input journal as the app exports it: key entries' keysym and direction, in order. */
  async function journalKeys(): Promise<Array<{ keysym: number; down: boolean; targets: string[] }>> {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="export-journal"]')]);
    return readFileSync(await download.path(), 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as { kind: string; keysym: number; down: boolean; targets: string[] })
      .filter((entry) => entry.kind === 'key');
  }

  /** Sends Print Screen (asks nothing) and waits until it is journaled: whatever was sent before it is too. */
  async function sendMarkerAndReadJournal(): Promise<Array<{ keysym: number; down: boolean; targets: string[] }>> {
    await page.click('[data-testid="special-keys"]');
    await page.click('[data-testid="special-key-print"]');
    let keys: Awaited<ReturnType<typeof journalKeys>> = [];
    const seen = await eventually(async () => {
      keys = await journalKeys();
      return keys.some((entry) => entry.keysym === PRINT_KEYSYM && !entry.down);
    }, 10_000, 200);
    assert.ok(seen, 'the Print Screen marker never reached the journal');
    return keys;
  }

  it('moves through the Keys menu with the keyboard and gives the focus back on Escape', { timeout: 30_000 }, async () => {
    await page.focus('[data-testid="special-keys"]');
    await page.keyboard.press('ArrowDown');
    await expectMenu(true);
    await expectFocus('special-key-ctrl-alt-del');
    await page.keyboard.press('ArrowDown');
    await expectFocus('special-key-ctrl-alt-backspace');
    await page.keyboard.press('End');
    await expectFocus('key-repeat-server');
    await page.keyboard.press('Home');
    await expectFocus('special-key-ctrl-alt-del');
    await page.keyboard.press('ArrowUp');
    await expectFocus('key-repeat-server', 'Up from the first item wraps to the last');
    await page.keyboard.press('ArrowDown');
    await expectFocus('special-key-ctrl-alt-del', 'Down from the last item wraps to the first');
    await page.keyboard.press('Escape');
    await expectMenu(false);
    await expectFocus('special-keys');
    await page.keyboard.press('ArrowUp');
    await expectFocus('key-repeat-server', 'Up on the button opens on the last item');
    await page.keyboard.press('Escape');
    await expectFocus('special-keys');
  });

  it('asks before Ctrl+Alt+Del and Ctrl+Alt+Backspace, and sends nothing when cancelled', { timeout: 60_000 }, async () => {
    for (const id of ['ctrl-alt-del', 'ctrl-alt-backspace']) {
      await page.click('[data-testid="special-keys"]');
      await page.click(`[data-testid="special-key-${id}"]`);
      const question = (await page.textContent('[data-testid="system-key-confirm"] h2', { timeout: 10_000 })) ?? '';
      assert.equal(question, `Send ${id === 'ctrl-alt-del' ? 'Ctrl+Alt+Del' : 'Ctrl+Alt+Backspace'} to all 2 replicas?`);
      await page.click('[data-testid="system-key-confirm-cancel"]');
      await page.waitForSelector('[data-testid="system-key-confirm"]', { state: 'detached' });
    }
    const keys = await sendMarkerAndReadJournal();
    assert.deepEqual(
      keys.map((entry) => entry.keysym),
      [PRINT_KEYSYM, PRINT_KEYSYM],
      'only the marker reached the replicas',
    );
  });

  it('sends once confirmed, and "Don\'t ask again" is kept in the data folder', { timeout: 60_000 }, async () => {
    await page.click('[data-testid="special-keys"]');
    await page.click('[data-testid="special-key-ctrl-alt-del"]');
    await page.check('[data-testid="system-key-confirm-dont-ask"]');
    await page.click('[data-testid="system-key-confirm-confirm"]');
    await page.waitForSelector('[data-testid="system-key-confirm"]', { state: 'detached' });
    // Asked no more: the next one goes at once.
    await page.click('[data-testid="special-keys"]');
    await page.click('[data-testid="special-key-ctrl-alt-del"]');
    assert.equal(await page.locator('[data-testid="system-key-confirm"]').count(), 0);
    const keys = await sendMarkerAndReadJournal();
    const deletes = keys.filter((entry) => entry.keysym === DELETE_KEYSYM && entry.down);
    assert.equal(deletes.length, 2, JSON.stringify(keys));
    assert.deepEqual(deletes[0]?.targets, ['r1', 'r2']);
    const preferences = JSON.parse(readFileSync(join(dataDir, 'preferences.json'), 'utf8')) as { confirmSystemKeys: unknown };
    assert.equal(preferences.confirmSystemKeys, false);
    // The Keys menu can bring the question back.
    await page.click('[data-testid="special-keys"]');
    assert.equal(await page.getAttribute('[data-testid="confirm-system-keys"]', 'aria-checked'), 'false');
    await page.click('[data-testid="confirm-system-keys"]');
    await page.click('[data-testid="special-keys"]');
    await page.waitForSelector('[data-testid="confirm-system-keys"][aria-checked="true"]', { timeout: 10_000 });
    await page.keyboard.press('Escape');
  });

  it('asks before closing while replicas are connected, and not when none is', { timeout: 60_000 }, async () => {
    await page.click('[data-testid="close-session"]');
    assert.equal(await page.textContent('[data-testid="close-confirm"] h2', { timeout: 10_000 }), 'Disconnect from 2 replicas?');
    await page.click('[data-testid="close-confirm-cancel"]');
    await page.waitForSelector('[data-testid="close-confirm"]', { state: 'detached' });
    await waitForReplicaState(page, 'r1', 'connected', 1_000);
    await page.click('[data-testid="close-session"]');
    await page.click('[data-testid="close-confirm-confirm"]');
    await page.waitForSelector('[data-testid="quick-connect-endpoints"]', { timeout: 10_000 });
    // Port 1 on loopback: nothing listens, so nothing ever connects.
    await page.fill('[data-testid="quick-connect-endpoints"]', '127.0.0.1::1');
    await page.click('[data-testid="quick-connect-submit"]');
    await waitForReplicaState(page, 'r1', ['disconnected', 'reconnecting']);
    await page.click('[data-testid="close-session"]');
    await page.waitForSelector('[data-testid="quick-connect-endpoints"]', { timeout: 10_000 });
    assert.equal(await page.locator('[data-testid="close-confirm"]').count(), 0);
  });
});
