// Secrets in the desktop's Secret Service (gnome-keyring, KWallet, KeePassXC) through libsecret's
// `secret-tool`: attributes and the label in argv, the secret only on stdin or stdout, every call
// bounded by a timeout. Used by the browser shell and the CLI. Node-side.

import { spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { clipText, escapeControl } from '../../common/terminal-text';
import { SECRET_REDACTOR, type Logger, type SecretRedactor } from '../logger';
import {
  checkProfileId,
  checkSecretKey,
  checkSecretValue,
  cleanLabel,
  SecretStoreError,
  unavailableMessage,
  type SecretKey,
  type SecretStore,
  type SecretStoreErrorCode,
  type SecretStoreStatus,
} from './secret-store';

/** The `application` attribute of every item RetroVisor saves: what removeProfile and searches match on. */
export const KEYRING_APPLICATION = 'retrovisor';
/** What to install when secret-tool (or a keyring daemon) is missing, on Debian and Ubuntu. */
export const LIBSECRET_INSTALL_HINT = 'sudo apt-get install libsecret-tools gnome-keyring';
/** Default bound of one secret-tool call: long enough for a person to answer the keyring's unlock prompt. */
export const KEYRING_TIMEOUT_MS = 30_000;
/** Default bound of one D-Bus query of status(): no prompt is involved, the bus answers at once or never. */
export const KEYRING_STATUS_TIMEOUT_MS = 5_000;
/** Most output read from one secret-tool call (a secret, or a search listing). */
const MAX_OUTPUT_BYTES = 256 * 1024;
const SECRET_SERVICE_NAME = 'org.freedesktop.secrets';

/** Options of LibsecretStore. */
export interface LibsecretStoreOptions {
  /** Environment of every child (DBUS_SESSION_BUS_ADDRESS, PATH, HOME...). Default: process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** Bound of one secret-tool call. Default KEYRING_TIMEOUT_MS. */
  readonly timeoutMs?: number;
  /** Bound of one D-Bus query of status(). Default KEYRING_STATUS_TIMEOUT_MS. */
  readonly statusTimeoutMs?: number;
  /** Secrets saved or read are registered here so no log line can show them. Default: SECRET_REDACTOR. */
  readonly redactor?: SecretRedactor;
  readonly logger?: Logger;
}

/** What one child process did. */
interface ProgramResult {
  readonly code: number | null;
  readonly stdout: Buffer;
  readonly stderr: string;
  readonly timedOut: boolean;
  /** The program could not be started (ENOENT, EACCES). */
  readonly spawnError?: string;
}

/** How to reach the keyring: secret-tool's path and the environment that finds the session bus. */
interface Reach {
  readonly program: string;
  readonly env: NodeJS.ProcessEnv;
}

/** A status that is not available, with the error code an operation refused for it throws. */
interface Unavailable {
  readonly available: false;
  readonly code: SecretStoreErrorCode;
  readonly reason: string;
  readonly hint: string;
}

/**
 * Runs `program args` without a shell, feeding `input` on stdin, bounded by `timeoutMs`. On timeout
 * its whole process group is killed and the call settles at once: a grandchild still holding the
 * pipes (a wrapper script's) cannot keep it waiting.
 */
function runProgram(program: string, args: readonly string[], options: { env: NodeJS.ProcessEnv; input?: string; timeoutMs: number }): Promise<ProgramResult> {
  return new Promise((resolve) => {
    // detached: a process group of its own, so the timeout reaches whatever it started.
    const child = spawn(program, args, { env: options.env, stdio: ['pipe', 'pipe', 'pipe'], shell: false, detached: true });
    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    let stderr = '';
    let settled = false;
    const finish = (result: ProgramResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const killGroup = (): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    const timer = setTimeout(() => {
      killGroup();
      child.stdout.destroy();
      child.stderr.destroy();
      finish({ code: null, stdout: Buffer.alloc(0), stderr, timedOut: true });
    }, options.timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      if (stdoutBytes > MAX_OUTPUT_BYTES) killGroup();
      else stdout.push(chunk);
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      if (stderr.length < 8192) stderr += chunk;
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      finish({ code: null, stdout: Buffer.alloc(0), stderr: '', timedOut: false, spawnError: error.code ?? error.message });
    });
    child.on('close', (code) => {
      finish({ code, stdout: Buffer.concat(stdout), stderr, timedOut: false });
    });
    // A child that exits before reading stdin closes the pipe: EPIPE here is not an error of ours.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

/** "30 s", or "300 ms" below a second. */
function formatDuration(milliseconds: number): string {
  return milliseconds >= 1000 ? `${Math.round(milliseconds / 1000)} s` : `${milliseconds} ms`;
}

/** The absolute path of `name` on `searchPath` (executable regular file), or null. */
export function findOnPath(name: string, searchPath: string | undefined): string | null {
  for (const folder of (searchPath ?? '').split(path.delimiter)) {
    if (folder.length === 0) continue;
    const candidate = path.join(folder, name);
    try {
      if (!statSync(candidate).isFile()) continue;
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here: the next folder.
    }
  }
  return null;
}

/**
 * The environment a child needs to reach the session bus: as given, plus DBUS_SESSION_BUS_ADDRESS
 * from $XDG_RUNTIME_DIR/bus when that socket exists (systemd user sessions). Null when no bus can be
 * found and D-Bus cannot autolaunch one (no X11 display).
 */
export function sessionBusEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv | null {
  if (env.DBUS_SESSION_BUS_ADDRESS) return env;
  if (env.XDG_RUNTIME_DIR) {
    const socket = path.join(env.XDG_RUNTIME_DIR, 'bus');
    try {
      if (statSync(socket).isSocket()) return { ...env, DBUS_SESSION_BUS_ADDRESS: `unix:path=${socket}` };
    } catch {
      // No user bus socket.
    }
  }
  return env.DISPLAY ? env : null;
}

/** secret-tool's complaint, clipped and with control characters escaped, for a message. */
function excerpt(stderr: string): string {
  const line = stderr
    .split('\n')
    .map((text) => text.trim())
    .filter((text) => text.length > 0 && !/^(dbus-daemon\[|\*\* [A-Z]|\(gcr-prompter)/.test(text))
    .join(' ');
  return escapeControl(clipText(line.replace(/^secret-tool:\s*/, ''), 300));
}

/** A known reason the keyring cannot be used: its error code and words. */
interface KnownProblem {
  readonly code: SecretStoreErrorCode;
  readonly reason: string;
  readonly hint: string;
}

const NO_SECRET_SERVICE: KnownProblem = {
  code: 'unavailable',
  reason: 'no Secret Service runs on the session bus (no keyring daemon such as gnome-keyring, KWallet or KeePassXC)',
  hint: `Install and start one: ${LIBSECRET_INSTALL_HINT}.`,
};

const KEYRING_LOCKED: KnownProblem = {
  code: 'locked',
  reason: 'the keyring is locked',
  hint: 'Unlock it (log in to your desktop session, or open "Passwords and Keys"), then try again.',
};

/** Turns secret-tool's stderr into an error code and words; undefined when it says nothing known. */
export function classifySecretToolError(stderr: string): KnownProblem | undefined {
  if (/autolaunch D-Bus|Could not connect|Failed to connect to socket|Unable to autolaunch|No such file or directory|Connection refused/i.test(stderr)) {
    return {
      code: 'unavailable',
      reason: 'the D-Bus session bus cannot be reached',
      hint: 'Run RetroVisor inside your desktop session (DBUS_SESSION_BUS_ADDRESS must be set).',
    };
  }
  if (/not provided by any \.service files|ServiceUnknown|NameHasNoOwner/i.test(stderr)) return NO_SECRET_SERVICE;
  if (/locked/i.test(stderr)) return KEYRING_LOCKED;
  if (/collection\/login|Object does not exist|No such object|UnknownObject/i.test(stderr)) {
    return {
      code: 'unavailable',
      reason: 'the keyring has no default collection to save into',
      hint: 'Create a default keyring in "Passwords and Keys" (Seahorse) or your keyring manager, then try again.',
    };
  }
  if (/cancel|dismiss/i.test(stderr)) {
    return { code: 'failed', reason: 'the keyring prompt was dismissed', hint: 'Try again and answer the prompt.' };
  }
  return undefined;
}

/** The Secret Service through secret-tool (libsecret). */
export class LibsecretStore implements SecretStore {
  private readonly env: NodeJS.ProcessEnv;
  private readonly timeoutMs: number;
  private readonly statusTimeoutMs: number;
  private readonly redactor: SecretRedactor;
  private readonly logger: Logger | undefined;

  constructor(options: LibsecretStoreOptions = {}) {
    this.env = options.env ?? process.env;
    this.timeoutMs = options.timeoutMs ?? KEYRING_TIMEOUT_MS;
    this.statusTimeoutMs = options.statusTimeoutMs ?? KEYRING_STATUS_TIMEOUT_MS;
    this.redactor = options.redactor ?? SECRET_REDACTOR;
    this.logger = options.logger;
  }

  /** Whether secrets can be saved: secret-tool installed, a session bus, a Secret Service, its default keyring unlocked. Never prompts. */
  async status(): Promise<SecretStoreStatus> {
    const probed = await this.probe();
    if (probed.available) return { available: true, backend: 'secret-service' };
    return { available: false, reason: probed.reason, hint: probed.hint };
  }

  /** Saves a secret: checks the status first (no prompt), then `secret-tool store` with the secret on stdin. */
  async store(key: SecretKey, secret: string, label: string): Promise<void> {
    checkSecretKey(key);
    checkSecretValue(secret);
    // Registered before it goes anywhere: whatever fails below, no log line can show it.
    this.redactor.add(secret);
    const probed = await this.probe();
    if (!probed.available) throw new SecretStoreError(probed.code, unavailableMessage(probed));
    const result = await this.secretTool(probed.reach, ['store', `--label=${cleanLabel(label, secret)}`, ...this.attributes(key)], secret);
    if (result.code !== 0) throw this.failure('save the secret', result, secret);
    this.logger?.info('secret saved in the keyring', { profileId: key.profileId, slot: key.slot });
  }

  /** The saved secret, or null. A locked item (the keyring refused to unlock it) throws 'locked'. */
  async lookup(key: SecretKey): Promise<string | null> {
    checkSecretKey(key);
    const reach = this.reach();
    const result = await this.secretTool(reach, ['lookup', ...this.attributes(key)]);
    if (result.code === 0) {
      // secret-tool ends the secret with a newline only on a terminal: stdout is the secret, byte for byte.
      const secret = result.stdout.toString('utf8');
      this.redactor.add(secret);
      return secret.length === 0 ? null : secret;
    }
    if (result.code === 1 && excerpt(result.stderr).length === 0) {
      // Nothing found, or found but locked (a failed unlock prompt is silent): a search without unlocking tells.
      if (await this.hasItems(reach, this.attributes(key))) {
        throw new SecretStoreError('locked', 'the keyring is locked: unlock it (log in to your desktop session, or open "Passwords and Keys"), then try again');
      }
      return null;
    }
    throw this.failure('read the secret', result);
  }

  /** Forgets one secret; throws 'locked' when it is still there afterwards. */
  async remove(key: SecretKey): Promise<void> {
    checkSecretKey(key);
    await this.clear(this.attributes(key));
  }

  /** Forgets every secret of a profile: `secret-tool clear` deletes every item matching the attributes given. */
  async removeProfile(profileId: string): Promise<void> {
    checkProfileId(profileId);
    await this.clear(['application', KEYRING_APPLICATION, 'profile', profileId]);
  }

  private attributes(key: SecretKey): string[] {
    return ['application', KEYRING_APPLICATION, 'profile', key.profileId, 'slot', key.slot];
  }

  private async clear(attributes: readonly string[]): Promise<void> {
    const reach = this.reach();
    const result = await this.secretTool(reach, ['clear', ...attributes]);
    // 1 with nothing said: nothing matched (fine), or the matches were locked (checked below).
    if (result.code !== 0 && !(result.code === 1 && excerpt(result.stderr).length === 0)) throw this.failure('remove the secret', result);
    if (await this.hasItems(reach, attributes)) {
      throw new SecretStoreError('locked', 'the keyring is locked, so the secret could not be removed: unlock it, then try again');
    }
    this.logger?.info('secrets removed from the keyring', { attributes: attributes.slice(2) });
  }

  /** Whether items match, locked or not: `secret-tool search` without --unlock lists them (its secrets are discarded). */
  private async hasItems(reach: Reach, attributes: readonly string[]): Promise<boolean> {
    const result = await this.secretTool(reach, ['search', '--all', ...attributes]);
    if (result.timedOut || result.spawnError !== undefined) throw this.failure('search the keyring', result);
    return /^\[\//m.test(result.stdout.toString('utf8'));
  }

  /** How to run secret-tool, or SecretStoreError('unavailable') without secret-tool or a bus. */
  private reach(): Reach {
    const quick = this.quickCheck();
    if ('reason' in quick) throw new SecretStoreError(quick.code, unavailableMessage(quick));
    return quick;
  }

  /** The checks that need no process: secret-tool on PATH, a session bus address. */
  private quickCheck(): Unavailable | Reach {
    const program = findOnPath('secret-tool', this.env.PATH);
    if (program === null) {
      return { available: false, code: 'unavailable', reason: 'secret-tool (libsecret) is not installed', hint: `Install it: ${LIBSECRET_INSTALL_HINT}` };
    }
    const env = sessionBusEnvironment(this.env);
    if (env === null) {
      return {
        available: false,
        code: 'unavailable',
        reason: 'there is no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set), so no Secret Service can be reached',
        hint: 'Run RetroVisor inside your desktop session, where the keyring runs.',
      };
    }
    return { program, env };
  }

  /** The full status: quick checks, then D-Bus queries that never prompt (owner of the name, default collection's Locked). */
  private async probe(): Promise<Unavailable | { available: true; reach: Reach }> {
    const quick = this.quickCheck();
    if ('reason' in quick) return quick;
    const reach = quick;
    const { env } = reach;
    const dbusSend = findOnPath('dbus-send', env.PATH);
    if (dbusSend === null) {
      // Without dbus-send the state cannot be asked for without a prompt: a lookup of nothing tells whether the service answers.
      const result = await this.secretTool(reach, ['lookup', 'application', KEYRING_APPLICATION, 'probe', 'status'], undefined, this.statusTimeoutMs);
      const known = classifySecretToolError(result.stderr);
      if (known !== undefined) return { available: false, ...known };
      if (result.timedOut) return this.noAnswer();
      return { available: true, reach };
    }
    const owned = await this.busCall(dbusSend, env, ['--dest=org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus.NameHasOwner', `string:${SECRET_SERVICE_NAME}`]);
    if (owned.timedOut) return this.noAnswer();
    if (owned.code !== 0) {
      const known = classifySecretToolError(owned.stderr);
      if (known !== undefined) return { available: false, ...known };
      return { available: false, code: 'unavailable', reason: `the D-Bus session bus did not answer (${excerpt(owned.stderr)})`, hint: 'Run RetroVisor inside your desktop session.' };
    }
    if (!/boolean true/.test(owned.stdout.toString('utf8'))) {
      const activatable = await this.busCall(dbusSend, env, ['--dest=org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus.ListActivatableNames']);
      if (!activatable.stdout.toString('utf8').includes(`"${SECRET_SERVICE_NAME}"`)) {
        return { available: false, ...NO_SECRET_SERVICE };
      }
    }
    // Reading the property starts an activatable keyring daemon; it never shows a prompt.
    const locked = await this.busCall(dbusSend, env, [
      `--dest=${SECRET_SERVICE_NAME}`,
      '/org/freedesktop/secrets/aliases/default',
      'org.freedesktop.DBus.Properties.Get',
      'string:org.freedesktop.Secret.Collection',
      'string:Locked',
    ]);
    if (locked.timedOut) return this.noAnswer();
    const answer = locked.stdout.toString('utf8');
    if (locked.code === 0 && /boolean true/.test(answer)) return { available: false, ...KEYRING_LOCKED };
    if (locked.code === 0 && /boolean false/.test(answer)) return { available: true, reach };
    const known = classifySecretToolError(locked.stderr);
    if (known !== undefined) return { available: false, ...known };
    return { available: false, code: 'unavailable', reason: `the Secret Service did not say whether its keyring is unlocked (${excerpt(locked.stderr)})`, hint: 'Check your keyring in "Passwords and Keys".' };
  }

  private noAnswer(): Unavailable {
    return {
      available: false,
      code: 'timeout',
      reason: 'the Secret Service did not answer in time',
      hint: 'Check that your keyring daemon (gnome-keyring, KWallet, KeePassXC) is running and responsive.',
    };
  }

  private busCall(dbusSend: string, env: NodeJS.ProcessEnv, args: readonly string[]): Promise<ProgramResult> {
    return runProgram(dbusSend, ['--session', '--print-reply', `--reply-timeout=${this.statusTimeoutMs}`, ...args], { env, timeoutMs: this.statusTimeoutMs + 1000 });
  }

  private secretTool(reach: Reach, args: readonly string[], input?: string, timeoutMs = this.timeoutMs): Promise<ProgramResult> {
    return runProgram(reach.program, args, { env: reach.env, ...(input === undefined ? {} : { input }), timeoutMs });
  }

  /** A SecretStoreError for a failed secret-tool call; `secret` (when known) is cut out of anything quoted. */
  private failure(what: string, result: ProgramResult, secret?: string): SecretStoreError {
    if (result.spawnError !== undefined) {
      return new SecretStoreError('unavailable', `cannot ${what}: secret-tool could not be started (${result.spawnError}). Install it: ${LIBSECRET_INSTALL_HINT}`);
    }
    if (result.timedOut) {
      return new SecretStoreError(
        'timeout',
        `cannot ${what}: the keyring did not answer within ${formatDuration(this.timeoutMs)} (it may be locked and waiting for its password): unlock it, then try again`,
      );
    }
    const stderr = secret === undefined ? result.stderr : result.stderr.split(secret).join('***');
    const known = classifySecretToolError(stderr);
    if (known !== undefined) return new SecretStoreError(known.code, `cannot ${what}: ${known.reason}. ${known.hint}`);
    const said = this.redactor.redact(excerpt(stderr));
    return new SecretStoreError('failed', `cannot ${what}: secret-tool exited with status ${result.code ?? 'none'}${said ? ` (${said})` : ''}`);
  }
}
