// Profile validation: the documented example is accepted, and each kind of mistake is reported
// once, at its JSON path, with every problem listed (not just the first).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { formatProblems, parseProfileText, validateProfile } from '../../../common/profile';

const FINGERPRINT = 'SHA256:' + 'A'.repeat(43);

function valid(): Record<string, unknown> {
  return {
    version: 1,
    name: 'lab',
    replicas: [
      { id: 'r1', label: 'KVM', vnc: { host: '127.0.0.1', port: 5901, password: { env: 'VNC_PW' } }, l0: 'a', domain: 'rep1' },
      { id: 'r2', vnc: { host: '10.0.0.2', port: 5900, tunnel: true }, l0: 'a', domain: 'rep2' },
    ],
    l0: { a: { ssh: { host: '127.0.0.1', port: 2222, user: 'virt', identityFile: '/path/id_ed25519', hostKey: FINGERPRINT }, uri: 'qemu:///system' } },
  };
}

function problemsOf(document: unknown): string[] {
  const result = validateProfile(document);
  assert.equal(result.ok, false, 'expected the profile to be rejected');
  return result.ok ? [] : result.problems.map((problem) => `${problem.path}: ${problem.message}`);
}

describe('profile validation', { timeout: 60_000 }, () => {
  it('accepts the example profile and fills defaults', () => {
    const result = validateProfile(valid());
    assert.ok(result.ok, result.ok ? '' : formatProblems(result.problems));
    const [first, second] = result.profile.replicas;
    assert.deepEqual(first?.vnc.password, { kind: 'env', name: 'VNC_PW' });
    assert.equal(first?.label, 'KVM');
    assert.equal(second?.label, 'r2', 'label defaults to the id');
    assert.equal(second?.vnc.tunnel, true);
    assert.equal(result.profile.l0.a?.kind, 'ssh');
  });

  it('accepts the complete example in docs/profiles.md', () => {
    const markdown = readFileSync(new URL('../../../docs/profiles.md', import.meta.url), 'utf8');
    const example = /```json\n([\s\S]*?)\n```/.exec(markdown)?.[1];
    assert.ok(example, 'docs/profiles.md must hold a ```json example');
    const result = parseProfileText(example);
    assert.ok(result.ok, result.ok ? '' : formatProblems(result.problems));
  });

  it('accepts the three secret forms', () => {
    const document = valid();
    const replicas = document.replicas as { vnc: Record<string, unknown> }[];
    replicas[0]!.vnc.password = 'inline-pw';
    replicas[1]!.vnc.password = { file: '/run/secrets/vnc' };
    const result = validateProfile(document);
    assert.ok(result.ok);
    assert.deepEqual(result.profile.replicas[0]?.vnc.password, { kind: 'inline', value: 'inline-pw' });
    assert.deepEqual(result.profile.replicas[1]?.vnc.password, { kind: 'file', path: '/run/secrets/vnc' });
  });

  it('reports every problem with its JSON path', () => {
    const document = valid();
    const replicas = document.replicas as Record<string, unknown>[];
    (replicas[0]!.vnc as Record<string, unknown>).port = 70000;
    replicas[1]!.id = 'r1';
    replicas[1]!.l0 = 'nowhere';
    const problems = problemsOf(document);
    assert.ok(problems.some((line) => line.startsWith('$.replicas[0].vnc.port: must be a TCP port')), problems.join('\n'));
    assert.ok(problems.some((line) => line.startsWith('$.replicas[1].id: "r1" is used by another replica')), problems.join('\n'));
    assert.ok(problems.some((line) => line.startsWith('$.replicas[1].l0: names "nowhere"')), problems.join('\n'));
    assert.equal(problems.length, 3, problems.join('\n'));
  });

  it('refuses values that could reach a shell or an argument vector', () => {
    const document = valid();
    const replicas = document.replicas as Record<string, unknown>[];
    replicas[0]!.domain = '-rf; reboot';
    (replicas[1]!.vnc as Record<string, unknown>).host = '$(touch /tmp/pwned)';
    const ssh = ((document.l0 as Record<string, Record<string, unknown>>).a!.ssh as Record<string, unknown>);
    ssh.user = 'root; id';
    const problems = problemsOf(document);
    assert.ok(problems.some((line) => line.startsWith('$.replicas[0].domain:')), problems.join('\n'));
    assert.ok(problems.some((line) => line.startsWith('$.replicas[1].vnc.host:')), problems.join('\n'));
    assert.ok(problems.some((line) => line.startsWith('$.l0.a.ssh.user:')), problems.join('\n'));
  });

  it('needs a pinned host key for every SSH L0', () => {
    const document = valid();
    const ssh = ((document.l0 as Record<string, Record<string, unknown>>).a!.ssh as Record<string, unknown>);
    delete ssh.hostKey;
    assert.deepEqual(
      problemsOf(document).map((line) => line.split(':')[0]),
      ['$.l0.a.ssh.hostKey'],
    );
    ssh.hostKey = 'SHA256:short';
    assert.match(problemsOf(document).join('\n'), /\$\.l0\.a\.ssh\.hostKey: .*not valid/);
  });

  it('needs an L0 for a tunnelled replica', () => {
    const document = valid();
    delete (document.replicas as Record<string, unknown>[])[1]!.l0;
    assert.match(problemsOf(document).join('\n'), /\$\.replicas\[1\]\.vnc\.tunnel: a tunnelled replica needs "l0"/);
  });

  it('rejects unknown fields, wrong versions, empty or oversized replica lists', () => {
    assert.match(problemsOf({ ...valid(), colour: 'red' }).join('\n'), /\$\.colour: unknown field/);
    assert.match(problemsOf({ ...valid(), version: 3 }).join('\n'), /\$\.version: is 3: this profile was written by a newer RetroVisor/);
    assert.match(problemsOf({ ...valid(), version: '1' }).join('\n'), /\$\.version: must be 1 or 2/);
    assert.match(problemsOf({ ...valid(), replicas: [] }).join('\n'), /\$\.replicas: must hold 1 to 8 replicas, found 0/);
    const many = Array.from({ length: 9 }, (_, index) => ({ id: `r${index}`, vnc: { host: 'h', port: 5900 + index } }));
    assert.match(problemsOf({ ...valid(), replicas: many }).join('\n'), /found 9/);
  });

  it('reports bad JSON and non-objects as one problem at $', () => {
    const broken = parseProfileText('{"version": 1,');
    assert.equal(broken.ok, false);
    assert.equal(broken.ok ? '' : broken.problems[0]?.path, '$');
    assert.match(broken.ok ? '' : broken.problems[0]?.message ?? '', /not valid JSON/);
    assert.deepEqual(problemsOf([]).map((line) => line.split(':')[0]), ['$']);
    const huge = parseProfileText(' '.repeat(1024 * 1024 + 1));
    assert.match(huge.ok ? '' : huge.problems[0]?.message ?? '', /at most/);
  });

  it('accepts a simulated L0 (the demo lab) but not a tunnel through it', () => {
    const document = { version: 1, name: 'demo', replicas: [{ id: 'r1', vnc: { host: '127.0.0.1', port: 5901, tunnel: true }, l0: 'demo' }], l0: { demo: { simulated: true } } };
    assert.match(problemsOf(document).join('\n'), /simulated L0 and cannot carry an SSH tunnel/);
    (document.replicas[0]!.vnc as Record<string, unknown>).tunnel = false;
    assert.ok(validateProfile(document).ok);
  });
});
