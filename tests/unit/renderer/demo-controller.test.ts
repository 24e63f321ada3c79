// The demo panel's controller in plain Node: it shows the panel only for the demo lab's session,
// sends faults and L0 actions one at a time, keeps the status current, says what happened in words
// and turns a refusal into an error toast. A fake contract stands in for the back end.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DemoStatus, SessionInfo } from '../../../common/contract';
import { DemoController, describeFault, type DemoApi } from '../../../renderer/demo/demo-controller';
import { createAppStore } from '../../../renderer/store';

const SESSION: SessionInfo = {
  sessionId: 'demo-1',
  name: 'Demo lab',
  source: 'built-in demo lab',
  replicas: ['r1', 'r2'].map((id) => ({ id, label: `Demo ${id.slice(1)}`, endpoint: `127.0.0.1:590${id.slice(1)}`, tunnel: false, hasPassword: false })),
};

function status(overrides: Partial<Record<'r1' | 'r2', Partial<DemoStatus['replicas'][number]>>> = {}, sessionIds = ['demo-1']): DemoStatus {
  return {
    running: true,
    sessionIds,
    replicas: (['r1', 'r2'] as const).map((id) => ({
      id,
      label: `Demo ${id.slice(1)}`,
      endpoint: `127.0.0.1:590${id.slice(1)}`,
      domainState: 'running',
      faults: [],
      snapshots: [],
      ...overrides[id],
    })),
  };
}

/** A fake contract recording calls; each answer is produced by `answer`. */
function fakeApi(answer: (call: string) => Promise<DemoStatus>): { api: DemoApi; calls: string[] } {
  const calls: string[] = [];
  const api: DemoApi = {
    getDemoStatus: () => answer('status'),
    setDemoFault: ({ replicaId, fault }) => {
      calls.push(`fault ${replicaId} ${fault}`);
      return answer('fault');
    },
    clearDemoFaults: ({ replicaId }) => {
      calls.push(`clear ${replicaId}`);
      return answer('clear');
    },
    demoL0Action: ({ replicaId, action }) => {
      calls.push(`l0 ${replicaId} ${action}`);
      return answer('l0');
    },
  };
  return { api, calls };
}

describe('demo controller', { timeout: 60_000 }, () => {
  it('shows the panel for the demo lab\'s session only', async () => {
    const store = createAppStore();
    let current = status();
    const { api } = fakeApi(async () => current);
    const controller = new DemoController(api, store);
    store.getState().openSession(SESSION);
    await controller.sync('demo-1');
    assert.deepEqual(store.getState().demo, current);

    current = status({}, ['another-session']);
    store.getState().openSession({ ...SESSION, sessionId: 'profile-2' });
    await controller.sync('profile-2');
    assert.equal(store.getState().demo, null, 'a profile\'s session has no demo panel');

    // An answer for a session the user already left changes nothing.
    current = status({}, ['demo-1']);
    await controller.sync('demo-1');
    assert.equal(store.getState().demo, null);
  });

  it('sends a fault, shows the new status and says what it did', async () => {
    const store = createAppStore();
    const { api, calls } = fakeApi(async (call) => (call === 'status' ? status() : status({ r2: { faults: ['lag=200'] } })));
    const controller = new DemoController(api, store);
    store.getState().openSession(SESSION);
    await controller.sync('demo-1');
    await controller.setFault('r2', 'lag=200');
    assert.deepEqual(calls, ['fault r2 lag=200']);
    assert.deepEqual(store.getState().demo?.replicas[1]?.faults, ['lag=200']);
    assert.equal(store.getState().demoMessage, 'Demo 2: every screen update now waits 200 ms');
    assert.equal(store.getState().demoPending, null);
  });

  it('sends one request at a time and drops clicks while one is out', async () => {
    const store = createAppStore();
    let release: () => void = () => undefined;
    const { api, calls } = fakeApi((call) =>
      call === 'status' ? Promise.resolve(status()) : new Promise((resolve) => (release = () => resolve(status({ r1: { domainState: 'crashed' } })))),
    );
    const controller = new DemoController(api, store);
    store.getState().openSession(SESSION);
    await controller.sync('demo-1');
    const crash = controller.setFault('r1', 'crash');
    assert.deepEqual(store.getState().demoPending, { replicaId: 'r1', action: 'crash' });
    await controller.l0Action('r1', 'start');
    assert.deepEqual(calls, ['fault r1 crash'], 'the second click was dropped');
    release();
    await crash;
    assert.equal(store.getState().demo?.replicas[0]?.domainState, 'crashed');
    assert.match(store.getState().demoMessage ?? '', /Demo 1: crashed, its VNC server is gone \(Start or Reset brings it back\)/);
  });

  it('turns a refusal into an error toast', async () => {
    const store = createAppStore();
    const { api } = fakeApi(async (call) => {
      if (call === 'l0') throw new Error('Demo 1 is already running: use Reset to reboot it, or Destroy it first');
      return status();
    });
    const controller = new DemoController(api, store);
    store.getState().openSession(SESSION);
    await controller.sync('demo-1');
    await controller.l0Action('r1', 'start');
    assert.deepEqual(
      store.getState().notices.map((notice) => [notice.level, notice.message]),
      [['error', 'Demo 1 is already running: use Reset to reboot it, or Destroy it first']],
    );
    assert.equal(store.getState().demoPending, null);
    assert.deepEqual(store.getState().demo, status(), 'the status is kept');
  });

  it('describes each fault in words', () => {
    assert.equal(describeFault('Demo 2', 'lag=0'), 'Demo 2: lag removed');
    assert.equal(describeFault('Demo 2', 'lag=0-300'), 'Demo 2: every screen update now waits 0-300 ms');
    assert.equal(describeFault('Demo 2', 'drop-key=1'), 'Demo 2: every key press is now lost');
    assert.equal(describeFault('Demo 2', 'drop-key=2'), 'Demo 2: every 2nd key press is now lost');
    assert.equal(describeFault('Demo 2', 'drop-key=11'), 'Demo 2: every 11th key press is now lost');
    assert.equal(describeFault('Demo 2', 'drop-key=23'), 'Demo 2: every 23rd key press is now lost');
    assert.equal(describeFault('Demo 2', 'inject=ls=1'), 'Demo 2: typed “ls=1” on its own');
    assert.equal(describeFault('Demo 2', 'freeze'), 'Demo 2: screen frozen (Clear faults thaws it)');
  });
});
