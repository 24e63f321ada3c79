// `retrovisor lab` in-process: its flags (each bad one refused with a clear message), its console
// commands, and a run that prints endpoints, writes a valid profile and obeys stdin commands until
// stopped. Real demo RFB servers on 127.0.0.1, read back with the test RFB client. Runs in Node.

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { validateProfile } from '../../../common/profile';
import { DEFAULT_LAB_PROFILE_FILE, LAB_EXIT, LAB_PASSWORD_ARGV_WARNING, LabUsageError, parseLabArguments, parseLabConsoleCommand, runLabCommand } from '../../../main/lab-command';
import { RfbTestClient, tryConnect, waitFor } from '../demo/rfb-test-client';

let folder = '';

before(async () => {
  folder = await mkdtemp(path.join(os.tmpdir(), 'retrovisor-lab-command-'));
});

after(async () => {
  await rm(folder, { recursive: true, force: true });
});

/** A writable that keeps what was written. */
function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { stream, text: () => text };
}

describe('retrovisor lab: flags', { timeout: 10_000 }, () => {
  it('has defaults: 3 replicas, 1024x768, free ports, no password, ./demo-lab.profile.json', () => {
    assert.deepEqual(parseLabArguments([], '/work/here'), {
      replicas: 3,
      size: { width: 1024, height: 768 },
      faults: [],
      portBase: 0,
      password: undefined,
      profileOut: path.join('/work/here', DEFAULT_LAB_PROFILE_FILE),
    });
  });

  it('reads every flag, --fault repeated', () => {
    const args = parseLabArguments(
      ['--replicas', '4', '--size', '640x400', '--fault', 'r2:lag=0-300', '--fault', 'r4:banner=HACKED', '--port-base', '5911', '--password', 'pw', '--profile-out', 'labs/p.json'],
      '/w',
    );
    assert.notEqual(args, 'help');
    assert.deepEqual(args, {
      replicas: 4,
      size: { width: 640, height: 400 },
      faults: [
        { replicaId: 'r2', fault: { kind: 'lag', minMs: 0, maxMs: 300 } },
        { replicaId: 'r4', fault: { kind: 'banner', text: 'HACKED' } },
      ],
      portBase: 5911,
      password: 'pw',
      profileOut: '/w/labs/p.json',
    });
    assert.equal(parseLabArguments(['--help'], '/w'), 'help');
  });

  it('takes the password from --password-file or RETROVISOR_LAB_PASSWORD, keeping it out of argv', () => {
    const fromFile = parseLabArguments(['--password-file', 'pw.txt'], '/w', { RETROVISOR_LAB_PASSWORD: 'ignored' });
    assert.notEqual(fromFile, 'help');
    assert.deepEqual(fromFile === 'help' ? null : [fromFile.password, fromFile.passwordFile], [undefined, '/w/pw.txt']);
    const fromEnvironment = parseLabArguments([], '/w', { RETROVISOR_LAB_PASSWORD: 'from-env' });
    assert.equal(fromEnvironment === 'help' ? null : fromEnvironment.password, 'from-env');
    const fromFlag = parseLabArguments(['--password', 'flag'], '/w', { RETROVISOR_LAB_PASSWORD: 'from-env' });
    assert.equal(fromFlag === 'help' ? null : fromFlag.password, 'flag');
    assert.throws(() => parseLabArguments(['--password', 'a', '--password-file', 'b'], '/w', {}), /--password and --password-file both give the password: choose one/);
    assert.throws(() => parseLabArguments(['--password-file', ''], '/w', {}), /--password-file needs a file name/);
    assert.throws(() => parseLabArguments([], '/w', { RETROVISOR_LAB_PASSWORD: '' }), /RETROVISOR_LAB_PASSWORD is set but empty/);
  });

  it('refuses each bad flag with what would work', () => {
    const refusals: [string[], RegExp][] = [
      [['--replicas', '0'], /--replicas must be a whole number from 1 to 8, not "0"/],
      [['--replicas', '9'], /--replicas must be a whole number from 1 to 8/],
      [['--replicas', 'three'], /--replicas must be a whole number/],
      [['--size', 'big'], /--size must be WIDTHxHEIGHT from 200x150 to 4096x4096 \(e\.g\. 1024x768\), not "big"/],
      [['--size', '100x100'], /--size must be WIDTHxHEIGHT/],
      [['--fault', 'r2:explode'], /--fault "r2:explode": unknown fault "explode"; expected one of lag, drop-key, inject, banner, freeze, crash/],
      [['--fault', 'r5:freeze'], /--fault "r5:freeze": the lab has r1 to r3 \(raise --replicas\)/],
      [['--fault', 'lag=200'], /expected REPLICA:FAULT/],
      [['--port-base', '65535', '--replicas', '2'], /--port-base must be a whole number from 1 to 65534/],
      [['--password', ''], /--password must not be empty/],
      [['--colour', 'red'], /Unknown option '--colour'/],
      [['extra'], /positional argument/],
    ];
    for (const [argv, message] of refusals) {
      assert.throws(() => parseLabArguments(argv, '/w'), (error: unknown) => error instanceof LabUsageError && message.test(error.message), argv.join(' '));
    }
  });

  it('understands console commands: faults, clear, L0 actions, status', () => {
    assert.deepEqual(parseLabConsoleCommand(' r2:banner=HACKED '), { kind: 'fault', replicaId: 'r2', fault: 'banner=HACKED' });
    assert.deepEqual(parseLabConsoleCommand('r2:clear'), { kind: 'clear', replicaId: 'r2' });
    assert.deepEqual(parseLabConsoleCommand('r3:snapshot-revert'), { kind: 'l0', replicaId: 'r3', action: 'snapshot-revert' });
    assert.deepEqual(parseLabConsoleCommand('status'), { kind: 'status' });
    assert.deepEqual(parseLabConsoleCommand(''), { kind: 'nothing' });
    assert.throws(() => parseLabConsoleCommand('r2:reboot'), /unknown fault "reboot".*or rN:clear, or an L0 action: reset, destroy, start/);
    assert.throws(() => parseLabConsoleCommand('quit'), /expected rN:FAULT, rN:clear, rN:ACTION/);
  });

  it('exits 2 with the usage on a bad flag', async () => {
    const stdout = capture();
    const stderr = capture();
    const status = await runLabCommand(['--size', '1x1'], { stdout: stdout.stream, stderr: stderr.stream, stdin: null, workingDirectory: folder });
    assert.equal(status, LAB_EXIT.badInput);
    assert.match(stderr.text(), /retrovisor lab: --size must be WIDTHxHEIGHT[\s\S]*Usage: retrovisor lab/);
    assert.equal(stdout.text(), '');
  });
});

describe('retrovisor lab: a run', { timeout: 30_000 }, () => {
  it('prints endpoints, writes a valid profile, obeys stdin commands and stops when told', async () => {
    const stdout = capture();
    const stderr = capture();
    const stdin = new PassThrough();
    const stop = new AbortController();
    const profileOut = path.join(folder, 'nested', 'lab.json');
    const running = runLabCommand(['--replicas', '2', '--size', '320x240', '--fault', 'r2:freeze', '--password', 'secret', '--profile-out', profileOut], {
      stdout: stdout.stream,
      stderr: stderr.stream,
      stdin,
      workingDirectory: folder,
      signal: stop.signal,
    });
    await waitFor(() => stdout.text().includes('Ctrl+C stops the lab.'), 10_000, 'the lab to start');
    const text = stdout.text();
    assert.match(text, /RetroVisor demo lab: 2 replicas of a 320x240 guest, password set/);
    assert.ok(stderr.text().includes(LAB_PASSWORD_ARGV_WARNING), `--password warns that argv is public: ${stderr.text()}`);
    const ports = [...text.matchAll(/^ {2}(r\d) +Demo \d +127\.0\.0\.1:(\d+)/gm)].map((match) => [match[1], Number(match[2])] as const);
    assert.deepEqual(
      ports.map(([id]) => id),
      ['r1', 'r2'],
    );
    assert.match(text, /r2 +Demo 2 +127\.0\.0\.1:\d+ +faults: freeze/);
    assert.match(text, new RegExp(`Profile: ${profileOut.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));

    const document: unknown = JSON.parse(await readFile(profileOut, 'utf8'));
    const validation = validateProfile(document);
    assert.ok(validation.ok, JSON.stringify(validation));
    assert.deepEqual(
      validation.profile.replicas.map((replica) => [replica.id, replica.vnc.port, replica.vnc.password]),
      ports.map(([id, port]) => [id, port, { kind: 'inline', value: 'secret' }]),
    );
    assert.equal((await stat(profileOut)).mode & 0o777, 0o600, 'the profile holds the password: owner only');

    const r1Port = ports[0]?.[1] ?? 0;
    const client = await RfbTestClient.connect({ port: r1Port, password: 'secret' });
    await client.update(false);
    stdin.write('r1:banner=FROM STDIN\n');
    await waitFor(() => stdout.text().includes('r1: banner applied'), 5000, 'the banner command');
    await client.update(true);
    const inBanner = 4 * (106 * 320 + 160);
    assert.deepEqual([...client.fb.subarray(inBanner, inBanner + 3)], [0xc0, 0x18, 0x18], 'the banner reached r1');
    client.close();

    stdin.write('r1:crash\nstatus\n');
    await waitFor(() => /r1 +Demo 1 +127\.0\.0\.1:\d+ +crashed/.test(stdout.text()), 5000, 'status to show r1 crashed');
    assert.equal(await tryConnect(r1Port), 'ECONNREFUSED');
    stdin.write('r1:start\nr2:clear\nr1:nonsense\n');
    await waitFor(() => stderr.text().includes('unknown fault "nonsense"'), 5000, 'the bad command to be refused');
    assert.match(stdout.text(), /r1: start done/);
    assert.match(stdout.text(), /r2: lasting faults cleared/);
    assert.equal(await tryConnect(r1Port), 'connected');

    stop.abort();
    assert.equal(await running, LAB_EXIT.stopped);
    assert.match(stdout.text(), /Demo lab stopped\./);
    assert.equal(await tryConnect(r1Port), 'ECONNREFUSED');
  });

  it('reads the password from --password-file (its first line) without a warning, and refuses a missing file', async () => {
    const passwordFile = path.join(folder, 'lab-password.txt');
    await writeFile(passwordFile, 'from-file\nsecond line\n', { mode: 0o600 });
    const stdout = capture();
    const stderr = capture();
    const stop = new AbortController();
    const profileOut = path.join(folder, 'from-file.json');
    const running = runLabCommand(['--replicas', '1', '--size', '320x240', '--password-file', 'lab-password.txt', '--profile-out', profileOut], {
      stdout: stdout.stream,
      stderr: stderr.stream,
      stdin: null,
      workingDirectory: folder,
      signal: stop.signal,
      env: {},
    });
    await waitFor(() => stdout.text().includes('Ctrl+C stops the lab.'), 10_000, 'the lab to start');
    assert.match(stdout.text(), /1 replica of a 320x240 guest, password set/);
    const validation = validateProfile(JSON.parse(await readFile(profileOut, 'utf8')));
    assert.ok(validation.ok, JSON.stringify(validation));
    assert.deepEqual(validation.profile.replicas[0]?.vnc.password, { kind: 'inline', value: 'from-file' });
    const client = await RfbTestClient.connect({ port: validation.profile.replicas[0]?.vnc.port ?? 0, password: 'from-file' });
    client.close();
    stop.abort();
    assert.equal(await running, LAB_EXIT.stopped);
    assert.doesNotMatch(stderr.text(), /warning/, 'no warning: the password was never in argv');

    const missing = capture();
    const status = await runLabCommand(['--password-file', 'nope.txt'], { stdout: capture().stream, stderr: missing.stream, stdin: null, workingDirectory: folder, env: {} });
    assert.equal(status, LAB_EXIT.badInput);
    assert.match(missing.text(), /retrovisor lab: --password-file: cannot read secret file ".*nope\.txt": no such file/);
  });

  it('exits 1 with a hint when a port is taken', async () => {
    const stdout = capture();
    const stderr = capture();
    const holder = await runLabHolder();
    try {
      const status = await runLabCommand(['--replicas', '1', '--port-base', String(holder.port), '--profile-out', path.join(folder, 'taken.json')], {
        stdout: stdout.stream,
        stderr: stderr.stream,
        stdin: null,
        workingDirectory: folder,
      });
      assert.equal(status, LAB_EXIT.failure);
      assert.match(stderr.text(), /the lab could not start: .*EADDRINUSE.*: a port is taken; choose another --port-base or leave it out for free ports/);
    } finally {
      await holder.close();
    }
  });
});

/** Holds a loopback port so the lab cannot have it. */
async function runLabHolder(): Promise<{ port: number; close: () => Promise<void> }> {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(typeof address === 'object' && address !== null);
  return { port: address.port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
