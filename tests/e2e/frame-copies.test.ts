// End to end on the built-in demo lab (three replicas): each replica's frame exists once in the page at
// full size — noVNC draws straight into its one canvas (no hidden backbuffer), the thumbnails are
// small canvases the size they are shown at, and the only framebuffer-sized canvas on screen is the
// composite (the divergence overlay only while it paints a region). Counts the canvases the page
// creates, not bytes: deterministic. Runs in Node with real processes and headless Chromium.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { eventually, launchBrowser, startApp, waitForReplicaState, type RunningApp } from './support/app';

const REPLICAS = ['r1', 'r2', 'r3'];

/** Set before the app loads: every canvas the page creates (noVNC's, React's), kept in creation order. */
const CANVAS_RECORDER = `
  globalThis.__name = (fn) => fn;
  globalThis.__createdCanvases = [];
  const createElement = Document.prototype.createElement;
  Document.prototype.createElement = function (name, options) {
    const element = createElement.call(this, name, options);
    if (String(name).toLowerCase() === 'canvas') globalThis.__createdCanvases.push(element);
    return element;
  };
`;

/** The framebuffer-sized canvases the page created, by where they are. */
interface FullSizeCanvases {
  readonly framebuffer: { readonly width: number; readonly height: number };
  /** noVNC's canvases, in the replicas' hidden hosts. */
  readonly inReplicaHosts: number;
  /** Canvases not in the document at all (noVNC's backbuffers, were they still there). */
  readonly detached: number;
  /** What else is framebuffer-sized, by id or test id. */
  readonly others: readonly string[];
  /** Framebuffer-sized canvases the user can see (displayed and visible), by id or test id. */
  readonly displayed: readonly string[];
}

async function fullSizeCanvases(page: Page): Promise<FullSizeCanvases> {
  return page.evaluate(() => {
    const first = document.querySelector<HTMLCanvasElement>('.replica-host canvas');
    if (first === null) throw new Error('no noVNC canvas in a replica host');
    const framebuffer = { width: first.width, height: first.height };
    const created = (globalThis as unknown as { __createdCanvases: HTMLCanvasElement[] }).__createdCanvases;
    const full = created.filter((canvas) => canvas.width === framebuffer.width && canvas.height === framebuffer.height);
    const name = (canvas: HTMLCanvasElement): string => canvas.id || canvas.getAttribute('data-testid') || canvas.className || 'a canvas';
    const inDocument = full.filter((canvas) => canvas.isConnected);
    return {
      framebuffer,
      inReplicaHosts: inDocument.filter((canvas) => canvas.closest('.replica-host') !== null).length,
      detached: full.length - inDocument.length,
      others: inDocument.filter((canvas) => canvas.closest('.replica-host') === null).map(name),
      displayed: inDocument.filter((canvas) => canvas.checkVisibility({ visibilityProperty: true })).map(name),
    };
  });
}

/** Each thumbnail canvas: its bitmap, the box it is shown in (device px), and its pixels as text. */
async function thumbnails(page: Page): Promise<{ id: string; width: number; height: number; boxWidth: number; boxHeight: number; colours: number; pixels: string }[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll<HTMLCanvasElement>('[data-testid="thumbnail-canvas"]')].map((canvas) => {
      const box = canvas.getBoundingClientRect();
      const data = canvas.width > 0 ? (canvas.getContext('2d') as CanvasRenderingContext2D).getImageData(0, 0, canvas.width, canvas.height).data : new Uint8ClampedArray();
      const colours = new Set<number>();
      for (let offset = 0; offset < data.length && colours.size < 8; offset += 4) colours.add((data[offset]! << 16) | (data[offset + 1]! << 8) | data[offset + 2]!);
      let text = '';
      // A digest of every pixel: equal screens give equal text, one changed pixel changes it.
      let hash = 0;
      for (let offset = 0; offset < data.length; offset++) {
        hash = (Math.imul(hash, 31) + data[offset]!) | 0;
        if ((offset & 0xfff) === 0xfff) {
          text += hash.toString(36);
          hash = 0;
        }
      }
      text += hash.toString(36);
      return {
        id: canvas.closest('[data-replica-id]')?.getAttribute('data-replica-id') ?? '?',
        width: canvas.width,
        height: canvas.height,
        boxWidth: Math.ceil(box.width * devicePixelRatio),
        boxHeight: Math.ceil(box.height * devicePixelRatio),
        colours: colours.size,
        pixels: text,
      };
    }),
  );
}

describe('one full-size copy of each replica frame in the page', { timeout: 3 * 60_000 }, () => {
  let app: RunningApp;
  let browser: Browser;
  let page: Page;
  let dataDir: string;

  before(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'retrovisor-frame-copies-'));
    app = await startApp({ env: { RETROVISOR_DATA_DIR: dataDir } });
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    page.on('pageerror', (error) => console.error('page error:', error.message));
    await page.addInitScript(CANVAS_RECORDER);
    await page.goto(app.url);
    await page.getByTestId('open-demo-lab').click({ timeout: 15_000 });
    for (const id of REPLICAS) await waitForReplicaState(page, id, 'connected', 30_000);
  });

  after(async () => {
    await browser?.close();
    await app?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('holds one framebuffer-sized canvas per replica, noVNC drawing into it directly (no backbuffer)', async () => {
    const canvases = await fullSizeCanvases(page);
    assert.ok(canvases.framebuffer.width > 0 && canvases.framebuffer.height > 0);
    assert.equal(canvases.inReplicaHosts, REPLICAS.length, 'one noVNC canvas per replica');
    assert.equal(canvases.detached, 0, `${canvases.detached} framebuffer-sized canvases outside the document (noVNC backbuffers)`);
    assert.deepEqual([...canvases.others].sort(), ['composite', 'divergence-overlay'], 'besides the replicas: the composite and the overlay');
  });

  it('shows no framebuffer-sized canvas but the composite: each thumbnail is a small canvas showing its screen', async () => {
    assert.deepEqual((await fullSizeCanvases(page)).displayed, ['composite']);
    let last = '';
    const shown = await eventually(async () => {
      const all = await thumbnails(page);
      last = JSON.stringify(all.map(({ pixels: _pixels, ...rest }) => rest));
      return (
        all.length === REPLICAS.length &&
        all.every((thumbnail) => thumbnail.width > 0 && thumbnail.width <= thumbnail.boxWidth && thumbnail.height <= thumbnail.boxHeight && thumbnail.colours > 1) &&
        all.every((thumbnail) => thumbnail.pixels === all[0]?.pixels)
      );
    }, 10_000);
    assert.ok(shown, `the thumbnails should be small, drawn, and alike (the replicas agree): ${last}`);
  });

  it('shows the overlay while it paints a region, and the outlier in its thumbnail', async () => {
    await page.locator('[data-testid="demo-panel"] [data-testid="demo-replica-tab"][data-demo-replica-id="r2"]').click();
    await page.locator('[data-testid="demo-controls"][data-demo-replica-id="r2"]').waitFor();
    await page.getByTestId('demo-banner-input').fill('ONLY ON R2');
    await page.getByTestId('demo-banner-apply').click();
    const overlay = page.getByTestId('divergence-overlay');
    const flagged = await eventually(async () => ((await overlay.getAttribute('data-regions')) ?? '[]') !== '[]', 15_000);
    assert.ok(flagged, 'r2 was not flagged');
    assert.deepEqual([...(await fullSizeCanvases(page)).displayed].sort(), ['composite', 'divergence-overlay']);
    let last = '';
    const differs = await eventually(async () => {
      const byId = new Map((await thumbnails(page)).map((thumbnail) => [thumbnail.id, thumbnail.pixels]));
      last = `r2 ${byId.get('r2') === byId.get('r1') ? 'equals' : 'differs from'} r1, r3 ${byId.get('r3') === byId.get('r1') ? 'equals' : 'differs from'} r1`;
      return byId.get('r2') !== byId.get('r1') && byId.get('r3') === byId.get('r1');
    }, 10_000);
    assert.ok(differs, `r2's thumbnail should show its banner, r1's and r3's not: ${last}`);
  });
});
