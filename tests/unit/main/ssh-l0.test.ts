// SSH to an L0 against a real OpenSSH sshd on loopback: tunnels work and share one connection, a
// pinned ECDSA or RSA host key is negotiated, a changed host key and a refused key fail with words the
// user can act on, and key-file problems are caught before connecting. Needs /usr/sbin/sshd (fails, never skips, when it is missing).

import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import ssh2 from 'ssh2';
import { WebSocket, WebSocketServer } from 'ws';
import type { SshTarget } from '../../../common/profile';
import { createBackend } from '../../../main/backend';
import { createLogger, SecretRedactor } from '../../../main/logger';
import { connectReplica } from '../../../main/replica-transport';
import { fingerprintsMatch, hostKeyAlgorithmsToOffer, hostKeyType, L0Connection, SshL0Error, SshL0Pool, sshFingerprint, type L0Target } from '../../../main/ssh-l0';
import { wsStreamEndpoint } from '../../../main/stream-relay';
import { startSshd, type SshdHandle } from '../../lab/components';
import { findExecutable } from '../../lab/vm-assets';
import { MemorySecretStore } from '../support/memory-secret-store';

const SSHD_MISSING = 'sshd not found: run `npm run lab:install` (apt-get install -y openssh-server)';
const logLines: string[] = [];
const logger = createLogger({ sink: (line) => logLines.push(line), level: 'debug' });
let sshd: SshdHandle;
let folder = '';
let echoServer: net.Server;
let echoPort = 0;
let echoConnections = 0;
const echoSockets = new Set<net.Socket>();
const pools: SshL0Pool[] = [];

// ssh2's key generator writes, about once in 170 Ed25519 keys, a private key that neither ssh2 nor
// OpenSSH (`ssh-keygen -y`) can load ("Malformed OpenSSH private key"). A test that needs a good key
// generates until ssh2 reads back what it wrote, so the failure it checks is the one it means.
function generateReadableEd25519(options: ssh2.utils.KeyPairOptions = {}): ssh2.utils.KeyPairReturn {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const pair = ssh2.utils.generateKeyPairSync('ed25519', options);
    const passphrase = 'passphrase' in options ? options.passphrase : undefined;
    if (!(ssh2.utils.parseKey(pair.private, passphrase) instanceof Error)) return pair;
  }
  throw new Error('ssh2 generated 100 Ed25519 keys in a row that it cannot read back');
}

before(async () => {
  if (findExecutable('sshd') === undefined) throw new Error(SSHD_MISSING);
  folder = await mkdtemp(path.join(os.tmpdir(), 'retrovisor-ssh-'));
  sshd = await startSshd();
  echoServer = net.createServer((socket) => {
    echoConnections += 1;
    echoSockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => echoSockets.delete(socket));
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => echoServer.listen(0, '127.0.0.1', resolve));
  echoPort = (echoServer.address() as net.AddressInfo).port;
});

after(async () => {
  await Promise.all(pools.map((pool) => pool.close()));
  for (const socket of echoSockets) socket.destroy();
  await new Promise<void>((resolve) => (echoServer ? echoServer.close(() => resolve()) : resolve()));
  await sshd?.stop();
  if (folder) await rm(folder, { recursive: true, force: true });
});

function newPool(): SshL0Pool {
  const pool = new SshL0Pool({ logger, redactor: new SecretRedactor(), readyTimeoutMs: 5000 });
  pools.push(pool);
  return pool;
}

function labTarget(overrides: Partial<SshTarget> = {}): L0Target {
  return {
    name: 'l0-a',
    baseDir: folder,
    ssh: { host: sshd.host, port: sshd.port, user: sshd.user, identityFile: sshd.identityFile, hostKey: sshd.hostKeyFingerprint, ...overrides },
  };
}

/** Writes bytes through a duplex and reads the same number back. */
async function roundTrip(stream: NodeJS.ReadWriteStream, text: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let received = '';
    const onData = (chunk: Buffer): void => {
      received += chunk.toString();
      if (received.length >= text.length) {
        stream.off('data', onData);
        resolve(received);
      }
    };
    stream.on('data', onData);
    stream.once('error', reject);
    stream.write(text);
  });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

async function rejectsWith(promise: Promise<unknown>, kind: SshL0Error['kind'], pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof SshL0Error, String(error));
    assert.equal(error.kind, kind, error.message);
    assert.match(error.message, pattern);
    return true;
  });
}

describe('fingerprints', { timeout: 60_000 }, () => {
  it('computes the OpenSSH SHA256 form and compares it in constant time', () => {
    const blob = Buffer.from('AAAAC3NzaC1lZDI1NTE5AAAAIDRmYWtlLWtleS1mb3ItdGVzdHMtb25seS0xMjM0', 'base64');
    const fingerprint = sshFingerprint(blob);
    assert.match(fingerprint, /^SHA256:[A-Za-z0-9+/]{43}$/);
    assert.ok(fingerprintsMatch(fingerprint, fingerprint));
    assert.ok(!fingerprintsMatch(`SHA256:${'A'.repeat(43)}`, fingerprint));
    assert.ok(!fingerprintsMatch('SHA256:short', fingerprint));
  });

  it('reads the key type of a blob and offers the host key types not yet seen, the remembered one first', () => {
    const blob = Buffer.from('AAAAC3NzaC1lZDI1NTE5AAAAIDRmYWtlLWtleS1mb3ItdGVzdHMtb25seS0xMjM0', 'base64');
    assert.equal(hostKeyType(blob), 'ssh-ed25519');
    assert.equal(hostKeyType(Buffer.from([0, 0, 0, 200, 65])), 'unknown');
    const all = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
    assert.deepEqual(hostKeyAlgorithmsToOffer(new Set(), null), all);
    assert.deepEqual(hostKeyAlgorithmsToOffer(new Set(['ssh-ed25519', 'ecdsa-sha2-nistp256']), null), all.slice(2));
    assert.deepEqual(hostKeyAlgorithmsToOffer(new Set(), 'ssh-rsa'), [...all.slice(4), ...all.slice(0, 4)]);
    assert.deepEqual(hostKeyAlgorithmsToOffer(new Set(['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'ssh-rsa']), null), []);
  });
});

describe('SSH to an L0 (real sshd on 127.0.0.1)', { timeout: 60_000 }, () => {
  it('pins the host key the lab sshd presents', () => {
    assert.match(sshd.hostKeyFingerprint, /^SHA256:[A-Za-z0-9+/]{43}$/);
  });

  it('opens tunnels to a TCP server through one shared connection, and reconnects after a drop', async () => {
    const pool = newPool();
    const target = labTarget();
    const readyLines = (): number => logLines.filter((line) => line.includes('SSH connection to L0 ready') && line.includes(`:${sshd.port}`)).length;
    const before = readyLines();
    const [first, second] = await Promise.all([pool.openTunnel(target, '127.0.0.1', echoPort), pool.openTunnel(target, '127.0.0.1', echoPort)]);
    assert.equal(await roundTrip(first, 'hello through the L0'), 'hello through the L0');
    assert.equal(await roundTrip(second, 'second tunnel'), 'second tunnel');
    assert.equal(readyLines() - before, 1, 'two tunnels should share one SSH connection');

    const connection = pool.connection(target);
    assert.ok(connection.connected);
    const firstClosed = new Promise<void>((resolve) => first.once('close', () => resolve()));
    (await connection.client()).destroy();
    await firstClosed;
    assert.ok(!connection.connected);
    const third = await pool.openTunnel(target, '127.0.0.1', echoPort);
    assert.equal(await roundTrip(third, 'after reconnect'), 'after reconnect');
    assert.equal(readyLines() - before, 2);
    third.destroy();
  });

  it('refuses and logs a use after close; an attempt under way when it closed ends as closed', async () => {
    const connection = new L0Connection(labTarget(), { logger, redactor: new SecretRedactor(), readyTimeoutMs: 5000 });
    const refusals = (): string[] =>
      logLines
        .map((line) => JSON.parse(line) as { level: string; message: string; state?: string; event?: string; sshHost?: string })
        .filter((line) => line.message === 'L0 connection: event refused in this state' && line.sshHost === `${sshd.host}:${sshd.port}`)
        .map(({ level, state, event }) => `${level} ${state} ${event}`);
    const before = refusals().length;
    const attempt = connection.client();
    await connection.close();
    await assert.rejects(attempt, (error) => error instanceof SshL0Error && error.kind === 'closed');
    await assert.rejects(connection.client(), (error) => error instanceof SshL0Error && error.kind === 'closed');
    await connection.close();
    assert.equal(connection.connected, false);
    assert.deepEqual(refusals().slice(before), ['debug closed use']);
  });

  it('connects a tunnelled replica and says when the L0 cannot reach the VNC server', async () => {
    const pool = newPool();
    const target = labTarget();
    const profile = { version: 1 as const, name: 'lab', replicas: [], l0: { 'l0-a': { kind: 'ssh' as const, ssh: target.ssh, uri: 'qemu:///system' } } };
    const replica = { id: 'a', label: 'a', l0: 'l0-a', vnc: { host: '127.0.0.1', port: echoPort, tunnel: true } };
    const stream = await connectReplica(replica, { profile, baseDir: folder, ssh: pool });
    assert.equal(await roundTrip(stream, 'vnc bytes'), 'vnc bytes');
    stream.destroy();

    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const closedPort = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    await rejectsWith(
      pool.openTunnel(target, '127.0.0.1', closedPort),
      'tunnel',
      new RegExp(`the L0 "l0-a" could not connect to 127\\.0\\.0\\.1:${closedPort} \\(.*\\) — is the VNC server running there\\?`),
    );
  });

  it('refuses a server whose host key differs from the pinned one, naming both fingerprints', async () => {
    const pool = newPool();
    const pinned = `SHA256:${'Q'.repeat(43)}`;
    await rejectsWith(
      pool.openTunnel(labTarget({ hostKey: pinned }), '127.0.0.1', echoPort),
      'host-key-changed',
      new RegExp(
        `^host key for 127\\.0\\.0\\.1:${sshd.port} changed: profile pins ${pinned}, server presented ${escapeRegExp(sshd.hostKeyFingerprint)} \\(ED25519\\) — none matches; compare with \`ssh-keygen -lf\` of each /etc/ssh/ssh_host_\\*_key\\.pub on the L0, and if the L0 was reinstalled, update "hostKey" in the profile`,
      ),
    );
    assert.ok(!pool.connection(labTarget({ hostKey: pinned })).connected);
  });

  it('says the key was not accepted for the user when sshd refuses it', async () => {
    const stranger = generateReadableEd25519();
    const strangerPath = path.join(folder, 'stranger_ed25519');
    await writeFile(strangerPath, stranger.private, { mode: 0o600 });
    await rejectsWith(
      newPool().openTunnel(labTarget({ identityFile: 'stranger_ed25519' }), '127.0.0.1', echoPort),
      'auth-failed',
      new RegExp(`^key not accepted for user ${sshd.user} by the L0 "l0-a" at 127\\.0\\.0\\.1:${sshd.port} \\(offered ${strangerPath}\\)`),
    );
  });

  it('says an unreachable L0 refused the connection', async () => {
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const closedPort = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    await rejectsWith(
      newPool().openTunnel(labTarget({ port: closedPort }), '127.0.0.1', echoPort),
      'unreachable',
      new RegExp(`^cannot reach the L0 "l0-a" at 127\\.0\\.0\\.1:${closedPort}: connection refused — is sshd running there`),
    );
  });

  it('explains an unreadable identity file, a missing passphrase and a wrong one, without connecting', async () => {
    await rejectsWith(
      newPool().openTunnel(labTarget({ identityFile: 'no-such-key' }), '127.0.0.1', echoPort),
      'identity',
      new RegExp(`cannot read identity file "${path.join(folder, 'no-such-key')}": no such file \\(ENOENT\\)`),
    );
    const unreadable = path.join(folder, 'garbage_key');
    await writeFile(unreadable, 'this is not a key\n');
    await chmod(unreadable, 0o600);
    await rejectsWith(newPool().openTunnel(labTarget({ identityFile: unreadable }), '127.0.0.1', echoPort), 'identity', /is not a private key RetroVisor can read/);

    const encrypted = generateReadableEd25519({ passphrase: 'right horse battery', cipher: 'aes256-ctr', rounds: 4 });
    await writeFile(path.join(folder, 'encrypted_ed25519'), encrypted.private, { mode: 0o600 });
    await rejectsWith(
      newPool().openTunnel(labTarget({ identityFile: 'encrypted_ed25519' }), '127.0.0.1', echoPort),
      'passphrase',
      /is encrypted: add "passphrase"/,
    );
    await rejectsWith(
      newPool().openTunnel(labTarget({ identityFile: 'encrypted_ed25519', passphrase: { kind: 'inline', value: 'wrong staple' } }), '127.0.0.1', echoPort),
      'passphrase',
      /^wrong passphrase for identity file ".*encrypted_ed25519" \(L0 "l0-a"\)$/,
    );
    // The right passphrase gets past the key (this key is simply not authorized on the lab sshd).
    await rejectsWith(
      newPool().openTunnel(labTarget({ identityFile: 'encrypted_ed25519', passphrase: { kind: 'inline', value: 'right horse battery' } }), '127.0.0.1', echoPort),
      'auth-failed',
      /key not accepted/,
    );
    // A passphrase saved in the keyring (a profile of the profile library) works the same way.
    const keyring = { store: new MemorySecretStore(), profileId: 'lab' };
    const fromKeyring: L0Target = { ...labTarget({ identityFile: 'encrypted_ed25519', passphrase: { kind: 'keyring', slot: 'l0/l0-a/passphrase' } }), keyring };
    await rejectsWith(newPool().openTunnel(fromKeyring, '127.0.0.1', echoPort), 'passphrase', /no saved SSH key passphrase for the L0 l0-a in the keyring: enter it, or save the profile again/);
    await keyring.store.store({ profileId: 'lab', slot: 'l0/l0-a/passphrase' }, 'right horse battery');
    await rejectsWith(newPool().openTunnel(fromKeyring, '127.0.0.1', echoPort), 'auth-failed', /key not accepted/);
    assert.ok(!logLines.some((line) => line.includes('right horse battery') || line.includes('wrong staple')));
  });

  it('streams a tunnelled replica through the back end and the ws endpoint', async () => {
    const backend = createBackend({ shell: 'browser', headless: true, version: 'test', logger, workingDirectory: folder });
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    server.on('connection', (socket, request) => backend.attachStream((request.url ?? '').slice(1), wsStreamEndpoint(socket)));
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    try {
      const profile = {
        version: 1,
        name: 'tunnelled',
        l0: { 'l0-a': { ssh: { host: sshd.host, port: sshd.port, user: sshd.user, identityFile: sshd.identityFile, hostKey: sshd.hostKeyFingerprint } } },
        replicas: [{ id: 'a', l0: 'l0-a', vnc: { host: '127.0.0.1', port: echoPort, tunnel: true } }],
      };
      const opened = await backend.handlers.openProfileText({ text: JSON.stringify(profile), sourceName: 'tunnelled.json' });
      assert.ok(opened.ok, JSON.stringify(opened));
      assert.equal(opened.session.replicas[0]?.endpoint, `127.0.0.1:${echoPort} via l0-a`);
      const { streamId } = await backend.handlers.openReplicaStream({ sessionId: opened.session.sessionId, replicaId: 'a' });
      const ui = new WebSocket(`ws://127.0.0.1:${(server.address() as net.AddressInfo).port}/${streamId}`);
      const echoed = await new Promise<string>((resolve, reject) => {
        ui.on('error', reject);
        ui.on('message', (data: Buffer, isBinary) => {
          if (!isBinary && (JSON.parse(data.toString()) as { type: string }).type === 'open') ui.send(Buffer.from('through ssh'));
          if (isBinary) resolve(data.toString());
        });
      });
      assert.equal(echoed, 'through ssh');
      ui.close();
    } finally {
      await backend.close();
      for (const client of server.clients) client.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('running commands on an L0 (exec, real sshd)', { timeout: 30_000 }, () => {
  const execOptions = { timeoutMs: 10_000, maxOutputBytes: 64 * 1024 };

  it('returns exit status, stdout and stderr apart, and a signal when the command was killed', async () => {
    const pool = newPool();
    const result = await pool.exec(labTarget(), `printf 'out\\n'; printf 'err\\n' >&2; exit 3`, execOptions);
    assert.deepEqual([result.exitCode, result.signal, result.stdout, result.stderr, result.outputTruncated], [3, null, 'out\n', 'err\n', false]);
    assert.ok(result.durationMs >= 0);
    const killed = await pool.exec(labTarget(), 'kill -TERM $$', execOptions);
    assert.deepEqual([killed.exitCode, killed.signal], [null, 'TERM']);
  });

  it('keeps at most maxOutputBytes of each stream and says it cut them', async () => {
    const result = await newPool().exec(labTarget(), 'head -c 300000 /dev/zero | tr "\\0" x; head -c 5000 /dev/zero | tr "\\0" y >&2', { timeoutMs: 10_000, maxOutputBytes: 1000 });
    assert.equal(result.exitCode, 0);
    assert.equal(result.stdout, 'x'.repeat(1000));
    assert.equal(result.stderr, 'y'.repeat(1000));
    assert.equal(result.outputTruncated, true);
  });

  it('gives up on a command past its deadline, and the connection goes on serving', async () => {
    const pool = newPool();
    await rejectsWith(pool.exec(labTarget(), 'exec sleep 3', { timeoutMs: 300, maxOutputBytes: 1024 }), 'timeout', /^the command on the L0 "l0-a" did not finish within 300 ms; its channel was closed after asking the L0 to kill it/);
    const after = await pool.exec(labTarget(), 'echo still here', execOptions);
    assert.equal(after.stdout, 'still here\n');
  });

  it('holds the connection open while a command runs, and closes it once idle', async () => {
    let onIdleClose: () => void = () => undefined;
    const idleClosed = new Promise<void>((resolve) => (onIdleClose = resolve));
    const lines: string[] = [];
    const idleLogger = createLogger({
      level: 'debug',
      sink: (line) => {
        lines.push(line);
        if (line.includes('closing idle SSH connection to L0')) onIdleClose();
      },
    });
    const pool = new SshL0Pool({ logger: idleLogger, redactor: new SecretRedactor(), readyTimeoutMs: 5000, idleCloseMs: 200 });
    pools.push(pool);
    // The command outlives the idle delay several times over: it must not be cut.
    const result = await pool.exec(labTarget(), 'sleep 1; echo done', execOptions);
    assert.equal(result.stdout, 'done\n');
    assert.equal(lines.filter((line) => line.includes('closing idle SSH connection')).length, 0, 'closed while the command ran');
    await idleClosed;
    assert.ok(!pool.connection(labTarget()).connected);
  });

  it('runs nothing on an L0 whose host key is not the pinned one', async () => {
    const marker = path.join(folder, 'exec-ran');
    await rejectsWith(
      newPool().exec(labTarget({ hostKey: `SHA256:${'Q'.repeat(43)}` }), `touch '${marker}'`, execOptions),
      'host-key-changed',
      /^host key for 127\.0\.0\.1:\d+ changed/,
    );
    await assert.rejects(stat(marker), /ENOENT/);
  });
});

describe('an L0 with ed25519, ECDSA and RSA host keys (real sshd)', { timeout: 60_000 }, () => {
  let multiKeySshd: SshdHandle;
  const execOptions = { timeoutMs: 10_000, maxOutputBytes: 64 * 1024 };

  before(async () => {
    multiKeySshd = await startSshd({ hostKeyTypes: ['ed25519', 'ecdsa', 'rsa'] });
  });

  after(async () => {
    await multiKeySshd?.stop();
  });

  function multiKeyTarget(hostKey: string): L0Target {
    const { host, port, user, identityFile } = multiKeySshd;
    return { name: 'l0-multi', baseDir: folder, ssh: { host, port, user, identityFile, hostKey } };
  }

  function print(type: 'ed25519' | 'ecdsa' | 'rsa'): string {
    const fingerprint = multiKeySshd.hostKeyFingerprints[type];
    assert.ok(fingerprint, `the lab sshd has no ${type} host key`);
    return fingerprint;
  }

  function logCount(message: string): number {
    return logLines.filter((line) => line.includes(message) && line.includes(`:${multiKeySshd.port}"`)).length;
  }

  it('connects when the ECDSA print is pinned, tunnels, and goes straight to that key on reconnect', async () => {
    const pool = newPool();
    const target = multiKeyTarget(print('ecdsa'));
    const mismatchesBefore = logCount('not the pinned one');
    const first = await pool.openTunnel(target, '127.0.0.1', echoPort);
    assert.equal(await roundTrip(first, 'pinned ecdsa'), 'pinned ecdsa');
    assert.ok(logLines.some((line) => line.includes('SSH connection to L0 ready') && line.includes('"hostKeyType":"ecdsa-sha2-nistp256"')));
    const mismatchesOnFirstConnect = logCount('not the pinned one') - mismatchesBefore;
    assert.ok(mismatchesOnFirstConnect >= 1, 'ssh2 prefers ed25519: the first handshake should have shown another key');

    const firstClosed = new Promise<void>((resolve) => first.once('close', () => resolve()));
    (await pool.connection(target).client()).destroy();
    await firstClosed;
    const second = await pool.openTunnel(target, '127.0.0.1', echoPort);
    assert.equal(await roundTrip(second, 'again'), 'again');
    assert.equal(logCount('not the pinned one') - mismatchesBefore, mismatchesOnFirstConnect, 'the reconnect should offer the matched key type first');
    second.destroy();
  });

  it('connects when the RSA print is pinned', async () => {
    const pool = newPool();
    const tunnel = await pool.openTunnel(multiKeyTarget(print('rsa')), '127.0.0.1', echoPort);
    assert.equal(await roundTrip(tunnel, 'pinned rsa'), 'pinned rsa');
    tunnel.destroy();
    const result = await pool.exec(multiKeyTarget(print('rsa')), 'echo over rsa', execOptions);
    assert.equal(result.stdout, 'over rsa\n');
  });

  it('refuses a print none of its keys has, listing every print it presented with its type, and opens no channel', async () => {
    const pool = newPool();
    const pinned = `SHA256:${'Q'.repeat(43)}`;
    const target = multiKeyTarget(pinned);
    const echoConnectionsBefore = echoConnections;
    const expected = new RegExp(
      `^host key for 127\\.0\\.0\\.1:${multiKeySshd.port} changed: profile pins ${pinned}, server presented ` +
        `${escapeRegExp(print('ed25519'))} \\(ED25519\\), ${escapeRegExp(print('ecdsa'))} \\(ECDSA\\), ${escapeRegExp(print('rsa'))} \\(RSA\\) — none matches`,
    );
    await rejectsWith(pool.openTunnel(target, '127.0.0.1', echoPort), 'host-key-changed', expected);
    const marker = path.join(folder, 'multi-key-exec-ran');
    await rejectsWith(pool.exec(target, `touch '${marker}'`, execOptions), 'host-key-changed', expected);
    await assert.rejects(stat(marker), /ENOENT/);
    assert.equal(echoConnections, echoConnectionsBefore, 'a tunnel was opened over an unverified connection');
    assert.ok(!pool.connection(target).connected);
  });
});
