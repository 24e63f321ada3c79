// Benchmark section "main-thread time": what divergence detection costs the renderer's main thread
// (the thread that decodes every replica, draws the composite and takes the input) now that the
// comparison runs in its worker. N = 3 and 8 demo replicas at 1920×1080 under a sustained stream of
// full-screen repaints (every guest reset in place, again and again: the same screen each time; or
// every guest's colours shifted by one step each time: every pixel changes, no screen repeats),
// comparison on vs off
// (the profile's divergence.enabled), alternating: a Chromium trace of the page gives the main
// thread's tasks (their sum per full-screen update, and the longest), the bench probe counts the
// full-screen updates and times the page's own share of the comparison (reading the damage back and
// posting it); the same trace gives the comparison worker's CPU time, which runs on the other core
// and so shows in the page's figures only as contention. Figures only, never pass/fail. Runs in Node: `npm run bench -- --only main-thread`.

import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser, Page } from 'playwright-core';
import { startDemoLab, type DemoLab } from '../main/demo/demo-lab';
import type { ProbeRecords } from '../renderer/divergence/bench-probe';
import { startServe } from './bench-divergence';

/** How the section is run; every field has a default. */
export interface MainThreadBenchOptions {
  /** Replica counts measured. Default 3 and 8. */
  readonly replicaCounts?: readonly number[];
  /** Seconds of the full-screen stream per phase. Default 10. */
  readonly seconds?: number;
  /** Rounds of (on, off) phases per replica count, the order alternating. Default 2. */
  readonly rounds?: number;
  /** Which streams: the same screen repainted, a screen that changes every pixel each time. Default both. */
  readonly streams?: readonly Stream[];
}

/**
 * 'same': every guest reset in place each time, its boot screen repainted with the same pixels (a
 * guest redrawing what it shows; the engine finds no tile changed). 'changing': every guest's
 * colours shifted by one step each time, so every pixel changes with each repaint and no screen
 * comes back within the blink window (video, a scroll): the comparison's whole work.
 */
export type Stream = 'same' | 'changing';

const WIDTH_PX = 1920;
const HEIGHT_PX = 1080;
/** A "full-screen" update: at least 90% of the desktop. */
const FULL_MIN_PX = 0.9 * WIDTH_PX * HEIGHT_PX;
/** Every guest is reset this often during the stream: a full-screen repaint of each, back to back. */
const REPAINT_EVERY_MS = 500;
/** Seconds of each untimed warm-up phase before the counted rounds. */
const WARM_UP_SECONDS = 4;
/** A frame at 60 Hz: a main-thread task longer than this drops one. */
const FRAME_MS = 16;
/** Trace categories holding the main thread's top-level tasks (RunTask). */
const TRACE_CATEGORIES = ['toplevel', 'devtools.timeline', 'disabled-by-default-devtools.timeline'];
const PROBE_INIT_SCRIPT = 'globalThis.__retrovisorBenchProbe = { enabled: true };';

interface TraceEvent {
  readonly name: string;
  readonly ph: string;
  readonly pid: number;
  readonly tid: number;
  readonly ts: number;
  readonly dur?: number;
  /** The thread's CPU time in the event (absent when the platform gives no thread clock). */
  readonly tdur?: number;
  readonly args?: { readonly name?: string };
}

/** One phase's figures. */
interface Phase {
  readonly fullUpdates: number;
  /** Sum of the page main thread's top-level tasks over the phase, ms: wall time, and the thread's CPU time in them. */
  readonly mainMs: number;
  readonly mainCpuMs: number;
  readonly longestTaskMs: number;
  /** The longest task in the thread's CPU time (without the time it waited for a core). */
  readonly longestTaskCpuMs: number;
  readonly tasksOverFrame: number;
  /** The comparison worker's CPU time in its tasks over the phase, ms (0 with comparison off: no worker). */
  readonly workerCpuMs: number;
  /** The page's share of the comparison (read back + post) per full-screen update, ms, from the probe. */
  readonly monitorMs: readonly number[];
}

function percentile(values: readonly number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] as number;
}

const ms = (value: number): string => (Number.isNaN(value) ? '—' : `${value.toFixed(2)} ms`);
const times = (value: number): string => (Number.isFinite(value) ? `${value.toFixed(2)}×` : '—');

function loadText(): string {
  return os
    .loadavg()
    .map((load) => load.toFixed(2))
    .join(' / ');
}

/**
 * The renderer main thread's top-level tasks in a trace: the CrRendererMain thread that was busiest
 * (the page under test; other renderers, if any, idle); and the CPU time of the dedicated workers'
 * top-level tasks in that page's process (the comparison worker).
 */
export function mainThreadTasks(traceJson: string): { durationsMs: number[]; cpuMs: number; longestCpuMs: number; workerCpuMs: number } {
  const parsed = JSON.parse(traceJson) as { traceEvents?: TraceEvent[] } | TraceEvent[];
  const events = Array.isArray(parsed) ? parsed : (parsed.traceEvents ?? []);
  const threadsNamed = (name: string): Set<string> => new Set(events.filter((event) => event.ph === 'M' && event.name === 'thread_name' && event.args?.name === name).map((event) => `${event.pid}:${event.tid}`));
  const mainThreads = threadsNamed('CrRendererMain');
  const workerThreads = threadsNamed('DedicatedWorker thread');
  const byThread = new Map<string, { pid: number; durationsMs: number[]; cpuMs: number; longestCpuMs: number }>();
  const workerCpuByPid = new Map<number, number>();
  for (const event of events) {
    if (event.name !== 'RunTask' || event.ph !== 'X' || event.dur === undefined) continue;
    const key = `${event.pid}:${event.tid}`;
    if (workerThreads.has(key)) workerCpuByPid.set(event.pid, (workerCpuByPid.get(event.pid) ?? 0) + (event.tdur ?? Number.NaN) / 1000);
    if (!mainThreads.has(key)) continue;
    const thread = byThread.get(key) ?? { pid: event.pid, durationsMs: [], cpuMs: 0, longestCpuMs: 0 };
    thread.durationsMs.push(event.dur / 1000);
    thread.cpuMs += (event.tdur ?? Number.NaN) / 1000;
    thread.longestCpuMs = Math.max(thread.longestCpuMs, (event.tdur ?? Number.NaN) / 1000);
    byThread.set(key, thread);
  }
  const total = (thread: { durationsMs: number[] }): number => thread.durationsMs.reduce((a, b) => a + b, 0);
  let busiest = { pid: -1, durationsMs: [] as number[], cpuMs: Number.NaN, longestCpuMs: Number.NaN };
  for (const thread of byThread.values()) if (total(thread) > total(busiest)) busiest = thread;
  return { durationsMs: busiest.durationsMs, cpuMs: busiest.cpuMs, longestCpuMs: busiest.longestCpuMs, workerCpuMs: workerCpuByPid.get(busiest.pid) ?? 0 };
}

async function takeRecords(page: Page): Promise<ProbeRecords> {
  return page.evaluate(() => {
    const request = (globalThis as Record<string, unknown>).__retrovisorBenchProbe as { probe?: { take(): ProbeRecords } } | undefined;
    if (request?.probe === undefined) throw new Error('the bench probe is not installed in the page (is dist/ built from this checkout? run `npm run build`)');
    return request.probe.take();
  });
}

/** One phase: open the app, stream full-screen repaints for `seconds` under a trace, close. */
async function phase(browser: Browser, url: string, lab: DemoLab, seconds: number, stream: Stream, keepTrace = true): Promise<Phase> {
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  page.on('pageerror', (error) => console.error(`page error: ${error.stack ?? error.message}`));
  try {
    await page.addInitScript(PROBE_INIT_SCRIPT);
    await page.goto(url);
    for (const replica of lab.replicas) await page.waitForSelector(`[data-replica-id="${replica.id}"][data-state="connected"]`, { timeout: 60_000, state: 'attached' });
    await sleep(3000);
    await takeRecords(page);
    await browser.startTracing(page, { categories: TRACE_CATEGORIES });
    const endAt = Date.now() + seconds * 1000;
    while (Date.now() < endAt) {
      for (const replica of lab.replicas) {
        const demo = lab.replica(replica.id);
        if (stream === 'changing') demo.guest?.shiftColours(1);
        else demo.resetInPlace();
      }
      await sleep(REPAINT_EVERY_MS);
    }
    // The last repaints decoded and compared.
    await sleep(1500);
    const trace = (await browser.stopTracing()).toString('utf8');
    // To see what the long tasks are: the phase's trace, for chrome://tracing or Perfetto.
    const traceDir = process.env.RETROVISOR_BENCH_TRACE_DIR;
    if (keepTrace && traceDir !== undefined && traceDir !== '') writeFileSync(join(traceDir, `main-thread-${Date.now()}.json`), trace);
    const records = await takeRecords(page);
    const full = records.updates.filter((update) => update.areaPx >= FULL_MIN_PX);
    const { durationsMs, cpuMs, longestCpuMs, workerCpuMs } = mainThreadTasks(trace);
    return {
      fullUpdates: full.length,
      mainMs: durationsMs.reduce((a, b) => a + b, 0),
      mainCpuMs: cpuMs,
      longestTaskMs: durationsMs.length === 0 ? Number.NaN : Math.max(...durationsMs),
      longestTaskCpuMs: longestCpuMs,
      tasksOverFrame: durationsMs.filter((duration) => duration > FRAME_MS).length,
      workerCpuMs,
      monitorMs: full.filter((update) => update.replicaId !== null).map((update) => update.monitorMs),
    };
  } finally {
    await page.close();
  }
}

function profileOf(lab: DemoLab, name: string, comparison: boolean): unknown {
  return {
    version: 1,
    name,
    replicas: lab.replicas.map((replica) => ({ id: replica.id, label: replica.label, vnc: { host: replica.host, port: replica.port } })),
    ...(comparison ? {} : { divergence: { enabled: false } }),
  };
}

/** One replica count: alternating on/off phases, then the summary row. */
async function measureCount(browser: Browser, replicas: number, seconds: number, rounds: number, stream: Stream): Promise<void> {
  console.log(`\n### N = ${replicas}, ${stream === 'same' ? 'the same screen repainted' : 'every pixel changing'} (load ${loadText()})`);
  const lab = await startDemoLab({ replicas, size: { width: WIDTH_PX, height: HEIGHT_PX }, cursorBlinkMs: 0 });
  const on = await startServe(profileOf(lab, `bench main thread on ${replicas}`, true));
  const off = await startServe(profileOf(lab, `bench main thread off ${replicas}`, false));
  const totals = { on: { mainMs: 0, cpuMs: 0, updates: 0, longest: 0, longestCpu: 0, over: 0 }, off: { mainMs: 0, cpuMs: 0, updates: 0, longest: 0, longestCpu: 0, over: 0 } };
  const monitorMs: number[] = [];
  // The comparison worker's CPU over the phases with comparison on (off, there is no worker).
  let workerCpuOnMs = 0;
  try {
    // Not counted: the first phase of a run pays for warming up (the lab's encoders, the back end,
    // the browser), which would tilt the ratio against whichever mode comes first.
    for (const mode of ['on', 'off'] as const) await phase(browser, mode === 'on' ? on.url : off.url, lab, WARM_UP_SECONDS, stream, false);
    console.log(`warm-up: ${WARM_UP_SECONDS} s with comparison on, then off, not counted (load ${loadText()})`);
    for (let round = 1; round <= rounds; round++) {
      const order: ('on' | 'off')[] = round % 2 === 1 ? ['on', 'off'] : ['off', 'on'];
      for (const mode of order) {
        const result = await phase(browser, mode === 'on' ? on.url : off.url, lab, seconds, stream);
        const total = totals[mode];
        total.mainMs += result.mainMs;
        total.cpuMs += result.mainCpuMs;
        total.updates += result.fullUpdates;
        total.longest = Math.max(total.longest, result.longestTaskMs);
        total.longestCpu = Math.max(total.longestCpu, result.longestTaskCpuMs);
        total.over += result.tasksOverFrame;
        if (mode === 'on') {
          monitorMs.push(...result.monitorMs);
          workerCpuOnMs += result.workerCpuMs;
        }
        console.log(
          `round ${round} comparison ${mode.padEnd(3)}: ${result.fullUpdates} full-screen updates, main thread ${ms(result.mainMs / result.fullUpdates)} per update (CPU ${ms(result.mainCpuMs / result.fullUpdates)}), ` +
            `longest task ${ms(result.longestTaskMs)} (CPU ${ms(result.longestTaskCpuMs)}), ${result.tasksOverFrame} tasks > ${FRAME_MS} ms` +
            `${mode === 'on' ? `, comparison worker CPU ${ms(result.workerCpuMs / result.fullUpdates)} per update` : ''} (load ${loadText()})`,
        );
      }
    }
  } finally {
    await Promise.all([on.stop(), off.stop()]);
    await lab.stop();
  }
  const perOn = totals.on.mainMs / totals.on.updates;
  const perOff = totals.off.mainMs / totals.off.updates;
  const cpuOn = totals.on.cpuMs / totals.on.updates;
  const cpuOff = totals.off.cpuMs / totals.off.updates;
  console.log(
    `N = ${replicas}, ${stream} screen: main thread per full-screen update on ${ms(perOn)} / off ${ms(perOff)} = ${times(perOn / perOff)} (goal ≤ 1.1×); ` +
      `its CPU time on ${ms(cpuOn)} / off ${ms(cpuOff)} = ${times(cpuOn / cpuOff)}; ` +
      `longest main-thread task on ${ms(totals.on.longest)} / off ${ms(totals.off.longest)} (goal < ${FRAME_MS} ms; the longest in the thread's CPU time on ${ms(totals.on.longestCpu)} / off ${ms(totals.off.longestCpu)}); tasks > ${FRAME_MS} ms on ${totals.on.over} / off ${totals.off.over}`,
  );
  console.log(`    the comparison worker's CPU per full-screen update (on the other core): ${ms(workerCpuOnMs / totals.on.updates)}`);
  console.log(`    the comparison's share on the main thread (snapshots + post) per full-screen update: p50 ${ms(percentile(monitorMs, 0.5))}, p90 ${ms(percentile(monitorMs, 0.9))}, max ${ms(Math.max(...monitorMs))}`);
}

/** Runs the section on `browser` and prints it. */
export async function runMainThreadBenchmark(browser: Browser, options: MainThreadBenchOptions = {}): Promise<void> {
  const counts = options.replicaCounts ?? [3, 8];
  const seconds = options.seconds ?? 10;
  const rounds = options.rounds ?? 2;
  const streams = options.streams ?? ['same', 'changing'];
  console.log(`\n## Main-thread time: full-screen repaints of N replicas at ${WIDTH_PX}×${HEIGHT_PX} every ${REPAINT_EVERY_MS} ms for ${seconds} s per phase, comparison on vs off\n`);
  for (const stream of streams) for (const count of counts) await measureCount(browser, count, seconds, rounds, stream);
}

/** Parses this section's command-line options (shared with scripts/bench.ts). */
export function mainThreadBenchOptions(values: { 'stream-seconds'?: string; replicas?: string; stream?: string }): MainThreadBenchOptions {
  const options: { seconds?: number; replicaCounts?: number[]; streams?: Stream[] } = {};
  if (values.stream !== undefined) {
    if (values.stream === 'both') options.streams = ['same', 'changing'];
    else if (values.stream === 'same' || values.stream === 'changing') options.streams = [values.stream];
    else throw new Error(`--stream is same, changing or both, not ${JSON.stringify(values.stream)}`);
  }
  if (values['stream-seconds'] !== undefined) {
    const seconds = Number(values['stream-seconds']);
    if (!(seconds > 0) || !Number.isFinite(seconds)) throw new Error(`--stream-seconds takes a number > 0, not ${JSON.stringify(values['stream-seconds'])}`);
    options.seconds = seconds;
  }
  if (values.replicas !== undefined) {
    const counts = values.replicas.split(',').map(Number);
    if (!counts.every((count) => Number.isInteger(count) && count >= 1 && count <= 8)) throw new Error(`--replicas takes counts from 1 to 8, e.g. 3,8, not ${JSON.stringify(values.replicas)}`);
    options.replicaCounts = counts;
  }
  return options;
}
