// Chromium's own account of its memory (memory-infra): one dump of every process, requested through
// the browser's DevTools protocol, read back as the per-allocator sizes Chromium reports (malloc,
// partition_alloc, v8, skia, cc, canvas, gpu, shared memory…). The memory benchmark prints it once a
// minute when RETROVISOR_BENCH_MEMORY_DUMPS is set, to tell which of Chromium's allocators grows.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, CDPSession } from 'playwright-core';

/** One process's allocators: the dump's path (`malloc`, `partition_alloc/partitions/buffer`…) → bytes. */
export interface ProcessAllocators {
  readonly pid: number;
  readonly label: string;
  readonly bytesByDump: ReadonlyMap<string, number>;
}

interface TraceEvent {
  readonly ph?: string;
  readonly pid?: number;
  readonly name?: string;
  readonly args?: {
    readonly name?: string;
    readonly labels?: string;
    readonly dumps?: { readonly allocators?: Record<string, { readonly attrs?: Record<string, { readonly value?: string; readonly units?: string }> }> };
  };
}

/** Takes one detailed memory dump of every Chromium process; `saveTo` keeps the raw trace there. */
export async function dumpChromiumMemory(browser: Browser, saveTo?: string): Promise<ProcessAllocators[]> {
  const session = await browser.newBrowserCDPSession();
  try {
    const complete = new Promise<{ stream?: string }>((resolve) => session.once('Tracing.tracingComplete', resolve));
    await session.send('Tracing.start', {
      transferMode: 'ReturnAsStream',
      traceConfig: { includedCategories: ['disabled-by-default-memory-infra'], excludedCategories: ['*'], memoryDumpConfig: { triggers: [] } },
    } as never);
    const dumped = await session.send('Tracing.requestMemoryDump', { deterministic: false, levelOfDetail: 'detailed' } as never);
    await session.send('Tracing.end');
    const { stream } = await complete;
    if (stream === undefined) throw new Error('Chromium returned no trace stream');
    const text = await readStream(session, stream);
    if (saveTo !== undefined) writeFileSync(saveTo, text);
    if (!(dumped as { success?: boolean }).success) throw new Error('Chromium did not complete the memory dump');
    return parseDump(JSON.parse(text) as { traceEvents?: TraceEvent[] } | TraceEvent[]);
  } finally {
    await session.detach().catch(() => undefined);
  }
}

async function readStream(session: CDPSession, handle: string): Promise<string> {
  const parts: string[] = [];
  for (;;) {
    const chunk = await session.send('IO.read', { handle, size: 1 << 20 });
    parts.push(chunk.base64Encoded ? Buffer.from(chunk.data, 'base64').toString('utf8') : chunk.data);
    if (chunk.eof) break;
  }
  await session.send('IO.close', { handle });
  return parts.join('');
}

/** The allocator sizes of every process in a memory-infra trace (the last dump of each process). */
export function parseDump(trace: { traceEvents?: TraceEvent[] } | TraceEvent[]): ProcessAllocators[] {
  const events = Array.isArray(trace) ? trace : (trace.traceEvents ?? []);
  const labels = new Map<number, string>();
  for (const event of events) {
    if (event.ph === 'M' && event.pid !== undefined && event.name === 'process_name' && event.args?.name !== undefined) labels.set(event.pid, event.args.name);
    if (event.ph === 'M' && event.pid !== undefined && event.name === 'process_labels' && event.args?.labels !== undefined) {
      labels.set(event.pid, `${labels.get(event.pid) ?? ''} (${event.args.labels})`);
    }
  }
  const byPid = new Map<number, Map<string, number>>();
  for (const event of events) {
    const allocators = event.ph === 'v' ? event.args?.dumps?.allocators : undefined;
    if (allocators === undefined || event.pid === undefined) continue;
    const sizes = new Map<string, number>();
    for (const [path, dump] of Object.entries(allocators)) {
      const size = dump.attrs?.['size'];
      if (size?.value !== undefined && size.units === 'bytes') sizes.set(path, Number.parseInt(size.value, 16));
    }
    byPid.set(event.pid, sizes);
  }
  return [...byPid].map(([pid, bytesByDump]) => ({ pid, label: labels.get(pid) ?? 'unknown', bytesByDump }));
}

/**
 * The dumps of one process at most `depth` levels deep (`skia/sk_glyph_cache` is 2) and at least
 * `minBytes`, largest first, as "path size" text; `before` adds each one's change since then.
 */
export function describeAllocators(process: ProcessAllocators, options: { depth?: number; minBytes?: number; before?: ProcessAllocators } = {}): string {
  const depth = options.depth ?? 2;
  const minBytes = options.minBytes ?? 1 << 20;
  const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)}`;
  return [...process.bytesByDump]
    .filter(([path, bytes]) => path.split('/').length <= depth && bytes >= minBytes && !path.includes('0x'))
    .sort((a, b) => b[1] - a[1])
    .map(([path, bytes]) => {
      const was = options.before?.bytesByDump.get(path);
      return `${path} ${mib(bytes)}${was === undefined ? '' : ` (${bytes >= was ? '+' : ''}${mib(bytes - was)})`}`;
    })
    .join(', ');
}

/** Where a dump is saved when RETROVISOR_BENCH_TRACE_DIR names a folder. */
export function dumpPath(traceDir: string | undefined, name: string): string | undefined {
  return traceDir === undefined || traceDir === '' ? undefined : join(traceDir, name);
}
