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
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { AuditEntry } from '../../common/contract';
import { folderName } from '../../main/divergence-evidence';
import { compareFramebuffers } from '../lab/components';
import { loadLabDescription, type L0Description } from '../lab/lab';
import { domainSerialLog, typeOnDomain, virsh } from '../lab/libvirt';
import { CLI, REPO_ROOT, eventually, launchBrowser, runCli, openAppPage, readCanvas, startApp, thumbnailCanvas, typeLikeAPerson, waitForReplicaState, writeProfile, type RunningApp } from './support/app';

const IDS = ['v1', 'v2', 'v3'] as const;
const PROFILE_NAME = `libvirt-remediation-${process.pid}`;
/** Reverting takes ~2.4 s, reconnecting and replaying a few more; a loaded 2-core machine needs room. */
const REMEDIATION_TIMEOUT_MS = 120_000;
/** Typing at a person's pace (see typeLikeAPerson). */
const HUMAN_PACE = { keysPerSecond: 12 } as const;

/** A profile of the lab's first three domains under mode "auto", reached with virsh over the lab's sshd. */
function labProfile(l0: L0Description, name: string, mode: 'observe' | 'auto' = 'auto'): unknown {
  return {
    version: 1,
    name,
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
    remediation: { mode, outlierMs: 1500, rungTimeoutMs: 90_000 },
  };
}

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
    // A replica reconnecting (its canvas replaced) does not agree yet.
    const screens = await Promise.all(IDS.map((id) => readCanvas(page, thumbnailCanvas(id)))).catch((error: unknown) => String(error));
    if (typeof screens === 'string') return screens;
    const [first, ...others] = screens;
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
    if (!agreed && process.env.RETROVISOR_SCREENSHOT_DIR) await page.screenshot({ path: path.join(process.env.RETROVISOR_SCREENSHOT_DIR, 'remediation-libvirt-failure.png') });
    assert.ok(agreed, `${what}: ${last}\naudit:\n${auditTail()}`);
  }

  /**
   * Types a command line through the app and waits until every VM has run it (a marker on its serial
   * port): keys typed while a shell is still busy are echoed at different places on different VMs,
   * a real divergence the manager would remediate, not what these tests are about.
   */
  async function typeCommand(command: string, marker: string): Promise<void> {
    await page.focus('#composite');
    await typeLikeAPerson(page, `${command}; echo ${marker}-$((1+1)) > /dev/ttyS0\n`, HUMAN_PACE);
    for (const domain of l0.domains.slice(0, 3)) {
      const ran = await eventually(async () => (await domainSerialLog(domain.name)).includes(`${marker}-2`), 30_000);
      assert.ok(ran, `${domain.name} did not run "${command}"`);
    }
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
    const profilePath = writeProfile(labProfile(l0, PROFILE_NAME));
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
    await typeCommand('clear', 'CLEARED');
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
    await typeCommand('echo typed after the checkpoint', 'TYPED');
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
    await typeLikeAPerson(page, 'echo MARK-$((40+2)) > /dev/ttyS0\n', HUMAN_PACE);
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

describe('retrovisor run --json with the manager against a real libvirt L0', { timeout: 240_000 }, () => {
  it('prints the checkpoint and the remediation of a domain diverged out of band, and exits 0 once all agree', async () => {
    const l0 = loadLabDescription().l0;
    if (l0 === undefined || l0.domains.length < 3) throw new Error('the shared lab has no libvirt L0 with 3 domains: run the tests with `npm test` (it starts one)');
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'retrovisor-remediation-run-'));
    const profilePath = writeProfile(labProfile(l0, `libvirt-run-${process.pid}`));
    const child = spawn(process.execPath, [CLI, 'run', '--profile', profilePath, '--json', '--duration', '150'], {
      cwd: REPO_ROOT,
      env: { ...process.env, RETROVISOR_DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const events: Record<string, unknown>[] = [];
    const waiters: { probe: (event: Record<string, unknown>) => boolean; resolve: () => void }[] = [];
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    let buffered = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      let newline = buffered.indexOf('\n');
      while (newline >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        newline = buffered.indexOf('\n');
        if (line.trim() === '') continue;
        const event = JSON.parse(line) as Record<string, unknown>;
        events.push(event);
        for (const waiter of [...waiters]) {
          if (!waiter.probe(event)) continue;
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve();
        }
      }
    });
    // 'close', not 'exit': the summary line may still be in the pipe when the process has exited.
    const exited = new Promise<number | null>((resolve) => child.once('close', (status) => resolve(status)));
    const printed = (what: string, probe: (event: Record<string, unknown>) => boolean, timeoutMs: number): Promise<void> =>
      events.some(probe)
        ? Promise.resolve()
        : new Promise((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`run printed no ${what} within ${timeoutMs} ms; events:\n${events.map((event) => JSON.stringify(event)).join('\n')}\nstderr:\n${stderr.slice(-2000)}`)), timeoutMs);
            waiters.push({ probe, resolve: () => (clearTimeout(timer), resolve()) });
          });
    try {
      await printed('succeeded checkpoint', (event) => event.type === 'checkpoint' && event.status === 'succeeded', 90_000);
      await typeOnDomain(l0.domains[1]!.name, 'qq');
      await printed('remediation of v2', (event) => event.type === 'remediation' && event.replica === 'v2' && event.status === 'succeeded', REMEDIATION_TIMEOUT_MS);
      await printed('consensus', (event) => event.type === 'consensus', 30_000);
    } finally {
      child.kill('SIGINT');
    }
    const status = await exited;
    await rm(dataDir, { recursive: true, force: true });
    const remediation = events.filter((event) => event.type === 'remediation' && event.replica === 'v2').map((event) => `${String(event.action)}:${String(event.status)}`);
    assert.deepEqual(remediation.slice(0, 3), ['revert-replay:planned', 'revert-replay:started', 'revert-replay:succeeded']);
    const summary = events.find((event) => event.type === 'summary');
    assert.equal(summary?.diverged, false, `summary: ${JSON.stringify(summary)}; exit ${status}; last events:\n${events.slice(-8).map((event) => JSON.stringify(event)).join('\n')}\nstderr:\n${stderr.slice(-2000)}`);
    assert.equal(status, 0, `exit status; stderr:\n${stderr.slice(-2000)}`);
  });
});

describe('retrovisor run --checkpoint against a real libvirt L0', { timeout: 180_000 }, () => {
  it('takes a checkpoint on every domain once they agree, even in observe mode, prints it and exits 0', async () => {
    const l0 = loadLabDescription().l0;
    if (l0 === undefined || l0.domains.length < 3) throw new Error('the shared lab has no libvirt L0 with 3 domains: run the tests with `npm test` (it starts one)');
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'retrovisor-checkpoint-run-'));
    const name = `libvirt-checkpoint-${process.pid}`;
    const result = await runCli(['run', '--profile', writeProfile(labProfile(l0, name, 'observe')), '--json', '--checkpoint'], { RETROVISOR_DATA_DIR: dataDir }, 150_000);
    await rm(dataDir, { recursive: true, force: true });
    const checkpoints = result.events.filter((event) => event.type === 'checkpoint');
    assert.deepEqual(
      checkpoints.map((event) => event.status),
      ['started', 'succeeded'],
      `events:\n${result.stdout}\nstderr:\n${result.stderr.slice(-2000)}`,
    );
    assert.equal(result.status, 0, result.stderr);
    for (const domain of l0.domains.slice(0, 3)) {
      assert.match(await virsh(['snapshot-list', '--domain', domain.name, '--name']), new RegExp(`retrovisor-${name}-1`), `${domain.name} has the checkpoint`);
    }
  });
});
