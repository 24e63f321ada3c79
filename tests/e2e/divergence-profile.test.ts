// End to end, a profile's divergence settings against three Xvnc+xterm servers of our own:
// a difference inside the profile's ignore region is never flagged (and the region is shown on the
// overlay), one outside it is flagged over exactly its uncovered pixels; a profile with
// "enabled": false shows the same diverged servers without comparing them.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { readFramebuffer, startXvnc, typeWithXdotool, waitForStableFramebuffer, type Framebuffer, type XvncHandle } from '../lab/components';
import { eventually, launchBrowser, openAppPage, startApp, waitForReplicaState, writeProfile, type RunningApp } from './support/app';
import { divergenceStatus, divergentIds, type Region, regionsShown, union, waitForFlag } from './support/divergence-page';

const IDS = ['x1', 'x2', 'x3'] as const;
/** The xterm's first text line (y 3–15 here: border + one 13 px row of the "fixed" font): the prompt and the first typing. */
const IGNORED = { x: 0, y: 0, width: 640, height: 16, label: 'first line' };
/** Settle (400 ms) + confirm (600 ms) + ticks and the page's round trips, with room for a loaded machine. */
const FLAG_TIMEOUT_MS = 15_000;
/** Past settle + confirm: a wrong flag would be showing by then. */
const QUIET_WATCH_MS = 3000;
/** The toolbar's status when the profile turns comparison off (COMPARISON_OFF_TEXT in renderer/components/toolbar.tsx). */
const COMPARISON_OFF = /^Comparison is off for this profile/;

/**
 * Only for the quiet watches below, never to wait for something: they assert that NO flag appears for
 * QUIET_WATCH_MS, and the absence of an event has no event to wait for.
 */
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));


/** The box of the pixels that differ between two same-sized screens outside `ignored`; null when none do. */
function differenceOutside(a: Framebuffer, b: Framebuffer, ignored: Region): Region | null {
  assert.equal(a.width, b.width);
  let left = Infinity;
  let top = Infinity;
  let right = -1;
  let bottom = -1;
  for (let y = 0; y < a.height; y++) {
    for (let x = 0; x < a.width; x++) {
      if (x >= ignored.x && x < ignored.x + ignored.width && y >= ignored.y && y < ignored.y + ignored.height) continue;
      const offset = (y * a.width + x) * 4;
      if (a.rgba[offset] === b.rgba[offset] && a.rgba[offset + 1] === b.rgba[offset + 1] && a.rgba[offset + 2] === b.rgba[offset + 2]) continue;
      left = Math.min(left, x);
      top = Math.min(top, y);
      right = Math.max(right, x);
      bottom = Math.max(bottom, y);
    }
  }
  return right < 0 ? null : { x: left, y: top, width: right - left + 1, height: bottom - top + 1 };
}

/** How many pixels differ (any RGBA byte) between two same-sized screens outside `ignored`. */
function countOutside(a: Framebuffer, b: Framebuffer, ignored: Region): number {
  let count = 0;
  for (let y = 0; y < a.height; y++) {
    for (let x = 0; x < a.width; x++) {
      if (x >= ignored.x && x < ignored.x + ignored.width && y >= ignored.y && y < ignored.y + ignored.height) continue;
      const offset = (y * a.width + x) * 4;
      if (a.rgba.subarray(offset, offset + 4).some((byte, index) => byte !== b.rgba[offset + index])) count++;
    }
  }
  return count;
}

describe("a profile's divergence settings against real replicas", { timeout: 7 * 60_000 }, () => {
  let servers: XvncHandle[];
  let browser: Browser;
  const apps: RunningApp[] = [];

  function profile(divergence: unknown): string {
    return writeProfile({
      version: 1,
      name: 'divergence profile e2e',
      replicas: IDS.map((id, index) => ({ id, label: `xterm ${index + 1}`, vnc: { host: servers[index]?.host, port: servers[index]?.port } })),
      divergence,
    });
  }

  async function open(divergence: unknown): Promise<{ app: RunningApp; page: Page }> {
    const app = await startApp({ profilePath: profile(divergence) });
    apps.push(app);
    const page = await openAppPage(browser, app);
    for (const id of IDS) await waitForReplicaState(page, id, 'connected', 60_000);
    return { app, page };
  }

  before(async () => {
    const started = await Promise.all([startXvnc(), startXvnc(), startXvnc(), launchBrowser()]);
    servers = started.slice(0, 3) as XvncHandle[];
    browser = started[3];
  });

  after(async () => {
    await browser?.close();
    await Promise.allSettled(apps.map((app) => app.stop()));
    await Promise.allSettled((servers ?? []).map((server) => server.stop()));
  });

  it('ignores a difference inside the ignore region and flags one outside it, over exactly its uncovered pixels', async () => {
    const { app, page } = await open({ ignoreRegions: [IGNORED] });
    assert.deepEqual(JSON.parse((await page.getAttribute('[data-testid="divergence-overlay"]', 'data-ignore-regions')) ?? 'null'), [IGNORED], 'the overlay shows the ignore region');

    // xterm hides the mouse pointer on a keystroke: type and erase one character on all three through
    // the composite, so only what x2 alone gets below differs.
    await page.focus('#composite');
    await page.keyboard.press('KeyA');
    await page.keyboard.press('Backspace');
    let before: Framebuffer | null = null;
    const identical = await eventually(async () => {
      const screens = await Promise.all(servers.map((server) => waitForStableFramebuffer(server, { quietMs: 300, timeoutMs: 8000 })));
      before = screens[0] as Framebuffer;
      return screens.every((screen) => differenceOutside(before as Framebuffer, screen, { x: 0, y: 0, width: 0, height: 0 }) === null);
    }, 20_000, 200);
    assert.ok(identical && before, 'the three servers never showed the same screen after the same typing');

    // A character on x2's prompt line: inside the ignore region only.
    await typeWithXdotool(servers[1]?.display as number, 'Z');
    const typed = await waitForStableFramebuffer(servers[1] as XvncHandle, { quietMs: 300 });
    const change = differenceOutside(before, typed, { x: 0, y: 0, width: 0, height: 0 });
    assert.ok(change, 'x2 changed');
    assert.equal(differenceOutside(before, typed, IGNORED), null, `x2 changed on its first line only (changed: ${JSON.stringify(change)})`);
    // A deliberate quiet period (what is asserted is that nothing happens): checked every 200 ms.
    const deadline = Date.now() + QUIET_WATCH_MS;
    while (Date.now() < deadline) {
      assert.equal(await divergenceStatus(page), 'All replicas agree', `a difference inside the ignore region was flagged: ${JSON.stringify(await regionsShown(page))}`);
      await sleep(200);
    }
    assert.doesNotMatch(app.stderr(), /replicas diverge/);

    // Return on x2 runs "Z": the shell's complaint and the next prompt land below the ignore region.
    await typeWithXdotool(servers[1]?.display as number, '\n');
    const diverged = await waitForStableFramebuffer(servers[1] as XvncHandle, { quietMs: 300 });
    const reference = await readFramebuffer(servers[0] as XvncHandle);
    const expected = differenceOutside(reference, diverged, IGNORED);
    assert.ok(expected && expected.y >= IGNORED.height, `x2 now differs below the first line (${JSON.stringify(expected)})`);

    const shown = await waitForFlag(page, FLAG_TIMEOUT_MS);
    assert.deepEqual(union(shown), expected, `the red regions ${JSON.stringify(shown)} cover exactly the differing pixels outside the ignore region`);
    assert.ok(shown.every((region) => region.y >= IGNORED.y + IGNORED.height), 'no red inside the ignore region');
    assert.deepEqual(await divergentIds(page), ['x2']);
    assert.match(await divergenceStatus(page), /— xterm 2 is the outlier$/);

    // The diff view follows the same profile: pixels in the ignore region are not counted.
    await page.click('[data-replica-id="x2"] [data-testid="open-diff"]');
    await page.waitForSelector('[data-testid="diff-view"][data-state="compared"]', { timeout: 10_000 });
    assert.equal(await page.getAttribute('[data-testid="diff-view"]', 'data-reference-id'), 'x1');
    assert.equal(Number(await page.getAttribute('[data-testid="diff-view"]', 'data-differing-pixels')), countOutside(reference, diverged, IGNORED));
    assert.match((await page.textContent('[data-testid="diff-subtitle"]')) ?? '', new RegExp(`${(IGNORED.width * IGNORED.height).toLocaleString('en-US')} pixels in ignore regions not compared`));
    await page.keyboard.press('Escape');
    await page.waitForSelector('[data-testid="diff-view"]', { state: 'detached', timeout: 5000 });
  });

  it('"enabled": false shows the diverged servers without comparing them', async () => {
    const { app, page } = await open({ enabled: false });
    // The servers still differ (x2 ran "Z" above): with comparison on this is flagged within FLAG_TIMEOUT_MS.
    const [reference, other] = await Promise.all([readFramebuffer(servers[0] as XvncHandle), readFramebuffer(servers[1] as XvncHandle)]);
    assert.ok(differenceOutside(reference, other, { x: 0, y: 0, width: 0, height: 0 }), 'x1 and x2 differ');
    assert.match(await divergenceStatus(page), COMPARISON_OFF);
    // A deliberate quiet period: with comparison off, nothing may be flagged however long one waits.
    await sleep(QUIET_WATCH_MS);
    assert.match(await divergenceStatus(page), COMPARISON_OFF);
    assert.deepEqual(await regionsShown(page), []);
    assert.deepEqual(await divergentIds(page), []);
    assert.doesNotMatch(app.stderr(), /replicas diverge/);
  });
});
