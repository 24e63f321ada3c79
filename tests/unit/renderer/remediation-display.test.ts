// What the remediation panel, the confirmation and the actions menu say and allow, in plain Node:
// audit lines (a command's argv joined, exit status, duration), which action fits which manager
// state, the state words, the checkpoint outcome, the confirmation's evidence and the panel's fold.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { REPLICA_ACTION_NAMES, type AuditEntry, type CheckpointView } from '../../../common/contract';
import type { TimelineEntry } from '../../../renderer/divergence/timeline';
import {
  MIN_STAGE_WIDTH_PX,
  PANEL_EXTRA_WIDTH_PX,
  actionsMenuBlocked,
  auditLine,
  backoffText,
  checkpointOutcomeText,
  checkpointsNewestFirst,
  clockTime,
  commandText,
  confirmationEvidence,
  dockedPanelFits,
  formatDuration,
  newestAuditFirst,
  newestCompleteCheckpoint,
  plannedActionText,
  remediationBadgeText,
  remediationRequestKey,
  remediationSummary,
  replicaActionAvailability,
  replicaDetailText,
  replicaStateText,
  visibleReplicaActions,
} from '../../../renderer/workspace/remediation-display';

const AT = new Date(2026, 0, 5, 14, 3, 7, 512).getTime();
const nameOf = (id: string): string => ({ r1: 'Demo 1', r2: 'Demo 2', r3: 'Demo 3' })[id] ?? id;

function entry(overrides: Partial<TimelineEntry>): TimelineEntry {
  return {
    id: 1,
    kind: 'new',
    atMs: AT,
    divergenceId: 'd1',
    divergenceKind: 'pixels',
    outliers: ['r2'],
    agreeing: ['r1', 'r3'],
    noMajority: false,
    regions: [],
    regionCount: 1,
    inputSeq: 4,
    screenshots: [],
    evidence: { state: 'none', folder: null, error: null },
    updates: 0,
    replicaId: null,
    reason: null,
    ...overrides,
  };
}

function checkpoint(name: string, takenAtMs: number, complete = true, failed: string[] = [], seq = 17): CheckpointView {
  return { name, seq, takenAtMs, complete, failed };
}

describe('remediation display', { timeout: 10_000 }, () => {
  describe('audit lines', { timeout: 5000 }, () => {
    it('shows a command as its argv joined, with L0, exit status and duration', { timeout: 1000 }, () => {
      const line = auditLine(
        { timeMs: AT, kind: 'command', replicaId: 'r2', l0: 'l0-a', argv: ['virsh', '-c', 'qemu:///system', 'snapshot-revert', 'vm-b', 'retrovisor-lab-3'], exitStatus: 0, durationMs: 812, outcome: 'succeeded', detail: 'x' },
        nameOf,
      );
      assert.equal(line.text, 'virsh -c qemu:///system snapshot-revert vm-b retrovisor-lab-3');
      assert.equal(line.meta, 'Demo 2 · on l0-a · exit 0 · 812 ms');
      assert.equal(line.time, '14:03:07');
      assert.equal(line.tone, 'ok');
      assert.equal(line.stderr, null);
    });

    it('marks a failed command and keeps its stderr; no exit status reads as such', { timeout: 1000 }, () => {
      const failed = auditLine({ timeMs: AT, kind: 'command', argv: ['virsh', 'reset', 'vm b'], exitStatus: 1, durationMs: 4200, stderr: 'error: domain not found\n', outcome: 'failed', detail: '' }, nameOf);
      assert.equal(failed.text, "virsh reset 'vm b'", 'an argument with a space is quoted so the line reads unambiguously');
      assert.equal(failed.meta, 'exit 1 · 4.2 s · failed');
      assert.equal(failed.tone, 'bad');
      assert.equal(failed.stderr, 'error: domain not found');
      const killed = auditLine({ timeMs: AT, kind: 'command', argv: ['virsh', 'start', 'vm'], exitStatus: null, durationMs: 60_000, outcome: 'timeout', detail: '' }, nameOf);
      assert.equal(killed.meta, 'no exit status · 1 min 0 s · timeout');
      assert.equal(killed.tone, 'bad');
    });

    it('shows a refused command (no argv) by its detail, and other entries by replica, action and outcome', { timeout: 1000 }, () => {
      const refused = auditLine({ timeMs: AT, kind: 'command', argv: [], exitStatus: null, outcome: 'invalid-argument', detail: 'domain name "a;b" refused' }, nameOf);
      assert.equal(refused.text, 'domain name "a;b" refused');
      const decision = auditLine({ timeMs: AT, kind: 'remediation', replicaId: 'r3', action: 'revert-replay', outcome: 'started', detail: 'run revert-replay on r3' }, nameOf);
      assert.deepEqual([decision.text, decision.meta, decision.tone], ['run revert-replay on r3', 'Demo 3 · revert-replay · started', 'busy']);
      assert.equal(auditLine({ timeMs: AT, kind: 'alert', outcome: 'noted', detail: 'no majority' }, nameOf).tone, 'warn');
    });

    it('quotes only what a shell would need quoted', { timeout: 1000 }, () => {
      assert.equal(commandText(['simulated-l0', 'snapshot-create-as', 'r2', 'retrovisor-demo-lab-1']), 'simulated-l0 snapshot-create-as r2 retrovisor-demo-lab-1');
      assert.equal(commandText(['echo', '', "it's"]), `echo '' 'it'\\''s'`);
    });

    it('lists the newest entries first, at most the number asked', { timeout: 1000 }, () => {
      const audit: AuditEntry[] = [1, 2, 3, 4].map((n) => ({ timeMs: n, kind: 'decision', outcome: 'planned', detail: `#${n}` }));
      assert.deepEqual(newestAuditFirst(audit, 3).map((line) => line.detail), ['#4', '#3', '#2']);
      assert.deepEqual(newestAuditFirst([], 3), []);
    });

    it('formats durations and clock times', { timeout: 1000 }, () => {
      assert.deepEqual([formatDuration(0), formatDuration(999.4), formatDuration(999.6), formatDuration(61_000)], ['0 ms', '999 ms', '1.0 s', '1 min 1 s']);
      assert.equal(clockTime(AT), '14:03:07');
    });
  });

  describe('actions and states', { timeout: 5000 }, () => {
    it('offers "include again" only for a quarantined replica', { timeout: 1000 }, () => {
      assert.deepEqual(visibleReplicaActions('healthy'), REPLICA_ACTION_NAMES.filter((action) => action !== 'include'));
      assert.deepEqual(visibleReplicaActions('quarantined'), REPLICA_ACTION_NAMES);
      assert.equal(replicaActionAvailability('include', 'quarantined', false).enabled, true, 'including again needs no L0');
      assert.equal(replicaActionAvailability('include', 'healthy', true).enabled, false);
    });

    it('disables every L0 action without an L0, with the reason', { timeout: 1000 }, () => {
      for (const action of REPLICA_ACTION_NAMES.filter((name) => name !== 'include')) {
        const availability = replicaActionAvailability(action, 'healthy', false);
        assert.equal(availability.enabled, false, action);
        assert.match(availability.reason ?? '', /no "l0" and "domain"/);
      }
    });

    it('keeps manual rungs away from a replica the manager already works on', { timeout: 1000 }, () => {
      for (const action of REPLICA_ACTION_NAMES.filter((name) => name !== 'include' && name !== 'domain-state')) {
        assert.equal(replicaActionAvailability(action, 'remediating', true).enabled, false, `${action} while remediating`);
      }
      assert.equal(replicaActionAvailability('domain-state', 'remediating', true).enabled, true, 'asking the state is harmless');
      for (const action of ['revert-replay', 'restart-replay', 'reset', 'reboot'] as const) {
        assert.equal(replicaActionAvailability(action, 'awaiting-confirmation', true).enabled, false);
        assert.equal(replicaActionAvailability(action, 'planned', true).enabled, false);
        assert.equal(replicaActionAvailability(action, 'quarantined', true).enabled, true, `${action} may bring a quarantined replica back`);
        assert.equal(replicaActionAvailability(action, 'suspect', true).enabled, true);
      }
      assert.equal(replicaActionAvailability('destroy', 'awaiting-confirmation', true).enabled, true);
    });

    it('blocks the menu button until the manager reports, or without an L0 unless quarantined', { timeout: 1000 }, () => {
      assert.match(actionsMenuBlocked(null, undefined) ?? '', /not answered/);
      assert.match(actionsMenuBlocked({ canAct: false }, 'healthy') ?? '', /no "l0"/);
      assert.equal(actionsMenuBlocked({ canAct: false }, 'quarantined'), null);
      assert.equal(actionsMenuBlocked({ canAct: true }, 'healthy'), null);
    });

    it('names each state, with the rung where it matters, and badges only remediating and quarantined', { timeout: 1000 }, () => {
      assert.deepEqual(replicaStateText({ state: 'remediating', action: 'revert-replay' }), { text: 'Remediating: revert + replay', tone: 'busy' });
      assert.deepEqual(replicaStateText({ state: 'planned', action: 'restart-replay' }), { text: 'Planned: restart + replay', tone: 'warn' });
      assert.equal(replicaStateText({ state: 'awaiting-confirmation', action: 'reset' }).text, 'Awaiting confirmation');
      assert.deepEqual(replicaStateText({ state: 'quarantined' }), { text: 'Quarantined', tone: 'bad' });
      assert.deepEqual(replicaStateText({ state: 'new-state' }), { text: 'new-state', tone: 'off' }, 'an unknown state is shown as it is');
      assert.equal(remediationBadgeText({ state: 'remediating', action: 'restart-replay' }), 'restart + replay');
      assert.equal(remediationBadgeText({ state: 'quarantined' }), 'quarantined');
      assert.equal(remediationBadgeText({ state: 'suspect' }), null);
      assert.equal(remediationBadgeText(undefined), null);
    });

    it('drops a detail that only repeats the state', { timeout: 1000 }, () => {
      assert.equal(replicaDetailText({ state: 'healthy', detail: 'healthy' }), null);
      assert.equal(replicaDetailText({ state: 'awaiting-confirmation', detail: 'Awaiting confirmation' }), null);
      assert.equal(replicaDetailText({ state: 'healthy', detail: '  ' }), null);
      assert.equal(replicaDetailText({ state: 'healthy', detail: 'r2 agrees again' }), 'r2 agrees again');
    });

    it('sums the manager up: a question first, then what runs, then what is set apart', { timeout: 1000 }, () => {
      const replicas = [
        { replicaId: 'r1', state: 'quarantined', detail: '', attemptsLastHour: 0 },
        { replicaId: 'r2', state: 'remediating', detail: '', attemptsLastHour: 1 },
      ];
      assert.equal(remediationSummary({ replicas, pending: [{ planId: 'p', replicaId: 'r3', action: 'reset', reason: '' }] }, nameOf), 'Demo 3 awaits your answer');
      assert.equal(remediationSummary({ replicas, pending: [] }, nameOf), 'Remediating Demo 2');
      assert.equal(remediationSummary({ replicas: replicas.slice(0, 1), pending: [] }, nameOf), 'Demo 1 quarantined');
      assert.equal(remediationSummary({ replicas: [{ replicaId: 'r1', state: 'healthy', detail: '', attemptsLastHour: 0 }], pending: [] }, nameOf), 'Every replica healthy');
    });

    it('keys requests per checkpoint, plan and replica action', { timeout: 1000 }, () => {
      assert.equal(remediationRequestKey('checkpoint'), 'checkpoint');
      assert.equal(remediationRequestKey('plan', 'plan-1'), 'plan:plan-1');
      assert.equal(remediationRequestKey('action', 'r2', 'reset'), 'action:r2:reset');
    });
  });

  describe('checkpoints and backoff', { timeout: 5000 }, () => {
    it('says whether a checkpoint is complete or which replicas failed', { timeout: 1000 }, () => {
      assert.equal(checkpointOutcomeText({ complete: true, failed: [] }, nameOf), 'complete');
      assert.equal(checkpointOutcomeText({ complete: false, failed: ['r2', 'r3'] }, nameOf), 'failed on Demo 2, Demo 3');
      assert.equal(checkpointOutcomeText({ complete: false, failed: [] }, nameOf), 'incomplete');
    });

    it('orders checkpoints newest first and finds the newest complete one', { timeout: 1000 }, () => {
      const list = [checkpoint('c1', 1000), checkpoint('c3', 3000, false, ['r2']), checkpoint('c2', 2000)];
      assert.deepEqual(checkpointsNewestFirst(list).map((entry) => entry.name), ['c3', 'c2', 'c1']);
      assert.equal(newestCompleteCheckpoint(list)?.name, 'c2', 'an incomplete checkpoint is never reverted to');
      assert.equal(newestCompleteCheckpoint([]), null);
    });

    it('shows a backoff only while it is in force', { timeout: 1000 }, () => {
      assert.equal(backoffText(undefined, AT), null);
      assert.equal(backoffText(AT, AT), null);
      assert.equal(backoffText(AT + 24_100, AT), `backoff until ${clockTime(AT + 24_100)} (25 s left)`);
      assert.equal(backoffText(AT + 90_000, AT), `backoff until ${clockTime(AT + 90_000)} (1 min 30 s left)`);
    });

    it('says what a planned rung will do, naming the checkpoint', { timeout: 1000 }, () => {
      const text = plannedActionText('revert-replay', 'Demo 2', checkpoint('retrovisor-lab-2', AT));
      assert.match(text, /^Demo 2 is reverted to checkpoint retrovisor-lab-2 \(input #17, 14:03:07\)/);
      assert.match(plannedActionText('revert-replay', 'Demo 2', null), /there is none yet/);
      assert.match(plannedActionText('reset', 'Demo 2', null), /cannot rejoin/);
    });
  });

  describe('confirmation evidence', { timeout: 5000 }, () => {
    const shot = (replicaId: string, url: string | null) => ({ replicaId, state: url === null ? ('failed' as const) : ('ready' as const), url });

    it("takes the replica's and a majority replica's screens from the newest entry that has them", { timeout: 1000 }, () => {
      const timeline = [
        entry({ id: 3, kind: 'changed', atMs: AT + 2 }),
        entry({ id: 2, kind: 'new', atMs: AT + 1, screenshots: [shot('r1', null), shot('r2', 'blob:r2-new'), shot('r3', 'blob:r3-new')] }),
        entry({ id: 1, kind: 'new', atMs: AT, screenshots: [shot('r1', 'blob:r1-old'), shot('r2', 'blob:r2-old')] }),
      ];
      assert.deepEqual(confirmationEvidence(timeline, 'r2'), { entryId: 2, atMs: AT + 1, subjectUrl: 'blob:r2-new', majorityId: 'r3', majorityUrl: 'blob:r3-new' });
    });

    it('ignores entries where the replica is not an outlier, and resolved or consensus entries', { timeout: 1000 }, () => {
      const timeline = [
        entry({ id: 4, kind: 'resolved', outliers: ['r2'] }),
        entry({ id: 3, kind: 'consensus', outliers: [] }),
        entry({ id: 2, kind: 'new', outliers: ['r3'], agreeing: ['r1', 'r2'], screenshots: [shot('r3', 'blob:r3')] }),
      ];
      assert.equal(confirmationEvidence(timeline, 'r2'), null);
      assert.equal(confirmationEvidence([], 'r2'), null);
    });

    it('without pictures, still names the majority of the newest entry (for the live diff view)', { timeout: 1000 }, () => {
      const timeline = [entry({ id: 2, kind: 'changed', agreeing: ['r3', 'r1'] }), entry({ id: 1, kind: 'new', screenshots: [shot('r2', null)] })];
      assert.deepEqual(confirmationEvidence(timeline, 'r2'), { entryId: 2, atMs: AT, subjectUrl: null, majorityId: 'r3', majorityUrl: null });
    });
  });

  describe('panel fold', { timeout: 5000 }, () => {
    it('docks while the stage keeps its minimum width, and does not flip once folded', { timeout: 1000 }, () => {
      // A stage squeezed to nothing by the side panels is measured as 0: the panel folds, it does not stay docked.
      assert.equal(dockedPanelFits(0, true), false, 'a stage squeezed to 0 px folds the panel');
      assert.equal(dockedPanelFits(0, false), false);
      assert.equal(dockedPanelFits(MIN_STAGE_WIDTH_PX, true), true);
      assert.equal(dockedPanelFits(MIN_STAGE_WIDTH_PX - 1, true), false);
      // Folded, the stage is wider by the panel's extra width: the same room, measured the other way.
      assert.equal(dockedPanelFits(MIN_STAGE_WIDTH_PX - 1 + PANEL_EXTRA_WIDTH_PX, false), false);
      assert.equal(dockedPanelFits(MIN_STAGE_WIDTH_PX + PANEL_EXTRA_WIDTH_PX, false), true);
    });
  });
});
