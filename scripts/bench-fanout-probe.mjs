// Bench-only instrumentation of the back end's input write loop, loaded into `retrovisor serve` with
// `node --import` by scripts/bench-fanout.ts (never by RetroVisor itself). Every socket write to one of
// the replica ports in RETROVISOR_BENCH_PROBE_PORTS is timed with hrtime; the writes of one frame (the
// input channel writes each target stream once per frame, in one synchronous loop) form a group. At
// exit RETROVISOR_BENCH_PROBE_OUT receives, per group of 2 or more writes, [spreadNs, loopNs, writes,
// involuntary context switches of the process during the loop, 1 if a GC ran inside it else 0]:
// spread = last write's return − first write's return (how far apart the sockets got their bytes),
// loop = last return − first call. Runs in Node.

import { writeFileSync } from 'node:fs';
import net from 'node:net';
import { PerformanceObserver, performance } from 'node:perf_hooks';

const outPath = process.env.RETROVISOR_BENCH_PROBE_OUT;
const ports = new Set((process.env.RETROVISOR_BENCH_PROBE_PORTS ?? '').split(',').filter(Boolean).map(Number));

if (outPath !== undefined && ports.size > 0) {
  const originalWrite = net.Socket.prototype.write;
  /** [spreadNs, loopNs, writes, involuntarySwitches, startMs, endMs] per group. */
  const loops = [];
  /** [startMs, endMs] of every garbage collection (performance.now() time). */
  const collections = [];
  const gcObserver = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) collections.push([entry.startTime, entry.startTime + entry.duration]);
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  /** The group being timed: sockets written so far, first call, first and last return. */
  let group = null;

  const closeGroup = () => {
    if (group !== null && group.sockets.size >= 2) {
      const switches = process.resourceUsage().involuntaryContextSwitches - group.switchesBefore;
      loops.push([Number(group.lastEnd - group.firstEnd), Number(group.lastEnd - group.start), group.sockets.size, switches, group.startMs, performance.now()]);
    }
    group = null;
  };

  net.Socket.prototype.write = function timedWrite(...args) {
    if (!ports.has(this.remotePort)) return originalWrite.apply(this, args);
    // A socket written twice starts the next frame's loop (two frames parsed from one chunk run back to back).
    if (group !== null && group.sockets.has(this)) closeGroup();
    if (group === null) {
      // Read before the timed region starts (getrusage is a system call of its own).
      group = { sockets: new Set(), switchesBefore: process.resourceUsage().involuntaryContextSwitches, startMs: performance.now(), start: 0n, firstEnd: 0n, lastEnd: 0n };
      queueMicrotask(closeGroup);
    }
    const start = process.hrtime.bigint();
    const result = originalWrite.apply(this, args);
    const end = process.hrtime.bigint();
    if (group.sockets.size === 0) {
      group.start = start;
      group.firstEnd = end;
    }
    group.sockets.add(this);
    group.lastEnd = end;
    return result;
  };

  process.on('exit', () => {
    closeGroup();
    for (const entry of gcObserver.takeRecords()) collections.push([entry.startTime, entry.startTime + entry.duration]);
    gcObserver.disconnect();
    const report = loops.map(([spreadNs, loopNs, writes, switches, startMs, endMs]) => {
      const collected = collections.some(([gcStart, gcEnd]) => gcStart < endMs && gcEnd > startMs);
      return [spreadNs, loopNs, writes, switches, collected ? 1 : 0];
    });
    writeFileSync(outPath, JSON.stringify(report));
  });
}
