// The main-thread bench's reading of a Chromium trace: the page's main thread is the busiest
// CrRendererMain, its top-level tasks give wall and CPU time, and the comparison worker's CPU is
// counted from the dedicated workers of that page's process only. Plain Node, a made-up trace.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mainThreadBenchOptions, mainThreadTasks } from '../../../scripts/bench-main-thread';

const thread = (pid: number, tid: number, name: string) => ({ ph: 'M', name: 'thread_name', pid, tid, ts: 0, args: { name } });
const task = (pid: number, tid: number, durUs: number, tdurUs: number, name = 'RunTask') => ({ ph: 'X', name, pid, tid, ts: 0, dur: durUs, tdur: tdurUs });

describe('the main-thread bench: tasks in a trace', { timeout: 5000 }, () => {
  it("takes the busiest renderer's main thread, and the workers of that process only", () => {
    const trace = {
      traceEvents: [
        thread(10, 1, 'CrRendererMain'),
        thread(10, 2, 'DedicatedWorker thread'),
        thread(20, 1, 'CrRendererMain'),
        thread(20, 3, 'DedicatedWorker thread'),
        // The page under test (pid 10): 12 ms and 20 ms of tasks, 5 and 9 ms of them on a core.
        task(10, 1, 12_000, 5_000),
        task(10, 1, 20_000, 9_000),
        // A nested event of the same task is not a task.
        task(10, 1, 11_000, 4_000, 'ThreadControllerImpl::RunTask'),
        // Its comparison worker: 3 + 4 ms of CPU.
        task(10, 2, 6_000, 3_000),
        task(10, 2, 7_000, 4_000),
        // Another, idler renderer and its worker: not counted.
        task(20, 1, 1_000, 1_000),
        task(20, 3, 50_000, 50_000),
      ],
    };
    const tasks = mainThreadTasks(JSON.stringify(trace));
    assert.deepEqual(tasks.durationsMs, [12, 20]);
    assert.equal(tasks.cpuMs, 14);
    assert.equal(tasks.longestCpuMs, 9);
    assert.equal(tasks.workerCpuMs, 7);
  });

  it('gives no worker time when the page has no worker (comparison off), and reads a bare event list', () => {
    const tasks = mainThreadTasks(JSON.stringify([thread(10, 1, 'CrRendererMain'), task(10, 1, 2_000, 1_000)]));
    assert.deepEqual(tasks.durationsMs, [2]);
    assert.equal(tasks.workerCpuMs, 0);
  });
});

describe('the main-thread bench: options', { timeout: 5000 }, () => {
  it('streams the same screen and a changing one by default, or the one asked for; refuses others', () => {
    assert.equal(mainThreadBenchOptions({}).streams, undefined, 'the default: both, chosen by the section');
    assert.deepEqual(mainThreadBenchOptions({ stream: 'changing' }).streams, ['changing']);
    assert.deepEqual(mainThreadBenchOptions({ stream: 'same' }).streams, ['same']);
    assert.deepEqual(mainThreadBenchOptions({ stream: 'both' }).streams, ['same', 'changing']);
    assert.throws(() => mainThreadBenchOptions({ stream: 'video' }), /--stream is same, changing or both/);
    assert.deepEqual(mainThreadBenchOptions({ replicas: '3,8', 'stream-seconds': '5' }), { replicaCounts: [3, 8], seconds: 5 });
  });
});
