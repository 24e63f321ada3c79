// Chromium — RetroVisor's own renderer in the browser shell — yields to the back end. The back end
// writes each input to every replica's socket in one loop (main/input-channel.ts); on a machine with
// few cores a renderer thread that wakes up in the middle of that loop preempts it for a scheduler
// slice, and the last replica gets the input a millisecond or more after the first (the tail of the
// fan-out skew, docs/benchmarks.md). Chromium is therefore launched with the calling thread under
// SCHED_BATCH: the browser and every process it forks inherit the policy, whose wakeups do not
// preempt a running task; they keep their full share of the CPU. The back end's thread returns to
// SCHED_OTHER as soon as the launch is done. Linux only; where chrt is missing or refuses, Chromium
// is launched as before. The Electron shell's renderers, GPU and utility processes are forked by
// Electron's own main process, which runs the back end and must keep its policy: they are switched
// after they start instead (lowerChildProcesses, every thread of each). Runs in Node.

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

/** A process of the app as Electron's app.getAppMetrics() lists it (the part used here). */
export interface AppProcess {
  readonly pid: number;
  /** 'Browser' (the main process, running the back end), 'Tab' (a renderer), 'GPU', 'Utility'... */
  readonly type: string;
}

/**
 * Puts every process of the app except the main one ('Browser': it runs the back end's input loop)
 * under SCHED_BATCH, all its threads, as the browser shell's Chromium is. `lowered` remembers the
 * pids already switched (kept across calls; pids that are gone are forgotten, since a pid is reused).
 * Returns the pids switched by this call. Linux only; a chrt that is missing or refuses leaves the
 * process as it was, and it is tried again on the next call.
 */
export function lowerChildProcesses(processes: readonly AppProcess[], lowered: Set<number>, chrt: ChrtRunner = runChrt, platform: NodeJS.Platform = process.platform): number[] {
  if (platform !== 'linux') return [];
  const present = new Set(processes.map((child) => child.pid));
  for (const pid of lowered) if (!present.has(pid)) lowered.delete(pid);
  const switched: number[] = [];
  for (const child of processes) {
    if (child.type === 'Browser' || child.pid === process.pid || lowered.has(child.pid)) continue;
    if (chrt(['--batch', '--all-tasks', '--pid', '0', String(child.pid)])) {
      lowered.add(child.pid);
      switched.push(child.pid);
    }
  }
  return switched;
}
