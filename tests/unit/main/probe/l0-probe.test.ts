// The L0 "Test" against a real OpenSSH sshd on loopback and virsh's built-in test driver
// (test:///default, one domain "test"): first contact shows the host keys to trust, a pinned key is
// checked, a changed key is refused before logging in, virsh answers, domains are found or not.
// Needs /usr/sbin/sshd and virsh (fails, never skips, when either is missing).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ConnectionTestReport } from '../../../../common/connection-test';
import { createLogger, SecretRedactor } from '../../../../main/logger';
import { displayAgreement, parseVncDisplay, probeL0, scanHostKeys, type L0ProbeOptions } from '../../../../main/probe/l0-probe';
import { startSshd, type SshdHandle } from '../../../lab/components';
import { findExecutable } from '../../../lab/vm-assets';

const logger = createLogger({ sink: () => undefined, level: 'debug' });
let sshd: SshdHandle;

before(async () => {
  if (findExecutable('sshd') === undefined) throw new Error('sshd not found: run `npm run lab:install` (apt-get install -y openssh-server)');
  if (findExecutable('virsh') === undefined) throw new Error('virsh not found: run `npm run lab:install` (apt-get install -y libvirt-clients)');
  sshd = await startSshd({ hostKeyTypes: ['ed25519', 'ecdsa', 'rsa'] });
});
after(async () => {
  await sshd?.stop();
});

function options(overrides: Partial<L0ProbeOptions> = {}): L0ProbeOptions {
  return {
    name: 'a',
    ssh: { host: sshd.host, port: sshd.port, user: sshd.user, identityFile: sshd.identityFile, hostKey: sshd.hostKeyFingerprint },
    uri: 'test:///default',
    baseDir: '/',
    replicas: [{ replicaId: 'r1', domain: 'test', vnc: { host: '127.0.0.1', port: 5901, tunnel: false } }],
    logger,
    redactor: new SecretRedactor(),
    ...overrides,
  };
}

function outcomes(report: ConnectionTestReport): string[] {
  return report.steps.map((step) => `${step.id}:${step.outcome}`);
}

describe('L0 test (SSH and virsh probe)', { timeout: 120_000 }, () => {
  it('scans every host key type the L0 has, logging nothing in', async () => {
    const scan = await scanHostKeys(sshd.host, sshd.port);
    assert.equal(scan.ok, true);
    const fingerprints = scan.ok ? scan.keys.map((key) => `${key.type} ${key.fingerprint}`).sort() : [];
    assert.deepEqual(fingerprints, [
      `ECDSA ${sshd.hostKeyFingerprints.ecdsa}`,
      `ED25519 ${sshd.hostKeyFingerprints.ed25519}`,
      `RSA ${sshd.hostKeyFingerprints.rsa}`,
    ].sort());
  });

  it('on first contact (no pinned key) shows the keys to trust and goes no further', async () => {
    const base = options();
    const report = await probeL0({ ...base, ssh: { ...base.ssh, hostKey: '' } });
    assert.deepEqual(outcomes(report), ['ssh:passed', 'host-key:warning']);
    assert.equal(report.unpinnedHostKeys?.length, 3);
    assert.match(report.steps[1]!.detail, /ssh-keygen -lf/);
  });

  it('with the pinned key: logs in, virsh answers, the domain is found (its missing display a warning)', async () => {
    const report = await probeL0(options());
    assert.deepEqual(outcomes(report), ['ssh:passed', 'host-key:passed', 'login:passed', 'virsh:passed', 'domain:r1:warning']);
    assert.equal(report.ok, true);
    assert.match(report.steps[3]!.detail, /1 domain\(s\) defined/);
    assert.match(report.steps[4]!.detail, /display could not be read/);
  });

  it('a pinned ECDSA key is accepted too', async () => {
    const base = options();
    const report = await probeL0({ ...base, ssh: { ...base.ssh, hostKey: sshd.hostKeyFingerprints.ecdsa! } });
    assert.deepEqual(outcomes(report).slice(0, 3), ['ssh:passed', 'host-key:passed', 'login:passed']);
  });

  it('refuses a changed host key before logging in, listing what the server presented', async () => {
    const base = options();
    const report = await probeL0({ ...base, ssh: { ...base.ssh, hostKey: 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' } });
    assert.deepEqual(outcomes(report), ['ssh:passed', 'host-key:failed']);
    assert.equal(report.ok, false);
    assert.match(report.steps[1]!.detail, /changed/);
    assert.ok(report.steps[1]!.detail.includes(sshd.hostKeyFingerprints.ed25519!));
  });

  it('names a domain that is not on the L0, and a replica with no domain', async () => {
    const report = await probeL0(
      options({
        replicas: [
          { replicaId: 'r1', domain: 'not-there', vnc: { host: '127.0.0.1', port: 5901, tunnel: false } },
          { replicaId: 'r2', vnc: { host: '127.0.0.1', port: 5902, tunnel: false } },
        ],
      }),
    );
    assert.deepEqual(outcomes(report), ['ssh:passed', 'host-key:passed', 'login:passed', 'virsh:passed', 'domain:r1:failed', 'domain:r2:warning']);
    assert.match(report.steps[4]!.detail, /not found on test:\/\/\/default \(defined: test\)/);
  });

  it('refuses a libvirt URI with a query string before running anything', async () => {
    const report = await probeL0(options({ uri: 'qemu+unix:///system?socket=/tmp/x' }));
    assert.deepEqual(outcomes(report), ['ssh:passed', 'host-key:passed', 'login:passed', 'virsh:failed']);
    assert.match(report.steps[3]!.detail, /URI/);
  });

  it('says when nothing answers on the SSH port', async () => {
    const base = options();
    const report = await probeL0({ ...base, ssh: { ...base.ssh, port: 1, hostKey: '' } });
    assert.deepEqual(outcomes(report), ['ssh:failed']);
    assert.match(report.steps[0]!.detail, /refused the connection/);
  });
});

describe('domain display against the replica endpoint', { timeout: 10_000 }, () => {
  it('parses virsh domdisplay URIs', () => {
    assert.deepEqual(parseVncDisplay('vnc://127.0.0.1:5901'), { host: '127.0.0.1', port: 5901 });
    assert.deepEqual(parseVncDisplay('vnc://[::1]:5902'), { host: '::1', port: 5902 });
    assert.equal(parseVncDisplay('spice://127.0.0.1:5900'), null);
    assert.equal(parseVncDisplay('vnc://127.0.0.1:99999'), null);
  });

  it('agrees on the port; a tunnel also needs the host QEMU listens on', () => {
    const direct = { replicaId: 'r1', domain: 'd', vnc: { host: '192.0.2.7', port: 5901, tunnel: false } };
    assert.equal(displayAgreement('vnc://127.0.0.1:5901', direct).outcome, 'passed');
    assert.equal(displayAgreement('vnc://127.0.0.1:5902', direct).outcome, 'warning');
    const tunnel = { replicaId: 'r1', domain: 'd', vnc: { host: '127.0.0.1', port: 5901, tunnel: true } };
    assert.equal(displayAgreement('vnc://0.0.0.0:5901', tunnel).outcome, 'passed');
    assert.equal(displayAgreement('vnc://10.0.0.5:5901', tunnel).outcome, 'warning');
    assert.equal(displayAgreement('spice://127.0.0.1:5901', tunnel).outcome, 'warning');
  });
});
