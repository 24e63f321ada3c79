// End to end on the built-in demo lab (three replicas): each replica's frame exists once in the page at
// full size — noVNC draws straight into its one canvas (no hidden backbuffer), the thumbnails are
// small canvases the size they are shown at, and the only framebuffer-sized canvas on screen is the
// composite (the divergence overlay only while it paints a region); a scroll (CopyRect) is copied
// within that one canvas without drawing it onto itself, and a desktop resize keeps it right. Counts the canvases the page creates, not bytes: deterministic. Runs in Node with real
// processes and headless Chromium.

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { startDemoLab, type DemoLab } from '../../main/demo/demo-lab';
import { assertCanvasShowsServer, eventually, launchBrowser, startApp, thumbnailCanvas, waitForReplicaState, type RunningApp } from './support/app';

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

/**
 * Set before the app loads: counts the draws of a canvas onto itself (what noVNC does for a CopyRect,
 * which makes Chromium snapshot and copy the whole canvas) and the putImageData calls (RetroVisor's
 * copy of just the rectangle).
 */
const SELF_COPY_RECORDER = `
  globalThis.__canvasCopies = { selfDraws: 0, puts: 0 };
  const drawImage = CanvasRenderingContext2D.prototype.drawImage;
  CanvasRenderingContext2D.prototype.drawImage = function (image, ...rest) {
    if (image === this.canvas) globalThis.__canvasCopies.selfDraws++;
    return drawImage.call(this, image, ...rest);
  };
  const putImageData = CanvasRenderingContext2D.prototype.putImageData;
  CanvasRenderingContext2D.prototype.putImageData = function (...args) {
    globalThis.__canvasCopies.puts++;
    return putImageData.apply(this, args);
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

/** Each thumbnail canvas: its bitmap, the box it is shown in (device px), and its pixels. */
async function thumbnails(page: Page): Promise<{ id: string; width: number; height: number; boxWidth: number; boxHeight: number; colours: number; rgba: Uint8Array }[]> {
  const shown = await page.evaluate(() =>
    [...document.querySelectorAll<HTMLCanvasElement>('[data-testid="thumbnail-canvas"]')].map((canvas) => {
      const box = canvas.getBoundingClientRect();
      const data = canvas.width > 0 ? (canvas.getContext('2d') as CanvasRenderingContext2D).getImageData(0, 0, canvas.width, canvas.height).data : new Uint8ClampedArray();
      const colours = new Set<number>();
      for (let offset = 0; offset < data.length && colours.size < 8; offset += 4) colours.add((data[offset]! << 16) | (data[offset + 1]! << 8) | data[offset + 2]!);
      let binary = '';
      for (let offset = 0; offset < data.length; offset += 0x8000) binary += String.fromCharCode(...data.subarray(offset, offset + 0x8000));
      return {
        id: canvas.closest('[data-replica-id]')?.getAttribute('data-replica-id') ?? '?',
        width: canvas.width,
        height: canvas.height,
        boxWidth: Math.ceil(box.width * devicePixelRatio),
        boxHeight: Math.ceil(box.height * devicePixelRatio),
        colours: colours.size,
        base64: btoa(binary),
      };
    }),
  );
  return shown.map(({ base64, ...rest }) => ({ ...rest, rgba: new Uint8Array(Buffer.from(base64, 'base64')) }));
}

/**
 * The share of pixels of two thumbnails that differ by more than a little in some channel. Each
 * thumbnail is redrawn where its own replica's updates fell, so two thumbnails of identical screens
 * may differ by a rounding step along those edges; a different screen differs by far more.
 */
function differingShare(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length || a.length === 0) return 1;
  let differing = 0;
  for (let offset = 0; offset < a.length; offset += 4) {
    for (let channel = 0; channel < 3; channel++) {
      if (Math.abs(a[offset + channel]! - b[offset + channel]!) > 24) {
        differing++;
        break;
      }
    }
  }
  return differing / (a.length / 4);
}

/** Thumbnails that differ in fewer pixels than this show the same screen. */
const ALIKE_SHARE = 0.0005;

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
      last = JSON.stringify(all.map(({ rgba, ...rest }) => ({ ...rest, differingFromFirst: differingShare(rgba, all[0]?.rgba ?? new Uint8Array()) })));
      return (
        all.length === REPLICAS.length &&
        all.every((thumbnail) => thumbnail.width > 0 && thumbnail.width <= thumbnail.boxWidth && thumbnail.height <= thumbnail.boxHeight && thumbnail.colours > 1) &&
        all.every((thumbnail) => differingShare(thumbnail.rgba, all[0]?.rgba ?? new Uint8Array()) < ALIKE_SHARE)
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
      const byId = new Map((await thumbnails(page)).map((thumbnail) => [thumbnail.id, thumbnail.rgba]));
      const [one, two, three] = ['r1', 'r2', 'r3'].map((id) => byId.get(id) ?? new Uint8Array());
      const outlier = differingShare(two ?? new Uint8Array(), one ?? new Uint8Array());
      const others = differingShare(three ?? new Uint8Array(), one ?? new Uint8Array());
      last = `r2 differs from r1 in ${(outlier * 100).toFixed(2)} % of its pixels, r3 in ${(others * 100).toFixed(2)} %`;
      // The banner is a 32-pixel-high box in the middle of the screen: about half a percent of the thumbnail.
      return outlier > 4 * ALIKE_SHARE && others < ALIKE_SHARE;
    }, 10_000);
    assert.ok(differs, `r2's thumbnail should show its banner, r1's and r3's not: ${last}`);
  });
});

describe('a scroll and a desktop resize with one canvas per replica', { timeout: 2 * 60_000 }, () => {
  let lab: DemoLab;
  let app: RunningApp;
  let browser: Browser;
  let page: Page;
  let dataDir: string;

  before(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'retrovisor-frame-resize-'));
    lab = await startDemoLab({ replicas: 2, size: { width: 640, height: 400 } });
    const profilePath = path.join(dataDir, 'profile.json');
    await writeFile(profilePath, JSON.stringify({ version: 1, name: 'resize', replicas: lab.replicas.map((replica) => ({ id: replica.id, label: replica.label, vnc: { host: replica.host, port: replica.port } })) }));
    app = await startApp({ profilePath, env: { RETROVISOR_DATA_DIR: dataDir } });
    browser = await launchBrowser();
    // A high-density screen: the thumbnails' bitmaps follow the device pixels, not the CSS pixels.
    page = await browser.newPage({ viewport: { width: 1600, height: 1000 }, deviceScaleFactor: 2 });
    page.on('pageerror', (error) => console.error('page error:', error.message));
    await page.addInitScript(SELF_COPY_RECORDER);
    await page.goto(app.url);
    for (const replica of lab.replicas) await waitForReplicaState(page, replica.id, 'connected', 30_000);
  });

  after(async () => {
    await browser?.close();
    await app?.stop();
    await lab?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('copies the lines of a scrolling text area within the one canvas, pixel for pixel, never drawing the canvas onto itself', async () => {
    const [r1, r2] = lab.replicas;
    assert.ok(r1 && r2);
    await assertCanvasShowsServer(page, thumbnailCanvas(r1.id), r1, 'r1 before the scroll');
    const puts = await page.evaluate(() => (globalThis as unknown as { __canvasCopies: { puts: number } }).__canvasCopies.puts);
    // Forty lines scroll the guest's text area (a dozen rows at 640×400) by CopyRect rectangles.
    const text = Array.from({ length: 40 }, (_, line) => `line ${line} of the scroll\n`).join('');
    for (const replica of [r1, r2]) await lab.setFault(replica.id, { kind: 'inject', text });
    await assertCanvasShowsServer(page, thumbnailCanvas(r1.id), r1, 'r1 after the scroll');
    await assertCanvasShowsServer(page, thumbnailCanvas(r2.id), r2, 'r2 after the scroll');
    await assertCanvasShowsServer(page, '#composite', r1, 'the composite (r1 is the reference) after the scroll');
    const copies = await page.evaluate(() => (globalThis as unknown as { __canvasCopies: { selfDraws: number; puts: number } }).__canvasCopies);
    assert.ok(copies.puts - puts >= 2, `the scroll's CopyRect rectangles were copied with putImageData (${copies.puts - puts} calls)`);
    assert.equal(copies.selfDraws, 0, 'no canvas was drawn onto itself');
  });

  it('draws thumbnails at the screen density, then follows a resize on the canvas noVNC draws into, the composite and the thumbnail', async () => {
    const [r1] = lab.replicas;
    assert.ok(r1);
    await assertCanvasShowsServer(page, thumbnailCanvas(r1.id), r1, 'r1 before the resize');
    let last = '';
    const fills = await eventually(async () => {
      const all = await thumbnails(page);
      last = JSON.stringify(all.map(({ rgba: _rgba, ...rest }) => rest));
      // Fitted to its box in device pixels: as wide or as high as the box (the screen's shape decides which).
      return all.length === 2 && all.every((entry) => entry.width <= entry.boxWidth && entry.height <= entry.boxHeight && (entry.boxWidth - entry.width <= 1 || entry.boxHeight - entry.height <= 1));
    }, 10_000);
    assert.ok(fills, `each thumbnail fills its box at 2 device pixels per CSS pixel: ${last}`);
    lab.replica(r1.id).guest?.resize({ width: 800, height: 600 });
    await assertCanvasShowsServer(page, thumbnailCanvas(r1.id), r1, 'r1 after the resize');
    await assertCanvasShowsServer(page, '#composite', r1, 'the composite (r1 is the reference) after the resize');
    const aspect = await eventually(async () => {
      const thumbnail = (await thumbnails(page)).find((entry) => entry.id === r1.id);
      return thumbnail !== undefined && Math.abs(thumbnail.width / thumbnail.height - 800 / 600) < 0.02;
    }, 10_000);
    assert.ok(aspect, "r1's thumbnail takes the new screen's shape (4:3)");
    await page.getByTestId('size-differs').first().waitFor({ timeout: 10_000 });
  });
});
