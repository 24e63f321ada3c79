// End to end in Chromium through the browser shell on the built-in demo lab: a divergence raises one
// Web Notification naming the outlier (permission granted by the test, asked from the "Notify me"
// click), the page title and favicon follow the state and come back when it is resolved, and none of
// them carries the launch secret. And the demo panel fits laptop windows (1280×720 to 1536×864) with
// classic (space-taking) scrollbars: its Apply buttons and the replicas' state column are in view
// and clickable. Runs in Node with real processes.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { headlessChromiumFlags } from '../../main/chromium';
import { CHROMIUM_PATH, eventually, launchBrowser, startApp, waitForReplicaState, type RunningApp } from './support/app';

const REPLICAS = ['r1', 'r2', 'r3'];

interface Captured {
  readonly title: string;
  readonly body: string;
  readonly tag: string;
}

/**
 * Records every Web Notification the page creates (headless Chromium may not display them), then
 * creates the real one. Installed before the page's scripts run.
 */
const CAPTURE_NOTIFICATIONS = `
globalThis.__name = (fn) => fn;
(() => {
  const Real = window.Notification;
  const captured = [];
  window.__notifications = captured;
  function Captured(title, options) {
    captured.push({ title: String(title), body: String(options?.body ?? ''), tag: String(options?.tag ?? '') });
    try { return new Real(title, options); } catch { return { onclick: null }; }
  }
  Object.defineProperty(Captured, 'permission', { get: () => Real.permission });
  Captured.requestPermission = () => Real.requestPermission();
  window.Notification = Captured;
})();
`;

async function openDemoLab(context: BrowserContext, app: RunningApp): Promise<Page> {
  const page = await context.newPage();
  page.on('pageerror', (error) => console.error('page error:', error.message));
  await page.addInitScript(CAPTURE_NOTIFICATIONS);
  await page.goto(app.url);
  await page.getByTestId('open-demo-lab').click({ timeout: 15_000 });
  for (const id of REPLICAS) await waitForReplicaState(page, id, 'connected', 30_000);
  return page;
}

async function pageState(page: Page): Promise<{ title: string; favicon: string; faviconState: string; notifications: Captured[] }> {
  return page.evaluate(() => {
    const link = document.querySelector<HTMLLinkElement>('link[rel="icon"]');
    return {
      title: document.title,
      favicon: link?.href ?? '',
      faviconState: link?.dataset.state ?? '',
      notifications: (window as unknown as { __notifications: Captured[] }).__notifications,
    };
  });
}

async function chooseDemoReplica(page: Page, replicaId: string): Promise<void> {
  await page.locator(`[data-testid="demo-replica-tab"][data-demo-replica-id="${replicaId}"]`).click();
  await page.locator(`[data-testid="demo-controls"][data-demo-replica-id="${replicaId}"]`).waitFor();
}

/** Every demo panel control (and state label) that is not inside the window and the panel, or is covered. */
async function demoPanelProblems(page: Page): Promise<{ problems: string[]; checked: number; overflowX: number }> {
  return page.evaluate(() => {
    const panel = document.querySelector<HTMLElement>('[data-testid="demo-panel"]');
    if (panel === null) return { problems: ['no demo panel'], checked: 0, overflowX: 0 };
    const problems: string[] = [];
    const targets = [...panel.querySelectorAll<HTMLElement>('button, input, .demo-domain-state')];
    for (const target of targets) {
      const name = target.getAttribute('data-testid') ?? target.className;
      // The panel scrolls vertically (a short window): what is below is reached by scrolling, never sideways.
      target.scrollIntoView({ block: 'nearest', inline: 'nearest' });
      const box = target.getBoundingClientRect();
      const frame = panel.getBoundingClientRect();
      if (box.width === 0 || box.height === 0) {
        if (!target.classList.contains('demo-domain-state')) problems.push(`${name} is not displayed`);
        continue;
      }
      if (box.left < 0 || box.top < 0 || box.right > innerWidth || box.bottom > innerHeight) problems.push(`${name} is outside the window`);
      else if (box.left < frame.left || box.right > frame.left + panel.clientWidth + 1) problems.push(`${name} at ${Math.round(box.left)}–${Math.round(box.right)} is cut by the panel (${Math.round(frame.left)}–${Math.round(frame.left + panel.clientWidth)})`);
      else {
        const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
        if (hit === null || !(hit === target || target.contains(hit) || hit.contains(target))) problems.push(`${name} is covered by ${hit === null ? 'nothing' : hit.outerHTML.slice(0, 80)}`);
      }
    }
    return { problems, checked: targets.length, overflowX: panel.scrollWidth - panel.clientWidth };
  });
}

describe('the browser shell on the desktop: notifications, title, favicon, and the demo panel at laptop sizes', { timeout: 240_000 }, () => {
  let app: RunningApp;
  let browser: Browser;
  let dataDir = '';

  before(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'retrovisor-desktop-e2e-'));
    [app, browser] = await Promise.all([startApp({ env: { RETROVISOR_DATA_DIR: dataDir } }), launchBrowser()]);
  });

  after(async () => {
    await browser?.close();
    await app?.stop();
    if (dataDir !== '') await rm(dataDir, { recursive: true, force: true });
  });

  it('raises one notification naming the outlier of a divergence; the title and favicon follow and come back', async () => {
    const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
    try {
      const page = await openDemoLab(context, app);
      assert.ok(await eventually(async () => (await pageState(page)).faviconState === 'all-agree', 10_000), JSON.stringify(await pageState(page)));
      const agreeing = await pageState(page);
      assert.match(agreeing.title, /^✓ All 3 agree — .+ — RetroVisor$/);
      assert.match(agreeing.favicon, /^data:image\/svg\+xml,/);

      // "Notify me", from a click: off until then; the browser grants the permission it asks for.
      await page.getByTestId('notifications-menu').click();
      assert.equal(await page.getByTestId('notify-me').getAttribute('aria-checked'), 'false');
      await context.grantPermissions(['notifications'], { origin: new URL(app.url).origin });
      await page.getByTestId('notify-me').click();
      assert.ok(await eventually(async () => (await page.getByTestId('notify-me').getAttribute('aria-checked')) === 'true', 5000), 'Notify me did not turn on');
      await page.keyboard.press('Escape');

      await chooseDemoReplica(page, 'r2');
      await page.getByTestId('demo-banner-input').fill('HACKED');
      await page.getByTestId('demo-banner-apply').click();
      assert.ok(await eventually(async () => (await pageState(page)).faviconState === 'divergence', 20_000), JSON.stringify(await pageState(page)));
      assert.ok(await eventually(async () => (await pageState(page)).notifications.length > 0, 10_000), 'no notification');
      const diverged = await pageState(page);
      assert.match(diverged.title, /^● 2 of 3 agree, Demo 2 differs \(\d+ regions?\) — .+ — RetroVisor$/);
      assert.notEqual(diverged.favicon, agreeing.favicon);
      const divergences = diverged.notifications.filter((notification) => /differs in/.test(notification.title));
      assert.equal(divergences.length, 1, JSON.stringify(diverged.notifications));
      assert.match(divergences[0]?.title ?? '', /^Demo 2 differs in /);

      // Resolved: the demo L0 resets r2 (its banner goes); the title and favicon come back.
      await page.getByTestId('demo-l0-reset').click();
      assert.ok(await eventually(async () => (await pageState(page)).faviconState === 'all-agree', 30_000), JSON.stringify(await pageState(page)));
      const resolved = await pageState(page);
      assert.equal(resolved.title, agreeing.title);
      assert.equal(resolved.favicon, agreeing.favicon);

      // Nothing carries the launch secret (the path segment of the page's URL).
      const secret = new URL(app.url).pathname.split('/').filter((part) => part.length >= 16)[0];
      assert.ok(secret !== undefined, `no launch secret in ${app.url}`);
      for (const text of [resolved.title, diverged.title, decodeURIComponent(resolved.favicon), ...resolved.notifications.flatMap((notification) => [notification.title, notification.body, notification.tag])]) {
        assert.ok(!text.includes(secret), `the launch secret is in "${text}"`);
      }
    } finally {
      await context.close();
    }
  });

  it('fits the demo panel from 1280×720 to 1536×864: Apply buttons and replica states in view and clickable', async () => {
    // Scrollbars as on a desktop: they take space (headless Chromium hides them unless told not to).
    const desktopBrowser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: [...headlessChromiumFlags()], ignoreDefaultArgs: ['--hide-scrollbars'] });
    const context = await desktopBrowser.newContext({ viewport: { width: 1440, height: 900 } });
    try {
      const page = await openDemoLab(context, app);
      await page.getByTestId('timeline-toggle').click();
      // The sizes laptops have (CSS pixels), from the two to the common 1366×768 and 1536×864.
      for (const viewport of [
        { width: 1440, height: 900 },
        { width: 1280, height: 720 },
        { width: 1366, height: 768 },
        { width: 1536, height: 864 },
        { width: 1280, height: 800 },
      ]) {
        await page.setViewportSize(viewport);
        let shown = await demoPanelProblems(page);
        await eventually(async () => {
          shown = await demoPanelProblems(page);
          return shown.problems.length === 0 && shown.overflowX <= 0;
        }, 3000, 100);
        const at = `${viewport.width}×${viewport.height}`;
        assert.ok(shown.checked >= 15, `${at}: only ${shown.checked} controls in the demo panel`);
        assert.deepEqual(shown.problems, [], at);
        assert.ok(shown.overflowX <= 0, `${at}: the demo panel scrolls sideways by ${shown.overflowX} px`);
        const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
        assert.ok(scrollWidth <= viewport.width, `${at}: the page is ${scrollWidth} px wide`);
      }
    } finally {
      await context.close();
      await desktopBrowser.close();
    }
  });
});
