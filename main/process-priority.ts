// Chromium — RetroVisor's own renderer in the browser shell — yields to the back end. The back end
// writes each input to every replica's socket in one loop (main/input-channel.ts); on a machine with
// few cores a renderer thread that wakes up in the middle of that loop preempts it for a scheduler
// slice, and the last replica gets the input a millisecond or more after the first (the tail of the
// fan-out skew, docs/benchmarks.md). Chromium is therefore launched with the calling thread under
// SCHED_BATCH: the browser and every process it forks inherit the policy, whose wakeups do not
// preempt a running task; they keep their full share of the CPU. The back end's thread returns to
// SCHED_OTHER as soon as the launch is done. Linux only; where chrt is missing or refuses, Chromium
// is launched as before. Runs in Node.

import { spawnSync } from 'node:child_process';

/** Runs util-linux's chrt with these arguments; true when it succeeded. */
export type ChrtRunner = (args: readonly string[]) => boolean;

const runChrt: ChrtRunner = (args) => {
  const result = spawnSync('chrt', args, { stdio: 'ignore', timeout: 5000 });
  return result.error === undefined && result.status === 0;
};

/**
 * Runs `launch` (which spawns Chromium) with this process's main thread under SCHED_BATCH, so what
 * it spawns inherits the policy; the thread is put back to SCHED_OTHER afterwards, whatever the
 * launch's outcome.
 */
export async function launchYieldingToBackend<T>(launch: () => Promise<T> | T, chrt: ChrtRunner = runChrt, platform: NodeJS.Platform = process.platform): Promise<T> {
  const thread = String(process.pid);
  const switched = platform === 'linux' && chrt(['--batch', '--pid', '0', thread]);
  try {
    return await launch();
  } finally {
    if (switched) chrt(['--other', '--pid', '0', thread]);
  }
}
