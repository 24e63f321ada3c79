// End to end on the built-in demo lab: the divergence timeline and the diff view in headless
// Chromium. A banner painted on r2 gives a 'new' timeline entry naming r2 with every replica's real
// screen; the diff view of r2 against the majority highlights exactly the pixels where the two live
// canvases differ (counted here independently of the app's code); an entry shows its screens large;
// resetting r2 brings consensus; keys typed in the diff view reach no replica; closing the session
// revokes the screenshots. Runs in Node with real processes.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { eventually, launchBrowser, openDemoLabPage, startApp, thumbnailCanvas, type RunningApp } from './support/app';

const REPLICAS = ['r1', 'r2', 'r3'];
const BANNER_HEIGHT_PX = 32;
/** Set it to a folder to keep the Chromium screenshots of the views (to look at them). */
const SCREENSHOT_DIR = process.env.RETROVISOR_SCREENSHOT_DIR ?? null;

const NEW_R2 = '[data-testid="timeline-entry"][data-kind="new"][data-outliers="r2"]';

/** Pixels of a canvas or a loaded image, read in the page. */
interface PageComparison {
  readonly ok: boolean;
  readonly detail: string;
}

async function saveScreenshot(page: Page, name: string): Promise<void> {
  if (SCREENSHOT_DIR === null) return;
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, name) });
}

async function chooseDemoReplica(page: Page, replicaId: string): Promise<void> {
  await page.locator(`[data-testid="demo-replica-tab"][data-demo-replica-id="${replicaId}"]`).click();
  await page.locator(`[data-testid="demo-controls"][data-demo-replica-id="${replicaId}"]`).waitFor();
}

async function readJournalKeysyms(page: Page): Promise<number[]> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="export-journal"]')]);
  const file = await download.path();
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as { kind?: string; keysym?: number; down?: boolean })
    .filter((entry) => entry.kind === 'key' && typeof entry.keysym === 'number')
    .map((entry) => entry.keysym as number);
}

describe('the divergence timeline and diff view on the demo lab', { timeout: 240_000 }, () => {
  let app: RunningApp;
  let browser: Browser;
  let page: Page;
  let dataDir = '';

  before(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'retrovisor-views-e2e-'));
    [app, browser] = await Promise.all([startApp({ env: { RETROVISOR_DATA_DIR: dataDir } }), launchBrowser()]);
    page = await openDemoLabPage(browser, app, REPLICAS);
    await page.getByTestId('demo-panel').waitFor();
  });

  after(async () => {
    await browser?.close();
    await app?.stop();
    if (dataDir !== '') await rm(dataDir, { recursive: true, force: true });
  });

  it('lists a new divergence naming r2, with one real screenshot per connected replica and the evidence folder', async () => {
    await page.getByTestId('timeline-toggle').click();
    await page.getByTestId('timeline').waitFor();
    await chooseDemoReplica(page, 'r2');
    await page.getByTestId('demo-banner-input').fill('HACKED');
    await page.getByTestId('demo-banner-apply').click();

    const entry = page.locator(NEW_R2);
    await entry.waitFor({ timeout: 20_000 });
    const shots = entry.locator('[data-testid="timeline-screenshot"]');
    assert.ok(await eventually(async () => (await shots.count()) === REPLICAS.length, 10_000), `expected ${REPLICAS.length} screenshots, got ${await shots.count()}`);
    assert.deepEqual((await shots.evaluateAll((images) => images.map((image) => image.getAttribute('data-replica-id')))).sort(), REPLICAS);
    assert.match((await entry.textContent()) ?? '', /Demo 2 diverges — 1 region/);

    // Each screenshot holds its replica's real screen: decoded in the page, pixel for pixel the live
    // canvas (retried: a blinking cursor may be in the other phase right now).
    let last = '';
    const same = await eventually(async () => {
      const result = await page.evaluate(
        async ({ selector, ids }): Promise<PageComparison> => {
          const details: string[] = [];
          for (const id of ids) {
            const image = document.querySelector(`${selector} img[data-replica-id="${id}"]`);
            const live = document.querySelector(`[data-replica-id="${id}"] .thumbnail-slot canvas`);
            if (!(image instanceof HTMLImageElement) || !(live instanceof HTMLCanvasElement)) return { ok: false, detail: `${id}: image or canvas missing` };
            await image.decode();
            const canvas = document.createElement('canvas');
            canvas.width = image.naturalWidth;
            canvas.height = image.naturalHeight;
            const context = canvas.getContext('2d');
            if (context === null) return { ok: false, detail: 'no 2d context' };
            context.drawImage(image, 0, 0);
            const shot = context.getImageData(0, 0, canvas.width, canvas.height).data;
            const screen = (live.getContext('2d') as CanvasRenderingContext2D).getImageData(0, 0, live.width, live.height).data;
            if (canvas.width !== live.width || canvas.height !== live.height) return { ok: false, detail: `${id}: screenshot ${canvas.width}x${canvas.height}, screen ${live.width}x${live.height}` };
            let differing = 0;
            const colours = new Set<number>();
            for (let offset = 0; offset < shot.length; offset += 4) {
              if (shot[offset] !== screen[offset] || shot[offset + 1] !== screen[offset + 1] || shot[offset + 2] !== screen[offset + 2] || shot[offset + 3] !== screen[offset + 3]) differing++;
              if (colours.size < 8) colours.add(((shot[offset] ?? 0) << 16) | ((shot[offset + 1] ?? 0) << 8) | (shot[offset + 2] ?? 0));
            }
            details.push(`${id}: ${differing} pixels differ from the live screen, ${colours.size} colours`);
            if (differing > 0 || colours.size < 3) return { ok: false, detail: details.join('; ') };
          }
          return { ok: true, detail: details.join('; ') };
        },
        { selector: NEW_R2, ids: REPLICAS },
      );
      last = result.detail;
      return result.ok;
    }, 10_000);
    assert.ok(same, last);

    // The screenshots were taken at one moment: r2's differs from r1's exactly by the 32-pixel banner.
    const box = await page.evaluate(async (selector) => {
      const read = async (id: string): Promise<ImageData> => {
        const image = document.querySelector(`${selector} img[data-replica-id="${id}"]`) as HTMLImageElement;
        await image.decode();
        const canvas = document.createElement('canvas');
        canvas.width = image.naturalWidth;
        canvas.height = image.naturalHeight;
        const context = canvas.getContext('2d') as CanvasRenderingContext2D;
        context.drawImage(image, 0, 0);
        return context.getImageData(0, 0, canvas.width, canvas.height);
      };
      const [one, two] = [await read('r1'), await read('r2')];
      let top = Infinity;
      let bottom = -Infinity;
      for (let index = 0; index < one.data.length; index += 4) {
        if (one.data[index] !== two.data[index] || one.data[index + 1] !== two.data[index + 1] || one.data[index + 2] !== two.data[index + 2]) {
          const y = Math.floor(index / 4 / one.width);
          top = Math.min(top, y);
          bottom = Math.max(bottom, y);
        }
      }
      return { height: bottom - top + 1 };
    }, NEW_R2);
    assert.equal(box.height, BANNER_HEIGHT_PX, 'r2’s screenshot differs from r1’s by the banner');

    // The evidence folder the back end answered is shown, and is where the back end wrote the record.
    assert.ok(await eventually(async () => ((await entry.getAttribute('data-evidence')) ?? '') !== '', 10_000), 'the entry names its evidence folder');
    const folder = (await entry.getAttribute('data-evidence')) ?? '';
    assert.ok(folder.startsWith(dataDir), `${folder} is under RETROVISOR_DATA_DIR ${dataDir}`);
    assert.ok(existsSync(path.join(folder, 'divergence.json')), `${folder} holds divergence.json: ${existsSync(folder) ? readdirSync(folder).join(', ') : 'no folder'}`);
  });

  it('shows r2 against the majority with exactly the differing pixels highlighted, and flips between the screens', async () => {
    await page.locator('.thumbnail[data-replica-id="r2"] [data-testid="open-diff"]').click();
    const view = page.getByTestId('diff-view');
    await view.and(page.locator('[data-state="compared"]')).waitFor({ timeout: 10_000 });
    assert.equal(await view.getAttribute('data-subject-id'), 'r2');
    assert.equal(await view.getAttribute('data-reference-id'), 'r1', 'the default reference is a replica of the agreeing majority');
    // The keyboard left the composite: typing goes nowhere but the dialog.
    assert.equal(await page.evaluate(() => document.activeElement?.id === 'composite'), false);

    // Expected, computed here from the two live canvases: a pixel differs when any RGBA byte differs.
    let last = '';
    const exact = await eventually(async () => {
      const result = await page.evaluate(
        ({ subject, reference }): PageComparison & { count: number } => {
          const pixels = (selector: string): ImageData => {
            const canvas = document.querySelector(selector) as HTMLCanvasElement;
            return (canvas.getContext('2d') as CanvasRenderingContext2D).getImageData(0, 0, canvas.width, canvas.height);
          };
          const a = pixels(subject);
          const b = pixels(reference);
          const shown = pixels('[data-testid="diff-canvas"]');
          const counted = Number(document.querySelector('[data-testid="diff-view"]')?.getAttribute('data-differing-pixels'));
          if (a.width !== shown.width || a.height !== shown.height) return { ok: false, count: 0, detail: `diff canvas ${shown.width}x${shown.height}, screen ${a.width}x${a.height}` };
          let expected = 0;
          let wrong = 0;
          const colours = new Set<string>();
          for (let offset = 0; offset < a.data.length; offset += 4) {
            const differs = a.data[offset] !== b.data[offset] || a.data[offset + 1] !== b.data[offset + 1] || a.data[offset + 2] !== b.data[offset + 2] || a.data[offset + 3] !== b.data[offset + 3];
            if (differs) {
              expected++;
              colours.add(`${shown.data[offset]},${shown.data[offset + 1]},${shown.data[offset + 2]}`);
            }
            // Equal pixels are painted grey (r = g = b): a highlighted pixel never is.
            const grey = shown.data[offset] === shown.data[offset + 1] && shown.data[offset + 1] === shown.data[offset + 2];
            if (differs === grey) wrong++;
          }
          return {
            ok: expected > 0 && wrong === 0 && counted === expected && colours.size === 1,
            count: expected,
            detail: `expected ${expected} differing pixels, the view counts ${counted}; ${wrong} pixels painted wrong; highlight colours ${[...colours].join(' / ')}`,
          };
        },
        { subject: thumbnailCanvas('r2'), reference: thumbnailCanvas('r1') },
      );
      last = result.detail;
      return result.ok;
    }, 10_000);
    assert.ok(exact, last);
    const regions = JSON.parse((await view.getAttribute('data-regions')) ?? '[]') as { height: number }[];
    assert.equal(regions.length, 1, `one outlined region: ${JSON.stringify(regions)}`);
    assert.equal(regions[0]?.height, BANNER_HEIGHT_PX);
    assert.match((await page.getByTestId('diff-count').textContent()) ?? '', /pixels differ in 1 region/);
    await saveScreenshot(page, 'diff-view.png');

    // The toggle shows each screen as it is: the reference's pixels, then k's.
    const showsCanvas = async (selector: string): Promise<boolean> =>
      page.evaluate((source) => {
        const read = (canvasSelector: string): Uint8ClampedArray => {
          const canvas = document.querySelector(canvasSelector) as HTMLCanvasElement;
          return (canvas.getContext('2d') as CanvasRenderingContext2D).getImageData(0, 0, canvas.width, canvas.height).data;
        };
        const shown = read('[data-testid="diff-canvas"]');
        const expected = read(source);
        return shown.length === expected.length && shown.every((value, index) => value === expected[index]);
      }, selector);
    await page.getByTestId('diff-mode-reference').click();
    assert.equal(await view.getAttribute('data-mode'), 'reference');
    assert.ok(await eventually(() => showsCanvas(thumbnailCanvas('r1')), 5000), 'the reference mode shows r1’s screen');
    await page.keyboard.press('1');
    assert.equal(await view.getAttribute('data-mode'), 'subject');
    assert.ok(await eventually(() => showsCanvas(thumbnailCanvas('r2')), 5000), 'the subject mode shows r2’s screen');
    await page.keyboard.press('3');
    assert.equal(await view.getAttribute('data-mode'), 'diff');

    await page.keyboard.press('Escape');
    await view.waitFor({ state: 'detached', timeout: 5000 });
  });

  it('shows an entry’s screenshots large with the regions outlined, and opens the live diff from there', async () => {
    await page.locator(NEW_R2).click();
    const detail = page.getByTestId('timeline-detail');
    await detail.waitFor({ timeout: 5000 });
    const image = page.getByTestId('timeline-detail-screenshot');
    assert.equal(await image.getAttribute('data-replica-id'), 'r2', 'the outlier’s screen is shown first');
    await page.locator('[data-testid="timeline-detail-regions"] rect').first().waitFor({ timeout: 5000 });
    assert.equal(await page.locator('[data-testid="timeline-detail-regions"] rect').count(), 1);
    const shown = await image.boundingBox();
    assert.ok(shown !== null && shown.width >= 600, `the screenshot is shown large (${JSON.stringify(shown)})`);
    await saveScreenshot(page, 'timeline-detail.png');
    await page.locator('[data-testid="timeline-detail-replica"][data-replica-id="r1"]').click();
    assert.equal(await image.getAttribute('data-replica-id'), 'r1');

    await page.getByTestId('timeline-open-diff').click();
    await detail.waitFor({ state: 'detached', timeout: 5000 });
    const view = page.getByTestId('diff-view');
    await view.and(page.locator('[data-state="compared"]')).waitFor({ timeout: 10_000 });
    assert.equal(await view.getAttribute('data-subject-id'), 'r2');
    assert.equal(await view.getAttribute('data-reference-id'), 'r1');
    // Another reference, chosen by the user: r3 agrees with r1, so the same pixels differ.
    await page.getByTestId('diff-reference').selectOption('r3');
    await view.and(page.locator('[data-reference-id="r3"][data-state="compared"]')).waitFor({ timeout: 10_000 });
    assert.equal((JSON.parse((await view.getAttribute('data-regions')) ?? '[]') as unknown[]).length, 1);
    await page.getByTestId('diff-close').click();
    await view.waitFor({ state: 'detached', timeout: 5000 });
  });

  it('brings a consensus entry (newest first) when r2 is reset and agrees again', async () => {
    await chooseDemoReplica(page, 'r2');
    await page.getByTestId('demo-l0-reset').click();
    const first = page.locator('[data-testid="timeline-entry"]').first();
    assert.ok(await eventually(async () => (await first.getAttribute('data-kind')) === 'consensus', 20_000), `newest entry: ${await first.getAttribute('data-kind')}`);
    await page.locator('[data-testid="timeline-entry"][data-kind="resolved"][data-outliers="r2"]').waitFor({ timeout: 5000 });
    assert.equal(await page.getByTestId('divergence-status').getAttribute('data-diverged'), 'false');
    await saveScreenshot(page, 'timeline.png');
  });

  it('sends no key typed while the diff view has focus to the replicas', async () => {
    await page.locator('.thumbnail[data-replica-id="r3"] [data-testid="open-diff"]').click();
    await page.getByTestId('diff-view').waitFor();
    await page.keyboard.press('KeyQ');
    await page.keyboard.press('Escape');
    await page.getByTestId('diff-view').waitFor({ state: 'detached', timeout: 5000 });
    // Then the composite gets the keyboard and a 'z' is typed: it reaches the journal, the 'q' never did.
    await page.locator('#composite').click();
    await page.keyboard.press('KeyZ');
    let keysyms: number[] = [];
    const typed = await eventually(async () => {
      keysyms = await readJournalKeysyms(page);
      return keysyms.includes(0x7a);
    }, 10_000, 500);
    assert.ok(typed, `the 'z' typed on the composite is in the journal: ${JSON.stringify(keysyms)}`);
    assert.ok(!keysyms.includes(0x71), `no 'q' was sent: ${JSON.stringify(keysyms)}`);
  });

  it('revokes the screenshots’ object URLs when the session closes', async () => {
    const urls = await page.locator('[data-testid="timeline-screenshot"]').evaluateAll((images) => images.map((image) => (image as HTMLImageElement).src));
    assert.ok(urls.length >= REPLICAS.length && urls.every((url) => url.startsWith('blob:')), JSON.stringify(urls));
    const readable = (list: readonly string[]): Promise<boolean[]> =>
      // Loaded as images (the CSP allows blob: images, not fetch): a revoked URL no longer loads.
      page.evaluate(async (all) =>
        Promise.all(
          all.map((url) => {
            const image = new Image();
            image.src = url;
            return image.decode().then(() => true, () => false);
          }),
        ),
      list);
    assert.deepEqual(await readable(urls), urls.map(() => true), 'readable while the session is open');
    await page.getByTestId('close-session').click();
    // The demo lab's replicas are connected: Close asks first.
    await page.getByTestId('close-confirm-confirm').click();
    await page.getByTestId('open-demo-lab').waitFor({ timeout: 15_000 });
    assert.deepEqual(await readable(urls), urls.map(() => false), 'revoked once the session closed');
  });
});
