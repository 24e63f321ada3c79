// End to end against three Xvnc+xterm replicas opened by quick connect at 1280×720: the cards show
// each port; while the composite captures the keyboard a Tab reaches the xterms (their screens end
// identical to a control xterm that got the same keys from xdotool); Ctrl+Alt gives the keyboard back
// to the page with every Ctrl and Alt press released on the replicas, so that after Tab back and
// Enter, typing produces plain letters, not control characters. Runs in Node with real processes.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { compareFramebuffers, startXvnc, waitForStableFramebuffer, type Framebuffer, type XvncHandle } from '../lab/components';
import { eventually, launchBrowser, openAppPage, startApp, typeLikeAPerson, waitForReplicaState, type RunningApp } from './support/app';

const run = promisify(execFile);
const IDS = ['r1', 'r2', 'r3'] as const;
const CONTROL_L = 0xffe3;
const ALT_L = 0xffe9;

/** Runs xdotool on the control server's display (it gets by hand what the composite sends). */
async function xdotool(display: number, ...args: string[]): Promise<void> {
  await run('xdotool', args, { env: { ...process.env, DISPLAY: `:${display}` }, timeout: 20_000 });
}

async function activeElementName(page: Page): Promise<string> {
  return page.evaluate(() => {
    const active = document.activeElement;
    if (active === null || active === document.body) return 'body';
    return active.id === 'composite' ? 'composite' : (active.getAttribute('data-testid') ?? active.tagName);
  });
}

describe('the keyboard on the composite against real xterms', { timeout: 180_000 }, () => {
  let servers: XvncHandle[] = [];
  let control: XvncHandle;
  let app: RunningApp;
  let browser: Browser;
  let page: Page;
  let dataDir = '';
  const portOf = new Map<string, number>();

  /** Waits until the three replicas' settled screens are identical to the control's. */
  async function expectLikeControl(what: string): Promise<void> {
    let detail = '';
    const same = await eventually(
      async () => {
        const screens = await Promise.all([control, ...servers].map((server) => waitForStableFramebuffer(server, { quietMs: 300, timeoutMs: 8000 })));
        const [expected, ...shown] = screens as [Framebuffer, ...Framebuffer[]];
        const mismatch = shown.findIndex((screen) => !compareFramebuffers(expected, screen).identical);
        detail = mismatch < 0 ? '' : `${IDS[mismatch]}: ${compareFramebuffers(expected, shown[mismatch] as Framebuffer).differingPixels} pixels differ from the control xterm`;
        return mismatch < 0;
      },
      20_000,
      200,
    );
    assert.ok(same, `${what}: ${detail}`);
  }

  async function readJournal(): Promise<Array<{ kind?: string; keysym?: number; down?: boolean }>> {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="export-journal"]')]);
    return readFileSync(await download.path(), 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as { kind?: string; keysym?: number; down?: boolean });
  }

  before(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'retrovisor-keyboard-e2e-'));
    const started = await Promise.all([startXvnc(), startXvnc(), startXvnc(), startXvnc(), launchBrowser(), startApp({ env: { RETROVISOR_DATA_DIR: dataDir } })]);
    servers = started.slice(0, 3) as XvncHandle[];
    control = started[3];
    browser = started[4];
    app = started[5];
    page = await openAppPage(browser, app, { width: 1280, height: 720 });
    await page.fill('[data-testid="quick-connect-endpoints"]', servers.map((server) => `127.0.0.1::${server.port}`).join('\n'));
    await page.click('[data-testid="quick-connect-submit"]');
    for (const [index, id] of IDS.entries()) {
      await waitForReplicaState(page, id, 'connected', 30_000).catch((error: unknown) => {
        throw new Error(`${id} did not connect: ${String(error)}\napp stderr:\n${app.stderr()}`);
      });
      portOf.set(id, (servers[index] as XvncHandle).port);
    }
  });

  after(async () => {
    await browser?.close();
    await app?.stop();
    await Promise.allSettled([...servers, control].map((server) => server?.stop()));
    if (dataDir !== '') await rm(dataDir, { recursive: true, force: true });
  });

  it('shows each quick-connect card\'s port at 1280×720, the full name as tooltip', async () => {
    for (const id of IDS) {
      const label = page.locator(`.thumbnail[data-replica-id="${id}"] .thumbnail-label`);
      const port = String(portOf.get(id));
      assert.equal(await label.getAttribute('title'), `127.0.0.1:${port}`);
      const shown = ((await label.locator('[aria-hidden="true"]').textContent({ timeout: 5000 })) ?? '').trim();
      assert.ok(shown.endsWith(`:${port}`), `${id}'s card shows "${shown}", not its port ${port}`);
      // The visible text is not clipped by the card: it fits its box.
      const fits = await label.evaluate((element) => element.scrollWidth <= element.clientWidth + 1);
      assert.ok(fits, `${id}'s name overflows its box`);
    }
  });

  it('sends Tab to the xterms while the composite captures the keyboard', async () => {
    await page.focus('#composite');
    await page.waitForSelector('[data-testid="broadcast-badge"][data-captured="true"]');
    await typeLikeAPerson(page, 'echo a');
    await page.keyboard.press('Tab');
    await typeLikeAPerson(page, 'b\n');
    await xdotool(control.display, 'type', 'echo a');
    await xdotool(control.display, 'key', 'Tab');
    await xdotool(control.display, 'type', 'b');
    await xdotool(control.display, 'key', 'Return');
    assert.equal(await activeElementName(page), 'composite', 'Tab moved the focus off the captured composite');
    await expectLikeControl('after "echo a<Tab>b"');
  });

  it('releases with Ctrl+Alt, leaves no modifier held on the replicas, and captures again with Enter', async () => {
    await page.keyboard.down('Control');
    await page.keyboard.down('Alt');
    await page.keyboard.up('Alt');
    await page.keyboard.up('Control');
    await page.waitForSelector('[data-testid="broadcast-badge"][data-captured="false"]');
    const releasedTo = await activeElementName(page);
    assert.notEqual(releasedTo, 'composite');
    assert.ok(await page.evaluate(() => document.activeElement?.closest('[role="toolbar"]') !== null), `after Ctrl+Alt the focus is on ${releasedTo}, not in the toolbar`);

    // Tab navigates the page normally now; keys typed on a toolbar button reach no replica.
    await page.keyboard.press('Tab');
    assert.notEqual(await activeElementName(page), releasedTo);
    await page.keyboard.press('KeyQ');

    // Tab on to the screen (focused, not captured: the Tabs stay in the page), Enter captures.
    let reached = false;
    for (let step = 0; step < 15 && !reached; step++) {
      await page.keyboard.press('Tab');
      reached = (await activeElementName(page)) === 'composite';
    }
    assert.ok(reached, `Tab never reached the screen (focus is on ${await activeElementName(page)})`);
    assert.equal(await page.getAttribute('[data-testid="broadcast-badge"]', 'data-captured'), 'false');
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid="broadcast-badge"][data-captured="true"]');

    // With Ctrl or Alt stuck these would arrive as control characters or Meta letters, not "echo ok".
    await typeLikeAPerson(page, 'echo ok\n');
    await xdotool(control.display, 'type', 'echo ok');
    await xdotool(control.display, 'key', 'Return');
    await expectLikeControl('after releasing, tabbing back, Enter and "echo ok"');

    // The chord reached the replicas balanced: every Ctrl and Alt press has its release.
    const journal = await readJournal();
    for (const [name, keysym] of [
      ['Control_L', CONTROL_L],
      ['Alt_L', ALT_L],
    ] as const) {
      const events = journal.filter((entry) => entry.kind === 'key' && entry.keysym === keysym);
      const presses = events.filter((entry) => entry.down === true).length;
      const releases = events.filter((entry) => entry.down === false).length;
      assert.ok(presses > 0, `no ${name} was sent at all`);
      assert.equal(releases, presses, `${name}: ${presses} presses, ${releases} releases`);
      assert.equal(events.at(-1)?.down, false, `the last ${name} event is a release`);
    }
  });
});
