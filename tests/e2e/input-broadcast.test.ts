// End to end, input broadcast against real servers: keys, a drag-select, a middle-click paste and the
// wheel on the composite reach three Xvnc+xterm replicas exactly as xdotool's same input reaches a
// control server (all four end pixel-identical); shifted characters typed through the composite reach
// two QEMU VMs' serial logs exactly; excluded replicas receive nothing; focus loss releases held keys.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { compareFramebuffers, readFramebuffer, startXvnc, waitForStableFramebuffer, type Framebuffer, type VncTarget, type XvncHandle } from '../lab/components';
import { loadLabDescription, type VmDescription } from '../lab/lab';
import { eventually, launchBrowser, openAppPage, startApp, typeLikeAPerson, waitForReplicaState, writeProfile, type RunningApp } from './support/app';

const run = promisify(execFile);
const XTERM_IDS = ['x1', 'x2', 'x3'] as const;
const VM_IDS = ['vm1', 'vm2'] as const;
/** xterm's "fixed" font cell, in framebuffer pixels. */
const CELL_WIDTH_PX = 6;
const CELL_HEIGHT_PX = 13;

/** Runs xdotool on a display (the control server gets the same input as the composite sends). */
async function xdotool(display: number, ...args: string[]): Promise<void> {
  await run('xdotool', args, { env: { ...process.env, DISPLAY: `:${display}` }, timeout: 20_000 });
}

/** The page position of a framebuffer pixel's centre on the (scaled) composite canvas. */
async function compositePoint(page: Page, x: number, y: number): Promise<{ x: number; y: number }> {
  return page.evaluate(
    ([fbX, fbY]) => {
      const canvas = document.getElementById('composite');
      if (!(canvas instanceof HTMLCanvasElement)) throw new Error('no composite canvas');
      const box = canvas.getBoundingClientRect();
      return { x: box.left + ((fbX + 0.5) * box.width) / canvas.width, y: box.top + ((fbY + 0.5) * box.height) / canvas.height };
    },
    [x, y] as const,
  );
}

function differenceText(a: Framebuffer, b: Framebuffer): string {
  const comparison = compareFramebuffers(a, b);
  return `${comparison.differingPixels} pixels differ in ${JSON.stringify(comparison.box)}`;
}

describe('input broadcast to real replicas', { timeout: 7 * 60_000 }, () => {
  let servers: XvncHandle[];
  let control: XvncHandle;
  let vms: VmDescription[];
  let app: RunningApp;
  let browser: Browser;
  let page: Page;
  const targets = new Map<string, VncTarget>();

  /** Waits until every named replica's screen is settled and identical to `expected` (or to each other). */
  async function expectIdentical(ids: readonly string[], expected: VncTarget | null, what: string): Promise<Framebuffer> {
    let detail = '';
    let last: Framebuffer | null = null;
    const same = await eventually(async () => {
      const screens = await Promise.all([...ids.map((id) => targets.get(id)), ...(expected ? [expected] : [])].map((target) => waitForStableFramebuffer(target as VncTarget, { quietMs: 300, timeoutMs: 8000 })));
      const [first, ...others] = screens as [Framebuffer, ...Framebuffer[]];
      last = first;
      const mismatch = others.findIndex((screen) => !compareFramebuffers(first, screen).identical);
      detail = mismatch < 0 ? '' : `${[...ids, 'control'][mismatch + 1]} vs ${ids[0]}: ${differenceText(first, others[mismatch] as Framebuffer)}`;
      return mismatch < 0;
    }, 20_000, 200);
    assert.ok(same, `${what}: ${detail}`);
    assert.ok(last);
    return last;
  }

  async function setIncluded(id: string, included: boolean): Promise<void> {
    const toggle = `[data-replica-id="${id}"] [data-testid="broadcast-include"]`;
    if ((await page.getAttribute(toggle, 'aria-pressed')) !== String(included)) await page.click(toggle);
    assert.equal(await page.getAttribute(toggle, 'aria-pressed'), String(included));
  }

  async function readJournal(): Promise<Array<Record<string, unknown>>> {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="export-journal"]')]);
    const path = await download.path();
    return readFileSync(path, 'utf8')
      .trim()
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  before(async () => {
    const lab = loadLabDescription();
    assert.ok(lab.vms.length >= 2, 'the shared lab must have two QEMU VMs');
    vms = lab.vms.slice(0, 2);
    // Own servers: fresh xterms, identical from the start, untouched by other test files.
    const started = await Promise.all([startXvnc(), startXvnc(), startXvnc(), startXvnc(), launchBrowser()]);
    servers = started.slice(0, 3) as XvncHandle[];
    control = started[3];
    browser = started[4];
    XTERM_IDS.forEach((id, index) => targets.set(id, servers[index] as XvncHandle));
    VM_IDS.forEach((id, index) => targets.set(id, vms[index] as VmDescription));
    const profilePath = writeProfile({
      version: 1,
      name: 'input broadcast',
      replicas: [
        ...XTERM_IDS.map((id, index) => ({ id, label: `xterm ${index + 1}`, vnc: { host: servers[index]?.host, port: servers[index]?.port } })),
        ...VM_IDS.map((id, index) => ({ id, label: `VM ${index + 1}`, vnc: { host: vms[index]?.host, port: vms[index]?.port } })),
      ],
    });
    app = await startApp({ profilePath });
    page = await openAppPage(browser, app);
  });

  after(async () => {
    await browser?.close();
    await app?.stop();
    await Promise.allSettled([...(servers ?? []), control].map((server) => server?.stop()));
  });

  it('connects every replica and shows the broadcast badge', async () => {
    for (const id of [...XTERM_IDS, ...VM_IDS]) {
      await waitForReplicaState(page, id, 'connected', 60_000).catch((error: unknown) => {
        throw new Error(`${id} did not connect: ${String(error)}\napp stderr:\n${app.stderr()}`);
      });
    }
    await page.waitForSelector('[data-testid="broadcast-badge"][data-targets="5"]', { timeout: 5000 });
    assert.match((await page.textContent('[data-testid="broadcast-badge"]')) ?? '', /Broadcasting to 5 of 5/);
    assert.match((await page.getAttribute('[data-testid="stage"]', 'class')) ?? '', /stage-broadcasting/);
    assert.equal(await page.getAttribute('#composite', 'data-reference-id'), 'x1');
  });

  it('types keys (shifted characters, Return, Backspace) into three xterms exactly as on a real keyboard', async () => {
    const vmBefore = await Promise.all(vms.map((vm) => waitForStableFramebuffer(vm)));
    for (const id of VM_IDS) await setIncluded(id, false);
    await page.waitForSelector('[data-testid="broadcast-badge"][data-targets="3"]', { timeout: 5000 });
    await page.focus('#composite');
    const line = `echo '"(|)_~!@#$%^&*{}<>?'`;
    await typeLikeAPerson(page, `${line}x`);
    await page.keyboard.press('Backspace');
    await page.keyboard.press('Enter');
    await xdotool(control.display, 'type', '--', `${line}x`);
    await xdotool(control.display, 'key', 'BackSpace', 'Return');
    const screen = await expectIdentical(XTERM_IDS, control, 'after typing');
    const before = await readFramebuffer(control);
    assert.ok(compareFramebuffers(screen, before).identical);
    // The VMs were excluded: their screens did not change.
    for (const [index, vm] of vms.entries()) {
      const now = await readFramebuffer(vm);
      assert.ok(compareFramebuffers(now, vmBefore[index] as Framebuffer).identical, `excluded ${VM_IDS[index]} changed: ${differenceText(now, vmBefore[index] as Framebuffer)}`);
    }
  });

  it('drag-selects with the mouse and pastes with a middle click, identically everywhere', async () => {
    const before = await readFramebuffer(control);
    // Row 1 holds the echoed text; select from its 1st to its 12th character.
    const row = 1;
    const y = row * CELL_HEIGHT_PX + Math.floor(CELL_HEIGHT_PX / 2);
    const fromX = 1;
    const toX = 11 * CELL_WIDTH_PX + CELL_WIDTH_PX / 2;
    const from = await compositePoint(page, fromX, y);
    const to = await compositePoint(page, toX, y);
    await page.mouse.move(from.x, from.y);
    await page.mouse.down({ button: 'left' });
    await page.mouse.move(to.x, to.y, { steps: 10 });
    await page.mouse.up({ button: 'left' });
    await page.mouse.click(to.x, to.y, { button: 'middle' });
    await xdotool(control.display, 'mousemove', String(fromX), String(Math.floor(y)), 'mousedown', '1');
    await xdotool(control.display, 'mousemove', String(Math.floor(toX)), String(Math.floor(y)));
    await xdotool(control.display, 'mouseup', '1', 'click', '2');
    const after = await expectIdentical(XTERM_IDS, control, 'after the drag-select and middle-click paste');
    const pointers = (await readJournal()).filter((entry) => entry.kind === 'pointer');
    assert.deepEqual(pointers.at(-1), { ...pointers.at(-1), x: toX, y, buttonMask: 0 }, 'the composite maps CSS pixels to framebuffer pixels exactly');
    assert.ok(!compareFramebuffers(after, before).identical, 'the paste changed the screen');
  });

  it('scrolls with the wheel identically everywhere', async () => {
    await page.focus('#composite');
    await typeLikeAPerson(page, '\nseq 1 60\n');
    await xdotool(control.display, 'key', 'Return');
    await xdotool(control.display, 'type', '--', 'seq 1 60');
    await xdotool(control.display, 'key', 'Return');
    const scrolledOut = await expectIdentical(XTERM_IDS, control, 'after seq');
    const middle = await compositePoint(page, 200, 150);
    await page.mouse.move(middle.x, middle.y);
    await page.mouse.wheel(0, -100);
    await xdotool(control.display, 'mousemove', '200', '150', 'click', '4', 'click', '4');
    const wheeled = await expectIdentical(XTERM_IDS, control, 'after two wheel steps up');
    assert.ok(!compareFramebuffers(wheeled, scrolledOut).identical, 'the wheel scrolled the xterms back');
  });

  it('gives an excluded replica nothing: not a key, not a click', async () => {
    await setIncluded('x3', false);
    await page.waitForSelector('[data-testid="broadcast-badge"][data-targets="2"]', { timeout: 5000 });
    const x3Before = await waitForStableFramebuffer(targets.get('x3') as VncTarget);
    await page.focus('#composite');
    await typeLikeAPerson(page, 'abc');
    const somewhere = await compositePoint(page, 30, 30);
    await page.mouse.click(somewhere.x, somewhere.y);
    await expectIdentical(['x1', 'x2'], null, 'the included xterms');
    const x1 = await readFramebuffer(targets.get('x1') as VncTarget);
    const x3 = await readFramebuffer(targets.get('x3') as VncTarget);
    assert.ok(!compareFramebuffers(x1, x3Before).identical, 'the included replicas changed');
    assert.ok(compareFramebuffers(x3, x3Before).identical, `the excluded replica changed: ${differenceText(x3, x3Before)}`);
    const journal = await readJournal();
    const typed = journal.filter((entry) => entry.kind === 'key' && entry.keysym === 0x61);
    assert.ok(typed.length > 0, 'the journal has the typed "a"');
    assert.ok(typed.every((entry) => JSON.stringify(entry.targets) === '["x1","x2"]'), JSON.stringify(typed));
    const sequence = journal.map((entry) => entry.seq as number);
    assert.ok(sequence.every((seq, index) => index === 0 || seq > (sequence[index - 1] as number)), 'sequence numbers only grow');
    assert.ok(!journal.some((entry) => (entry.targets as string[]).some((id) => id.startsWith('vm'))), 'nothing was ever sent to the excluded VMs');
  });

  it('types `echo "(a|b)_c~" > /dev/ttyS0` into two QEMU VMs: each serial log gets exactly (a|b)_c~', async () => {
    for (const id of XTERM_IDS) await setIncluded(id, false);
    for (const id of VM_IDS) await setIncluded(id, true);
    await page.waitForSelector('[data-testid="broadcast-badge"][data-targets="2"]', { timeout: 5000 });
    const sizes = vms.map((vm) => statSync(vm.serialLogPath).size);
    await page.focus('#composite');
    await typeLikeAPerson(page, 'echo "(a|b)_c~" > /dev/ttyS0\n');
    for (const [index, vm] of vms.entries()) {
      let written = '';
      const done = await eventually(async () => {
        written = readFileSync(vm.serialLogPath).subarray(sizes[index]).toString('latin1');
        return written.includes('\n');
      }, 20_000, 100);
      assert.ok(done, `${VM_IDS[index]} wrote nothing to its serial log (got ${JSON.stringify(written)})`);
      assert.equal(written.replace(/\r\n/g, '\n'), '(a|b)_c~\n', `${VM_IDS[index]}'s serial log`);
    }
  });

  it('releases a held Shift on every replica when the composite loses focus', async () => {
    const sizes = vms.map((vm) => statSync(vm.serialLogPath).size);
    await page.focus('#composite');
    await page.keyboard.down('Shift');
    await page.evaluate(() => (document.getElementById('composite') as HTMLCanvasElement).blur());
    await page.waitForSelector('[data-testid="broadcast-badge"][data-focused="false"]', { timeout: 5000 });
    // Playwright still holds Shift: release it where the composite does not listen.
    await page.keyboard.up('Shift');
    await page.focus('#composite');
    // With Shift stuck on the VMs, this would arrive as ECHO RELEASED > ?DEV?TTYS0 and write nothing.
    await typeLikeAPerson(page, 'echo released > /dev/ttyS0\n');
    for (const [index, vm] of vms.entries()) {
      let written = '';
      const done = await eventually(async () => {
        written = readFileSync(vm.serialLogPath).subarray(sizes[index]).toString('latin1');
        return written.includes('\n');
      }, 20_000, 100);
      assert.ok(done, `${VM_IDS[index]}: nothing reached the serial log, Shift is probably stuck (got ${JSON.stringify(written)})`);
      assert.equal(written.replace(/\r\n/g, '\n'), 'released\n');
    }
    const journal = await readJournal();
    const shiftEvents = journal.filter((entry) => entry.kind === 'key' && entry.code === 'ShiftLeft');
    const lastShift = shiftEvents.at(-1);
    assert.equal(lastShift?.down, false, 'the last Shift event is a release');
  });
});
