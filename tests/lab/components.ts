// Real lab components for tests: Xvnc + xterm, QEMU VMs, a loopback sshd, and a small RFB 3.8 client
// that reads framebuffers. Runs in Node (test set-up); every helper starts real processes on this machine.

import { type ChildProcess, spawn } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureVmAssets, findExecutable, LAB_DIR, runCommand, tail } from './vm-assets.js';

/** Per-run state (logs, keys, password files) lives here, one directory per component. */
export const LAB_RUN_DIR = path.join(LAB_DIR, 'run');

const LOOPBACK_HOST = '127.0.0.1';
const XVNC_READY_TIMEOUT_MS = 10_000;
const XTERM_DRAWN_TIMEOUT_MS = 15_000;
const VM_BOOT_TIMEOUT_MS = 90_000;
const VM_PROMPT_TIMEOUT_MS = 30_000;
const SSHD_READY_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 5_000;
const KILL_WAIT_MS = 3_000;
const RFB_READ_TIMEOUT_MS = 10_000;
const PORT_POLL_MS = 50;
const START_ATTEMPTS = 5;
/** Largest framebuffer the lab client accepts, so a corrupt ServerInit cannot allocate gigabytes. */
const MAX_FRAMEBUFFER_SIDE_PX = 8192;
const MAX_SERVER_MESSAGE_BYTES = 1 << 20;
const VNC_DISPLAY_PORT_BASE = 5900;

/** Which Debian packages provide each binary the lab runs, for the "not found" message. */
const INSTALL_HINTS = {
  xvnc: 'tigervnc-standalone-server tigervnc-tools xterm xfonts-base x11-utils xdotool',
  x11vnc: 'xvfb x11vnc xterm xfonts-base xdotool',
  qemu: 'qemu-system-x86 qemu-utils busybox-static cpio',
  sshd: 'openssh-server',
} as const;

/** A VNC server to read from. */
export interface VncTarget {
  host: string;
  port: number;
  password?: string | undefined;
}

/** A framebuffer as RGBA bytes, row-major, alpha always 255. */
export interface Framebuffer {
  width: number;
  height: number;
  rgba: Uint8Array;
}

/** Options of {@link startXvnc}. */
export interface XvncOptions {
  /** VNC password (VncAuth); without it the server uses security type None. */
  password?: string;
  /** Screen size; the lab's screens are 640x400. */
  geometry?: `${number}x${number}`;
}

/** A running TigerVNC Xvnc with one deterministic xterm on it. */
export interface XvncHandle {
  readonly host: string;
  readonly display: number;
  readonly port: number;
  readonly password?: string;
  /** Pid of the current Xvnc process (changes on restart). */
  readonly pid: number;
  /** Milliseconds from spawn to the xterm being drawn, for the last start. */
  readonly startupMs: number;
  /** Stops xterm and Xvnc gracefully. */
  stop(): Promise<void>;
  /** SIGKILLs Xvnc (its xterm dies with it), simulating a crashed replica. */
  kill(): Promise<void>;
  /** Starts Xvnc and its xterm again on the same display and port. */
  restart(): Promise<void>;
}

/** Options of {@link startVm}. */
export interface VmOptions {
  /** Name for QEMU's -name and the run directory. */
  name?: string;
  /** Time allowed for the guest to write READY on its serial port. */
  bootTimeoutMs?: number;
}

/** A running QEMU VM whose console is served over VNC. */
export interface VmHandle {
  readonly name: string;
  readonly host: string;
  /** QEMU's VNC display number (port = 5900 + display). */
  readonly display: number;
  readonly port: number;
  readonly serialLogPath: string;
  /** QEMU's human monitor (HMP) on a unix socket: {@link typeOnVmConsole} types through it, out of band. */
  readonly monitorSocketPath: string;
  readonly pid: number;
  /** Milliseconds from spawn to a settled shell prompt on screen. */
  readonly startupMs: number;
  stop(): Promise<void>;
}

/** Options of {@link startSshd}. */
export interface SshdOptions {
  /**
   * The only user allowed to log in (default: the user running the tests). Another user's key is
   * served by `AuthorizedKeysCommand` (cat, run as the tests' user), since that user cannot read
   * the tests' private run folder.
   */
  user?: string;
  /** More sshd_config lines, appended as given (e.g. `SetEnv PATH=/fake/bin:/usr/bin:/bin`). */
  extraConfig?: readonly string[];
  /** Host keys to generate, as `ssh-keygen -t` names them (default: ed25519 only). */
  hostKeyTypes?: readonly SshdHostKeyType[];
}

/** A host key type {@link startSshd} can generate. */
export type SshdHostKeyType = 'ed25519' | 'ecdsa' | 'rsa';

/** A running loopback OpenSSH server that accepts one generated client key. */
export interface SshdHandle {
  readonly host: string;
  readonly port: number;
  /** The user to log in as: the user running the tests, or {@link SshdOptions.user}. */
  readonly user: string;
  /** Private key (OpenSSH format, no passphrase) that sshd accepts. */
  readonly identityFile: string;
  /** OpenSSH form of the first host key's fingerprint: `SHA256:<base64 without padding>`. */
  readonly hostKeyFingerprint: string;
  /** The fingerprint of every generated host key, by type. */
  readonly hostKeyFingerprints: Readonly<Partial<Record<SshdHostKeyType, string>>>;
  readonly pid: number;
  readonly startupMs: number;
  stop(): Promise<void>;
}

/** Result of {@link compareFramebuffers}. */
export interface FramebufferComparison {
  identical: boolean;
  sameSize: boolean;
  differingPixels: number;
  /** Smallest box holding every differing pixel; undefined when identical or sizes differ. */
  box: { x: number; y: number; width: number; height: number } | undefined;
}

// ---------------------------------------------------------------------------------------------
// Process bookkeeping: every child is killed when this Node process exits.

const liveChildren = new Set<ChildProcess>();
const liveRunDirs = new Set<string>();
let exitHooksInstalled = false;

function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  process.on('exit', terminateEverything);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, function onSignal() {
      // Another listener (the lab CLI, the test runner) owns the shutdown; the 'exit' hook catches leftovers.
      if (process.listenerCount(signal) > 1) return;
      terminateEverything();
      process.exit(128 + (os.constants.signals[signal] ?? 0));
    });
  }
}

/**
 * Last-resort clean-up when Node exits without stopping the lab. SIGTERM rather than SIGKILL: it
 * still cannot be ignored by these servers, and lets Xvnc remove its X lock file and socket.
 */
function terminateEverything(): void {
  for (const child of liveChildren) {
    if (isRunning(child)) child.kill('SIGTERM');
  }
  liveChildren.clear();
  for (const runDir of liveRunDirs) rmSync(runDir, { recursive: true, force: true });
  liveRunDirs.clear();
}

function spawnTracked(command: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; logPath: string }): ChildProcess {
  installExitHooks();
  const logFd = openSync(options.logPath, 'a');
  try {
    const child = spawn(command, args, { detached: false, env: options.env ?? process.env, stdio: ['ignore', logFd, logFd] });
    liveChildren.add(child);
    child.on('exit', () => liveChildren.delete(child));
    // A spawn failure (ENOENT, EACCES) surfaces as an early exit through watchExit.
    child.on('error', () => liveChildren.delete(child));
    return child;
  } finally {
    closeSync(logFd);
  }
}

function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (!isRunning(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolve(false);
    }, timeoutMs);
    const onExit = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    child.once('exit', onExit);
  });
}

/** SIGTERM, then SIGKILL after a grace period; resolves once the process is gone. */
async function stopProcess(child: ChildProcess | undefined, graceMs = STOP_GRACE_MS): Promise<void> {
  if (child === undefined || !isRunning(child)) return;
  child.kill('SIGTERM');
  if (await waitForExit(child, graceMs)) return;
  child.kill('SIGKILL');
  await waitForExit(child, KILL_WAIT_MS);
}

/** A promise that rejects when the child exits; `dispose` detaches it once the wait is over. */
function watchExit(child: ChildProcess, label: string, logPath: string): { exited: Promise<never>; dispose: () => void } {
  let onExit: () => void = () => undefined;
  let onError: (error: Error) => void = () => undefined;
  const exited = new Promise<never>((_resolve, reject) => {
    const fail = (why: string): void => {
      const log = existsSync(logPath) ? tail(readFileSync(logPath, 'utf8'), 1500) : '';
      reject(new Error(`${label} ${why}${log === '' ? '' : `; its log (${logPath}) ends with:\n${log}`}`));
    };
    onExit = () => fail(`exited early (${child.signalCode ?? `status ${child.exitCode}`})`);
    onError = (error) => fail(`could not start: ${error.message}`);
    if (!isRunning(child)) onExit();
    child.once('exit', onExit);
    child.once('error', onError);
  });
  exited.catch(() => undefined);
  return {
    exited,
    dispose: () => {
      child.off('exit', onExit);
      child.off('error', onError);
    },
  };
}

/** Runs `wait` unless the child exits first. */
async function unlessExited<T>(child: ChildProcess, label: string, logPath: string, wait: Promise<T>): Promise<T> {
  const watcher = watchExit(child, label, logPath);
  try {
    return await Promise.race([wait, watcher.exited]);
  } finally {
    watcher.dispose();
  }
}

/** Resolves the binary or throws the "not found" error naming the install command. */
function requireBinary(name: string, packages: string): string {
  const found = findExecutable(name);
  if (found === undefined) {
    throw new Error(`${name} not found: run \`npm run lab:install\` (or: apt-get install -y --no-install-recommends ${packages})`);
  }
  return found;
}

async function makeRunDir(kind: string): Promise<string> {
  installExitHooks();
  await mkdir(LAB_RUN_DIR, { recursive: true });
  const runDir = await mkdtemp(path.join(LAB_RUN_DIR, `${kind}-`));
  liveRunDirs.add(runDir);
  return runDir;
}

async function removeRunDir(runDir: string): Promise<void> {
  liveRunDirs.delete(runDir);
  await rm(runDir, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------
// Ports and display numbers. Reservations cover this process; other processes are seen through the
// kernel (bind test) and X lock files, and a lost race is retried with a new pick.

const reservedPorts = new Set<number>();
const reservedXDisplays = new Set<number>();

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ host: LOOPBACK_HOST, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

async function pickFreePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = net.createServer();
      server.once('error', reject);
      server.listen({ host: LOOPBACK_HOST, port: 0, exclusive: true }, () => {
        const address = server.address();
        const chosen = typeof address === 'object' && address !== null ? address.port : 0;
        server.close(() => resolve(chosen));
      });
    });
    if (port !== 0 && !reservedPorts.has(port)) {
      reservedPorts.add(port);
      return port;
    }
  }
  throw new Error('could not find a free TCP port on 127.0.0.1');
}

function randomStart(low: number, high: number): number {
  return low + Math.floor(Math.random() * (high - low));
}

/** True when an X display number has no live server (its lock file is absent or names a dead pid). */
function isXDisplayFree(display: number): boolean {
  const lockPath = `/tmp/.X${display}-lock`;
  if (existsSync(lockPath)) {
    const pid = Number.parseInt(readFileSync(lockPath, 'utf8').trim(), 10);
    if (!Number.isInteger(pid) || pid <= 0) return false;
    try {
      process.kill(pid, 0);
      return false;
    } catch (error) {
      // EPERM means the process exists but belongs to someone else.
      return (error as NodeJS.ErrnoException).code === 'ESRCH';
    }
  }
  // A socket without a lock belongs to a server we cannot identify: leave it alone.
  return !existsSync(`/tmp/.X11-unix/X${display}`);
}

function pickXDisplay(): number {
  const low = 20;
  const high = 600;
  const start = randomStart(low, high);
  for (let offset = 0; offset < high - low; offset++) {
    const display = low + ((start - low + offset) % (high - low));
    if (!reservedXDisplays.has(display) && isXDisplayFree(display)) {
      reservedXDisplays.add(display);
      return display;
    }
  }
  throw new Error(`no free X display number in :${low}..:${high - 1}`);
}

async function pickQemuVncDisplay(): Promise<number> {
  const low = 200;
  const high = 2000;
  const start = randomStart(low, high);
  for (let offset = 0; offset < high - low; offset++) {
    const display = low + ((start - low + offset) % (high - low));
    const port = VNC_DISPLAY_PORT_BASE + display;
    if (!reservedPorts.has(port) && (await canListen(port))) {
      reservedPorts.add(port);
      return display;
    }
  }
  throw new Error(`no free VNC display for QEMU in ${low}..${high - 1}`);
}

/** Polls until a TCP connection to the port succeeds. */
async function waitForPort(port: number, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const connected = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: LOOPBACK_HOST, port });
      socket.setTimeout(1000, () => socket.destroy());
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('close', () => resolve(false));
      socket.once('error', () => undefined);
    });
    if (connected) return;
    if (Date.now() > deadline) throw new Error(`${what} did not accept connections on ${LOOPBACK_HOST}:${port} within ${timeoutMs} ms`);
    await sleep(PORT_POLL_MS);
  }
}

// ---------------------------------------------------------------------------------------------
// Xvnc + xterm

/**
 * Starts TigerVNC Xvnc on a free display and port (loopback only, shared sessions), then the lab's
 * deterministic xterm on it, and resolves once the xterm has drawn and the screen has settled.
 */
export async function startXvnc(options: XvncOptions = {}): Promise<XvncHandle> {
  const xvncPath = requireBinary('Xvnc', INSTALL_HINTS.xvnc);
  const xtermPath = requireBinary('xterm', INSTALL_HINTS.xvnc);
  const vncpasswdPath = options.password === undefined ? undefined : requireBinary('vncpasswd', INSTALL_HINTS.xvnc);
  const geometry = options.geometry ?? '640x400';
  const password = options.password;
  const runDir = await makeRunDir('xvnc');
  let passwordFile: string | undefined;
  if (password !== undefined && vncpasswdPath !== undefined) {
    passwordFile = path.join(runDir, 'passwd');
    try {
      const { stdout } = await runCommandBinary(vncpasswdPath, ['-f'], `${password}\n`);
      await writeFile(passwordFile, stdout, { mode: 0o600 });
    } catch (error) {
      await removeRunDir(runDir);
      throw error;
    }
  }
  const securityArgs = passwordFile === undefined ? ['-SecurityTypes', 'None'] : ['-SecurityTypes', 'VncAuth', '-PasswordFile', passwordFile];
  const logPath = path.join(runDir, 'xvnc.log');

  let xvnc: ChildProcess | undefined;
  let xterm: ChildProcess | undefined;
  let startupMs = 0;

  const launch = async (display: number, port: number): Promise<void> => {
    const startedAt = Date.now();
    const args = [
      `:${display}`,
      '-geometry', geometry,
      '-depth', '24',
      '-rfbport', String(port),
      '-localhost',
      '-interface', LOOPBACK_HOST,
      '-nolisten', 'tcp',
      '-AlwaysShared',
      // Xvnc does not autorepeat keys held by VNC clients (measured); its XKB autorepeat applies to
      // xdotool's XTEST input only, where a key-up delayed by a loaded machine could repeat: 30 s.
      '-ardelay', '30000',
      ...securityArgs,
    ];
    const server = spawnTracked(xvncPath, args, { logPath });
    xvnc = server;
    await unlessExited(server, `Xvnc :${display}`, logPath, waitForPort(port, XVNC_READY_TIMEOUT_MS, `Xvnc :${display}`));
    const xtermLogPath = path.join(runDir, 'xterm.log');
    const terminal = spawnTracked(
      xtermPath,
      ['-fn', 'fixed', '-geometry', '60x20+0+0', '+bc', '-e', 'env', '-i', 'HOME=/tmp', 'TERM=xterm', 'PS1=$ ', '/bin/sh'],
      { env: { DISPLAY: `:${display}`, PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/tmp', LC_ALL: 'C' }, logPath: xtermLogPath },
    );
    xterm = terminal;
    // The root window is uniformly black; a drawn xterm is not. Then wait for the prompt to settle.
    await unlessExited(
      terminal,
      `xterm on :${display}`,
      xtermLogPath,
      waitForStableFramebuffer(
        { host: LOOPBACK_HOST, port, password },
        { quietMs: 200, timeoutMs: XTERM_DRAWN_TIMEOUT_MS, accept: (framebuffer) => !isUniformFramebuffer(framebuffer) },
      ),
    );
    startupMs = Date.now() - startedAt;
  };

  let display = -1;
  let port = -1;
  for (let attempt = 1; ; attempt++) {
    display = pickXDisplay();
    port = await pickFreePort();
    try {
      await launch(display, port);
      break;
    } catch (error) {
      // An Xvnc that exited by itself most likely lost a race for the display or port: pick again.
      const lostRace = xvnc !== undefined && !isRunning(xvnc);
      await Promise.all([stopProcess(xterm, 1000), stopProcess(xvnc, 1000)]);
      reservedXDisplays.delete(display);
      reservedPorts.delete(port);
      if (!lostRace || attempt >= START_ATTEMPTS) {
        await removeRunDir(runDir);
        throw error;
      }
    }
  }

  const fixedDisplay = display;
  const fixedPort = port;
  let stopped = false;
  const handle: XvncHandle = {
    host: LOOPBACK_HOST,
    display: fixedDisplay,
    port: fixedPort,
    ...(password === undefined ? {} : { password }),
    get pid() {
      return xvnc?.pid ?? -1;
    },
    get startupMs() {
      return startupMs;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await stopProcess(xterm);
      await stopProcess(xvnc);
      reservedXDisplays.delete(fixedDisplay);
      reservedPorts.delete(fixedPort);
      await removeRunDir(runDir);
    },
    async kill() {
      if (xvnc !== undefined && isRunning(xvnc)) {
        xvnc.kill('SIGKILL');
        await waitForExit(xvnc, KILL_WAIT_MS);
      }
      // xterm loses its X connection and exits; make sure it is gone.
      await stopProcess(xterm, 2000);
    },
    async restart() {
      if (stopped) throw new Error(`Xvnc :${fixedDisplay} was stopped; start a new one instead of restarting it`);
      await stopProcess(xterm);
      await stopProcess(xvnc);
      // The port can stay briefly unbindable after a crash: retry a few times before giving up.
      const deadline = Date.now() + XVNC_READY_TIMEOUT_MS;
      for (;;) {
        try {
          await launch(fixedDisplay, fixedPort);
          return;
        } catch (error) {
          await Promise.all([stopProcess(xterm, 1000), stopProcess(xvnc, 1000)]);
          if (Date.now() > deadline) throw new Error(`could not restart Xvnc :${fixedDisplay} on port ${fixedPort}`, { cause: error });
          await sleep(250);
        }
      }
    },
  };
  return handle;
}

// ---------------------------------------------------------------------------------------------
// Xvfb + x11vnc + xterm: a second VNC server family, one that can autorepeat held keys

/** Options of {@link startX11vnc}. */
export interface X11vncOptions {
  /**
   * Let the X server autorepeat keys held by VNC clients (x11vnc -repeat; XKB's default: after
   * 660 ms, 25 per second). x11vnc's own default, like Xvnc's behaviour, is no server autorepeat.
   */
  autorepeat?: boolean;
}

/** A running Xvfb with the lab's xterm, served by x11vnc (no password). */
export interface X11vncHandle {
  host: string;
  port: number;
  display: number;
  stop(): Promise<void>;
}

/**
 * Starts Xvfb on a free display, the lab's deterministic xterm on it and x11vnc serving it on a free
 * loopback port (shared, no password, the X pointer not drawn); resolves once the xterm is drawn.
 */
export async function startX11vnc(options: X11vncOptions = {}): Promise<X11vncHandle> {
  const xvfbPath = requireBinary('Xvfb', INSTALL_HINTS.x11vnc);
  const x11vncPath = requireBinary('x11vnc', INSTALL_HINTS.x11vnc);
  const xtermPath = requireBinary('xterm', INSTALL_HINTS.x11vnc);
  const runDir = await makeRunDir('x11vnc');
  const display = pickXDisplay();
  const port = await pickFreePort();
  const children: ChildProcess[] = [];
  const stopAll = async (): Promise<void> => {
    for (const child of children.reverse()) await stopProcess(child, 1000);
    reservedXDisplays.delete(display);
    reservedPorts.delete(port);
    await removeRunDir(runDir);
  };
  try {
    const xvfbLog = path.join(runDir, 'xvfb.log');
    const xvfb = spawnTracked(xvfbPath, [`:${display}`, '-screen', '0', '640x400x24', '-nolisten', 'tcp'], { logPath: xvfbLog });
    children.push(xvfb);
    await unlessExited(xvfb, `Xvfb :${display}`, xvfbLog, waitForFile(`/tmp/.X11-unix/X${display}`, XVNC_READY_TIMEOUT_MS, `Xvfb :${display}`));
    const xtermLog = path.join(runDir, 'xterm.log');
    children.push(
      spawnTracked(xtermPath, ['-fn', 'fixed', '-geometry', '60x20+0+0', '+bc', '-e', 'env', '-i', 'HOME=/tmp', 'TERM=xterm', 'PS1=$ ', '/bin/sh'], {
        env: { DISPLAY: `:${display}`, PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/tmp', LC_ALL: 'C' },
        logPath: xtermLog,
      }),
    );
    const x11vncLog = path.join(runDir, 'x11vnc.log');
    const server = spawnTracked(
      x11vncPath,
      ['-display', `:${display}`, '-rfbport', String(port), '-localhost', '-shared', '-forever', '-nopw', '-norc', '-nocursor', options.autorepeat === true ? '-repeat' : '-norepeat', '-quiet'],
      { logPath: x11vncLog },
    );
    children.push(server);
    await unlessExited(server, `x11vnc :${display}`, x11vncLog, waitForPort(port, XVNC_READY_TIMEOUT_MS, `x11vnc :${display}`));
    await waitForStableFramebuffer(
      { host: LOOPBACK_HOST, port },
      { quietMs: 300, timeoutMs: XTERM_DRAWN_TIMEOUT_MS, accept: (framebuffer) => !isUniformFramebuffer(framebuffer) },
    );
  } catch (error) {
    await stopAll();
    throw error;
  }
  let stopped = false;
  return {
    host: LOOPBACK_HOST,
    port,
    display,
    async stop() {
      if (stopped) return;
      stopped = true;
      await stopAll();
    },
  };
}

/** Waits until a file exists (an X server's socket). */
async function waitForFile(filePath: string, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(filePath)) {
    if (Date.now() > deadline) throw new Error(`${what} did not become ready within ${timeoutMs} ms (no ${filePath})`);
    await sleep(50);
  }
}

async function runCommandBinary(binary: string, args: readonly string[], input: string): Promise<{ stdout: Buffer }> {
  // vncpasswd -f writes binary (DES-obfuscated) bytes, so this cannot go through the text-based runCommand.
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve({ stdout: Buffer.concat(stdout) });
      else reject(new Error(`${binary} ${args.join(' ')} failed (${code}): ${Buffer.concat(stderr).toString('utf8').trim()}`));
    });
    child.stdin.end(input);
  });
}

/** Types text on an X display with xdotool (the plain form: with no window manager the window-targeted form loses keys). */
export async function typeWithXdotool(display: number, text: string): Promise<void> {
  const xdotoolPath = requireBinary('xdotool', INSTALL_HINTS.xvnc);
  // xdotool waits 12 ms per key by default; allow that plus a generous margin.
  await runCommand(xdotoolPath, ['type', '--', text], {
    env: { ...process.env, DISPLAY: `:${display}` },
    timeoutMs: 10_000 + text.length * 100,
  });
}

// ---------------------------------------------------------------------------------------------
// QEMU VMs

let vmCounter = 0;

/**
 * Boots a QEMU VM (software emulation) from the cached kernel and busybox initramfs, its console on
 * a loopback VNC port; resolves once the guest wrote READY on its serial port and the shell prompt
 * on screen has settled.
 */
export async function startVm(options: VmOptions = {}): Promise<VmHandle> {
  const qemuPath = requireBinary('qemu-system-x86_64', INSTALL_HINTS.qemu);
  const assets = await ensureVmAssets();
  vmCounter += 1;
  const name = options.name ?? `lab-vm-${process.pid}-${vmCounter}`;
  const bootTimeoutMs = options.bootTimeoutMs ?? VM_BOOT_TIMEOUT_MS;
  const runDir = await makeRunDir(`vm-${name.replace(/[^\w.-]/g, '_')}`);
  const serialLogPath = path.join(runDir, 'serial.log');
  const monitorSocketPath = path.join(runDir, 'monitor.sock');
  const logPath = path.join(runDir, 'qemu.log');
  // A unix socket's path is limited to 107 bytes (sun_path): fail with the reason, not QEMU's riddle.
  if (Buffer.byteLength(monitorSocketPath) > 107) {
    throw new Error(`the VM's monitor socket path is too long for a unix socket (${monitorSocketPath}): run the tests from a shorter checkout path`);
  }

  for (let attempt = 1; ; attempt++) {
    const display = await pickQemuVncDisplay();
    const port = VNC_DISPLAY_PORT_BASE + display;
    const startedAt = Date.now();
    await rm(serialLogPath, { force: true });
    await rm(monitorSocketPath, { force: true });
    const qemu = spawnTracked(
      qemuPath,
      [
        '-name', name,
        '-machine', 'pc,accel=tcg',
        '-m', '128',
        '-kernel', assets.kernelPath,
        '-initrd', assets.initrdPath,
        '-append', 'console=tty0 quiet loglevel=1',
        '-nic', 'none',
        '-display', 'none',
        '-vnc', `${LOOPBACK_HOST}:${display}`,
        '-serial', `file:${serialLogPath}`,
        '-monitor', `unix:${monitorSocketPath},server=on,wait=off`,
      ],
      { logPath },
    );
    const label = `QEMU VM ${name}`;
    try {
      await unlessExited(qemu, label, logPath, waitForPort(port, 10_000, label));
      await unlessExited(qemu, label, logPath, waitForSerialMarker(serialLogPath, 'READY', bootTimeoutMs, label));
      await unlessExited(
        qemu,
        label,
        logPath,
        waitForStableFramebuffer(
          { host: LOOPBACK_HOST, port },
          { quietMs: 500, timeoutMs: VM_PROMPT_TIMEOUT_MS, accept: (framebuffer) => !isUniformFramebuffer(framebuffer) },
        ),
      );
    } catch (error) {
      const exitedEarly = !isRunning(qemu);
      await stopProcess(qemu, 1000);
      reservedPorts.delete(port);
      // QEMU exits at once when another process took the VNC port between our check and its bind.
      const lostRace = exitedEarly && Date.now() - startedAt < 5000 && /Address already in use/i.test(String(error));
      if (!lostRace || attempt >= START_ATTEMPTS) {
        await removeRunDir(runDir);
        throw error;
      }
      continue;
    }
    const startupMs = Date.now() - startedAt;
    let stopped = false;
    return {
      name,
      host: LOOPBACK_HOST,
      display,
      port,
      serialLogPath,
      monitorSocketPath,
      pid: qemu.pid ?? -1,
      startupMs,
      async stop() {
        if (stopped) return;
        stopped = true;
        await stopProcess(qemu);
        reservedPorts.delete(port);
        await removeRunDir(runDir);
      },
    };
  }
}

/** QEMU `sendkey` names of the characters {@link typeOnVmConsole} types (US layout; "shift-" adds Shift). */
const QEMU_KEY_NAMES: Readonly<Record<string, string>> = {
  ' ': 'spc',
  '\n': 'ret',
  '-': 'minus',
  '=': 'equal',
  "'": 'apostrophe',
  '\\': 'backslash',
  '[': 'bracket_left',
  ']': 'bracket_right',
  ';': 'semicolon',
  ',': 'comma',
  '.': 'dot',
  '/': 'slash',
  '?': 'shift-slash',
  '"': 'shift-apostrophe',
  '>': 'shift-dot',
  '<': 'shift-comma',
  '|': 'shift-backslash',
  '_': 'shift-minus',
  ':': 'shift-semicolon',
  '!': 'shift-1',
  '$': 'shift-4',
  '&': 'shift-7',
  '*': 'shift-8',
  '(': 'shift-9',
  ')': 'shift-0',
};

/** The QEMU `sendkey` argument that types `character` on a US keyboard. */
export function qemuKeyName(character: string): string {
  if (/^[a-z0-9]$/.test(character)) return character;
  if (/^[A-Z]$/.test(character)) return `shift-${character.toLowerCase()}`;
  const name = QEMU_KEY_NAMES[character];
  if (name === undefined) throw new Error(`typeOnVmConsole cannot type ${JSON.stringify(character)}: add its QEMU key name to QEMU_KEY_NAMES`);
  return name;
}

const HMP_PROMPT = '(qemu) ';
const HMP_TIMEOUT_MS = 10_000;

/**
 * Types text on a lab VM's console out of band — through QEMU's human monitor (`sendkey`, one key at
 * a time), not through any VNC client — so one VM can be made to differ from the others.
 */
export async function typeOnVmConsole(vm: { readonly monitorSocketPath: string }, text: string): Promise<void> {
  const keys = [...text].map(qemuKeyName);
  const socket = net.connect(vm.monitorSocketPath);
  let received = '';
  let waiter: { count: number; resolve: () => void } | null = null;
  const prompts = (): number => received.split(HMP_PROMPT).length - 1;
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => {
    received += chunk;
    if (waiter !== null && prompts() >= waiter.count) waiter.resolve();
  });
  const failed = new Promise<never>((_resolve, reject) => {
    socket.once('error', (error) => reject(new Error(`cannot reach the VM's QEMU monitor at ${vm.monitorSocketPath}: ${error.message}`, { cause: error })));
    socket.once('close', () => reject(new Error(`the VM's QEMU monitor closed the connection (got ${JSON.stringify(received.slice(-200))})`)));
  });
  failed.catch(() => undefined);
  const untilPrompts = async (count: number, what: string): Promise<void> => {
    if (prompts() >= count) return;
    const reached = new Promise<void>((resolve) => (waiter = { count, resolve }));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`the VM's QEMU monitor did not answer ${what} within ${HMP_TIMEOUT_MS} ms (got ${JSON.stringify(received.slice(-200))})`)), HMP_TIMEOUT_MS);
    });
    try {
      await Promise.race([reached, failed, timeout]);
    } finally {
      clearTimeout(timer);
      waiter = null;
    }
  };
  try {
    await untilPrompts(1, 'the connection');
    for (const [index, key] of keys.entries()) {
      socket.write(`sendkey ${key}\n`);
      await untilPrompts(index + 2, `sendkey ${key}`);
      if (/unknown key|invalid parameter/i.test(received.slice(-200))) throw new Error(`QEMU refused "sendkey ${key}": ${received.slice(-200)}`);
    }
    // sendkey holds each key for 100 ms before releasing it: let the last release happen.
    await sleep(150);
  } finally {
    socket.removeAllListeners('close');
    socket.destroy();
  }
}

async function waitForSerialMarker(serialLogPath: string, marker: string, timeoutMs: number, label: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (existsSync(serialLogPath) && (await readFile(serialLogPath, 'utf8')).includes(marker)) return;
    if (Date.now() > deadline) {
      throw new Error(`${label} did not write ${marker} to its serial port (${serialLogPath}) within ${timeoutMs} ms`);
    }
    await sleep(100);
  }
}

// ---------------------------------------------------------------------------------------------
// sshd

/**
 * Starts OpenSSH's sshd on a free loopback port with fresh host keys (ed25519 unless told) and one authorized
 * client key (public-key login only, TCP forwarding allowed), and resolves once it sends its banner.
 */
export async function startSshd(options: SshdOptions = {}): Promise<SshdHandle> {
  const sshdPath = requireBinary('sshd', INSTALL_HINTS.sshd);
  const sshKeygenPath = requireBinary('ssh-keygen', INSTALL_HINTS.sshd);
  const runDir = await makeRunDir('sshd');
  try {
    const [firstHostKeyType = 'ed25519', ...otherHostKeyTypes] = options.hostKeyTypes ?? [];
    const hostKeys = [firstHostKeyType, ...otherHostKeyTypes].map((type) => ({ type, keyPath: path.join(runDir, `ssh_host_${type}_key`) }));
    const identityFile = path.join(runDir, 'id_ed25519');
    const authorizedKeysPath = path.join(runDir, 'authorized_keys');
    await Promise.all([
      ...hostKeys.map(({ type, keyPath }) => runCommand(sshKeygenPath, ['-q', '-t', type, '-N', '', '-C', 'retrovisor-lab-host', '-f', keyPath])),
      runCommand(sshKeygenPath, ['-q', '-t', 'ed25519', '-N', '', '-C', 'retrovisor-lab-client', '-f', identityFile]),
    ]);
    await writeFile(authorizedKeysPath, await readFile(`${identityFile}.pub`, 'utf8'), { mode: 0o600 });
    const hostKeyFingerprints: Partial<Record<SshdHostKeyType, string>> = {};
    for (const { type, keyPath } of hostKeys) hostKeyFingerprints[type] = openSshFingerprint(await readFile(`${keyPath}.pub`, 'utf8'));
    const hostKeyFingerprint = hostKeyFingerprints[firstHostKeyType];
    if (hostKeyFingerprint === undefined) throw new Error(`no ${firstHostKeyType} host key was generated`);
    // sshd refuses to start without its privilege-separation directory.
    await mkdir('/run/sshd', { recursive: true, mode: 0o755 }).catch((error: unknown) => {
      throw new Error(`cannot create /run/sshd (sshd needs it; run the tests as root or create it once with sudo): ${String(error)}`);
    });
    const logPath = path.join(runDir, 'sshd.log');
    const configPath = path.join(runDir, 'sshd_config');
    const ownUser = os.userInfo().username;
    const user = options.user ?? ownUser;
    // sshd reads an AuthorizedKeysFile as the logging-in user; AuthorizedKeysCommand runs as ownUser.
    const keyLookup =
      user === ownUser
        ? [`AuthorizedKeysFile ${authorizedKeysPath}`]
        : [
            'AuthorizedKeysFile none',
            `AuthorizedKeysCommand ${requireBinary('cat', 'coreutils')} "${authorizedKeysPath}"`,
            `AuthorizedKeysCommandUser ${ownUser}`,
            `AllowUsers ${user}`,
          ];

    for (let attempt = 1; ; attempt++) {
      const port = await pickFreePort();
      await writeFile(
        configPath,
        [
          `Port ${port}`,
          `ListenAddress ${LOOPBACK_HOST}`,
          ...hostKeys.map(({ keyPath }) => `HostKey ${keyPath}`),
          `PidFile ${path.join(runDir, 'sshd.pid')}`,
          ...keyLookup,
          'PubkeyAuthentication yes',
          'PermitRootLogin prohibit-password',
          'PasswordAuthentication no',
          'KbdInteractiveAuthentication no',
          'UsePAM no',
          // Without this sshd refuses keys in directories it does not consider private enough.
          'StrictModes no',
          'AllowTcpForwarding yes',
          ...(options.extraConfig ?? []),
          '',
        ].join('\n'),
      );
      const startedAt = Date.now();
      // sshd must be started by absolute path: it re-executes itself for each connection.
      const sshd = spawnTracked(sshdPath, ['-D', '-e', '-f', configPath], { logPath });
      try {
        await unlessExited(sshd, 'sshd', logPath, waitForSshBanner(port, SSHD_READY_TIMEOUT_MS));
      } catch (error) {
        const exitedEarly = !isRunning(sshd);
        await stopProcess(sshd, 1000);
        reservedPorts.delete(port);
        if (!(exitedEarly && /Address already in use/i.test(String(error))) || attempt >= START_ATTEMPTS) throw error;
        continue;
      }
      const startupMs = Date.now() - startedAt;
      let stopped = false;
      return {
        host: LOOPBACK_HOST,
        port,
        user,
        identityFile,
        hostKeyFingerprint,
        hostKeyFingerprints,
        pid: sshd.pid ?? -1,
        startupMs,
        async stop() {
          if (stopped) return;
          stopped = true;
          await stopProcess(sshd);
          reservedPorts.delete(port);
          await removeRunDir(runDir);
        },
      };
    }
  } catch (error) {
    await removeRunDir(runDir);
    throw error;
  }
}

/** The OpenSSH fingerprint (`SHA256:<base64 without padding>`) of a public key line or raw key blob. */
export function openSshFingerprint(publicKey: string | Uint8Array): string {
  let blob: Uint8Array;
  if (typeof publicKey === 'string') {
    const base64 = publicKey.trim().split(/\s+/)[1];
    if (base64 === undefined) throw new Error(`not an OpenSSH public key line: ${publicKey.slice(0, 80)}`);
    blob = Buffer.from(base64, 'base64');
  } else {
    blob = publicKey;
  }
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

async function waitForSshBanner(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const banner = await new Promise<string>((resolve) => {
      const socket = net.connect({ host: LOOPBACK_HOST, port });
      let received = '';
      socket.setTimeout(1000, () => socket.destroy());
      socket.on('data', (chunk: Buffer) => {
        received += chunk.toString('latin1');
        if (received.includes('\n')) socket.destroy();
      });
      socket.once('close', () => resolve(received));
      socket.once('error', () => undefined);
    });
    if (banner.startsWith('SSH-2.0-')) return;
    if (Date.now() > deadline) throw new Error(`sshd sent no SSH banner on ${LOOPBACK_HOST}:${port} within ${timeoutMs} ms`);
    await sleep(PORT_POLL_MS);
  }
}

// ---------------------------------------------------------------------------------------------
// RFB 3.8 client: just enough to read one full framebuffer as RGBA.

const RFB_VERSION_3_8 = 'RFB 003.008\n';
const SECURITY_NONE = 1;
const SECURITY_VNC_AUTH = 2;
const ENCODING_RAW = 0;
const CLIENT_SET_PIXEL_FORMAT = 0;
const CLIENT_SET_ENCODINGS = 2;
const CLIENT_FRAMEBUFFER_UPDATE_REQUEST = 3;
const SERVER_FRAMEBUFFER_UPDATE = 0;
const SERVER_SET_COLOUR_MAP_ENTRIES = 1;
const SERVER_BELL = 2;
const SERVER_CUT_TEXT = 3;

/** Exact-length reads over a socket; a failure (error, close, timeout) rejects the pending and later reads. */
class SocketReader {
  private readonly chunks: Buffer[] = [];
  private buffered = 0;
  private pending: { length: number; resolve: (data: Buffer) => void; reject: (error: Error) => void } | undefined;
  private failure: Error | undefined;

  constructor(socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
      this.deliver();
    });
    socket.on('error', (error) => this.fail(error));
    socket.on('close', () => this.fail(new Error('the server closed the connection')));
  }

  read(length: number): Promise<Buffer> {
    if (this.pending !== undefined) return Promise.reject(new Error('SocketReader: concurrent reads are not supported'));
    return new Promise((resolve, reject) => {
      this.pending = { length, resolve, reject };
      this.deliver();
    });
  }

  fail(error: Error): void {
    this.failure ??= error;
    this.deliver();
  }

  private deliver(): void {
    const pending = this.pending;
    if (pending === undefined) return;
    if (this.buffered >= pending.length) {
      this.pending = undefined;
      pending.resolve(this.take(pending.length));
    } else if (this.failure !== undefined) {
      this.pending = undefined;
      pending.reject(this.failure);
    }
  }

  private take(length: number): Buffer {
    const joined = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks);
    this.chunks.length = 0;
    const rest = joined.subarray(length);
    if (rest.length > 0) this.chunks.push(rest);
    this.buffered = rest.length;
    return joined.subarray(0, length);
  }
}

/** RFB's Cursor pseudo-encoding: the server sends the pointer shape instead of drawing it. */
const PSEUDO_ENCODING_CURSOR = -239;

/** Options of {@link readFramebuffer}. */
export interface ReadFramebufferOptions {
  /** Bound on the whole exchange, connect to last pixel. */
  timeoutMs?: number;
}

/**
 * Connects to a VNC server (RFB 3.8, security None or VNC password), asks for the whole screen in
 * Raw encoding as 32-bit little-endian RGB and returns it as RGBA. Rejects with a message naming
 * the server and the protocol phase on authentication failure, timeout or malformed data.
 */
export async function readFramebuffer(target: VncTarget, options: ReadFramebufferOptions = {}): Promise<Framebuffer> {
  const timeoutMs = options.timeoutMs ?? RFB_READ_TIMEOUT_MS;
  const where = `VNC server ${target.host}:${target.port}`;
  let phase = 'connecting';
  const socket = net.connect({ host: target.host, port: target.port });
  socket.setNoDelay(true);
  const reader = new SocketReader(socket);
  const timer = setTimeout(() => {
    reader.fail(new Error(`timed out after ${timeoutMs} ms`));
    socket.destroy();
  }, timeoutMs);
  try {
    phase = 'reading the protocol version';
    const serverVersion = (await reader.read(12)).toString('latin1');
    const versionMatch = /^RFB (\d{3})\.(\d{3})\n$/.exec(serverVersion);
    if (versionMatch === null) throw new Error(`not an RFB server (greeting ${JSON.stringify(serverVersion)})`);
    if (Number(versionMatch[1]) < 3 || (Number(versionMatch[1]) === 3 && Number(versionMatch[2]) < 8)) {
      throw new Error(`server speaks ${serverVersion.trim()}; the lab client needs RFB 3.8`);
    }
    socket.write(RFB_VERSION_3_8);

    phase = 'negotiating security';
    const typeCount = (await reader.read(1)).readUInt8(0);
    if (typeCount === 0) throw new Error(`server refused the connection: ${await readReason(reader)}`);
    const offered = [...(await reader.read(typeCount))];
    let chosen: number;
    if (target.password !== undefined && offered.includes(SECURITY_VNC_AUTH)) chosen = SECURITY_VNC_AUTH;
    else if (offered.includes(SECURITY_NONE)) chosen = SECURITY_NONE;
    else if (offered.includes(SECURITY_VNC_AUTH)) throw new Error('server requires a VNC password and none was given');
    else throw new Error(`server offers only security types [${offered.join(', ')}]; the lab client supports None (1) and VNC (2)`);
    socket.write(Uint8Array.of(chosen));
    if (chosen === SECURITY_VNC_AUTH) {
      phase = 'authenticating';
      const challenge = await reader.read(16);
      socket.write(vncAuthResponse(target.password ?? '', challenge));
    }

    phase = 'reading the security result';
    const securityResult = (await reader.read(4)).readUInt32BE(0);
    if (securityResult !== 0) {
      const reason = await readReason(reader).catch(() => 'no reason given');
      throw new Error(chosen === SECURITY_VNC_AUTH ? `VNC authentication failed (wrong password?): ${reason}` : `security handshake failed: ${reason}`);
    }

    phase = 'initialising';
    socket.write(Uint8Array.of(1)); // ClientInit: shared, so readers never disconnect other viewers.
    const serverInit = await reader.read(24);
    const width = serverInit.readUInt16BE(0);
    const height = serverInit.readUInt16BE(2);
    const nameLength = serverInit.readUInt32BE(20);
    if (nameLength > MAX_SERVER_MESSAGE_BYTES) throw new Error(`desktop name of ${nameLength} bytes is implausible`);
    await reader.read(nameLength);
    if (width === 0 || height === 0 || width > MAX_FRAMEBUFFER_SIDE_PX || height > MAX_FRAMEBUFFER_SIDE_PX) {
      throw new Error(`implausible framebuffer size ${width}x${height}`);
    }
    socket.write(setPixelFormatMessage());
    // The Cursor pseudo-encoding keeps the pointer out of the pixels (as noVNC, which asks for it too);
    // without it Xvnc draws its pointer into the framebuffer it sends.
    socket.write(setEncodingsMessage([ENCODING_RAW, PSEUDO_ENCODING_CURSOR]));
    socket.write(framebufferUpdateRequest(width, height));

    phase = 'reading the framebuffer';
    const rgba = new Uint8Array(width * height * 4);
    const covered = new Uint8Array(width * height);
    let coveredCount = 0;
    while (coveredCount < width * height) {
      const messageType = (await reader.read(1)).readUInt8(0);
      if (messageType === SERVER_FRAMEBUFFER_UPDATE) {
        const rectangleCount = (await reader.read(3)).readUInt16BE(1);
        for (let index = 0; index < rectangleCount; index++) {
          const header = await reader.read(12);
          const x = header.readUInt16BE(0);
          const y = header.readUInt16BE(2);
          const w = header.readUInt16BE(4);
          const h = header.readUInt16BE(6);
          const encoding = header.readInt32BE(8);
          if (encoding === PSEUDO_ENCODING_CURSOR) {
            // The pointer's image and mask: not framebuffer pixels.
            await reader.read(w * h * 4 + Math.ceil(w / 8) * h);
            continue;
          }
          if (encoding !== ENCODING_RAW) throw new Error(`server sent encoding ${encoding}, but only Raw (0) was requested`);
          if (x + w > width || y + h > height) throw new Error(`rectangle ${w}x${h}+${x}+${y} lies outside the ${width}x${height} screen`);
          const pixels = await reader.read(w * h * 4);
          for (let row = 0; row < h; row++) {
            const target = ((y + row) * width + x) * 4;
            rgba.set(pixels.subarray(row * w * 4, (row + 1) * w * 4), target);
            for (let column = 0; column < w; column++) {
              rgba[target + column * 4 + 3] = 255;
              const cell = (y + row) * width + x + column;
              if (covered[cell] === 0) {
                covered[cell] = 1;
                coveredCount++;
              }
            }
          }
        }
        // A server may answer in pieces; ask again until every pixel has been seen.
        if (coveredCount < width * height) socket.write(framebufferUpdateRequest(width, height));
      } else if (messageType === SERVER_SET_COLOUR_MAP_ENTRIES) {
        const colourCount = (await reader.read(5)).readUInt16BE(3);
        await reader.read(colourCount * 6);
      } else if (messageType === SERVER_BELL) {
        // Nothing to read.
      } else if (messageType === SERVER_CUT_TEXT) {
        const textLength = (await reader.read(7)).readUInt32BE(3);
        if (textLength > MAX_SERVER_MESSAGE_BYTES) throw new Error(`clipboard message of ${textLength} bytes is implausible`);
        await reader.read(textLength);
      } else {
        throw new Error(`unexpected server message type ${messageType}`);
      }
    }
    return { width, height, rgba };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`${where}: ${message} (while ${phase})`, { cause: error });
  } finally {
    clearTimeout(timer);
    socket.destroy();
  }
}

async function readReason(reader: SocketReader): Promise<string> {
  const length = (await reader.read(4)).readUInt32BE(0);
  if (length > MAX_SERVER_MESSAGE_BYTES) return `(reason of ${length} bytes omitted)`;
  return (await reader.read(length)).toString('utf8');
}

/**
 * The VNC authentication response: DES of the challenge keyed by the password (8 bytes, zero-padded,
 * each byte bit-reversed). OpenSSL 3 has no single DES, so two-key triple DES with the key doubled
 * stands in for it (EDE with K1 = K2 reduces to single DES).
 */
export function vncAuthResponse(password: string, challenge: Uint8Array): Buffer {
  const key = Buffer.alloc(8);
  Buffer.from(password, 'latin1').copy(key, 0, 0, 8);
  for (let index = 0; index < 8; index++) key[index] = reverseBits(key[index] ?? 0);
  const cipher = createCipheriv('des-ede-ecb', Buffer.concat([key, key]), null);
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(challenge), cipher.final()]);
}

function reverseBits(byte: number): number {
  let reversed = 0;
  for (let bit = 0; bit < 8; bit++) reversed = (reversed << 1) | ((byte >> bit) & 1);
  return reversed;
}

function setPixelFormatMessage(): Buffer {
  const message = Buffer.alloc(20);
  message.writeUInt8(CLIENT_SET_PIXEL_FORMAT, 0);
  // Pixel format at offset 4: 32 bpp, depth 24, little-endian, true colour, 8 bits per channel, R G B in bytes 0 1 2.
  message.writeUInt8(32, 4);
  message.writeUInt8(24, 5);
  message.writeUInt8(0, 6);
  message.writeUInt8(1, 7);
  message.writeUInt16BE(255, 8);
  message.writeUInt16BE(255, 10);
  message.writeUInt16BE(255, 12);
  message.writeUInt8(0, 14);
  message.writeUInt8(8, 15);
  message.writeUInt8(16, 16);
  return message;
}

function setEncodingsMessage(encodings: readonly number[]): Buffer {
  const message = Buffer.alloc(4 + encodings.length * 4);
  message.writeUInt8(CLIENT_SET_ENCODINGS, 0);
  message.writeUInt16BE(encodings.length, 2);
  encodings.forEach((encoding, index) => message.writeInt32BE(encoding, 4 + index * 4));
  return message;
}

function framebufferUpdateRequest(width: number, height: number): Buffer {
  const message = Buffer.alloc(10);
  message.writeUInt8(CLIENT_FRAMEBUFFER_UPDATE_REQUEST, 0);
  message.writeUInt8(0, 1); // non-incremental: the whole area, not just changes
  message.writeUInt16BE(width, 6);
  message.writeUInt16BE(height, 8);
  return message;
}

// ---------------------------------------------------------------------------------------------
// Framebuffer helpers

/** Options of {@link waitForStableFramebuffer}. */
export interface StableFramebufferOptions {
  /** How long the screen must stay unchanged. */
  quietMs?: number;
  /** Bound on the whole wait. */
  timeoutMs?: number;
  /** Pause between reads. */
  pollMs?: number;
  /** Extra condition a settled screen must meet (e.g. "not uniform"); the quiet period restarts while it fails. */
  accept?: (framebuffer: Framebuffer) => boolean;
}

/**
 * Reads the screen repeatedly until it has not changed for `quietMs` (and meets `accept`), then
 * returns it; rejects after `timeoutMs`. Keystrokes reach each server at different times, so tests
 * compare only settled screens.
 */
export async function waitForStableFramebuffer(target: VncTarget, options: StableFramebufferOptions = {}): Promise<Framebuffer> {
  const quietMs = options.quietMs ?? 300;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const pollMs = options.pollMs ?? Math.max(20, Math.min(100, Math.floor(quietMs / 3)));
  const deadline = Date.now() + timeoutMs;
  let previous: Framebuffer | undefined;
  let unchangedSince = Date.now();
  let lastError: unknown;
  for (;;) {
    const remainingMs = deadline - Date.now();
    if (remainingMs <= 0) break;
    let current: Framebuffer | undefined;
    try {
      current = await readFramebuffer(target, { timeoutMs: Math.min(RFB_READ_TIMEOUT_MS, Math.max(remainingMs, 1000)) });
    } catch (error) {
      lastError = error;
    }
    const now = Date.now();
    if (current !== undefined) {
      const acceptable = options.accept === undefined || options.accept(current);
      if (previous === undefined || !acceptable || !compareFramebuffers(previous, current).identical) {
        previous = acceptable ? current : undefined;
        unchangedSince = now;
      } else if (now - unchangedSince >= quietMs) {
        return current;
      }
    }
    await sleep(pollMs);
  }
  const detail = lastError instanceof Error ? `; last read failed: ${lastError.message}` : '';
  throw new Error(`the screen of ${target.host}:${target.port} did not settle (unchanged for ${quietMs} ms${options.accept ? ' and accepted' : ''}) within ${timeoutMs} ms${detail}`);
}

/** True when every pixel has the same colour. */
export function isUniformFramebuffer(framebuffer: Framebuffer): boolean {
  const pixels = pixelWords(framebuffer);
  const first = pixels[0];
  for (let index = 1; index < pixels.length; index++) if (pixels[index] !== first) return false;
  return true;
}

/** Compares two framebuffers pixel by pixel and reports how many pixels differ and where. */
export function compareFramebuffers(a: Framebuffer, b: Framebuffer): FramebufferComparison {
  if (a.width !== b.width || a.height !== b.height) {
    return { identical: false, sameSize: false, differingPixels: Math.max(a.width * a.height, b.width * b.height), box: undefined };
  }
  const pixelsA = pixelWords(a);
  const pixelsB = pixelWords(b);
  let differingPixels = 0;
  let minX = a.width;
  let minY = a.height;
  let maxX = -1;
  let maxY = -1;
  for (let index = 0; index < pixelsA.length; index++) {
    if (pixelsA[index] === pixelsB[index]) continue;
    differingPixels++;
    const x = index % a.width;
    const y = Math.floor(index / a.width);
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  }
  const box = differingPixels === 0 ? undefined : { x: minX, y: minY, width: maxX - minX + 1, height: maxY - minY + 1 };
  return { identical: differingPixels === 0, sameSize: true, differingPixels, box };
}

/** One 32-bit word per pixel, copying only when the bytes are not 4-byte aligned. */
function pixelWords(framebuffer: Framebuffer): Uint32Array {
  const length = framebuffer.width * framebuffer.height;
  if (framebuffer.rgba.byteLength < length * 4) {
    throw new Error(`framebuffer of ${framebuffer.width}x${framebuffer.height} holds only ${framebuffer.rgba.byteLength} bytes`);
  }
  const aligned = framebuffer.rgba.byteOffset % 4 === 0 ? framebuffer.rgba : framebuffer.rgba.slice(0, length * 4);
  return new Uint32Array(aligned.buffer, aligned.byteOffset, length);
}
