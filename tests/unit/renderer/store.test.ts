// The UI store's reducers: replica views, the reference choice, size badges, prompts, notices and
// the reset used between tests. Plain Node (zustand's vanilla store).

import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import type { SessionInfo } from '../../../common/contract';
import type { ReplicaState } from '../../../common/replica-state';
import { appStore, MAX_NOTICES, resetAppStore, sizeDiffersFromReference, withReplicaState, initialReplicaView } from '../../../renderer/store';

const SESSION: SessionInfo = {
  sessionId: 's1',
  name: 'lab',
  source: 'lab.json',
  replicas: ['r1', 'r2', 'r3'].map((id) => ({ id, label: `Replica ${id}`, endpoint: `127.0.0.1:59${id.slice(1)}`, tunnel: false, hasPassword: false })),
};

const connected = (width: number, height: number): ReplicaState => ({ name: 'connected', width, height, attempt: 0, sinceMs: 0 });
const dropped = (reason: string): ReplicaState => ({ name: 'disconnected', reason, attempt: 0 });
const state = () => appStore.getState();

describe('store', () => {
  beforeEach(() => resetAppStore());

  it('opens a session with one idle view per replica, in profile order', () => {
    state().showProblems('bad.json', [{ path: '$', message: 'x' }]);
    state().openSession(SESSION);
    assert.deepEqual(state().replicaIds, ['r1', 'r2', 'r3']);
    assert.equal(state().replicas.r2?.stateName, 'idle');
    assert.equal(state().replicas.r2?.label, 'Replica r2');
    assert.equal(state().referenceId, null);
    assert.deepEqual(state().problems, []);
  });

  it('keeps the last known size and error through state changes', () => {
    const view = initialReplicaView(SESSION.replicas[0]!);
    const up = withReplicaState(view, connected(640, 400));
    assert.deepEqual([up.width, up.height, up.lastError], [640, 400, null]);
    const down = withReplicaState(up, dropped('the server closed the connection'));
    assert.deepEqual([down.stateName, down.width, down.lastError], ['disconnected', 640, 'the server closed the connection']);
    const waiting = withReplicaState(down, { name: 'reconnecting', reason: 'refused', attempt: 1, retryAtMs: 5 });
    assert.equal(waiting.lastError, 'refused');
    assert.equal(withReplicaState(waiting, { name: 'connecting', attempt: 1 }).lastError, 'refused');
    assert.equal(withReplicaState(waiting, connected(800, 600)).lastError, null);
  });

  it('makes the first connected replica in profile order the reference, whatever order they connect in', () => {
    state().openSession(SESSION);
    state().setReplicaState('r2', connected(640, 400));
    assert.equal(state().referenceId, 'r2');
    state().setReplicaState('r3', connected(640, 400));
    assert.equal(state().referenceId, 'r2');
    state().setReplicaState('r1', connected(640, 400));
    assert.equal(state().referenceId, 'r1');
  });

  it('moves an automatic reference to the next connected replica when it drops', () => {
    state().openSession(SESSION);
    state().setReplicaState('r2', connected(640, 400));
    state().setReplicaState('r3', connected(640, 400));
    state().setReplicaState('r2', dropped('gone'));
    assert.equal(state().referenceId, 'r3');
    state().setReplicaState('r3', dropped('gone'));
    assert.equal(state().referenceId, 'r3', 'with nobody connected the last reference stays (its last picture)');
  });

  it('keeps a reference the user chose, even while it is down', () => {
    state().openSession(SESSION);
    state().setReplicaState('r1', connected(640, 400));
    state().setReplicaState('r2', connected(640, 400));
    state().chooseReference('r2');
    state().setReplicaState('r2', dropped('gone'));
    assert.equal(state().referenceId, 'r2');
    assert.equal(state().referencePinned, true);
    state().chooseReference('nope');
    assert.equal(state().referenceId, 'r2');
  });

  it('flags connected replicas whose desktop size differs from the reference', () => {
    state().openSession(SESSION);
    state().setReplicaState('r1', connected(640, 400));
    state().setReplicaState('r2', connected(800, 600));
    state().setReplicaState('r3', connected(640, 400));
    assert.equal(sizeDiffersFromReference(state(), 'r1'), false);
    assert.equal(sizeDiffersFromReference(state(), 'r2'), true);
    assert.equal(sizeDiffersFromReference(state(), 'r3'), false);
    state().setReplicaState('r2', dropped('gone'));
    assert.equal(sizeDiffersFromReference(state(), 'r2'), false, 'no badge without a live size');
  });

  it('queues password prompts oldest first, once per replica', () => {
    const prompt = (replicaId: string, message: string | null = null) => ({ replicaId, label: replicaId, endpoint: 'e', needsUsername: false, message });
    state().requestPassword(prompt('r1'));
    state().requestPassword(prompt('r2'));
    state().requestPassword(prompt('r1', 'again'));
    assert.deepEqual(state().passwordPrompts.map((entry) => [entry.replicaId, entry.message]), [['r1', 'again'], ['r2', null]]);
    state().withdrawPassword('r1');
    assert.deepEqual(state().passwordPrompts.map((entry) => entry.replicaId), ['r2']);
  });

  it('keeps the newest notices and dismisses by id', () => {
    const ids = Array.from({ length: MAX_NOTICES + 2 }, (_, index) => state().pushNotice({ level: 'info', message: `n${index}` }));
    assert.equal(state().notices.length, MAX_NOTICES);
    assert.equal(state().notices[0]?.message, 'n2');
    state().dismissNotice(ids[ids.length - 1]!);
    assert.equal(state().notices.length, MAX_NOTICES - 1);
  });

  it('reports the lost back end once, and closes sessions back to the start screen', () => {
    state().setBackendLost('first');
    state().setBackendLost('second');
    assert.equal(state().backendLost, 'first');
    state().openSession(SESSION);
    state().setFullScreen(true);
    state().closeSession();
    assert.equal(state().session, null);
    assert.deepEqual(state().replicaIds, []);
    assert.equal(state().fullScreen, false);
  });

  it('resets to the initial state', () => {
    state().openSession(SESSION);
    state().setViewMode('1:1');
    state().setBackendLost('gone');
    resetAppStore();
    assert.equal(state().session, null);
    assert.equal(state().viewMode, 'fit');
    assert.equal(state().backendLost, null);
  });
});
