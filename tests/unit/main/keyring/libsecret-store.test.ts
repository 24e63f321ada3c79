// The Secret Service store's parts that need no keyring: finding secret-tool and the session bus,
// reading secret-tool's complaints, refusing bad keys before any process runs, and a keyring that
// never answers ending in 'timeout' (a stand-in secret-tool that hangs).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { classifySecretToolError, findOnPath, LibsecretStore, sessionBusEnvironment } from '../../../../main/keyring/libsecret-store';
import { SecretStoreError } from '../../../../main/keyring/secret-store';
import { SecretRedactor } from '../../../../main/logger';

let folder = '';

/** Whether a process runs (a zombie waiting to be reaped does not). */
function isRunning(pid: string): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

/** A folder holding a stand-in `secret-tool` with this shell body. */
async function fakeSecretTool(name: string, body: string): Promise<string> {
  const bin = path.join(folder, name);
  await mkdir(bin);
  await writeFile(path.join(bin, 'secret-tool'), `#!/bin/sh\n${body}\n`);
  await chmod(path.join(bin, 'secret-tool'), 0o755);
  return bin;
}

before(async () => {
  folder = await mkdtemp(path.join(os.tmpdir(), 'retrovisor-libsecret-'));
});

after(async () => {
  await rm(folder, { recursive: true, force: true });
});

describe('LibsecretStore without a keyring', { timeout: 20_000 }, () => {
  it('finds programs on PATH only when they are executable files', async () => {
    const bin = await fakeSecretTool('find', 'exit 0');
    await writeFile(path.join(bin, 'not-executable'), '');
    assert.equal(findOnPath('secret-tool', `/nonexistent:${bin}`), path.join(bin, 'secret-tool'));
    assert.equal(findOnPath('not-executable', bin), null);
    assert.equal(findOnPath('secret-tool', undefined), null);
  });

  it('finds the session bus from DBUS_SESSION_BUS_ADDRESS, $XDG_RUNTIME_DIR/bus, or not at all', async () => {
    assert.equal(sessionBusEnvironment({ DBUS_SESSION_BUS_ADDRESS: 'unix:path=/x' })?.DBUS_SESSION_BUS_ADDRESS, 'unix:path=/x');
    const runtime = path.join(folder, 'runtime');
    await mkdir(runtime);
    assert.equal(sessionBusEnvironment({ XDG_RUNTIME_DIR: runtime }), null, 'no bus socket there');
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(path.join(runtime, 'bus'), resolve));
    try {
      assert.equal(sessionBusEnvironment({ XDG_RUNTIME_DIR: runtime })?.DBUS_SESSION_BUS_ADDRESS, `unix:path=${path.join(runtime, 'bus')}`);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    assert.ok(sessionBusEnvironment({ DISPLAY: ':0' }), 'D-Bus can autolaunch on an X display');
  });

  it('reads what secret-tool and D-Bus say into a code and words', () => {
    assert.equal(classifySecretToolError('secret-tool: Cannot autolaunch D-Bus without X11 $DISPLAY')?.code, 'unavailable');
    assert.equal(classifySecretToolError('secret-tool: Cannot create an item in a locked collection')?.code, 'locked');
    assert.match(classifySecretToolError('Error org.freedesktop.DBus.Error.ServiceUnknown: The name org.freedesktop.secrets was not provided by any .service files')?.reason ?? '', /no Secret Service/);
    assert.match(classifySecretToolError('secret-tool: Object does not exist at path “/org/freedesktop/secrets/collection/login”')?.reason ?? '', /no default collection/);
    assert.equal(classifySecretToolError('something else entirely'), undefined);
  });

  it('says what to install when secret-tool is missing, and stores nothing', async () => {
    const store = new LibsecretStore({ env: { PATH: path.join(folder, 'nothing-here'), DBUS_SESSION_BUS_ADDRESS: 'unix:path=/x' } });
    assert.deepEqual(await store.status(), { available: false, reason: 'secret-tool (libsecret) is not installed', hint: 'Install it: sudo apt-get install libsecret-tools gnome-keyring' });
    await assert.rejects(store.store({ profileId: 'p', slot: 'replica/r1/vnc' }, 'pw-1234', 'x'), (error: unknown) => error instanceof SecretStoreError && error.code === 'unavailable');
    await assert.rejects(store.lookup({ profileId: 'p', slot: 'replica/r1/vnc' }), (error: unknown) => error instanceof SecretStoreError && error.code === 'unavailable');
  });

  it('refuses bad profile ids, slots and secrets before running anything', async () => {
    const bin = await fakeSecretTool('record', `echo "$@" >> "${path.join(folder, 'record.log')}"; exit 0`);
    const store = new LibsecretStore({ env: { PATH: bin, DBUS_SESSION_BUS_ADDRESS: 'unix:path=/x' } });
    const refused = (error: unknown): boolean => error instanceof SecretStoreError && error.code === 'failed';
    await assert.rejects(store.store({ profileId: '--all', slot: 'replica/r1/vnc' }, 'pw', 'x'), refused);
    await assert.rejects(store.store({ profileId: 'p', slot: '../x' }, 'pw', 'x'), refused);
    await assert.rejects(store.store({ profileId: 'p', slot: 'replica/r1/vnc' }, '', 'x'), refused);
    await assert.rejects(store.store({ profileId: 'p', slot: 'replica/r1/vnc' }, 'a\0b', 'x'), refused);
    await assert.rejects(store.lookup({ profileId: 'p q', slot: 'replica/r1/vnc' }), refused);
    await assert.rejects(store.removeProfile('-x'), refused);
    await assert.rejects(readFile(path.join(folder, 'record.log')), /ENOENT/, 'secret-tool never ran');
  });

  it('ends a call the keyring never answers with a timeout, killing what the program started', async () => {
    // The stand-in hangs as secret-tool does behind an unlock prompt nobody answers, and leaves a
    // grandchild holding its output pipes: the call must neither wait for it nor leave it running.
    const pidFile = path.join(folder, 'grandchild.pid');
    const bin = await fakeSecretTool('hang', `tail -f /dev/null & echo $! > "${pidFile}"; wait`);
    const redactor = new SecretRedactor();
    // 3 s: time enough, even on a loaded machine, for the stand-in to start its grandchild first.
    const store = new LibsecretStore({ env: { PATH: `${bin}:${process.env.PATH ?? ''}`, DBUS_SESSION_BUS_ADDRESS: 'unix:path=/x' }, timeoutMs: 3000, redactor });
    await assert.rejects(store.lookup({ profileId: 'p', slot: 'replica/r1/vnc' }), (error: unknown) => {
      assert.ok(error instanceof SecretStoreError);
      assert.equal(error.code, 'timeout');
      assert.match(error.message, /did not answer within 3 s \(it may be locked/);
      return true;
    });
    const grandchild = (await readFile(pidFile, 'utf8').catch(() => assert.fail('the stand-in was killed before it started its grandchild: raise timeoutMs'))).trim();
    // SIGKILL was sent before the call settled; the kernel may still be tearing the process down.
    const deadline = Date.now() + 5000;
    while (isRunning(grandchild) && Date.now() < deadline) await new Promise((resolve) => setImmediate(resolve));
    assert.equal(isRunning(grandchild), false, 'the grandchild was killed with its group');
  });

  it('cuts a secret out of what a failing secret-tool said', async () => {
    // A stand-in that echoes its stdin to stderr and fails: the worst a broken keyring tool could do.
    const bin = await fakeSecretTool('echoes', 'if [ "$1" = store ]; then /bin/cat >&2; exit 1; fi; exit 1');
    const dbusSend = path.join(bin, 'dbus-send');
    // The status queries answer "owned, unlocked", so store() reaches secret-tool.
    await writeFile(dbusSend, '#!/bin/sh\ncase "$*" in *NameHasOwner*) echo "   boolean true";; *) echo "   variant       boolean false";; esac\n');
    await chmod(dbusSend, 0o755);
    const store = new LibsecretStore({ env: { PATH: bin, DBUS_SESSION_BUS_ADDRESS: 'unix:path=/x' }, redactor: new SecretRedactor() });
    await assert.rejects(store.store({ profileId: 'p', slot: 'replica/r1/vnc' }, 'very-secret-value', 'x'), (error: unknown) => {
      assert.ok(error instanceof SecretStoreError);
      assert.equal(error.code, 'failed');
      assert.ok(!error.message.includes('very-secret-value'), error.message);
      assert.match(error.message, /secret-tool exited with status 1 \(\*\*\*\)/);
      return true;
    });
  });
});
