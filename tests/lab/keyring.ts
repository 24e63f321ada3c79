// A real Secret Service for tests: gnome-keyring in a private D-Bus session (dbus-run-session), with
// a throwaway HOME so the user's own keyring is never touched. Runs in Node (test set-up).

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { findExecutable } from './vm-assets.js';

/** The Debian packages the keyring lab needs. */
export const KEYRING_PACKAGES = 'gnome-keyring libsecret-tools dbus-daemon dbus-bin';
const START_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 5_000;
const POLL_MS = 25;
const SECRET_SERVICE = 'org.freedesktop.secrets';

/** A running private keyring. */
export interface KeyringLab {
  /** The environment to give code under test: the private bus, the throwaway HOME and XDG folders, no DISPLAY. */
  readonly env: NodeJS.ProcessEnv;
  /** The throwaway HOME (the keyring files are under `<home>/.local/share/keyrings`). */
  readonly home: string;
  /** Locks the login collection (as a screen lock would); unlocking it needs a prompt, which cannot show here. */
  lock(): Promise<void>;
  /** Ends the D-Bus session (the keyring daemon exits with it) and deletes the throwaway HOME. */
  stop(): Promise<void>;
}

/** Throws the "not found" error with the install command unless every program the lab runs is here. */
export function requireKeyringPrograms(): { dbusRunSession: string; dbusSend: string } {
  const missing = ['dbus-run-session', 'dbus-daemon', 'dbus-send', 'gnome-keyring-daemon', 'secret-tool'].filter((name) => findExecutable(name) === undefined);
  if (missing.length > 0) {
    throw new Error(`${missing.join(', ')} not found: run \`npm run lab:install\` (or: apt-get install -y --no-install-recommends ${KEYRING_PACKAGES})`);
  }
  return { dbusRunSession: findExecutable('dbus-run-session')!, dbusSend: findExecutable('dbus-send')! };
}

// Reads the keyring password from the first line of stdin (printf is a builtin: it is in no argv),
// unlocks (creating the login collection), prints the bus address, then lives until stdin closes.
const SESSION_SCRIPT = [
  'IFS= read -r password',
  'printf "%s" "$password" | gnome-keyring-daemon --unlock --components=secrets >/dev/null || exit 3',
  'unset password',
  'echo "RETROVISOR_KEYRING_BUS=$DBUS_SESSION_BUS_ADDRESS"',
  'exec cat >/dev/null',
].join('\n');

/**
 * Starts gnome-keyring, unlocked, in a private D-Bus session and waits until its login collection
 * answers unlocked. Start it once per test file; stop() it in `after`.
 */
export async function startKeyring(): Promise<KeyringLab> {
  const { dbusRunSession, dbusSend } = requireKeyringPrograms();
  const folder = await mkdtemp(path.join(os.tmpdir(), 'retrovisor-keyring-'));
  const home = path.join(folder, 'home');
  const runtime = path.join(folder, 'run');
  await mkdir(home, { mode: 0o700 });
  await mkdir(runtime, { mode: 0o700 });
  const base: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    XDG_DATA_HOME: path.join(home, '.local', 'share'),
    XDG_CONFIG_HOME: path.join(home, '.config'),
    XDG_CACHE_HOME: path.join(home, '.cache'),
    XDG_RUNTIME_DIR: runtime,
    LANG: 'C.UTF-8',
  };
  const { child, exited, stderr, stop } = startSession(dbusRunSession, ['--', 'sh', '-c', SESSION_SCRIPT], base, folder);
  try {
    child.stdin.write('retrovisor-lab-keyring-password\n');
    const address = await readBusAddress(child, exited, stderr);
    const env: NodeJS.ProcessEnv = { ...base, DBUS_SESSION_BUS_ADDRESS: address };
    // gnome-keyring-daemon claims its bus name a moment after it returns: wait for an unlocked default collection.
    await waitFor(() => defaultCollectionLocked(dbusSend, env) === false, START_TIMEOUT_MS, () => `the keyring did not come up unlocked; dbus-run-session said: ${stderr().trim().slice(-2000)}`);
    return {
      env,
      home,
      lock: async () => {
        const result = spawnSync(dbusSend, ['--session', '--print-reply', `--dest=${SECRET_SERVICE}`, '/org/freedesktop/secrets', 'org.freedesktop.Secret.Service.Lock', 'array:objpath:/org/freedesktop/secrets/collection/login'], { env, encoding: 'utf8', timeout: 5000 });
        if (result.status !== 0) throw new Error(`cannot lock the lab keyring: ${result.stderr}`);
        await waitFor(() => defaultCollectionLocked(dbusSend, env) === true, START_TIMEOUT_MS, () => 'the lab keyring did not lock');
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** A private D-Bus session bus with no Secret Service on it (nor any service to start one). */
export interface BareSessionBus {
  /** As KeyringLab.env: the bus, a throwaway HOME, no DISPLAY. */
  readonly env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

/**
 * Starts a session bus whose configuration names an empty service folder: nothing owns
 * org.freedesktop.secrets and nothing can be activated for it, as on a machine without a keyring daemon.
 */
export async function startBareSessionBus(): Promise<BareSessionBus> {
  const { dbusRunSession } = requireKeyringPrograms();
  const folder = await mkdtemp(path.join(os.tmpdir(), 'retrovisor-bare-bus-'));
  const home = path.join(folder, 'home');
  const services = path.join(folder, 'services');
  await mkdir(home, { mode: 0o700 });
  await mkdir(services);
  const config = path.join(folder, 'session.conf');
  await writeFile(
    config,
    [
      '<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">',
      '<busconfig>',
      '  <type>session</type>',
      `  <listen>unix:dir=${folder}</listen>`,
      '  <auth>EXTERNAL</auth>',
      `  <servicedir>${services}</servicedir>`,
      // The policy of Debian's session.conf: without the eavesdrop rule, replies are not delivered.
      '  <policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/></policy>',
      '</busconfig>',
    ].join('\n'),
  );
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: home, LANG: 'C.UTF-8' };
  const { child, exited, stderr, stop } = startSession(
    dbusRunSession,
    [`--config-file=${config}`, '--', 'sh', '-c', 'echo "RETROVISOR_KEYRING_BUS=$DBUS_SESSION_BUS_ADDRESS"; exec cat >/dev/null'],
    env,
    folder,
  );
  try {
    const address = await readBusAddress(child, exited, stderr);
    return { env: { ...env, DBUS_SESSION_BUS_ADDRESS: address }, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** A dbus-run-session child, what it wrote on stderr so far, and how to end it (and delete `folder`). */
interface Session {
  readonly child: ChildProcess & { stdin: NonNullable<ChildProcess['stdin']> };
  readonly exited: Promise<void>;
  readonly stderr: () => string;
  readonly stop: () => Promise<void>;
}

/** Runs dbus-run-session with `args`; stop() closes its stdin (the session's script then ends), else kills it. */
function startSession(dbusRunSession: string, args: readonly string[], env: NodeJS.ProcessEnv, folder: string): Session {
  const child = spawn(dbusRunSession, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    if (stderr.length < 16_384) stderr += chunk;
  });
  const stop = async (): Promise<void> => {
    child.stdin.end();
    const stopped = await Promise.race([exited.then(() => true), delay(STOP_TIMEOUT_MS).then(() => false)]);
    if (!stopped) {
      child.kill('SIGKILL');
      await exited;
    }
    await rm(folder, { recursive: true, force: true });
  };
  return { child, exited, stderr: () => stderr, stop };
}

/** The bus address the session script prints, or the reason it never did. */
function readBusAddress(child: ChildProcess, exited: Promise<void>, stderr: () => string): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`the keyring lab did not start within ${START_TIMEOUT_MS} ms: ${stderr().trim().slice(-2000)}`)), START_TIMEOUT_MS);
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      output += chunk;
      const match = /^RETROVISOR_KEYRING_BUS=(\S+)$/m.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`the keyring lab's D-Bus session ended at start: ${stderr().trim().slice(-2000)}`));
    });
  });
}

/** Whether the default collection is locked; undefined while the service or the collection is not there yet. */
function defaultCollectionLocked(dbusSend: string, env: NodeJS.ProcessEnv): boolean | undefined {
  const owner = spawnSync(dbusSend, ['--session', '--print-reply', '--dest=org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus.NameHasOwner', `string:${SECRET_SERVICE}`], { env, encoding: 'utf8', timeout: 5000 });
  // Asking the collection before the daemon owns the name would start a second daemon by D-Bus activation.
  if (owner.status !== 0 || !/boolean true/.test(owner.stdout)) return undefined;
  const result = spawnSync(
    dbusSend,
    ['--session', '--print-reply', `--dest=${SECRET_SERVICE}`, '/org/freedesktop/secrets/aliases/default', 'org.freedesktop.DBus.Properties.Get', 'string:org.freedesktop.Secret.Collection', 'string:Locked'],
    { env, encoding: 'utf8', timeout: 5000 },
  );
  if (result.status !== 0) return undefined;
  if (/boolean true/.test(result.stdout)) return true;
  if (/boolean false/.test(result.stdout)) return false;
  return undefined;
}

/** Polls `condition` until it holds, failing with `describe()` after `timeoutMs`. */
async function waitFor(condition: () => boolean, timeoutMs: number, describe: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(describe());
    await delay(POLL_MS);
  }
}
