// The main-thread bench's reading of a Chromium trace: the page's main thread is the busiest
// CrRendererMain, its top-level tasks give wall and CPU time, and the comparison worker's CPU is
// counted from the dedicated workers of that page's process only. Plain Node, a made-up trace.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mainThreadBenchOptions, mainThreadTasks } from '../../../scripts/bench-main-thread';
import { median } from '../../../scripts/bench-stats';

const thread = (pid: number, tid: number, name: string) => ({ ph: 'M', name: 'thread_name', pid, tid, ts: 0, args: { name } });
const task = (pid: number, tid: number, durUs: number, tdurUs: number, name = 'RunTask') => ({ ph: 'X', name, pid, tid, ts: 0, dur: durUs, tdur: tdurUs });
const call = (pid: number, tid: number, durUs: number, tdurUs: number, functionName: string) => ({ ...task(pid, tid, durUs, tdurUs, 'FunctionCall'), args: { data: { functionName } } });

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
    assert.equal(tasks.reportsMs, 0);
  });

  it("counts the page's time in the comparison worker's reports: that handler, on that thread", () => {
    const trace = [
      thread(10, 1, 'CrRendererMain'),
      thread(20, 1, 'CrRendererMain'),
      task(10, 1, 30_000, 20_000),
      // Two reports handled (0.5 + 0.25 ms, 0.4 + 0.2 ms of CPU), and noVNC's decoding, not a report.
      call(10, 1, 500, 400, 'worker.onmessage'),
      call(10, 1, 250, 200, 'worker.onmessage'),
      call(10, 1, 9_000, 8_000, 'socket.onmessage'),
      // Another renderer's reports: not this page's.
      task(20, 1, 1_000, 1_000),
      call(20, 1, 700, 700, 'worker.onmessage'),
    ];
    const tasks = mainThreadTasks(JSON.stringify(trace));
    assert.equal(tasks.reportsMs, 0.75);
    assert.ok(Math.abs(tasks.reportsCpuMs - 0.6) < 1e-9, String(tasks.reportsCpuMs));
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

  it('takes a number of rounds, and refuses anything but a whole number ≥ 1', () => {
    assert.equal(mainThreadBenchOptions({}).rounds, undefined, 'the default, chosen by the section');
    assert.equal(mainThreadBenchOptions({ 'stream-rounds': '6' }).rounds, 6);
    for (const bad of ['0', '2.5', 'many', '-1']) assert.throws(() => mainThreadBenchOptions({ 'stream-rounds': bad }), /--stream-rounds takes a whole number ≥ 1/);
  });
});

describe('the benches: rounds summed up', { timeout: 5000 }, () => {
  it('by their median: the middle one, or the mean of the middle two; NaN for none', () => {
    assert.equal(median([1.3, 0.9, 1.05]), 1.05);
    assert.equal(median([1.2, 1, 2, 1.1]), 1.15);
    assert.equal(median([4]), 4);
    assert.ok(Number.isNaN(median([])));
  });
});
