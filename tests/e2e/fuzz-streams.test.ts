// End to end, through the browser shell in headless Chromium: mutated recordings of real servers'
// streams (Xvnc, a QEMU console, the demo guest; tests/fixtures/rfb) replayed to RetroVisor's client,
// one case per connection, while a good Xvnc replica in the same session must stay connected and
// updating, the page must stay up without page errors, and its memory must stay bounded. A fixed seed
// and count by default; RETROVISOR_FUZZ_SEED / RETROVISOR_FUZZ_CASES / RETROVISOR_FUZZ_ONLY for longer
// runs and for re-running one case (docs/testing.md).

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, CDPSession, Page } from 'playwright-core';
import { makeFuzzCase, type FuzzCase } from '../fuzz/rfb-mutators';
import { readRecording, replayPlan, type ReplayPlan } from '../fuzz/rfb-recording';
import { startReplayServer, type ReplayServer } from '../fuzz/replay-server';
import { startXvnc, typeWithXdotool, type XvncHandle } from '../lab/components';
import {
  assertCanvasShowsServer,
  eventually,
  launchBrowser,
  openAppPage,
  REPO_ROOT,
  startApp,
  thumbnailCanvas,
  waitForReplicaState,
  writeProfile,
  type RunningApp,
} from './support/app';

/** The recordings fuzzed, each served to its own replica. */
const RECORDINGS = ['xvnc', 'qemu', 'demo'] as const;
type RecordingName = (typeof RECORDINGS)[number];

const DEFAULT_SEED = 20261203;
/** Cases per recording in a normal test run: sized so the file runs in well under two minutes on 2 cores, busy or not. */
const DEFAULT_CASES = 100;
/** Cases between two health checks of the page, the good replica and memory. */
const BATCH_CASES = 10;

/** The most JS heap plus ArrayBuffer backing store the page may hold at any check (after a forced GC). */
const MAX_PAGE_MEMORY_BYTES = 512 * 1024 * 1024;
/** How much the page's memory (after a forced GC) may grow from the first check to the last. */
const MAX_PAGE_MEMORY_GROWTH_BYTES = 64 * 1024 * 1024;
/** How long one case may take to be served and closed: its bytes are a few KB, so only a hang reaches it. */
const CASE_TIMEOUT_MS = 40_000;
/** How long a fuzzed replica may take to show its drop once its server has closed the connection. */
const SETTLE_TIMEOUT_MS = 20_000;
/** Resting states: the session ended with a reason (and waits, or backs off). */
const RESTING_STATES = ['disconnected', 'reconnecting', 'auth-failed'] as const;

/** Which cases run: all recordings from index 0, or one case named by RETROVISOR_FUZZ_ONLY=source/seed/index. */
function fuzzSelection(): { recordings: readonly RecordingName[]; seed: number; first: number; count: number } {
  const only = process.env.RETROVISOR_FUZZ_ONLY;
  if (only !== undefined && only !== '') {
    const match = /^(\w+)\/(\d+)\/(\d+)$/.exec(only);
    const name = match?.[1] as RecordingName | undefined;
    assert.ok(match && name !== undefined && RECORDINGS.includes(name), `RETROVISOR_FUZZ_ONLY must be source/seed/index with source one of ${RECORDINGS.join(', ')}, not ${only}`);
    return { recordings: [name], seed: Number(match[2]), first: Number(match[3]), count: 1 };
  }
  const seed = Number(process.env.RETROVISOR_FUZZ_SEED ?? DEFAULT_SEED);
  const count = Number(process.env.RETROVISOR_FUZZ_CASES ?? DEFAULT_CASES);
  assert.ok(Number.isSafeInteger(seed) && seed >= 0, `RETROVISOR_FUZZ_SEED must be a non-negative integer, not ${process.env.RETROVISOR_FUZZ_SEED}`);
  assert.ok(Number.isSafeInteger(count) && count >= 1, `RETROVISOR_FUZZ_CASES must be a positive integer, not ${process.env.RETROVISOR_FUZZ_CASES}`);
  return { recordings: RECORDINGS, seed, first: 0, count };
}

const selection = fuzzSelection();
/** RETROVISOR_FUZZ_VERBOSE=1 prints every case (its id, mutations, how it ended, how long it took) and the page console's errors. */
const VERBOSE = process.env.RETROVISOR_FUZZ_VERBOSE === '1';
/** Generous: a case normally takes a fraction of a second; three recordings run side by side. */
const SUITE_TIMEOUT_MS = 120_000 + selection.count * 1500;

/** One fuzzed replica: its recording's server, the cases it was given, and what each case ended as. */
interface FuzzedReplica {
  readonly name: RecordingName;
  readonly replicaId: string;
  readonly server: ReplayServer;
  /** Cases made so far, by connection index. */
  readonly cases: Map<number, FuzzCase>;
}

function describeCase(fuzzCase: FuzzCase | undefined): string {
  if (fuzzCase === undefined) return 'the unmutated recording';
  return `${fuzzCase.id} (re-run alone: RETROVISOR_FUZZ_ONLY=${fuzzCase.id}); mutations: ${fuzzCase.mutations.join('; ')}`;
}

/** A replica thumbnail's state and text, for failure messages and the outcome tally. */
async function replicaShows(page: Page, replicaId: string): Promise<{ state: string; text: string }> {
  return page.evaluate((id) => {
    const element = document.querySelector(`[data-replica-id="${id}"]`);
    return { state: element?.getAttribute('data-state') ?? 'missing', text: (element?.querySelector('.thumbnail-detail')?.textContent ?? element?.querySelector('[data-testid="replica-state"]')?.textContent ?? '').slice(0, 300) };
  }, replicaId);
}

/** Rejects after `timeoutMs` with `message` unless `promise` settles first. */
async function within<T>(promise: Promise<T>, timeoutMs: number, message: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => (timer = setTimeout(() => reject(new Error(message())), timeoutMs)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe(`fuzzed server streams next to a good replica (seed ${selection.seed}, ${selection.count} cases per recording)`, { timeout: SUITE_TIMEOUT_MS }, () => {
  let good: XvncHandle;
  let fuzzed: FuzzedReplica[] = [];
  let app: RunningApp;
  let browser: Browser;
  let page: Page;
  let cdp: CDPSession;
  const pageErrors: string[] = [];
  let crashed = false;
  /** How the fuzzed sessions ended, by reason (numbers blanked), for the log. */
  const outcomes = new Map<string, number>();

  before(async () => {
    const plans = new Map<RecordingName, ReplayPlan>(
      selection.recordings.map((name) => [name, replayPlan(readRecording(join(REPO_ROOT, 'tests', 'fixtures', 'rfb', `${name}.rfb.gz`)))]),
    );
    const started = await Promise.all([
      startXvnc(),
      launchBrowser(),
      ...selection.recordings.map(async (name): Promise<FuzzedReplica> => {
        const plan = plans.get(name) as ReplayPlan;
        const cases = new Map<number, FuzzCase>();
        // Connection k gets case first+k; any connection beyond the selection gets the unmutated recording.
        const server = await startReplayServer((connection) => {
          if (connection >= selection.count) return null;
          const fuzzCase = makeFuzzCase(name, plan, selection.seed, selection.first + connection);
          cases.set(connection, fuzzCase);
          return fuzzCase.plan;
        }, plan);
        return { name, replicaId: `fuzz-${name}`, server, cases };
      }),
    ]);
    good = started[0];
    browser = started[1];
    fuzzed = started.slice(2) as FuzzedReplica[];
    const profilePath = writeProfile({
      version: 1,
      name: 'fuzzed streams',
      replicas: [
        { id: 'good', label: 'good Xvnc', vnc: { host: good.host, port: good.port } },
        ...fuzzed.map((replica) => ({ id: replica.replicaId, label: `fuzzed ${replica.name}`, vnc: { host: '127.0.0.1', port: replica.server.port } })),
      ],
    });
    app = await startApp({ profilePath });
    page = await openAppPage(browser, app);
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('crash', () => (crashed = true));
    page.on('console', (message) => {
      if (VERBOSE && (message.type() === 'error' || message.type() === 'warning')) console.log(`  page console: ${message.text().slice(0, 200)}`);
    });
    cdp = await page.context().newCDPSession(page);
  });

  after(async () => {
    const tally = [...outcomes.entries()].sort((left, right) => right[1] - left[1]);
    if (tally.length > 0) console.log(`how the fuzzed sessions ended:\n${tally.map(([reason, count]) => `  ${String(count).padStart(5)}  ${reason}`).join('\n')}`);
    await browser?.close();
    await app?.stop();
    await Promise.allSettled([good?.stop(), ...fuzzed.map((replica) => replica.server.stop())]);
  });

  /** Runs case `index` (connection index) of one fuzzed replica to its end: served, dropped with a reason, reconnected. */
  async function runCase(replica: FuzzedReplica, index: number): Promise<void> {
    const startedAt = Date.now();
    await within(replica.server.finished(index), CASE_TIMEOUT_MS, () => `${replica.replicaId}: case ${describeCase(replica.cases.get(index))} was not served to its end within ${CASE_TIMEOUT_MS} ms`);
    // Its session must end with a reason, not stay "connected" on a closed stream; an automatic
    // retry (the backoff) may already have taken the next connection, which only starts from a drop.
    const settled = await eventually(
      async () => replica.server.connections() > index + 1 || (RESTING_STATES as readonly string[]).includes((await replicaShows(page, replica.replicaId)).state),
      SETTLE_TIMEOUT_MS,
      50,
    );
    const shown = await replicaShows(page, replica.replicaId);
    assert.ok(settled, `${replica.replicaId} still shows "${shown.state}: ${shown.text}" ${SETTLE_TIMEOUT_MS} ms after its server closed; case ${describeCase(replica.cases.get(index))}`);
    if (replica.server.connections() === index + 1 && (RESTING_STATES as readonly string[]).includes(shown.state)) {
      // Numbers blanked, and the text a server chose (its version string, its failure reason) cut off.
      const reason = `${shown.state}: ${shown.text.replace(/\d+/g, 'N').replace(/(Invalid server version|auth failed:).*$/s, '$1 …')}`;
      outcomes.set(reason, (outcomes.get(reason) ?? 0) + 1);
    }
    if (VERBOSE) console.log(`${describeCase(replica.cases.get(index))}\n  -> ${shown.state}: ${shown.text} (${Date.now() - startedAt} ms)`);
    if (index + 1 >= selection.count) return;
    // Next case: "Retry now" (unless the backoff already reconnected it).
    const reconnected = await eventually(async () => {
      if (replica.server.connections() > index + 1) return true;
      await page.evaluate((id) => document.querySelector<HTMLButtonElement>(`[data-replica-id="${id}"] [data-testid="retry-now"]`)?.click(), replica.replicaId);
      return replica.server.connections() > index + 1;
    }, SETTLE_TIMEOUT_MS, 50);
    assert.ok(reconnected, `${replica.replicaId} did not reconnect for its next case after ${describeCase(replica.cases.get(index))}`);
  }

  /** The page's JS heap plus array buffers, in bytes, after a forced garbage collection. */
  async function pageMemoryBytes(): Promise<number> {
    await cdp.send('HeapProfiler.collectGarbage');
    const usage = await cdp.send('Runtime.getHeapUsage');
    return usage.usedSize + (usage.backingStorageSize ?? 0);
  }

  /** The page answers, raised no error, and the good replica is connected and shows what its server shows after a keystroke. */
  async function checkHealth(after: string): Promise<void> {
    assert.equal(crashed, false, `the page crashed ${after}`);
    assert.deepEqual(pageErrors, [], `page errors ${after}`);
    assert.equal(await page.evaluate(() => document.querySelectorAll('[data-replica-id]').length), 1 + fuzzed.length, `the page lost thumbnails ${after}`);
    const goodShows = await replicaShows(page, 'good');
    assert.equal(goodShows.state, 'connected', `the good replica shows "${goodShows.state}: ${goodShows.text}" ${after}`);
    // A keystroke on its own display changes its xterm; the thumbnail must follow, pixel for pixel.
    await typeWithXdotool(good.display, 'x');
    await assertCanvasShowsServer(page, thumbnailCanvas('good'), good, `the good replica's thumbnail stopped following its server ${after}`);
  }

  it('connects the good replica', async () => {
    await waitForReplicaState(page, 'good', 'connected', 30_000).catch((error: unknown) => {
      throw new Error(`${String(error)}\napp stderr:\n${app.stderr()}`);
    });
  });

  it('ends each fuzzed session alone, with a reason, keeping the page up, the good replica updating and memory bounded', async () => {
    let baselineBytes: number | null = null;
    let lastBytes = 0;
    for (let batchStart = 0; batchStart < selection.count; batchStart += BATCH_CASES) {
      const batchEnd = Math.min(selection.count, batchStart + BATCH_CASES);
      await Promise.all(
        fuzzed.map(async (replica) => {
          for (let index = batchStart; index < batchEnd; index++) await runCase(replica, index);
        }),
      );
      const after = `after cases ${selection.first + batchStart}..${selection.first + batchEnd - 1} (seed ${selection.seed}; re-run one with RETROVISOR_FUZZ_ONLY=<source>/${selection.seed}/<index>)`;
      await checkHealth(after);
      lastBytes = await pageMemoryBytes();
      baselineBytes ??= lastBytes;
      assert.ok(lastBytes < MAX_PAGE_MEMORY_BYTES, `the page holds ${Math.round(lastBytes / 2 ** 20)} MiB of JS heap and array buffers ${after}`);
      // Progress, for long runs.
      console.log(`cases ${selection.first + batchStart}..${selection.first + batchEnd - 1} of each recording done; the page holds ${Math.round(lastBytes / 2 ** 20)} MiB`);
    }
    assert.ok(baselineBytes !== null);
    assert.ok(
      lastBytes - baselineBytes < MAX_PAGE_MEMORY_GROWTH_BYTES,
      `the page's memory grew from ${Math.round(baselineBytes / 2 ** 20)} MiB to ${Math.round(lastBytes / 2 ** 20)} MiB over the cases`,
    );
  });
});
