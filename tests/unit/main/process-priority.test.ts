// Chromium launched to yield to the back end: the launch runs with the main thread under SCHED_BATCH
// (inherited by what it spawns) and the thread returns to SCHED_OTHER afterwards — checked on real
// processes through /proc, and the fallbacks with a fake chrt. The Electron shell's child processes
// (from app.getAppMetrics) are switched after they start, every thread, the main process never.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { launchYieldingToBackend, lowerChildProcesses } from '../../../main/process-priority';

/** The scheduling policy of a process or thread (field 41 of /proc/PID/stat): 0 SCHED_OTHER, 3 SCHED_BATCH. */
function policyOf(statPath: string): number {
  const stat = readFileSync(statPath, 'utf8');
  // The command name (field 2) may hold spaces: count the fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[41 - 3]);
}

describe('launchYieldingToBackend', { timeout: 60_000 }, () => {
  it('gives what it spawns SCHED_BATCH and leaves this thread on SCHED_OTHER', async () => {
    assert.equal(policyOf(`/proc/${process.pid}/task/${process.pid}/stat`), 0, 'the test starts on SCHED_OTHER');
    let seenDuringLaunch = -1;
    const child = await launchYieldingToBackend(() => {
      seenDuringLaunch = policyOf(`/proc/${process.pid}/task/${process.pid}/stat`);
      return spawn('sleep', ['5'], { stdio: 'ignore' });
    });
    try {
      assert.equal(seenDuringLaunch, 3, 'the launching thread is under SCHED_BATCH while it spawns (chrt is util-linux: apt-get install -y util-linux)');
      assert.equal(policyOf(`/proc/${child.pid}/stat`), 3, 'the spawned process inherited SCHED_BATCH');
      assert.equal(policyOf(`/proc/${process.pid}/task/${process.pid}/stat`), 0, 'this thread is back on SCHED_OTHER');
    } finally {
      child.kill();
    }
  });

  it('puts the thread back even when the launch fails', async () => {
    const calls: string[][] = [];
    const chrt = (args: readonly string[]): boolean => {
      calls.push([...args]);
      return true;
    };
    await assert.rejects(
      launchYieldingToBackend(() => Promise.reject(new Error('no browser')), chrt, 'linux'),
      /no browser/,
    );
    assert.deepEqual(calls.map((args) => args[0]), ['--batch', '--other']);
  });

  it('launches as before where chrt refuses or the platform is not Linux', async () => {
    const calls: string[][] = [];
    const refusing = (args: readonly string[]): boolean => {
      calls.push([...args]);
      return false;
    };
    assert.equal(await launchYieldingToBackend(() => 'launched', refusing, 'linux'), 'launched');
    assert.deepEqual(calls.map((args) => args[0]), ['--batch'], 'nothing to put back when the switch was refused');
    calls.length = 0;
    assert.equal(await launchYieldingToBackend(() => 'launched', refusing, 'darwin'), 'launched');
    assert.deepEqual(calls, []);
  });
});

describe('lowerChildProcesses', { timeout: 60_000 }, () => {
  it('puts every thread of a running child under SCHED_BATCH and leaves the main process alone', async () => {
    // A child with several threads, as a renderer has: Node runs its V8 platform threads; it says
    // when it is up (its threads exist by then).
    const child = spawn(process.execPath, ['-e', 'process.stdout.write("up\\n"); setInterval(() => {}, 1000)'], { stdio: ['ignore', 'pipe', 'ignore'] });
    await new Promise<void>((resolveUp) => child.stdout.once('data', () => resolveUp()));
    try {
      const pid = child.pid!;
      const lowered = new Set<number>();
      const switched = lowerChildProcesses(
        [
          { pid: process.pid, type: 'Browser' },
          { pid, type: 'Tab' },
        ],
        lowered,
      );
      assert.deepEqual(switched, [pid], 'chrt is util-linux: apt-get install -y util-linux');
      const threads = readdirSync(`/proc/${pid}/task`);
      assert.ok(threads.length > 1, 'the child has several threads');
      for (const thread of threads) assert.equal(policyOf(`/proc/${pid}/task/${thread}/stat`), 3, `thread ${thread} is under SCHED_BATCH`);
      assert.equal(policyOf(`/proc/${process.pid}/task/${process.pid}/stat`), 0, 'the main process (the back end) keeps SCHED_OTHER');
    } finally {
      child.kill();
    }
  });

  it('switches each pid once, forgets pids that are gone, and retries one chrt refused', () => {
    const calls: string[] = [];
    let refuse = true;
    const chrt = (args: readonly string[]): boolean => {
      calls.push(args.at(-1)!);
      return !refuse;
    };
    const lowered = new Set<number>();
    const metrics = [
      { pid: 100, type: 'Browser' },
      { pid: 101, type: 'Tab' },
      { pid: 102, type: 'GPU' },
    ];
    assert.deepEqual(lowerChildProcesses(metrics, lowered, chrt, 'linux'), []);
    refuse = false;
    assert.deepEqual(lowerChildProcesses(metrics, lowered, chrt, 'linux'), [101, 102], 'refused ones are tried again');
    assert.deepEqual(lowerChildProcesses(metrics, lowered, chrt, 'linux'), [], 'not switched twice');
    assert.deepEqual(lowerChildProcesses([{ pid: 100, type: 'Browser' }], lowered, chrt, 'linux'), []);
    assert.deepEqual([...lowered], [], 'gone pids are forgotten (a pid is reused)');
    assert.ok(!calls.includes('100'), 'the main process is never switched');
    assert.deepEqual(lowerChildProcesses(metrics, lowered, chrt, 'darwin'), []);
  });
});
