// End to end on the built-in demo lab: `retrovisor serve` with no profile, "Open the demo lab" in
// headless Chromium, every thumbnail pixel-exact against its demo server (read over RFB), the demo
// panel's faults and L0 actions reaching the right replica, `serve --demo`, and `retrovisor lab`
// feeding `retrovisor run`. Runs in Node with real processes.

import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { validateProfile } from '../../common/profile';
import { compareFramebuffers, readFramebuffer, type Framebuffer, type VncTarget } from '../lab/components';
import { CLI, REPO_ROOT, assertCanvasShowsServer, describeFramebufferDifference, eventually, launchBrowser, openAppPage, runCli, startApp, thumbnailCanvas, waitForReplicaState, type RunningApp } from './support/app';

const REPLICAS = ['r1', 'r2', 'r3'];
const BANNER_HEIGHT_PX = 32;

/** The demo replica's VNC endpoint, as its thumbnail shows it ("127.0.0.1:PORT"). */
async function endpointOf(page: Page, replicaId: string): Promise<VncTarget> {
  const text = (await page.textContent(`.thumbnail[data-replica-id="${replicaId}"] .thumbnail-endpoint`))?.trim() ?? '';
  const match = /^(127\.0\.0\.1):(\d+)$/.exec(text);
  assert.ok(match?.[1] && match[2], `${replicaId}'s thumbnail shows no loopback endpoint: "${text}"`);
  return { host: match[1], port: Number(match[2]) };
}

async function stateOf(page: Page, replicaId: string): Promise<string | null> {
  return page.getAttribute(`.thumbnail[data-replica-id="${replicaId}"]`, 'data-state');
}

function demoTab(page: Page, replicaId: string) {
  return page.locator(`[data-testid="demo-panel"] [data-testid="demo-replica-tab"][data-demo-replica-id="${replicaId}"]`);
}

async function chooseReplica(page: Page, replicaId: string): Promise<void> {
  await demoTab(page, replicaId).click();
  await page.locator(`[data-testid="demo-controls"][data-demo-replica-id="${replicaId}"]`).waitFor();
}

/**
 * Reads the servers' framebuffers together, again and again, until every one shows what it showed at
 * the previous read: then no cursor blink fell between the reads, and all are from one moment of the
 * desktop (the demo replicas of one lab blink in phase, on one clock). Fails if that never happens.
 */
async function readStableTogether(targets: readonly VncTarget[], timeoutMs = 15_000): Promise<Framebuffer[]> {
  const reads: { previous: Framebuffer[] | null; stable: Framebuffer[] | null } = { previous: null, stable: null };
  await eventually(
    async () => {
      const current = await Promise.all(targets.map((target) => readFramebuffer(target)));
      const previous = reads.previous;
      if (previous !== null && current.every((screen, index) => compareFramebuffers(screen, previous[index] as Framebuffer).identical)) reads.stable = current;
      reads.previous = current;
      return reads.stable !== null;
    },
    timeoutMs,
    0,
  );
  assert.ok(reads.stable, `the screens of ${targets.map((target) => target.port).join(', ')} never held still between two reads`);
  return reads.stable;
}

/** Polls the thumbnail's canvas and the server's framebuffer until they agree; fails with the last difference. */
function assertThumbnailShowsServer(page: Page, replicaId: string, target: VncTarget): Promise<void> {
  return assertCanvasShowsServer(page, thumbnailCanvas(replicaId), target, replicaId);
}

describe('the built-in demo lab in the app', { timeout: 120_000 }, () => {
  let app: RunningApp;
  let browser: Browser;
  let page: Page;
  const targets = new Map<string, VncTarget>();

  before(async () => {
    [app, browser] = await Promise.all([startApp(), launchBrowser()]);
    page = await openAppPage(browser, app);
  });

  after(async () => {
    await browser?.close();
    await app?.stop();
  });

  it('opens with one click on "Open the demo lab": three replicas connect and the demo panel appears', async () => {
    const button = page.getByTestId('open-demo-lab');
    await button.waitFor({ state: 'visible', timeout: 15_000 });
    assert.equal((await button.textContent())?.trim(), 'Open the demo lab');
    await button.click();
    for (const id of REPLICAS) {
      await waitForReplicaState(page, id, 'connected', 30_000).catch((error: unknown) => {
        throw new Error(`${id} did not connect: ${String(error)}\napp stderr:\n${app.stderr()}`);
      });
      targets.set(id, await endpointOf(page, id));
    }
    await page.getByTestId('demo-panel').waitFor();
    for (const id of REPLICAS) assert.equal(await demoTab(page, id).getAttribute('data-domain-state'), 'running');
    assert.equal(new Set([...targets.values()].map((target) => target.port)).size, 3, 'three servers');
  });

  it('shows each demo replica pixel for pixel as its server serves it', async () => {
    for (const id of REPLICAS) {
      const target = targets.get(id);
      assert.ok(target);
      await assertThumbnailShowsServer(page, id, target);
    }
  });

  it('paints a banner from the demo panel on r2 only, and r2\'s thumbnail shows it', async () => {
    const [r1, r2, r3] = REPLICAS.map((id) => targets.get(id));
    assert.ok(r1 && r2 && r3);
    await chooseReplica(page, 'r2');
    await page.getByTestId('demo-banner-input').fill('HACKED');
    await page.getByTestId('demo-banner-apply').click();
    let last = '';
    const bannerOnR2Only = await eventually(async () => {
      const [one, two, three] = await Promise.all([readFramebuffer(r1), readFramebuffer(r2), readFramebuffer(r3)]);
      const others = compareFramebuffers(one, three);
      const faulty = compareFramebuffers(two, one);
      last = `r1 vs r3: ${others.differingPixels} pixels differ; r2 vs r1: ${faulty.differingPixels} in ${JSON.stringify(faulty.box)}`;
      const box = faulty.box;
      // The banner is a 32-pixel box centred on the screen; nothing else differs (the cursor blinks in step).
      return (
        others.identical &&
        box !== undefined &&
        box.height === BANNER_HEIGHT_PX &&
        Math.abs(box.x + box.width / 2 - one.width / 2) <= 1 &&
        Math.abs(box.y + box.height / 2 - one.height / 2) <= 1
      );
    }, 10_000);
    assert.ok(bannerOnR2Only, last);
    await assertThumbnailShowsServer(page, 'r2', r2);
    await assertThumbnailShowsServer(page, 'r1', r1);
    assert.match((await page.getByTestId('demo-message').textContent()) ?? '', /Demo 2: banner “HACKED” painted/);
  });

  it('sets and clears lasting faults on the chosen replica only', async () => {
    await chooseReplica(page, 'r3');
    await page.getByTestId('demo-lag-input').fill('0-300');
    await page.getByTestId('demo-lag-apply').click();
    await page.getByTestId('demo-drop-input').fill('4');
    await page.getByTestId('demo-drop-apply').click();
    await page.locator('[data-demo-replica-id="r3"][data-faults="lag=0-300 drop-key=4"]').waitFor({ timeout: 5000 });
    assert.equal(await demoTab(page, 'r1').getAttribute('data-faults'), '');
    assert.equal(await demoTab(page, 'r2').getAttribute('data-faults'), '');
    await page.getByTestId('demo-clear').click();
    await page.locator('[data-testid="demo-replica-tab"][data-demo-replica-id="r3"][data-faults=""]').waitFor({ timeout: 5000 });
  });

  it('crashes r2 from the panel: r2 reconnects in vain while r1 and r3 stay connected; L0 start brings it back', async () => {
    const r2 = targets.get('r2');
    assert.ok(r2);
    await chooseReplica(page, 'r2');
    await page.getByTestId('demo-crash').click();
    await page.waitForSelector('.thumbnail[data-replica-id="r2"]:is([data-state="disconnected"],[data-state="reconnecting"])', { timeout: 15_000, state: 'attached' });
    await demoTab(page, 'r2').and(page.locator('[data-domain-state="crashed"]')).waitFor({ timeout: 5000 });
    await assert.rejects(readFramebuffer(r2, { timeoutMs: 3000 }), /ECONNREFUSED|refused/, 'a crashed replica has no VNC server');
    for (const id of ['r1', 'r3']) assert.equal(await stateOf(page, id), 'connected', `${id} must be unaffected`);
    assert.equal(await page.getByTestId('demo-l0-start').isEnabled(), true);

    await page.getByTestId('demo-l0-start').click();
    await demoTab(page, 'r2').and(page.locator('[data-domain-state="running"]')).waitFor({ timeout: 5000 });
    await waitForReplicaState(page, 'r2', 'connected', 30_000);
    await assertThumbnailShowsServer(page, 'r2', r2);
    for (const id of ['r1', 'r3']) assert.equal(await stateOf(page, id), 'connected');
  });

  it('takes a snapshot and reverts to it through the simulated L0', async () => {
    const r2 = targets.get('r2');
    assert.ok(r2);
    await chooseReplica(page, 'r2');
    // The remediation manager's own checkpoints are snapshots of the same domain: count from here.
    const before = Number(/\d+/.exec((await page.getByTestId('demo-snapshots').textContent()) ?? '')?.[0] ?? 0);
    await page.getByTestId('demo-l0-snapshot-create').click();
    const after = before + 1;
    await page.getByTestId('demo-snapshots').filter({ hasText: `${after} snapshot${after === 1 ? '' : 's'}` }).waitFor({ timeout: 5000 });
    const atSnapshot = await readFramebuffer(r2);
    await page.getByTestId('demo-banner-input').fill('AFTER THE SNAPSHOT');
    await page.getByTestId('demo-banner-apply').click();
    assert.ok(await eventually(async () => !compareFramebuffers(await readFramebuffer(r2), atSnapshot).identical, 5000), 'the banner changed r2');
    await page.getByTestId('demo-l0-snapshot-revert').click();
    // A revert starts a new process: r2 is cut and reconnects, showing the snapshot's screen again.
    await page.getByTestId('demo-message').filter({ hasText: 'reverted to snapshot-1' }).waitFor({ timeout: 5000 });
    await waitForReplicaState(page, 'r2', 'connected', 30_000);
    let last = '';
    const restored = await eventually(async () => {
      const now = await readFramebuffer(r2);
      last = describeFramebufferDifference(now, atSnapshot);
      return compareFramebuffers(now, atSnapshot).identical;
    }, 10_000);
    assert.ok(restored, `r2 after revert: ${last}`);
    await assertThumbnailShowsServer(page, 'r2', r2);
  });
});

describe('retrovisor serve --demo', { timeout: 60_000 }, () => {
  it('opens the demo lab directly, without the start screen', async () => {
    const [app, browser] = await Promise.all([startApp({ extraArgs: ['--demo'] }), launchBrowser()]);
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      await page.goto(app.url);
      for (const id of REPLICAS) await waitForReplicaState(page, id, 'connected', 30_000);
      await page.getByTestId('demo-panel').waitFor();
      assert.equal(await page.getByTestId('open-demo-lab').count(), 0, 'no start screen');
    } finally {
      await browser.close();
      await app.stop();
    }
  });
});

describe('retrovisor lab', { timeout: 90_000 }, () => {
  let folder = '';
  let lab: ChildProcessWithoutNullStreams | null = null;

  before(async () => {
    folder = await mkdtemp(path.join(os.tmpdir(), 'retrovisor-lab-e2e-'));
  });

  after(async () => {
    if (lab !== null && lab.exitCode === null) lab.kill('SIGKILL');
    await rm(folder, { recursive: true, force: true });
  });

  it('prints its endpoints, writes a valid profile that `retrovisor run` connects to, and stops on SIGTERM', async () => {
    const profilePath = path.join(folder, 'lab.profile.json');
    const child = spawn(process.execPath, [CLI, 'lab', '--replicas', '2', '--size', '640x400', '--fault', 'r2:banner=FROM THE CLI', '--profile-out', profilePath], {
      cwd: REPO_ROOT,
    });
    lab = child;
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const started = await eventually(async () => stdout.includes('Ctrl+C stops the lab.') || child.exitCode !== null, 30_000, 100);
    assert.ok(started && child.exitCode === null, `the lab did not start; stdout:\n${stdout}\nstderr:\n${stderr}`);

    const endpoints = [...stdout.matchAll(/^ {2}(r\d) +Demo \d +(127\.0\.0\.1):(\d+)/gm)].map((match) => ({ id: match[1], host: match[2] ?? '', port: Number(match[3]) }));
    assert.deepEqual(
      endpoints.map((endpoint) => endpoint.id),
      ['r1', 'r2'],
      stdout,
    );
    // Both desktops blink a cursor: compare them at one moment, or the cursor shows as a difference too.
    const [one, two] = await readStableTogether(endpoints);
    assert.ok(one && two);
    assert.deepEqual([one.width, one.height], [640, 400]);
    const banner = compareFramebuffers(one, two).box;
    assert.deepEqual([banner?.y, banner?.height], [(400 - BANNER_HEIGHT_PX) / 2, BANNER_HEIGHT_PX], `--fault r2:banner painted r2 only (difference ${JSON.stringify(banner)})`);

    const validation = validateProfile(JSON.parse(await readFile(profilePath, 'utf8')));
    assert.ok(validation.ok, JSON.stringify(validation));
    assert.deepEqual(
      validation.profile.replicas.map((replica) => replica.vnc.port),
      endpoints.map((endpoint) => endpoint.port),
    );

    const run = await runCli(['run', '--profile', profilePath, '--duration', '4', '--json'], {}, 60_000);
    // Both connect; r2's banner makes the two screens disagree (no majority of two), to the end: exit 3.
    assert.equal(run.status, 3, `retrovisor run failed:\n${run.stdout}\n${run.stderr}`);
    const events = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; connected?: string[]; outliers?: string[]; noMajority?: boolean; regions?: { h: number }[] });
    assert.deepEqual(events.find((event) => event.type === 'summary')?.connected, ['r1', 'r2']);
    const divergence = events.find((event) => event.type === 'divergence');
    assert.deepEqual([divergence?.outliers, divergence?.noMajority], [['r1', 'r2'], true], run.stdout);
    assert.equal(Math.max(...(divergence?.regions ?? []).map((region) => region.h)), BANNER_HEIGHT_PX, 'the banner is the region');

    const exited = new Promise<number | null>((resolve) => child.once('exit', (status) => resolve(status)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
    assert.match(stdout, /Demo lab stopped\./);
  });

  it('exits 2 with a clear message on a bad flag', async () => {
    const result = await runCli(['lab', '--replicas', '12'], {}, 30_000);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /retrovisor lab: --replicas must be a whole number from 1 to 8, not "12"/);
    assert.match(result.stderr, /Usage: retrovisor lab/);
    const both = await runCli(['serve', '--demo', '--profile', 'x.json'], {}, 30_000);
    assert.equal(both.status, 2);
    assert.match(both.stderr, /--demo and --profile both say what to open: choose one/);
  });
});
