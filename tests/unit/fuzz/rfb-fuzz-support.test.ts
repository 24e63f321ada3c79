// The stream fuzzer's own parts, in plain Node: the committed recordings read and map to their end,
// each case is reproducible from (recording, seed, index) and actually mutated, and the replaying
// server gives a client that answers like RetroVisor's the recorded stream byte for byte.

import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../../e2e/support/app';
import { makeFuzzCase, seededRandom } from '../../fuzz/rfb-mutators';
import { decodeRecording, encodeRecording, readRecording, replayPlan, serverBytes, type ReplayPlan } from '../../fuzz/rfb-recording';
import { startReplayServer } from '../../fuzz/replay-server';
import { mapServerStream } from '../../fuzz/rfb-stream-map';

const RECORDINGS = ['xvnc', 'qemu', 'demo'] as const;
const fixture = (name: string): string => join(REPO_ROOT, 'tests', 'fixtures', 'rfb', `${name}.rfb.gz`);

function planBytes(plan: ReplayPlan): Buffer {
  return Buffer.concat(plan.chunks.map((chunk) => chunk.bytes));
}

describe('recorded RFB streams', { timeout: 20_000 }, () => {
  for (const name of RECORDINGS) {
    it(`${name}: reads back, maps from the handshake to its last byte, and replays as recorded`, () => {
      const recording = readRecording(fixture(name));
      assert.equal(recording.header.source, name);
      const bytes = serverBytes(recording);
      const map = mapServerStream(bytes);
      assert.notEqual(map.handshakeEnd, null, 'the handshake is complete');
      assert.equal(map.mappedEnd, bytes.length, 'every recorded message is understood (so fields can be found in all of it)');
      assert.ok(map.fields.some((field) => field.kind === 'rectangle-count'));
      assert.deepEqual(planBytes(replayPlan(recording)), Buffer.from(bytes));
      assert.deepEqual(decodeRecording(encodeRecording(recording)), recording);
    });
  }

  it('waits for the client through the handshake and its first requests only', () => {
    const plan = replayPlan(readRecording(fixture('xvnc')));
    const gates = plan.chunks.map((chunk) => chunk.afterClientBytes);
    // Version first, security types after the client's 12-byte version, then one byte at a time.
    assert.deepEqual(gates.slice(0, 4), [0, 12, 13, 14]);
    assert.ok(gates.every((gate) => gate <= (gates[4] ?? 0)), 'no gate after the first update');
  });
});

describe('fuzz cases', { timeout: 30_000 }, () => {
  it('are the same for the same recording, seed and index, and differ from one index to the next', () => {
    const plan = replayPlan(readRecording(fixture('qemu')));
    const distinct = new Set<string>();
    for (let index = 0; index < 50; index++) {
      const first = makeFuzzCase('qemu', plan, 7, index);
      assert.deepEqual(makeFuzzCase('qemu', plan, 7, index), first);
      assert.equal(first.id, `qemu/7/${index}`);
      distinct.add(first.plan.chunks.map((chunk) => `${chunk.afterClientBytes}:${Buffer.from(chunk.bytes).toString('hex')}`).join('|'));
    }
    // Two cases may happen to agree (e.g. both truncated to nothing), not many.
    assert.ok(distinct.size >= 45, `only ${distinct.size} distinct cases of 50`);
    assert.notDeepEqual(makeFuzzCase('qemu', plan, 8, 0), makeFuzzCase('qemu', plan, 7, 0));
  });

  it('change the bytes or how they are cut into writes, every time', () => {
    for (const name of RECORDINGS) {
      const plan = replayPlan(readRecording(fixture(name)));
      const original = planBytes(plan);
      const writes = plan.chunks.map((chunk) => chunk.bytes.length).join(',');
      for (let index = 0; index < 200; index++) {
        const fuzzCase = makeFuzzCase(name, plan, 1, index);
        const changed = !planBytes(fuzzCase.plan).equals(original) || fuzzCase.plan.chunks.map((chunk) => chunk.bytes.length).join(',') !== writes;
        assert.ok(changed, `case ${fuzzCase.id} (${fuzzCase.mutations.join('; ')}) is the unmutated recording`);
        assert.ok(fuzzCase.mutations.length >= 1);
      }
    }
  });

  it('use every kind of mutation over a few hundred cases', () => {
    const plan = replayPlan(readRecording(fixture('xvnc')));
    const seen = new Set<string>();
    for (let index = 0; index < 300; index++) {
      for (const mutation of makeFuzzCase('xvnc', plan, 3, index).mutations) seen.add(mutation.split(' ')[0] ?? '');
    }
    // Field mutations start with the field's kind (rectangle-count, zrle-length, rect-encoding, ...).
    const fieldKinds = [...seen].filter((word) => word.includes('-'));
    assert.ok(fieldKinds.includes('rect-encoding') && fieldKinds.length >= 5, `few field mutations: ${fieldKinds.join(', ')}`);
    for (const kind of ['flip', 'byte', 'truncate', 'copy', 'insert', 'overwrite', 'delete', 'split']) assert.ok(seen.has(kind), `no "${kind}" mutation in 300 cases (saw ${[...seen].join(', ')})`);
  });

  it('draw from a seeded generator (the same seed, the same numbers)', () => {
    const left = seededRandom(42);
    const right = seededRandom(42);
    const values = Array.from({ length: 100 }, () => left());
    assert.deepEqual(Array.from({ length: 100 }, () => right()), values);
    assert.ok(values.every((value) => value >= 0 && value < 1));
  });
});

describe('the replaying server', { timeout: 20_000 }, () => {
  it('sends a client that answers as the recorded client did the whole stream, then closes', async () => {
    const recording = readRecording(fixture('demo'));
    const plan = replayPlan(recording);
    const server = await startReplayServer(() => null, plan);
    try {
      const received: Buffer[] = [];
      const clientChunks = recording.chunks.filter((chunk) => chunk.from === 'client').map((chunk) => chunk.bytes);
      await new Promise<void>((resolve, reject) => {
        const socket = connect(server.port, '127.0.0.1');
        let total = 0;
        let answered = 0;
        const sent = (): number => clientChunks.slice(0, answered).reduce((sum, chunk) => sum + chunk.length, 0);
        socket.on('data', (bytes: Buffer) => {
          received.push(bytes);
          total += bytes.length;
          // Once everything sendable so far has come, answer with the recorded client's next bytes, as RetroVisor's client would.
          while (answered < clientChunks.length && plan.chunks.some((chunk) => chunk.afterClientBytes > sent()) && total >= bytesBefore(plan, sent())) {
            socket.write(clientChunks[answered++] as Uint8Array);
          }
        });
        socket.on('end', () => {
          socket.end();
          resolve();
        });
        socket.on('error', reject);
      });
      assert.deepEqual(Buffer.concat(received), Buffer.from(serverBytes(recording)));
      await server.finished(0);
      assert.equal(server.connections(), 1);
    } finally {
      await server.stop();
    }
  });
});

/** Server bytes the plan sends before its first write that waits for more than `clientBytes`. */
function bytesBefore(plan: ReplayPlan, clientBytes: number): number {
  let total = 0;
  for (const chunk of plan.chunks) {
    if (chunk.afterClientBytes > clientBytes) break;
    total += chunk.bytes.length;
  }
  return total;
}
