// End to end against a REAL L0: libvirtd with three QEMU domains (qcow2 disks for internal snapshots),
// reached as a non-root user in group libvirt over a loopback sshd with a pinned host key. Under mode
// "auto": typing through the app, a checkpoint on every domain, more typing, then the second domain
// made to diverge out of band (keys sent straight to it through libvirt): the manager reverts it to
// the checkpoint with virsh over SSH and replays the journal into it; afterwards the three consoles
// agree, and a command typed after the remediation reaches each VM's serial log exactly once. A
// domain destroyed out of band is brought back the same way. Runs in Node with real processes.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { AuditEntry } from '../../common/contract';
import { folderName } from '../../main/divergence-evidence';
import { compareFramebuffers } from '../lab/components';
import { loadLabDescription, type L0Description } from '../lab/lab';
import { domainSerialLog, typeOnDomain, virsh } from '../lab/libvirt';
import { eventually, launchBrowser, openAppPage, readCanvas, startApp, thumbnailCanvas, typeLikeAPerson, waitForReplicaState, writeProfile, type RunningApp } from './support/app';

const IDS = ['v1', 'v2', 'v3'] as const;
const PROFILE_NAME = `libvirt-remediation-${process.pid}`;
/** Reverting takes ~2.4 s, reconnecting and replaying a few more; a loaded 2-core machine needs room. */
const REMEDIATION_TIMEOUT_MS = 120_000;

describe('the remediation manager against a real libvirt L0', { timeout: 420_000 }, () => {
  let l0: L0Description;
  let app: RunningApp;
  let browser: Browser;
  let page: Page;
  let dataDir = '';

  function audit(): AuditEntry[] {
    try {
      return readFileSync(path.join(dataDir, folderName(PROFILE_NAME), 'audit.jsonl'), 'utf8')
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as AuditEntry);
    } catch {
      return [];
    }
  }

  function auditTail(): string {
    return JSON.stringify(audit().slice(-20), null, 1);
  }

  async function consolesAgree(): Promise<string | null> {
    const [first, ...others] = await Promise.all(IDS.map((id) => readCanvas(page, thumbnailCanvas(id))));
    for (const [index, other] of others.entries()) {
      const comparison = compareFramebuffers(first!, other);
      if (!comparison.identical) return `${IDS[0]} and ${IDS[index + 1]} differ: ${JSON.stringify(comparison)}`;
    }
    return null;
  }

  async function waitForAgreement(what: string, timeoutMs = 30_000): Promise<void> {
    let last: string | null = null;
    const agreed = await eventually(async () => {
      last = await consolesAgree();
      return last === null;
    }, timeoutMs);
    assert.ok(agreed, `${what}: ${last}\naudit:\n${auditTail()}`);
  }

  async function remediationSucceeded(replicaId: string, count: number): Promise<void> {
    const done = await eventually(
      async () => audit().filter((entry) => entry.kind === 'remediation' && entry.replicaId === replicaId && entry.outcome === 'succeeded').length >= count,
      REMEDIATION_TIMEOUT_MS,
      500,
    );
    assert.ok(done, `no successful remediation of ${replicaId}; audit:\n${auditTail()}\napp stderr:\n${app.stderr().slice(-2000)}`);
  }

  before(async () => {
    const lab = loadLabDescription();
    if (lab.l0 === undefined || lab.l0.domains.length < 3) throw new Error('the shared lab has no libvirt L0 with 3 domains: run the tests with `npm test` (it starts one)');
    l0 = lab.l0;
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'retrovisor-remediation-libvirt-'));
    const profilePath = writeProfile({
      version: 1,
      name: PROFILE_NAME,
      replicas: IDS.map((id, index) => {
        const domain = l0.domains[index]!;
        return { id, label: `Domain ${index + 1}`, vnc: { host: domain.vncHost, port: domain.vncPort }, l0: 'lab', domain: domain.name };
      }),
      l0: {
        lab: {
          ssh: { host: l0.ssh.host, port: l0.ssh.port, user: l0.ssh.user, identityFile: l0.ssh.identityFile, hostKey: l0.ssh.hostKeyFingerprint },
          uri: l0.uri,
        },
      },
      remediation: { mode: 'auto', outlierMs: 1500, rungTimeoutMs: 90_000 },
    });
    [app, browser] = await Promise.all([startApp({ profilePath, env: { RETROVISOR_DATA_DIR: dataDir } }), launchBrowser()]);
    page = await openAppPage(browser, app);
    for (const id of IDS) await waitForReplicaState(page, id, 'connected', 60_000);
  });

  after(async () => {
    await browser?.close();
    await app?.stop();
    if (dataDir !== '') await rm(dataDir, { recursive: true, force: true });
  });

  it('checkpoints every domain through virsh over SSH once the consoles agree', async () => {
    await page.focus('#composite');
    await typeLikeAPerson(page, 'clear\n');
    await waitForAgreement('after clear');
    const taken = await eventually(async () => audit().some((entry) => entry.kind === 'checkpoint' && entry.action === 'take' && entry.outcome === 'succeeded'), 60_000, 500);
    assert.ok(taken, `no checkpoint; audit:\n${auditTail()}`);
    const creates = audit().filter((entry) => entry.kind === 'command' && entry.argv?.includes('snapshot-create-as'));
    assert.deepEqual(creates.map((entry) => entry.argv?.[entry.argv.indexOf('--domain') + 1]).sort(), l0.domains.slice(0, 3).map((domain) => domain.name).sort());
    for (const entry of creates) {
      assert.equal(entry.exitStatus, 0, `snapshot-create-as failed: ${entry.stderr}`);
      assert.ok(entry.argv?.includes('virsh') && entry.argv.includes('--connect') && entry.argv.includes(l0.uri), `argv: ${JSON.stringify(entry.argv)}`);
    }
    // The snapshot is really there, with memory, on the L0.
    const listed = await virsh(['snapshot-list', '--domain', l0.domains[1]!.name, '--name']);
    assert.match(listed, new RegExp(`retrovisor-${PROFILE_NAME}-\\d+`));
  });

  it('reverts a domain that diverged out of band, replays the journal into it, and the consoles agree again', async () => {
    await page.focus('#composite');
    await typeLikeAPerson(page, 'echo typed after the checkpoint\n');
    await waitForAgreement('after typing');

    await typeOnDomain(l0.domains[1]!.name, 'zzz');
    await remediationSucceeded('v2', 1);
    const reverts = audit().filter((entry) => entry.kind === 'command' && entry.argv?.includes('snapshot-revert'));
    assert.equal(reverts.length, 1, `one revert: ${auditTail()}`);
    assert.equal(reverts[0]?.argv?.[reverts[0].argv.indexOf('--domain') + 1], l0.domains[1]!.name);
    await waitForAgreement('after the remediation');
    await page.locator('[data-testid="remediation-replica-v2"][data-state="healthy"]').waitFor({ timeout: 10_000 });

    // A command typed now reaches every VM exactly once (a revert truncates the reverted VM's serial log).
    await page.focus('#composite');
    await typeLikeAPerson(page, 'echo MARK-$((40+2)) > /dev/ttyS0\n');
    for (const domain of l0.domains.slice(0, 3)) {
      const once = await eventually(async () => ((await domainSerialLog(domain.name)).match(/MARK-42/g) ?? []).length >= 1, 20_000);
      assert.ok(once, `${domain.name}'s serial log never showed MARK-42`);
    }
    await waitForAgreement('after the command');
    for (const domain of l0.domains.slice(0, 3)) {
      assert.equal(((await domainSerialLog(domain.name)).match(/MARK-42/g) ?? []).length, 1, `${domain.name} ran the command exactly once`);
    }
  });

  it('brings back a domain destroyed out of band and lets it rejoin', async () => {
    await virsh(['destroy', l0.domains[2]!.name]);
    await remediationSucceeded('v3', 1);
    await waitForReplicaState(page, 'v3', 'connected', 30_000);
    await waitForAgreement('after bringing v3 back');
    const state = await virsh(['domstate', l0.domains[2]!.name]);
    assert.match(state, /running/);
  });
});
