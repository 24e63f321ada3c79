// The Secret Service store against a real gnome-keyring in a private D-Bus session: secrets round
// trip, and a saved password is found in the keyring and nowhere else — not in any process's argv
// while secret-tool runs, not in clear in the keyring's files, not in a log line or an error message.
// Without a Secret Service nothing is stored and the user is told why; a locked keyring says so.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { LibsecretStore } from '../../main/keyring/libsecret-store';
import { SecretStoreError, type SecretKey } from '../../main/keyring/secret-store';
import { createLogger, SecretRedactor } from '../../main/logger';
import { startBareSessionBus, startKeyring, type KeyringLab } from './keyring';

let lab: KeyringLab;
let scratch = '';
const logLines: string[] = [];

/** A secret no other process on the machine could hold by chance. */
function uniqueSecret(): string {
  return `rv-secret-${randomBytes(16).toString('hex')}`;
}

/** A store on the lab keyring whose log lines are captured (with a redactor of its own). */
function labStore(env: NodeJS.ProcessEnv = lab.env, timeoutMs = 20_000): LibsecretStore {
  const redactor = new SecretRedactor();
  const logger = createLogger({ sink: (line) => logLines.push(line), redactor, level: 'debug' });
  return new LibsecretStore({ env, timeoutMs, redactor, logger });
}

/** Every file under `folder`, recursively. */
async function filesUnder(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => path.join(entry.parentPath, entry.name));
}

/** The argv of every process on the machine that is still there to read. */
async function everyCommandLine(): Promise<{ pid: string; argv: string[] }[]> {
  const result: { pid: string; argv: string[] }[] = [];
  for (const pid of (await readdir('/proc')).filter((name) => /^\d+$/.test(name))) {
    try {
      const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8');
      result.push({ pid, argv: raw.split('\0').filter((part) => part.length > 0) });
    } catch {
      // The process ended meanwhile.
    }
  }
  return result;
}

/** The first line written to a FIFO (opening it for reading waits for the writer). */
function firstLineOf(fifo: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const stream = createReadStream(fifo, { encoding: 'utf8' });
    stream.on('data', (chunk) => {
      text += String(chunk);
    });
    stream.on('end', () => resolve(text.split('\n')[0] ?? ''));
    stream.on('error', reject);
  });
}

before(async () => {
  lab = await startKeyring();
  scratch = await mkdtemp(path.join(os.tmpdir(), 'retrovisor-keyring-test-'));
});

after(async () => {
  await lab?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('the Secret Service store on a real gnome-keyring', { timeout: 120_000 }, () => {
  it('reports the keyring available, and stores, finds, replaces and removes secrets', async () => {
    const store = labStore();
    assert.deepEqual(await store.status(), { available: true, backend: 'secret-service' });
    const vnc: SecretKey = { profileId: 'lab', slot: 'replica/r1/vnc' };
    const passphrase: SecretKey = { profileId: 'lab', slot: 'l0/a/passphrase' };
    const elsewhere: SecretKey = { profileId: 'other', slot: 'replica/r1/vnc' };
    // Spaces, a trailing newline, non-ASCII and shell characters come back byte for byte.
    await store.store(vnc, "pa ss 'wörd' $(x)\n", 'RetroVisor: password for r1 (lab)');
    await store.store(passphrase, 'passphrase-1', 'RetroVisor: passphrase for a (lab)');
    await store.store(elsewhere, 'other-profile', 'RetroVisor: password for r1 (other)');
    assert.equal(await store.lookup(vnc), "pa ss 'wörd' $(x)\n");
    assert.equal(await store.lookup({ profileId: 'lab', slot: 'replica/r2/vnc' }), null);
    await store.store(passphrase, 'passphrase-2', 'RetroVisor: passphrase for a (lab)');
    assert.equal(await store.lookup(passphrase), 'passphrase-2');
    await store.remove(vnc);
    assert.equal(await store.lookup(vnc), null);
    await store.remove(vnc);
    await store.store(vnc, 'again', 'RetroVisor: password for r1 (lab)');
    await store.removeProfile('lab');
    assert.equal(await store.lookup(vnc), null);
    assert.equal(await store.lookup(passphrase), null);
    assert.equal(await store.lookup(elsewhere), 'other-profile', 'removing a profile leaves the others');
    await store.removeProfile('other');
  });

  it('gives secret-tool the secret on stdin only: no process on the machine has it in argv while it runs', async () => {
    const secret = uniqueSecret();
    const real = spawnSync('sh', ['-c', 'command -v secret-tool'], { encoding: 'utf8', env: lab.env }).stdout.trim();
    assert.ok(real.startsWith('/'), 'secret-tool must be installed');
    // A stand-in in front of the real secret-tool passes stdin on, then holds the pipe open until the
    // test says go: the real secret-tool is running, secret in hand, while every argv is read.
    const bin = path.join(scratch, 'bin');
    await rm(bin, { recursive: true, force: true });
    const ready = path.join(scratch, 'ready.fifo');
    const go = path.join(scratch, 'go.fifo');
    for (const fifo of [ready, go]) {
      await rm(fifo, { force: true });
      assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    }
    await mkdir(bin);
    const wrapper = path.join(bin, 'secret-tool');
    await writeFile(
      wrapper,
      [
        '#!/bin/sh',
        'if [ "$1" != store ]; then exec "$RV_REAL_SECRET_TOOL" "$@"; fi',
        '{ cat; echo ready > "$RV_READY_FIFO"; read _ < "$RV_GO_FIFO"; } | "$RV_REAL_SECRET_TOOL" "$@"',
      ].join('\n') + '\n',
    );
    await chmod(wrapper, 0o755);
    const env = { ...lab.env, PATH: `${bin}:${lab.env.PATH ?? ''}`, RV_REAL_SECRET_TOOL: real, RV_READY_FIFO: ready, RV_GO_FIFO: go };
    const store = labStore(env);
    const key: SecretKey = { profileId: 'argv', slot: 'replica/r1/vnc' };
    const storing = store.store(key, secret, 'RetroVisor: argv test');
    assert.equal(await firstLineOf(ready), 'ready');
    try {
      // The stand-in's pipe is open until go: once the real secret-tool has started it stays. Its
      // start (fork, exec) may come after "ready", so wait for it.
      const deadline = Date.now() + 10_000;
      let processes = await everyCommandLine();
      let secretTool = processes.find((entry) => entry.argv[0] === real && entry.argv[1] === 'store');
      while (secretTool === undefined && Date.now() < deadline) {
        await delay(10);
        processes = await everyCommandLine();
        secretTool = processes.find((entry) => entry.argv[0] === real && entry.argv[1] === 'store');
      }
      assert.ok(secretTool, 'the real secret-tool is running while argv is read');
      assert.deepEqual(secretTool.argv.slice(1), ['store', '--label=RetroVisor: argv test', 'application', 'retrovisor', 'profile', 'argv', 'slot', 'replica/r1/vnc']);
      const environment = await readFile(`/proc/${secretTool.pid}/environ`, 'utf8');
      assert.ok(!environment.includes(secret), "the secret is not in secret-tool's environment");
      for (const entry of processes) assert.ok(!entry.argv.join(' ').includes(secret), `process ${entry.pid} has the secret in its argv: ${entry.argv[0]}`);
    } finally {
      // Whatever failed above, the stand-in waits for this: without it the store would only end at its timeout.
      await writeFile(go, 'go\n');
    }
    await storing;
    assert.equal(await labStore().lookup(key), secret);
    await labStore().removeProfile('argv');
  });

  it('keeps the secret out of the keyring files, the log and the error messages', async () => {
    const secret = uniqueSecret();
    const key: SecretKey = { profileId: 'files', slot: 'l0/a/password' };
    const store = labStore();
    logLines.length = 0;
    await store.store(key, secret, 'RetroVisor: files test');
    assert.equal(await store.lookup(key), secret);
    const files = await filesUnder(lab.home);
    const keyringFiles = files.filter((file) => file.includes(`${path.sep}keyrings${path.sep}`));
    assert.ok(keyringFiles.some((file) => file.endsWith('login.keyring')), `the login keyring is on disk: ${keyringFiles.join(', ')}`);
    for (const file of keyringFiles) assert.equal((await stat(file)).mode & 0o077, 0, `${file} is private`);
    for (const file of files) {
      const bytes = await readFile(file);
      assert.ok(!bytes.includes(Buffer.from(secret)), `${file} holds the secret in clear`);
    }
    // A refused store's message names no secret either.
    const failure = await store.store({ profileId: '-bad', slot: 'x' }, secret, 'x').catch((error: unknown) => error);
    assert.ok(failure instanceof SecretStoreError && !failure.message.includes(secret));
    assert.ok(logLines.length > 0, 'the store logs what it does');
    for (const line of logLines) assert.ok(!line.includes(secret), line);
    await store.removeProfile('files');
  });

  it('stores nothing and says why without a D-Bus session or without secret-tool', async () => {
    const secret = uniqueSecret();
    const key: SecretKey = { profileId: 'none', slot: 'replica/r1/vnc' };
    const { DBUS_SESSION_BUS_ADDRESS: _bus, ...withoutBus } = lab.env;
    const noBus = labStore({ ...withoutBus, XDG_RUNTIME_DIR: scratch });
    const status = await noBus.status();
    assert.equal(status.available, false);
    assert.match(status.available ? '' : status.reason, /no D-Bus session bus/);
    await assert.rejects(noBus.store(key, secret, 'x'), (error: unknown) => error instanceof SecretStoreError && error.code === 'unavailable' && /^nothing was saved: there is no D-Bus session bus/.test(error.message) && !error.message.includes(secret));
    await assert.rejects(noBus.lookup(key), (error: unknown) => error instanceof SecretStoreError && error.code === 'unavailable');

    const emptyBin = await mkdtemp(path.join(scratch, 'empty-bin-'));
    const noTool = labStore({ ...lab.env, PATH: emptyBin });
    const toolStatus = await noTool.status();
    assert.deepEqual(toolStatus, { available: false, reason: 'secret-tool (libsecret) is not installed', hint: 'Install it: sudo apt-get install libsecret-tools gnome-keyring' });
    await assert.rejects(noTool.store(key, secret, 'x'), (error: unknown) => error instanceof SecretStoreError && error.code === 'unavailable' && error.message.includes('sudo apt-get install libsecret-tools gnome-keyring'));

    assert.equal(await labStore().lookup(key), null, 'nothing reached the keyring');
  });

  it('stores nothing and says why on a session bus with no Secret Service', async () => {
    const bus = await startBareSessionBus();
    try {
      const store = labStore(bus.env);
      assert.deepEqual(await store.status(), {
        available: false,
        reason: 'no Secret Service runs on the session bus (no keyring daemon such as gnome-keyring, KWallet or KeePassXC)',
        hint: 'Install and start one: sudo apt-get install libsecret-tools gnome-keyring.',
      });
      await assert.rejects(store.store({ profileId: 'none', slot: 'replica/r1/vnc' }, uniqueSecret(), 'x'), (error: unknown) => error instanceof SecretStoreError && error.code === 'unavailable' && /^nothing was saved: no Secret Service runs/.test(error.message));
      await assert.rejects(store.lookup({ profileId: 'none', slot: 'replica/r1/vnc' }), (error: unknown) => error instanceof SecretStoreError && error.code === 'unavailable');
    } finally {
      await bus.stop();
    }
  });

  // Last: it locks the file's keyring.
  it('reports a locked keyring as locked, at once, instead of waiting for a prompt', async () => {
    const store = labStore(lab.env, 60_000);
    const saved: SecretKey = { profileId: 'locked', slot: 'replica/r1/vnc' };
    await store.store(saved, 'saved-before-locking', 'RetroVisor: locked test');
    await lab.lock();
    const status = await store.status();
    assert.deepEqual(status, { available: false, reason: 'the keyring is locked', hint: 'Unlock it (log in to your desktop session, or open "Passwords and Keys"), then try again.' });
    // The timeout is a minute: 'locked' (not 'timeout') shows the refusal came without waiting it out.
    const isLocked = (error: unknown): boolean => error instanceof SecretStoreError && error.code === 'locked' && /locked/.test(error.message);
    await assert.rejects(store.store({ profileId: 'locked', slot: 'replica/r2/vnc' }, 'new-secret', 'x'), isLocked);
    await assert.rejects(store.lookup(saved), isLocked);
    await assert.rejects(store.remove(saved), isLocked);
    await assert.rejects(store.removeProfile('locked'), isLocked);
  });
});
