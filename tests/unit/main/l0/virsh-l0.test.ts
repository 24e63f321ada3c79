// The virsh L0 driver against a REAL OpenSSH sshd on loopback whose sessions find a FAKE virsh first
// on PATH (sshd_config SetEnv): the exact argv arrives, virsh's failures map to L0Error codes with
// virsh's words, nothing runs on a wrong host key, timeouts kill, every command is audited. Also the
// pure parsers and failure classification, and per-domain serialisation. Needs /usr/sbin/sshd.

import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isL0Error, type L0ErrorCode } from '../../../../common/l0';
import { shellQuote, virshArgv, virshProgramIndex } from '../../../../main/l0/virsh-argv';
import {
  classifyVirshFailure,
  escapeControlCharacters,
  parseDomainDisplay,
  parseDomainList,
  parseDomainState,
  parseSnapshotList,
  sshVirshExec,
  VirshL0Driver,
  type VirshCommandRecord,
  type VirshExec,
} from '../../../../main/l0/virsh-l0';
import { createLogger, SecretRedactor } from '../../../../main/logger';
import { SshL0Pool, type L0Target, type SshExecResult } from '../../../../main/ssh-l0';
import { startSshd, type SshdHandle } from '../../../lab/components';
import { findExecutable } from '../../../lab/vm-assets';

const SSHD_MISSING = 'sshd not found: run `npm run lab:install` (apt-get install -y openssh-server)';
const URI = 'qemu+ssh://virt@l0.example.org:2222/system';
/** A name with every punctuation character a domain or snapshot name may hold. */
const ODD_DOMAIN = 'a.b+c:d-e_f';
const ODD_SNAPSHOT = '_x:1.2+y-z';

async function rejectsWithCode(promise: Promise<unknown>, code: L0ErrorCode, pattern?: RegExp): Promise<Error> {
  let caught: Error | undefined;
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isL0Error(error), `not an L0Error: ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (pattern) assert.match(error.message, pattern);
    caught = error;
    return true;
  });
  assert.ok(caught);
  return caught;
}

/**
 * The fake virsh: appends its argv to the record file (NUL-separated, count first, then LC_ALL, so
 * any byte survives), then answers per domain name and verb with virsh's real wording.
 */
function fakeVirshScript(recordFile: string, pidFile: string): string {
  return `#!/bin/sh
# Fake virsh for RetroVisor's driver tests: records argv, answers like virsh 9 does.
record=${shellQuote(recordFile)}
printf '%s\\0' "$#" "LC_ALL=\${LC_ALL-}" "$@" >> "$record"
while [ $# -gt 0 ]; do
  case "$1" in
    --quiet|--readonly) shift ;;
    --connect) shift 2 ;;
    *) break ;;
  esac
done
verb=$1
shift
domain=''
snapshot=''
while [ $# -gt 0 ]; do
  case "$1" in
    --domain) domain=$2; shift 2 ;;
    --name|--snapshotname) snapshot=$2; shift 2 ;;
    *) shift ;;
  esac
done
case "$domain" in
  missing) printf "error: failed to get domain '%s'\\n" "$domain" >&2; exit 1 ;;
  daemon-down) printf "error: failed to connect to the hypervisor\\nerror: Failed to connect socket to '/var/run/libvirt/libvirt-sock': No such file or directory\\n" >&2; exit 1 ;;
  denied) printf "error: failed to connect to the hypervisor\\nerror: Failed to connect socket to '/var/run/libvirt/libvirt-sock': Permission denied\\n" >&2; exit 1 ;;
  no-virsh) printf 'sh: 1: virsh: not found\\n' >&2; exit 127 ;;
  slow) echo $$ > ${shellQuote(pidFile)}; exec sleep 120 ;;
  noisy) i=0; while [ $i -lt 100 ]; do printf 'error: \\033[31mred\\033[0m line %s\\r\\n' $i >&2; i=$((i+1)); done; exit 1 ;;
esac
case "$verb" in
  domstate) echo 'shut off (destroyed)' ;;
  start)
    if [ "$domain" = active ]; then echo 'error: Domain is already active' >&2; exit 1; fi
    echo "Domain '$domain' started" ;;
  destroy)
    if [ "$domain" = off ]; then printf "error: Failed to destroy domain '%s'\\nerror: Requested operation is not valid: domain is not running\\n" "$domain" >&2; exit 1; fi ;;
  snapshot-revert)
    if [ "$snapshot" = gone ]; then printf "error: Domain snapshot not found: no domain snapshot with matching name '%s'\\n" "$snapshot" >&2; exit 1; fi ;;
  domdisplay) echo 'vnc://127.0.0.1:21' ;;
  list) printf ' 1    %s   running\\n -    rep2          shut off\\n 3    web server    in shutdown\\n' ${shellQuote(ODD_DOMAIN)} ;;
  snapshot-list)
    printf ' zeta         2026-03-01 10:00:05 +0100   running\\n'
    printf ' alpha        2026-03-01 09:00:06 +0000   running\\n'
    printf ' mid          2026-03-01 09:00:06 +0000   running\\n'
    printf ' with space   2026-03-01 08:59:00 +0000   shutoff\\n' ;;
esac
exit 0
`;
}

/** Every invocation of the fake virsh so far: its LC_ALL and its argv (without argv[0]). */
async function recordedCalls(recordFile: string): Promise<{ lcAll: string; argv: string[] }[]> {
  const text = await readFile(recordFile, 'utf8').catch(() => '');
  const fields = text.split('\0');
  fields.pop();
  const calls: { lcAll: string; argv: string[] }[] = [];
  for (let index = 0; index < fields.length; ) {
    const count = Number(fields[index]);
    const lcAll = (fields[index + 1] ?? '').replace(/^LC_ALL=/, '');
    calls.push({ lcAll, argv: fields.slice(index + 2, index + 2 + count) });
    index += 2 + count;
  }
  return calls;
}

/** Resolves once `pid` no longer exists (bounded). */
async function processGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return true;
    }
    if (Date.now() > deadline) return false;
    await new Promise<void>((resolve) => setTimeout(resolve, 20));
  }
}

describe('virsh L0 driver over a real sshd with a fake virsh', { timeout: 60_000 }, () => {
  const logLines: string[] = [];
  const logger = createLogger({ sink: (line) => logLines.push(line), level: 'debug' });
  let sshd: SshdHandle;
  let folder = '';
  let recordFile = '';
  let pidFile = '';
  let pool: SshL0Pool;
  const records: VirshCommandRecord[] = [];

  before(async () => {
    if (findExecutable('sshd') === undefined) throw new Error(SSHD_MISSING);
    folder = await mkdtemp(path.join(os.tmpdir(), 'retrovisor-virsh-'));
    const fakeBin = path.join(folder, 'bin');
    recordFile = path.join(folder, 'virsh-calls');
    pidFile = path.join(folder, 'slow.pid');
    await mkdir(fakeBin);
    await writeFile(path.join(fakeBin, 'virsh'), fakeVirshScript(recordFile, pidFile));
    await chmod(path.join(fakeBin, 'virsh'), 0o755);
    // OpenSSH >= 7.8: every session of this sshd finds the fake virsh before any real one.
    sshd = await startSshd({ extraConfig: [`SetEnv PATH=${fakeBin}:/usr/local/bin:/usr/bin:/bin`] });
    pool = new SshL0Pool({ logger, redactor: new SecretRedactor(), readyTimeoutMs: 5000 });
  });

  after(async () => {
    await pool?.close();
    await sshd?.stop();
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  function target(overrides: Partial<L0Target['ssh']> = {}): L0Target {
    return {
      name: 'l0-a',
      baseDir: folder,
      ssh: { host: sshd.host, port: sshd.port, user: sshd.user, identityFile: sshd.identityFile, hostKey: sshd.hostKeyFingerprint, ...overrides },
    };
  }

  function driver(options: { target?: L0Target; exec?: VirshExec; timeoutsMs?: Record<string, number> } = {}): VirshL0Driver {
    return new VirshL0Driver({
      l0: 'l0-a',
      uri: URI,
      user: 'virt',
      exec: options.exec ?? sshVirshExec(pool, options.target ?? target()),
      onCommand: (record) => records.push(record),
      ...(options.timeoutsMs === undefined ? {} : { timeoutsMs: options.timeoutsMs }),
    });
  }

  it('delivers the exact argv to virsh on the L0, with LC_ALL=C, and audits it', async () => {
    const before = (await recordedCalls(recordFile)).length;
    const recordsBefore = records.length;
    await driver().snapshotCreate(ODD_DOMAIN, ODD_SNAPSHOT);
    const calls = (await recordedCalls(recordFile)).slice(before);
    // The default deadline of a snapshot (300 s), enforced on the L0 by timeout(1).
    const argv = virshArgv(URI, 'snapshot-create-as', { domain: ODD_DOMAIN, snapshot: ODD_SNAPSHOT }, { remoteTimeoutSeconds: 300 });
    assert.deepEqual(calls, [{ lcAll: 'C', argv: argv.slice(virshProgramIndex(argv) + 1) }]);
    const record = records.at(-1);
    assert.equal(records.length, recordsBefore + 1);
    assert.deepEqual(record?.argv, argv);
    assert.equal(record?.l0, 'l0-a');
    assert.equal(record?.outcome, 'ok');
    assert.equal(record?.exitCode, 0);
    assert.ok(typeof record?.durationMs === 'number' && record.durationMs >= 0);
  });

  it('reads state with its reason, the display, the domains and the snapshots oldest first', async () => {
    const l0 = driver();
    assert.deepEqual(await l0.domainStateReason('rep1'), { state: 'shut off', reason: 'destroyed' });
    assert.equal(await l0.domainState('rep1'), 'shut off');
    assert.equal(await l0.domainDisplay('rep1'), 'vnc://127.0.0.1:21');
    assert.deepEqual(await l0.listDomains(), [
      { name: ODD_DOMAIN, state: 'running' },
      { name: 'rep2', state: 'shut off' },
      { name: 'web server', state: 'running' },
    ]);
    assert.deepEqual(await l0.listSnapshots('rep1'), ['with space', 'zeta', 'alpha', 'mid']);
    await l0.start('rep1');
    await l0.destroy('rep1');
    await l0.reset('rep1');
    await l0.reboot('rep1');
    await l0.snapshotRevert('rep1', 'good');
    await l0.snapshotDelete('rep1', 'good');
  });

  it("maps virsh's failures to L0Error codes, quoting virsh and saying what to do", async () => {
    const l0 = driver();
    await rejectsWithCode(l0.domainState('missing'), 'no-such-domain', /^no domain "missing" on the L0 "l0-a" \(qemu\+ssh:.*\): failed to get domain 'missing' — check "domain"/);
    await rejectsWithCode(l0.start('active'), 'invalid-state', /virsh start active refused on the L0 "l0-a": Domain is already active/);
    await rejectsWithCode(l0.destroy('off'), 'invalid-state', /Requested operation is not valid: domain is not running/);
    await rejectsWithCode(l0.snapshotRevert('rep1', 'gone'), 'no-such-snapshot', /no snapshot "gone" of domain "rep1" on the L0 "l0-a": Domain snapshot not found/);
    await rejectsWithCode(l0.reset('daemon-down'), 'daemon-down', /Failed to connect socket to '\/var\/run\/libvirt\/libvirt-sock': No such file or directory — is libvirtd running on the L0\?/);
    await rejectsWithCode(l0.reset('denied'), 'permission-denied', /Permission denied — add user virt to group libvirt there/);
    await rejectsWithCode(l0.reset('no-virsh'), 'no-virsh', /virsh is not installed on the L0 "l0-a": install libvirt-clients there \(sh: 1: virsh: not found\)/);
    const outcomes = records.slice(-7).map((record) => [record.outcome, record.exitCode]);
    assert.deepEqual(outcomes, [
      ['no-such-domain', 1],
      ['invalid-state', 1],
      ['invalid-state', 1],
      ['no-such-snapshot', 1],
      ['daemon-down', 1],
      ['permission-denied', 1],
      ['no-virsh', 127],
    ]);
  });

  it('keeps the audit excerpt of stderr short and free of control characters', async () => {
    await rejectsWithCode(driver().reset('noisy'), 'command-failed', /^virsh reset failed on the L0 "l0-a" \(exit 1\): /);
    const excerpt = records.at(-1)?.stderrExcerpt ?? '';
    assert.ok(excerpt.length <= 500, `excerpt of ${excerpt.length} chars`);
    // eslint-disable-next-line no-control-regex -- asserting their absence.
    assert.doesNotMatch(excerpt, /[\u0000-\u001f\u007f]/);
    assert.match(excerpt, /^error: \\u001b\[31mred\\u001b\[0m line 0\\r\\nerror: /);
  });

  it('refuses hostile names before any SSH: nothing reaches the L0, the refusal is audited', async () => {
    let execCalls = 0;
    const counting: VirshExec = (command, options) => {
      execCalls += 1;
      return sshVirshExec(pool, target())(command, options);
    };
    const l0 = driver({ exec: counting });
    const before = (await recordedCalls(recordFile)).length;
    const hostileValues = ['rep1; rm -rf /', '$(id)', '`id`', 'rep1\nreboot', "rep1'", 'rep1"', 'a&b', 'a|b', 'x'.repeat(10_240), '-rep1', ''];
    for (const hostile of hostileValues) {
      await rejectsWithCode(l0.destroy(hostile), 'invalid-argument', /^refused before contacting the L0 "l0-a": the domain name/);
      await rejectsWithCode(l0.snapshotRevert('rep1', hostile), 'invalid-argument', /^refused before contacting the L0 "l0-a": the snapshot name/);
    }
    for (const uri of ['qemu:///system&reboot&', 'qemu:///system; reboot', 'qemu:///$(id)', 'qemu:///`id`', 'qemu:///system\nx', "qemu:///system'", '-c', '', `qemu:///${'x'.repeat(10_240)}`]) {
      const badUri = new VirshL0Driver({ l0: 'l0-a', uri, exec: counting, onCommand: (record) => records.push(record) });
      await rejectsWithCode(badUri.listDomains(), 'invalid-argument', /the libvirt URI/);
    }
    assert.equal(execCalls, 0);
    assert.equal((await recordedCalls(recordFile)).length, before);
    const refusal = records.at(-1);
    assert.deepEqual([refusal?.argv, refusal?.exitCode, refusal?.outcome], [[], null, 'invalid-argument']);
  });

  it('refuses to run anything on an L0 whose host key is not the pinned one', async () => {
    const sizeBefore = (await stat(recordFile)).size;
    const wrongKey = `SHA256:${'Q'.repeat(43)}`;
    await rejectsWithCode(driver({ target: target({ hostKey: wrongKey }) }).destroy('rep1'), 'host-key-changed', /^host key for 127\.0\.0\.1:\d+ changed: profile pins SHA256:Q+, server presented SHA256:/);
    assert.equal((await stat(recordFile)).size, sizeBefore, 'the fake virsh recorded nothing');
    assert.equal(records.at(-1)?.outcome, 'host-key-changed');
  });

  it('kills a virsh that does not answer in time, says timeout, and the connection goes on working', async () => {
    await rm(pidFile, { force: true });
    const l0 = driver({ timeoutsMs: { domstate: 1500 } });
    // 1.5 s rounds up to the L0's 2 s deadline: timeout(1) there stops the fake virsh.
    await rejectsWithCode(l0.domainState('slow'), 'timeout', /^virsh domstate slow did not finish within 2 s on the L0 "l0-a", which stopped it/);
    assert.equal(records.at(-1)?.exitCode, 124);
    const pid = Number((await readFile(pidFile, 'utf8')).trim());
    assert.ok(pid > 0);
    assert.equal(await processGone(pid, 5000), true, `the fake virsh (pid ${pid}) is still running`);
    assert.deepEqual(await l0.domainStateReason('rep1'), { state: 'shut off', reason: 'destroyed' });
  });

  it('says an L0 whose sshd does not answer is unreachable', async () => {
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const closedPort = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    await rejectsWithCode(driver({ target: target({ port: closedPort }) }).start('rep1'), 'unreachable', new RegExp(`^cannot reach the L0 "l0-a" at 127\\.0\\.0\\.1:${closedPort}: connection refused — is sshd running there`));
  });
});

describe('virsh L0 driver: serialisation per domain', { timeout: 10_000 }, () => {
  it('runs one command at a time per domain, and different domains side by side', async () => {
    const started: string[] = [];
    const pending: ((result: SshExecResult) => void)[] = [];
    const exec: VirshExec = (command) =>
      new Promise((resolve) => {
        started.push(command.includes("'destroy'") ? 'destroy' : command.includes("'start'") ? 'start' : 'reset');
        pending.push(resolve);
      });
    const l0 = new VirshL0Driver({ l0: 'l0-a', uri: 'qemu:///system', exec });
    const ok: SshExecResult = { exitCode: 0, signal: null, stdout: '', stderr: '', durationMs: 1, outputTruncated: false };
    const destroy = l0.destroy('rep1');
    const start = l0.start('rep1');
    const reset = l0.reset('rep2');
    await new Promise<void>((resolve) => setImmediate(resolve));
    assert.deepEqual(started, ['destroy', 'reset'], 'start waits for destroy on the same domain; rep2 does not wait');
    pending.shift()?.(ok);
    await destroy;
    await new Promise<void>((resolve) => setImmediate(resolve));
    assert.deepEqual(started, ['destroy', 'reset', 'start']);
    for (const resolve of pending.splice(0)) resolve(ok);
    await Promise.all([start, reset]);
  });

  it('goes on with the next command after a failed one', async () => {
    let calls = 0;
    const exec: VirshExec = () => {
      calls += 1;
      return Promise.resolve({ exitCode: calls === 1 ? 1 : 0, signal: null, stdout: '', stderr: calls === 1 ? 'error: Domain is already active\n' : '', durationMs: 1, outputTruncated: false });
    };
    const l0 = new VirshL0Driver({ l0: 'l0-a', uri: 'qemu:///system', exec });
    const results = await Promise.allSettled([l0.start('rep1'), l0.destroy('rep1')]);
    assert.deepEqual(
      results.map((result) => result.status),
      ['rejected', 'fulfilled'],
    );
  });
});

describe('virsh output and failures', { timeout: 10_000 }, () => {
  it('parses domstate --reason, list --all, snapshot-list and domdisplay as virsh prints them', () => {
    assert.deepEqual(parseDomainState('running (booted)\n\n'), { state: 'running', reason: 'booted' });
    assert.deepEqual(parseDomainState('shut off (from snapshot)\n'), { state: 'shut off', reason: 'from snapshot' });
    assert.deepEqual(parseDomainState('in shutdown (user)\n'), { state: 'running', reason: 'in shutdown: user' });
    assert.deepEqual(parseDomainState('paused\n'), { state: 'paused', reason: 'unknown' });
    assert.equal(parseDomainState('\n'), null);
    // Headers (when --quiet is not honoured) and separators are skipped.
    assert.deepEqual(parseDomainList(' Id   Name   State\n----------------------\n 1    test   running\n -    off    shut off\n\n'), [
      { name: 'test', state: 'running' },
      { name: 'off', state: 'shut off' },
    ]);
    assert.deepEqual(
      parseSnapshotList(
        ' Name    Creation Time               State\n---------------------------------\n b   2026-12-03 12:59:51 +0000   running\n a   2026-12-03 12:59:50 -0130   running\n c   2026-12-03 12:59:51 +0000   running\n',
      ),
      ['b', 'c', 'a'],
    );
    assert.equal(parseDomainDisplay('vnc://127.0.0.1:21\n'), 'vnc://127.0.0.1:21');
    assert.equal(parseDomainDisplay('\n'), null);
    assert.equal(parseDomainDisplay('No graphical display found\n'), null);
  });

  it('classifies the messages virsh 9 prints', () => {
    const context = { l0: 'l0-a', uri: 'qemu:///system', verb: 'start' as const, domain: 'rep1', user: 'virt', remoteTimeoutSeconds: 60 };
    const cases: [string, number | null, L0ErrorCode][] = [
      ["error: failed to get domain 'rep1'\n", 1, 'no-such-domain'],
      ["error: failed to get domain 'rep1'\nerror: Domain not found: no domain with matching name 'rep1'\n", 1, 'no-such-domain'],
      ["error: Domain snapshot not found: no domain snapshot with matching name 's'\n", 1, 'no-such-snapshot'],
      ['error: Domain is already active\n', 1, 'invalid-state'],
      ["error: Failed to destroy domain 'rep1'\nerror: Requested operation is not valid: domain is not running\n", 1, 'invalid-state'],
      ['error: XML error: memory state cannot be saved with offline or disk-only snapshot\n', 1, 'invalid-state'],
      ["error: failed to connect to the hypervisor\nerror: Failed to connect socket to '/var/run/libvirt/libvirt-sock': No such file or directory\n", 1, 'daemon-down'],
      ["error: failed to connect to the hypervisor\nerror: Failed to connect socket to '/var/run/libvirt/libvirt-sock': Permission denied\n", 1, 'permission-denied'],
      ['error: failed to connect to the hypervisor\nerror: authentication failed: access denied by policy\n', 1, 'permission-denied'],
      ["error: failed to connect to the hypervisor\nerror: internal error: unexpected qemu URI path '/sys', try qemu:///system\n", 1, 'command-failed'],
      ['error: Timed out during operation: cannot acquire state change lock (held by monitor=remoteDispatchDomainSnapshotCreateXML)\n', 1, 'timeout'],
      ["env: 'virsh': No such file or directory\n", 127, 'no-virsh'],
      ['error: operation failed: domain moment s already exists\n', 1, 'command-failed'],
      // A guest's own files are not the libvirt connection: neither "daemon down" nor "add to group libvirt".
      ["error: Failed to start domain 'rep1'\nerror: Cannot access storage file '/var/lib/rep1.qcow2': No such file or directory\n", 1, 'command-failed'],
      ["error: Failed to start domain 'rep1'\nerror: Cannot access storage file '/var/lib/rep1.qcow2' (as uid:64055, gid:64055): Permission denied\n", 1, 'command-failed'],
      ['', null, 'command-failed'],
      // The L0's timeout(1): its own exit status, a missing timeout, a missing virsh behind it.
      ['', 124, 'timeout'],
      ['', 137, 'timeout'],
      ['env: \u2018timeout\u2019: No such file or directory\n', 127, 'command-failed'],
      ["timeout: failed to run command 'virsh': No such file or directory\n", 127, 'no-virsh'],
      ["timeout: can't execute 'virsh': No such file or directory\n", 127, 'no-virsh'],
    ];
    for (const [stderr, exitCode, code] of cases) {
      const classified = classifyVirshFailure({ exitCode, signal: exitCode === null ? 'KILL' : null, stderr }, context);
      assert.equal(classified.code, code, `${JSON.stringify(stderr)} → ${classified.message}`);
    }
    assert.equal(classifyVirshFailure({ exitCode: null, signal: 'KILL', stderr: '' }, context).message, 'virsh start failed on the L0 "l0-a" (signal KILL): killed by SIGKILL');
  });

  it('escapes control characters and bounds the length', () => {
    assert.equal(escapeControlCharacters('a\nb\tc\u001b[0m\u2028', 100), 'a\\nb\\tc\\u001b[0m\\u2028');
    const long = escapeControlCharacters('x'.repeat(600), 500);
    assert.equal(long.length, 500);
    assert.ok(long.endsWith('…'));
  });
});
