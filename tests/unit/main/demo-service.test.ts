// The back end's demo lab through the contract's handlers, in plain Node: start and reuse, restart
// with another replica count, each fault and L0 action reaching the right replica, errors that say
// what to do, --demo as the startup session, and the lab stopping with the back end.

import assert from 'node:assert/strict';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import type { DemoStatus, OpenResult, SessionInfo } from '../../../common/contract';
import { invokeHandler } from '../../../common/rpc';
import { createBackend, type Backend } from '../../../main/backend';
import { DEMO_PROFILE_NAME, DEMO_SESSION_SOURCE } from '../../../main/demo-service';
import { createLogger } from '../../../main/logger';

const logger = createLogger({ sink: () => undefined, level: 'debug' });
const backends: Backend[] = [];

after(async () => {
  await Promise.all(backends.map((backend) => backend.close()));
});

function newBackend(overrides: Partial<Parameters<typeof createBackend>[0]> = {}): Backend {
  const backend = createBackend({
    shell: 'browser',
    headless: false,
    version: '9.9.9',
    logger,
    demoLab: { size: { width: 320, height: 240 }, cursorBlinkMs: 0 },
    ...overrides,
  });
  backends.push(backend);
  return backend;
}

function opened(result: OpenResult): SessionInfo {
  assert.ok(result.ok, JSON.stringify(result));
  return result.session;
}

function replicaOf(status: DemoStatus, id: string): DemoStatus['replicas'][number] {
  const replica = status.replicas.find((candidate) => candidate.id === id);
  assert.ok(replica, `no ${id} in ${JSON.stringify(status)}`);
  return replica;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function portOf(endpoint: string): number {
  return Number(endpoint.split(':').at(-1));
}

describe('the back end\'s demo lab', { timeout: 30_000 }, () => {
  it('says no lab runs before one is started, and asks for one before any fault', async () => {
    const { handlers } = newBackend();
    assert.deepEqual(await handlers.getDemoStatus(), { running: false, sessionIds: [], replicas: [] });
    await assert.rejects(handlers.setDemoFault({ replicaId: 'r1', fault: 'freeze' }), /demo lab is not running: open it from the start screen/);
  });

  it('starts three replicas with a simulated L0 and opens them as a session; a second open reuses the lab', async () => {
    const backend = newBackend();
    const first = opened(await backend.handlers.startDemoLab({}));
    assert.equal(first.name, DEMO_PROFILE_NAME);
    assert.equal(first.source, DEMO_SESSION_SOURCE);
    assert.deepEqual(
      first.replicas.map((replica) => [replica.id, replica.label, replica.tunnel, replica.hasPassword]),
      [
        ['r1', 'Demo 1', false, false],
        ['r2', 'Demo 2', false, false],
        ['r3', 'Demo 3', false, false],
      ],
    );
    const status = await backend.handlers.getDemoStatus();
    assert.equal(status.running, true);
    assert.deepEqual(status.sessionIds, [first.sessionId]);
    assert.deepEqual(
      status.replicas.map((replica) => [replica.id, replica.domainState, replica.faults, replica.snapshots]),
      [
        ['r1', 'running', [], []],
        ['r2', 'running', [], []],
        ['r3', 'running', [], []],
      ],
    );
    assert.deepEqual(
      status.replicas.map((replica) => replica.endpoint),
      first.replicas.map((replica) => replica.endpoint),
    );
    for (const replica of status.replicas) assert.ok(await canConnect(portOf(replica.endpoint)), `${replica.id} listens`);

    const second = opened(await backend.handlers.startDemoLab({}));
    assert.notEqual(second.sessionId, first.sessionId, 'a new session (the UI closes the one it replaces)');
    assert.deepEqual(
      second.replicas.map((replica) => replica.endpoint),
      first.replicas.map((replica) => replica.endpoint),
      'the same lab',
    );
    await backend.handlers.closeSession({ sessionId: first.sessionId });
    assert.deepEqual((await backend.handlers.getDemoStatus()).sessionIds, [second.sessionId]);

    // A stream to a demo replica reaches its RFB server like any other replica's.
    const { streamId } = await backend.handlers.openReplicaStream({ sessionId: second.sessionId, replicaId: 'r2' });
    assert.match(streamId, /^[A-Za-z0-9_-]{32}$/);
  });

  it('restarts the lab when another replica count is asked for, closing the old sessions', async () => {
    const backend = newBackend();
    const three = opened(await backend.handlers.startDemoLab({}));
    const two = opened(await backend.handlers.startDemoLab({ replicas: 2 }));
    assert.deepEqual(
      two.replicas.map((replica) => replica.id),
      ['r1', 'r2'],
    );
    await assert.rejects(
      backend.handlers.openReplicaStream({ sessionId: three.sessionId, replicaId: 'r1' }),
      /session/,
      'the session of the old lab is gone',
    );
    const oldPort = portOf(three.replicas[2]?.endpoint ?? '');
    assert.equal(await canConnect(oldPort), false, 'the old lab\'s r3 is stopped');
    assert.equal((await backend.handlers.getDemoStatus()).replicas.length, 2);
  });

  it('sets, shows and clears lasting faults on the named replica only', async () => {
    const backend = newBackend();
    opened(await backend.handlers.startDemoLab({}));
    await backend.handlers.setDemoFault({ replicaId: 'r2', fault: 'lag=0-300' });
    await backend.handlers.setDemoFault({ replicaId: 'r2', fault: 'drop-key=5' });
    let status = await backend.handlers.setDemoFault({ replicaId: 'r2', fault: 'freeze' });
    assert.deepEqual(replicaOf(status, 'r2').faults, ['lag=0-300', 'drop-key=5', 'freeze']);
    assert.deepEqual(replicaOf(status, 'r1').faults, []);
    assert.deepEqual(replicaOf(status, 'r3').faults, []);
    status = await backend.handlers.setDemoFault({ replicaId: 'r2', fault: 'lag=0' });
    assert.deepEqual(replicaOf(status, 'r2').faults, ['drop-key=5', 'freeze'], 'lag=0 removes the lag');
    status = await backend.handlers.clearDemoFaults({ replicaId: 'r2' });
    assert.deepEqual(replicaOf(status, 'r2').faults, []);
  });

  it('paints a banner and types injected text on the named replica\'s guest only', async () => {
    const backend = newBackend();
    opened(await backend.handlers.startDemoLab({}));
    const lab = backend.demo.lab;
    assert.ok(lab);
    const before = lab.replica('r1').guest?.pixels.slice();
    await backend.handlers.setDemoFault({ replicaId: 'r2', fault: 'banner=HACKED' });
    await backend.handlers.setDemoFault({ replicaId: 'r3', fault: 'inject=echo hi\\n' });
    assert.deepEqual(lab.replica('r1').guest?.pixels, before, 'r1 untouched');
    // Inside the 32-pixel banner box centred on the 320x240 screen, above its text.
    const inBanner = 4 * (106 * 320 + 160);
    assert.deepEqual([...(lab.replica('r2').guest?.pixels.subarray(inBanner, inBanner + 3) ?? [])], [0xc0, 0x18, 0x18], 'the banner is red');
    assert.deepEqual(lab.replica('r3').guest?.text.lines.slice(1, 3), ['echo hi', ''], '"\\n" pressed Return');
    assert.deepEqual(lab.replica('r2').guest?.text.lines[1], '', 'the banner typed nothing');
  });

  it('crashes a replica and brings it back with the simulated L0: start, snapshot, revert, destroy, reset', async () => {
    const backend = newBackend();
    const session = opened(await backend.handlers.startDemoLab({}));
    const port = portOf(session.replicas[1]?.endpoint ?? '');
    let status = await backend.handlers.setDemoFault({ replicaId: 'r2', fault: 'crash' });
    assert.equal(replicaOf(status, 'r2').domainState, 'crashed');
    assert.equal(replicaOf(status, 'r1').domainState, 'running');
    assert.equal(await canConnect(port), false, 'a crashed replica refuses connections');

    status = await backend.handlers.demoL0Action({ replicaId: 'r2', action: 'start' });
    assert.equal(replicaOf(status, 'r2').domainState, 'running');
    assert.ok(await canConnect(port), 'back on the same port');

    status = await backend.handlers.demoL0Action({ replicaId: 'r2', action: 'snapshot-create' });
    assert.deepEqual(replicaOf(status, 'r2').snapshots, ['snapshot-1']);
    await backend.handlers.setDemoFault({ replicaId: 'r2', fault: 'inject=after the snapshot' });
    assert.equal(backend.demo.lab?.replica('r2').guest?.text.lines[1], 'after the snapshot');
    status = await backend.handlers.demoL0Action({ replicaId: 'r2', action: 'snapshot-revert' });
    assert.equal(backend.demo.lab?.replica('r2').guest?.text.lines[1], '', 'reverted to before the text');
    status = await backend.handlers.demoL0Action({ replicaId: 'r2', action: 'snapshot-create' });
    assert.deepEqual(replicaOf(status, 'r2').snapshots, ['snapshot-1', 'snapshot-2']);

    status = await backend.handlers.demoL0Action({ replicaId: 'r2', action: 'destroy' });
    assert.equal(replicaOf(status, 'r2').domainState, 'shut off');
    await assert.rejects(backend.handlers.demoL0Action({ replicaId: 'r2', action: 'reset' }), /Demo 2 is shut off: Start it first$/);
    status = await backend.handlers.demoL0Action({ replicaId: 'r2', action: 'start' });
    await backend.handlers.setDemoFault({ replicaId: 'r2', fault: 'banner=X' });
    status = await backend.handlers.demoL0Action({ replicaId: 'r2', action: 'reset' });
    assert.equal(replicaOf(status, 'r2').domainState, 'running');
    assert.deepEqual(backend.demo.lab?.replica('r2').guest?.pixels, backend.demo.lab?.replica('r1').guest?.pixels, 'reset cleared the banner');
  });

  it('refuses what cannot be done with a sentence that says what to do', async () => {
    const backend = newBackend();
    opened(await backend.handlers.startDemoLab({}));
    await assert.rejects(backend.handlers.setDemoFault({ replicaId: 'r9', fault: 'freeze' }), /no demo replica "r9": the lab has r1, r2, r3/);
    await assert.rejects(backend.handlers.setDemoFault({ replicaId: 'r1', fault: 'explode' }), /unknown fault "explode"; expected one of lag, drop-key/);
    await assert.rejects(backend.handlers.setDemoFault({ replicaId: 'r1', fault: 'lag=soon' }), /lag takes milliseconds/);
    await assert.rejects(backend.handlers.demoL0Action({ replicaId: 'r1', action: 'start' }), /Demo 1 is already running: use Reset to reboot it, or Destroy it first/);
    await assert.rejects(backend.handlers.demoL0Action({ replicaId: 'r1', action: 'snapshot-revert' }), /Demo 1 has no snapshot yet: take one with Snapshot first/);
    await backend.handlers.setDemoFault({ replicaId: 'r1', fault: 'crash' });
    await assert.rejects(backend.handlers.setDemoFault({ replicaId: 'r1', fault: 'banner=late' }), /Demo 1 is crashed: Start or Reset it before trying to paint a banner on it/);
    await assert.rejects(backend.handlers.demoL0Action({ replicaId: 'r1', action: 'snapshot-create' }), /Demo 1 has crashed: Start or Reset it first/);
    // Through the contract's own checks too (the shells call invokeHandler).
    await assert.rejects(invokeHandler(backend.handlers, 'demoL0Action', { replicaId: 'r1', action: 'format' }), /action: expected one of/);
  });

  it('opens the demo lab as the startup session with --demo, again after it was closed', async () => {
    const backend = newBackend({ startupDemo: true });
    const startup = await backend.handlers.getStartup();
    const first = opened(startup.startupSession ?? { ok: false, problems: [] });
    assert.equal(first.source, DEMO_SESSION_SOURCE);
    assert.equal(opened((await backend.handlers.getStartup()).startupSession ?? { ok: false, problems: [] }).sessionId, first.sessionId, 'opened once');
    await backend.handlers.closeSession({ sessionId: first.sessionId });
    const reopened = opened((await backend.handlers.getStartup()).startupSession ?? { ok: false, problems: [] });
    assert.notEqual(reopened.sessionId, first.sessionId);
    assert.deepEqual((await backend.handlers.getDemoStatus()).sessionIds, [reopened.sessionId]);
  });

  it('stops the lab when the back end closes', async () => {
    const backend = newBackend();
    const session = opened(await backend.handlers.startDemoLab({ replicas: 1 }));
    const port = portOf(session.replicas[0]?.endpoint ?? '');
    assert.ok(await canConnect(port));
    await backend.close();
    assert.equal(await canConnect(port), false);
    assert.equal(backend.demo.lab, null);
    await assert.rejects(backend.handlers.startDemoLab({}), /shut down/);
  });
});
