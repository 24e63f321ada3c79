// The UI's side of the remediation manager in plain Node: the view reaches the store for the open
// session only (event and first fetch), and checkpoints, confirmations and replica actions go out
// once at a time with their outcome said as a notice. A fake contract stands in for the back end.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CheckpointView, EventName, EventPayload, RemediationView, ReplicaActionName, SessionInfo } from '../../../common/contract';
import { describeCheckpoint, RemediationActions, type RemediationApi } from '../../../renderer/workspace/remediation-actions';
import { createAppStore } from '../../../renderer/store';

const SESSION: SessionInfo = {
  sessionId: 's1',
  name: 'lab',
  source: 'lab.json',
  replicas: ['r1', 'r2', 'r3'].map((id) => ({ id, label: `Demo ${id.slice(1)}`, endpoint: `127.0.0.1:59${id.slice(1)}`, tunnel: false, hasPassword: false })),
};

function view(sessionId: string, overrides: Partial<RemediationView> = {}): RemediationView {
  return { sessionId, mode: 'confirm', canAct: true, replicas: [], checkpoints: [], pending: [], audit: [], ...overrides };
}

/** A promise the test settles by hand. */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: Error) => void } {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

class FakeApi implements RemediationApi {
  readonly calls: string[] = [];
  private readonly listeners = new Map<string, Set<(payload: never) => void>>();
  state: () => Promise<RemediationView> = async () => view('s1');
  checkpoint: () => Promise<CheckpointView> = async () => ({ name: 'retrovisor-lab-1', seq: 7, takenAtMs: 0, complete: true, failed: [] });
  confirm: () => Promise<void> = async () => undefined;
  action: (replicaId: string, action: ReplicaActionName) => Promise<{ message: string }> = async (replicaId, action) => ({ message: `${action} on ${replicaId} started` });

  readonly on = <K extends EventName>(event: K, listener: (payload: EventPayload<K>) => void): (() => void) => {
    const set = this.listeners.get(event) ?? new Set();
    set.add(listener);
    this.listeners.set(event, set);
    return () => set.delete(listener);
  };

  emit<K extends EventName>(event: K, payload: EventPayload<K>): void {
    for (const listener of this.listeners.get(event) ?? []) (listener as (payload: EventPayload<K>) => void)(payload);
  }

  readonly getRemediationState = async ({ sessionId }: { sessionId: string }): Promise<RemediationView> => {
    this.calls.push(`getRemediationState ${sessionId}`);
    return this.state();
  };
  readonly takeCheckpoint = async ({ sessionId }: { sessionId: string }): Promise<CheckpointView> => {
    this.calls.push(`takeCheckpoint ${sessionId}`);
    return this.checkpoint();
  };
  readonly confirmRemediation = async ({ sessionId, planId, approve }: { sessionId: string; planId: string; approve: boolean }): Promise<void> => {
    this.calls.push(`confirmRemediation ${sessionId} ${planId} ${approve}`);
    return this.confirm();
  };
  readonly replicaAction = async ({ sessionId, replicaId, action }: { sessionId: string; replicaId: string; action: ReplicaActionName }): Promise<{ message: string }> => {
    this.calls.push(`replicaAction ${sessionId} ${replicaId} ${action}`);
    return this.action(replicaId, action);
  };
}

function setup(): { api: FakeApi; store: ReturnType<typeof createAppStore>; actions: RemediationActions } {
  const api = new FakeApi();
  const store = createAppStore();
  store.getState().openSession(SESSION);
  return { api, store, actions: new RemediationActions(api, store) };
}

describe('remediation actions', { timeout: 10_000 }, () => {
  it("keeps the open session's view from the `remediation` event, until unsubscribed", { timeout: 2000 }, () => {
    const { api, store, actions } = setup();
    const stop = actions.listen();
    api.emit('remediation', view('other'));
    assert.equal(store.getState().remediation, null);
    const mine = view('s1', { mode: 'auto' });
    api.emit('remediation', mine);
    assert.equal(store.getState().remediation, mine);
    stop();
    api.emit('remediation', view('s1', { mode: 'observe' }));
    assert.equal(store.getState().remediation?.mode, 'auto');
  });

  it('asks for the view of a session that just opened; a failure is a warning while it is open', { timeout: 2000 }, async () => {
    const { api, store, actions } = setup();
    await actions.sync('s1');
    assert.deepEqual(api.calls, ['getRemediationState s1']);
    assert.equal(store.getState().remediation?.sessionId, 's1');

    api.state = async () => {
      throw new Error('no open session "s1"');
    };
    await actions.sync('s1');
    assert.equal(store.getState().notices.length, 1);
    assert.equal(store.getState().notices[0]?.level, 'warning');
    assert.match(store.getState().notices[0]?.message ?? '', /did not answer: no open session "s1"/);

    store.getState().closeSession();
    await actions.sync('s1');
    assert.equal(store.getState().notices.length, 1, 'nothing is said about a session that is gone');
  });

  it('takes a checkpoint once at a time and says what it got', { timeout: 2000 }, async () => {
    const { api, store, actions } = setup();
    const answer = deferred<CheckpointView>();
    api.checkpoint = () => answer.promise;
    const first = actions.takeCheckpoint();
    assert.deepEqual(store.getState().remediationRequests, ['checkpoint']);
    await actions.takeCheckpoint();
    assert.deepEqual(api.calls, ['takeCheckpoint s1'], 'a second click while one is out sends nothing');
    answer.resolve({ name: 'retrovisor-lab-4', seq: 12, takenAtMs: 0, complete: true, failed: [] });
    await first;
    assert.deepEqual(store.getState().remediationRequests, []);
    assert.deepEqual(store.getState().notices.map((notice) => [notice.level, notice.message]), [['info', 'Checkpoint retrovisor-lab-4 taken at input #12 on every replica: a revert goes back to it.']]);
  });

  it('warns about an incomplete checkpoint and turns a refusal into an error that says what to do', { timeout: 2000 }, async () => {
    const { api, store, actions } = setup();
    api.checkpoint = async () => ({ name: 'retrovisor-lab-5', seq: 3, takenAtMs: 0, complete: false, failed: ['r2', 'r3'] });
    await actions.takeCheckpoint();
    const warning = store.getState().notices.at(-1);
    assert.equal(warning?.level, 'warning');
    assert.match(warning?.message ?? '', /failed on Demo 2 and Demo 3, so no revert uses it\. Take another once Demo 2 and Demo 3 are reachable/);

    api.checkpoint = async () => {
      throw new Error('not every replica agrees on settled screens (r2)');
    };
    await actions.takeCheckpoint();
    const error = store.getState().notices.at(-1);
    assert.equal(error?.level, 'error');
    assert.equal(error?.message, 'No checkpoint was taken: not every replica agrees on settled screens (r2). Try again once every replica is connected and their screens agree.');
  });

  it('sends the answer to a question, names the replica and the rung, and clears the put-aside question', { timeout: 2000 }, async () => {
    const { api, store, actions } = setup();
    store.getState().setRemediation(view('s1', { pending: [{ planId: 'plan-1', replicaId: 'r2', action: 'revert-replay', reason: 'r2 disagrees with r1, r3' }] }));
    store.getState().deferConfirmation('plan-1');
    await actions.confirmRemediation('plan-1', true);
    assert.deepEqual(api.calls, ['confirmRemediation s1 plan-1 true']);
    assert.equal(store.getState().deferredPlanId, null);
    assert.match(store.getState().notices.at(-1)?.message ?? '', /^Demo 2: revert \+ replay asked for\./);

    await actions.confirmRemediation('plan-1', false);
    assert.equal(api.calls.at(-1), 'confirmRemediation s1 plan-1 false');
    assert.match(store.getState().notices.at(-1)?.message ?? '', /^Demo 2 is left as it is/);

    api.confirm = async () => {
      throw new Error('no open session "s1"');
    };
    await actions.confirmRemediation('plan-9', true);
    assert.equal(store.getState().notices.at(-1)?.level, 'error');
    assert.match(store.getState().notices.at(-1)?.message ?? '', /did not reach the manager: no open session "s1"/);
  });

  it("runs a replica action and shows the back end's words, or what failed and why", { timeout: 2000 }, async () => {
    const { api, store, actions } = setup();
    api.action = async (replicaId) => ({ message: `${replicaId}: domain vm-b on l0-a is running` });
    await actions.replicaAction('r2', 'domain-state');
    assert.deepEqual(api.calls, ['replicaAction s1 r2 domain-state']);
    assert.deepEqual(store.getState().notices.at(-1), { level: 'info', message: 'r2: domain vm-b on l0-a is running', id: store.getState().notices.at(-1)?.id });

    api.action = async () => {
      throw new Error('no complete checkpoint to revert to');
    };
    await actions.replicaAction('r3', 'revert-replay');
    assert.equal(store.getState().notices.at(-1)?.level, 'error');
    assert.equal(store.getState().notices.at(-1)?.message, 'Revert + replay on Demo 3 failed: no complete checkpoint to revert to');
    assert.deepEqual(store.getState().remediationRequests, []);
  });

  it('says nothing about an answer that arrives after its session closed, and sends nothing without a session', { timeout: 2000 }, async () => {
    const { api, store, actions } = setup();
    const answer = deferred<{ message: string }>();
    api.action = () => answer.promise;
    const pending = actions.replicaAction('r2', 'destroy');
    store.getState().closeSession();
    answer.resolve({ message: 'r2: destroy vm-b done' });
    await pending;
    assert.deepEqual(store.getState().notices, []);
    await actions.takeCheckpoint();
    await actions.confirmRemediation('plan-1', true);
    await actions.replicaAction('r1', 'start');
    assert.deepEqual(api.calls, ['replicaAction s1 r2 destroy']);
  });

  it('describes checkpoints by replica label', { timeout: 1000 }, () => {
    const label = (id: string): string => `Demo ${id.slice(1)}`;
    assert.equal(describeCheckpoint({ name: 'c', seq: 1, takenAtMs: 0, complete: false, failed: ['r3'] }, label).message.includes('once Demo 3 is reachable'), true);
    assert.equal(describeCheckpoint({ name: 'c', seq: 1, takenAtMs: 0, complete: true, failed: [] }, label).level, 'info');
  });
});
