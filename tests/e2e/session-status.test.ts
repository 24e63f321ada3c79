// End to end in headless Chromium: the status never says something untrue. A replica nobody can reach
// (quick connect to a closed port) gets a panel saying so and why, with Retry now and Back to start,
// instead of an endless spinner; on the demo lab, a crashed replica turns "All replicas agree" into
// "2 of 3 connected · the connected ones agree" (amber) with the loss and the return in the timeline,
// and the red divergence status opens that divergence's timeline entry. Runs in Node with real processes.

import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { eventually, launchBrowser, openAppPage, startApp, waitForReplicaState, type RunningApp } from './support/app';
import { divergenceStatus } from './support/divergence-page';

/** A TCP port nothing listens on (bound, then closed: connecting to it is refused). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function chooseDemoReplica(page: Page, replicaId: string): Promise<void> {
  await page.locator(`[data-testid="demo-replica-tab"][data-demo-replica-id="${replicaId}"]`).click();
  await page.locator(`[data-testid="demo-controls"][data-demo-replica-id="${replicaId}"]`).waitFor();
}

describe('the status never says something untrue', { timeout: 240_000 }, () => {
  let app: RunningApp;
  let browser: Browser;
  let page: Page;

  before(async () => {
    [app, browser] = await Promise.all([startApp(), launchBrowser()]);
    page = await openAppPage(browser, app);
    await page.addInitScript('globalThis.__name = (fn) => fn;');
  });

  after(async () => {
    await browser?.close();
    await app?.stop();
  });

  it('a replica nobody can reach: the main area says so and why, the status is not green, the badge invites no typing', async () => {
    const port = await closedPort();
    await page.fill('[data-testid="quick-connect-endpoints"]', `127.0.0.1::${port}`);
    await page.click('[data-testid="quick-connect-submit"]');
    const panel = page.getByTestId('no-replica-connected');
    await panel.waitFor({ timeout: 30_000 });
    const line = page.locator('[data-testid="unreachable-replica"][data-replica-id="r1"]');
    assert.match((await line.textContent()) ?? '', new RegExp(`${port}.*refused`, 'i'), 'the address and the reason, in the main area');
    assert.notEqual(await page.getByTestId('divergence-status').getAttribute('data-tone'), 'all');
    assert.doesNotMatch((await page.getByTestId('broadcast-badge').textContent()) ?? '', /click the screen to type/);
    // Retry now starts an attempt at once; the panel stays while it fails again.
    await page.getByTestId('retry-all').click();
    await panel.waitFor({ timeout: 30_000 });
    await page.getByTestId('back-to-start').click();
    await page.locator('[data-testid="quick-connect-endpoints"]').waitFor({ timeout: 10_000 });
  });

  it('the red divergence status opens the timeline entry of that divergence', async () => {
    await page.getByTestId('open-demo-lab').click({ timeout: 15_000 });
    for (const id of ['r1', 'r2', 'r3']) await waitForReplicaState(page, id, 'connected', 30_000);
    assert.ok(await eventually(async () => (await divergenceStatus(page)) === 'All replicas agree', 20_000), `status: ${await divergenceStatus(page)}`);
    assert.equal(await page.getByTestId('divergence-status').getAttribute('data-tone'), 'all');
    await chooseDemoReplica(page, 'r2');
    await page.getByTestId('demo-banner-input').fill('HACKED');
    await page.getByTestId('demo-banner-apply').click();
    await page.locator('[data-testid="divergence-status"][data-diverged="true"]').waitFor({ timeout: 20_000 });
    await page.getByTestId('divergence-status').click();
    const detail = page.getByTestId('timeline-detail');
    await detail.waitFor({ timeout: 5000 });
    const entryId = await detail.getAttribute('data-entry-id');
    const entry = page.locator(`[data-testid="timeline-entry"][data-entry-id="${entryId ?? ''}"]`);
    assert.equal(await entry.getAttribute('data-kind'), 'new');
    assert.equal(await entry.getAttribute('data-outliers'), 'r2');
    assert.match((await detail.textContent()) ?? '', /Demo 2 diverges/);
    await page.getByTestId('timeline-detail-close').click();
  });

  it('a crashed replica: amber "2 of 3 connected · the connected ones agree", lost and back in the timeline', async () => {
    await page.getByTestId('demo-crash').click();
    await waitForReplicaState(page, 'r2', ['disconnected', 'reconnecting', 'connecting']);
    const status = page.locator('[data-testid="divergence-status"][data-tone="some"]');
    await status.waitFor({ timeout: 20_000 });
    assert.equal(await divergenceStatus(page), '2 of 3 connected · the connected ones agree');
    const lost = page.locator('[data-testid="timeline-entry"][data-kind="lost"][data-replica-id="r2"]');
    await lost.waitFor({ timeout: 10_000 });
    assert.match((await lost.textContent()) ?? '', /Demo 2 lost/);
    await page.getByTestId('demo-l0-start').click();
    await waitForReplicaState(page, 'r2', 'connected', 60_000);
    await page.locator('[data-testid="timeline-entry"][data-kind="back"][data-replica-id="r2"]').waitFor({ timeout: 10_000 });
    assert.doesNotMatch(await divergenceStatus(page), /of 3 connected/);
  });
});
