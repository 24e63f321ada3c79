// End to end in headless Chromium through the browser shell, on demo replicas at 1920×1080: the
// divergence comparison runs in the dedicated comparison worker — the damaged pixels reach the
// worker, which reads the snapshots back with VideoFrame and posts the verdict, and the page's main
// thread runs no engine code (a CPU profile of the page) — while full-screen repaints of every
// replica are compared, typed text still reaches every replica. With the worker script blocked, the session compares in the page instead
// (and the same profile then shows the engine: the first check can fail). Real processes, no VMs.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page, Worker } from 'playwright-core';
import { startDemoLab, type DemoLab } from '../../main/demo/demo-lab';
import { eventually, launchBrowser, startApp, waitForReplicaState, writeProfile, type RunningApp } from './support/app';

const REPLICAS = ['r1', 'r2', 'r3'];
const WIDTH_PX = 1920;
const HEIGHT_PX = 1080;
const WORKER_FILE = 'comparison-worker.js';
/** Private methods of DivergenceEngine (common/divergence/divergence-engine.ts): only the engine runs them. */
const ENGINE_FUNCTIONS = ['comparePixelBatch', 'rebuildReport', 'noteChanges'];
const OVERLAY = '[data-testid="divergence-overlay"]';
/** The overlay with red regions (a divergence shown), and without. */
const FLAGGED = `${OVERLAY}:not([data-regions="[]"])`;
const CLEAR = `${OVERLAY}[data-regions="[]"]`;

/** What the counter installed in the worker has seen: requests by type, pixel bytes (or snapshot area × 4) per replica, reported divergences. */
interface WorkerTraffic {
  readonly requests: Record<string, number>;
  readonly pixelBytes: Record<string, number>;
  readonly divergenceOutliers: string[][];
}

/** Wraps the worker's message handler and postMessage with counters (the test's window into the worker). */
async function countWorkerTraffic(worker: Worker): Promise<void> {
  await worker.evaluate(() => {
    const scope = globalThis as unknown as {
      onmessage: ((event: MessageEvent) => void) | null;
      postMessage(message: unknown): void;
      __traffic: WorkerTraffic;
    };
    const traffic: WorkerTraffic = { requests: {}, pixelBytes: {}, divergenceOutliers: [] };
    scope.__traffic = traffic;
    const handle = scope.onmessage;
    scope.onmessage = (event) => {
      const data = event.data as { type?: string; replicaId?: string; pixels?: Uint8ClampedArray[]; bitmaps?: ImageBitmap[] };
      const type = String(data.type);
      traffic.requests[type] = (traffic.requests[type] ?? 0) + 1;
      // Pixels arrive read back ('update') or as canvas snapshots the worker reads back itself ('frame').
      const bytes = (data.pixels ?? []).reduce((sum, pixels) => sum + pixels.byteLength, 0) + (data.bitmaps ?? []).reduce((sum, bitmap) => sum + bitmap.width * bitmap.height * 4, 0);
      if (data.replicaId !== undefined) traffic.pixelBytes[data.replicaId] = (traffic.pixelBytes[data.replicaId] ?? 0) + bytes;
      handle?.(event);
    };
    const post = scope.postMessage.bind(scope);
    scope.postMessage = (message) => {
      const report = message as { type?: string; events?: { type: string; divergence?: { outliers: string[] } }[] };
      for (const event of report.events ?? []) if (event.type === 'divergence' && event.divergence) traffic.divergenceOutliers.push(event.divergence.outliers);
      post(message);
    };
  });
}

async function readTraffic(worker: Worker): Promise<WorkerTraffic> {
  return worker.evaluate(() => (globalThis as unknown as { __traffic: WorkerTraffic }).__traffic);
}

/** The function names the page's main thread ran while `during` ran (a CPU profile of the page). */
async function pageFunctionsDuring(page: Page, during: () => Promise<void>): Promise<Set<string>> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
  await cdp.send('Profiler.start');
  await during();
  const { profile } = await cdp.send('Profiler.stop');
  await cdp.detach();
  return new Set(profile.nodes.map((node) => node.callFrame.functionName));
}

/** Opens the app on the lab's profile; resolves once every replica is connected. */
async function openSession(browser: Browser, app: RunningApp, blockWorker: boolean): Promise<{ page: Page; warnings: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  const warnings: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'warning') warnings.push(message.text());
  });
  page.on('pageerror', (error) => console.error('page error:', error.message));
  await page.addInitScript('globalThis.__name = (fn) => fn;');
  if (blockWorker) await page.route(`**/${WORKER_FILE}`, (route) => route.fulfill({ status: 404, body: 'not found' }));
  await page.goto(app.url);
  for (const id of REPLICAS) await waitForReplicaState(page, id, 'connected', 30_000);
  return { page, warnings };
}

/** Repaints every replica's whole screen (a guest reset) and waits until each canvas shows it. */
async function repaintAll(lab: DemoLab, page: Page): Promise<void> {
  for (const id of REPLICAS) lab.replica(id).resetInPlace();
  // The boot screen is the same on all; wait for the page to have drawn it everywhere (no divergence left).
  await page.locator(CLEAR).waitFor({ state: 'attached', timeout: 20_000 });
}

/** Whether every replica's guest shows `word` on its screen's text. */
function everyGuestShows(lab: DemoLab, word: string): boolean {
  return REPLICAS.every((id) => (lab.replica(id).guest?.text.lines ?? []).some((line) => line.includes(word)));
}

describe('comparison in the dedicated worker', { timeout: 300_000 }, () => {
  let lab: DemoLab;
  let app: RunningApp;
  let browser: Browser;
  let dataDir = '';

  before(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'retrovisor-comparison-worker-e2e-'));
    lab = await startDemoLab({ replicas: REPLICAS.length, size: { width: WIDTH_PX, height: HEIGHT_PX }, cursorBlinkMs: 0 });
    const profilePath = writeProfile({
      version: 1,
      name: 'worker e2e',
      replicas: lab.replicas.map((replica) => ({ id: replica.id, label: replica.label, vnc: { host: replica.host, port: replica.port } })),
    });
    [app, browser] = await Promise.all([startApp({ profilePath, env: { RETROVISOR_DATA_DIR: dataDir } }), launchBrowser()]);
  });

  after(async () => {
    await browser?.close();
    await app?.stop();
    await lab?.stop();
    if (dataDir !== '') await rm(dataDir, { recursive: true, force: true });
  });

  it('compares in the worker: full screens reach it, it posts the verdict, and the page runs no engine code', async () => {
    const { page, warnings } = await openSession(browser, app, false);
    const worker = page.workers().find((candidate) => candidate.url().endsWith(`/${WORKER_FILE}`)) ?? (await page.waitForEvent('worker', { timeout: 10_000 }));
    assert.ok(worker.url().endsWith(`/${WORKER_FILE}`), worker.url());
    // Chromium has WebAssembly SIMD: the worker compares with the kernels, not the JavaScript loops.
    assert.equal(await worker.evaluate(() => (globalThis as unknown as { retrovisorComparison?: { kernels: string } }).retrovisorComparison?.kernels), 'webassembly-simd');
    await countWorkerTraffic(worker);

    const ran = await pageFunctionsDuring(page, async () => {
      await repaintAll(lab, page);
      // Every replica's full screen reached the worker (at least once since the counter was installed).
      const arrived = await eventually(async () => {
        const traffic = await readTraffic(worker);
        return REPLICAS.every((id) => (traffic.pixelBytes[id] ?? 0) >= WIDTH_PX * HEIGHT_PX * 4);
      }, 30_000);
      assert.ok(arrived, JSON.stringify(await readTraffic(worker)));
      // r2 alone shows a banner: the worker judges it and the page shows its verdict.
      lab.replica('r2').guest?.paintBanner('WORKER');
      await page.locator(FLAGGED).waitFor({ state: 'attached', timeout: 20_000 });
    });
    const traffic = await readTraffic(worker);
    assert.ok(traffic.divergenceOutliers.some((outliers) => outliers.length === 1 && outliers[0] === 'r2'), JSON.stringify(traffic));
    assert.ok((traffic.requests.frame ?? 0) > 0, `the page sends snapshots, the worker reads them back: ${JSON.stringify(traffic.requests)}`);
    const engineOnPage = ENGINE_FUNCTIONS.filter((name) => ran.has(name));
    assert.deepEqual(engineOnPage, [], 'the page thread ran engine code');
    assert.deepEqual(warnings.filter((text) => text.includes('[divergence]') || text.includes('[comparison]')), [], 'no fallback, no dropped message');
    // Chromium has WebCodecs: the snapshots were copied by VideoFrame into kept buffers, not read by canvas.
    assert.equal(await worker.evaluate(() => (globalThis as unknown as { retrovisorComparison?: { readback: string } }).retrovisorComparison?.readback), 'videoframe');

    // Typed text reaches every replica while their full-screen repaints are compared.
    await page.focus('#composite');
    for (const word of ['alpha', 'bravo', 'charlie']) {
      for (const id of REPLICAS) lab.replica(id).resetInPlace();
      await page.keyboard.type(word);
      assert.ok(await eventually(async () => everyGuestShows(lab, word), 20_000), `"${word}" did not reach every replica`);
    }
    await page.close();
  });

  it('falls back to comparing in the page when the worker cannot load: divergences are still flagged', async () => {
    const { page, warnings } = await openSession(browser, app, true);
    assert.ok(await eventually(async () => warnings.some((text) => text.includes('comparing in the page instead')), 15_000), warnings.join('\n'));
    const ran = await pageFunctionsDuring(page, async () => {
      await repaintAll(lab, page);
      lab.replica('r3').guest?.paintBanner('NO WORKER');
      await page.locator(FLAGGED).waitFor({ state: 'attached', timeout: 20_000 });
    });
    // The same profile that found no engine code in the page above finds it now.
    assert.ok(ENGINE_FUNCTIONS.some((name) => ran.has(name)), [...ran].join(', '));
    assert.equal(page.workers().filter((candidate) => candidate.url().endsWith(`/${WORKER_FILE}`)).length, 0);
    await page.close();
  });
});
