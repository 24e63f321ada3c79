// The back end's desktop status in plain Node: session facts from replica and divergence reports and
// the manager's events — lost and back, a new split but not moved regions, remediation, a changed host
// key named by its L0, the checkpoint ability published before the first report, closing.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DivergenceReport, SessionInfo } from '../../../../common/contract';
import type { DesktopEvent } from '../../../../common/desktop-status';
import { DesktopStatusService } from '../../../../main/backend/desktop-status-service';
import { createLogger } from '../../../../main/logger';

const INFO: SessionInfo = {
  sessionId: 's1',
  name: 'payments-vm',
  source: 'test',
  replicas: ['r1', 'r2', 'r3'].map((id) => ({ id, label: `kvm-${id}`, endpoint: '127.0.0.1:5901', tunnel: false, hasPassword: true })),
};

function divergence(outliers: string[], regions = 1): DivergenceReport {
  return { sessionId: 's1', kind: 'divergence', outliers, agreeing: [], regions: Array.from({ length: regions }, () => ({ x: 0, y: 0, width: 1, height: 1 })), noMajority: false };
}

function harness() {
  const service = new DesktopStatusService(createLogger({ sink: () => undefined }));
  const events: DesktopEvent[] = [];
  service.onChange((_summary, happened) => events.push(...happened));
  const connect = (id: string): void => service.replicaReport({ sessionId: 's1', replicaId: id, state: 'connected' }, INFO);
  return { service, events, connect };
}

describe('DesktopStatusService', { timeout: 5000 }, () => {
  it('turns reports into facts and events', () => {
    const { service, events, connect } = harness();
    service.remediationView({ sessionId: 's1', mode: 'confirm', canAct: true, replicas: [], checkpoints: [], pending: [], audit: [] });
    for (const id of ['r1', 'r2', 'r3']) connect(id);
    assert.equal(service.summary().state, 'all-agree');
    assert.equal(service.session('s1')?.canCheckpoint, true, 'published before the first report');
    assert.equal(events.length, 0, 'connecting the first time is not news');

    service.replicaReport({ sessionId: 's1', replicaId: 'r2', state: 'reconnecting', reason: 'reset' }, INFO);
    connect('r2');
    service.divergenceReport(divergence(['r3']), INFO);
    service.divergenceReport(divergence(['r3'], 5), INFO);
    service.divergenceReport(divergence(['r2', 'r3'], 5), INFO);
    assert.equal(service.summary().state, 'divergence');
    service.managerEvent({ type: 'remediation', sessionId: 's1', replica: 'r3', action: 'revert-replay', status: 'started', detail: '' });
    assert.equal(service.summary().state, 'remediating');
    service.managerEvent({ type: 'remediation', sessionId: 's1', replica: 'r3', action: 'revert-replay', status: 'failed', detail: '' });
    service.divergenceReport({ sessionId: 's1', kind: 'consensus', outliers: [], agreeing: ['r1', 'r2', 'r3'], regions: [], noMajority: false }, INFO);
    service.managerEvent({
      type: 'alert',
      sessionId: 's1',
      severity: 'critical',
      message: 'host key for 192.0.2.7:22 changed: profile pins ssh-ed25519 AAAA, server presented ssh-ed25519 BBBB — none matches (l0 "l0-a")',
    });
    assert.deepEqual(
      events.map((event) => event.type),
      ['replica-lost', 'replica-back', 'divergence', 'divergence', 'remediation', 'remediation', 'resolved', 'host-key-changed'],
    );
    assert.deepEqual(events.at(-1), { type: 'host-key-changed', sessionId: 's1', l0: 'l0-a' });
    // The same message as a tunnelled replica's failure reason.
    service.replicaReport({ sessionId: 's1', replicaId: 'r1', state: 'reconnecting', reason: 'host key for 192.0.2.8:22 changed: … (l0 "l0-b")' }, INFO);
    assert.deepEqual(events.slice(-2), [
      { type: 'replica-lost', sessionId: 's1', replicaId: 'r1' },
      { type: 'host-key-changed', sessionId: 's1', l0: 'l0-b' },
    ]);

    service.sessionClosed('s1');
    assert.equal(service.summary().state, 'idle');
    assert.equal(service.session('s1'), null);
  });
});
