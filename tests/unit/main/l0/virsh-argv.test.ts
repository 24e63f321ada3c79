// The virsh command builder: exact argv per allow-listed verb, hostile values refused in every field
// before anything is built, and POSIX quoting proven against a real /bin/sh (random strings included).
// Runs in Node; spawns /bin/sh.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { isL0Error, validateL0Name, type L0NameKind } from '../../../../common/l0';
import { commandLine, isReadOnlyVerb, shellQuote, VIRSH_VERBS, virshArgv, virshProgramIndex, type VirshVerb } from '../../../../main/l0/virsh-argv';

const SH = '/bin/sh';
const URI = 'qemu:///system';

/** Values an attacker (or a careless profile) could put in a name or URI field. */
const HOSTILE_VALUES: readonly string[] = [
  'rep1; rm -rf /',
  '$(id)',
  '`id`',
  'rep1\nreboot',
  "rep1'",
  'rep1"',
  'rep1 & reboot',
  'rep1 | id',
  'a'.repeat(10 * 1024),
  '-rep1',
  '--domain=other',
  '',
  'rep1\0x',
  "'; reboot; '",
];

// Linux caps ONE argument at 128 KiB (MAX_ARG_STRLEN): the -c script is cut into batches below it.
const MAX_SCRIPT_BYTES = 100 * 1024;

/** Runs `sh -c "printf '%s\0' <quoted>..."` (in batches) and returns what the shell handed printf, one entry per argument. */
function throughShell(quotedWords: readonly string[]): string[] {
  if (!existsSync(SH)) throw new Error(`${SH} not found: apt-get install -y dash`);
  const received: string[] = [];
  let batch: string[] = [];
  let batchBytes = 0;
  const flush = (): void => {
    if (batch.length === 0) return;
    const result = spawnSync(SH, ['-c', `printf '%s\\0' ${batch.join(' ')}`], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    assert.equal(result.status, 0, `sh failed: ${result.error?.message ?? result.stderr}`);
    const parts = result.stdout.split('\0');
    assert.equal(parts.pop(), '', 'output ends with a NUL');
    received.push(...parts);
    batch = [];
    batchBytes = 0;
  };
  for (const word of quotedWords) {
    const bytes = Buffer.byteLength(word) + 1;
    if (batchBytes + bytes > MAX_SCRIPT_BYTES) flush();
    batch.push(word);
    batchBytes += bytes;
  }
  flush();
  return received;
}

function refusesAsInvalidArgument(build: () => unknown, what: string): void {
  assert.throws(build, (error: unknown) => {
    assert.ok(isL0Error(error), `${what}: not an L0Error: ${String(error)}`);
    assert.equal(error.code, 'invalid-argument', `${what}: ${error.message}`);
    return true;
  });
}

/** A small deterministic PRNG (xorshift32), so a failure can be replayed from its seed. */
function randomSource(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 0x1_0000_0000;
  };
}

const NAME_CHARACTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.+:-';
const HOSTILE_CHARACTERS = ' \t\n\r;&|$`\'"\\()<>{}[]*?~#!%=/,^\u0001\u001b\u007f\u00e9\u2028\ufeff\u{1F600}';

function randomString(random: () => number, alphabet: string, maxLength: number): string {
  const characters = [...alphabet];
  let text = '';
  const length = Math.floor(random() * maxLength);
  for (let index = 0; index < length; index++) text += characters[Math.floor(random() * characters.length)] ?? '';
  return text;
}

/** Any code point but NUL and the lone surrogates (which no UTF-8 argv can carry). */
function randomAnyString(random: () => number, maxLength: number): string {
  let text = '';
  const length = Math.floor(random() * maxLength);
  for (let index = 0; index < length; index++) {
    let codePoint = 1 + Math.floor(random() * 0x10fffe);
    if (random() < 0.5) codePoint = 1 + Math.floor(random() * 0x7f);
    if (codePoint >= 0xd800 && codePoint <= 0xdfff) codePoint = 0x27;
    text += String.fromCodePoint(codePoint);
  }
  return text;
}

describe('virsh argv', { timeout: 30_000 }, () => {
  it('builds each allow-listed verb with its fixed flags, names after explicit options', () => {
    const prefix = ['env', 'LC_ALL=C', 'virsh', '--quiet'];
    const readOnly = [...prefix, '--readonly', '--connect', URI];
    const readWrite = [...prefix, '--connect', URI];
    assert.deepEqual(virshArgv(URI, 'domstate', { domain: 'rep1' }), [...readOnly, 'domstate', '--reason', '--domain', 'rep1']);
    assert.deepEqual(virshArgv(URI, 'start', { domain: 'rep1' }), [...readWrite, 'start', '--domain', 'rep1']);
    assert.deepEqual(virshArgv(URI, 'destroy', { domain: 'rep1' }), [...readWrite, 'destroy', '--domain', 'rep1']);
    assert.deepEqual(virshArgv(URI, 'reset', { domain: 'rep1' }), [...readWrite, 'reset', '--domain', 'rep1']);
    assert.deepEqual(virshArgv(URI, 'reboot', { domain: 'rep1' }), [...readWrite, 'reboot', '--domain', 'rep1']);
    assert.deepEqual(virshArgv(URI, 'domdisplay', { domain: 'rep1' }), [...readOnly, 'domdisplay', '--domain', 'rep1']);
    assert.deepEqual(virshArgv(URI, 'list', {}), [...readOnly, 'list', '--all']);
    assert.deepEqual(virshArgv(URI, 'snapshot-create-as', { domain: 'rep1', snapshot: 'retrovisor-lab-1' }), [
      ...readWrite,
      'snapshot-create-as',
      '--domain',
      'rep1',
      '--name',
      'retrovisor-lab-1',
      '--atomic',
      '--memspec',
      'snapshot=internal',
    ]);
    assert.deepEqual(virshArgv(URI, 'snapshot-revert', { domain: 'rep1', snapshot: 'retrovisor-lab-1' }), [
      ...readWrite,
      'snapshot-revert',
      '--domain',
      'rep1',
      '--snapshotname',
      'retrovisor-lab-1',
      '--running',
    ]);
    assert.deepEqual(virshArgv(URI, 'snapshot-list', { domain: 'rep1' }), [...readOnly, 'snapshot-list', '--domain', 'rep1', '--topological']);
    assert.deepEqual(virshArgv(URI, 'snapshot-delete', { domain: 'rep1', snapshot: 'retrovisor-lab-1' }), [
      ...readWrite,
      'snapshot-delete',
      '--domain',
      'rep1',
      '--snapshotname',
      'retrovisor-lab-1',
    ]);
    assert.equal(virshProgramIndex(virshArgv(URI, 'list', {})), 2);
    assert.deepEqual(
      VIRSH_VERBS.filter((verb) => isReadOnlyVerb(verb)),
      ['domstate', 'domdisplay', 'list', 'snapshot-list'],
    );
  });

  it('lets the L0 itself end virsh at the deadline: timeout -k 5 SECONDS in front of virsh', () => {
    const argv = virshArgv(URI, 'destroy', { domain: 'rep1' }, { remoteTimeoutSeconds: 60 });
    assert.deepEqual(argv, ['env', 'LC_ALL=C', 'timeout', '-k', '5', '60', 'virsh', '--quiet', '--connect', URI, 'destroy', '--domain', 'rep1']);
    assert.equal(virshProgramIndex(argv), 6);
    for (const seconds of [0, -1, 1.5, Number.NaN, 86_401]) {
      refusesAsInvalidArgument(() => virshArgv(URI, 'destroy', { domain: 'rep1' }, { remoteTimeoutSeconds: seconds }), `timeout ${seconds}`);
    }
  });

  it('refuses a verb outside the allow-list', () => {
    for (const verb of ['undefine', 'qemu-monitor-command', 'console', 'toString', '__proto__']) {
      refusesAsInvalidArgument(() => virshArgv(URI, verb as VirshVerb, { domain: 'rep1' }), verb);
    }
  });

  it('refuses hostile values in the URI, the domain and the snapshot name, whatever the verb', () => {
    const domainVerbs = VIRSH_VERBS.filter((verb) => verb !== 'list');
    const snapshotVerbs: VirshVerb[] = ['snapshot-create-as', 'snapshot-revert', 'snapshot-delete'];
    for (const value of HOSTILE_VALUES) {
      const shown = JSON.stringify(value.slice(0, 30));
      for (const verb of VIRSH_VERBS) {
        refusesAsInvalidArgument(() => virshArgv(value, verb, { domain: 'rep1', snapshot: 'good' }), `uri ${shown} (${verb})`);
      }
      for (const verb of domainVerbs) {
        refusesAsInvalidArgument(() => virshArgv(URI, verb, { domain: value, snapshot: 'good' }), `domain ${shown} (${verb})`);
      }
      for (const verb of snapshotVerbs) {
        refusesAsInvalidArgument(() => virshArgv(URI, verb, { domain: 'rep1', snapshot: value }), `snapshot ${shown} (${verb})`);
      }
    }
    // Names virsh or QEMU would read as an id (or UUID) rather than a name.
    refusesAsInvalidArgument(() => virshArgv(URI, 'destroy', { domain: '3' }), 'numeric domain');
    refusesAsInvalidArgument(() => virshArgv(URI, 'destroy', { domain: '6695eb01-f6a4-8304-79aa-97f2502e193f' }), 'UUID domain');
    refusesAsInvalidArgument(() => virshArgv(URI, 'snapshot-revert', { domain: 'rep1', snapshot: '2' }), 'numeric snapshot');
    refusesAsInvalidArgument(() => virshArgv('qemu:///system&reboot&', 'list', {}), 'URI with &');
    refusesAsInvalidArgument(() => virshArgv(URI, 'destroy', {} as never), 'missing domain');
  });

  it('quotes for a POSIX shell: a single quote becomes \'\\\'\'', () => {
    assert.equal(shellQuote("it's"), `'it'\\''s'`);
    assert.equal(shellQuote(''), "''");
    assert.equal(shellQuote('a b'), "'a b'");
    assert.equal(commandLine(['virsh', '--domain', "x'y"]), `'virsh' '--domain' 'x'\\''y'`);
    refusesAsInvalidArgument(() => shellQuote('a\0b'), 'NUL');
    assert.deepEqual(throughShell(HOSTILE_VALUES.filter((value) => !value.includes('\0')).map(shellQuote)), HOSTILE_VALUES.filter((value) => !value.includes('\0')));
  });

  it('hands virsh exactly the argv it built: the whole command line through /bin/sh, hostile-but-valid names included', () => {
    const argv = virshArgv('qemu+ssh://virt@l0.example.org:2222/system', 'snapshot-create-as', { domain: 'a.b+c:d-e_f', snapshot: '_x:1.2+y-z' });
    assert.deepEqual(throughShell([commandLine(argv)]), argv);
  });

  it('property: every random string that passes validation reaches the shell unchanged; every NUL-free string survives quoting', () => {
    const seed = 0x5eed1234;
    const random = randomSource(seed);
    const accepted: string[] = [];
    const acceptedByKind: Record<L0NameKind, number> = { domain: 0, snapshot: 0, uri: 0 };
    const anything: string[] = [];
    for (let index = 0; index < 3000; index++) {
      const kind: L0NameKind = index % 3 === 0 ? 'domain' : index % 3 === 1 ? 'snapshot' : 'uri';
      // Mostly name characters with a hostile one now and then, so that validation passes often
      // enough to make the property mean something, and fails often enough to be tested.
      const body = randomString(random, random() < 0.7 ? NAME_CHARACTERS : NAME_CHARACTERS + HOSTILE_CHARACTERS, 24);
      const candidate = kind === 'uri' ? `${random() < 0.5 ? 'qemu' : 'qemu+ssh'}://${random() < 0.5 ? '' : 'host'}/${body}` : body;
      if (validateL0Name(kind, candidate) === null) {
        accepted.push(candidate);
        acceptedByKind[kind] += 1;
      }
      anything.push(randomAnyString(random, 40));
    }
    for (const kind of ['domain', 'snapshot', 'uri'] as const) {
      assert.ok(acceptedByKind[kind] > 100, `seed ${seed}: only ${acceptedByKind[kind]} random ${kind} values passed validation`);
    }
    assert.deepEqual(throughShell(accepted.map(shellQuote)), accepted, `seed ${seed}`);
    assert.deepEqual(throughShell(anything.map(shellQuote)), anything, `seed ${seed}`);
  });
});
