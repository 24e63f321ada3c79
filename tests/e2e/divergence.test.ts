// End to end, divergence detection against three real Xvnc+xterm servers of our own: the
// same typing through the composite flags nothing; one character typed on one server out of band is
// flagged red over exactly that cell, the server is named the outlier, evidence files are written;
// agreement again is consensus; `retrovisor run --json` against a diverged set prints the divergence
// and exits 3.

import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { compareFramebuffers, startXvnc, typeWithXdotool, waitForStableFramebuffer, type Framebuffer, type XvncHandle } from '../lab/components';
import { eventually, launchBrowser, openAppPage, runCli, startApp, typeLikeAPerson, waitForReplicaState, writeProfile, type RunningApp } from './support/app';
import { divergenceStatus, divergentIds, type Region, regionsShown, union, waitForFlag } from './support/divergence-page';
import { scratchFolder } from './support/scratch';

const IDS = ['x1', 'x2', 'x3'] as const;
const PROFILE_NAME = 'divergence e2e';
/** Settle (400 ms) + confirm (600 ms) + ticks and the page's round trips, with room for a loaded machine. */
const FLAG_TIMEOUT_MS = 15_000;



/** Decodes a PNG file into a Framebuffer (RGBA). */
async function readPng(path: string): Promise<Framebuffer> {
  const { data, info } = await sharp(path).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, rgba: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

describe('divergence detection against real replicas', { timeout: 7 * 60_000 }, () => {
  let servers: XvncHandle[];
  let app: RunningApp;
  let browser: Browser;
  let page: Page;
  let profilePath: string;
  const dataDir = scratchFolder('data');

  /** Waits until every server's screen is settled and identical; returns x1's. */
  async function settledIdentical(what: string): Promise<Framebuffer> {
    let detail = '';
    let first: Framebuffer | null = null;
    const same = await eventually(async () => {
      const screens = await Promise.all(servers.map((server) => waitForStableFramebuffer(server, { quietMs: 300, timeoutMs: 8000 })));
      first = screens[0] as Framebuffer;
      const comparisons = screens.slice(1).map((screen) => compareFramebuffers(first as Framebuffer, screen));
      detail = JSON.stringify(comparisons.map((comparison) => comparison.box ?? null));
      return comparisons.every((comparison) => comparison.identical);
    }, 20_000, 200);
    assert.ok(same && first, `${what}: the servers' screens differ (${detail})`);
    return first;
  }

  before(async () => {
    const started = await Promise.all([startXvnc(), startXvnc(), startXvnc(), launchBrowser()]);
    servers = started.slice(0, 3) as XvncHandle[];
    browser = started[3];
    profilePath = writeProfile({
      version: 1,
      name: PROFILE_NAME,
      replicas: IDS.map((id, index) => ({ id, label: `xterm ${index + 1}`, vnc: { host: servers[index]?.host, port: servers[index]?.port } })),
    });
    app = await startApp({ profilePath, env: { RETROVISOR_DATA_DIR: dataDir } });
    page = await openAppPage(browser, app, { width: 1400, height: 900 });
    for (const id of IDS) await waitForReplicaState(page, id, 'connected', 60_000);
  });

  after(async () => {
    await browser?.close();
    await app?.stop();
    await Promise.allSettled((servers ?? []).map((server) => server.stop()));
  });

  it('flags nothing when the same typing reaches every replica', async () => {
    await page.focus('#composite');
    await typeLikeAPerson(page, 'echo same on all three\n');
    await settledIdentical('after typing through the composite');
    // A deliberate quiet period, not synchronisation: past settle + confirm a false divergence would be
    // showing, and what is asserted is that none does (no event marks its absence).
    await new Promise((resolve) => setTimeout(resolve, 2500));
    assert.equal(await divergenceStatus(page), 'All replicas agree');
    assert.deepEqual(await regionsShown(page), []);
    assert.deepEqual(await divergentIds(page), []);
    assert.doesNotMatch(app.stderr(), /replicas diverge/, 'no divergence was reported to the back end');
  });

  it('flags one character typed on x2 alone: its cell in red, x2 the outlier, evidence written', async () => {
    const before = await settledIdentical('before the extra character');
    await typeWithXdotool(servers[1]?.display as number, 'Z');
    const after = await waitForStableFramebuffer(servers[1] as XvncHandle, { quietMs: 300 });
    const difference = compareFramebuffers(before, after);
    assert.ok(difference.box, 'the extra character changed x2');
    // The character's cell and the cursor's next cell: the 12×13 box the lab measured.
    assert.deepEqual({ width: difference.box.width, height: difference.box.height }, { width: 12, height: 13 });

    const shown = await waitForFlag(page, FLAG_TIMEOUT_MS);
    assert.deepEqual(union(shown), difference.box, `the red regions ${JSON.stringify(shown)} cover exactly the differing cells`);
    assert.deepEqual(await divergentIds(page), ['x2']);
    assert.equal((await page.textContent('[data-replica-id="x2"] [data-testid="divergence-badge"]'))?.trim(), String(shown.length));
    assert.match(await divergenceStatus(page), /^\d+ regions? disagrees? — xterm 2 is the outlier$/);

    // Evidence: <data dir>/<profile>/evidence/<time>-<n>/ with the record, three screens and the diff.
    const evidenceRoot = join(dataDir, 'divergence-e2e', 'evidence');
    let folder = '';
    const written = await eventually(async () => {
      const folders = existsSync(evidenceRoot) ? readdirSync(evidenceRoot) : [];
      folder = folders.length === 1 ? join(evidenceRoot, folders[0] as string) : '';
      return folder !== '' && ['divergence.json', 'screen-x1.png', 'screen-x2.png', 'screen-x3.png', 'diff.png'].every((file) => existsSync(join(folder, file)));
    }, 10_000);
    assert.ok(written, `evidence files missing in ${evidenceRoot}: ${folder === '' ? 'no folder' : readdirSync(folder).join(', ')}`);
    const record = JSON.parse(readFileSync(join(folder, 'divergence.json'), 'utf8')) as { outliers: string[]; agreeing: string[]; regions: Region[]; inputSeq: number | null; time: string };
    assert.deepEqual(record.outliers, ['x2']);
    assert.deepEqual([...record.agreeing].sort(), ['x1', 'x3']);
    assert.deepEqual(union(record.regions), difference.box);
    assert.ok(typeof record.inputSeq === 'number' && record.inputSeq > 0, 'the record names the last input sent');
    assert.ok(!Number.isNaN(Date.parse(record.time)));
    // The screens are the servers' real pixels: x2's differs from x1's exactly in the measured box.
    const [screen1, screen2, diff] = await Promise.all([readPng(join(folder, 'screen-x1.png')), readPng(join(folder, 'screen-x2.png')), readPng(join(folder, 'diff.png'))]);
    assert.deepEqual(compareFramebuffers(screen1, before).identical, true, 'screen-x1.png is x1 as the server shows it');
    assert.deepEqual(compareFramebuffers(screen1, screen2).box, difference.box);
    // The diff paints the regions red over the reference screen and leaves the rest alone.
    const diffBox = compareFramebuffers(screen1, diff).box;
    assert.ok(diffBox, 'the diff differs from the plain screen');
    const inside = (difference.box.y + 6) * diff.width * 4 + (difference.box.x + 3) * 4;
    assert.ok((diff.rgba[inside] as number) > (diff.rgba[inside + 1] as number) + 60, 'the region is red in diff.png');
    assert.ok(diffBox.x >= difference.box.x - 1 && diffBox.y >= difference.box.y - 1 && diffBox.x + diffBox.width <= difference.box.x + difference.box.width + 1, 'only the region is painted');
  });

  it('returns to consensus once every replica shows the same again', async () => {
    await Promise.all([typeWithXdotool(servers[0]?.display as number, 'Z'), typeWithXdotool(servers[2]?.display as number, 'Z')]);
    await settledIdentical('after typing the character on x1 and x3 too');
    const agreed = await eventually(async () => (await divergenceStatus(page)) === 'All replicas agree', FLAG_TIMEOUT_MS);
    assert.ok(agreed, `still: ${await divergenceStatus(page)}`);
    assert.deepEqual(await regionsShown(page), []);
    assert.deepEqual(await divergentIds(page), []);
  });

  it('`retrovisor run --json` against a diverged set prints the divergence and exits 3', async () => {
    await typeWithXdotool(servers[2]?.display as number, 'Q');
    await waitForStableFramebuffer(servers[2] as XvncHandle, { quietMs: 300 });
    const runDataDir = scratchFolder('run-data');
    const result = await runCli(['run', '--profile', profilePath, '--duration', '10', '--json'], { RETROVISOR_DATA_DIR: runDataDir });
    assert.equal(result.status, 3, `exit status; stderr:\n${result.stderr}\nstdout:\n${result.stdout}`);
    const divergence = result.events.find((event) => event.type === 'divergence');
    assert.ok(divergence, result.stdout);
    assert.deepEqual(divergence.outliers, ['x3']);
    const regions = divergence.regions as { x: number; y: number; w: number; h: number }[];
    assert.ok(regions.length > 0 && regions.every((region) => region.w > 0 && region.h > 0), JSON.stringify(regions));
    assert.equal(typeof divergence.evidence, 'string');
    assert.ok((divergence.evidence as string).startsWith(join(runDataDir, 'divergence-e2e', 'evidence')), String(divergence.evidence));
    assert.ok(existsSync(join(divergence.evidence as string, 'divergence.json')));
    assert.deepEqual(result.events.at(-1), { ...result.events.at(-1), type: 'summary', diverged: true, exitStatus: 3 });
    assert.match(result.stderr, /still disagreed at the end \(exit 3\)/);
  });
});
