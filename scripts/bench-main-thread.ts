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
// and so shows in the page's figures only as contention. Then two more rounds of the same stream with
// a Shift key pressed every 50 ms on the composite give the input delay (the key event's creation
// to the page's first listener), on vs off; their main-thread figures are not counted (the presses
// cost the thread too). Figures only, never pass/fail. Runs in Node: `npm run bench -- --only main-thread`.

import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser, Page } from 'playwright-core';
import { startDemoLab, type DemoLab } from '../main/demo/demo-lab';
import type { ProbeRecords } from '../renderer/divergence/bench-probe';
import { startServe } from './bench-divergence';
import { median } from './bench-stats';

/** How the section is run; every field has a default. */
export interface MainThreadBenchOptions {
  /** Replica counts measured. Default 3 and 8. */
  readonly replicaCounts?: readonly number[];
  /** Seconds of the full-screen stream per phase. Default 10. */
  readonly seconds?: number;
  /** Rounds of (on, off) phases per replica count, the order alternating. Default 4. */
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
/**
 * Trace categories holding the main thread's top-level tasks (RunTask). With
 * RETROVISOR_BENCH_CPU_PROFILE=1, V8's sampling profiler too (ProfileChunk events per thread, for the
 * kept traces: which functions the page and the worker spend their time in). It slows the page's
 * JavaScript, so that run's figures are not comparable with others.
 */
const TRACE_CATEGORIES = [
  'toplevel',
  'devtools.timeline',
  'disabled-by-default-devtools.timeline',
  ...(process.env.RETROVISOR_BENCH_CPU_PROFILE === '1' ? ['disabled-by-default-v8.cpu_profiler'] : []),
];
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
  readonly args?: { readonly name?: string; readonly data?: { readonly functionName?: string } };
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
  /** The main thread's time in the comparison worker's messages (its reports) over the phase, ms: wall and CPU. */
  readonly reportsMs: number;
  readonly reportsCpuMs: number;
  /** The page's share of the comparison (read back + post) per full-screen update, ms, from the probe. */
  readonly monitorMs: readonly number[];
  /** Input delay of each key pressed during the stream, ms (see INPUT_PROBE_SCRIPT). */
  readonly inputDelaysMs: readonly number[];
}

/** A Shift key pressed and released on the focused composite this often during the input-delay phases. */
const KEY_EVERY_MS = 50;
/** Rounds of (on, off) phases with keys pressed, after the counted ones. */
const KEY_ROUNDS = 2;

/**
 * Records each Shift keydown's input delay: from the event's creation in the browser process
 * (`timeStamp`) to the first listener on the page's main thread (capture, on the window) — how long
 * the user's keystroke waits for the thread that forwards it to the replicas. Shift alone draws
 * nothing in the guests, so the presses leave the stream's screens as they are.
 */
const INPUT_PROBE_SCRIPT = `globalThis.__retrovisorInputDelays = [];
window.addEventListener('keydown', (event) => { if (event.key === 'Shift') globalThis.__retrovisorInputDelays.push(performance.now() - event.timeStamp); }, { capture: true });`;

/** Presses and releases Shift every KEY_EVERY_MS until `endAt` (Date.now()). */
async function pressKeysUntil(page: Page, endAt: number): Promise<void> {
  while (Date.now() < endAt) {
    await page.keyboard.down('Shift');
    await page.keyboard.up('Shift');
    await sleep(KEY_EVERY_MS);
  }
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
 * The function name V8 gives the page's handler of the comparison worker's messages
 * (`worker.onmessage = …` in comparison-worker-link.ts): the trace's FunctionCall events of that
 * name are the main thread's time in the worker's reports.
 */
const REPORT_HANDLER = 'worker.onmessage';

/**
 * The renderer main thread's top-level tasks in a trace: the CrRendererMain thread that was busiest
 * (the page under test; other renderers, if any, idle); its time in the comparison worker's
 * reports; and the CPU time of the dedicated workers' top-level tasks in that page's process (the
 * comparison worker).
 */
export function mainThreadTasks(traceJson: string): { durationsMs: number[]; cpuMs: number; longestCpuMs: number; workerCpuMs: number; reportsMs: number; reportsCpuMs: number } {
  const parsed = JSON.parse(traceJson) as { traceEvents?: TraceEvent[] } | TraceEvent[];
  const events = Array.isArray(parsed) ? parsed : (parsed.traceEvents ?? []);
  const threadsNamed = (name: string): Set<string> => new Set(events.filter((event) => event.ph === 'M' && event.name === 'thread_name' && event.args?.name === name).map((event) => `${event.pid}:${event.tid}`));
  const mainThreads = threadsNamed('CrRendererMain');
  const workerThreads = threadsNamed('DedicatedWorker thread');
  const byThread = new Map<string, { pid: number; durationsMs: number[]; cpuMs: number; longestCpuMs: number }>();
  const workerCpuByPid = new Map<number, number>();
  const reportsByThread = new Map<string, { ms: number; cpuMs: number }>();
  for (const event of events) {
    if (event.name === 'FunctionCall' && event.ph === 'X' && event.dur !== undefined && event.args?.data?.functionName === REPORT_HANDLER) {
      const key = `${event.pid}:${event.tid}`;
      const reports = reportsByThread.get(key) ?? { ms: 0, cpuMs: 0 };
      reports.ms += event.dur / 1000;
      reports.cpuMs += (event.tdur ?? Number.NaN) / 1000;
      reportsByThread.set(key, reports);
    }
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
  let busiestKey = '';
  for (const [key, thread] of byThread) {
    if (total(thread) <= total(busiest)) continue;
    busiest = thread;
    busiestKey = key;
  }
  const reports = reportsByThread.get(busiestKey) ?? { ms: 0, cpuMs: 0 };
  return { durationsMs: busiest.durationsMs, cpuMs: busiest.cpuMs, longestCpuMs: busiest.longestCpuMs, workerCpuMs: workerCpuByPid.get(busiest.pid) ?? 0, reportsMs: reports.ms, reportsCpuMs: reports.cpuMs };
}

async function takeRecords(page: Page): Promise<ProbeRecords> {
  return page.evaluate(() => {
    const request = (globalThis as Record<string, unknown>).__retrovisorBenchProbe as { probe?: { take(): ProbeRecords } } | undefined;
    if (request?.probe === undefined) throw new Error('the bench probe is not installed in the page (is dist/ built from this checkout? run `npm run build`)');
    return request.probe.take();
  });
}

/**
 * The guests' colours, shifted step by step by the changing stream. Every phase starts from the
 * same colours (the steps of the phase before are undone first), so that every phase, on or off,
 * streams the same sequence of screens: the encoders' and noVNC's work depends on the colours, and
 * a run whose screens drifted from phase to phase measured the drift along with the comparison.
 */
interface ColourShift {
  steps: number;
}

function restoreColours(lab: DemoLab, shift: ColourShift): void {
  if (shift.steps === 0) return;
  for (const replica of lab.replicas) lab.replica(replica.id).guest?.shiftColours(-shift.steps);
  shift.steps = 0;
}

/** One phase: open the app, stream full-screen repaints for `seconds` under a trace, close. */
async function phase(browser: Browser, url: string, lab: DemoLab, seconds: number, stream: Stream, shift: ColourShift, keepTrace = true, withKeys = false): Promise<Phase> {
  restoreColours(lab, shift);
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  page.on('pageerror', (error) => console.error(`page error: ${error.stack ?? error.message}`));
  try {
    await page.addInitScript(PROBE_INIT_SCRIPT);
    await page.addInitScript(INPUT_PROBE_SCRIPT);
    await page.goto(url);
    for (const replica of lab.replicas) await page.waitForSelector(`[data-replica-id="${replica.id}"][data-state="connected"]`, { timeout: 60_000, state: 'attached' });
    await page.focus('#composite');
    await sleep(3000);
    await takeRecords(page);
    await page.evaluate(() => ((globalThis as unknown as { __retrovisorInputDelays: number[] }).__retrovisorInputDelays.length = 0));
    await browser.startTracing(page, { categories: TRACE_CATEGORIES });
    const endAt = Date.now() + seconds * 1000;
    // Key presses cost the main thread too (their handlers, a frame each): only in the phases that
    // measure input delay, whose main-thread figures are not counted.
    const typing = withKeys ? pressKeysUntil(page, endAt) : Promise.resolve();
    while (Date.now() < endAt) {
      for (const replica of lab.replicas) {
        const demo = lab.replica(replica.id);
        if (stream === 'changing') demo.guest?.shiftColours(1);
        else demo.resetInPlace();
      }
      if (stream === 'changing') shift.steps++;
      await sleep(REPAINT_EVERY_MS);
    }
    await typing;
    // The last repaints decoded and compared.
    await sleep(1500);
    const trace = (await browser.stopTracing()).toString('utf8');
    // To see what the long tasks are: the phase's trace, for chrome://tracing or Perfetto.
    const traceDir = process.env.RETROVISOR_BENCH_TRACE_DIR;
    if (keepTrace && traceDir !== undefined && traceDir !== '') writeFileSync(join(traceDir, `main-thread-${Date.now()}.json`), trace);
    const records = await takeRecords(page);
    const inputDelaysMs = await page.evaluate(() => [...(globalThis as unknown as { __retrovisorInputDelays: number[] }).__retrovisorInputDelays]);
    const full = records.updates.filter((update) => update.areaPx >= FULL_MIN_PX);
    const { durationsMs, cpuMs, longestCpuMs, workerCpuMs, reportsMs, reportsCpuMs } = mainThreadTasks(trace);
    return {
      fullUpdates: full.length,
      mainMs: durationsMs.reduce((a, b) => a + b, 0),
      mainCpuMs: cpuMs,
      longestTaskMs: durationsMs.length === 0 ? Number.NaN : Math.max(...durationsMs),
      longestTaskCpuMs: longestCpuMs,
      tasksOverFrame: durationsMs.filter((duration) => duration > FRAME_MS).length,
      workerCpuMs,
      reportsMs,
      reportsCpuMs,
      monitorMs: full.filter((update) => update.replicaId !== null).map((update) => update.monitorMs),
      inputDelaysMs,
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

/** One replica count: alternating on/off phases, then the summary rows. */
async function measureCount(browser: Browser, replicas: number, seconds: number, rounds: number, stream: Stream): Promise<void> {
  console.log(`\n### N = ${replicas}, ${stream === 'same' ? 'the same screen repainted' : 'every pixel changing'} (load ${loadText()})`);
  const lab = await startDemoLab({ replicas, size: { width: WIDTH_PX, height: HEIGHT_PX }, cursorBlinkMs: 0 });
  const on = await startServe(profileOf(lab, `bench main thread on ${replicas}`, true));
  const off = await startServe(profileOf(lab, `bench main thread off ${replicas}`, false));
  const shift: ColourShift = { steps: 0 };
  const results: { on: Phase; off: Phase }[] = [];
  const keyOns: Phase[] = [];
  const keyOffs: Phase[] = [];
  try {
    // Not counted: the first phase of a run pays for warming up (the lab's encoders, the back end,
    // the browser), which would tilt the ratio against whichever mode comes first.
    for (const mode of ['on', 'off'] as const) await phase(browser, mode === 'on' ? on.url : off.url, lab, WARM_UP_SECONDS, stream, shift, false);
    console.log(`warm-up: ${WARM_UP_SECONDS} s with comparison on, then off, not counted (load ${loadText()})`);
    for (let round = 1; round <= rounds; round++) {
      const order: ('on' | 'off')[] = round % 2 === 1 ? ['on', 'off'] : ['off', 'on'];
      const pair: Partial<Record<'on' | 'off', Phase>> = {};
      for (const mode of order) {
        const result = await phase(browser, mode === 'on' ? on.url : off.url, lab, seconds, stream, shift);
        pair[mode] = result;
        console.log(
          `round ${round} comparison ${mode.padEnd(3)}: ${result.fullUpdates} full-screen updates, main thread ${ms(result.mainMs / result.fullUpdates)} per update (CPU ${ms(result.mainCpuMs / result.fullUpdates)}), ` +
            `longest task ${ms(result.longestTaskMs)} (CPU ${ms(result.longestTaskCpuMs)}), ${result.tasksOverFrame} tasks > ${FRAME_MS} ms` +
            `${mode === 'on' ? `, comparison worker CPU ${ms(result.workerCpuMs / result.fullUpdates)} per update` : ''} (load ${loadText()})`,
        );
      }
      const result = { on: pair.on!, off: pair.off! };
      results.push(result);
      console.log(`round ${round}: on / off ${times(perUpdate(result.on, 'mainMs') / perUpdate(result.off, 'mainMs'))} (CPU ${times(perUpdate(result.on, 'mainCpuMs') / perUpdate(result.off, 'mainCpuMs'))})`);
    }
    // Input delay: the same stream with a key pressed every KEY_EVERY_MS, two more rounds, the order alternating.
    for (let round = 1; round <= KEY_ROUNDS; round++) {
      for (const mode of round % 2 === 1 ? (['on', 'off'] as const) : (['off', 'on'] as const)) {
        const result = await phase(browser, mode === 'on' ? on.url : off.url, lab, seconds, stream, shift, false, true);
        (mode === 'on' ? keyOns : keyOffs).push(result);
        console.log(
          `keys round ${round} comparison ${mode.padEnd(3)}: input delay p50 ${ms(percentile(result.inputDelaysMs, 0.5))}, p99 ${ms(percentile(result.inputDelaysMs, 0.99))}, ` +
            `max ${ms(Math.max(...result.inputDelaysMs))} (${result.inputDelaysMs.length} keys) (load ${loadText()})`,
        );
      }
    }
  } finally {
    await Promise.all([on.stop(), off.stop()]);
    await lab.stop();
  }
  const ons = results.map((result) => result.on);
  const offs = results.map((result) => result.off);
  const pooled = (phases: readonly Phase[], field: PhaseTotal): number => sum(phases, field) / sum(phases, 'fullUpdates');
  const roundRatios = (field: PhaseTotal): number[] => results.map((result) => perUpdate(result.on, field) / perUpdate(result.off, field));
  const wallRatios = roundRatios('mainMs');
  const cpuRatios = roundRatios('mainCpuMs');
  const longest = (phases: readonly Phase[], field: 'longestTaskMs' | 'longestTaskCpuMs'): number => Math.max(...phases.map((item) => item[field]));
  const over = (phases: readonly Phase[]): number => phases.reduce((total, item) => total + item.tasksOverFrame, 0);
  const range = (values: readonly number[]): string => `${times(Math.min(...values))}–${times(Math.max(...values))}`;
  console.log(
    `N = ${replicas}, ${stream} screen: main thread per full-screen update, median of the ${results.length} rounds' on / off: ${times(median(wallRatios))} (goal ≤ 1.1×; rounds ${range(wallRatios)}), ` +
      `its CPU time ${times(median(cpuRatios))} (rounds ${range(cpuRatios)}); all rounds pooled: on ${ms(pooled(ons, 'mainMs'))} / off ${ms(pooled(offs, 'mainMs'))} = ${times(pooled(ons, 'mainMs') / pooled(offs, 'mainMs'))}, ` +
      `CPU on ${ms(pooled(ons, 'mainCpuMs'))} / off ${ms(pooled(offs, 'mainCpuMs'))} = ${times(pooled(ons, 'mainCpuMs') / pooled(offs, 'mainCpuMs'))}`,
  );
  console.log(
    `    longest main-thread task on ${ms(longest(ons, 'longestTaskMs'))} / off ${ms(longest(offs, 'longestTaskMs'))} (goal < ${FRAME_MS} ms; the longest in the thread's CPU time on ${ms(longest(ons, 'longestTaskCpuMs'))} / off ${ms(longest(offs, 'longestTaskCpuMs'))}); tasks > ${FRAME_MS} ms on ${over(ons)} / off ${over(offs)}`,
  );
  const delays = (phases: readonly Phase[]): number[] => phases.flatMap((item) => item.inputDelaysMs);
  const delayText = (phases: readonly Phase[]): string => {
    const values = delays(phases);
    return `p50 ${ms(percentile(values, 0.5))}, p90 ${ms(percentile(values, 0.9))}, p99 ${ms(percentile(values, 0.99))}, max ${ms(Math.max(...values))} (${values.length} keys)`;
  };
  console.log(`    input delay of a key pressed every ${KEY_EVERY_MS} ms during the stream (its event's creation to the page's first listener): on ${delayText(keyOns)}; off ${delayText(keyOffs)}`);
  console.log(`    the comparison worker's CPU per full-screen update (on the other core): ${ms(pooled(ons, 'workerCpuMs'))}`);
  const monitorMs = ons.flatMap((item) => item.monitorMs);
  console.log(
    `    the comparison's own work on the main thread per full-screen update: snapshots + post p50 ${ms(percentile(monitorMs, 0.5))}, p90 ${ms(percentile(monitorMs, 0.9))}, max ${ms(Math.max(...monitorMs))}; ` +
      `the worker's reports ${ms(pooled(ons, 'reportsMs'))} (CPU ${ms(pooled(ons, 'reportsCpuMs'))})`,
  );
}

/** The phase figures that are totals over a phase. */
type PhaseTotal = 'fullUpdates' | 'mainMs' | 'mainCpuMs' | 'workerCpuMs' | 'reportsMs' | 'reportsCpuMs';

const sum = (phases: readonly Phase[], field: PhaseTotal): number => phases.reduce((total, item) => total + item[field], 0);
const perUpdate = (result: Phase, field: PhaseTotal): number => result[field] / result.fullUpdates;

/** Runs the section on `browser` and prints it. */
export async function runMainThreadBenchmark(browser: Browser, options: MainThreadBenchOptions = {}): Promise<void> {
  const counts = options.replicaCounts ?? [3, 8];
  const seconds = options.seconds ?? 10;
  const rounds = options.rounds ?? 4;
  const streams = options.streams ?? ['same', 'changing'];
  console.log(`\n## Main-thread time: full-screen repaints of N replicas at ${WIDTH_PX}×${HEIGHT_PX} every ${REPAINT_EVERY_MS} ms for ${seconds} s per phase, comparison on vs off\n`);
  for (const stream of streams) for (const count of counts) await measureCount(browser, count, seconds, rounds, stream);
}

/** Parses this section's command-line options (shared with scripts/bench.ts). */
export function mainThreadBenchOptions(values: { 'stream-seconds'?: string; 'stream-rounds'?: string; replicas?: string; stream?: string }): MainThreadBenchOptions {
  const options: { seconds?: number; rounds?: number; replicaCounts?: number[]; streams?: Stream[] } = {};
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
  if (values['stream-rounds'] !== undefined) {
    const rounds = Number(values['stream-rounds']);
    if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--stream-rounds takes a whole number ≥ 1, not ${JSON.stringify(values['stream-rounds'])}`);
    options.rounds = rounds;
  }
  if (values.replicas !== undefined) {
    const counts = values.replicas.split(',').map(Number);
    if (!counts.every((count) => Number.isInteger(count) && count >= 1 && count <= 8)) throw new Error(`--replicas takes counts from 1 to 8, e.g. 3,8, not ${JSON.stringify(values.replicas)}`);
    options.replicaCounts = counts;
  }
  return options;
}
