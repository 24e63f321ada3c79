// The remediation service with the REAL virsh driver over a real sshd on loopback whose sessions find
// a fake virsh first on PATH: an L0 whose host key is not the pinned one gets nothing run on it — the
// checkpoint fails with the host-key message in the audit log and no rung, no quarantine follows —
// while the same L0 with the right key is checkpointed and reverted through virsh. Needs /usr/sbin/sshd.

import assert from 'node:assert/strict';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ManagerCommandEvent } from '../../../../common/contract';
import { EventService } from '../../../../main/backend/event-service';
import { SessionService } from '../../../../main/backend/session-service';
import { shellQuote } from '../../../../main/l0/virsh-argv';
import { RemediationService } from '../../../../main/remediation/remediation-service';
import type { ManagerEvent } from '../../../../main/remediation/session-manager';
import { SshL0Pool } from '../../../../main/ssh-l0';
import { startSshd, type SshdHandle } from '../../../lab/components';
import { findExecutable } from '../../../lab/vm-assets';
import { recordingLogger } from '../backend/service-fakes';
import { FakeUi, profileDocument, Recorder, remediationEvent, temporaryFolder } from './manager-fakes';

const SSHD_MISSING = 'sshd not found: run `npm run lab:install` (apt-get install -y openssh-server)';
const WRONG_HOST_KEY = `SHA256:${'Q'.repeat(43)}`;

/** A fake virsh that appends its arguments (one call per line, NUL-free names only) and succeeds. */
function fakeVirshScript(recordFile: string): string {
  return `#!/bin/sh
# Fake virsh for RetroVisor's manager tests: records its arguments, answers like virsh on success.
printf '%s\\n' "$*" >> ${shellQuote(recordFile)}
for argument in "$@"; do
  case "$argument" in
    domstate) echo 'running (booted)' ;;
  esac
done
exit 0
`;
}

describe('RemediationService over SSH: the pinned host key', { timeout: 60_000 }, () => {
  let sshd: SshdHandle;
  let folder: { folder: string; remove: () => Promise<void> };
  let recordFile = '';
  const log = recordingLogger();
  let pool: SshL0Pool;
  let service: RemediationService;
  let sessions: SessionService;
  const managerEvents = new Recorder<ManagerEvent>();
  const commands = new Recorder<ManagerCommandEvent>();
  const uis = new Map<string, FakeUi>();

  before(async () => {
    if (findExecutable('sshd') === undefined) throw new Error(SSHD_MISSING);
    folder = await temporaryFolder('retrovisor-manager-ssh-');
    const fakeBin = path.join(folder.folder, 'bin');
    recordFile = path.join(folder.folder, 'virsh-calls');
    await mkdir(fakeBin);
    await writeFile(path.join(fakeBin, 'virsh'), fakeVirshScript(recordFile));
    await chmod(path.join(fakeBin, 'virsh'), 0o755);
    // OpenSSH >= 7.8: every session of this sshd finds the fake virsh before any real one.
    sshd = await startSshd({ extraConfig: [`SetEnv PATH=${fakeBin}:/usr/local/bin:/usr/bin:/bin`] });
    sessions = new SessionService({ logger: log.logger, redactor: log.redactor, workingDirectory: folder.folder });
    const events = new EventService({ logger: log.logger, redactor: log.redactor });
    pool = new SshL0Pool({ logger: log.logger, redactor: log.redactor, readyTimeoutMs: 5_000 });
    service = new RemediationService({ logger: log.logger, redactor: log.redactor, sessions, events, ssh: pool, dataDirectory: path.join(folder.folder, 'data'), simulatedL0: () => null });
    service.onManagerEvent((event) => managerEvents.push(event));
    events.on('managerCommand', (event) => {
      commands.push(event);
      uis.get(event.sessionId)?.receive(event);
    });
  });

  after(async () => {
    await service?.close();
    await pool?.close();
    await sshd?.stop();
    await folder?.remove();
  });

  function open(name: string, hostKey: string): { sessionId: string; ui: FakeUi } {
    const document = profileDocument({
      name,
      remediation: { mode: 'auto', outlierMs: 500 },
      l0: { ssh: { host: sshd.host, port: sshd.port, user: sshd.user, identityFile: sshd.identityFile, hostKey }, uri: 'qemu:///system' },
    });
    const result = sessions.openDocument(document, 'test profile');
    assert.ok(result.ok, JSON.stringify(result));
    const ui = new FakeUi();
    ui.sink = (answer) => service.answer(answer);
    uis.set(result.session.sessionId, ui);
    for (const replicaId of ['r1', 'r2', 'r3']) service.replicaReport({ sessionId: result.session.sessionId, replicaId, state: 'connected' });
    return { sessionId: result.session.sessionId, ui };
  }

  async function virshCalls(): Promise<string[]> {
    const text = await readFile(recordFile, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return '';
      throw error;
    });
    return text.split('\n').filter((line) => line.length > 0);
  }

  it('a wrong pinned key: the checkpoint fails with the host-key message, virsh never runs, no rung and no quarantine follow', { timeout: 30_000 }, async () => {
    const { sessionId, ui } = open('Wrong Key', WRONG_HOST_KEY);
    const mine = (predicate: (event: ManagerEvent) => boolean) => (event: ManagerEvent) => event.sessionId === sessionId && predicate(event);
    const failed = await managerEvents.waitFor('the failed checkpoint', mine((event) => event.type === 'checkpoint' && event.status === 'failed'), 1, 20_000);
    assert.ok(failed.type === 'checkpoint');
    const hostKeyMessage = new RegExp(`host key for 127\\.0\\.0\\.1:${sshd.port} changed: profile pins SHA256:Q{43}, server presented SHA256:`);
    assert.match(failed.detail ?? '', new RegExp(`^r1: ${hostKeyMessage.source}`));
    assert.equal(failed.name, 'retrovisor-wrong-key-1');

    // r2 then keeps disagreeing: without a complete checkpoint there is no rung to run.
    service.divergenceReport({ sessionId, kind: 'divergence', outliers: ['r2'], agreeing: ['r1', 'r3'], regions: [], noMajority: false }, null);
    const cannot = await managerEvents.waitFor('the no-checkpoint alert', mine((event) => event.type === 'alert' && event.replica === 'r2'));
    assert.ok(cannot.type === 'alert');
    assert.equal(cannot.message, 'r2 cannot be remediated yet: no complete checkpoint');
    assert.ok(!managerEvents.items.some(mine((event) => event.type === 'remediation' && event.status !== 'skipped')), 'no rung planned, started or quarantined');
    assert.equal(service.view(sessionId).replicas[1]?.state, 'suspect');
    assert.deepEqual(ui.types(), ['hold-input', 'await-agreement', 'release-input'], 'nothing isolated');

    assert.deepEqual(await virshCalls(), [], 'the fake virsh never ran');
    const audit = service.view(sessionId).audit;
    const commandEntries = audit.filter((entry) => entry.kind === 'command');
    // snapshot-list at start and snapshot-create-as for the checkpoint, on each of the three domains.
    assert.deepEqual(commandEntries.map((entry) => entry.argv?.find((argument) => argument.startsWith('snapshot-'))).sort(), [
      'snapshot-create-as',
      'snapshot-create-as',
      'snapshot-create-as',
      'snapshot-list',
      'snapshot-list',
      'snapshot-list',
    ]);
    for (const entry of commandEntries) {
      assert.equal(entry.outcome, 'host-key-changed');
      assert.equal(entry.exitStatus, null);
      assert.match(entry.stderr ?? '', hostKeyMessage);
      assert.ok(entry.argv?.includes('virsh'));
    }
    assert.ok(audit.some((entry) => entry.kind === 'checkpoint' && entry.outcome === 'failed' && hostKeyMessage.test(entry.detail)));
    assert.ok(audit.some((entry) => entry.kind === 'alert' && /^cannot list the snapshots of rv-1: host key for/.test(entry.detail)));
  });

  it('the right key: the same L0 is checkpointed and reverted through virsh', { timeout: 30_000 }, async () => {
    const { sessionId, ui } = open('Right Key', sshd.hostKeyFingerprint);
    await managerEvents.waitFor('the checkpoint', (event) => event.sessionId === sessionId && event.type === 'checkpoint' && event.status === 'succeeded', 1, 20_000);
    service.divergenceReport({ sessionId, kind: 'divergence', outliers: ['r2'], agreeing: ['r1', 'r3'], regions: [], noMajority: false }, null);
    await managerEvents.waitFor('the revert', (event) => event.sessionId === sessionId && remediationEvent('r2', 'revert-replay', 'succeeded')(event), 1, 20_000);
    const calls = await virshCalls();
    assert.deepEqual(calls.slice(0, 3).sort(), [1, 2, 3].map((n) => `--quiet --readonly --connect qemu:///system snapshot-list --domain rv-${n} --topological`));
    assert.deepEqual(
      calls.slice(3, 6).sort(),
      [1, 2, 3].map((n) => `--quiet --connect qemu:///system snapshot-create-as --domain rv-${n} --name retrovisor-right-key-1 --atomic --memspec snapshot=internal`),
    );
    assert.deepEqual(calls.slice(6), ['--quiet --connect qemu:///system snapshot-revert --domain rv-2 --snapshotname retrovisor-right-key-1 --running']);
    assert.ok(ui.types().includes('replay'));
  });
});
