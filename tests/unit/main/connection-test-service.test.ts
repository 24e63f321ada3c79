// The editor's "Test" calls through the back end's contract handlers: only the part under test is
// validated (the rest of an unsaved profile may be incomplete), passwords resolve as when connecting and
// never enter the report, and an L0 with no pin answers the keys to trust. Real sockets, a real sshd.

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createBackend, type Backend } from '../../../main/backend';
import { checkVncAuthResponse, newVncChallenge } from '../../../main/demo/vnc-auth';
import { createLogger, SecretRedactor } from '../../../main/logger';
import { ByteReader } from '../../../main/probe/byte-reader';
import { startSshd, type SshdHandle } from '../../lab/components';
import { findExecutable } from '../../lab/vm-assets';

const PASSWORD = 'vnc-test-pw';
let backend: Backend;
let vncServer: net.Server;
let vncPort = 0;
let sshd: SshdHandle;
let folder = '';

before(async () => {
  if (findExecutable('sshd') === undefined) throw new Error('sshd not found: run `npm run lab:install` (apt-get install -y openssh-server)');
  folder = await mkdtemp(path.join(os.tmpdir(), 'retrovisor-conntest-'));
  sshd = await startSshd();
  // An RFB 3.8 server asking for PASSWORD.
  vncServer = net.createServer((socket) => {
    socket.on('error', () => undefined);
    const reader = new ByteReader(socket, Date.now() + 10_000);
    void (async () => {
      socket.write('RFB 003.008\n');
      await reader.read(12);
      socket.write(Buffer.from([1, 2]));
      await reader.u8();
      const challenge = newVncChallenge();
      socket.write(challenge);
      const ok = checkVncAuthResponse(PASSWORD, challenge, await reader.read(16));
      socket.write(Buffer.from([0, 0, 0, ok ? 0 : 1]));
      if (!ok) {
        socket.end(Buffer.from([0, 0, 0, 0]));
        return;
      }
      await reader.u8();
      const init = Buffer.alloc(24);
      init.writeUInt16BE(1024, 0);
      init.writeUInt16BE(768, 2);
      socket.write(init);
    })().catch(() => socket.destroy());
  });
  await new Promise<void>((resolve) => vncServer.listen(0, '127.0.0.1', resolve));
  vncPort = (vncServer.address() as net.AddressInfo).port;
  backend = createBackend({
    shell: 'browser',
    version: 'test',
    headless: true,
    logger: createLogger({ sink: () => undefined }),
    redactor: new SecretRedactor(),
    dataDirectory: folder,
  });
});

after(async () => {
  await backend?.close();
  vncServer?.close();
  await sshd?.stop();
  if (folder) await rm(folder, { recursive: true, force: true });
});

describe('connection tests through the back end', { timeout: 60_000 }, () => {
  it('tests one replica of an unsaved profile whose other replica is still incomplete', async () => {
    const profile = {
      version: 1,
      name: 'draft',
      replicas: [
        { id: 'r1', vnc: { host: '127.0.0.1', port: vncPort, password: PASSWORD } },
        { id: 'r2', vnc: { host: '' } },
      ],
    };
    const report = await backend.handlers.testReplicaConnection({ profile, replicaId: 'r1' });
    assert.deepEqual(
      report.steps.map((step) => `${step.id}:${step.outcome}`),
      ['reach:passed', 'version:passed', 'security:passed', 'auth:passed', 'desktop:passed'],
    );
    assert.match(report.steps.at(-1)!.detail, /1024×768/);
    assert.doesNotMatch(JSON.stringify(report), new RegExp(PASSWORD));

    const incomplete = await backend.handlers.testReplicaConnection({ profile, replicaId: 'r2' });
    assert.equal(incomplete.ok, false);
    assert.equal(incomplete.steps[0]!.id, 'profile');
    assert.match(incomplete.steps[0]!.detail, /\$\.replicas\[0\]\.vnc/);
  });

  it('resolves a password file as when connecting, and says when it cannot', async () => {
    const passwordFile = path.join(folder, 'pw');
    await writeFile(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
    const withFile = {
      version: 1,
      name: 'draft',
      replicas: [{ id: 'r1', vnc: { host: '127.0.0.1', port: vncPort, password: { file: passwordFile } } }],
    };
    assert.equal((await backend.handlers.testReplicaConnection({ profile: withFile, replicaId: 'r1' })).ok, true);
    const missing = { ...withFile, replicas: [{ id: 'r1', vnc: { host: '127.0.0.1', port: vncPort, password: { file: path.join(folder, 'nope') } } }] };
    const report = await backend.handlers.testReplicaConnection({ profile: missing, replicaId: 'r1' });
    assert.deepEqual(report.steps.map((step) => `${step.id}:${step.outcome}`), ['password:failed']);
  });

  it('answers an L0 with no pinned host key with the keys to trust, then tests it once pinned', async () => {
    const l0 = { ssh: { host: sshd.host, port: sshd.port, user: sshd.user, identityFile: sshd.identityFile }, uri: 'test:///default' };
    const profile = {
      version: 1,
      name: 'draft',
      replicas: [{ id: 'r1', vnc: { host: '127.0.0.1', port: vncPort }, l0: 'a', domain: 'test' }],
      l0: { a: l0 },
    };
    const first = await backend.handlers.testL0Connection({ profile, l0: 'a' });
    assert.deepEqual(first.steps.map((step) => `${step.id}:${step.outcome}`), ['ssh:passed', 'host-key:warning']);
    const trusted = first.unpinnedHostKeys?.[0]?.fingerprint;
    assert.equal(trusted, sshd.hostKeyFingerprint);

    const pinned = { ...profile, l0: { a: { ...l0, ssh: { ...l0.ssh, hostKey: trusted } } } };
    const second = await backend.handlers.testL0Connection({ profile: pinned, l0: 'a' });
    assert.deepEqual(
      second.steps.map((step) => `${step.id}:${step.outcome}`).slice(0, 5),
      ['ssh:passed', 'host-key:passed', 'login:passed', 'virsh:passed', 'domain:r1:warning'],
    );
  });

  it('names what is missing when the L0 under test is not in the profile', async () => {
    const report = await backend.handlers.testL0Connection({ profile: { version: 1 }, l0: 'nope' });
    assert.equal(report.ok, false);
    assert.deepEqual(report.steps.map((step) => `${step.id}:${step.outcome}`), ['profile:failed']);
    assert.match(report.steps[0]!.detail, /no L0 named "nope"/);
  });
});
