// The memory bench's reading of Chromium's memory-infra dumps: allocator sizes per process (hex
// strings in the trace), process names and labels from metadata events, and the printed summary
// with each allocator's change since an earlier dump. Plain Node, a hand-written trace.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeAllocators, parseDump } from '../../../scripts/memory-dump';

const MIB = 2 ** 20;
const size = (bytes: number): { attrs: { size: { type: string; units: string; value: string } } } => ({ attrs: { size: { type: 'scalar', units: 'bytes', value: bytes.toString(16) } } });

function trace(arrayBufferMiB: number): unknown {
  return {
    traceEvents: [
      { ph: 'M', pid: 7, name: 'process_name', args: { name: 'Renderer' } },
      { ph: 'M', pid: 7, name: 'process_labels', args: { labels: 'RetroVisor' } },
      { ph: 'M', pid: 3, name: 'process_name', args: { name: 'Browser' } },
      {
        ph: 'v',
        pid: 7,
        args: {
          dumps: {
            allocators: {
              malloc: size(300 * MIB),
              'partition_alloc/partitions/array_buffer': size(arrayBufferMiB * MIB),
              'partition_alloc/partitions/array_buffer/buckets/directMap_1': size(3 * MIB),
              'v8/0x1234': size(5 * MIB),
              tiny: size(1000),
              unsized: { attrs: { object_count: { type: 'scalar', units: 'objects', value: 'a' } } },
            },
          },
        },
      },
      { ph: 'v', pid: 3, args: { dumps: { allocators: { malloc: size(2 * MIB) } } } },
      { ph: 'X', pid: 7, name: 'RunTask' },
    ],
  };
}

describe('the memory bench: Chromium memory dumps', { timeout: 5000 }, () => {
  it('reads each process\'s allocator sizes and names', () => {
    const dumps = parseDump(trace(16) as never);
    const renderer = dumps.find((dump) => dump.pid === 7)!;
    assert.equal(renderer.label, 'Renderer (RetroVisor)');
    assert.equal(renderer.bytesByDump.get('malloc'), 300 * MIB);
    assert.equal(renderer.bytesByDump.get('partition_alloc/partitions/array_buffer'), 16 * MIB);
    assert.equal(renderer.bytesByDump.has('unsized'), false);
    assert.equal(dumps.find((dump) => dump.pid === 3)!.label, 'Browser');
  });

  it('prints the large ones down to a depth, largest first, with their change', () => {
    const before = parseDump(trace(16) as never).find((dump) => dump.pid === 7)!;
    const now = parseDump(trace(70) as never).find((dump) => dump.pid === 7)!;
    assert.equal(describeAllocators(now, { depth: 3, before }), 'malloc 300.0 (+0.0), partition_alloc/partitions/array_buffer 70.0 (+54.0)');
    assert.equal(describeAllocators(now, { depth: 6 }), 'malloc 300.0, partition_alloc/partitions/array_buffer 70.0, partition_alloc/partitions/array_buffer/buckets/directMap_1 3.0');
  });
});
