// Key repeat against real VNC servers that autorepeat held keys (x11vnc -repeat on Xvfb: XKB repeats
// after 660 ms, 25 per second; Xvnc and x11vnc's default do not). By default RetroVisor taps every
// non-modifier key, so a key held for 1.5 s gives exactly one character on every replica and the
// browser's own repeats give exactly that many; with "Hold keys on the servers" each server repeats
// on its own timer — the reason the default taps: that count depends on each server's clock.
// What each replica received is read from a file its shell writes (`echo … > DIR/$$`), not from its
// screen: x11vnc polls the X screen, so its framebuffer can lag behind by seconds under load.

import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { startX11vnc, type X11vncHandle } from '../lab/components';
import { eventually, launchBrowser, openAppPage, startApp, typeLikeAPerson, waitForReplicaState, writeProfile, type RunningApp } from './support/app';

const IDS = ['k1', 'k2'] as const;
/** Long enough for a server that repeats after 660 ms, 25 times a second, to repeat ~20 times. */
const HOLD_MS = 1500;

describe('key repeat on servers that autorepeat', { timeout: 180_000 }, () => {
  let servers: X11vncHandle[];
  let app: RunningApp;
  let browser: Browser;
  let page: Page;
  let folder: string;
  let round = 0;

  /**
   * Types `echo ` on every replica, runs `typeWord` (the key under test), then ` > FOLDER/ROUND-$$`
   * and Return: each replica's shell writes what it received to its own file ($$: the shell's pid).
   * Resolves with the files' contents, one per replica, once both are written.
   */
  async function echoedByEachReplica(typeWord: () => Promise<void>): Promise<string[]> {
    round += 1;
    await typeLikeAPerson(page, 'echo ');
    await typeWord();
    await typeLikeAPerson(page, ` > ${folder}/${round}-$$\n`);
    let files: string[] = [];
    const written = await eventually(async () => {
      files = readdirSync(folder).filter((name) => name.startsWith(`${round}-`));
      return files.length === IDS.length && files.every((name) => readFileSync(join(folder, name), 'utf8').endsWith('\n'));
    }, 15_000);
    assert.ok(written, `round ${round}: ${files.length} of ${IDS.length} replicas wrote their file (${files.join(', ')})`);
    return files.map((name) => readFileSync(join(folder, name), 'utf8').trimEnd());
  }

  before(async () => {
    // The path is typed on a US keyboard: keep it to plain characters.
    folder = mkdtempSync(join(tmpdir(), 'retrovisor-key-repeat-'));
    const started = await Promise.all([startX11vnc({ autorepeat: true }), startX11vnc({ autorepeat: true }), launchBrowser()]);
    servers = started.slice(0, 2) as X11vncHandle[];
    browser = started[2];
    const profilePath = writeProfile({
      version: 1,
      name: 'key repeat',
      replicas: IDS.map((id, index) => ({ id, label: `xterm ${index + 1}`, vnc: { host: servers[index]?.host, port: servers[index]?.port } })),
    });
    app = await startApp({ profilePath });
    page = await openAppPage(browser, app);
    for (const id of IDS) await waitForReplicaState(page, id, 'connected', 60_000);
    await page.focus('#composite');
  });

  after(async () => {
    await browser?.close();
    await app?.stop();
    await Promise.allSettled((servers ?? []).map((server) => server.stop()));
    rmSync(folder, { recursive: true, force: true });
  });

  it('gives one character for a key held 1.5 s: the servers never see it held', async () => {
    const echoed = await echoedByEachReplica(async () => {
      await page.keyboard.down('KeyA');
      await page.waitForTimeout(HOLD_MS);
      await page.keyboard.up('KeyA');
    });
    assert.deepEqual(echoed, ['a', 'a']);
  });

  it("gives exactly the browser's repeats: four key-downs of B are four characters everywhere", async () => {
    const echoed = await echoedByEachReplica(async () => {
      for (let repeat = 0; repeat < 4; repeat++) await page.keyboard.down('KeyB');
      await page.keyboard.up('KeyB');
    });
    assert.deepEqual(echoed, ['bbbb', 'bbbb']);
  });

  it('holds keys on the servers when asked: each server then repeats on its own', async () => {
    await page.click('[data-testid="special-keys"]');
    const toggle = page.getByTestId('key-repeat-server');
    assert.equal(await toggle.getAttribute('aria-checked'), 'false');
    await toggle.click();
    await page.click('[data-testid="special-keys"]');
    assert.equal(await page.getByTestId('key-repeat-server').getAttribute('aria-checked'), 'true');
    await page.keyboard.press('Escape');
    await page.focus('#composite');
    const echoed = await echoedByEachReplica(async () => {
      await page.keyboard.down('KeyC');
      await page.waitForTimeout(HOLD_MS);
      await page.keyboard.up('KeyC');
    });
    for (const [index, text] of echoed.entries()) {
      // Held 1.5 s on a server that repeats after 660 ms, 25 a second: a run of Cs, not one.
      assert.match(text, /^c{3,}$/, `replica ${index + 1} got ${JSON.stringify(text)}: the server did not see the key held`);
    }
  });
});
