// The input fan-out section of `npm run bench`: skew between the first and the last replica receiving
// the same input, for N = 2, 3 and 8; then 100 000 mixed inputs in one burst with a count of lost,
// duplicated and reordered ones. The input goes the real way: DOM events on the composite canvas of
// the real renderer in headless Chromium → noVNC keyboard / pointer capture → fan-out → the session's
// one input channel (or, for comparison, each replica's own stream WebSocket) → the back end
// (`retrovisor serve`, its own process) → TCP → instrumented demo RFB servers in this process.
// Arrival is read two ways, in alternating sessions of one run:
//   bench   — this process's event loop timestamps each message as its demo server decodes it (all N
//             replicas on one loop, one after the other: a measurement floor that grows with N);
//   kernel  — a tap (scripts/bench-fanout-tap.py) in front of each replica takes the kernel's receive
//             timestamp (SO_TIMESTAMPNS) of every read: arrival at the replica's socket, independent
//             of when any process is scheduled.
// The back end's write loop is timed too (scripts/bench-fanout-probe.mjs, bench-only).
// Apparatus policy: the replicas, the tap and this process share the 2 cores with the back end, and
// on loopback every write of the back end wakes a receiver that may preempt it between two of its N
// writes — in a deployment the replicas are other machines. `batch` puts the apparatus (this process
// and the tap, all threads) under SCHED_BATCH (chrt; unprivileged), whose wakeups do not preempt;
// `normal` leaves it as it is. Both are measured side by side when asked. The back end is always
// started under SCHED_OTHER; Chromium is launched as the product launches it, yielding to the back
// end (SCHED_BATCH, main/process-priority.ts). Runs in Node.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import type { FramebufferSource } from '../main/demo/framebuffer';
import { RfbServer } from '../main/demo/rfb-server';
import { parseClientMessage } from '../main/demo/rfb-wire';

/** How input reaches the back end: the session's one input channel, or each replica's own stream (the old path). */
export type Delivery = 'channel' | 'per-stream';
/** Where arrival is timestamped: this process's event loop, or the kernel (through the tap). */
export type Receiver = 'bench' | 'kernel';
/** The measuring apparatus's scheduling policy: as started, or SCHED_BATCH (its wakeups do not preempt the back end). */
export type ApparatusPolicy = 'normal' | 'batch';

export interface FanoutOptions {
  readonly deliveries: readonly Delivery[];
  readonly receivers: readonly Receiver[];
  /** Spaced blocks (one every SPACING_MS); DEFAULT_SPACED_BLOCKS unless given. */
  readonly spacedBlocks?: number;
  /** Burst blocks (0: spaced phase only). */
  readonly burstBlocks: number;
  /** The apparatus's scheduling policies to measure under (default: normal only). */
  readonly apparatus?: readonly ApparatusPolicy[];
}

/** Puts every thread of `pids` under `policy` (chrt, util-linux); returns why it could not, or null. */
function setApparatusPolicy(policy: ApparatusPolicy, pids: readonly number[]): string | null {
  for (const pid of pids) {
    const result = spawnSync('chrt', ['--all-tasks', policy === 'batch' ? '--batch' : '--other', '--pid', '0', String(pid)], { encoding: 'utf8' });
    if (result.error !== undefined) return `chrt could not run (${result.error.message}): apt-get install -y util-linux`;
    if (result.status !== 0) return `chrt failed for pid ${pid}: ${result.stderr.trim()}`;
  }
  return null;
}

const FRAMEBUFFER_WIDTH = 640;
const FRAMEBUFFER_HEIGHT = 400;
/** Spaced phase: this many input blocks, one every SPACING_MS (each block = 4 user inputs, 6 RFB messages). */
export const DEFAULT_SPACED_BLOCKS = 400;
const SPACING_MS = 3;
/** The default burst: 25 000 blocks = 100 000 user inputs (key press, button down, button up, wheel step). */
export const DEFAULT_BURST_BLOCKS = 25_000;
const MESSAGES_PER_BLOCK = 6;
/** A write loop whose spread passes this is examined: was the back end preempted, or collecting garbage? */
const SLOW_LOOP_NS = 500_000;
const REPLICA_COUNTS = [2, 3, 8] as const;
/** The first key's code point: CJK ideographs, one per block, so every key event is recognisable. */
const FIRST_CODE_POINT = 0x4e00;
const CODE_POINTS = 20_000;
/** The client's handshake bytes before its first message: ProtocolVersion, security type (None), ClientInit. */
const RFB_CLIENT_HANDSHAKE_BYTES = 12 + 1 + 1;
const PYTHON_INSTALL_HINT = 'apt-get install -y python3 (Debian; any python3 on PATH will do)';

/** One RFB input message as a demo server decoded it. */
type Message = string;

/** What one replica received in one session, with an arrival time per message. */
interface Arrivals {
  messages: Message[];
  arrivalsNs: bigint[];
}

/** An instrumented demo replica: a static desktop that records every input message with its arrival time. */
interface InstrumentedReplica extends Arrivals {
  readonly server: RfbServer;
  readonly port: number;
}

const STATIC_DESKTOP: FramebufferSource = {
  width: FRAMEBUFFER_WIDTH,
  height: FRAMEBUFFER_HEIGHT,
  pixels: new Uint8Array(FRAMEBUFFER_WIDTH * FRAMEBUFFER_HEIGHT * 4).fill(40),
  subscribe: () => () => undefined,
};

async function startReplica(index: number): Promise<InstrumentedReplica> {
  const recording: Arrivals = { messages: [], arrivalsNs: [] };
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
async function waitForArrivals(replicas: readonly Arrivals[], total: number): Promise<void> {
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
    await new Promise((resolveWait) => setTimeout(resolveWait, 50));
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

/** Skew of each message index across replicas (ms), for indexes every replica received. */
function skews(replicas: readonly Arrivals[], from: number, count: number): number[] {
  const result: number[] = [];
  for (let index = from; index < from + count; index++) {
    const times = replicas.map((replica) => replica.arrivalsNs[index]);
    if (times.some((time) => time === undefined || time < 0n)) break;
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

/** Skew percentiles of one phase (ms). */
interface SkewFigures {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly count: number;
}

function skewFigures(values: readonly number[]): SkewFigures {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted.at(-1) ?? Number.NaN, count: values.length };
}

function describe(figures: SkewFigures, unit: 'ms' | 'µs' = 'ms'): string {
  const scale = unit === 'ms' ? 1 : 1000;
  const format = (value: number): string => (value * scale).toFixed(unit === 'ms' ? 3 : 1);
  return `p50 ${format(figures.p50)} / p99 ${format(figures.p99)} / max ${format(figures.max)} ${unit} (${figures.count})`;
}

// ---------------------------------------------------------------------------------------------
// The kernel-timestamp tap

/** One connection the tap carried: the bytes the back end sent and the kernel stamp of each read. */
interface TappedConnection {
  readonly bytes: Buffer;
  /** [end offset, ns since the epoch (−1: no stamp)] per read, in order. */
  readonly stamps: ReadonlyArray<readonly [number, bigint]>;
}

/** The tap process (scripts/bench-fanout-tap.py) in front of the replicas. */
class KernelTap {
  private readonly opened = new Map<number, number>();
  private readonly closed = new Set<string>();

  private constructor(
    private readonly child: ChildProcess,
    private readonly directory: string,
    readonly ports: readonly number[],
    lines: AsyncIterable<string>,
  ) {
    void (async () => {
      for await (const line of lines) {
        const [kind, tap, connection] = line.split(' ');
        if (kind === 'C') this.opened.set(Number(tap), Number(connection));
        if (kind === 'E') this.closed.add(`${tap}-${connection}`);
      }
    })();
  }

  /** The tap's process id (for the apparatus policy). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Starts the tap in front of `targetPorts`; resolves with why it cannot run instead (python3 missing...). */
  static async start(targetPorts: readonly number[]): Promise<KernelTap | string> {
    const directory = mkdtempSync(join(os.tmpdir(), 'retrovisor-bench-tap-'));
    const script = join(import.meta.dirname, 'bench-fanout-tap.py');
    const child = spawn('python3', [script, directory, ...targetPorts.map(String)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const failure = new Promise<string>((resolveFailure) => {
      child.once('error', (error: Error & { code?: string }) =>
        resolveFailure(error.code === 'ENOENT' ? `python3 is not installed: ${PYTHON_INSTALL_HINT}` : `cannot start python3: ${error.message}`),
      );
      child.once('exit', (code) => resolveFailure(`the tap exited with ${code}: ${stderr.trim() || 'no message'}`));
    });
    const first = lines.next().then((result) => (result.done === true ? null : result.value));
    const outcome = await Promise.race([first, failure]);
    if (outcome === null || !outcome.startsWith('{')) {
      // The tap's output ended first: its exit or spawn error says why.
      const reason = outcome ?? (await Promise.race([failure, new Promise<string>((resolveLate) => setTimeout(() => resolveLate(`the tap printed no ports: ${stderr.trim()}`), 2000))]));
      child.kill();
      rmSync(directory, { recursive: true, force: true });
      return reason;
    }
    const { listen } = JSON.parse(outcome) as { listen: number[] };
    return new KernelTap(child, directory, listen, { [Symbol.asyncIterator]: () => lines });
  }

  /** The newest connection on each of the first `count` taps, once the tap has closed it (after the session). */
  async lastConnections(count: number): Promise<TappedConnection[] | string> {
    const deadline = Date.now() + 10_000;
    const names = (): string[] => Array.from({ length: count }, (_unused, tap) => `${tap}-${this.opened.get(tap) ?? 0}`);
    while (!names().every((name) => this.closed.has(name))) {
      if (Date.now() > deadline) return `the tap did not finish the connections ${names().join(', ')} within 10 s`;
      await new Promise((resolveWait) => setTimeout(resolveWait, 20));
    }
    return names().map((name) => {
      const bytes = readFileSync(join(this.directory, `${name}.bin`));
      const stamps = readFileSync(join(this.directory, `${name}.ts`), 'utf8')
        .split('\n')
        .filter((line) => line.length > 0)
        .map((line) => {
          const [offset, stamp] = line.split(' ');
          return [Number(offset), BigInt(stamp ?? '-1')] as const;
        });
      return { bytes, stamps };
    });
  }

  stop(): void {
    this.child.kill();
    rmSync(this.directory, { recursive: true, force: true });
  }
}

/** The input messages in what the back end sent one replica, each at the kernel stamp of the read holding its last byte. */
function kernelArrivals(connection: TappedConnection): Arrivals | string {
  const { bytes, stamps } = connection;
  if (!/^RFB 003\.00[378]\n$/.test(bytes.toString('latin1', 0, 12))) return 'the tapped stream does not start with an RFB ProtocolVersion';
  const arrivals: Arrivals = { messages: [], arrivalsNs: [] };
  let offset = RFB_CLIENT_HANDSHAKE_BYTES;
  let read = 0;
  while (offset < bytes.length) {
    const parsed = parseClientMessage(bytes.subarray(offset));
    if (parsed.kind === 'incomplete') break;
    if (parsed.kind === 'error') return `the tapped stream is not RFB at byte ${offset}: ${parsed.reason}`;
    offset += parsed.byteLength;
    while (read < stamps.length && stamps[read]![0] < offset) read++;
    const stamp = stamps[read]?.[1] ?? -1n;
    const { message } = parsed;
    let name: Message | null = null;
    if (message.type === 'key' || message.type === 'qemu-key') name = `k${message.keysym}${message.down ? 'd' : 'u'}`;
    else if (message.type === 'pointer') name = `p${message.x},${message.y},${message.buttonMask}`;
    else if (message.type === 'cut-text') name = `c${message.text.length}`;
    if (name === null) continue;
    arrivals.messages.push(name);
    arrivals.arrivalsNs.push(stamp);
  }
  return arrivals;
}

// ---------------------------------------------------------------------------------------------
// The app

const REPO_ROOT = resolve(import.meta.dirname, '..');
const PROBE = pathToFileURL(join(import.meta.dirname, 'bench-fanout-probe.mjs')).href;

/** `retrovisor serve` as a child process (the back end in its own process, as users run it), write loop probed. */
interface RunningApp {
  readonly url: string;
  /** Stops the back end; resolves with its write loops: [spreadNs, loopNs, writes] per frame written to 2+ replicas. */
  stop(): Promise<number[][]>;
}

async function startApp(profile: unknown, replicaPorts: readonly number[]): Promise<RunningApp> {
  const directory = mkdtempSync(join(os.tmpdir(), 'retrovisor-bench-'));
  const profilePath = join(directory, 'profile.json');
  const probePath = join(directory, 'write-loops.json');
  writeFileSync(profilePath, JSON.stringify(profile));
  // The back end is RetroVisor, not apparatus: started under SCHED_OTHER even while this process is
  // under SCHED_BATCH (a child inherits its parent's policy).
  const child: ChildProcess = spawn('chrt', ['--other', '0', process.execPath, '--import', PROBE, join(REPO_ROOT, 'bin', 'retrovisor.mjs'), 'serve', '--profile', profilePath], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, RETROVISOR_BENCH_PROBE_OUT: probePath, RETROVISOR_BENCH_PROBE_PORTS: replicaPorts.join(',') },
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
      if (child.exitCode === null) {
        const exited = new Promise((resolveExit) => child.once('exit', resolveExit));
        child.kill('SIGTERM');
        await exited;
      }
      const loops = existsSync(probePath) ? (JSON.parse(readFileSync(probePath, 'utf8')) as number[][]) : [];
      rmSync(directory, { recursive: true, force: true });
      return loops;
    },
  };
}

/** Opens the app on the given replica ports and waits for every one to connect. */
async function openSession(browser: Browser, ports: readonly number[], delivery: Delivery): Promise<{ app: RunningApp; page: Page }> {
  const app = await startApp(
    {
      version: 1,
      name: `bench ${ports.length}`,
      replicas: ports.map((port, index) => ({ id: `r${index + 1}`, vnc: { host: '127.0.0.1', port } })),
    },
    ports,
  );
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('pageerror', (error) => console.error(`page error: ${error.message}`));
  await page.goto(delivery === 'per-stream' ? `${app.url}?input=per-stream` : app.url);
  for (let index = 0; index < ports.length; index++) {
    await page.waitForSelector(`[data-replica-id="r${index + 1}"][data-state="connected"]`, { timeout: 30_000, state: 'attached' });
  }
  await page.waitForSelector(`[data-testid="broadcast-badge"][data-targets="${ports.length}"]`, { timeout: 10_000 });
  return { app, page };
}

/** One session's figures. */
interface SessionFigures {
  readonly spaced: SkewFigures;
  /** Kernel reading only: the spaced skew over blocks every replica's tap stamped exactly, and how many were left out. */
  readonly spacedExact: SkewFigures | null;
  readonly inexactBlocks: number;
  readonly burst: SkewFigures | null;
  /** The back end's write loop per frame, spread (first → last socket handed its bytes), ms. */
  readonly writeSpread: SkewFigures | null;
}

/**
 * Spaced blocks whose kernel stamp is not their own on some replica. Each block reaches a replica in
 * one write, so in one segment; a tap read that held blocks b and b+1 carries only the stamp of the
 * later segment, so block b is stamped late (by up to the spacing) — its stamp equals b+1's.
 */
function inexactlyStampedBlocks(replicas: readonly Arrivals[], blocks: number): Set<number> {
  const inexact = new Set<number>();
  for (const replica of replicas) {
    for (let block = 0; block + 1 < blocks; block++) {
      const stamp = replica.arrivalsNs[(block + 1) * MESSAGES_PER_BLOCK - 1];
      if (stamp !== undefined && stamp === replica.arrivalsNs[(block + 2) * MESSAGES_PER_BLOCK - 1]) inexact.add(block);
    }
  }
  return inexact;
}

/** A phase's audit line: lost / duplicated / reordered summed over replicas. */
function auditSummary(replicas: readonly Arrivals[], first: number, blocks: number, from: number, to?: number): { lost: number; duplicated: number; reordered: number } {
  const expected = expectedMessages(first, blocks);
  const total = { lost: 0, duplicated: 0, reordered: 0 };
  for (const replica of replicas) {
    const result = audit(expected, replica.messages.slice(from, to));
    total.lost += result.lost;
    total.duplicated += result.duplicated;
    total.reordered += result.reordered;
  }
  return total;
}

/** One session: the spaced phase, then (unless burstBlocks is 0) the burst; arrival read by `receiver`. */
async function measureSession(
  browser: Browser,
  replicas: readonly InstrumentedReplica[],
  delivery: Delivery,
  receiver: Receiver,
  tap: KernelTap | null,
  spacedBlocks: number,
  burstBlocks: number,
  policy: ApparatusPolicy,
): Promise<SessionFigures> {
  const count = replicas.length;
  for (const replica of replicas) {
    replica.messages = [];
    replica.arrivalsNs = [];
  }
  const ports = receiver === 'kernel' && tap !== null ? tap.ports.slice(0, count) : replicas.map((replica) => replica.port);
  const { app, page } = await openSession(browser, ports, delivery);
  const spacedTotal = spacedBlocks * MESSAGES_PER_BLOCK;
  const burstTotal = burstBlocks * MESSAGES_PER_BLOCK;
  let burstTiming = '';
  let loops: number[][] = [];
  try {
    // Spaced: one block every few ms, as a fast typist and a busy mouse would.
    await playBlocks(page, 0, spacedBlocks, SPACING_MS);
    await waitForArrivals(replicas, spacedTotal);
    if (burstBlocks > 0) {
      // Burst: 100 000 inputs as fast as the page can dispatch them, in one task.
      const started = Date.now();
      await playBlocks(page, spacedBlocks, burstBlocks, 0);
      const dispatchedMs = Date.now() - started;
      await waitForArrivals(replicas, spacedTotal + burstTotal);
      burstTiming = `dispatched in ${dispatchedMs} ms, all arrived after ${Date.now() - started} ms`;
    }
  } finally {
    await page.close();
    loops = await app.stop();
  }
  // What the demo servers decoded here is the reference either way; the kernel reading must match it.
  let arrivals: readonly Arrivals[] = replicas;
  if (receiver === 'kernel' && tap !== null) {
    const connections = await tap.lastConnections(count);
    if (typeof connections === 'string') throw new Error(connections);
    const decoded = connections.map(kernelArrivals);
    const problem = decoded.find((entry): entry is string => typeof entry === 'string');
    if (problem !== undefined) throw new Error(problem);
    arrivals = decoded as Arrivals[];
    arrivals.forEach((entry, index) => {
      if (entry.messages.join() !== replicas[index]!.messages.join()) throw new Error(`replica ${index + 1}: the tap's bytes decode to other messages than the replica received`);
      const unstamped = entry.arrivalsNs.filter((stamp) => stamp < 0n).length;
      if (unstamped > 0) throw new Error(`replica ${index + 1}: ${unstamped} messages without a kernel timestamp (SO_TIMESTAMPNS not honoured?)`);
    });
  }
  const label = `N=${count}  ${policy.padEnd(6)} ${delivery.padEnd(10)} ${receiver.padEnd(6)}`;
  const spaced = skewFigures(skews(arrivals, 0, spacedTotal));
  const spacedAudit = auditSummary(arrivals, 0, spacedBlocks, 0, spacedTotal);
  console.log(`${label} spaced (${spacedBlocks * 4} inputs, one block per ${SPACING_MS} ms): skew ${describe(spaced)}; lost ${spacedAudit.lost}, duplicated ${spacedAudit.duplicated}, reordered ${spacedAudit.reordered}`);
  let spacedExact: SkewFigures | null = null;
  let inexactBlocks = 0;
  if (receiver === 'kernel') {
    const inexact = inexactlyStampedBlocks(arrivals, spacedBlocks);
    inexactBlocks = inexact.size;
    const all = skews(arrivals, 0, spacedTotal);
    spacedExact = skewFigures(all.filter((_skew, index) => !inexact.has(Math.floor(index / MESSAGES_PER_BLOCK))));
    console.log(`${label} spaced, blocks stamped exactly on every replica: skew ${describe(spacedExact)}; ${inexactBlocks} of ${spacedBlocks} blocks left out (a tap read also held the next block, so they carry its later stamp)`);
  }
  let burst: SkewFigures | null = null;
  if (burstBlocks > 0) {
    burst = skewFigures(skews(arrivals, spacedTotal, burstTotal));
    const burstAudit = auditSummary(arrivals, spacedBlocks, burstBlocks, spacedTotal);
    console.log(
      `${label} burst  (${burstBlocks * 4} inputs = ${burstTotal} RFB messages per replica; ${burstTiming}): ` +
        `lost ${burstAudit.lost}, duplicated ${burstAudit.duplicated}, reordered ${burstAudit.reordered}; skew ${describe(burst)}`,
    );
  }
  const fanLoops = loops.filter(([, , writes]) => writes === count);
  const writeSpread = fanLoops.length > 0 ? skewFigures(fanLoops.map(([spreadNs]) => spreadNs! / 1e6)) : null;
  if (writeSpread !== null) {
    const loop = skewFigures(fanLoops.map(([, loopNs]) => loopNs! / 1e6));
    console.log(`${label} back end's write loop per frame to all ${count}: spread ${describe(writeSpread, 'µs')}, whole loop ${describe(loop, 'µs')}`);
    // Why a loop was slow: the process was preempted inside it (involuntary context switch), or a GC ran inside it.
    const slow = fanLoops.filter(([spreadNs]) => spreadNs! > SLOW_LOOP_NS);
    const preempted = slow.filter(([, , , switches]) => switches! > 0).length;
    const collected = slow.filter(([, , , , gc]) => gc === 1).length;
    console.log(`${label} loops spreading over ${SLOW_LOOP_NS / 1e6} ms: ${slow.length} of ${fanLoops.length}; with an involuntary context switch inside: ${preempted}; with a GC inside: ${collected}`);
  }
  return { spaced, spacedExact, inexactBlocks, burst, writeSpread };
}

/** The section: every N, every delivery × receiver, in alternating sessions; then a summary table. */
export async function fanoutSection(browser: Browser, options: FanoutOptions): Promise<void> {
  console.log('\n## Input fan-out (real renderer → back end → instrumented demo replicas)\n');
  console.log(`load average at start: ${os.loadavg().map((load) => load.toFixed(2)).join(' / ')}`);
  const all = await Promise.all(Array.from({ length: Math.max(...REPLICA_COUNTS) }, (_unused, index) => startReplica(index)));
  let tap: KernelTap | null = null;
  const receivers = [...options.receivers];
  if (receivers.includes('kernel')) {
    const started = await KernelTap.start(all.map((replica) => replica.port));
    if (typeof started === 'string') {
      console.log(`kernel timestamps: NOT MEASURED — ${started}. Only the bench's own arrival times follow.`);
      receivers.splice(receivers.indexOf('kernel'), 1);
    } else {
      tap = started;
    }
  }
  const apparatusPids = [process.pid, ...(tap?.pid === undefined ? [] : [tap.pid])];
  const policies = [...(options.apparatus ?? ['normal'])];
  const rows: string[] = [];
  try {
    for (const count of REPLICA_COUNTS) {
      const replicas = all.slice(0, count);
      for (const policy of policies) {
        const problem = setApparatusPolicy(policy, apparatusPids);
        if (problem !== null) {
          console.log(`apparatus policy ${policy}: NOT MEASURED — ${problem}`);
          continue;
        }
        for (const delivery of options.deliveries) {
          for (const receiver of receivers) {
            const figures = await measureSession(browser, replicas, delivery, receiver, tap, options.spacedBlocks ?? DEFAULT_SPACED_BLOCKS, options.burstBlocks, policy);
            const cell = (value: SkewFigures | null): string => (value === null ? '—' : `${value.p50.toFixed(3)} / ${value.p99.toFixed(3)} / ${value.max.toFixed(3)}`);
            const exact = figures.spacedExact === null ? '—' : `${cell(figures.spacedExact)} (${figures.inexactBlocks} left out)`;
            rows.push(`| ${count} | ${policy} | ${delivery} | ${receiver} | ${cell(figures.spaced)} | ${exact} | ${cell(figures.burst)} | ${cell(figures.writeSpread)} | ${os.loadavg()[0]?.toFixed(2)} |`);
          }
        }
      }
    }
  } finally {
    setApparatusPolicy('normal', apparatusPids);
    tap?.stop();
    await Promise.all(all.map((replica) => replica.server.close()));
  }
  console.log(
    '\n| N | apparatus | delivery | arrival read by | spaced skew p50 / p99 / max (ms) | spaced, exactly stamped blocks (ms) | burst skew p50 / p99 / max (ms) | write loop spread p50 / p99 / max (ms) | load (1 min) |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const row of rows) console.log(row);
}
