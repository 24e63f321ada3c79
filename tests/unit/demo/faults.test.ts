// Tests of fault injection: the CLI form parser, the fault state, and each fault's effect on a
// running demo lab seen through real RFB clients. Runs in Node.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startDemoLab, type DemoLab } from '../../../main/demo/demo-lab';
import { FaultSpecError, FaultState, formatFaultSpec, parseFaultSpec, type ReplicaFault } from '../../../main/demo/faults';
import {
  assertSamePixels,
  diffBounds,
  ENC,
  NOVNC_PIXEL_FORMAT,
  rectInside,
  RfbTestClient,
  tryConnect,
} from './rfb-test-client';

describe('fault specs', { timeout: 10_000 }, () => {
  it('parses every CLI form', () => {
    const cases: [string, ReplicaFault][] = [
      ['r2:lag=200', { replicaId: 'r2', fault: { kind: 'lag', minMs: 200, maxMs: 200 } }],
      ['r2:lag=0-300', { replicaId: 'r2', fault: { kind: 'lag', minMs: 0, maxMs: 300 } }],
      ['r2:drop-key=5', { replicaId: 'r2', fault: { kind: 'drop-key', every: 5 } }],
      ['r1:inject=text', { replicaId: 'r1', fault: { kind: 'inject', text: 'text' } }],
      ['r1:inject=ls -l\\n', { replicaId: 'r1', fault: { kind: 'inject', text: 'ls -l\n' } }],
      ['r3:inject=a=b:c', { replicaId: 'r3', fault: { kind: 'inject', text: 'a=b:c' } }],
      ['r2:banner=HACKED', { replicaId: 'r2', fault: { kind: 'banner', text: 'HACKED' } }],
      ['r2:freeze', { replicaId: 'r2', fault: { kind: 'freeze' } }],
      ['r8:crash', { replicaId: 'r8', fault: { kind: 'crash' } }],
    ];
    for (const [spec, expected] of cases) {
      assert.deepEqual(parseFaultSpec(spec), expected, spec);
      assert.deepEqual(parseFaultSpec(formatFaultSpec(expected)), expected, `round trip of ${spec}`);
    }
  });

  it('explains what is wrong with a bad spec', () => {
    const cases: [string, RegExp][] = [
      ['lag=200', /expected REPLICA:FAULT/],
      ['x2:lag=200', /not a replica id/],
      ['r2:slow=1', /unknown fault "slow".*lag, drop-key/],
      ['r2:lag', /lag needs a value/],
      ['r2:lag=abc', /milliseconds/],
      ['r2:lag=300-100', /backwards/],
      ['r2:lag=1-2-3', /N or A-B/],
      ['r2:lag=999999', /over the 60000 ms limit/],
      ['r2:drop-key=0', /k >= 1/],
      ['r2:drop-key=2.5', /whole number/],
      ['r2:inject=', /inject needs a value/],
      ['r2:freeze=1', /takes no value/],
      ['r2:crash=now', /takes no value/],
    ];
    for (const [spec, pattern] of cases) {
      assert.throws(() => parseFaultSpec(spec), (error: unknown) => error instanceof FaultSpecError && pattern.test(error.message), spec);
    }
  });
});

describe('fault state', { timeout: 10_000 }, () => {
  it('drops every k-th key press together with its release', () => {
    const state = new FaultState();
    state.apply({ kind: 'drop-key', every: 3 });
    const admitted: string[] = [];
    for (const char of 'abcdefg') {
      const keysym = char.charCodeAt(0);
      if (state.admitKey(keysym, true)) admitted.push(`+${char}`);
      if (state.admitKey(keysym, false)) admitted.push(`-${char}`);
    }
    assert.deepEqual(admitted.join(' '), '+a -a +b -b +d -d +e -e +g -g');
    state.clear();
    assert.equal(state.admitKey(0x63, true), true);
  });

  it('draws a random lag uniformly from the range with the random source given', () => {
    const values = [0, 0.5, 0.999];
    const state = new FaultState(() => values.shift() ?? 0);
    state.apply({ kind: 'lag', minMs: 100, maxMs: 300 });
    assert.deepEqual([state.nextDelayMs(), state.nextDelayMs(), state.nextDelayMs()], [100, 200, 300]);
    assert.deepEqual(state.active(), [{ kind: 'lag', minMs: 100, maxMs: 300 }]);
  });
});

describe('faults in a running lab', { timeout: 20_000 }, () => {
  let lab: DemoLab;
  const clients: RfbTestClient[] = [];

  before(async () => {
    lab = await startDemoLab({ replicas: 3, size: { width: 480, height: 360 }, cursorBlinkMs: 0 });
  });
  after(async () => {
    for (const client of clients) client.close();
    await lab.stop();
  });

  async function connectAll(): Promise<RfbTestClient[]> {
    const connected: RfbTestClient[] = [];
    for (const replica of lab.replicas) {
      const client = await RfbTestClient.connect({ port: replica.port });
      client.setPixelFormat(NOVNC_PIXEL_FORMAT);
      client.setEncodings([ENC.Zrle, ENC.CopyRect]);
      await client.update(false);
      connected.push(client);
      clients.push(client);
    }
    return connected;
  }

  function pixels(replicaId: string): Uint8Array {
    const guest = lab.replica(replicaId).guest;
    assert.ok(guest, `${replicaId} is running`);
    return guest.pixels;
  }

  async function resetAll(): Promise<void> {
    for (const replica of lab.replicas) {
      lab.clearFaults(replica.id);
      await lab.l0.reset(replica.domain);
    }
  }

  it('lag delays that replica’s updates only', async () => {
    await resetAll();
    const [fast, slow] = await connectAll();
    assert.ok(fast && slow);
    await lab.setFault('r2', { kind: 'lag', minMs: 400, maxMs: 400 });
    for (const client of [fast, slow]) client.type('lag');
    // The behaviour, not a duration: the unlagged replica's update arrives first, the lagged one's
    // after it, and both show their guest's screen (the keys reached both guests at once).
    const arrivals: string[] = [];
    await Promise.all(
      [fast, slow].map(async (client, index) => {
        await client.update(true);
        arrivals.push(index === 0 ? 'r1' : 'r2');
      }),
    );
    assert.deepEqual(arrivals, ['r1', 'r2']);
    assertSamePixels(fast.fb, pixels('r1'), 480);
    assertSamePixels(slow.fb, pixels('r2'), 480);
  });

  it('drop-key drops every k-th key press on that replica only', async () => {
    await resetAll();
    const [first, second] = await connectAll();
    assert.ok(first && second);
    await lab.setFault('r2', { kind: 'drop-key', every: 2 });
    for (const client of [first, second]) {
      client.type('abcdef');
      await client.update(true);
    }
    assert.equal(lab.replica('r1').guest?.text.lines[1], 'abcdef');
    assert.equal(lab.replica('r2').guest?.text.lines[1], 'ace');
    assertSamePixels(second.fb, pixels('r2'), 480);
  });

  it('inject and banner change pixels on their replica only', async () => {
    await resetAll();
    const [r1, r2, r3] = await connectAll();
    assert.ok(r1 && r2 && r3);
    await lab.setFault('r2', { kind: 'inject', text: 'rm -rf /\n' });
    await lab.setFault('r3', { kind: 'banner', text: 'HACKED' });
    await Promise.all([r2.update(true), r3.update(true)]);
    assert.equal(lab.replica('r2').guest?.text.lines[1], 'rm -rf /');
    const injected = diffBounds(pixels('r1'), pixels('r2'), 480);
    const firstTwoRows = lab.replica('r1').guest?.cellRect(1, 0);
    assert.ok(injected && firstTwoRows && injected.y >= firstTwoRows.y && injected.y + injected.height <= firstTwoRows.y + 2 * firstTwoRows.height);
    const banner = diffBounds(pixels('r1'), pixels('r3'), 480);
    assert.ok(banner && banner.width > 6 * 8 && banner.height === 32, JSON.stringify(banner));
    assertSamePixels(r2.fb, pixels('r2'), 480);
    assertSamePixels(r3.fb, pixels('r3'), 480);
    assert.equal(Buffer.compare(Buffer.from(r1.fb), Buffer.from(pixels('r1'))), 0);
  });

  it('freeze stops updates until the fault is cleared', async () => {
    await resetAll();
    const [, frozen] = await connectAll();
    assert.ok(frozen);
    await lab.setFault('r2', { kind: 'freeze' });
    frozen.type('while frozen');
    frozen.requestUpdate(true);
    assert.equal(await frozen.hasDataWithin(300), false, 'a frozen replica sent an update');
    assert.equal(lab.replica('r2').guest?.text.lines[1], 'while frozen', 'input still reaches the guest');
    lab.clearFaults('r2');
    await frozen.readUpdate();
    assertSamePixels(frozen.fb, pixels('r2'), 480);
  });

  it('crash cuts the connections and refuses new ones until reset', async () => {
    await resetAll();
    const [, victim] = await connectAll();
    assert.ok(victim);
    const port = lab.replicas[1]?.port ?? 0;
    await lab.setFault('r2', { kind: 'crash' });
    assert.equal(await victim.closedWithin(2000), true);
    assert.equal(await tryConnect(port), 'ECONNREFUSED');
    assert.equal(await lab.l0.domainState('r2'), 'crashed');
    lab.clearFaults('r2');
    assert.equal(await tryConnect(port), 'ECONNREFUSED', 'clearing faults does not revive a crashed replica');
    await lab.l0.reset('r2');
    assert.equal(await lab.l0.domainState('r2'), 'running');
    const back = await RfbTestClient.connect({ port });
    clients.push(back);
    back.setEncodings([ENC.Raw]);
    await back.update(false);
    assertSamePixels(back.fb, pixels('r1'), 480, 'a reset replica shows the boot screen');
  });

  it('faults given at start are in force', async () => {
    const faulty = await startDemoLab({
      replicas: 2,
      size: { width: 320, height: 240 },
      cursorBlinkMs: 0,
      faults: [{ replicaId: 'r2', fault: { kind: 'banner', text: 'BOOT' } }],
    });
    try {
      const a = faulty.replica('r1').guest;
      const b = faulty.replica('r2').guest;
      assert.ok(a && b);
      const changed = diffBounds(a.pixels, b.pixels, 320);
      assert.ok(changed && rectInside(changed, { x: 0, y: 100, width: 320, height: 40 }), JSON.stringify(changed));
    } finally {
      await faulty.stop();
    }
    await assert.rejects(startDemoLab({ replicas: 2, faults: [{ replicaId: 'r5', fault: { kind: 'freeze' } }] }), FaultSpecError);
  });
});
