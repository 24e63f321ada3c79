// End to end, divergence detection against the shared lab's three QEMU VM consoles with
// their VGA text cursor visible and blinking (out of phase between the VMs): the same typing through
// the composite flags nothing; one character typed on one VM out of band (QEMU's monitor `sendkey`)
// is flagged over that character's cell with that VM named; typing it on the others is consensus.
// The VMs are left with a cleared screen and a hidden cursor, as the other test files expect them.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { compareFramebuffers, readFramebuffer, typeOnVmConsole, type Framebuffer } from '../lab/components';
import { loadLabDescription, type VmDescription } from '../lab/lab';
import { eventually, launchBrowser, openAppPage, startApp, typeLikeAPerson, waitForReplicaState, writeProfile, type RunningApp } from './support/app';
import { divergenceStatus, divergentIds, type Region, regionsShown, union, waitForFlag } from './support/divergence-page';

const IDS = ['q1', 'q2', 'q3'] as const;
/** Settle + confirm + a blink window + ticks and round trips, with room for a loaded machine. */
const FLAG_TIMEOUT_MS = 20_000;
/** The engine's tile grid: a blinking tile is reported whole. */
const TILE_PX = 16;
/** A VGA text cell (720×400 = 80×25 cells of 9×16). */
const CELL_WIDTH_PX = 9;
const CELL_HEIGHT_PX = 16;
/** Long enough to see a VGA cursor (~266 ms per phase) both on and off several times. */
const BLINK_SAMPLE_MS = 1500;
/** After the screens agree: settle (400) + blink window (1600) + confirm (600) + margin. A false flag shows within this. */
const QUIET_WATCH_MS = 5000;
/** A console read over this long shows its cursor drawn at least once (VGA: ~266 ms on, ~266 ms off). */
const TEXT_VIEW_MS = 700;


/**
 * Paces samples of a blinking cursor (reads spread over its period) and the quiet watch (no flag may
 * appear for a while); nothing here waits for an event with it.
 */
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));


function contains(outer: Region, inner: Region): boolean {
  return inner.x >= outer.x && inner.y >= outer.y && inner.x + inner.width <= outer.x + outer.width && inner.y + inner.height <= outer.y + outer.height;
}

/** The region grown outwards to the engine's tile grid. */
function toTiles(region: Region): Region {
  const left = Math.floor(region.x / TILE_PX) * TILE_PX;
  const top = Math.floor(region.y / TILE_PX) * TILE_PX;
  const right = Math.ceil((region.x + region.width) / TILE_PX) * TILE_PX;
  const bottom = Math.ceil((region.y + region.height) / TILE_PX) * TILE_PX;
  return { x: left, y: top, width: right - left, height: bottom - top };
}

describe('divergence detection on three QEMU VM consoles with a blinking cursor', { timeout: 7 * 60_000 }, () => {
  let vms: VmDescription[];
  let app: RunningApp;
  let browser: Browser;
  let page: Page;

  /**
   * A console as text, whatever its cursor's phase: the brightest value of each byte over reads
   * spanning more than two blink periods (the cursor is always drawn in it).
   */
  async function textView(vm: VmDescription): Promise<Framebuffer> {
    const view = await readFramebuffer(vm);
    const started = Date.now();
    while (Date.now() - started < TEXT_VIEW_MS) {
      await sleep(80);
      const next = await readFramebuffer(vm);
      assert.equal(next.rgba.length, view.rgba.length, 'the console changed size');
      for (let index = 0; index < view.rgba.length; index++) if ((next.rgba[index] as number) > (view.rgba[index] as number)) view.rgba[index] = next.rgba[index] as number;
    }
    return view;
  }

  /**
   * Waits until the three consoles show the same text and it held for two views in a row (typing has
   * reached them all and finished); with `changedFrom`, q1's text must also differ from it.
   */
  async function consolesAgree(what: string, changedFrom?: Framebuffer): Promise<Framebuffer> {
    let detail = '';
    let previous: Framebuffer | null = null;
    let agreed: Framebuffer | null = null;
    const same = await eventually(
      async () => {
        const [first, ...others] = await Promise.all(vms.map((vm) => textView(vm)));
        const settled = previous !== null && compareFramebuffers(previous, first as Framebuffer).identical;
        previous = first as Framebuffer;
        if (changedFrom !== undefined && compareFramebuffers(first as Framebuffer, changedFrom).identical) {
          detail = 'q1 still shows the screen from before';
          return false;
        }
        const comparisons = others.map((other) => compareFramebuffers(first as Framebuffer, other));
        detail = `differences from q1: ${JSON.stringify(comparisons.map((comparison) => comparison.box ?? null))}`;
        if (!settled || !comparisons.every((comparison) => comparison.identical)) return false;
        agreed = first as Framebuffer;
        return true;
      },
      30_000,
      0,
    );
    assert.ok(same && agreed, `${what}: the VM consoles never settled on the same text (${detail})`);
    return agreed;
  }

  /** Asserts that for `durationMs` the app never shows a divergence. */
  async function staysQuiet(durationMs: number, what: string): Promise<void> {
    const deadline = Date.now() + durationMs;
    while (Date.now() < deadline) {
      const [text, regions, divergent] = await Promise.all([divergenceStatus(page), regionsShown(page), divergentIds(page)]);
      assert.equal(text, 'All replicas agree', `${what}: the status changed to "${text}" (regions ${JSON.stringify(regions)})`);
      assert.deepEqual(regions, [], what);
      assert.deepEqual(divergent, [], what);
      await sleep(200);
    }
  }

  before(async () => {
    const lab = loadLabDescription();
    assert.ok(lab.vms.length >= 3, `the shared lab must have three QEMU VMs (it has ${lab.vms.length}): see SHARED_LAB_SPEC in scripts/test.ts`);
    vms = lab.vms.slice(0, 3);
    // Another test file may have left a half-typed line: run it, whatever it was, out of band on each.
    await Promise.all(vms.map((vm) => typeOnVmConsole(vm, '\n')));
    browser = await launchBrowser();
    const profilePath = writeProfile({
      version: 1,
      name: 'divergence qemu e2e',
      replicas: IDS.map((id, index) => ({ id, label: `VM ${index + 1}`, vnc: { host: vms[index]?.host, port: vms[index]?.port } })),
    });
    app = await startApp({ profilePath });
    page = await openAppPage(browser, app);
    for (const id of IDS) await waitForReplicaState(page, id, 'connected', 60_000);
  });

  after(async () => {
    await browser?.close();
    await app?.stop();
    // Leave the consoles as the lab started them: the line run, the cursor hidden, the screen cleared.
    if (vms !== undefined) await Promise.allSettled(vms.map((vm) => typeOnVmConsole(vm, "\nprintf '\\033[?25l'; clear\n")));
  });

  it('flags nothing when the same typing reaches every VM, although each cursor blinks out of phase', async () => {
    await page.focus('#composite');
    // Clear every console and show its cursor (the lab's VMs boot with it hidden), then type a line.
    // One command line: typed ahead while a command runs, characters would be echoed by the tty before
    // the next prompt on a slow VM and after it on a fast one.
    const before = await textView(vms[0] as VmDescription);
    await typeLikeAPerson(page, "clear; printf '\\033[?25h'; echo same on all three\n");
    await consolesAgree('after typing through the composite', before);

    // The cursor really blinks on every console: reads of one VM differ only in one character cell.
    for (const [index, vm] of vms.entries()) {
      const first = await readFramebuffer(vm);
      let blinkBox: Region | undefined;
      const started = Date.now();
      while (Date.now() - started < BLINK_SAMPLE_MS && blinkBox === undefined) {
        await sleep(90);
        blinkBox = compareFramebuffers(first, await readFramebuffer(vm)).box;
      }
      assert.ok(blinkBox, `${IDS[index]}'s cursor did not blink: ${BLINK_SAMPLE_MS} ms of reads showed one unchanged screen`);
      assert.ok(blinkBox.width <= CELL_WIDTH_PX && blinkBox.height <= CELL_HEIGHT_PX, `${IDS[index]}: the blinking part ${JSON.stringify(blinkBox)} is more than one text cell`);
    }

    await staysQuiet(QUIET_WATCH_MS, 'identical consoles with blinking cursors');
    assert.doesNotMatch(app.stderr(), /replicas diverge/, 'no divergence was reported to the back end');
  });

  it('flags one character typed on q2 alone over its cell, with q2 the outlier', async () => {
    await consolesAgree('before the extra character');
    await typeOnVmConsole(vms[1] as VmDescription, 'z');
    const q1Text = await textView(vms[0] as VmDescription);
    const typed = await eventually(async () => !compareFramebuffers(q1Text, await textView(vms[1] as VmDescription)).identical, 10_000, 0);
    assert.ok(typed, 'the character typed through the QEMU monitor never reached q2');

    // The expected cell, measured on the servers: q1 against q2 over a few blink phases. Every
    // difference is the "z" and the two cursor positions; the smallest one (cursors in one phase)
    // is the character itself.
    let everything: Region | undefined;
    let smallest: { box: Region; pixels: number } | undefined;
    const started = Date.now();
    while (Date.now() - started < BLINK_SAMPLE_MS) {
      const [q1, q2] = await Promise.all([readFramebuffer(vms[0] as VmDescription), readFramebuffer(vms[1] as VmDescription)]);
      const comparison = compareFramebuffers(q1, q2);
      assert.ok(comparison.box, 'the extra character changed q2');
      everything = everything === undefined ? comparison.box : union([everything, comparison.box]);
      if (smallest === undefined || comparison.differingPixels < smallest.pixels) smallest = { box: comparison.box, pixels: comparison.differingPixels };
      await sleep(90);
    }
    assert.ok(everything && smallest);
    assert.ok(everything.height <= CELL_HEIGHT_PX && everything.width <= 2 * CELL_WIDTH_PX, `the difference ${JSON.stringify(everything)} is more than the character's cell and the next one (the cursor)`);

    const shown = await waitForFlag(page, FLAG_TIMEOUT_MS);
    const red = union(shown);
    assert.ok(contains(red, smallest.box), `the red regions ${JSON.stringify(shown)} cover the character ${JSON.stringify(smallest.box)}`);
    assert.ok(contains(toTiles(everything), red), `the red regions ${JSON.stringify(shown)} stay within the tiles of the differing cells ${JSON.stringify(toTiles(everything))}`);
    assert.deepEqual(await divergentIds(page), ['q2']);
    assert.match(await divergenceStatus(page), /^\d+ regions? disagrees? — VM 2 is the outlier$/);
  });

  it('returns to consensus once the character is typed on q1 and q3 too', async () => {
    await Promise.all([typeOnVmConsole(vms[0] as VmDescription, 'z'), typeOnVmConsole(vms[2] as VmDescription, 'z')]);
    await consolesAgree('after typing the character on q1 and q3');
    const agreed = await eventually(async () => (await divergenceStatus(page)) === 'All replicas agree', FLAG_TIMEOUT_MS);
    assert.ok(agreed, `still: ${await divergenceStatus(page)} (regions ${JSON.stringify(await regionsShown(page))})`);
    assert.deepEqual(await regionsShown(page), []);
    assert.deepEqual(await divergentIds(page), []);
  });
});
