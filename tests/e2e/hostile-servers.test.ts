// End to end, through the browser shell in headless Chromium: hostile VNC servers (rectangles far
// outside their desktop, an encoding nobody offered, handshakes that stall) are each dropped with
// the reason shown, while a good replica in the same session stays connected and keeps updating and
// the page stays up with bounded memory. Starts its own servers (the demo guest as the good one).

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { startDemoLab, type DemoLab, type DemoLabReplica } from '../../main/demo/demo-lab';
import { HANDSHAKE_TIMEOUT_MS } from '../../renderer/vnc/replica-session';
import {
  assertCanvasShowsServer,
  eventually,
  launchBrowser,
  openAppPage,
  readCanvas,
  startApp,
  thumbnailCanvas,
  waitForReplicaState,
  writeProfile,
  type RunningApp,
} from './support/app';
import { startHostileServer, type HostileBehaviour, type HostileServer } from './support/hostile-server';

/** Each hostile replica: its server's behaviour, the states it must end in and what it must say. */
const HOSTILE: readonly { id: string; behaviour: HostileBehaviour; states: readonly string[]; reason: RegExp }[] = [
  { id: 'zlib16384', behaviour: 'zlib-rectangle-16384', states: ['disconnected'], reason: /rectangle 16384×16384 at 0,0 outside the 640×400 desktop/ },
  { id: 'zlib4096', behaviour: 'zlib-rectangle-4096', states: ['disconnected'], reason: /rectangle 4096×4096 at 0,0 outside the 640×400 desktop/ },
  { id: 'tight', behaviour: 'tight-jpeg-rectangle', states: ['disconnected'], reason: /the server sent a Tight rectangle \(encoding 7\), which RetroVisor did not offer/ },
  {
    id: 'silent',
    behaviour: 'version-then-silence',
    states: ['disconnected', 'reconnecting'],
    reason: /the VNC handshake did not finish within 15 s \(waiting for the server's security types\)/,
  },
  { id: 'ra2ne', behaviour: 'ra2ne-only', states: ['disconnected', 'reconnecting'], reason: /the VNC handshake did not finish within 15 s \(.*RA2ne key/ },
];

/** The most JS heap plus ArrayBuffer backing store the page may hold (a refused rectangle allocates nothing). */
const MAX_PAGE_MEMORY_BYTES = 256 * 1024 * 1024;

/** Waits until a replica's thumbnail is in one of `states` and its text matches `reason`; fails with what it shows. */
async function waitForReplicaReason(page: Page, replicaId: string, states: readonly string[], reason: RegExp, timeoutMs: number): Promise<void> {
  try {
    await page.waitForFunction(
      ({ id, wanted, source, flags }) => {
        const element = document.querySelector(`[data-replica-id="${id}"]`);
        return element !== null && wanted.includes(element.getAttribute('data-state') ?? '') && new RegExp(source, flags).test(element.textContent ?? '');
      },
      { id: replicaId, wanted: [...states], source: reason.source, flags: reason.flags },
      { timeout: timeoutMs, polling: 100 },
    );
  } catch {
    const shown = await page.evaluate((id) => {
      const element = document.querySelector(`[data-replica-id="${id}"]`);
      return element ? `${element.getAttribute('data-state')}: ${(element.textContent ?? '').slice(0, 300)}` : 'no such thumbnail';
    }, replicaId);
    assert.fail(`${replicaId} did not reach ${states.join(' or ')} saying ${String(reason)} within ${timeoutMs} ms; it shows ${shown}`);
  }
}

/** A digest of a replica's thumbnail pixels, to see them change. */
async function thumbnailDigest(page: Page, replicaId: string): Promise<string> {
  const shown = await readCanvas(page, thumbnailCanvas(replicaId));
  return createHash('sha256').update(shown.rgba).digest('hex');
}

describe('hostile VNC servers next to a good one', { timeout: 180_000 }, () => {
  let demo: DemoLab;
  let good: DemoLabReplica;
  let servers: HostileServer[] = [];
  let app: RunningApp;
  let browser: Browser;
  let page: Page;
  let crashed = false;

  before(async () => {
    [demo, servers, browser] = await Promise.all([
      startDemoLab({ replicas: 1, size: { width: 640, height: 400 } }),
      Promise.all(HOSTILE.map((entry) => startHostileServer(entry.behaviour))),
      launchBrowser(),
    ]);
    const first = demo.replicas[0];
    assert.ok(first);
    good = first;
    const profilePath = writeProfile({
      version: 1,
      name: 'hostile servers',
      replicas: [
        { id: 'good', label: 'good demo guest', vnc: { host: good.host, port: good.port } },
        ...HOSTILE.map((entry, index) => ({ id: entry.id, label: `hostile: ${entry.behaviour}`, vnc: { host: '127.0.0.1', port: servers[index]?.port } })),
      ],
    });
    app = await startApp({ profilePath });
    page = await openAppPage(browser, app);
    page.on('crash', () => (crashed = true));
  });

  after(async () => {
    await browser?.close();
    await app?.stop();
    await Promise.allSettled([demo?.stop(), ...servers.map((server) => server.stop())]);
  });

  it('connects the good replica', async () => {
    await waitForReplicaState(page, 'good', 'connected', 30_000);
  });

  it('drops each server whose rectangle lies outside its desktop, or whose encoding was never offered, saying why', async () => {
    for (const entry of HOSTILE.filter((hostile) => hostile.behaviour.endsWith('rectangle') || hostile.behaviour.includes('rectangle-'))) {
      await waitForReplicaReason(page, entry.id, entry.states, entry.reason, 20_000);
    }
  });

  it('drops each handshake that stalls once the handshake timeout has passed, saying where it stalled', async () => {
    for (const entry of HOSTILE.filter((hostile) => hostile.behaviour === 'version-then-silence' || hostile.behaviour === 'ra2ne-only')) {
      await waitForReplicaReason(page, entry.id, entry.states, entry.reason, HANDSHAKE_TIMEOUT_MS + 15_000);
    }
  });

  it('keeps the good replica connected, its pixels updating and matching its server', async () => {
    assert.equal(await page.getAttribute('[data-replica-id="good"]', 'data-state'), 'connected');
    // The demo guest's cursor blinks: the thumbnail must keep changing...
    const before = await thumbnailDigest(page, 'good');
    assert.ok(await eventually(async () => (await thumbnailDigest(page, 'good')) !== before, 10_000), 'the good replica\'s pixels stopped updating');
    // ...and show its server's screen, pixel for pixel.
    await assertCanvasShowsServer(page, thumbnailCanvas('good'), good, 'good');
    assert.equal(await page.getAttribute('[data-replica-id="good"]', 'data-state'), 'connected');
  });

  it('keeps the page up with its memory bounded', async () => {
    assert.equal(crashed, false, 'the page crashed');
    const cdp = await page.context().newCDPSession(page);
    const usage = await cdp.send('Runtime.getHeapUsage');
    const held = usage.usedSize + (usage.backingStorageSize ?? 0);
    assert.ok(held < MAX_PAGE_MEMORY_BYTES, `the page holds ${Math.round(held / 2 ** 20)} MiB of JS heap and array buffers`);
    assert.equal(await page.evaluate(() => document.querySelectorAll('[data-replica-id]').length), 1 + HOSTILE.length);
  });
});
