// The store's remediation slice in plain Node: the manager's view is kept for the open session only,
// goes with the session, and the requests in flight, the confirmation put aside and the panel's
// open state behave as the panel and the dialog rely on.

import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import type { RemediationView, SessionInfo } from '../../../common/contract';
import { appStore, createAppStore, resetAppStore } from '../../../renderer/store';

const SESSION: SessionInfo = {
  sessionId: 's1',
  name: 'lab',
  source: 'lab.json',
  replicas: ['r1', 'r2', 'r3'].map((id) => ({ id, label: `Replica ${id}`, endpoint: `127.0.0.1:59${id.slice(1)}`, tunnel: false, hasPassword: false })),
};

function view(sessionId: string, overrides: Partial<RemediationView> = {}): RemediationView {
  return {
    sessionId,
    mode: 'confirm',
    canAct: true,
    replicas: SESSION.replicas.map((replica) => ({ replicaId: replica.id, state: 'healthy', detail: '', attemptsLastHour: 0 })),
    checkpoints: [],
    pending: [],
    audit: [],
    ...overrides,
  };
}

const state = () => appStore.getState();

describe('store: remediation slice', { timeout: 10_000 }, () => {
  beforeEach(() => resetAppStore());

  it('keeps the view of the open session and ignores any other session', { timeout: 2000 }, () => {
    state().setRemediation(view('s1'));
    assert.equal(state().remediation, null, 'no session open: nothing to show');
    state().openSession(SESSION);
    state().setRemediation(view('other'));
    assert.equal(state().remediation, null);
    const mine = view('s1', { mode: 'auto' });
    state().setRemediation(mine);
    assert.equal(state().remediation, mine);
    state().setRemediation(view('other', { mode: 'observe' }));
    assert.equal(state().remediation?.mode, 'auto', 'a late view of another session does not replace it');
  });

  it('forgets the view, the requests and the put-aside question with the session, but keeps the panel state', { timeout: 2000 }, () => {
    state().openSession(SESSION);
    state().setRemediation(view('s1'));
    state().setRemediationRequest('checkpoint', true);
    state().deferConfirmation('plan-1');
    state().setRemediationPanelOpen(false);
    state().closeSession();
    assert.equal(state().remediation, null);
    assert.deepEqual(state().remediationRequests, []);
    assert.equal(state().deferredPlanId, null);
    assert.equal(state().remediationPanelOpen, false, 'the panel stays as the user left it');

    state().openSession(SESSION);
    state().setRemediation(view('s1'));
    state().deferConfirmation('plan-2');
    state().openSession({ ...SESSION, sessionId: 's2' });
    assert.equal(state().remediation, null, 'a new session starts without the old view');
    assert.equal(state().deferredPlanId, null);
    assert.equal(state().remediationPanelOpen, false);
  });

  it('tracks requests in flight by key, once each', { timeout: 2000 }, () => {
    state().setRemediationRequest('checkpoint', true);
    state().setRemediationRequest('checkpoint', true);
    state().setRemediationRequest('action:r2:reset', true);
    assert.deepEqual(state().remediationRequests, ['checkpoint', 'action:r2:reset']);
    const before = state().remediationRequests;
    state().setRemediationRequest('plan:p1', false);
    assert.equal(state().remediationRequests, before, 'clearing an absent key changes nothing');
    state().setRemediationRequest('checkpoint', false);
    assert.deepEqual(state().remediationRequests, ['action:r2:reset']);
  });

  it('resets to an empty slice with the panel open', { timeout: 2000 }, () => {
    state().openSession(SESSION);
    state().setRemediation(view('s1'));
    state().setRemediationPanelOpen(false);
    state().deferConfirmation('plan-1');
    resetAppStore();
    assert.equal(state().remediation, null);
    assert.equal(state().deferredPlanId, null);
    assert.deepEqual(state().remediationRequests, []);
    assert.equal(state().remediationPanelOpen, true);
    const fresh = createAppStore().getState();
    assert.deepEqual([fresh.remediation, fresh.deferredPlanId, fresh.remediationRequests, fresh.remediationPanelOpen], [null, null, [], true]);
  });

  it('leaves the isolation flags alone (the manager command executor owns them)', { timeout: 2000 }, () => {
    state().openSession(SESSION);
    state().setIsolated('r2', true);
    state().setRemediation(view('s1'));
    assert.deepEqual(state().isolatedIds, { r2: true });
  });
});
