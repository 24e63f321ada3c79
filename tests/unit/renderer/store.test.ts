// The UI store's reducers: replica views, the reference choice, size badges, prompts, notices and
// the reset used between tests. Plain Node (zustand's vanilla store).

import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import type { DemoStatus, RemediationView, SessionInfo } from '../../../common/contract';
import type { DivergenceState } from '../../../common/divergence';
import type { ReplicaState } from '../../../common/replica-state';
import type { TimelineEntry } from '../../../renderer/divergence/timeline';
import {
  APP_INITIAL_STATE,
  appStore,
  createAppStore,
  MAX_NOTICES,
  resetAppStore,
  SESSION_INITIAL_STATE,
  sizeDiffersFromReference,
  withReplicaState,
  initialReplicaView,
  type AppState,
} from '../../../renderer/store';

const SESSION: SessionInfo = {
  sessionId: 's1',
  name: 'lab',
  source: 'lab.json',
  replicas: ['r1', 'r2', 'r3'].map((id) => ({ id, label: `Replica ${id}`, endpoint: `127.0.0.1:59${id.slice(1)}`, tunnel: false, hasPassword: false })),
};

const connected = (width: number, height: number): ReplicaState => ({ name: 'connected', width, height, attempt: 0, sinceMs: 0 });
const dropped = (reason: string): ReplicaState => ({ name: 'disconnected', reason, attempt: 0 });
const state = () => appStore.getState();

/** The data fields of a state (its actions left out), for comparing whole states. */
function dataOf(all: AppState): Record<string, unknown> {
  return Object.fromEntries(Object.entries(all).filter(([, value]) => typeof value !== 'function'));
}

/** Changes every per-session field through the store's own actions, as a session in use does. */
function useEverySessionField(): void {
  state().openSession(SESSION);
  state().showProblems('bad.json', [{ path: '$', message: 'x' }]);
  state().setReplicaState('r1', connected(640, 400));
  state().chooseReference('r1');
  state().setFullScreen(true);
  state().requestPassword({ replicaId: 'r3', label: 'Replica r3', endpoint: '127.0.0.1:593', needsUsername: false, message: null });
  state().setDemoStatus({ running: true, sessionIds: ['s1'], replicas: [] } satisfies DemoStatus);
  state().setDemoPending({ replicaId: 'r2', action: 'crash' });
  state().setDemoMessage('r2 crashed');
  state().setBroadcastEnabled(false);
  state().setExcluded('r2', true);
  state().setIsolated('r3', true);
  state().setInputTargets(['r1']);
  state().setCompositeFocused(true);
  state().setCompositeCaptured(true);
  state().setDivergenceState({ divergences: [{ id: 'd1', outliers: ['r2'], regions: [] }] } as unknown as DivergenceState);
  state().openDiffView('r2', 'r1');
  state().setTimeline([{ id: 1 } as unknown as TimelineEntry]);
  state().showTimelineDetail(1);
  state().setRemediation({ sessionId: 's1', mode: 'observe', canAct: false, replicas: [], checkpoints: [], pending: [], audit: [] } satisfies RemediationView);
  state().setRemediationRequest('checkpoint', true);
  state().deferConfirmation('plan-1');
}

describe('store', { timeout: 10_000 }, () => {
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

  it('keeps every data field in exactly one of the two initial lists (per session, or kept across sessions)', () => {
    const sessionKeys = Object.keys(SESSION_INITIAL_STATE);
    const appKeys = Object.keys(APP_INITIAL_STATE);
    assert.deepEqual(sessionKeys.filter((key) => appKeys.includes(key)), []);
    assert.deepEqual(Object.keys(dataOf(createAppStore().getState())).sort(), [...sessionKeys, ...appKeys].sort());
  });

  it('leaves no field of a closed session behind, and keeps what belongs to the app', () => {
    const fresh = dataOf(createAppStore().getState());
    state().setViewMode('1:1');
    state().setKeyRepeat(fresh.keyRepeat === 'server' ? 'retrovisor' : 'server');
    useEverySessionField();
    const used = dataOf(state());
    const untouched = Object.keys(SESSION_INITIAL_STATE).filter((key) => JSON.stringify(used[key]) === JSON.stringify(fresh[key]));
    assert.deepEqual(untouched, [], 'this test changes every per-session field (a new one must be used above too)');
    const kept = Object.fromEntries(Object.keys(APP_INITIAL_STATE).map((key) => [key, used[key]]));

    state().closeSession();
    const closed = dataOf(state());
    for (const key of Object.keys(SESSION_INITIAL_STATE)) assert.deepEqual(closed[key], fresh[key], `${key} outlived its session`);
    for (const key of Object.keys(APP_INITIAL_STATE)) assert.deepEqual(closed[key], kept[key], `${key} is kept across sessions`);

    // Opening a session over a used one starts it as clean, only its replicas filled in.
    useEverySessionField();
    state().openSession({ ...SESSION, sessionId: 's2' });
    const reopened = dataOf(state());
    for (const key of Object.keys(SESSION_INITIAL_STATE)) {
      if (key === 'session' || key === 'replicaIds' || key === 'replicas') continue;
      assert.deepEqual(reopened[key], fresh[key], `${key} was carried into the next session`);
    }
    assert.equal(state().session?.sessionId, 's2');
    assert.equal(state().replicas.r1?.stateName, 'idle');
  });

  it('resets to the initial state', () => {
    state().openSession(SESSION);
    state().setViewMode('1:1');
    state().setBackendLost('gone');
    useEverySessionField();
    resetAppStore();
    assert.equal(state().session, null);
    assert.equal(state().viewMode, 'fit');
    assert.equal(state().backendLost, null);
    assert.deepEqual(dataOf(state()), dataOf(createAppStore().getState()));
  });
});
