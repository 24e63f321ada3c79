// `npm run bench`: RetroVisor's benchmarks, measured in one run on this machine and printed as a
// table (no pass/fail: figures for docs/benchmarks.md). Sections run in order; later issues add theirs.
//   Input fan-out: skew between the first and the last replica receiving the same input, measured on
//   arrival at instrumented demo RFB servers, for N = 2, 3 and 8; then 100 000 mixed inputs in one
//   burst with a count of lost, duplicated and reordered ones. The input goes the real way: DOM events
//   on the composite canvas of the real renderer in headless Chromium → noVNC keyboard / pointer
//   capture → fan-out → the session's one input channel (or, for comparison, each replica's own
//   stream WebSocket) → the back end (`retrovisor serve`, its own process) → TCP → the servers here.
//   Both deliveries are measured side by side in one run, alternating per N, and compared as ratios.
// Usage: npm run bench [-- --only fanout] [-- --blocks N (0: no burst)] [-- --delivery channel|per-stream|both]
// Runs in Node (through tsx).

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM_INSTALL_HINT, QUIET_CHROMIUM_FLAGS, findChromium } from '../main/chromium';
import type { FramebufferSource } from '../main/demo/framebuffer';
import { RfbServer } from '../main/demo/rfb-server';
import { runCompareBenchmark } from './bench-compare';

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: { only: { type: 'string' }, blocks: { type: 'string' }, delivery: { type: 'string' } },
});

/** How input reaches the back end: the session's one input channel, or each replica's own stream (the old path). */
type Delivery = 'channel' | 'per-stream';
const DELIVERIES: readonly Delivery[] =
  values.delivery === undefined || values.delivery === 'both' ? ['per-stream', 'channel'] : values.delivery === 'channel' || values.delivery === 'per-stream' ? [values.delivery] : [];
if (DELIVERIES.length === 0) throw new Error('--delivery is channel, per-stream or both');

const FRAMEBUFFER_WIDTH = 640;
const FRAMEBUFFER_HEIGHT = 400;
/** Spaced phase: this many input blocks, one every SPACING_MS (each block = 4 user inputs, 6 RFB messages). */
const SPACED_BLOCKS = 400;
const SPACING_MS = 3;
/** Burst phase: 25 000 blocks = 100 000 user inputs (key press, button down, button up, wheel step). */
const BURST_BLOCKS = values.blocks === undefined ? 25_000 : Number(values.blocks);
const REPLICA_COUNTS = [2, 3, 8] as const;
/** The first key's code point: CJK ideographs, one per block, so every key event is recognisable. */
const FIRST_CODE_POINT = 0x4e00;
const CODE_POINTS = 20_000;

/** One RFB input message as a demo server decoded it. */
type Message = string;

/** An instrumented demo replica: a static desktop that records every input message with its arrival time. */
interface InstrumentedReplica {
  readonly server: RfbServer;
  readonly port: number;
  messages: Message[];
  arrivalsNs: bigint[];
}

const STATIC_DESKTOP: FramebufferSource = {
  width: FRAMEBUFFER_WIDTH,
  height: FRAMEBUFFER_HEIGHT,
  pixels: new Uint8Array(FRAMEBUFFER_WIDTH * FRAMEBUFFER_HEIGHT * 4).fill(40),
  subscribe: () => () => undefined,
};

async function startReplica(index: number): Promise<InstrumentedReplica> {
  const recording: Pick<InstrumentedReplica, 'messages' | 'arrivalsNs'> = { messages: [], arrivalsNs: [] };
  const record = (message: Message): void => {
    recording.arrivalsNs.push(process.hrtime.bigint());
    recording.messages.push(message);
  };
  const server = new RfbServer({
    source: STATIC_DESKTOP,
    desktopName: `bench replica ${index + 1}`,
    input: {
      keyEvent: (keysym, down) => record(`k${keysym}${down ? 'd' : 'u'}`),
      pointerEvent: (x, y, mask) => record(`p${x},${y},${mask}`),
      clientCutText: (text) => record(`c${text.length}`),
    },
  });
  const port = await server.listen();
  return Object.assign(recording, { server, port });
}

/** The RFB messages every replica must receive for blocks [first, first+count), in order. */
function expectedMessages(first: number, count: number): Message[] {
  const messages: Message[] = [];
  for (let block = first; block < first + count; block++) {
    const keysym = 0x01000000 + FIRST_CODE_POINT + (block % CODE_POINTS);
    const x = block % FRAMEBUFFER_WIDTH;
    const y = Math.floor(block / FRAMEBUFFER_WIDTH) % FRAMEBUFFER_HEIGHT;
    // A key with no physical code: noVNC sends press and release at once. Then a click and a wheel step down.
    messages.push(`k${keysym}d`, `k${keysym}u`, `p${x},${y},1`, `p${x},${y},0`, `p${x},${y},16`, `p${x},${y},0`);
  }
  return messages;
}

/**
 * The in-page driver (plain JavaScript: this script is typechecked without the DOM library). It
 * dispatches blocks of DOM input on the composite canvas, spaced by `spacingMs` or in one burst: a key
 * press (a CJK character, no physical code), a left click and a wheel step down at a distinct pixel.
 */
const PAGE_DRIVER = `async ({ first, count, spacingMs, width, height, firstCodePoint, codePoints }) => {
  const canvas = document.getElementById('composite');
  if (!(canvas instanceof HTMLCanvasElement)) throw new Error('no composite canvas');
  canvas.focus();
  const box = canvas.getBoundingClientRect();
  const at = (fbX, fbY) => ({
    clientX: box.left + ((fbX + 0.5) * box.width) / canvas.width,
    clientY: box.top + ((fbY + 0.5) * box.height) / canvas.height,
  });
  for (let block = first; block < first + count; block++) {
    const point = at(block % width, Math.floor(block / width) % height);
    const key = String.fromCharCode(firstCodePoint + (block % codePoints));
    canvas.dispatchEvent(new KeyboardEvent('keydown', { key, code: '', bubbles: true, cancelable: true }));
    canvas.dispatchEvent(new PointerEvent('pointerdown', { ...point, buttons: 1, button: 0, pointerId: 1, bubbles: true, cancelable: true }));
    canvas.dispatchEvent(new PointerEvent('pointerup', { ...point, buttons: 0, button: 0, pointerId: 1, bubbles: true, cancelable: true }));
    canvas.dispatchEvent(new WheelEvent('wheel', { ...point, deltaY: 50, deltaMode: 0, bubbles: true, cancelable: true }));
    if (spacingMs > 0) await new Promise((resolve) => setTimeout(resolve, spacingMs));
  }
}`;

/** Plays blocks [first, first+count) on the page's composite. */
async function playBlocks(page: Page, first: number, count: number, spacingMs: number): Promise<void> {
  const args = { first, count, spacingMs, width: FRAMEBUFFER_WIDTH, height: FRAMEBUFFER_HEIGHT, firstCodePoint: FIRST_CODE_POINT, codePoints: CODE_POINTS };
  await page.evaluate(`(${PAGE_DRIVER})(${JSON.stringify(args)})`);
}

/** Waits until every replica holds `total` messages or nothing arrived for a while. */
async function waitForArrivals(replicas: readonly InstrumentedReplica[], total: number): Promise<void> {
  let last = -1;
  let quietSince = Date.now();
  for (;;) {
    const counts = replicas.map((replica) => replica.messages.length);
    if (counts.every((count) => count >= total)) return;
    const sum = counts.reduce((a, b) => a + b, 0);
    if (sum !== last) {
      last = sum;
      quietSince = Date.now();
    } else if (Date.now() - quietSince > 5000) {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Lost, duplicated and reordered messages of one replica against the expected list. */
function audit(expected: readonly Message[], received: readonly Message[]): { lost: number; duplicated: number; reordered: number } {
  // The k-th occurrence of a message matches the k-th occurrence expected.
  const positions = new Map<Message, number[]>();
  expected.forEach((message, index) => {
    const list = positions.get(message);
    if (list) list.push(index);
    else positions.set(message, [index]);
  });
  const seen = new Map<Message, number>();
  let duplicated = 0;
  let reordered = 0;
  let matched = 0;
  let highest = -1;
  for (const message of received) {
    const occurrence = seen.get(message) ?? 0;
    seen.set(message, occurrence + 1);
    const index = positions.get(message)?.[occurrence];
    if (index === undefined) {
      duplicated++;
      continue;
    }
    matched++;
    if (index < highest) reordered++;
    highest = Math.max(highest, index);
  }
  return { lost: expected.length - matched, duplicated, reordered };
}

/** Skew of each message index across replicas (ms), for indexes every replica received in order. */
function skews(replicas: readonly InstrumentedReplica[], from: number, count: number): number[] {
  const result: number[] = [];
  for (let index = from; index < from + count; index++) {
    const times = replicas.map((replica) => replica.arrivalsNs[index]);
    if (times.some((time) => time === undefined)) break;
    const values = times as bigint[];
    const min = values.reduce((a, b) => (b < a ? b : a));
    const max = values.reduce((a, b) => (b > a ? b : a));
    result.push(Number(max - min) / 1e6);
  }
  return result;
}

function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] as number;
}

function describeSkews(values: readonly number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const format = (ms: number): string => `${ms.toFixed(3)} ms`;
  return `p50 ${format(percentile(sorted, 0.5))}  p99 ${format(percentile(sorted, 0.99))}  max ${format(sorted.at(-1) ?? Number.NaN)}  (${values.length} messages)`;
}

const REPO_ROOT = resolve(import.meta.dirname, '..');

/** `retrovisor serve` as a child process (the back end in its own process, as users run it). */
interface RunningApp {
  readonly url: string;
  stop(): Promise<void>;
}

async function startApp(profile: unknown): Promise<RunningApp> {
  const profilePath = join(mkdtempSync(join(os.tmpdir(), 'retrovisor-bench-')), 'profile.json');
  writeFileSync(profilePath, JSON.stringify(profile));
  const child: ChildProcess = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'retrovisor.mjs'), 'serve', '--profile', profilePath], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolveUrl, reject) => {
    let stdout = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /running at (http:\/\/127\.0\.0\.1:\d+\/[^/\s]+\/)/.exec(stdout);
      if (match?.[1]) resolveUrl(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`retrovisor serve exited with ${code} before printing its URL`)));
  });
  return {
    url,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolveExit) => child.once('exit', resolveExit));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Opens the app on the given replicas and waits for every one to connect. */
async function openSession(browser: Browser, replicas: readonly InstrumentedReplica[], delivery: Delivery): Promise<{ app: RunningApp; page: Page }> {
  const app = await startApp({
    version: 1,
    name: `bench ${replicas.length}`,
    replicas: replicas.map((replica, index) => ({ id: `r${index + 1}`, vnc: { host: '127.0.0.1', port: replica.port } })),
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('pageerror', (error) => console.error(`page error: ${error.message}`));
  await page.goto(delivery === 'per-stream' ? `${app.url}?input=per-stream` : app.url);
  for (let index = 0; index < replicas.length; index++) {
    await page.waitForSelector(`[data-replica-id="r${index + 1}"][data-state="connected"]`, { timeout: 30_000, state: 'attached' });
  }
  await page.waitForSelector(`[data-testid="broadcast-badge"][data-targets="${replicas.length}"]`, { timeout: 10_000 });
  return { app, page };
}

/** Skew percentiles of one phase (ms). */
interface SkewFigures {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

function skewFigures(values: readonly number[]): SkewFigures {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted.at(-1) ?? Number.NaN };
}

/** One session's measurement: the spaced phase, then (unless --blocks 0) the burst. */
async function measureFanout(browser: Browser, replicas: readonly InstrumentedReplica[], delivery: Delivery): Promise<SkewFigures> {
  const count = replicas.length;
  for (const replica of replicas) {
    replica.messages = [];
    replica.arrivalsNs = [];
  }
  const { app, page } = await openSession(browser, replicas, delivery);
  try {
    // Spaced: one block every few ms, as a fast typist and a busy mouse would.
    await playBlocks(page, 0, SPACED_BLOCKS, SPACING_MS);
    const spacedTotal = SPACED_BLOCKS * 6;
    await waitForArrivals(replicas, spacedTotal);
    const spacedSkews = skews(replicas, 0, spacedTotal);
    const spacedAudit = replicas.map((replica) => audit(expectedMessages(0, SPACED_BLOCKS), replica.messages.slice(0, spacedTotal)));
    console.log(`N=${count}  ${delivery.padEnd(10)} spaced (${SPACED_BLOCKS * 4} inputs, one block per ${SPACING_MS} ms): skew ${describeSkews(spacedSkews)}`);
    if (spacedAudit.some((result) => result.lost + result.duplicated + result.reordered > 0)) {
      console.log(`      spaced audit per replica: ${JSON.stringify(spacedAudit)}`);
    }
    if (BURST_BLOCKS > 0) {
      // Burst: 100 000 inputs as fast as the page can dispatch them.
      const first = SPACED_BLOCKS;
      const started = Date.now();
      await playBlocks(page, first, BURST_BLOCKS, 0);
      const dispatchedMs = Date.now() - started;
      const burstTotal = BURST_BLOCKS * 6;
      await waitForArrivals(replicas, spacedTotal + burstTotal);
      const arrivedMs = Date.now() - started;
      const expected = expectedMessages(first, BURST_BLOCKS);
      const audits = replicas.map((replica) => audit(expected, replica.messages.slice(spacedTotal)));
      const lost = audits.reduce((sum, result) => sum + result.lost, 0);
      const duplicated = audits.reduce((sum, result) => sum + result.duplicated, 0);
      const reordered = audits.reduce((sum, result) => sum + result.reordered, 0);
      console.log(
        `N=${count}  ${delivery.padEnd(10)} burst  (${BURST_BLOCKS * 4} inputs = ${burstTotal} RFB messages per replica; dispatched in ${dispatchedMs} ms, all arrived after ${arrivedMs} ms): ` +
          `lost ${lost}, duplicated ${duplicated}, reordered ${reordered}; skew ${describeSkews(skews(replicas, spacedTotal, burstTotal))}`,
      );
    }
    return skewFigures(spacedSkews);
  } finally {
    await page.close();
    await app.stop();
  }
}

async function fanoutSection(browser: Browser): Promise<void> {
  console.log('\n## Input fan-out (real renderer → back end → instrumented demo replicas)\n');
  console.log(`load average at start: ${os.loadavg().map((load) => load.toFixed(2)).join(' / ')}`);
  const all = await Promise.all(Array.from({ length: Math.max(...REPLICA_COUNTS) }, (_unused, index) => startReplica(index)));
  try {
    for (const count of REPLICA_COUNTS) {
      const replicas = all.slice(0, count);
      const figures = new Map<Delivery, SkewFigures>();
      for (const delivery of DELIVERIES) figures.set(delivery, await measureFanout(browser, replicas, delivery));
      const before = figures.get('per-stream');
      const after = figures.get('channel');
      if (before !== undefined && after !== undefined) {
        const ratio = (key: keyof SkewFigures): string => `${(before[key] / after[key]).toFixed(1)}×`;
        console.log(`N=${count}  spaced skew, per-stream ÷ channel: p50 ${ratio('p50')}  p99 ${ratio('p99')}  max ${ratio('max')}   (load ${os.loadavg()[0]?.toFixed(2)})`);
      }
    }
  } finally {
    await Promise.all(all.map((replica) => replica.server.close()));
  }
}

const SECTIONS: Record<string, (browser: Browser) => Promise<void>> = {
  fanout: fanoutSection,
  // The comparison engine against pixelmatch and the memory floor (issue 5); needs no browser.
  compare: async () => console.log((await runCompareBenchmark({ log: (line) => console.error(line) })).text),
};

async function main(): Promise<void> {
  console.log(`# RetroVisor benchmarks — ${new Date().toISOString()}`);
  console.log(`${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}`);
  const executablePath = findChromium();
  if (executablePath === null) throw new Error(`no Chromium or Chrome found: ${CHROMIUM_INSTALL_HINT} (or set RETROVISOR_CHROMIUM)`);
  const browser = await chromium.launch({ executablePath, headless: true, args: ['--no-sandbox', '--disable-gpu', ...QUIET_CHROMIUM_FLAGS] });
  try {
    for (const [name, section] of Object.entries(SECTIONS)) {
      if (values.only !== undefined && values.only !== name) continue;
      await section(browser);
    }
  } finally {
    await browser.close();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
