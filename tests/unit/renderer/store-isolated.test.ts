// The store's record of replicas the remediation manager isolated: set and cleared per replica, and
// forgotten with the session (open, close, the reset between tests). Plain Node (zustand's vanilla store).

import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import type { SessionInfo } from '../../../common/contract';
import { appStore, resetAppStore } from '../../../renderer/store';

const SESSION: SessionInfo = {
  sessionId: 's1',
  name: 'lab',
  source: 'lab.json',
  replicas: ['r1', 'r2'].map((id) => ({ id, label: id, endpoint: '127.0.0.1:5901', tunnel: false, hasPassword: false })),
};

const state = () => appStore.getState();

describe('store: isolated replicas', { timeout: 5_000 }, () => {
  beforeEach(() => resetAppStore());

  it('marks and clears a replica, leaving the state untouched when nothing changes', { timeout: 2_000 }, () => {
    state().openSession(SESSION);
    state().setIsolated('r2', true);
    assert.deepEqual(state().isolatedIds, { r2: true });
    const before = state().isolatedIds;
    state().setIsolated('r2', true);
    assert.equal(state().isolatedIds, before, 'no new object when nothing changed');
    state().setIsolated('r2', false);
    assert.deepEqual(state().isolatedIds, {});
  });

  it('forgets isolated replicas with the session and on reset', { timeout: 2_000 }, () => {
    state().openSession(SESSION);
    state().setIsolated('r1', true);
    state().closeSession();
    assert.deepEqual(state().isolatedIds, {});
    state().openSession(SESSION);
    state().setIsolated('r1', true);
    state().openSession(SESSION);
    assert.deepEqual(state().isolatedIds, {}, 'a newly opened session starts with none');
    state().setIsolated('r1', true);
    resetAppStore();
    assert.deepEqual(state().isolatedIds, {});
  });
});
