// The remediation service over a real SessionService and EventService: a fake UI answers the
// `managerCommand` events through `answer`, a fake L0 stands in as the demo lab's simulated L0. One
// whole auto episode (checkpoint, revert + replay, audit file), a manager per session and what closing
// a session stops, and a simulated L0 without its demo lab. Plain Node; waits are on events.

import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AuditEntry, ManagerCommandEvent } from '../../../../common/contract';
import type { L0Driver } from '../../../../common/l0';
import { EventService } from '../../../../main/backend/event-service';
import { SessionService } from '../../../../main/backend/session-service';
import { auditFilePath } from '../../../../main/remediation/audit-log';
import { RemediationService } from '../../../../main/remediation/remediation-service';
import type { ManagerEvent } from '../../../../main/remediation/session-manager';
import { SshL0Pool } from '../../../../main/ssh-l0';
import { recordingLogger } from '../backend/service-fakes';
import { FakeL0Driver, FakeUi, profileDocument, Recorder, remediationEvent, temporaryFolder } from './manager-fakes';

const CHECKPOINT = 'retrovisor-lab-one-1';

let dataFolder: { folder: string; remove: () => Promise<void> };

before(async () => {
  dataFolder = await temporaryFolder('retrovisor-remediation-service-');
});

after(async () => {
  await dataFolder.remove();
});

/** The back end's services around a RemediationService; `uiFor` picks the fake UI of a session. */
function backEnd(options: { simulatedL0: L0Driver | null; dataDirectory: string }) {
  const log = recordingLogger();
  const sessions = new SessionService({ logger: log.logger, redactor: log.redactor, workingDirectory: options.dataDirectory });
  const events = new EventService({ logger: log.logger, redactor: log.redactor });
  const ssh = new SshL0Pool({ logger: log.logger, redactor: log.redactor });
  const service = new RemediationService({ logger: log.logger, redactor: log.redactor, sessions, events, ssh, dataDirectory: options.dataDirectory, simulatedL0: () => options.simulatedL0 });
  const managerEvents = new Recorder<ManagerEvent>();
  service.onManagerEvent((event) => managerEvents.push(event));
  const commands = new Recorder<ManagerCommandEvent>();
  const uis = new Map<string, FakeUi>();
  events.on('managerCommand', (event) => {
    commands.push(event);
    uis.get(event.sessionId)?.receive(event);
  });
  return {
    log,
    sessions,
    events,
    service,
    managerEvents,
    commands,
    /** Opens a profile document as a session and gives it a fake UI. */
    open(document: Record<string, unknown>): { sessionId: string; ui: FakeUi } {
      const result = sessions.openDocument(document, 'test profile');
      assert.ok(result.ok, JSON.stringify(result));
      const ui = new FakeUi();
      ui.sink = (answer) => service.answer(answer);
      uis.set(result.session.sessionId, ui);
      return { sessionId: result.session.sessionId, ui };
    },
    connectAll(sessionId: string, ids: readonly string[] = ['r1', 'r2', 'r3']): void {
      for (const replicaId of ids) service.replicaReport({ sessionId, replicaId, state: 'connected' });
    },
    async close(): Promise<void> {
      await service.close();
      await ssh.close();
    },
  };
}

function ofSession(sessionId: string, predicate: (event: ManagerEvent) => boolean) {
  return (event: ManagerEvent): boolean => event.sessionId === sessionId && predicate(event);
}

describe('RemediationService: an auto episode from checkpoint to rejoin', { timeout: 30_000 }, () => {
  it('checkpoints all replicas at once, reverts and replays the outlier, and audits every command and decision', { timeout: 15_000 }, async (t) => {
    const l0 = new FakeL0Driver();
    const folder = path.join(dataFolder.folder, 'episode');
    const back = backEnd({ simulatedL0: l0, dataDirectory: folder });
    // Closed below to read the audit file; this also closes it when an assertion fails first (closing twice is harmless).
    t.after(() => back.close());
    const { sessionId, ui } = back.open(profileDocument({ remediation: { mode: 'auto', outlierMs: 500 } }));
    // One timeline of the UI's answers and the L0's calls: the order the manager did things in.
    const timeline: string[] = [];
    ui.beforeAnswer = ({ command }) => {
      timeline.push(`ui ${command.type}${'replicaId' in command ? ` ${command.replicaId}` : ''}`);
      // A revert starts a new QEMU: the UI sees the replica drop and come back before it says so.
      if (command.type === 'reconnect') {
        back.service.replicaReport({ sessionId, replicaId: command.replicaId, state: 'reconnecting' });
        back.service.replicaReport({ sessionId, replicaId: command.replicaId, state: 'connected' });
      }
    };
    let openSnapshots: () => void = () => undefined;
    const snapshotsMayFinish = new Promise<void>((resolve) => {
      openSnapshots = resolve;
    });
    l0.script = (call) => {
      timeline.push(`l0 ${call.operation} ${call.domain ?? ''}`);
      return call.operation === 'snapshotCreate' ? snapshotsMayFinish : undefined;
    };
    ui.seq = 42;
    back.connectAll(sessionId);

    // The three snapshots are all under way together, while input is held and before it is released.
    await l0.calls.waitFor('three snapshots', (call) => call.operation === 'snapshotCreate', 3);
    assert.deepEqual(l0.log(['snapshotCreate']), [`snapshotCreate rv-1 ${CHECKPOINT}`, `snapshotCreate rv-2 ${CHECKPOINT}`, `snapshotCreate rv-3 ${CHECKPOINT}`]);
    assert.deepEqual(ui.types(), ['hold-input', 'await-agreement']);
    openSnapshots();
    await back.managerEvents.waitFor('the checkpoint', ofSession(sessionId, (event) => event.type === 'checkpoint' && event.status === 'succeeded'));
    assert.deepEqual(timeline, [
      'l0 listSnapshots rv-1',
      'l0 listSnapshots rv-2',
      'l0 listSnapshots rv-3',
      'ui hold-input',
      'ui await-agreement',
      'l0 snapshotCreate rv-1',
      'l0 snapshotCreate rv-2',
      'l0 snapshotCreate rv-3',
      'ui release-input',
    ]);
    const agreement = ui.received.items[1]?.command;
    assert.ok(agreement?.type === 'await-agreement');
    assert.deepEqual(agreement.replicaIds, ['r1', 'r2', 'r3']);
    assert.deepEqual(back.service.view(sessionId).checkpoints.map((checkpoint) => [checkpoint.name, checkpoint.seq, checkpoint.complete]), [[CHECKPOINT, 42, true]]);

    // Input goes on after the checkpoint; r2 then disagrees with r1 and r3.
    ui.seq = 57;
    ui.replayed = 15;
    timeline.length = 0;
    const divergedAtMs = Date.now();
    back.service.divergenceReport(
      { sessionId, kind: 'divergence', divergenceId: 'd1', change: 'new', divergenceKind: 'pixels', outliers: ['r2'], agreeing: ['r1', 'r3'], regions: [], noMajority: false },
      path.join(folder, 'evidence', 'd1'),
    );
    const planned = await back.managerEvents.waitFor('the plan', remediationEvent('r2', 'revert-replay', 'planned'));
    assert.ok(Date.now() - divergedAtMs >= 500, 'nothing is planned before outlierMs has passed');
    assert.ok(planned.type === 'remediation');
    assert.match(planned.detail, /^r2 has been the outlier for \d+ ms \(outlierMs 500\); 2 of 3 replicas agree \(r1, r3\)$/);
    const succeeded = await back.managerEvents.waitFor('the rejoin', remediationEvent('r2', 'revert-replay', 'succeeded'));
    assert.ok(succeeded.type === 'remediation');
    assert.equal(succeeded.detail, `15 input(s) replayed since checkpoint ${CHECKPOINT}`);
    // The UI's comparison agrees again.
    back.service.divergenceReport({ sessionId, kind: 'consensus', outliers: [], agreeing: ['r1', 'r2', 'r3'], regions: [], noMajority: false }, null);

    assert.deepEqual(timeline, ['ui isolate r2', `l0 snapshotRevert rv-2`, 'ui reconnect r2', 'ui replay r2', 'ui await-agreement']);
    const replay = ui.received.items.find((received) => received.command.type === 'replay')?.command;
    assert.ok(replay?.type === 'replay');
    assert.ok(['r1', 'r3'].includes(replay.donorId), replay.donorId);
    assert.equal(replay.afterSeq, 42, "replayed from the checkpoint's seq");
    const verdict = ui.received.items.at(-1)?.command;
    assert.ok(verdict?.type === 'await-agreement');
    assert.deepEqual(verdict.replicaIds, ['r1', 'r2', 'r3']);
    assert.deepEqual(l0.log(['snapshotRevert']), [`snapshotRevert rv-2 ${CHECKPOINT}`]);

    const mine = back.managerEvents.items.filter((event) => event.sessionId === sessionId);
    assert.deepEqual(
      mine.filter((event) => event.type !== 'alert').map((event) => (event.type === 'checkpoint' ? `checkpoint ${event.status}` : event.type === 'remediation' ? `${event.action} ${event.status}` : '')),
      ['checkpoint started', 'checkpoint succeeded', 'revert-replay planned', 'revert-replay started', 'revert-replay succeeded'],
    );
    assert.ok(mine.some((event) => event.type === 'alert' && event.severity === 'info' && event.message === 'r2 agrees with the others again'));
    const view = back.service.view(sessionId);
    assert.deepEqual(
      view.replicas.map((replica) => replica.state),
      ['healthy', 'healthy', 'healthy'],
    );
    assert.equal(view.replicas[1]?.attemptsLastHour, 1);

    // The audit file: every command with its argv, every decision.
    const file = auditFilePath(folder, 'Lab One');
    assert.equal(view.auditFile, file);
    await back.close();
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal((await stat(path.dirname(file))).mode & 0o777, 0o700);
    const entries = (await readFile(file, 'utf8'))
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as AuditEntry & { time: string });
    for (const entry of entries) assert.equal(entry.time, new Date(entry.timeMs).toISOString());
    const commands = entries.filter((entry) => entry.kind === 'command');
    assert.deepEqual(
      commands.map((entry) => [entry.l0, entry.outcome, ...(entry.argv ?? [])].join(' ')).sort(),
      [
        'lab succeeded simulated-l0 snapshot-list rv-1',
        'lab succeeded simulated-l0 snapshot-list rv-2',
        'lab succeeded simulated-l0 snapshot-list rv-3',
        `lab succeeded simulated-l0 snapshot-create-as rv-1 ${CHECKPOINT}`,
        `lab succeeded simulated-l0 snapshot-create-as rv-2 ${CHECKPOINT}`,
        `lab succeeded simulated-l0 snapshot-create-as rv-3 ${CHECKPOINT}`,
        `lab succeeded simulated-l0 snapshot-revert rv-2 ${CHECKPOINT}`,
      ].sort(),
    );
    assert.equal(commands.length, l0.calls.items.length, 'one audit line per L0 call');
    const decisions = entries.filter((entry) => entry.kind !== 'command').map((entry) => `${entry.kind} ${entry.action ?? '-'} ${entry.outcome}`);
    for (const expected of [
      'checkpoint first-agreement started',
      'checkpoint take succeeded',
      'decision revert-replay planned',
      'remediation revert-replay started',
      'remediation revert-replay succeeded',
      'alert - info',
    ]) {
      assert.ok(decisions.includes(expected), `${expected} in ${JSON.stringify(decisions)}`);
    }
    assert.ok(entries.some((entry) => entry.kind === 'checkpoint' && entry.detail.startsWith(`${CHECKPOINT} taken at input #42`)));
    assert.ok(entries.some((entry) => entry.kind === 'remediation' && entry.outcome === 'succeeded' && entry.replicaId === 'r2'));
  });
});

describe('RemediationService: managers per session', { timeout: 30_000 }, () => {
  it('keeps one manager per session; closing a session stops it and cancels what waits on its UI', { timeout: 15_000 }, async (t) => {
    const l0 = new FakeL0Driver();
    const back = backEnd({ simulatedL0: l0, dataDirectory: path.join(dataFolder.folder, 'sessions') });
    t.after(() => back.close());
    const first = back.open(profileDocument({ remediation: { mode: 'auto', outlierMs: 500 } }));
    const second = back.open(profileDocument({ name: 'Lab Two', remediation: { mode: 'auto', outlierMs: 500 } }));
    // The first session's window never answers: its checkpoint waits on hold-input.
    first.ui.silent = true;
    back.connectAll(first.sessionId);
    back.connectAll(second.sessionId);
    await back.managerEvents.waitFor('the second checkpoint', ofSession(second.sessionId, (event) => event.type === 'checkpoint' && event.status === 'succeeded'));
    const held = await first.ui.received.waitFor("the first session's hold", (received) => received.command.type === 'hold-input');
    assert.deepEqual(second.ui.types(), ['hold-input', 'await-agreement', 'release-input']);
    assert.ok(back.commands.items.every((event) => (event.sessionId === first.sessionId ? first : second).ui.received.items.some((received) => received.commandId === event.commandId)));
    assert.equal(back.service.view(second.sessionId).checkpoints[0]?.name, 'retrovisor-lab-two-1');
    assert.equal(back.service.view(first.sessionId).checkpoints.filter((checkpoint) => checkpoint.complete).length, 0);

    const commandsToFirst = first.ui.received.items.length;
    assert.equal(back.sessions.close(first.sessionId, 'the session was closed'), true);
    const failed = await back.managerEvents.waitFor('the cancelled checkpoint', ofSession(first.sessionId, (event) => event.type === 'checkpoint' && event.status === 'failed'));
    assert.ok(failed.type === 'checkpoint');
    assert.equal(failed.detail, 'the session was closed');
    // The hold it waited for is no longer waited for, and nothing new is sent to the closed session's UI.
    assert.throws(() => back.service.answer({ sessionId: first.sessionId, commandId: held.commandId, ok: true, seq: 1 }), /no such command is waiting for an answer/);
    assert.equal(first.ui.received.items.length, commandsToFirst, JSON.stringify(first.ui.received.items.slice(commandsToFirst)));
    assert.throws(() => back.service.view(first.sessionId), /no open session/);
    back.service.replicaReport({ sessionId: first.sessionId, replicaId: 'r1', state: 'connected' });
    assert.throws(() => back.service.view(first.sessionId), /no open session/, 'a report for a closed session makes no manager');

    // The other session goes on.
    const checkpoint = await back.service.takeCheckpoint(second.sessionId);
    assert.deepEqual([checkpoint.name, checkpoint.complete], ['retrovisor-lab-two-2', true]);
  });

  it('a simulated L0 without its demo lab: cannot act, and nothing runs', { timeout: 15_000 }, async (t) => {
    const back = backEnd({ simulatedL0: null, dataDirectory: path.join(dataFolder.folder, 'no-lab') });
    t.after(() => back.close());
    const { sessionId } = back.open(profileDocument({ remediation: { mode: 'auto', outlierMs: 500 } }));
    back.connectAll(sessionId);
    assert.equal(back.service.view(sessionId).canAct, false);
    back.service.divergenceReport({ sessionId, kind: 'divergence', outliers: ['r2'], agreeing: ['r1', 'r3'], regions: [], noMajority: false }, null);
    const refused = await back.managerEvents.waitFor('the refusal', remediationEvent('r2', 'none', 'skipped'));
    assert.ok(refused.type === 'remediation');
    assert.match(refused.detail, /r2 has been the outlier for \d+ ms .*but it has no L0 RetroVisor can reach/);
    // No checkpoint was even started (it would be incomplete): a checkpoint starts synchronously with the decision.
    assert.ok(!back.managerEvents.items.some((event) => event.type === 'checkpoint'), 'no checkpoint without a reachable L0');
    assert.deepEqual(back.commands.items, [], 'no command to the UI: no input held, nothing isolated');
    assert.ok(!back.managerEvents.items.some((event) => event.type === 'remediation' && event.status !== 'skipped'));
  });
});
