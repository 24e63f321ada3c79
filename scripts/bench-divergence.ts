// Benchmark section "divergence detection end to end": the real renderer in headless
// Chromium on 3 demo replicas at 1920×1080 (served by `retrovisor serve`, its own process), timed by
// the renderer's bench probe (renderer/divergence/bench-probe.ts, on only when this page asks):
//   1. per framebuffer update: noVNC's receive + decode + draw time against the comparison's
//      (on the page: snapshots of the damaged rectangles + the post to the comparison worker; in the
//      worker: the ticks' share), typed characters and full-screen repaints;
//   2. renderer CPU under continuous typing, comparison on vs off (the profile's divergence.enabled),
//      alternating in one run;
//   3. detection latency: a banner painted on one replica → the divergence in the store and the overlay,
//      against the engine's own wait (settle + confirm);
//   4. false alarms: a soak of N minutes, random lag 0–300 ms per replica, cursors blinking out of phase,
//      continuous typing through the composite: divergence events counted.
// Figures only, never pass/fail. Runs in Node: through `npm run bench -- --only divergence`, or
// `node --import tsx scripts/bench-divergence.ts [--soak-minutes M] [--cpu-seconds S]` after `npm run build`.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium, type Browser, type CDPSession, type Page } from 'playwright-core';
import { CONFIRM_MS, SETTLE_MS } from '../common/divergence';
import { CHROMIUM_INSTALL_HINT, findChromium, headlessChromiumFlags } from '../main/chromium';
import { launchYieldingToBackend } from '../main/process-priority';
import { startDemoLab, type DemoLab } from '../main/demo/demo-lab';
import type { ProbeRecords, TickTiming, UpdateTiming } from '../renderer/divergence/bench-probe';

/** How the section is run; every field has a default. */
export interface DivergenceBenchOptions {
  /** Minutes of the false-alarm soak; 0 skips it. Default 10. */
  readonly soakMinutes?: number;
  /** Seconds of typing per CPU phase (on or off). Default 20. */
  readonly cpuSeconds?: number;
  /** Rounds of (on, off) CPU phases, the order alternating. Default 3. */
  readonly cpuRounds?: number;
}

const WIDTH_PX = 1920;
const HEIGHT_PX = 1080;
const REPLICAS = 3;
/** The blink phase of each replica's cursor, so that they blink out of step (the default half period is 500 ms). */
const BLINK_OFFSETS_MS: Readonly<Record<string, number>> = { r1: 0, r2: 173, r3: 331 };
/** A "small" update: at most a 64×64 region (a typed character and its cursor cell). */
const SMALL_MAX_PX = 64 * 64;
/** A "full-screen" update: at least 90% of the desktop. */
const FULL_MIN_PX = 0.9 * WIDTH_PX * HEIGHT_PX;
/** Keys per second of the continuous typing (a fast typist). */
const TYPING_KEYS_PER_SECOND = 10;
/** A line is ended (Return) at the first space after this many characters. */
const LINE_CHARS = 60;
const WORDS = ['replica', 'divergence', 'hypervisor', 'framebuffer', 'consensus', 'outlier', 'settle', 'confirm', 'tile', 'cursor', 'blink', 'lag', 'qemu', 'xen', 'kvm', 'bhyve', 'screen', 'pixel', 'the', 'a', 'of', 'and', 'typed', 'every', 'key'];
const REPO_ROOT = resolve(import.meta.dirname, '..');

/** The bench probe's page global (renderer/divergence/bench-probe.ts BENCH_PROBE_GLOBAL), set before the app loads. */
const PROBE_INIT_SCRIPT = `
  globalThis.__retrovisorBenchProbe = { enabled: true };
  globalThis.__retrovisorOverlayLog = [];
  new MutationObserver((records) => {
    for (const record of records) {
      const value = record.target.getAttribute('data-regions');
      globalThis.__retrovisorOverlayLog.push({ epochMs: performance.timeOrigin + performance.now(), regions: value });
    }
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-regions'] });
`;

function loadText(): string {
  return os
    .loadavg()
    .map((load) => load.toFixed(2))
    .join(' / ');
}

function epochNowMs(): number {
  return performance.timeOrigin + performance.now();
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolveSleep) => setTimeout(resolveSleep, ms));
}

function percentile(values: readonly number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] as number;
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

const ms = (value: number): string => (Number.isNaN(value) ? '—' : value < 1 ? `${value.toFixed(3)} ms` : `${value.toFixed(2)} ms`);
const times = (value: number): string => (Number.isFinite(value) ? `${value.toFixed(2)}×` : '—');

/** A deterministic stream of typing: words, spaces, and Return at the end of each ~60-character line. */
export class TypingSource {
  private seed = 12345;
  private lineChars = 0;
  private pending: string[] = [];
  typed = '';

  next(): string {
    if (this.pending.length === 0) {
      this.seed = (this.seed * 1103515245 + 12345) % 2 ** 31;
      const word = WORDS[this.seed % WORDS.length] ?? 'key';
      if (this.lineChars >= LINE_CHARS) {
        this.pending.push('\n');
        this.lineChars = 0;
      } else if (this.lineChars > 0) {
        this.pending.push(' ');
      }
      this.pending.push(...word);
      this.lineChars += word.length + 1;
    }
    const next = this.pending.shift() ?? ' ';
    this.typed += next;
    return next;
  }
}

/** Types for `durationMs` at TYPING_KEYS_PER_SECOND with real key events (CDP Input) on the focused composite. */
async function typeFor(page: Page, source: TypingSource, durationMs: number): Promise<number> {
  const intervalMs = 1000 / TYPING_KEYS_PER_SECOND;
  const started = performance.now();
  let keys = 0;
  while (performance.now() - started < durationMs) {
    const character = source.next();
    await page.keyboard.press(character === '\n' ? 'Enter' : character === ' ' ? 'Space' : `Key${character.toUpperCase()}`);
    keys++;
    const nextAt = started + keys * intervalMs;
    const waitMs = nextAt - performance.now();
    if (waitMs > 0) await sleep(waitMs);
  }
  return keys;
}

/** `retrovisor serve` on a profile, as its own process (also used by the memory and main-thread sections). */
export async function startServe(profile: unknown): Promise<{ url: string; stop(): Promise<void> }> {
  const profileFolder = mkdtempSync(join(os.tmpdir(), 'retrovisor-bench-divergence-'));
  const profilePath = join(profileFolder, 'profile.json');
  writeFileSync(profilePath, JSON.stringify(profile));
  const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'retrovisor.mjs'), 'serve', '--profile', profilePath], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const url = await new Promise<string>((resolveUrl, reject) => {
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /running at (http:\/\/127\.0\.0\.1:\d+\/[^/\s]+\/)/.exec(stdout);
      if (match?.[1]) resolveUrl(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`retrovisor serve exited with ${code} before printing its URL (run \`npm run build\` first?); stderr:\n${stderr}`)));
  });
  return {
    url,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((resolveExit) => child.once('exit', resolveExit));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(profileFolder, { recursive: true, force: true });
    },
  };
}

/** Opens the app with the probe on and waits until every replica is connected and input reaches all. */
async function openPage(browser: Browser, url: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  page.on('pageerror', (error) => console.error(`page error: ${error.stack ?? error.message}`));
  await page.addInitScript(PROBE_INIT_SCRIPT);
  await page.goto(url);
  for (let index = 1; index <= REPLICAS; index++) {
    await page.waitForSelector(`[data-replica-id="r${index}"][data-state="connected"]`, { timeout: 30_000, state: 'attached' });
  }
  await page.waitForSelector(`[data-testid="broadcast-badge"][data-targets="${REPLICAS}"]`, { timeout: 10_000 });
  await page.focus('#composite');
  return page;
}

async function takeRecords(page: Page): Promise<ProbeRecords> {
  return page.evaluate(() => {
    const request = (globalThis as Record<string, unknown>).__retrovisorBenchProbe as { probe?: { take(): ProbeRecords } } | undefined;
    if (request?.probe === undefined) throw new Error('the bench probe is not installed in the page (is dist/ built from this checkout? run `npm run build`)');
    return request.probe.take();
  });
}

async function takeOverlayLog(page: Page): Promise<{ epochMs: number; regions: string | null }[]> {
  return page.evaluate(() => {
    const log = (globalThis as Record<string, unknown>).__retrovisorOverlayLog as { epochMs: number; regions: string | null }[];
    return log.splice(0, log.length);
  });
}

/** Resets every replica's guest in place (a full-screen repaint of the boot screen on each). */
function resetAll(lab: DemoLab): void {
  for (const replica of lab.replicas) lab.replica(replica.id).resetInPlace();
}

/** A profile naming the lab's replicas; `comparison` false turns divergence detection off. */
export function profileOf(lab: DemoLab, name: string, comparison: boolean): unknown {
  return {
    version: 1,
    name,
    replicas: lab.replicas.map((replica) => ({ id: replica.id, label: replica.label, vnc: { host: replica.host, port: replica.port } })),
    ...(comparison ? {} : { divergence: { enabled: false } }),
  };
}

/** Update timings of one class, and the ticks that ran meanwhile. */
function describeUpdates(label: string, updates: readonly UpdateTiming[], ticks: readonly TickTiming[]): string[] {
  const compared = updates.filter((update) => update.replicaId !== null);
  if (compared.length === 0) return [`${label}: no compared update recorded`];
  const noVnc = compared.map((update) => update.noVncMs);
  const monitor = compared.map((update) => update.monitorMs);
  const engine = compared.map((update) => update.engineUpdateMs);
  const read = compared.map((update) => update.monitorMs - update.engineUpdateMs);
  const tickShare = sum(ticks.map((tick) => tick.durationMs)) / compared.length;
  const perUpdateRatios = compared.map((update) => (update.monitorMs + tickShare) / update.noVncMs);
  return [
    `${label}: ${compared.length} updates (${REPLICAS} replicas), median area ${percentile(compared.map((update) => update.areaPx), 0.5)} px`,
    `    noVNC receive+decode+draw  p50 ${ms(percentile(noVnc, 0.5))}  p90 ${ms(percentile(noVnc, 0.9))}  max ${ms(Math.max(...noVnc))}  mean ${ms(sum(noVnc) / compared.length)}`,
    `    snapshot/read + post       p50 ${ms(percentile(read, 0.5))}  p90 ${ms(percentile(read, 0.9))}`,
    `    engine.update on the page  p50 ${ms(percentile(engine, 0.5))}  p90 ${ms(percentile(engine, 0.9))}`,
    `    page's share in all       p50 ${ms(percentile(monitor, 0.5))}  p90 ${ms(percentile(monitor, 0.9))}  max ${ms(Math.max(...monitor))}  mean ${ms(sum(monitor) / compared.length)}`,
    `    ticks meanwhile (worker)   ${sum(ticks.map((tick) => tick.ticks))} ticks in ${ticks.length} reports, ${ms(sum(ticks.map((tick) => tick.durationMs)))} in all, per report p50 ${ms(percentile(ticks.map((tick) => tick.durationMs), 0.5))}, max ${ms(Math.max(...ticks.map((tick) => tick.durationMs)))} → share per update ${ms(tickShare)}`,
    `    comparison ÷ noVNC         (read + update + tick share) ÷ noVNC: p50 ${times(percentile(perUpdateRatios, 0.5))}  p90 ${times(percentile(perUpdateRatios, 0.9))}; ratio of means ${times((sum(monitor) / compared.length + tickShare) / (sum(noVnc) / compared.length))}`,
  ];
}

/** 1. Per-update cost: typed characters, then full-screen repaints. */
async function measurePerUpdate(page: Page, lab: DemoLab): Promise<void> {
  console.log(`\n### 1. Per framebuffer update (load ${loadText()})`);
  await sleep(3000);
  await takeRecords(page);
  const source = new TypingSource();
  const keys = await typeFor(page, source, 15_000);
  await sleep(1500);
  const typing = await takeRecords(page);
  const small = typing.updates.filter((update) => update.areaPx <= SMALL_MAX_PX);
  console.log(`typed ${keys} keys in 15 s: ${JSON.stringify(source.typed.slice(0, 80))}…`);
  for (const line of describeUpdates(`small updates (≤ 64×64 px: characters, cursor cells)`, small, typing.ticks)) console.log(line);

  const rounds = 8;
  const full: UpdateTiming[] = [];
  const fullTicks: TickTiming[] = [];
  for (let round = 0; round < rounds; round++) {
    resetAll(lab);
    await sleep(2500);
    const records = await takeRecords(page);
    full.push(...records.updates.filter((update) => update.areaPx >= FULL_MIN_PX));
    fullTicks.push(...records.ticks);
  }
  console.log(`full-screen: ${rounds} resets of every guest in place (the boot screen repainted whole), 2.5 s apart`);
  for (const line of describeUpdates(`full-screen updates (${WIDTH_PX}×${HEIGHT_PX})`, full, fullTicks)) console.log(line);
  const heavyTicks = fullTicks.map((tick) => tick.durationMs).sort((a, b) => b - a).slice(0, rounds);
  console.log(`    the ${rounds} heaviest reports' ticks (judging the repainted screens once settled): ${heavyTicks.map((value) => value.toFixed(1)).join(', ')} ms`);
  console.log(`(load ${loadText()})`);
}

/** 3. Detection latency: a banner painted on r2 → flagged. */
async function measureDetection(page: Page, lab: DemoLab, rounds: number): Promise<void> {
  console.log(`\n### 3. Detection latency (load ${loadText()}); the engine waits settle ${SETTLE_MS} + confirm ${CONFIRM_MS} = ${SETTLE_MS + CONFIRM_MS} ms by design`);
  resetAll(lab);
  await sleep(3000);
  await takeRecords(page);
  await takeOverlayLog(page);
  const rows: { transit: number; store: number; overlay: number }[] = [];
  for (let round = 1; round <= rounds; round++) {
    const text = `DIVERGENCE ${round}`;
    const sentEpochMs = epochNowMs();
    await lab.setFault('r2', { kind: 'banner', text });
    const ticks: TickTiming[] = [];
    const updates: UpdateTiming[] = [];
    const overlay: { epochMs: number; regions: string | null }[] = [];
    const deadline = Date.now() + 10_000;
    let flagged: TickTiming | undefined;
    while (Date.now() < deadline) {
      await sleep(100);
      const records = await takeRecords(page);
      ticks.push(...records.ticks);
      updates.push(...records.updates);
      overlay.push(...(await takeOverlayLog(page)));
      flagged = ticks.find((tick) => tick.divergences.some((divergence) => divergence.outliers.length === 1 && divergence.outliers[0] === 'r2'));
      if (flagged !== undefined && overlay.some((entry) => entry.epochMs >= (flagged?.startEpochMs ?? 0) && entry.regions !== null && entry.regions !== '[]')) break;
    }
    const found = flagged;
    if (found === undefined) {
      console.log(`round ${round}: NOT flagged within 10 s (r2's banner "${text}")`);
    } else {
      const arrived = updates.find((update) => update.replicaId === 'r2' && update.tapEpochMs >= sentEpochMs);
      const storeMs = found.startEpochMs + found.durationMs - sentEpochMs;
      const shown = overlay.find((entry) => entry.epochMs >= found.startEpochMs && entry.regions !== null && entry.regions !== '[]');
      const overlayMs = shown === undefined ? Number.NaN : shown.epochMs - sentEpochMs;
      const transitMs = arrived === undefined ? Number.NaN : arrived.tapEpochMs - sentEpochMs;
      rows.push({ transit: transitMs, store: storeMs, overlay: overlayMs });
      console.log(
        `round ${round}: r2 drew it after ${ms(transitMs)}; flagged in the store after ${ms(storeMs)}, on the overlay after ${ms(overlayMs)} ` +
          `→ beyond settle+confirm: ${ms(overlayMs - SETTLE_MS - CONFIRM_MS)}; region ${JSON.stringify(found.divergences[0]?.regions)}`,
      );
    }
    // The others paint the same banner: consensus again before the next round.
    await lab.setFault('r1', { kind: 'banner', text });
    await lab.setFault('r3', { kind: 'banner', text });
    const consensusDeadline = Date.now() + 10_000;
    let consensus = false;
    while (!consensus && Date.now() < consensusDeadline) {
      await sleep(200);
      consensus = (await takeRecords(page)).ticks.some((tick) => tick.events.includes('consensus'));
    }
    await sleep(500);
    await takeRecords(page);
    await takeOverlayLog(page);
    if (!consensus) console.log(`round ${round}: no consensus within 10 s after the banner was painted on r1 and r3 too`);
  }
  if (rows.length > 0) {
    const beyond = rows.map((row) => row.overlay - SETTLE_MS - CONFIRM_MS);
    const beyondStore = rows.map((row) => row.store - SETTLE_MS - CONFIRM_MS);
    console.log(
      `summary (${rows.length} rounds): server → r2 drawn p50 ${ms(percentile(rows.map((row) => row.transit), 0.5))}; ` +
        `beyond settle+confirm: store p50 ${ms(percentile(beyondStore, 0.5))} max ${ms(Math.max(...beyondStore))}, overlay p50 ${ms(percentile(beyond, 0.5))} max ${ms(Math.max(...beyond))} (goal ≤ 100 ms)`,
    );
  }
  console.log(`(load ${loadText()})`);
}

/** Renderer CPU over one typing phase: CDP Performance metrics of the page, and every renderer process's CPU time. */
async function cpuPhase(browser: Browser, browserSession: CDPSession, url: string, mode: 'on' | 'off', seconds: number, source: TypingSource): Promise<{ taskS: number; scriptS: number; rendererCpuS: number; keys: number }> {
  const page = await openPage(browser, url);
  try {
    await sleep(3000);
    const session = await page.context().newCDPSession(page);
    await session.send('Performance.enable');
    const metrics = async (): Promise<Map<string, number>> => new Map((await session.send('Performance.getMetrics')).metrics.map((metric) => [metric.name, metric.value]));
    const rendererCpu = async (): Promise<Map<number, number>> => {
      const info = await browserSession.send('SystemInfo.getProcessInfo');
      return new Map(info.processInfo.filter((process) => process.type === 'renderer').map((process) => [process.id, process.cpuTime]));
    };
    // To see where the CPU goes: each phase's Chromium trace (every thread of the renderer), for
    // chrome://tracing or Perfetto. Off by default: tracing costs CPU itself.
    const traceDir = process.env.RETROVISOR_BENCH_TRACE_DIR;
    const tracing = traceDir !== undefined && traceDir !== '';
    if (tracing) await browser.startTracing(page, { categories: ['toplevel', 'devtools.timeline'] });
    const beforeMetrics = await metrics();
    const beforeCpu = await rendererCpu();
    const keys = await typeFor(page, source, seconds * 1000);
    const afterMetrics = await metrics();
    const afterCpu = await rendererCpu();
    if (tracing) writeFileSync(join(traceDir, `typing-${mode}-${Date.now()}.json`), await browser.stopTracing());
    let rendererCpuS = 0;
    for (const [id, cpuTime] of afterCpu) rendererCpuS += cpuTime - (beforeCpu.get(id) ?? cpuTime);
    const delta = (name: string): number => (afterMetrics.get(name) ?? 0) - (beforeMetrics.get(name) ?? 0);
    return { taskS: delta('TaskDuration'), scriptS: delta('ScriptDuration'), rendererCpuS, keys };
  } finally {
    await page.close();
  }
}

/** 2. Renderer CPU, comparison on vs off, alternating. */
async function measureCpu(browser: Browser, urls: { on: string; off: string }, rounds: number, seconds: number): Promise<void> {
  console.log(`\n### 2. Renderer CPU under continuous typing (${TYPING_KEYS_PER_SECOND} keys/s, ${seconds} s per phase), comparison on vs off (load ${loadText()})`);
  const browserSession = await browser.newBrowserCDPSession();
  const source = new TypingSource();
  const totals = { on: { task: 0, cpu: 0 }, off: { task: 0, cpu: 0 } };
  for (let round = 1; round <= rounds; round++) {
    const order: ('on' | 'off')[] = round % 2 === 1 ? ['on', 'off'] : ['off', 'on'];
    const result: Partial<Record<'on' | 'off', Awaited<ReturnType<typeof cpuPhase>>>> = {};
    for (const mode of order) {
      result[mode] = await cpuPhase(browser, browserSession, urls[mode], mode, seconds, source);
      totals[mode].task += result[mode].taskS;
      totals[mode].cpu += result[mode].rendererCpuS;
    }
    const on = result.on;
    const off = result.off;
    if (on === undefined || off === undefined) continue;
    console.log(
      `round ${round} (${order.join(', ')}; load ${loadText()}): main-thread tasks on ${on.taskS.toFixed(2)} s / off ${off.taskS.toFixed(2)} s = ${times(on.taskS / off.taskS)}; ` +
        `script on ${on.scriptS.toFixed(2)} / off ${off.scriptS.toFixed(2)} s; renderer process CPU on ${on.rendererCpuS.toFixed(2)} s / off ${off.rendererCpuS.toFixed(2)} s = ${times(on.rendererCpuS / off.rendererCpuS)} ` +
        `(${on.keys} / ${off.keys} keys)`,
    );
  }
  await browserSession.detach();
  console.log(`all rounds: main-thread tasks on ÷ off ${times(totals.on.task / totals.off.task)}; renderer process CPU on ÷ off ${times(totals.on.cpu / totals.off.cpu)} (goal ≤ 1.2×)`);
}

/** 4. False alarms: a soak with random lag and out-of-phase cursors under continuous typing. */
async function measureSoak(page: Page, lab: DemoLab, minutes: number): Promise<void> {
  console.log(`\n### 4. False alarms: ${minutes} min, random lag 0–300 ms per replica (independent), cursors blinking out of phase (${Object.values(BLINK_OFFSETS_MS).join(' / ')} ms), typing ${TYPING_KEYS_PER_SECOND} keys/s (load ${loadText()})`);
  for (const replica of lab.replicas) await lab.setFault(replica.id, { kind: 'lag', minMs: 0, maxMs: 300 });
  resetAll(lab);
  await sleep(4000);
  await takeRecords(page);
  const source = new TypingSource();
  const totals = { keys: 0, compared: 0, comparedPx: 0, small: 0, large: 0, ticks: 0, tickMs: 0 };
  const events: string[] = [];
  const flagged: string[] = [];
  const account = (records: ProbeRecords): void => {
    for (const update of records.updates) {
      if (update.replicaId === null) continue;
      totals.compared++;
      totals.comparedPx += update.areaPx;
      if (update.areaPx <= SMALL_MAX_PX) totals.small++;
      else totals.large++;
    }
    for (const tick of records.ticks) {
      totals.ticks += tick.ticks;
      totals.tickMs += tick.durationMs;
      events.push(...tick.events);
      for (const divergence of tick.divergences) flagged.push(`${new Date(tick.startEpochMs).toISOString()} ${divergence.id} outliers ${divergence.outliers.join(',')} regions ${JSON.stringify(divergence.regions)}`);
    }
  };
  const endAt = performance.now() + minutes * 60_000;
  let lastReport = performance.now();
  while (performance.now() < endAt) {
    totals.keys += await typeFor(page, source, Math.min(30_000, endAt - performance.now()));
    account(await takeRecords(page));
    if (performance.now() - lastReport >= 60_000) {
      lastReport = performance.now();
      console.error(`  soak: ${totals.keys} keys, ${totals.compared} updates compared, ${flagged.length} divergence events so far (load ${loadText()})`);
    }
  }
  await sleep(3000);
  account(await takeRecords(page));
  const status = await page.textContent('[data-testid="divergence-status"]').catch(() => null);
  for (const replica of lab.replicas) lab.clearFaults(replica.id);
  const texts = lab.replicas.map((replica) => JSON.stringify(lab.replica(replica.id).guest?.text.lines ?? []));
  const lines = source.typed.split('\n').length - 1;
  console.log(`typed ${totals.keys} keys (${source.typed.length} characters, ${lines} Returns), e.g. ${JSON.stringify(source.typed.slice(0, 120))}…`);
  console.log(`the three guests' text ${texts.every((text) => text === texts[0]) ? 'is identical' : 'DIFFERS'} at the end (every key reached every replica)`);
  console.log(`compared: ${totals.compared} framebuffer updates (${totals.small} ≤ 64×64, ${totals.large} larger: scrolls, line ends), ${(totals.comparedPx / 1e3).toFixed(0)} kpx read; ${totals.ticks} ticks, ${totals.tickMs.toFixed(0)} ms of ticks in all`);
  const newDivergences = events.filter((event) => event === 'divergence:new').length;
  console.log(`divergence events: ${newDivergences} new, ${events.filter((event) => event === 'divergence:changed').length} changed, ${events.filter((event) => event === 'consensus').length} consensus (expected 0 new); status at the end: ${JSON.stringify(status)}`);
  for (const line of flagged.slice(0, 20)) console.log(`  flagged: ${line}`);
  console.log(`(load ${loadText()})`);
}

/** Runs the section on `browser` and prints it. */
export async function runDivergenceBenchmark(browser: Browser, options: DivergenceBenchOptions = {}): Promise<void> {
  const soakMinutes = options.soakMinutes ?? 10;
  const cpuSeconds = options.cpuSeconds ?? 20;
  const cpuRounds = options.cpuRounds ?? 3;
  console.log(`\n## Divergence detection end to end: ${REPLICAS} demo replicas at ${WIDTH_PX}×${HEIGHT_PX}, real renderer in headless Chromium\n`);
  console.log(`load average at start: ${loadText()}`);
  const lab = await startDemoLab({
    replicas: REPLICAS,
    size: { width: WIDTH_PX, height: HEIGHT_PX },
    clock: (replicaId) => ({ now: () => Date.now() + (BLINK_OFFSETS_MS[replicaId] ?? 0) }),
  });
  const on = await startServe(profileOf(lab, 'bench divergence on', true));
  const off = await startServe(profileOf(lab, 'bench divergence off', false));
  try {
    const page = await openPage(browser, on.url);
    try {
      await measurePerUpdate(page, lab);
      await measureDetection(page, lab, 10);
    } finally {
      await page.close();
    }
    await measureCpu(browser, { on: on.url, off: off.url }, cpuRounds, cpuSeconds);
    if (soakMinutes > 0) {
      const soakPage = await openPage(browser, on.url);
      try {
        await measureSoak(soakPage, lab, soakMinutes);
      } finally {
        await soakPage.close();
      }
    }
  } finally {
    await Promise.all([on.stop(), off.stop()]);
    await lab.stop();
  }
}

/** Parses this section's command-line options (shared with scripts/bench.ts). */
export function divergenceBenchOptions(values: { 'soak-minutes'?: string; 'cpu-seconds'?: string }): DivergenceBenchOptions {
  const number = (text: string | undefined, name: string): number | undefined => {
    if (text === undefined) return undefined;
    const value = Number(text);
    if (!(value >= 0) || !Number.isFinite(value)) throw new Error(`--${name} takes a number ≥ 0, not ${JSON.stringify(text)}`);
    return value;
  };
  const soakMinutes = number(values['soak-minutes'], 'soak-minutes');
  const cpuSeconds = number(values['cpu-seconds'], 'cpu-seconds');
  return { ...(soakMinutes === undefined ? {} : { soakMinutes }), ...(cpuSeconds === undefined ? {} : { cpuSeconds }) };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ args: process.argv.slice(2), options: { 'soak-minutes': { type: 'string' }, 'cpu-seconds': { type: 'string' } } });
  const executablePath = findChromium();
  if (executablePath === null) throw new Error(`no Chromium or Chrome found: ${CHROMIUM_INSTALL_HINT} (or set RETROVISOR_CHROMIUM)`);
  const browser = await launchYieldingToBackend(() => chromium.launch({ executablePath, headless: true, args: [...headlessChromiumFlags()] }));
  try {
    console.log(`# ${new Date().toISOString()} — ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}`);
    await runDivergenceBenchmark(browser, divergenceBenchOptions(values));
  } finally {
    await browser.close();
  }
}
