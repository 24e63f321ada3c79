// Profile values that reach virsh on an L0: domain names and libvirt URIs follow the L0 driver's
// rules (common/l0.ts), and a replica's "l0" must name an own entry of the profile's "l0" map.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateL0Name } from '../../../common/l0';
import { formatProblems, validateProfile } from '../../../common/profile';

const FINGERPRINT = 'SHA256:' + 'A'.repeat(43);

function profileWith(options: { uri?: unknown; domain?: unknown; replicaL0?: unknown; l0Key?: string } = {}): Record<string, unknown> {
  const l0Key = options.l0Key ?? 'a';
  const entry: Record<string, unknown> = { ssh: { host: '127.0.0.1', port: 2222, user: 'virt', hostKey: FINGERPRINT } };
  if ('uri' in options) entry.uri = options.uri;
  const replica: Record<string, unknown> = { id: 'r1', vnc: { host: '127.0.0.1', port: 5901 }, l0: 'replicaL0' in options ? options.replicaL0 : l0Key };
  if ('domain' in options) replica.domain = options.domain;
  // JSON.parse, as a profile file is read: "__proto__" then is an own key, not the prototype.
  return JSON.parse(JSON.stringify({ version: 1, name: 'lab', replicas: [replica], l0: {} }).replace('"l0":{}', `"l0":{${JSON.stringify(l0Key)}:${JSON.stringify(entry)}}`)) as Record<string, unknown>;
}

function problemsAt(document: unknown, path: string): string[] {
  const result = validateProfile(document);
  if (result.ok) return [];
  return result.problems.filter((problem) => problem.path === path).map((problem) => problem.message);
}

describe('profile: values that reach virsh', { timeout: 10_000 }, () => {
  it('accepts the libvirt URIs people use', () => {
    for (const uri of ['qemu:///system', 'qemu:///session', 'qemu+ssh://user@host/system', 'qemu+ssh://virt@l0.example.org:2222/system', 'test:///default', 'xen:///system', 'lxc:///']) {
      const result = validateProfile(profileWith({ uri }));
      assert.ok(result.ok, `${uri}: ${result.ok ? '' : formatProblems(result.problems)}`);
      assert.equal(validateL0Name('uri', uri), null, uri);
    }
  });

  it('refuses URIs with query strings, escapes, brackets, quotes, spaces or shell metacharacters', () => {
    const hostile = [
      'qemu:///system&reboot&',
      'qemu:///system?socket=/tmp/x',
      'qemu:///sys%74em',
      'qemu+ssh://[::1]/system',
      'qemu:///system system',
      "qemu:///system'",
      'qemu:///system"',
      'qemu:///system;reboot',
      'qemu:///$(id)',
      'qemu:///`id`',
      'qemu:///system\nreboot',
      'qemu:///system|id',
      '-c qemu:///system',
      'qemu:/system',
      '',
    ];
    for (const uri of hostile) {
      const messages = problemsAt(profileWith({ uri }), '$.l0.a.uri');
      assert.equal(messages.length, 1, `${JSON.stringify(uri)} should be refused once: ${messages.join(' | ')}`);
      assert.notEqual(validateL0Name('uri', uri), null, JSON.stringify(uri));
    }
    assert.match(problemsAt(profileWith({ uri: 'qemu:///system&reboot&' }), '$.l0.a.uri')[0] ?? '', /is not valid: a libvirt URI such as qemu:\/\/\/system/);
  });

  it('refuses domain names virsh would read as an id or a UUID, or that are not plain names', () => {
    for (const domain of ['7', '0042', '6695eb01-f6a4-8304-79aa-97f2502e193f', '6695EB01F6A4830479AA97F2502E193F----']) {
      const messages = problemsAt(profileWith({ domain }), '$.replicas[0].domain');
      assert.equal(messages.length, 1, `${domain}: ${messages.join(' | ')}`);
      assert.match(messages[0] ?? '', /domain (id|UUID)/);
    }
    for (const domain of ['-rep1', '.rep1', 'rep1; rm -rf /', '$(id)', 'rep 1', 'a'.repeat(129), 'rep1\n']) {
      assert.equal(problemsAt(profileWith({ domain }), '$.replicas[0].domain').length, 1, JSON.stringify(domain));
    }
    for (const domain of ['rep1', 'a.b+c:d-e_f', '7a', 'vm-6695eb01-f6a4-8304-79aa-97f2502e193f', '_x']) {
      const result = validateProfile(profileWith({ domain }));
      assert.ok(result.ok, `${domain}: ${result.ok ? '' : formatProblems(result.problems)}`);
    }
  });

  it('resolves a replica\'s "l0" only among the map\'s own entries, never inherited names', () => {
    for (const name of ['toString', 'constructor', 'hasOwnProperty', 'valueOf']) {
      const messages = problemsAt(profileWith({ replicaL0: name }), '$.replicas[0].l0');
      assert.deepEqual(messages, [`names "${name}", which is not defined in $.l0`], name);
    }
    const ok = validateProfile(profileWith());
    assert.ok(ok.ok, ok.ok ? '' : formatProblems(ok.problems));
  });

  it('refuses an L0 named "__proto__" (an own key once parsed), and a replica naming an L0 that is not defined', () => {
    const document = profileWith({ l0Key: '__proto__', replicaL0: 'a' });
    const l0 = document.l0 as Record<string, unknown>;
    assert.ok(Object.hasOwn(l0, '__proto__'), 'JSON.parse makes "__proto__" an own key');
    const result = validateProfile(document);
    assert.equal(result.ok, false);
    const paths = result.ok ? [] : result.problems.map((problem) => problem.path);
    assert.ok(paths.includes('$.l0.__proto__'), paths.join(', '));
    assert.ok(paths.includes('$.replicas[0].l0'), paths.join(', '));
  });
});
