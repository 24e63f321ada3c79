// End to end on the built-in demo lab, at 1280×720, 1440×900 and 1920×1080 with three replicas: no
// horizontal overflow and every toolbar control inside the window and clickable, with and without the
// red divergence message; the broadcast badge beside, never over, the remote screen; a reference
// card with a divergence badge keeps its name; the keyboard: Tab onto the screen does not trap,
// Enter captures, Ctrl+Alt releases to the toolbar, the focus ring is not the broadcast orange; full
// screen shows the state, the outlier and a keyboard-reachable way out. Runs in Node with real processes.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { eventually, launchBrowser, openDemoLabPage, startApp, type RunningApp } from './support/app';

const REPLICAS = ['r1', 'r2', 'r3'];
const VIEWPORTS = [
  { width: 1280, height: 720 },
  { width: 1440, height: 900 },
  { width: 1920, height: 1080 },
] as const;

interface Box {
  readonly left: number;
  readonly top: number;
  readonly right: number;
  readonly bottom: number;
}

/** What the page shows of its toolbar: overflow, and every control that is out of view or covered. */
async function toolbarProblems(page: Page): Promise<{ scrollWidth: number; innerWidth: number; controls: number; problems: string[]; overflowing: string[] }> {
  return page.evaluate(() => {
    const problems: string[] = [];
    const controls = [...document.querySelectorAll<HTMLElement>('[role="toolbar"] button, [role="toolbar"] [role="button"]')];
    for (const control of controls) {
      const name = control.getAttribute('data-testid') ?? control.getAttribute('aria-label') ?? control.textContent?.trim() ?? '?';
      const box = control.getBoundingClientRect();
      if (box.width === 0 || box.height === 0) {
        problems.push(`${name} is not displayed`);
        continue;
      }
      if (box.left < 0 || box.top < 0 || box.right > innerWidth || box.bottom > innerHeight) {
        problems.push(`${name} at ${Math.round(box.left)}–${Math.round(box.right)} × ${Math.round(box.top)}–${Math.round(box.bottom)} is outside ${innerWidth}×${innerHeight}`);
        continue;
      }
      const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
      if (hit === null || !(hit === control || control.contains(hit))) problems.push(`${name} is covered by ${hit === null ? 'nothing' : hit.outerHTML.slice(0, 80)}`);
    }
    // The outermost elements that reach past the window's right edge, to name what widens the page.
    const overflowing: string[] = [];
    for (const element of document.body.querySelectorAll<HTMLElement>('*')) {
      const box = element.getBoundingClientRect();
      if (box.right <= innerWidth + 0.5 || (element.parentElement !== null && element.parentElement.getBoundingClientRect().right > innerWidth + 0.5)) continue;
      const name = element.getAttribute('data-testid') ?? `${element.tagName.toLowerCase()}.${element.className}`;
      overflowing.push(`${name} ${Math.round(box.left)}–${Math.round(box.right)} (${getComputedStyle(element).position})`);
    }
    // And how the row beside the screen shares the width (the stage, the timeline, the side panels).
    for (const child of document.querySelector('.workspace-body')?.children ?? []) {
      const box = child.getBoundingClientRect();
      overflowing.push(`[${child.getAttribute('data-testid') ?? child.className}${child.hasAttribute('data-collapsed') ? ` collapsed=${child.getAttribute('data-collapsed')}` : ''} ${Math.round(box.left)}–${Math.round(box.right)}]`);
    }
    return { scrollWidth: document.documentElement.scrollWidth, innerWidth, controls: controls.length, problems, overflowing };
  });
}

async function boxOf(page: Page, selector: string): Promise<Box> {
  const box = await page.locator(selector).boundingBox();
  assert.ok(box, `${selector} is not displayed`);
  return { left: box.x, top: box.y, right: box.x + box.width, bottom: box.y + box.height };
}

function intersects(a: Box, b: Box): boolean {
  return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
}

/** The composite's outline and the stage's broadcast frame, as computed. */
async function keyboardLook(page: Page): Promise<{ outlineStyle: string; outlineColor: string; outlineWidth: string; frame: string; keyboard: string | null }> {
  return page.evaluate(() => {
    const canvas = document.getElementById('composite') as HTMLCanvasElement;
    const style = getComputedStyle(canvas);
    const stage = document.querySelector('[data-testid="stage"]') as HTMLElement;
    return { outlineStyle: style.outlineStyle, outlineColor: style.outlineColor, outlineWidth: style.outlineWidth, frame: getComputedStyle(stage).boxShadow, keyboard: canvas.getAttribute('data-keyboard') };
  });
}

async function activeTestId(page: Page): Promise<string> {
  return page.evaluate(() => {
    const active = document.activeElement;
    if (active === null || active === document.body) return 'body';
    return active.id === 'composite' ? 'composite' : (active.getAttribute('data-testid') ?? active.outerHTML.slice(0, 60));
  });
}

async function chooseDemoReplica(page: Page, replicaId: string): Promise<void> {
  await page.locator(`[data-testid="demo-replica-tab"][data-demo-replica-id="${replicaId}"]`).click();
  await page.locator(`[data-testid="demo-controls"][data-demo-replica-id="${replicaId}"]`).waitFor();
}

describe('the workspace layout and keyboard on the demo lab', { timeout: 240_000 }, () => {
  let app: RunningApp;
  let browser: Browser;
  let page: Page;
  let dataDir = '';

  before(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'retrovisor-layout-e2e-'));
    [app, browser] = await Promise.all([startApp({ env: { RETROVISOR_DATA_DIR: dataDir } }), launchBrowser()]);
    page = await openDemoLabPage(browser, app, REPLICAS, VIEWPORTS[0]);
    await page.getByTestId('demo-panel').waitFor();
  });

  after(async () => {
    await browser?.close();
    await app?.stop();
    if (dataDir !== '') await rm(dataDir, { recursive: true, force: true });
  });

  /** Every viewport: nothing overflows sideways, every toolbar control is in view and clickable, the badge is off the screen's pixels. */
  async function checkEveryViewport(what: string): Promise<void> {
    for (const viewport of VIEWPORTS) {
      await page.setViewportSize(viewport);
      let shown = await toolbarProblems(page);
      // Layout follows the resize within a frame or two (the composite is fitted from a ResizeObserver).
      await eventually(async () => {
        shown = await toolbarProblems(page);
        return shown.problems.length === 0 && shown.scrollWidth <= shown.innerWidth;
      }, 3000, 100);
      const at = `${what} at ${viewport.width}×${viewport.height}`;
      assert.ok(shown.scrollWidth <= shown.innerWidth, `${at}: the page is ${shown.scrollWidth} px wide: ${shown.overflowing.join(', ')}`);
      assert.ok(shown.controls >= 8, `${at}: only ${shown.controls} toolbar controls found`);
      assert.deepEqual(shown.problems, [], at);
      for (const testId of ['close-session', 'fullscreen', 'timeline-toggle', 'export-journal', 'special-keys', 'broadcast-toggle', 'view-fit', 'view-1to1']) {
        assert.ok(await page.getByTestId(testId).isVisible(), `${at}: ${testId} is not visible`);
      }
      // The badge sits beside the remote screen, never over its pixels (Fit mode).
      const [badge, canvas] = await Promise.all([boxOf(page, '[data-testid="broadcast-badge"]'), boxOf(page, '#composite')]);
      assert.ok(!intersects(badge, canvas), `${at}: the badge ${JSON.stringify(badge)} covers the screen ${JSON.stringify(canvas)}`);
      assert.ok(canvas.bottom - canvas.top > 100, `${at}: the screen is only ${canvas.bottom - canvas.top} px tall`);
    }
  }

  it('keeps every toolbar control in the window at three sizes while all agree', async () => {
    assert.equal(await page.getAttribute('[data-testid="divergence-status"]', 'data-diverged'), 'false');
    assert.equal(await page.getByTestId('view-fit').getAttribute('aria-pressed'), 'true');
    await checkEveryViewport('all agree');
  });

  it('keeps them there with the red divergence message and the timeline open, the message cut with its full text as tooltip', async () => {
    // A banner on the reference replica: the reference card now carries a divergence badge.
    await chooseDemoReplica(page, 'r1');
    await page.getByTestId('demo-banner-input').fill('OUTLIER ON THE REFERENCE');
    await page.getByTestId('demo-banner-apply').click();
    await page.waitForSelector('[data-testid="divergence-status"][data-diverged="true"]', { timeout: 20_000 });
    await page.getByTestId('timeline-toggle').click();
    await page.getByTestId('timeline').waitFor();
    await checkEveryViewport('diverged, timeline open');
    const status = page.getByTestId('divergence-status');
    // The tooltip holds the whole status (and, on a divergence, that a click opens its timeline entry).
    const fullText = (await status.textContent())?.trim() ?? '';
    assert.ok(fullText.length > 0);
    assert.ok((await status.getAttribute('title'))?.startsWith(fullText), 'the tooltip starts with the full status text');
    assert.match((await status.getAttribute('title')) ?? '', /Demo 1 is the outlier/);
  });

  it('wraps the toolbar onto a second row rather than cut a control off, even below 1280 px', async () => {
    // Wide, the remediation panel docks beside the open timeline. Then straight to 800 px in one step:
    // the side panels squeeze the stage to 0 px, and the panel must fold rather than keep it there.
    await page.getByTestId('timeline').waitFor();
    await page.setViewportSize({ width: 1920, height: 1080 });
    await page.waitForSelector('[data-testid="remediation-panel"][data-collapsed="false"]', { timeout: 5000 });
    for (const viewport of [
      { width: 800, height: 720 },
      { width: 1100, height: 720 },
      { width: 800, height: 720 },
    ]) {
      await page.setViewportSize(viewport);
      let shown = await toolbarProblems(page);
      await eventually(async () => {
        shown = await toolbarProblems(page);
        return shown.problems.length === 0 && shown.scrollWidth <= shown.innerWidth;
      }, 3000, 100);
      assert.ok(shown.scrollWidth <= shown.innerWidth, `${viewport.width}×${viewport.height}: the page is ${shown.scrollWidth} px wide: ${shown.overflowing.join(', ')}`);
      assert.deepEqual(shown.problems, [], `${viewport.width}×${viewport.height}`);
    }
  });

  it('keeps the name of a reference card that shows a divergence badge, with its end and the full name as tooltip', async () => {
    await page.setViewportSize(VIEWPORTS[0]);
    const card = page.locator('.thumbnail[data-replica-id="r1"]');
    await card.locator('[data-testid="divergence-badge"]').waitFor();
    const label = card.locator('.thumbnail-label');
    assert.equal(await label.getAttribute('title'), 'Demo 1');
    const shown = ((await label.locator('[aria-hidden="true"]').textContent({ timeout: 5000 })) ?? '').trim();
    assert.ok(shown.endsWith(' 1'), `the reference card shows "${shown}" for "Demo 1"`);
    const width = (await label.boundingBox())?.width ?? 0;
    assert.ok(width >= 20, `the reference card's name is ${width} px wide`);
  });

  it('does not trap Tab on the screen: Tab focuses it, Enter captures, Ctrl+Alt gives the keyboard back to the toolbar', async () => {
    await page.getByTestId('timeline-toggle').click();
    await page.getByTestId('timeline').waitFor({ state: 'detached' });
    // From the toolbar's last control, Tab goes on to the screen: focused, not captured.
    await page.getByTestId('close-session').focus();
    let reached = false;
    for (let step = 0; step < 10 && !reached; step++) {
      await page.keyboard.press('Tab');
      reached = (await activeTestId(page)) === 'composite';
    }
    assert.ok(reached, `Tab never reached the screen (focus is on ${await activeTestId(page)})`);
    await page.waitForSelector('[data-testid="broadcast-badge"][data-focused="true"][data-captured="false"]');
    assert.match((await page.textContent('[data-testid="broadcast-badge"]')) ?? '', /Enter or click to type/);
    const focusedLook = await keyboardLook(page);
    assert.equal(focusedLook.keyboard, 'focused');
    assert.equal(focusedLook.outlineStyle, 'dashed');
    // Tab again leaves it: not trapped.
    await page.keyboard.press('Tab');
    assert.notEqual(await activeTestId(page), 'composite', 'Tab stayed on the uncaptured screen');
    await page.keyboard.press('Shift+Tab');
    assert.equal(await activeTestId(page), 'composite');

    // Enter captures: now Tab stays (it goes to the replicas), the badge names the release chord.
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid="broadcast-badge"][data-captured="true"]');
    assert.match((await page.textContent('[data-testid="broadcast-badge"]')) ?? '', /Ctrl\+Alt to release the keyboard/);
    await page.keyboard.press('Tab');
    await page.keyboard.press('Escape');
    await page.keyboard.press('F6');
    assert.equal(await activeTestId(page), 'composite', 'Tab, Escape and F6 go to the replicas while captured');

    // The captured ring is solid blue, not the broadcast frame's orange.
    const look = await keyboardLook(page);
    assert.equal(look.keyboard, 'captured');
    assert.equal(look.outlineStyle, 'solid');
    assert.equal(look.outlineColor, 'rgb(91, 140, 255)');
    assert.match(look.frame, /rgb\(255, 138, 61\)/, `the stage's broadcast frame: ${look.frame}`);
    assert.ok(!look.frame.includes(look.outlineColor), `the focus ring ${look.outlineColor} has the broadcast frame's colour (${look.frame})`);

    // Ctrl+Alt, pressed and released alone, releases: focus goes to the toolbar and Tab navigates from there.
    await page.keyboard.down('Control');
    await page.keyboard.down('Alt');
    await page.keyboard.up('Alt');
    await page.keyboard.up('Control');
    await page.waitForSelector('[data-testid="broadcast-badge"][data-captured="false"]');
    const released = await page.evaluate(() => document.activeElement?.closest('[role="toolbar"]') !== null && document.activeElement !== document.body);
    assert.ok(released, `after Ctrl+Alt the focus is on ${await activeTestId(page)}, not in the toolbar`);
    const first = await activeTestId(page);
    await page.keyboard.press('Tab');
    const second = await activeTestId(page);
    assert.notEqual(second, first, 'Tab moves on from the toolbar');
    assert.notEqual(second, 'composite');

    // A click on the screen captures again.
    await page.click('#composite');
    await page.waitForSelector('[data-testid="broadcast-badge"][data-captured="true"]');
  });

  it('shows the state, the outlier and a keyboard-reachable way out in full screen', async () => {
    await page.setViewportSize(VIEWPORTS[0]);
    await page.getByTestId('fullscreen').click();
    // Headless Chromium grants the Fullscreen API: the stage is the full-screen element.
    const entered = await eventually(async () => page.evaluate(() => document.fullscreenElement?.getAttribute('data-testid') === 'stage'), 5000, 100);
    assert.ok(entered, 'the stage did not go full screen');
    await page.waitForSelector('[data-testid="fullscreen-state"]');
    assert.equal(await page.getAttribute('[data-testid="fullscreen-state"]', 'data-diverged'), 'true');
    assert.equal(await page.getAttribute('[data-testid="fullscreen-state"]', 'data-outliers'), 'r1');
    assert.match((await page.textContent('[data-testid="fullscreen-outliers"]')) ?? '', /Outlier: Demo 1/);
    assert.match((await page.textContent('[data-testid="fullscreen-exit"]')) ?? '', /Exit full screen\s*Esc/);
    const [exit, badge, canvas] = await Promise.all([boxOf(page, '[data-testid="fullscreen-exit"]'), boxOf(page, '[data-testid="broadcast-badge"]'), boxOf(page, '#composite')]);
    const viewport = page.viewportSize() ?? VIEWPORTS[0];
    assert.ok(exit.right <= viewport.width && exit.bottom <= viewport.height && exit.left >= 0 && exit.top >= 0, `Exit is at ${JSON.stringify(exit)}`);
    assert.ok(!intersects(exit, canvas) && !intersects(badge, canvas), 'the full-screen bar covers the screen');

    // Keyboard only: capture, release with Ctrl+Alt (focus goes to Exit), Enter leaves full screen.
    await page.click('#composite');
    await page.waitForSelector('[data-testid="broadcast-badge"][data-captured="true"]');
    await page.keyboard.down('Control');
    await page.keyboard.down('Alt');
    await page.keyboard.up('Alt');
    await page.keyboard.up('Control');
    assert.ok(await eventually(async () => (await activeTestId(page)) === 'fullscreen-exit', 3000, 50), `focus is on ${await activeTestId(page)}`);
    await page.keyboard.press('Enter');
    const left = await eventually(async () => page.evaluate(() => document.fullscreenElement === null), 5000, 100);
    assert.ok(left, 'Enter on Exit full screen did not leave full screen');
    await page.waitForSelector('[data-testid="fullscreen-state"]', { state: 'detached' });
    assert.equal(await page.getByTestId('fullscreen').getAttribute('aria-pressed'), 'false');
  });
});
