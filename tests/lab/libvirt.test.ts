// Real-component tests of the L0 lab: libvirtd and a QEMU domain, driven as the libvirt-group user over
// a real sshd with a pinned host key (ssh2), as the remediation manager drives an L0. Runs in Node, as root.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client } from 'ssh2';
import { compareFramebuffers, openSshFingerprint, readFramebuffer, waitForStableFramebuffer, type Framebuffer } from './components.js';
import { describeLab, LAB_FILE_ENV, loadLabDescription, writeLabDescription, type Lab } from './lab.js';
import { domainSerialLog, L0_URI, L0_USER, startLibvirtL0, typeOnDomain, virsh, waitForDomainSerial, type L0Domain, type LibvirtL0 } from './libvirt.js';

const L0_START_TIMEOUT_MS = 300_000;
const TEST_TIMEOUT_MS = 90_000;
const SSH_TIMEOUT_MS = 60_000;
const SETTLE = { quietMs: 500, timeoutMs: 30_000 } as const;

let l0: LibvirtL0;
let domain: L0Domain;

before(
  async () => {
    l0 = await startLibvirtL0({ domains: 1 });
    const first = l0.domains[0];
    assert.ok(first !== undefined);
    domain = first;
    console.log(`L0 with 1 domain up in ${l0.startupMs} ms`);
  },
  { timeout: L0_START_TIMEOUT_MS },
);

after(async () => {
  await l0?.stop();
});

interface ExecResult {
  stdout: string;
  stderr: string;
  code: number | null;
}

function connect(fingerprint = l0.ssh.hostKeyFingerprint): Promise<Client> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    client.once('ready', () => resolve(client));
    client.once('error', reject);
    client.connect({
      host: l0.ssh.host,
      port: l0.ssh.port,
      username: l0.ssh.user,
      privateKey: readFileSync(l0.ssh.identityFile),
      readyTimeout: 20_000,
      hostVerifier: (key: Buffer) => openSshFingerprint(key) === fingerprint,
    });
  });
}

/** Runs one command over SSH as the L0 user and collects its output and exit status. */
async function sshExec(command: string): Promise<ExecResult> {
  const client = await connect();
  try {
    return await new Promise<ExecResult>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`\`${command}\` did not finish within ${SSH_TIMEOUT_MS} ms`)), SSH_TIMEOUT_MS);
      client.exec(command, (error, stream) => {
        if (error) {
          clearTimeout(timer);
          reject(error);
          return;
        }
        let stdout = '';
        let stderr = '';
        let code: number | null = null;
        stream.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
        stream.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
        stream.on('exit', (exitCode: number | null) => (code = exitCode));
        stream.on('close', () => {
          clearTimeout(timer);
          resolve({ stdout, stderr, code });
        });
      });
    });
  } finally {
    client.end();
  }
}

/** `virsh -c qemu:///system ARGS` over SSH; fails the test with virsh's stderr on a non-zero status. */
async function remoteVirsh(args: string): Promise<string> {
  const result = await sshExec(`virsh -c ${L0_URI} ${args}`);
  assert.equal(result.code, 0, `virsh ${args} failed: ${result.stderr}`);
  return result.stdout;
}

function screen(): Promise<Framebuffer> {
  return waitForStableFramebuffer({ host: domain.vncHost, port: domain.vncPort }, SETTLE);
}

function screenOtherThan(previous: Framebuffer): Promise<Framebuffer> {
  return waitForStableFramebuffer(
    { host: domain.vncHost, port: domain.vncPort },
    { ...SETTLE, accept: (framebuffer) => !compareFramebuffers(framebuffer, previous).identical },
  );
}

/** Opens a VNC connection, reads the server's greeting and resolves with a promise of its close. */
function holdVncConnection(): Promise<{ closed: Promise<void>; socket: net.Socket }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: domain.vncHost, port: domain.vncPort });
    const closed = new Promise<void>((resolveClose) => socket.once('close', () => resolveClose()));
    socket.once('error', reject);
    socket.once('data', (greeting: Buffer) => {
      if (greeting.toString('latin1').startsWith('RFB ')) resolve({ closed, socket });
      else reject(new Error(`not an RFB greeting: ${JSON.stringify(greeting.toString('latin1'))}`));
    });
  });
}

describe('L0 over SSH', { timeout: 7 * 60_000 }, () => {
  test('the libvirt-group user logs in with the pinned host key and sees the domain running', { timeout: TEST_TIMEOUT_MS }, async () => {
    assert.equal(l0.ssh.user, L0_USER);
    assert.match(l0.ssh.hostKeyFingerprint, /^SHA256:[A-Za-z0-9+/]{43}$/);
    const identity = await sshExec('id -un; id -Gn');
    assert.equal(identity.code, 0, identity.stderr);
    const [user, groups] = identity.stdout.trim().split('\n');
    assert.equal(user, L0_USER);
    assert.ok(groups?.split(' ').includes('libvirt'), `groups: ${groups}`);
    assert.equal(identity.stderr, '', 'nothing on stderr (sshd has a home folder to chdir to)');

    const listing = await remoteVirsh('list --all');
    assert.match(listing, new RegExp(`\\b${domain.name}\\s+running\\b`), listing);
  });

  test('a client pinning another host key refuses to connect', { timeout: TEST_TIMEOUT_MS }, async () => {
    await assert.rejects(connect('SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'), /verification failed|Host denied/i);
  });
});

describe('domain console', { timeout: 7 * 60_000 }, () => {
  test('send-key typing changes the screen and reaches the guest shell', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    assert.match(await domainSerialLog(domain.name), /READY/);
    const before = await screen();
    assert.equal(before.width, 720);
    assert.equal(before.height, 400);
    // Shifted characters test the explicit Shift: the guest sees key codes, not characters.
    await typeOnDomain(domain.name, 'echo "typed_(1)" > /dev/ttyS0\n');
    await waitForDomainSerial(domain.name, 'typed_(1)', 30_000);
    const typed = await screenOtherThan(before);
    const difference = compareFramebuffers(before, typed);
    t.diagnostic(`typing changed ${difference.differingPixels} px in ${JSON.stringify(difference.box)}`);
    assert.equal(difference.identical, false);
  });

  test('an internal snapshot with memory reverts the screen; VNC clients are cut and the port serves again', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const snapshot = `lab-${process.pid}`;
    const checkpoint = await screen();
    let startedAt = Date.now();
    // On a running domain with a qcow2 disk, the default snapshot is internal and holds the memory state.
    await remoteVirsh(`snapshot-create-as --domain ${domain.name} --name ${snapshot} --atomic`);
    t.diagnostic(`snapshot-create-as: ${Date.now() - startedAt} ms`);
    try {
      const info = await remoteVirsh(`snapshot-info --domain ${domain.name} --snapshotname ${snapshot}`);
      assert.match(info, /State:\s+running/);
      assert.match(info, /Location:\s+internal/);
      assert.match(await remoteVirsh(`snapshot-dumpxml --domain ${domain.name} --snapshotname ${snapshot}`), /<memory snapshot='internal'\/>/);

      await typeOnDomain(domain.name, 'echo diverged\n');
      await screenOtherThan(checkpoint);

      const viewer = await holdVncConnection();
      startedAt = Date.now();
      await remoteVirsh(`snapshot-revert --domain ${domain.name} --snapshotname ${snapshot}`);
      t.diagnostic(`snapshot-revert: ${Date.now() - startedAt} ms`);
      // The revert starts a new QEMU process: the viewer connected before it is cut, and the port
      // serves again as soon as the command has returned.
      await viewer.closed;
      await readFramebuffer({ host: domain.vncHost, port: domain.vncPort });
      assert.match(await remoteVirsh(`domstate ${domain.name}`), /^running/);

      const reverted = await screen();
      const difference = compareFramebuffers(checkpoint, reverted);
      assert.equal(difference.identical, true, `the reverted screen differs from the checkpoint's in ${difference.differingPixels} px ${JSON.stringify(difference.box)}`);
      // The new QEMU process reopened the serial log: it holds only what was written since.
      assert.doesNotMatch(await domainSerialLog(domain.name), /READY|typed_/);
    } finally {
      await remoteVirsh(`snapshot-delete --domain ${domain.name} --snapshotname ${snapshot}`);
    }
  });
});

describe('L0 start-up', { timeout: 7 * 60_000 }, () => {
  test('a guest that misses its READY deadline fails naming its serial log, and leaves no domain behind', { timeout: TEST_TIMEOUT_MS }, async () => {
    await assert.rejects(startLibvirtL0({ domains: 1, bootTimeoutMs: 1 }), (error: unknown) => {
      assert.ok(error instanceof Error);
      assert.match(error.message, /did not write "READY" to its serial port within 1 ms; \S+\.serial\.log (is empty|ends with)/);
      return true;
    });
    const names = (await virsh(['list', '--all', '--name'])).split('\n').map((line) => line.trim()).filter((line) => line !== '');
    assert.deepEqual(names.filter((name) => name.startsWith(`rv-lab-${process.pid}-`)), [domain.name]);
  });

  test('the lab description carries the L0 as plain JSON', { timeout: TEST_TIMEOUT_MS }, async () => {
    const directory = await mkdtemp(path.join(os.tmpdir(), 'retrovisor-l0-'));
    const savedFile = process.env[LAB_FILE_ENV];
    try {
      const lab: Lab = { xvnc: [], vms: [], l0, stop: () => Promise.resolve() };
      const filePath = path.join(directory, 'lab.json');
      await writeLabDescription(lab, filePath);
      process.env[LAB_FILE_ENV] = filePath;
      const loaded = loadLabDescription();
      assert.deepEqual(loaded, describeLab(lab));
      assert.deepEqual(loaded.l0, { uri: L0_URI, ssh: l0.ssh, domains: [domain] });
    } finally {
      if (savedFile === undefined) delete process.env[LAB_FILE_ENV];
      else process.env[LAB_FILE_ENV] = savedFile;
      await rm(directory, { recursive: true, force: true });
    }
  });
});
