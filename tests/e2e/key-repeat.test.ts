// Key repeat against real VNC servers that autorepeat held keys (x11vnc -repeat on Xvfb: XKB repeats
// after 660 ms, 25 per second; Xvnc and x11vnc's default do not). By default RetroVisor taps every
// non-modifier key, so a key held for 1.5 s gives exactly one character on every replica and the
// browser's own repeats give exactly that many; with "Hold keys on the servers" each server repeats
// on its own timer — the reason the default taps: that count depends on each server's clock.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { compareFramebuffers, startX11vnc, typeWithXdotool, waitForStableFramebuffer, type Framebuffer, type X11vncHandle } from '../lab/components';
import { eventually, launchBrowser, openAppPage, startApp, waitForReplicaState, writeProfile, type RunningApp } from './support/app';

const IDS = ['k1', 'k2'] as const;
/** Long enough for a server that repeats after 660 ms, 25 times a second, to repeat ~20 times. */
const HOLD_MS = 1500;

describe('key repeat on servers that autorepeat', { timeout: 180_000 }, () => {
  let servers: X11vncHandle[];
  let control: X11vncHandle;
  let app: RunningApp;
  let browser: Browser;
  let page: Page;

  /** The settled screens of both replicas and of the control server. */
  async function screens(): Promise<{ replicas: Framebuffer[]; control: Framebuffer }> {
    const read = await Promise.all([...servers, control].map((server) => waitForStableFramebuffer(server, { quietMs: 300, timeoutMs: 8000 })));
    return { replicas: read.slice(0, servers.length), control: read[servers.length] as Framebuffer };
  }

  /** Waits until both replicas show exactly what the control shows. */
  async function expectLikeControl(what: string): Promise<void> {
    let detail = '';
    const same = await eventually(async () => {
      const shown = await screens();
      const mismatch = shown.replicas.findIndex((screen) => !compareFramebuffers(screen, shown.control).identical);
      if (mismatch >= 0) detail = `${IDS[mismatch]}: ${compareFramebuffers(shown.replicas[mismatch] as Framebuffer, shown.control).differingPixels} pixels differ from the control`;
      return mismatch < 0;
    }, 15_000, 250);
    assert.ok(same, `${what}: ${detail}`);
  }

  before(async () => {
    const started = await Promise.all([startX11vnc({ autorepeat: true }), startX11vnc({ autorepeat: true }), startX11vnc(), launchBrowser()]);
    servers = started.slice(0, 2) as X11vncHandle[];
    control = started[2];
    browser = started[3];
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
    await Promise.allSettled([...(servers ?? []), control].map((server) => server?.stop()));
  });

  it('gives one character for a key held 1.5 s: the servers never see it held', async () => {
    await page.keyboard.down('KeyA');
    await page.waitForTimeout(HOLD_MS);
    await page.keyboard.up('KeyA');
    await page.keyboard.press('Enter');
    await typeWithXdotool(control.display, 'a\n');
    await expectLikeControl('after holding A');
  });

  it("gives exactly the browser's repeats: four key-downs of B are four characters everywhere", async () => {
    for (let repeat = 0; repeat < 4; repeat++) await page.keyboard.down('KeyB');
    await page.keyboard.up('KeyB');
    await page.keyboard.press('Enter');
    await typeWithXdotool(control.display, 'bbbb\n');
    await expectLikeControl('after four repeats of B');
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
    await page.keyboard.down('KeyC');
    await page.waitForTimeout(HOLD_MS);
    await page.keyboard.up('KeyC');
    await page.keyboard.press('Enter');
    await typeWithXdotool(control.display, 'c\n');
    const shown = await screens();
    for (const [index, screen] of shown.replicas.entries()) {
      const comparison = compareFramebuffers(screen, shown.control);
      // The control typed one C; a server that repeated shows a line of them.
      assert.ok(!comparison.identical, `${IDS[index]} shows a single C: the server did not see the key held`);
      assert.ok((comparison.box?.width ?? 0) > 60, `${IDS[index]}: only ${JSON.stringify(comparison.box)} differs; expected a run of repeated Cs`);
    }
  });
});
