// `npm run bench`: RetroVisor's benchmarks, measured in one run on this machine and printed as a
// table (no pass/fail: figures for docs/benchmarks.md). Sections run in order; later issues add theirs.
//   Input fan-out (scripts/bench-fanout.ts): skew between the first and the last replica receiving the
//   same input for N = 2, 3 and 8, read by this process and by the kernel (a tap), both deliveries
//   (the one input channel, each replica's own stream) side by side; then 100 000 mixed inputs in one
//   burst with a count of lost, duplicated and reordered ones; and the back end's write loop.
// Usage: npm run bench [-- --only fanout] [-- --blocks N (0: no burst)] [-- --spaced N (default 400)]
//        [-- --delivery channel|per-stream|both] [-- --receiver bench|kernel|both] [-- --apparatus normal|batch|both]
//        [-- --only divergence] [-- --soak-minutes M (default 10; 0: no soak)] [-- --cpu-seconds S (default 20)]
//        [-- --only remediation] [-- --rounds N (default 5)] [-- --targets demo,libvirt]
//        [-- --only memory] [-- --memory-minutes M (default 10)]
//        [-- --only main-thread] [-- --stream-seconds S (default 10)] [-- --stream-rounds N (default 4)] [-- --replicas 3,8] [-- --stream same|changing|both]
// Runs in Node (through tsx).

import os from 'node:os';
import { parseArgs } from 'node:util';
import { chromium, type Browser } from 'playwright-core';
import { CHROMIUM_INSTALL_HINT, findChromium, headlessChromiumFlags } from '../main/chromium';
import { launchYieldingToBackend } from '../main/process-priority';
import { runCompareBenchmark } from './bench-compare';
import { DEFAULT_BURST_BLOCKS, DEFAULT_SPACED_BLOCKS, fanoutSection, type ApparatusPolicy, type Delivery, type Receiver } from './bench-fanout';
import { divergenceBenchOptions, runDivergenceBenchmark } from './bench-divergence';
import { memoryBenchOptions, runMemoryBenchmark } from './bench-memory';
import { mainThreadBenchOptions, runMainThreadBenchmark } from './bench-main-thread';
import { remediationBenchOptions, runRemediationBenchmark } from './bench-remediation';

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: { only: { type: 'string' }, blocks: { type: 'string' }, spaced: { type: 'string' }, delivery: { type: 'string' }, receiver: { type: 'string' }, apparatus: { type: 'string' }, 'soak-minutes': { type: 'string' }, 'cpu-seconds': { type: 'string' }, rounds: { type: 'string' }, targets: { type: 'string' }, 'memory-minutes': { type: 'string' }, 'stream-seconds': { type: 'string' }, 'stream-rounds': { type: 'string' }, stream: { type: 'string' }, replicas: { type: 'string' } },
});

const DELIVERIES: readonly Delivery[] =
  values.delivery === undefined || values.delivery === 'both' ? ['per-stream', 'channel'] : values.delivery === 'channel' || values.delivery === 'per-stream' ? [values.delivery] : [];
if (DELIVERIES.length === 0) throw new Error('--delivery is channel, per-stream or both');
const RECEIVERS: readonly Receiver[] =
  values.receiver === undefined || values.receiver === 'both' ? ['bench', 'kernel'] : values.receiver === 'bench' || values.receiver === 'kernel' ? [values.receiver] : [];
if (RECEIVERS.length === 0) throw new Error('--receiver is bench, kernel or both');
const APPARATUS: readonly ApparatusPolicy[] =
  values.apparatus === undefined || values.apparatus === 'normal' ? ['normal'] : values.apparatus === 'batch' ? ['batch'] : values.apparatus === 'both' ? ['normal', 'batch'] : [];
if (APPARATUS.length === 0) throw new Error('--apparatus is normal, batch or both');
const BURST_BLOCKS = values.blocks === undefined ? DEFAULT_BURST_BLOCKS : Number(values.blocks);
if (!Number.isSafeInteger(BURST_BLOCKS) || BURST_BLOCKS < 0) throw new Error('--blocks is a whole number of input blocks (0: no burst)');
const SPACED_BLOCKS = values.spaced === undefined ? DEFAULT_SPACED_BLOCKS : Number(values.spaced);
if (!Number.isSafeInteger(SPACED_BLOCKS) || SPACED_BLOCKS < 1) throw new Error('--spaced is a whole number of input blocks, at least 1');

const SECTIONS: Record<string, (browser: Browser) => Promise<void>> = {
  fanout: (browser) => fanoutSection(browser, { deliveries: DELIVERIES, receivers: RECEIVERS, spacedBlocks: SPACED_BLOCKS, burstBlocks: BURST_BLOCKS, apparatus: APPARATUS }),
  // The comparison engine against pixelmatch and the memory floor; needs no browser.
  compare: async () => console.log((await runCompareBenchmark({ log: (line) => console.error(line) })).text),
  // Divergence detection end to end in the real renderer: per-update cost, CPU on/off, latency, false-alarm soak.
  divergence: (browser) => runDivergenceBenchmark(browser, divergenceBenchOptions(values)),
  // What detection costs the renderer's main thread: full-screen repaints of 3 and 8 replicas, comparison on vs off.
  'main-thread': (browser) => runMainThreadBenchmark(browser, mainThreadBenchOptions(values)),
  // The remediation manager: divergence → first L0 command → agreement again beside its floors, and checkpoint cost.
  remediation: (browser) => runRemediationBenchmark(browser, remediationBenchOptions(values)),
  // RetroVisor's whole process tree (PSS, RSS) over a drawing-and-typing soak of 8 replicas at 1080p.
  memory: (browser) => runMemoryBenchmark(browser, memoryBenchOptions(values)),
};

async function main(): Promise<void> {
  console.log(`# RetroVisor benchmarks — ${new Date().toISOString()}`);
  console.log(`${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}`);
  const executablePath = findChromium();
  if (executablePath === null) throw new Error(`no Chromium or Chrome found: ${CHROMIUM_INSTALL_HINT} (or set RETROVISOR_CHROMIUM)`);
  const browser = await launchYieldingToBackend(() => chromium.launch({ executablePath, headless: true, args: [...headlessChromiumFlags()] }));
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
