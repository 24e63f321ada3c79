// The profile editor's pure helpers in plain Node: a document through the form and back unchanged,
// what the form writes for empty, typed and referenced fields, the validator's JSON paths mapped onto
// the form's fields, relative times, and what a drop on the start screen does.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateProfile } from '../../../../common/profile';
import { dropChoice } from '../../../../renderer/library/drop-choice';
import {
  documentFromForm,
  emptyForm,
  emptyReplica,
  formFieldPaths,
  formFromDocument,
  nextReplicaId,
  numberField,
  parentPath,
  problemsByField,
  type ProfileForm,
} from '../../../../renderer/library/profile-form';
import { relativeTime } from '../../../../renderer/library/relative-time';

const FULL = {
  version: 2,
  name: 'payments-vm',
  replicas: [
    { id: 'r1', label: 'KVM (cloud A)', vnc: { host: '127.0.0.1', port: 5901, password: { keyring: 'replica/r1/vnc' } }, l0: 'a', domain: 'payments-l1-kvm' },
    { id: 'r2', vnc: { host: '127.0.0.1', port: 5902, password: { file: '/run/secrets/vnc-r2' }, tunnel: true }, l0: 'b', domain: 'payments-l1-xen' },
    { id: 'r3', vnc: { host: '192.0.2.10', port: 5900, password: { env: 'VNC_PW' } }, l0: 'a', domain: 'payments-l1-bhyve' },
  ],
  l0: {
    a: { ssh: { host: '127.0.0.1', port: 2222, user: 'virt', identityFile: '/home/me/.ssh/id_ed25519', hostKey: 'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s' }, uri: 'qemu:///system' },
    b: { ssh: { host: 'l0-b.example.net', user: 'virt', passphrase: { env: 'SSH_PASSPHRASE' }, hostKey: 'SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU' } },
  },
  divergence: {
    enabled: false,
    tolerance: { maxChannelDelta: 8, maxDifferingPixelsPerTile: 2 },
    ignoreRegions: [{ x: 944, y: 0, width: 80, height: 16, label: 'clock' }],
    settleMs: 500,
    confirmMs: 700,
  },
  remediation: { mode: 'confirm', outlierMs: 5000, ladder: ['reset', 'reboot'], rungTimeoutMs: 90000, checkpoint: { everyMs: 600000, keep: 4 }, maxRemediationsPerHour: 5, backoffMs: 2000 },
};

function withReplicaPort(form: ProfileForm, index: number, port: string): ProfileForm {
  return { ...form, replicas: form.replicas.map((replica, at) => (at === index ? { ...replica, port } : replica)) };
}

describe('the profile form', { timeout: 5_000 }, () => {
  it('gives back the document it was built from, field for field', () => {
    assert.ok(validateProfile(FULL).ok, 'the example is a valid profile');
    const { document, problems } = documentFromForm(formFromDocument(FULL));
    assert.deepEqual(problems, []);
    assert.deepEqual(document, FULL);
  });

  it('leaves out what was left empty, writes typed passwords inline and numbers as numbers', () => {
    const form = emptyForm();
    const replica = { ...form.replicas[0]!, host: '127.0.0.1', port: ' 5901 ', password: { kind: 'typed' as const, value: 'retro-pw' } };
    const { document } = documentFromForm({ ...form, name: 'lab', replicas: [replica, { ...emptyReplica([replica]), host: '127.0.0.1', port: '5902', password: { kind: 'typed', value: '' } }] });
    assert.deepEqual(document, {
      version: 2,
      name: 'lab',
      replicas: [
        { id: 'r1', vnc: { host: '127.0.0.1', port: 5901, password: 'retro-pw' } },
        { id: 'r2', vnc: { host: '127.0.0.1', port: 5902 } },
      ],
    });
    assert.ok(validateProfile(document).ok);
  });

  it('hands a number field that is not a number to the validator as typed, which names the field', () => {
    const form = withReplicaPort({ ...emptyForm(), name: 'x' }, 0, '59o1');
    const { document } = documentFromForm({ ...form, replicas: [{ ...form.replicas[0]!, host: 'h' }] });
    const validation = validateProfile(document);
    assert.ok(!validation.ok);
    assert.deepEqual(
      validation.problems.map((problem) => problem.path),
      ['$.replicas[0].vnc.port'],
    );
    assert.equal(numberField(''), undefined);
    assert.equal(numberField('70000'), 70000);
    assert.equal(numberField('1e3'), '1e3');
  });

  it('reports two L0 hosts of one name, which the document alone could not show', () => {
    const form = formFromDocument(FULL);
    const { problems, document } = documentFromForm({ ...form, l0: [...form.l0, { ...form.l0[0]!, key: 'other' }] });
    assert.deepEqual(problems, [{ path: '$.l0.a', message: '"a" names another L0 too; L0 names must be unique' }]);
    assert.deepEqual(Object.keys(document.l0 as object), ['a', 'b']);
  });

  it('names new replicas r1, r2... skipping ids in use', () => {
    assert.equal(nextReplicaId([{ id: 'r1' }, { id: 'r3' }]), 'r2');
    assert.equal(nextReplicaId([]), 'r1');
  });
});

describe('problemsByField', { timeout: 5_000 }, () => {
  const form = formFromDocument(FULL);
  const fields = formFieldPaths(form);

  it('puts a problem beside its own field, or the nearest field above it', () => {
    const placed = problemsByField(
      [
        { path: '$.replicas[1].vnc.port', message: 'must be a TCP port, an integer from 1 to 65535, found number 70000' },
        { path: '$.replicas[0].vnc.password.env', message: 'must be a variable name' },
        { path: '$.l0.a.ssh.hostKey', message: 'is required' },
        { path: '$.remediation.ladder[1]', message: 'must be one of …' },
        { path: '$.replicas[2]', message: 'unknown field' },
      ],
      fields,
    );
    assert.deepEqual(Object.fromEntries(placed.byField), {
      '$.replicas[1].vnc.port': ['must be a TCP port, an integer from 1 to 65535, found number 70000'],
      '$.replicas[0].vnc.password': ['env: must be a variable name'],
      '$.l0.a.ssh.hostKey': ['is required'],
      '$.remediation.ladder': ['[1]: must be one of …'],
      '$.replicas[2]': ['unknown field'],
    });
    assert.deepEqual(placed.unplaced, []);
  });

  it('lists a problem no field shows at the top', () => {
    const placed = problemsByField(
      [
        { path: '$.version', message: 'must be 1 or 2' },
        { path: '$', message: 'a profile must be a JSON object' },
        { path: '$.replicas[9].id', message: 'no such row' },
      ],
      fields,
    );
    assert.equal(placed.byField.get('$.replicas')?.[0], '[9].id: no such row');
    assert.deepEqual(
      placed.unplaced.map((problem) => problem.path),
      ['$.version', '$'],
    );
  });

  it('walks JSON paths up one step at a time', () => {
    assert.equal(parentPath('$.replicas[1].vnc.port'), '$.replicas[1].vnc');
    assert.equal(parentPath('$.replicas[1]'), '$.replicas');
    assert.equal(parentPath('$.name'), '$');
    assert.equal(parentPath('$'), null);
  });

  it('maps the validator’s own problems for an empty new form onto its fields', () => {
    const empty = emptyForm();
    const validation = validateProfile(documentFromForm(empty).document);
    assert.ok(!validation.ok);
    const placed = problemsByField(validation.problems, formFieldPaths(empty));
    assert.deepEqual(placed.unplaced, []);
    assert.ok(placed.byField.has('$.name'), JSON.stringify(validation.problems));
    assert.ok(placed.byField.has('$.replicas[0].vnc.host') || placed.byField.has('$.replicas[0]'), JSON.stringify(validation.problems));
  });
});

describe('relativeTime', { timeout: 5_000 }, () => {
  const now = Date.parse('2030-05-10T12:00:00.000Z');
  it('says how long ago, coarser as it gets older', () => {
    assert.equal(relativeTime(null, now), 'never');
    assert.equal(relativeTime('2030-05-10T11:59:30.000Z', now), 'just now');
    assert.equal(relativeTime('2030-05-10T11:55:00.000Z', now), '5 min ago');
    assert.equal(relativeTime('2030-05-10T10:00:00.000Z', now), '2 h ago');
    assert.equal(relativeTime('2030-05-07T12:00:00.000Z', now), '3 d ago');
    assert.equal(relativeTime('2030-01-02T03:04:05.000Z', now), '2030-01-02');
    assert.equal(relativeTime('2030-05-10T12:05:00.000Z', now), 'just now');
    assert.equal(relativeTime('not a time', now), 'unknown');
  });
});

describe('dropChoice', { timeout: 5_000 }, () => {
  it('opens one profile file, imports other tools’ files and several files', () => {
    assert.equal(dropChoice(['payments.json']), 'open');
    assert.equal(dropChoice(['profile']), 'open');
    assert.equal(dropChoice(['console.VV']), 'import');
    assert.equal(dropChoice(['x.tigervnc']), 'import');
    assert.equal(dropChoice(['x.remmina']), 'import');
    assert.equal(dropChoice(['a.json', 'b.json']), 'import');
  });
});
