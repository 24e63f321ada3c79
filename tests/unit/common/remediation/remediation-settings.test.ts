// Remediation settings: defaults, every mistake reported at its JSON path with a clear message, and
// the cross-field rule that a mode which acts needs each replica's L0 and domain (through validateProfile).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatProblems, validateProfile } from '../../../../common/profile';
import {
  DEFAULT_REMEDIATION_SETTINGS,
  readRemediation,
  remediationSettingsOf,
  type RemediationSettings,
} from '../../../../common/remediation/remediation-settings';

const FINGERPRINT = 'SHA256:' + 'A'.repeat(43);

function read(value: unknown): { settings: RemediationSettings | undefined; problems: string[] } {
  const problems: string[] = [];
  const settings = readRemediation(value, '$.remediation', { add: (path, message) => problems.push(`${path}: ${message}`) });
  return { settings, problems };
}

function profile(remediation?: unknown): Record<string, unknown> {
  return {
    version: 1,
    name: 'lab',
    replicas: [
      { id: 'r1', vnc: { host: '127.0.0.1', port: 5901 }, l0: 'a', domain: 'rep1' },
      { id: 'r2', vnc: { host: '127.0.0.1', port: 5902 }, l0: 'a', domain: 'rep2' },
      { id: 'r3', vnc: { host: '127.0.0.1', port: 5903 }, l0: 'demo', domain: 'rep3' },
    ],
    l0: { a: { ssh: { host: '127.0.0.1', user: 'virt', hostKey: FINGERPRINT } }, demo: { simulated: true } },
    ...(remediation === undefined ? {} : { remediation }),
  };
}

function profileProblems(document: unknown): string[] {
  const result = validateProfile(document);
  assert.equal(result.ok, false, 'expected the profile to be rejected');
  return result.ok ? [] : result.problems.map((problem) => `${problem.path}: ${problem.message}`);
}

describe('remediation settings', { timeout: 10_000 }, () => {
  it('fills every default when the object is absent or empty', { timeout: 2_000 }, () => {
    assert.deepEqual(read(undefined), { settings: DEFAULT_REMEDIATION_SETTINGS, problems: [] });
    assert.deepEqual(read({}), { settings: DEFAULT_REMEDIATION_SETTINGS, problems: [] });
    assert.deepEqual(DEFAULT_REMEDIATION_SETTINGS, {
      mode: 'observe',
      outlierMs: 3000,
      ladder: ['revert-replay', 'restart-replay'],
      rungTimeoutMs: 60000,
      checkpoint: { everyMs: 0, keep: 3 },
      maxRemediationsPerHour: 3,
      backoffMs: 30000,
    });
    assert.equal(remediationSettingsOf({}), DEFAULT_REMEDIATION_SETTINGS);
  });

  it('accepts a complete object', { timeout: 2_000 }, () => {
    const value = {
      mode: 'auto',
      outlierMs: 5000,
      ladder: ['restart-replay', 'reset', 'reboot', 'revert-replay'],
      rungTimeoutMs: 120000,
      checkpoint: { everyMs: 600000, keep: 5 },
      maxRemediationsPerHour: 6,
      backoffMs: 10000,
    };
    assert.deepEqual(read(value), { settings: value, problems: [] });
    assert.deepEqual(read({ checkpoint: { everyMs: 10000 } }).settings?.checkpoint, { everyMs: 10000, keep: 3 });
  });

  it('reports each wrong field at its path, all of them at once', { timeout: 2_000 }, () => {
    const { settings, problems } = read({
      mode: 'yolo',
      outlierMs: 10,
      rungTimeoutMs: 1.5,
      checkpoint: { everyMs: 5000, keep: 0, when: 'always' },
      maxRemediationsPerHour: 0,
      backoffMs: '30s',
      colour: 'red',
    });
    assert.equal(settings, undefined);
    const expected = [
      /^\$\.remediation\.colour: unknown field; expected one of: mode, outlierMs, ladder/,
      /^\$\.remediation\.mode: must be "observe" \(only report\), "confirm" \(ask first\) or "auto" \(act alone\), found the string "yolo"/,
      /^\$\.remediation\.outlierMs: must be a time in milliseconds, an integer from 500 to 600000, found number 10/,
      /^\$\.remediation\.rungTimeoutMs: must be a time in milliseconds, an integer from 5000 to 1800000, found number 1\.5/,
      /^\$\.remediation\.checkpoint\.when: unknown field; expected one of: everyMs, keep/,
      /^\$\.remediation\.checkpoint\.everyMs: must be 0 \(no periodic checkpoints\) or a period in milliseconds from 10000 to 86400000, found number 5000/,
      /^\$\.remediation\.checkpoint\.keep: must be a number of complete checkpoints to keep, an integer from 1 to 20, found number 0/,
      /^\$\.remediation\.maxRemediationsPerHour: must be a number of rungs per replica and hour, an integer from 1 to 20, found number 0/,
      /^\$\.remediation\.backoffMs: must be a time in milliseconds, an integer from 1000 to 3600000, found the string "30s"/,
    ];
    for (const pattern of expected) assert.ok(problems.some((line) => pattern.test(line)), `${pattern} not in:\n${problems.join('\n')}`);
    assert.equal(problems.length, expected.length, problems.join('\n'));
  });

  it('checks the ladder: known rungs, each once, at least one, no explicit quarantine', { timeout: 2_000 }, () => {
    assert.deepEqual(read({ ladder: ['reset', 'explode', 'reset', 'quarantine'] }).problems, [
      '$.remediation.ladder[1]: the string "explode" is not a rung; expected one of: revert-replay, restart-replay, reset, reboot',
      '$.remediation.ladder[2]: "reset" is already in the ladder at [0]; each rung appears once',
      '$.remediation.ladder[3]: quarantine is always the implicit last rung; do not list it',
    ]);
    assert.deepEqual(read({ ladder: [] }).problems, ['$.remediation.ladder: must name 1 to 4 rungs (quarantine always follows the last), found 0']);
    assert.match(read({ ladder: 'reset' }).problems.join('\n'), /^\$\.remediation\.ladder: must be an array of rungs/);
    assert.match(read('auto').problems.join('\n'), /^\$\.remediation: must be an object like/);
    assert.match(read({ checkpoint: 3 }).problems.join('\n'), /^\$\.remediation\.checkpoint: must be an object like \{"everyMs": 0, "keep": 3\}/);
  });

  it('is part of the profile: accepted at the top level, defaults set by the validator', { timeout: 2_000 }, () => {
    const plain = validateProfile(profile());
    assert.ok(plain.ok, plain.ok ? '' : formatProblems(plain.problems));
    assert.deepEqual(plain.profile.remediation, DEFAULT_REMEDIATION_SETTINGS);
    const auto = validateProfile(profile({ mode: 'auto', ladder: ['revert-replay'] }));
    assert.ok(auto.ok, auto.ok ? '' : formatProblems(auto.problems));
    assert.equal(auto.profile.remediation?.mode, 'auto');
    assert.deepEqual(auto.profile.remediation?.ladder, ['revert-replay']);
    assert.deepEqual(profileProblems(profile({ mode: 'sometimes' })), [
      '$.remediation.mode: must be "observe" (only report), "confirm" (ask first) or "auto" (act alone), found the string "sometimes"',
    ]);
  });

  it('needs l0 and domain on every replica when the mode acts (a simulated L0 needs the domain too)', { timeout: 2_000 }, () => {
    const document = profile({ mode: 'confirm' });
    const replicas = document.replicas as Record<string, unknown>[];
    delete replicas[0]!.l0;
    delete replicas[0]!.domain;
    delete replicas[2]!.domain;
    assert.deepEqual(profileProblems(document), [
      '$.replicas[0]: remediation mode "confirm" acts on every replica through its L0: add "l0" (the name of its L0 host in $.l0) and "domain" (its libvirt domain name on that L0, also for a simulated L0)',
      '$.replicas[2]: remediation mode "confirm" acts on every replica through its L0: add "domain" (its libvirt domain name on that L0, also for a simulated L0)',
    ]);
    // Observe mode only reports: the same replicas are fine.
    document.remediation = { mode: 'observe' };
    assert.ok(validateProfile(document).ok);
  });
});
