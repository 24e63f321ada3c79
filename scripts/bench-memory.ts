// Benchmark section "memory": RetroVisor's whole process tree (the back end, `retrovisor serve` in its
// own process, and the Chromium that shows the app: browser, GPU, network, renderer…) while 8 demo
// replicas at 1920×1080 are driven by continuous drawing (drags in the guests' drawing box) and typing
// for M minutes. Samples every process's PSS and RSS (/proc/PID/smaps_rollup) every few seconds and
// prints minute 1, the end, the peak and the growth, by process kind, beside the framebuffers' own
// bytes; then the inputs sent against those each replica received (0 lost) and the divergences shown
// while every replica got the same input (false alarms: 0). Figures only, never pass/fail. Runs in Node:
// `npm run bench -- --only memory [--memory-minutes M]`, or `node --import tsx scripts/bench-memory.ts
// [--memory-minutes M]` after `npm run build`.

import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM_INSTALL_HINT, findChromium, headlessChromiumFlags } from '../main/chromium';
import { startDemoLab, type DemoLab } from '../main/demo/demo-lab';
import { launchYieldingToBackend } from '../main/process-priority';
import { TypingSource, profileOf, startServe } from './bench-divergence';
import { describeAllocators, dumpChromiumMemory, dumpPath, type ProcessAllocators } from './memory-dump';

/** How the section is run; every field has a default. */
export interface MemoryBenchOptions {
  /** Minutes of drawing and typing. Default 10. */
  readonly minutes?: number;
  /** Seconds between two samples of the process tree. Default 5. */
  readonly sampleSeconds?: number;
}

const WIDTH_PX = 1920;
const HEIGHT_PX = 1080;
const REPLICAS = 8;
/** Keys typed between two drags (about 10 keys/s with the drags' own time). */
const KEYS_PER_ROUND = 6;
/** Pointer moves of one drag, each this many framebuffer pixels apart at most. */
const MOVES_PER_DRAG = 12;
const MOVE_STEP_PX = 40;
/** Pause between two inputs sent (a fast person; the fan-out coalesces moves at 17 ms anyway). */
const INPUT_GAP_MS = 25;
const MIB = 2 ** 20;

/** Page globals set before the app loads: every divergence the page shows, as it is shown. */
const OBSERVER_INIT_SCRIPT = `
  globalThis.__retrovisorMemoryBench = { flagged: [] };
  new MutationObserver((records) => {
    for (const record of records) {
      const element = record.target;
      if (element.getAttribute('data-divergent') === 'true' && record.oldValue !== 'true') {
        globalThis.__retrovisorMemoryBench.flagged.push({ epochMs: performance.timeOrigin + performance.now(), replicaId: element.getAttribute('data-replica-id') });
      }
    }
  }).observe(document, { subtree: true, attributes: true, attributeOldValue: true, attributeFilter: ['data-divergent'] });
`;

/** One process of the tree at one sample. */
interface ProcessSample {
  readonly pid: number;
  readonly kind: string;
  readonly pssKiB: number;
  readonly rssKiB: number;
  /** PSS of anonymous and shared (shmem) memory: PSS without file-backed pages. */
  readonly memoryPssKiB: number;
}

interface TreeSample {
  readonly atS: number;
  readonly processes: readonly ProcessSample[];
  readonly pssKiB: number;
  readonly rssKiB: number;
  readonly memoryPssKiB: number;
}

/** Inputs counted at one end (what the bench sent, what one replica's guest received). */
interface InputCounts {
  keyDowns: number;
  keyUps: number;
  buttonPresses: number;
  buttonReleases: number;
  moves: number;
}

const noInputs = (): InputCounts => ({ keyDowns: 0, keyUps: 0, buttonPresses: 0, buttonReleases: 0, moves: 0 });

function sleep(ms: number): Promise<void> {
  return new Promise((resolveSleep) => setTimeout(resolveSleep, ms));
}

function loadText(): string {
  return os
    .loadavg()
    .map((load) => load.toFixed(2))
    .join(' / ');
}

const mib = (kib: number): string => `${(kib / 1024).toFixed(0)} MiB`;

/** Every descendant of `rootPid` (children, their children…), read from /proc. */
export function descendantsOf(rootPid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    // The command name in parentheses may hold spaces: the fields after its closing one are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const parent = Number(fields[1]);
    const list = children.get(parent) ?? [];
    list.push(Number(entry));
    children.set(parent, list);
  }
  const found: number[] = [];
  const queue = [...(children.get(rootPid) ?? [])];
  while (queue.length > 0) {
    const pid = queue.shift() as number;
    found.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return found;
}

/** What a process of the tree is, from its command line: the back end, or Chromium's process type; null: not RetroVisor's. */
export function processKind(commandLine: readonly string[]): string | null {
  // Chromium rewrites its process title: its arguments may come as one string with spaces.
  const words = commandLine.join(' ').split(' ');
  const valueOf = (flag: string): string | undefined => words.find((word) => word.startsWith(`${flag}=`))?.slice(flag.length + 1);
  if (words.some((word) => word.endsWith('retrovisor.mjs'))) return 'back end (node)';
  const type = valueOf('--type');
  // Anything else under this process (tsx's esbuild service) is the bench's, not RetroVisor's.
  if (type === undefined) return /chrom/i.test(words[0] ?? '') ? 'chromium browser' : null;
  if (type === 'utility') {
    const subType = valueOf('--utility-sub-type') ?? '';
    return subType.includes('network') ? 'chromium network' : `chromium utility (${subType.split('.').pop() ?? subType})`;
  }
  if (type === 'gpu-process') return 'chromium gpu';
  return `chromium ${type}`;
}

/** PSS, RSS and PSS without file pages (KiB) of one process from /proc/PID/smaps_rollup; null when it is gone. */
function memoryOf(pid: number): { pssKiB: number; rssKiB: number; memoryPssKiB: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
    return { pssKiB: field('Pss'), rssKiB: field('Rss'), memoryPssKiB: field('Pss_Anon') + field('Pss_Shmem') };
  } catch {
    return null;
  }
}

function commandLineOf(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((part) => part !== '');
  } catch {
    return [];
  }
}

/** One sample of every process under this one (the back end it started and the Chromium it launched). */
function sampleTree(startedAtMs: number): TreeSample {
  const processes: ProcessSample[] = [];
  for (const pid of descendantsOf(process.pid)) {
    const kind = processKind(commandLineOf(pid));
    const memory = kind === null ? null : memoryOf(pid);
    if (kind === null || memory === null || memory.rssKiB === 0) continue;
    processes.push({ pid, kind, ...memory });
  }
  return {
    atS: (performance.now() - startedAtMs) / 1000,
    processes,
    pssKiB: processes.reduce((total, entry) => total + entry.pssKiB, 0),
    rssKiB: processes.reduce((total, entry) => total + entry.rssKiB, 0),
    memoryPssKiB: processes.reduce((total, entry) => total + entry.memoryPssKiB, 0),
  };
}

/** PSS / RSS by process kind (several renderers add up), largest first. */
function byKind(sample: TreeSample): string[] {
  const kinds = new Map<string, { pss: number; rss: number; memory: number; count: number }>();
  for (const entry of sample.processes) {
    const total = kinds.get(entry.kind) ?? { pss: 0, rss: 0, memory: 0, count: 0 };
    total.pss += entry.pssKiB;
    total.rss += entry.rssKiB;
    total.memory += entry.memoryPssKiB;
    total.count++;
    kinds.set(entry.kind, total);
  }
  return [...kinds]
    .sort((a, b) => b[1].pss - a[1].pss)
    .map(([kind, total]) => `    ${kind}${total.count > 1 ? ` ×${total.count}` : ''}: PSS ${mib(total.pss)} (without file pages ${mib(total.memory)}), RSS ${mib(total.rss)}`);
}

/** Counts every input each replica's guest receives (wraps the guests' input methods). */
function countGuestInputs(lab: DemoLab): Map<string, InputCounts> {
  const counts = new Map<string, InputCounts>();
  for (const replica of lab.replicas) {
    const guest = lab.replica(replica.id).guest;
    if (guest === null) throw new Error(`demo replica ${replica.id} has no guest`);
    const count = noInputs();
    counts.set(replica.id, count);
    const keyEvent = guest.keyEvent.bind(guest);
    const pointerEvent = guest.pointerEvent.bind(guest);
    let buttons = 0;
    guest.keyEvent = (keysym, down) => {
      if (down) count.keyDowns++;
      else count.keyUps++;
      keyEvent(keysym, down);
    };
    guest.pointerEvent = (x, y, buttonMask) => {
      if ((buttonMask & 1) !== 0 && (buttons & 1) === 0) count.buttonPresses++;
      else if ((buttonMask & 1) === 0 && (buttons & 1) !== 0) count.buttonReleases++;
      else count.moves++;
      buttons = buttonMask;
      pointerEvent(x, y, buttonMask);
    };
  }
  return counts;
}

/** Opens the app and waits until every replica is connected and input reaches all of them. */
async function openPage(browser: Browser, url: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  page.on('pageerror', (error) => console.error(`page error: ${error.stack ?? error.message}`));
  await page.addInitScript(OBSERVER_INIT_SCRIPT);
  await page.goto(url);
  for (let index = 1; index <= REPLICAS; index++) {
    await page.waitForSelector(`[data-replica-id="r${index}"][data-state="connected"]`, { timeout: 60_000, state: 'attached' });
  }
  await page.waitForSelector(`[data-testid="broadcast-badge"][data-targets="${REPLICAS}"]`, { timeout: 20_000 });
  await page.focus('#composite');
  return page;
}

/** Draws and types through the composite until `endAt` (performance.now), counting what it sent. */
async function drive(page: Page, lab: DemoLab, endAt: number, sent: InputCounts, source: TypingSource): Promise<void> {
  const box = await page.locator('#composite').boundingBox();
  if (box === null) throw new Error('the composite canvas is not on screen');
  const drawing = lab.replica('r1').guest?.canvasRect;
  if (drawing === undefined) throw new Error('demo replica r1 has no guest');
  // Framebuffer pixel → page point (the composite is the framebuffer scaled by CSS).
  const at = (x: number, y: number): [number, number] => [box.x + ((x + 0.5) * box.width) / WIDTH_PX, box.y + ((y + 0.5) * box.height) / HEIGHT_PX];
  let seed = 424242;
  const random = (): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const inside = (value: number, from: number, length: number): number => Math.min(from + length - 3, Math.max(from + 2, value));
  while (performance.now() < endAt) {
    let x = drawing.x + 2 + random() * (drawing.width - 4);
    let y = drawing.y + 2 + random() * (drawing.height - 4);
    await page.mouse.move(...at(x, y));
    sent.moves++;
    await page.mouse.down();
    sent.buttonPresses++;
    for (let move = 0; move < MOVES_PER_DRAG; move++) {
      x = inside(x + (random() - 0.5) * 2 * MOVE_STEP_PX, drawing.x, drawing.width);
      y = inside(y + (random() - 0.5) * 2 * MOVE_STEP_PX, drawing.y, drawing.height);
      await page.mouse.move(...at(x, y));
      sent.moves++;
      await sleep(INPUT_GAP_MS);
    }
    await page.mouse.up();
    sent.buttonReleases++;
    for (let key = 0; key < KEYS_PER_ROUND; key++) {
      const character = source.next();
      await page.keyboard.press(character === '\n' ? 'Enter' : character === ' ' ? 'Space' : `Key${character.toUpperCase()}`);
      sent.keyDowns++;
      sent.keyUps++;
      await sleep(INPUT_GAP_MS);
    }
  }
}

/** The page's V8 heap (used of allocated) and the array buffers' backing stores, the worker not included. */
async function pageHeap(page: Page): Promise<string> {
  const session = await page.context().newCDPSession(page);
  try {
    const heap = await session.send('Runtime.getHeapUsage');
    return `JS heap ${(heap.usedSize / MIB).toFixed(0)} of ${(heap.totalSize / MIB).toFixed(0)} MiB, array buffers ${(heap.backingStorageSize / MIB).toFixed(0)} MiB`;
  } catch (error) {
    return `heap unknown (${error instanceof Error ? error.message : String(error)})`;
  } finally {
    await session.detach().catch(() => undefined);
  }
}

/**
 * The page's live ArrayBuffers of at least 1 MiB (the worker's not included), by size: what holds
 * the renderer's array-buffer partition (noVNC's receive queues, read-backs…).
 */
async function largeArrayBuffers(page: Page): Promise<string> {
  const session = await page.context().newCDPSession(page);
  try {
    const prototype = await session.send('Runtime.evaluate', { expression: 'ArrayBuffer.prototype' });
    const queried = await session.send('Runtime.queryObjects', { prototypeObjectId: prototype.result.objectId! });
    const sizes = await session.send('Runtime.callFunctionOn', {
      objectId: queried.objects.objectId!,
      functionDeclaration: 'function () { return this.map((buffer) => buffer.byteLength).filter((bytes) => bytes >= 1048576); }',
      returnByValue: true,
    });
    const bytes = (sizes.result.value as number[]).sort((a, b) => b - a);
    const counts = new Map<string, number>();
    for (const size of bytes) counts.set((size / MIB).toFixed(2), (counts.get((size / MIB).toFixed(2)) ?? 0) + 1);
    return `${bytes.length} array buffers ≥ 1 MiB: ${[...counts].map(([size, count]) => `${count} × ${size} MiB`).join(', ') || 'none'}`;
  } catch (error) {
    return `array buffers unknown (${error instanceof Error ? error.message : String(error)})`;
  } finally {
    await session.detach().catch(() => undefined);
  }
}

/** The renderer's view of itself: JS heap, DOM canvases and their bitmap bytes. */
async function rendererView(page: Page): Promise<string> {
  const heap = await pageHeap(page);
  const canvases = await page.$$eval('canvas', (elements) =>
    elements.map((element) => {
      const canvas = element as unknown as { width: number; height: number; checkVisibility(options: { visibilityProperty: boolean }): boolean };
      return { width: canvas.width, height: canvas.height, shown: canvas.checkVisibility({ visibilityProperty: true }) };
    }),
  );
  const bytes = canvases.reduce((total, canvas) => total + canvas.width * canvas.height * 4, 0);
  const full = canvases.filter((canvas) => canvas.width * canvas.height >= WIDTH_PX * HEIGHT_PX);
  return `${heap}; ${canvases.length} canvases in the DOM (${(bytes / MIB).toFixed(0)} MiB at their sizes), ${full.length} framebuffer-sized, ${full.filter((canvas) => canvas.shown).length} of them displayed`;
}

/**
 * Chromium's allocators in its processes over 20 MiB (memory-infra), on stderr: what each of them
 * holds, and the change since `before` (the first dump of the run). Returns the dumps.
 */
async function printChromiumAllocators(browser: Browser, atS: number, before: readonly ProcessAllocators[] | undefined): Promise<ProcessAllocators[]> {
  try {
    const dumps = await dumpChromiumMemory(browser, dumpPath(process.env.RETROVISOR_BENCH_TRACE_DIR, `memory-${atS}s.json`));
    for (const dump of dumps) {
      const total = dump.bytesByDump.get('malloc') ?? 0;
      const text = describeAllocators(dump, { before: before?.find((entry) => entry.pid === dump.pid) });
      if (text !== '' && [...dump.bytesByDump.values()].some((bytes) => bytes > 20 * MIB)) console.error(`    chromium ${dump.label} ${dump.pid} (malloc ${(total / MIB).toFixed(0)} MiB): ${text}`);
    }
    return dumps;
  } catch (error) {
    console.error(`    chromium memory dump failed: ${error instanceof Error ? error.message : String(error)}`);
    return [];
  }
}

/** Runs the section on `browser` and prints it. */
export async function runMemoryBenchmark(browser: Browser, options: MemoryBenchOptions = {}): Promise<void> {
  const minutes = options.minutes ?? 10;
  const sampleMs = (options.sampleSeconds ?? 5) * 1000;
  const framebufferBytes = REPLICAS * WIDTH_PX * HEIGHT_PX * 4;
  console.log(`\n## Memory: ${REPLICAS} demo replicas at ${WIDTH_PX}×${HEIGHT_PX}, ${minutes} min of drawing and typing, the whole process tree (back end + Chromium)\n`);
  console.log(`load average at start: ${loadText()}; framebuffers: ${REPLICAS} × ${WIDTH_PX}×${HEIGHT_PX}×4 B = ${(framebufferBytes / MIB).toFixed(1)} MiB`);
  const lab = await startDemoLab({ replicas: REPLICAS, size: { width: WIDTH_PX, height: HEIGHT_PX } });
  const serve = await startServe(profileOf(lab, 'bench memory', true));
  const samples: TreeSample[] = [];
  try {
    const page = await openPage(browser, serve.url);
    try {
      const received = countGuestInputs(lab);
      const sent = noInputs();
      const source = new TypingSource();
      const startedAt = performance.now();
      samples.push(sampleTree(startedAt));
      const dumpEveryMinute = (process.env.RETROVISOR_BENCH_MEMORY_DUMPS ?? '') !== '';
      let firstDumps: ProcessAllocators[] | undefined;
      const timer = setInterval(() => {
        const sample = sampleTree(startedAt);
        samples.push(sample);
        if (Math.floor(sample.atS / 60) !== Math.floor((sample.atS - sampleMs / 1000) / 60)) {
          console.error(`  memory: ${sample.atS.toFixed(0)} s, PSS ${mib(sample.pssKiB)} (without file pages ${mib(sample.memoryPssKiB)}), RSS ${mib(sample.rssKiB)} (load ${loadText()})`);
          // Which process moves: every process over 20 MiB, without file pages (what other programs do not move).
          const big = sample.processes.filter((entry) => entry.memoryPssKiB > 20 * 1024).sort((a, b) => b.memoryPssKiB - a.memoryPssKiB);
          console.error(`    ${big.map((entry) => `${entry.kind} ${entry.pid}: ${mib(entry.memoryPssKiB)}`).join(', ')}`);
          void pageHeap(page).then((line) => console.error(`    page: ${line}`));
          if (dumpEveryMinute) void largeArrayBuffers(page).then((line) => console.error(`    page: ${line}`));
          if (dumpEveryMinute) void printChromiumAllocators(browser, Math.round(sample.atS), firstDumps).then((dumps) => (firstDumps ??= dumps));
        }
      }, sampleMs);
      try {
        await drive(page, lab, startedAt + minutes * 60_000, sent, source);
      } finally {
        clearInterval(timer);
      }
      samples.push(sampleTree(startedAt));
      const view = await rendererView(page);
      // Every input has reached every guest once the page and the back end are idle again.
      await sleep(3000);
      const flagged = await page.evaluate(() => (globalThis as unknown as { __retrovisorMemoryBench: { flagged: { epochMs: number; replicaId: string }[] } }).__retrovisorMemoryBench.flagged);
      report(samples, framebufferBytes, view);
      reportInputs(lab, sent, received, source);
      console.log(`false alarms: ${flagged.length} divergence${flagged.length === 1 ? '' : 's'} shown while every replica got the same input (expected 0)${flagged.length > 0 ? `: ${flagged.slice(0, 10).map((entry) => `${new Date(entry.epochMs).toISOString()} ${entry.replicaId}`).join(', ')}` : ''}`);
      console.log(`(load ${loadText()})`);
    } finally {
      await page.close();
    }
  } finally {
    await serve.stop();
    await lab.stop();
  }
}

function report(samples: readonly TreeSample[], framebufferBytes: number, rendererLine: string): void {
  const first = samples[0];
  const last = samples[samples.length - 1];
  if (first === undefined || last === undefined) return;
  // Minute 1: the first sample at or after 60 s (the whole run when shorter).
  const minuteOne = samples.find((sample) => sample.atS >= 60) ?? last;
  const peakPss = samples.reduce((peak, sample) => (sample.pssKiB > peak.pssKiB ? sample : peak), first);
  const peakRss = samples.reduce((peak, sample) => (sample.rssKiB > peak.rssKiB ? sample : peak), first);
  const peakMemory = samples.reduce((peak, sample) => (sample.memoryPssKiB > peak.memoryPssKiB ? sample : peak), first);
  const growth = (end: number, start: number): string => `${end >= start ? '+' : ''}${(((end - start) / start) * 100).toFixed(1)} %`;
  console.log(`${samples.length} samples over ${last.atS.toFixed(0)} s, ${last.processes.length} processes at the end`);
  console.log(`| | start | minute 1 (${minuteOne.atS.toFixed(0)} s) | end (${last.atS.toFixed(0)} s) | peak | end vs minute 1 |`);
  console.log(`|---|---|---|---|---|---|`);
  console.log(`| PSS (judged) | ${mib(first.pssKiB)} | ${mib(minuteOne.pssKiB)} | ${mib(last.pssKiB)} | ${mib(peakPss.pssKiB)} at ${peakPss.atS.toFixed(0)} s | ${growth(last.pssKiB, minuteOne.pssKiB)} |`);
  console.log(
    `| PSS without file pages (anonymous + shared memory) | ${mib(first.memoryPssKiB)} | ${mib(minuteOne.memoryPssKiB)} | ${mib(last.memoryPssKiB)} | ${mib(peakMemory.memoryPssKiB)} at ${peakMemory.atS.toFixed(0)} s | ${growth(last.memoryPssKiB, minuteOne.memoryPssKiB)} |`,
  );
  console.log(`| RSS (shared pages counted per process) | ${mib(first.rssKiB)} | ${mib(minuteOne.rssKiB)} | ${mib(last.rssKiB)} | ${mib(peakRss.rssKiB)} at ${peakRss.atS.toFixed(0)} s | ${growth(last.rssKiB, minuteOne.rssKiB)} |`);
  console.log(`framebuffers for reference: ${(framebufferBytes / MIB).toFixed(1)} MiB; PSS at the end is ${((last.pssKiB * 1024) / framebufferBytes).toFixed(1)}× that`);
  console.log(`by process at minute 1:`);
  for (const line of byKind(minuteOne)) console.log(line);
  console.log(`by process at the end:`);
  for (const line of byKind(last)) console.log(line);
  console.log(`renderer at the end: ${rendererLine}`);
}

function reportInputs(lab: DemoLab, sent: InputCounts, received: ReadonlyMap<string, InputCounts>, source: TypingSource): void {
  console.log(`inputs sent: ${sent.keyDowns} key presses (${sent.keyUps} releases), ${sent.buttonPresses} button presses and ${sent.buttonReleases} releases (drags), ${sent.moves} pointer moves (coalesced by the fan-out, 17 ms)`);
  let lost = 0;
  for (const [id, count] of received) {
    const missing = sent.keyDowns - count.keyDowns + (sent.keyUps - count.keyUps) + (sent.buttonPresses - count.buttonPresses) + (sent.buttonReleases - count.buttonReleases);
    lost += Math.max(0, missing);
    console.log(`  ${id}: ${count.keyDowns} / ${count.keyUps} key presses / releases, ${count.buttonPresses} / ${count.buttonReleases} button presses / releases, ${count.moves} moves${missing === 0 ? '' : ` — ${missing} MISSING`}`);
  }
  const guests = lab.replicas.map((replica) => lab.replica(replica.id).guest);
  const texts = guests.map((guest) => JSON.stringify(guest?.text.lines ?? []));
  const drawings = guests.map((guest) => {
    if (guest === null) return '';
    const rect = guest.canvasRect;
    const rows: string[] = [];
    for (let y = rect.y; y < rect.y + rect.height; y++) rows.push(Buffer.from(guest.pixels.subarray((y * guest.width + rect.x) * 4, (y * guest.width + rect.x + rect.width) * 4)).toString('base64'));
    return rows.join('');
  });
  console.log(
    `inputs lost: ${lost} (expected 0); typed ${source.typed.length} characters; the ${REPLICAS} guests' text ${texts.every((text) => text === texts[0]) ? 'is identical' : 'DIFFERS'}, ` +
      `their drawings ${drawings.every((drawing) => drawing === drawings[0]) ? 'are identical' : 'DIFFER'}`,
  );
}

/** Parses this section's command-line option (shared with scripts/bench.ts). */
export function memoryBenchOptions(values: { 'memory-minutes'?: string }): MemoryBenchOptions {
  const text = values['memory-minutes'];
  if (text === undefined) return {};
  const minutes = Number(text);
  if (!(minutes > 0) || !Number.isFinite(minutes)) throw new Error(`--memory-minutes takes a number > 0, not ${JSON.stringify(text)}`);
  return { minutes };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ args: process.argv.slice(2), options: { 'memory-minutes': { type: 'string' } } });
  const executablePath = findChromium();
  if (executablePath === null) throw new Error(`no Chromium or Chrome found: ${CHROMIUM_INSTALL_HINT} (or set RETROVISOR_CHROMIUM)`);
  const browser = await launchYieldingToBackend(() => chromium.launch({ executablePath, headless: true, args: [...headlessChromiumFlags()] }));
  try {
    console.log(`# ${new Date().toISOString()} — ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}`);
    await runMemoryBenchmark(browser, memoryBenchOptions(values));
  } finally {
    await browser.close();
  }
}
