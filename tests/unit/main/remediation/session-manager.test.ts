// One session's remediation manager driven like the back end drives it — replica state reports and
// divergence reports in, a fake UI answering its commands, a fake L0 driver recording every call: the
// ladder when rungs fail, observe and confirm modes, the majority guard, a lost replica whose domain
// is down, a UI that never answers. Real time with small thresholds; waits are on events. Plain Node.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { L0Error } from '../../../../common/l0';
import type { ManagerEvent } from '../../../../main/remediation/session-manager';
import { checkpointSucceeded, managerHarness, remediationEvent, temporaryFolder, type ManagerHarnessOptions } from './manager-fakes';

const CHECKPOINT = 'retrovisor-lab-one-1';
const OUTLIER_MS = 500;

let dataFolder: { folder: string; remove: () => Promise<void> };

before(async () => {
  dataFolder = await temporaryFolder('retrovisor-manager-');
});

const harnesses: ReturnType<typeof managerHarness>[] = [];

after(async () => {
  // Timers and pending UI commands stopped and audit logs written before their folder goes.
  await Promise.all(harnesses.map((created) => created.close()));
  await dataFolder.remove();
});

/** A harness closed when the file's tests end (its timers and pending UI commands stopped). */
function harness(options: Omit<ManagerHarnessOptions, 'dataDirectory'>): ReturnType<typeof managerHarness> {
  const created = managerHarness({ ...options, dataDirectory: dataFolder.folder });
  harnesses.push(created);
  return created;
}

function remediations(events: readonly ManagerEvent[], replica: string): string[] {
  return events.flatMap((event) => (event.type === 'remediation' && event.replica === replica ? [`${event.status} ${event.action}`] : []));
}

function alerts(events: readonly ManagerEvent[]): Extract<ManagerEvent, { type: 'alert' }>[] {
  return events.filter((event): event is Extract<ManagerEvent, { type: 'alert' }> => event.type === 'alert');
}

const unreachable = (domain: string): L0Error => new L0Error('unreachable', `cannot reach the L0 "lab" at 10.0.0.9:22: connection refused — is sshd running there?`, { domain });

describe('SessionManager: the ladder when rungs fail', { timeout: 30_000 }, () => {
  it('climbs from a failed revert to restart-replay, then quarantines with an alert — and never loops', { timeout: 20_000 }, async () => {
    // Five replicas: after r2 is quarantined, r4 can still be remediated with a strict majority (r1, r3, r5),
    // which proves that time passed with r2 still triggering and nothing ran on it again.
    const h = harness({ remediation: { mode: 'auto', outlierMs: OUTLIER_MS }, replicaCount: 5 });
    h.l0.script = (call) => (call.operation === 'snapshotRevert' && call.domain === 'rv-2' ? Promise.reject(unreachable('rv-2')) : undefined);
    h.connectAll();
    await checkpointSucceeded(h.events);
    const actionsBefore = h.l0.calls.items.length;
    h.diverge(['r2'], ['r1', 'r3', 'r4', 'r5']);

    await h.events.waitFor('r2 quarantined', remediationEvent('r2', 'quarantine', 'succeeded'));
    assert.deepEqual(remediations(h.events.items, 'r2'), [
      'planned revert-replay',
      'started revert-replay',
      'failed revert-replay',
      'planned restart-replay',
      'started restart-replay',
      'failed restart-replay',
      'succeeded quarantine',
    ]);
    const failedRevert = h.events.items.find(remediationEvent('r2', 'revert-replay', 'failed'));
    assert.ok(failedRevert?.type === 'remediation');
    assert.match(failedRevert.detail, /^cannot reach the L0 "lab" at 10\.0\.0\.9:22: connection refused/);
    // restart-replay: destroy, start, then the revert (which fails again).
    assert.deepEqual(h.l0.log().slice(actionsBefore), [`snapshotRevert rv-2 ${CHECKPOINT}`, 'destroy rv-2', 'start rv-2', `snapshotRevert rv-2 ${CHECKPOINT}`]);
    // Isolated for each rung, isolated again after each failure (it had no replay to rejoin with), and by the quarantine.
    await h.ui.received.waitFor('the quarantine isolate', (received) => received.command.type === 'isolate', 5);
    assert.deepEqual(h.ui.types('r2'), ['isolate', 'isolate', 'isolate', 'isolate', 'isolate']);
    const critical = alerts(h.events.items).filter((alert) => alert.severity === 'critical');
    assert.equal(critical.length, 1);
    assert.equal(critical[0]?.replica, 'r2');
    assert.match(critical[0]?.message ?? '', /^r2 is quarantined: no input, no vote/);
    assert.ok(h.notices.items.some((notice) => notice.level === 'error' && /restart-replay failed: cannot reach the L0/.test(notice.message)), JSON.stringify(h.notices.items));

    // r2 keeps disagreeing: nothing more runs on it, while r4 (also an outlier from now on) is remediated.
    h.diverge(['r2', 'r4'], ['r1', 'r3', 'r5']);
    await h.events.waitFor('r4 remediated', remediationEvent('r4', 'revert-replay', 'succeeded'));
    assert.equal(remediations(h.events.items, 'r2').length, 7, 'no new step on r2');
    assert.deepEqual(h.l0.log(['snapshotRevert', 'destroy', 'start']).slice(4), [`snapshotRevert rv-4 ${CHECKPOINT}`]);
    assert.equal(h.manager.view().replicas.find((replica) => replica.replicaId === 'r2')?.state, 'quarantined');
    const failedRungs = h.audit.entries().filter((entry) => entry.kind === 'remediation' && entry.outcome === 'failed');
    assert.deepEqual(
      failedRungs.map((entry) => [entry.replicaId, entry.action]),
      [
        ['r2', 'revert-replay'],
        ['r2', 'restart-replay'],
      ],
    );
    assert.ok(failedRungs.every((entry) => entry.detail.includes('cannot reach the L0 "lab"')));
  });
});

describe('SessionManager: observe mode', { timeout: 20_000 }, () => {
  it('touches no L0 at all (no snapshot list, no checkpoint) and reports what it would do as skipped', { timeout: 10_000 }, async () => {
    const h = harness({ remediation: { mode: 'observe', outlierMs: OUTLIER_MS } });
    h.connectAll();
    h.diverge(['r2'], ['r1', 'r3']);
    const wouldAct = await h.events.waitFor('would revert r2', remediationEvent('r2', 'revert-replay', 'skipped'));
    assert.ok(wouldAct.type === 'remediation');
    assert.match(wouldAct.detail, /^observe mode: would revert-replay — observe mode: r2 has been the outlier for \d+ ms/);
    assert.match(wouldAct.detail, /observe mode takes none by itself/);
    assert.deepEqual(h.l0.calls.items, [], 'no driver call in observe mode');
    assert.deepEqual(h.ui.received.items, [], 'no UI command either (no checkpoint holds input)');
    assert.deepEqual(
      h.events.items.filter((event) => event.type !== 'alert').map((event) => event.type),
      ['remediation'],
    );
    assert.ok(h.audit.entries().some((entry) => entry.kind === 'decision' && entry.outcome === 'would-act' && entry.replicaId === 'r2'));
    assert.equal(h.manager.view().canAct, true);
  });

  it('only reads the domain state of a lost replica (read-only), and says it would act when it is shut off', { timeout: 10_000 }, async () => {
    const h = harness({ remediation: { mode: 'observe', outlierMs: OUTLIER_MS }, lostDomainPollMs: 20 });
    h.l0.domainStates.set('rv-2', 'shut off');
    h.connectAll();
    h.manager.replicaState('r2', 'disconnected');
    const wouldAct = await h.events.waitFor('would revert the lost r2', remediationEvent('r2', 'revert-replay', 'skipped'));
    assert.ok(wouldAct.type === 'remediation');
    assert.match(wouldAct.detail, /r2 is lost and its domain is "shut off"/);
    assert.ok(h.l0.calls.items.length >= 1);
    assert.deepEqual(new Set(h.l0.log()), new Set(['domainState rv-2']));
    assert.deepEqual(h.ui.received.items, []);
  });
});

describe('SessionManager: confirm mode', { timeout: 20_000 }, () => {
  it('runs nothing on the L0 until the plan is approved, then the ladder', { timeout: 10_000 }, async () => {
    const h = harness({ remediation: { mode: 'confirm', outlierMs: OUTLIER_MS } });
    h.connectAll();
    await checkpointSucceeded(h.events);
    const callsBefore = h.l0.calls.items.length;
    const commandsBefore = h.ui.received.items.length;
    h.diverge(['r2'], ['r1', 'r3']);
    const planned = await h.events.waitFor('the plan', remediationEvent('r2', 'revert-replay', 'planned'));
    assert.ok(planned.type === 'remediation');
    const view = h.manager.view();
    assert.equal(view.pending.length, 1);
    const pending = view.pending[0]!;
    assert.equal(pending.replicaId, 'r2');
    assert.equal(pending.action, 'revert-replay');
    assert.match(pending.reason, /^r2 disagrees with r1, r3; then: restart-replay, quarantine$/);
    assert.equal(view.replicas.find((replica) => replica.replicaId === 'r2')?.state, 'awaiting-confirmation');
    assert.ok(h.notices.items.some((notice) => notice.level === 'warning' && notice.message.startsWith('RetroVisor asks before it acts: revert-replay on r2')));
    assert.equal(h.l0.calls.items.length, callsBefore, 'no driver call before the answer');
    assert.equal(h.ui.received.items.length, commandsBefore, 'no UI command before the answer');

    h.manager.confirm(pending.planId, true);
    await h.events.waitFor('the revert', remediationEvent('r2', 'revert-replay', 'succeeded'));
    assert.deepEqual(h.l0.log().slice(callsBefore), [`snapshotRevert rv-2 ${CHECKPOINT}`]);
    assert.equal(h.manager.view().pending.length, 0);
  });

  it('declined: skipped with the reason, nothing runs', { timeout: 10_000 }, async () => {
    const h = harness({ remediation: { mode: 'confirm', outlierMs: OUTLIER_MS } });
    h.connectAll();
    await checkpointSucceeded(h.events);
    const callsBefore = h.l0.calls.items.length;
    const commandsBefore = h.ui.received.items.length;
    h.diverge(['r2'], ['r1', 'r3']);
    await h.events.waitFor('the plan', remediationEvent('r2', 'revert-replay', 'planned'));
    const planId = h.manager.view().pending[0]?.planId ?? '';
    h.manager.confirm(planId, false);
    const skipped = await h.events.waitFor('the refusal', remediationEvent('r2', 'none', 'skipped'));
    assert.ok(skipped.type === 'remediation');
    assert.match(skipped.detail, new RegExp(`^the user declined ${planId} \\(revert-replay on r2\\)`));
    assert.deepEqual(remediations(h.events.items, 'r2'), ['planned revert-replay', 'skipped none']);
    assert.equal(h.manager.view().pending.length, 0);
    assert.equal(h.l0.calls.items.length, callsBefore);
    assert.equal(h.ui.received.items.length, commandsBefore);
    // Answering the same plan again changes nothing.
    h.manager.confirm(planId, true);
    assert.equal(h.l0.calls.items.length, callsBefore);
    assert.ok(h.audit.entries().some((entry) => entry.outcome === 'skipped' && /no plan .* awaits confirmation/.test(entry.detail)));
  });
});

describe('SessionManager: never without a strict majority', { timeout: 20_000 }, () => {
  it('two replicas, one diverging: no action, one alert however often it is reported', { timeout: 10_000 }, async () => {
    const h = harness({ remediation: { mode: 'auto', outlierMs: OUTLIER_MS }, replicaCount: 2 });
    h.connectAll();
    await checkpointSucceeded(h.events);
    const callsBefore = h.l0.calls.items.length;
    h.diverge(['r2'], ['r1']);
    h.diverge(['r2'], ['r1']);
    h.diverge(['r2'], ['r1']);
    const warnings = alerts(h.events.items).filter((alert) => alert.severity === 'warning');
    assert.equal(warnings.length, 1, JSON.stringify(warnings));
    assert.equal(warnings[0]?.message, 'the replicas disagree and no strict majority can say which one is wrong');
    assert.ok(h.notices.items.some((notice) => /with 2 replicas no strict majority is possible/.test(notice.message)));
    // No timer runs towards a remediation: the replica is not even a suspect.
    assert.deepEqual(
      h.manager.view().replicas.map((replica) => replica.state),
      ['healthy', 'healthy'],
    );
    assert.deepEqual(remediations(h.events.items, 'r2'), []);
    assert.equal(h.l0.calls.items.length, callsBefore);
    assert.ok(h.audit.entries().some((entry) => entry.outcome === 'skipped' && /\(no-majority\)/.test(entry.detail)));
  });

  it('a 1-1-1 split: no action, one alert', { timeout: 10_000 }, async () => {
    const h = harness({ remediation: { mode: 'auto', outlierMs: OUTLIER_MS } });
    h.connectAll();
    await checkpointSucceeded(h.events);
    const callsBefore = h.l0.calls.items.length;
    h.diverge(['r1', 'r2', 'r3'], [], true);
    h.diverge(['r1', 'r2', 'r3'], [], true);
    const warnings = alerts(h.events.items).filter((alert) => alert.severity === 'warning');
    assert.equal(warnings.length, 1);
    assert.ok(h.notices.items.some((notice) => /there is no majority: r1, r2, r3 all differ/.test(notice.message)));
    assert.deepEqual(
      h.manager.view().replicas.map((replica) => replica.state),
      ['healthy', 'healthy', 'healthy'],
    );
    assert.equal(h.events.items.filter((event) => event.type === 'remediation').length, 0);
    assert.equal(h.l0.calls.items.length, callsBefore);
  });
});

describe('SessionManager: a lost replica whose domain is down', { timeout: 20_000 }, () => {
  it('waits while the domain runs, remediates once it is shut off', { timeout: 10_000 }, async () => {
    const h = harness({ remediation: { mode: 'auto', outlierMs: OUTLIER_MS }, lostDomainPollMs: 25 });
    h.ui.seq = 9;
    h.connectAll();
    await checkpointSucceeded(h.events);
    // The revert starts a new QEMU: the UI reconnects the replica and reports it connected.
    h.ui.beforeAnswer = ({ command }) => {
      if (command.type === 'reconnect') h.manager.replicaState(command.replicaId, 'connected');
    };
    h.manager.replicaState('r2', 'disconnected');
    const waiting = await h.events.waitFor('waiting for the connection', remediationEvent('r2', 'none', 'skipped'));
    assert.ok(waiting.type === 'remediation');
    assert.match(waiting.detail, /r2 is unreachable but its domain is "running": waiting for the connection to come back/);
    assert.deepEqual(h.l0.log(['snapshotRevert', 'destroy', 'start']), [], 'a running domain is left alone');

    h.l0.domainStates.set('rv-2', 'shut off');
    const planned = await h.events.waitFor('the plan', remediationEvent('r2', 'revert-replay', 'planned'));
    assert.ok(planned.type === 'remediation');
    assert.match(planned.detail, /r2 is lost and its domain is "shut off"; 2 of 3 replicas agree \(r1, r3\)/);
    await h.events.waitFor('the revert', remediationEvent('r2', 'revert-replay', 'succeeded'));
    assert.deepEqual(h.l0.log(['snapshotRevert', 'destroy', 'start']), [`snapshotRevert rv-2 ${CHECKPOINT}`]);
    const replay = h.ui.received.items.find((received) => received.command.type === 'replay');
    assert.ok(replay?.command.type === 'replay');
    assert.equal(replay.command.replicaId, 'r2');
    assert.equal(replay.command.afterSeq, 9);
    assert.ok(['r1', 'r3'].includes(replay.command.donorId));
  });
});

describe('SessionManager: no window answers', { timeout: 20_000 }, () => {
  it('fails the checkpoint with "keep a window open", leaves no input held, and takes one once a window answers', { timeout: 10_000 }, async () => {
    const h = harness({ remediation: { mode: 'auto', outlierMs: OUTLIER_MS }, bus: { defaultTimeoutMs: 300, answerMarginMs: 100 } });
    h.ui.silent = true;
    h.connectAll();
    const failed = await h.events.waitFor('the failed checkpoint', (event) => event.type === 'checkpoint' && event.status === 'failed');
    assert.ok(failed.type === 'checkpoint');
    assert.equal(failed.name, CHECKPOINT);
    assert.match(failed.detail ?? '', /^no RetroVisor window answered "hold-input" within \d+ s: keep a window open on the session$/);
    assert.deepEqual(h.l0.log(['snapshotCreate']), [], 'no snapshot without held input');
    // A window that got the hold late must not keep input held: the manager releases it anyway.
    await h.ui.received.waitFor('release-input', (received) => received.command.type === 'release-input');
    assert.deepEqual(h.ui.types(), ['hold-input', 'release-input']);
    assert.ok(alerts(h.events.items).some((alert) => alert.message === `checkpoint ${CHECKPOINT} is incomplete and will not be used`));
    assert.ok(h.audit.entries().some((entry) => entry.kind === 'checkpoint' && entry.outcome === 'failed' && entry.detail.includes('keep a window open')));

    // A window opens: nothing was left pending, a checkpoint on demand goes through.
    h.ui.silent = false;
    const checkpoint = await h.manager.takeCheckpoint();
    assert.equal(checkpoint.complete, true);
    assert.equal(checkpoint.name, 'retrovisor-lab-one-2');
    assert.deepEqual(h.ui.types().slice(2), ['hold-input', 'await-agreement', 'release-input']);
  });
});
