// The demo tour's steps, in order: each drives the app in Chromium like a user, then checks the
// outcome where it really happens (the demo replicas' guests, read in-process), not only in the UI.
// Later issues add their steps to TOUR_STEPS (see the slots marked below). Runs in Node.

import type { Locator, Page } from 'playwright-core';
import sharp from 'sharp';
import type { Backend } from '../../main/backend';
import type { DemoLab } from '../../main/demo/demo-lab';
import type { GuestDesktop } from '../../main/demo/guest-desktop';

/** A check that did not hold: the step fails with this message. */
export class TourCheckError extends Error {
  override readonly name = 'TourCheckError';
}

/** What a step can use. */
export interface TourContext {
  readonly page: Page;
  readonly backend: Backend;
  /** The browser shell's address (with its launch secret). */
  readonly url: string;
  /** Records what the step saw (in the report and the event log). */
  readonly note: (text: string) => void;
}

/** One step of the tour. */
export interface TourStep {
  readonly id: string;
  readonly title: string;
  /** What the step does and shows, for the report. */
  readonly description: string;
  /** Steps that must have passed for this one to make sense; otherwise it is reported as not run. */
  readonly needs: readonly string[];
  /** Longest the step may take. */
  readonly timeoutMs: number;
  run(context: TourContext): Promise<void>;
}

/** What the tour types on the composite. */
export const TYPED_TEXT = 'hello from RetroVisor';
/** The banner the tour paints on r2 through the demo panel. */
export const BANNER_TEXT = 'HACKED by a rogue hypervisor';
/** The replica the tour injects faults into. */
export const FAULTY_REPLICA = 'r2';

const CONNECT_TIMEOUT_MS = 20_000;
const GUEST_TIMEOUT_MS = 5_000;
// After a crash the UI retries after 1, 2, 4, 8 s: a restarted replica is back within one more retry.
const RECONNECT_TIMEOUT_MS = 20_000;
const POLL_MS = 50;

function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new TourCheckError(message);
}

async function poll(probe: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (probe()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

function runningLab(backend: Backend): DemoLab {
  const lab = backend.demo.lab;
  check(lab !== null, 'the demo lab is not running in the back end');
  return lab;
}

function guestOf(lab: DemoLab, replicaId: string): GuestDesktop {
  const guest = lab.replica(replicaId).guest;
  check(guest !== null, `${replicaId} is not running (its domain is ${lab.replica(replicaId).state})`);
  return guest;
}

/** Pixels that differ between two RGBA buffers of the same size. */
function countDifferences(a: Uint8Array, b: Uint8Array): number {
  let count = 0;
  for (let offset = 0; offset < a.length; offset += 4) {
    if (a[offset] !== b[offset] || a[offset + 1] !== b[offset + 1] || a[offset + 2] !== b[offset + 2]) count++;
  }
  return count;
}

/** The RGBA of a rectangle of a guest's screen. */
function crop(guest: GuestDesktop, rect: { x: number; y: number; width: number; height: number }): Uint8Array {
  const out = new Uint8Array(rect.width * rect.height * 4);
  for (let row = 0; row < rect.height; row++) {
    const start = ((rect.y + row) * guest.width + rect.x) * 4;
    out.set(guest.pixels.subarray(start, start + rect.width * 4), row * rect.width * 4);
  }
  return out;
}

/** A rectangle of guest pixels. */
interface PixelBox {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** The smallest box holding every pixel where two guests' screens differ; null when identical. */
function differenceBox(a: GuestDesktop, b: GuestDesktop): PixelBox | null {
  let left = Infinity;
  let top = Infinity;
  let right = -Infinity;
  let bottom = -Infinity;
  for (let y = 0; y < a.height; y++) {
    for (let x = 0; x < a.width; x++) {
      const offset = (y * a.width + x) * 4;
      if (a.pixels[offset] === b.pixels[offset] && a.pixels[offset + 1] === b.pixels[offset + 1] && a.pixels[offset + 2] === b.pixels[offset + 2]) continue;
      left = Math.min(left, x);
      top = Math.min(top, y);
      right = Math.max(right, x + 1);
      bottom = Math.max(bottom, y + 1);
    }
  }
  return right < 0 ? null : { x: left, y: top, width: right - left, height: bottom - top };
}

/** The smallest box holding every given one (not empty). */
function boundingBox(boxes: readonly PixelBox[]): PixelBox {
  const left = Math.min(...boxes.map((box) => box.x));
  const top = Math.min(...boxes.map((box) => box.y));
  const right = Math.max(...boxes.map((box) => box.x + box.width));
  const bottom = Math.max(...boxes.map((box) => box.y + box.height));
  return { x: left, y: top, width: right - left, height: bottom - top };
}

/** Where a guest pixel is on the page, through the composite (which shows the whole guest, scaled). */
async function guestPointOnPage(page: Page, guest: GuestDesktop, x: number, y: number): Promise<{ x: number; y: number }> {
  const box = await page.locator('#composite').boundingBox();
  check(box !== null && box.width > 0, 'the composite is not on screen');
  return { x: box.x + ((x + 0.5) * box.width) / guest.width, y: box.y + ((y + 0.5) * box.height) / guest.height };
}

/** A thumbnail's screen as the app shows it (a screenshot of the element), RGBA. */
async function thumbnailPixels(page: Page, replicaId: string): Promise<Uint8Array> {
  const png = await page.locator(`.thumbnail[data-replica-id="${replicaId}"] .thumbnail-screen`).screenshot();
  const { data } = await sharp(png).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return new Uint8Array(data);
}

async function waitForStates(page: Page, replicaIds: readonly string[], states: readonly string[], timeoutMs: number): Promise<void> {
  const wanted = states.map((state) => `[data-state="${state}"]`).join(',');
  for (const id of replicaIds) {
    try {
      await page.waitForSelector(`.thumbnail[data-replica-id="${id}"]:is(${wanted})`, { state: 'attached', timeout: timeoutMs });
    } catch {
      const shown = await page.getAttribute(`.thumbnail[data-replica-id="${id}"]`, 'data-state').catch(() => null);
      throw new TourCheckError(`${id} did not become ${states.join(' or ')} within ${timeoutMs / 1000} s (it shows ${shown ?? 'nothing'})`);
    }
  }
}

function panel(page: Page): Locator {
  return page.getByTestId('demo-panel');
}

async function selectReplica(page: Page, replicaId: string): Promise<void> {
  // The divergence-views step leaves the diff view open for its screenshot: a modal over the panel.
  if ((await page.getByTestId('diff-view').count()) > 0) {
    await page.keyboard.press('Escape');
    await page.getByTestId('diff-view').waitFor({ state: 'detached', timeout: 5_000 });
  }
  await panel(page).locator(`[data-testid="demo-replica-tab"][data-demo-replica-id="${replicaId}"]`).click();
  await panel(page).locator(`[data-testid="demo-controls"][data-demo-replica-id="${replicaId}"]`).waitFor();
}

/** The tour, in order. Each later capability adds its step at its slot. */
export const TOUR_STEPS: readonly TourStep[] = [
  {
    id: 'start-screen',
    title: 'The first screen offers the demo lab',
    description: 'RetroVisor starts with no profile: its start screen offers "Open the demo lab" as the main action.',
    needs: [],
    timeoutMs: 20_000,
    async run({ page, url, note }) {
      await page.goto(url);
      const button = page.getByTestId('open-demo-lab');
      await button.waitFor({ state: 'visible' });
      check(await button.isEnabled(), '"Open the demo lab" is disabled');
      note(`The start screen shows "${((await button.textContent()) ?? '').trim()}".`);
    },
  },
  {
    id: 'open-demo-lab',
    title: 'One click opens the demo lab',
    description: 'Clicking "Open the demo lab" starts three demo replicas and a simulated L0 in the back end and opens them as a session.',
    needs: ['start-screen'],
    timeoutMs: 40_000,
    async run({ page, backend, note }) {
      await page.getByTestId('open-demo-lab').click();
      await page.getByTestId('demo-panel').waitFor({ timeout: CONNECT_TIMEOUT_MS });
      const lab = runningLab(backend);
      const ids = lab.replicas.map((replica) => replica.id);
      await waitForStates(page, ids, ['connected'], CONNECT_TIMEOUT_MS);
      note(`Connected: ${lab.replicas.map((replica) => `${replica.id} (${replica.host}:${replica.port})`).join(', ')}.`);
      const reference = guestOf(lab, ids[0] ?? 'r1');
      for (const id of ids.slice(1)) {
        const differing = countDifferences(guestOf(lab, id).pixels, reference.pixels);
        check(differing === 0, `${id}'s guest screen differs from ${ids[0] ?? 'r1'}'s in ${differing} pixels right after boot`);
      }
      note('Every replica\'s guest shows the same screen (the demo guest is deterministic).');
    },
  },
  {
    id: 'type',
    title: 'Typing on the composite reaches every replica',
    description: `Clicks the composite and types "${TYPED_TEXT}"; each replica's guest must show the text (read from the guest itself, not from the UI).`,
    needs: ['open-demo-lab'],
    timeoutMs: 20_000,
    async run({ page, backend, note }) {
      const lab = runningLab(backend);
      const first = guestOf(lab, 'r1');
      // A click in the guest's text area focuses the composite without drawing (drawing needs the canvas box).
      const cell = first.cellRect(first.text.row, 10);
      const point = await guestPointOnPage(page, first, cell.x + 2, cell.y + 2);
      await page.mouse.click(point.x, point.y);
      await page.keyboard.type(TYPED_TEXT, { delay: 15 });
      const reached = (id: string): boolean => guestOf(lab, id).text.lines.some((line) => line.includes(TYPED_TEXT));
      const ids = lab.replicas.map((replica) => replica.id);
      await poll(() => ids.every(reached), GUEST_TIMEOUT_MS);
      const missing = ids.filter((id) => !reached(id));
      check(
        missing.length === 0,
        `typed "${TYPED_TEXT}" on the composite, but it did not reach ${missing.join(', ')} ` +
          `(r1's cursor line reads "${guestOf(lab, 'r1').text.lines[guestOf(lab, 'r1').text.row] ?? ''}"): keyboard input is not broadcast to the replicas`,
      );
      note(`Every replica's guest shows "${TYPED_TEXT}".`);
    },
  },
  {
    id: 'draw',
    title: 'Drawing on the composite reaches every replica',
    description: "Drags with the left button across the guest's drawing box; each replica's guest must show the same stroke.",
    needs: ['open-demo-lab'],
    timeoutMs: 20_000,
    async run({ page, backend, note }) {
      const lab = runningLab(backend);
      const ids = lab.replicas.map((replica) => replica.id);
      const first = guestOf(lab, 'r1');
      const box = first.canvasRect;
      const before = new Map(ids.map((id) => [id, crop(guestOf(lab, id), box)]));
      const path = [0.15, 0.35, 0.55, 0.75, 0.9].map((t) => ({ x: box.x + box.width * t, y: box.y + box.height * (0.5 + 0.35 * Math.sin(t * 2 * Math.PI)) }));
      const start = await guestPointOnPage(page, first, Math.round(path[0]?.x ?? 0), Math.round(path[0]?.y ?? 0));
      await page.mouse.move(start.x, start.y);
      await page.mouse.down();
      for (const point of path.slice(1)) {
        const target = await guestPointOnPage(page, first, Math.round(point.x), Math.round(point.y));
        await page.mouse.move(target.x, target.y, { steps: 8 });
      }
      await page.mouse.up();
      const drawn = (id: string): number => countDifferences(crop(guestOf(lab, id), box), before.get(id) ?? new Uint8Array());
      await poll(() => ids.every((id) => drawn(id) > 100), GUEST_TIMEOUT_MS);
      const missing = ids.filter((id) => drawn(id) <= 100);
      check(missing.length === 0, `dragged across the drawing box on the composite, but no stroke reached ${missing.join(', ')}: pointer input is not broadcast to the replicas`);
      const strokes = ids.map((id) => crop(guestOf(lab, id), box));
      const reference = strokes[0] ?? new Uint8Array();
      const different = ids.filter((_, index) => countDifferences(strokes[index] ?? new Uint8Array(), reference) > 0);
      check(different.length === 0, `the stroke differs on ${different.join(', ')} from r1's`);
      note(`Every replica's guest shows the same stroke (${drawn('r1')} pixels inked).`);
    },
  },
  {
    id: 'fault-banner',
    title: `A fault paints a banner on ${FAULTY_REPLICA} only`,
    description: `From the demo panel, paints "${BANNER_TEXT}" on ${FAULTY_REPLICA}'s screen, as a compromised hypervisor might; the other replicas must not change.`,
    needs: ['open-demo-lab'],
    timeoutMs: 20_000,
    async run({ page, backend, note }) {
      const lab = runningLab(backend);
      const others = lab.replicas.map((replica) => replica.id).filter((id) => id !== FAULTY_REPLICA);
      await selectReplica(page, FAULTY_REPLICA);
      await panel(page).getByTestId('demo-banner-input').fill(BANNER_TEXT);
      await panel(page).getByTestId('demo-banner-apply').click();
      await page.getByTestId('demo-message').filter({ hasText: 'banner' }).waitFor({ timeout: GUEST_TIMEOUT_MS });
      const reference = guestOf(lab, others[0] ?? 'r1');
      const changed = countDifferences(guestOf(lab, FAULTY_REPLICA).pixels, reference.pixels);
      check(changed > 500, `${FAULTY_REPLICA}'s guest differs from ${others[0] ?? 'r1'}'s in only ${changed} pixels: no banner`);
      for (const id of others.slice(1)) {
        check(countDifferences(guestOf(lab, id).pixels, reference.pixels) === 0, `${id} changed too: the fault must reach ${FAULTY_REPLICA} only`);
      }
      note(`${FAULTY_REPLICA}'s guest differs from the others in ${changed} pixels: the banner.`);
      // What the app shows: the faulty replica's thumbnail differs from a healthy one's.
      const healthy = others[0] ?? 'r1';
      let shownDifference = 0;
      for (let attempt = 0; attempt < 20 && shownDifference <= 40; attempt++) {
        const [faulty, fine] = await Promise.all([thumbnailPixels(page, FAULTY_REPLICA), thumbnailPixels(page, healthy)]);
        shownDifference = faulty.length === fine.length ? countDifferences(faulty, fine) : Number.POSITIVE_INFINITY;
        if (shownDifference <= 40) await new Promise((resolve) => setTimeout(resolve, 150));
      }
      check(shownDifference > 40, `${FAULTY_REPLICA}'s thumbnail does not show the banner`);
      note(`${FAULTY_REPLICA}'s thumbnail shows the banner (${shownDifference} screen pixels differ from ${healthy}'s thumbnail).`);
    },
  },
  {
    id: 'divergence-flag',
    title: `Divergence detection flags the banner on ${FAULTY_REPLICA} in red`,
    description: `Without any click: about a second after the banner appeared, the composite shows the area where ${FAULTY_REPLICA} differs in translucent red, ${FAULTY_REPLICA}'s thumbnail is outlined red as the outlier, and the toolbar says so.`,
    needs: ['fault-banner'],
    timeoutMs: 20_000,
    async run({ page, backend, note }) {
      const lab = runningLab(backend);
      const others = lab.replicas.map((replica) => replica.id).filter((id) => id !== FAULTY_REPLICA);
      const expected = differenceBox(guestOf(lab, FAULTY_REPLICA), guestOf(lab, others[0] ?? 'r1'));
      check(expected !== null, `${FAULTY_REPLICA}'s guest shows no banner`);
      await page.locator(`.thumbnail[data-replica-id="${FAULTY_REPLICA}"][data-divergent="true"]`).waitFor({ state: 'attached', timeout: 10_000 });
      for (const id of others) {
        const divergent = await page.getAttribute(`.thumbnail[data-replica-id="${id}"]`, 'data-divergent');
        check(divergent === 'false', `${id} is flagged too: only ${FAULTY_REPLICA} differs`);
      }
      const regions = JSON.parse((await page.getByTestId('divergence-overlay').getAttribute('data-regions')) ?? '[]') as PixelBox[];
      check(regions.length > 0, 'the composite shows no red region');
      const shown = boundingBox(regions);
      // Regions are shrunk to the differing pixels: they must match the guests' own difference.
      const off = Math.max(Math.abs(shown.x - expected.x), Math.abs(shown.y - expected.y), Math.abs(shown.width - expected.width), Math.abs(shown.height - expected.height));
      check(off <= 16, `the red regions ${JSON.stringify(shown)} do not match where the guests differ ${JSON.stringify(expected)}`);
      const status = (await page.getByTestId('divergence-status').textContent()) ?? '';
      check(/is the outlier/.test(status), `the toolbar says "${status}"`);
      note(`The composite flags ${regions.length} region(s) around ${JSON.stringify(shown)} in red; the toolbar says "${status}".`);
    },
  },
  {
    id: 'divergence-views',
    title: `The timeline and the diff view show what ${FAULTY_REPLICA} got wrong`,
    description: `Opens the divergence timeline: the banner's divergence is listed with every replica's screen at that moment. Then opens the diff view on ${FAULTY_REPLICA}: its screen against a replica of the majority, the differing pixels highlighted and counted.`,
    needs: ['divergence-flag'],
    timeoutMs: 20_000,
    async run({ page, backend, note }) {
      const lab = runningLab(backend);
      await page.getByTestId('timeline-toggle').click();
      const entry = page.locator(`[data-testid="timeline-entry"][data-kind="new"][data-outliers="${FAULTY_REPLICA}"]`).first();
      await entry.waitFor({ timeout: 10_000 });
      const pictures = entry.locator('[data-testid="timeline-screenshot"]');
      await pictures.nth(lab.replicas.length - 1).waitFor({ timeout: 10_000 });
      note(`The timeline lists the divergence of ${FAULTY_REPLICA} with ${await pictures.count()} screens captured when it was confirmed.`);
      await page.locator(`.thumbnail[data-replica-id="${FAULTY_REPLICA}"] [data-testid="open-diff"]`).click();
      const view = page.locator('[data-testid="diff-view"][data-state="compared"]');
      await view.waitFor({ timeout: 10_000 });
      const referenceId = (await view.getAttribute('data-reference-id')) ?? '';
      check(referenceId !== '' && referenceId !== FAULTY_REPLICA, `the diff view compares ${FAULTY_REPLICA} against "${referenceId}"`);
      // The view shows live pixels: a blinking cursor caught in different phases counts too, so its count
      // and the guests' are compared until both saw the same phase (the view refreshes ≤ 250 ms after an update).
      let counted = -1;
      let expected = -2;
      const deadline = Date.now() + 5_000;
      while (Date.now() < deadline) {
        counted = Number(await page.getAttribute('[data-testid="diff-view"]', 'data-differing-pixels'));
        expected = countDifferences(guestOf(lab, FAULTY_REPLICA).pixels, guestOf(lab, referenceId).pixels);
        if (counted === expected) break;
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
      check(counted === expected, `the diff view counts ${counted} differing pixels; the guests differ in ${expected}`);
      note(`The diff view shows ${FAULTY_REPLICA} against ${referenceId}: ${counted} differing pixels, exactly where the guests differ. It stays open for the screenshot; the next step's panel action closes it.`);
    },
  },
  {
    id: 'fault-crash',
    title: `A crash takes ${FAULTY_REPLICA} down, the others stay`,
    description: `From the demo panel, crashes ${FAULTY_REPLICA}'s hypervisor: its VNC server disappears; RetroVisor shows it reconnecting while the other replicas stay connected.`,
    needs: ['open-demo-lab'],
    timeoutMs: 30_000,
    async run({ page, backend, note }) {
      const lab = runningLab(backend);
      const others = lab.replicas.map((replica) => replica.id).filter((id) => id !== FAULTY_REPLICA);
      await selectReplica(page, FAULTY_REPLICA);
      await panel(page).getByTestId('demo-crash').click();
      await panel(page).locator(`[data-testid="demo-replica-tab"][data-demo-replica-id="${FAULTY_REPLICA}"][data-domain-state="crashed"]`).waitFor({ timeout: GUEST_TIMEOUT_MS });
      check(lab.replica(FAULTY_REPLICA).state === 'crashed', `${FAULTY_REPLICA} is ${lab.replica(FAULTY_REPLICA).state}, not crashed`);
      await waitForStates(page, [FAULTY_REPLICA], ['disconnected', 'reconnecting'], 10_000);
      for (const id of others) {
        const state = await page.getAttribute(`.thumbnail[data-replica-id="${id}"]`, 'data-state');
        check(state === 'connected', `${id} shows ${state ?? 'nothing'}: a crash of ${FAULTY_REPLICA} must not affect it`);
      }
      note(`${FAULTY_REPLICA}'s domain is crashed; its thumbnail shows it ${(await page.getAttribute(`.thumbnail[data-replica-id="${FAULTY_REPLICA}"]`, 'data-state')) ?? ''}; ${others.join(', ')} stay connected.`);
    },
  },
  {
    id: 'l0-start',
    title: `The simulated L0 brings ${FAULTY_REPLICA} back`,
    description: `From the demo panel, starts ${FAULTY_REPLICA}'s domain on its simulated L0; RetroVisor reconnects to it on its own.`,
    needs: ['fault-crash'],
    timeoutMs: 40_000,
    async run({ page, backend, note }) {
      const lab = runningLab(backend);
      await selectReplica(page, FAULTY_REPLICA);
      await panel(page).getByTestId('demo-l0-start').click();
      await panel(page).locator(`[data-testid="demo-replica-tab"][data-demo-replica-id="${FAULTY_REPLICA}"][data-domain-state="running"]`).waitFor({ timeout: GUEST_TIMEOUT_MS });
      check(lab.replica(FAULTY_REPLICA).state === 'running', `${FAULTY_REPLICA} is ${lab.replica(FAULTY_REPLICA).state} after start`);
      await waitForStates(page, lab.replicas.map((replica) => replica.id), ['connected'], RECONNECT_TIMEOUT_MS);
      note(`${FAULTY_REPLICA} is running again (a fresh boot) and every replica is connected.`);
    },
  },
  {
    id: 'remediate',
    title: `The manager brings ${FAULTY_REPLICA} back into agreement`,
    description: `A fresh boot of ${FAULTY_REPLICA} cannot agree with replicas that went on: the remediation manager (mode "confirm" in the demo) proposes to revert it to the checkpoint it took on every replica and to replay the input journal since; the tour presses Run, and the three replicas agree again.`,
    needs: ['l0-start'],
    timeoutMs: 90_000,
    async run({ page, backend, note }) {
      const lab = runningLab(backend);
      const succeeded = new Promise<string>((resolve) => {
        const stop = backend.onManagerEvent((event) => {
          if (event.type !== 'remediation' || event.replica !== FAULTY_REPLICA || event.status !== 'succeeded' || event.action === 'quarantine') return;
          stop();
          resolve(event.detail);
        });
      });
      const card = page.locator(`[data-testid="remediation-confirm"][data-replica-id="${FAULTY_REPLICA}"]`);
      await card.waitFor({ timeout: 30_000 });
      const action = (await card.getAttribute('data-action')) ?? '';
      note(`The manager asks before it acts: ${action} on ${FAULTY_REPLICA} — "${((await page.getByTestId('remediation-confirm-reason').textContent()) ?? '').trim()}".`);
      await card.getByTestId('remediation-confirm-run').click();
      const detail = await Promise.race([succeeded, new Promise<never>((_resolve, reject) => setTimeout(() => reject(new TourCheckError(`${FAULTY_REPLICA} was not brought back within 60 s`)), 60_000))]);
      // The remediation panel folds while the timeline is open: close the timeline to show the manager's view.
      if ((await page.getByTestId('timeline').count()) > 0) await page.getByTestId('timeline-toggle').click();
      await page.locator(`[data-testid="remediation-replica-${FAULTY_REPLICA}"][data-state="healthy"]`).waitFor({ state: 'attached', timeout: 10_000 });
      const others = lab.replicas.map((replica) => replica.id).filter((id) => id !== FAULTY_REPLICA);
      // The guests themselves agree (retried: a blinking cursor may be caught in another phase).
      const same = await poll(() => others.every((id) => countDifferences(guestOf(lab, FAULTY_REPLICA).pixels, guestOf(lab, id).pixels) === 0), 10_000);
      check(same, `${FAULTY_REPLICA}'s guest still differs from ${others.join(', ')} after the remediation`);
      await waitForStates(page, lab.replicas.map((replica) => replica.id), ['connected'], RECONNECT_TIMEOUT_MS);
      await page
        .locator('.thumbnail[data-divergent="true"]')
        .first()
        .waitFor({ state: 'detached', timeout: 10_000 })
        .catch(() => {
          throw new TourCheckError('a thumbnail is still flagged as divergent after the remediation');
        });
      note(`${action} succeeded (${detail}); every replica's guest shows the same screen and nothing is flagged.`);
    },
  },
];
