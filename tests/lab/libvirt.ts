// A real L0 for tests: libvirtd and virtlogd started by hand (no systemd), QEMU domains booting the lab's
// busybox guest with a qcow2 disk (internal snapshots with memory), reached by a non-root user of group
// libvirt over a loopback sshd with a pinned host key. Runs in Node (test set-up), as root.

import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  isUniformFramebuffer,
  LAB_RUN_DIR,
  startSshd,
  waitForStableFramebuffer,
  type SshdHandle,
} from './components.js';
import { ensureVmAssets, findExecutable, runCommand, tail } from './vm-assets.js';

/** The libvirt URI the L0's user manages its domains with (over SSH, as on a real L0). */
export const L0_URI = 'qemu:///system';
/** The non-root user, member of group libvirt, that logs in over SSH to run virsh. */
export const L0_USER = 'retrovisor-l0';
/** Every lab domain is named `rv-lab-<pid of the process that made it>-<index>`. */
export const L0_DOMAIN_PREFIX = 'rv-lab-';

/** The packages the L0 needs, for "not found" messages. */
const L0_INSTALL_HINT =
  'run `npm run lab:install` (or: apt-get install -y --no-install-recommends libvirt-daemon-system libvirt-clients qemu-system-x86 qemu-utils openssh-server)';

/**
 * Machine-wide bookkeeping: libvirtd and its sockets are machine-wide, so several processes (the
 * shared lab, a test file with its own L0) share one daemon; the last one to leave stops it.
 */
const STATE_DIR = '/run/retrovisor-l0';
const LOCK_DIR = path.join(STATE_DIR, 'lock');
const USERS_DIR = path.join(STATE_DIR, 'users');
const DAEMONS_FILE = path.join(STATE_DIR, 'daemons.json');
const LIBVIRTD_CONFIG = path.join(STATE_DIR, 'libvirtd.conf');
const LIBVIRTD_LOG = path.join(STATE_DIR, 'libvirtd.log');
const LIBVIRTD_PID_FILE = '/run/libvirtd.pid';
const VIRTLOGD_PID_FILE = '/run/virtlogd.pid';
const LIBVIRT_SOCKET = '/run/libvirt/libvirt-sock';
/** Present when the modular daemons serve QEMU (clients then prefer it over libvirtd's socket). */
const VIRTQEMUD_SOCKET = '/run/libvirt/virtqemud-sock';
const VIRTLOGD_SOCKET = '/run/libvirt/virtlogd-sock';
const QEMU_DOMAIN_LOG_DIR = '/var/log/libvirt/qemu';

const LOOPBACK_HOST = '127.0.0.1';
const VNC_DISPLAY_PORT_BASE = 5900;
/** VNC displays of lab domains: apart from the plain VMs' 200..1999, so the two never race. */
const DOMAIN_VNC_DISPLAYS = { low: 2000, high: 3000 } as const;
const DOMAIN_MEMORY_MIB = 128;
const DOMAIN_DISK_SIZE = '16M';
const GUEST_CMDLINE = 'console=tty0 quiet loglevel=1';

/** Six TCG guests booting at once on two cores, the first start probing QEMU's capabilities: be generous. */
const DOMAIN_BOOT_TIMEOUT_MS = 240_000;
const DOMAIN_PROMPT_TIMEOUT_MS = 60_000;
const DAEMON_READY_TIMEOUT_MS = 60_000;
/** A fresh libvirtd probes every QEMU binary on its first define (~12 s idle, far more under load). */
const VIRSH_TIMEOUT_MS = 180_000;
const LOCK_TIMEOUT_MS = 300_000;
const LOCK_POLL_MS = 100;
const LOCK_ORPHAN_AGE_MS = 10_000;
const SERIAL_POLL_MS = 100;
const DAEMON_STOP_GRACE_MS = 10_000;
const START_ATTEMPTS = 5;
/**
 * Pace of {@link typeOnDomain}: QEMU queues each send-key (press, 10 ms, release, 10 ms) in an input
 * queue of 50 entries and drops what overflows; one key per 40 ms never lets the queue grow.
 */
const KEY_INTERVAL_MS = 40;

/** How to reach the L0 over SSH, as the remediation manager does. */
export interface L0SshAccess {
  host: string;
  port: number;
  /** {@link L0_USER}: not root, member of group libvirt. */
  user: string;
  /** Private key (OpenSSH format, no passphrase). */
  identityFile: string;
  /** `SHA256:<base64 without padding>` of the sshd's host key: pin it. */
  hostKeyFingerprint: string;
}

/** One running lab domain. */
export interface L0Domain {
  name: string;
  vncHost: string;
  vncPort: number;
  /** The guest's serial port; truncated whenever libvirt starts a new QEMU (start, snapshot-revert). */
  serialLogPath: string;
}

/** Options of {@link startLibvirtL0}. */
export interface LibvirtL0Options {
  /** How many domains to define and boot (in parallel). */
  domains: number;
  /** Time allowed for each guest to write READY on its serial port. */
  bootTimeoutMs?: number;
}

/** A running L0: its domains, how to reach it over SSH, and `stop`. */
export interface LibvirtL0 {
  readonly uri: string;
  readonly ssh: L0SshAccess;
  readonly domains: readonly L0Domain[];
  /** Milliseconds from the call to every domain showing a settled prompt. */
  readonly startupMs: number;
  /** Destroys and undefines the domains (snapshot metadata included), deletes their disks, stops sshd, and the daemons if no one else uses them. */
  stop(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// virsh and small process helpers

/** Runs `virsh -c qemu:///system ARGS` locally (as root) and returns its standard output. */
export async function virsh(args: readonly string[], timeoutMs = VIRSH_TIMEOUT_MS): Promise<string> {
  const virshPath = requireBinary('virsh');
  const { stdout } = await runCommand(virshPath, ['-c', L0_URI, ...args], { timeoutMs, env: { ...process.env, LC_ALL: 'C' } });
  return stdout;
}

function requireBinary(name: string): string {
  const found = findExecutable(name);
  if (found === undefined) throw new Error(`${name} not found: ${L0_INSTALL_HINT}`);
  return found;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** True while a process exists and is not a zombie (a daemon reparented to an init that has not reaped it yet). */
function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/s.test(stat);
  } catch {
    return false;
  }
}

function processCommandLine(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((part) => part !== '');
  } catch {
    return [];
  }
}

function readPidFile(filePath: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(filePath, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** True when something accepts connections on a unix socket. */
function unixSocketAnswers(socketPath: string): Promise<boolean> {
  if (!existsSync(socketPath)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const socket = net.connect(socketPath);
    socket.setTimeout(2000, () => socket.destroy());
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('close', () => resolve(false));
  });
}

async function waitFor(condition: () => Promise<boolean> | boolean, timeoutMs: number, pollMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(what());
    await sleep(pollMs);
  }
}

async function stopPid(pid: number, label: string): Promise<void> {
  const signal = (name: NodeJS.Signals): void => {
    try {
      process.kill(pid, name);
    } catch {
      // It exited in the meantime.
    }
  };
  if (!isProcessAlive(pid)) return;
  signal('SIGTERM');
  try {
    await waitFor(() => !isProcessAlive(pid), DAEMON_STOP_GRACE_MS, 50, () => `${label} (pid ${pid}) did not exit on SIGTERM`);
  } catch {
    signal('SIGKILL');
    await waitFor(() => !isProcessAlive(pid), 5000, 50, () => `${label} (pid ${pid}) survived SIGKILL`);
  }
}

// ---------------------------------------------------------------------------------------------
// The machine-wide lock: in this process a promise chain, across processes a directory (mkdir is atomic).

let lockChain: Promise<unknown> = Promise.resolve();

function withL0Lock<T>(work: () => Promise<T>): Promise<T> {
  const run = lockChain.then(async () => {
    await acquireLockDir();
    try {
      return await work();
    } finally {
      rmSync(LOCK_DIR, { recursive: true, force: true });
    }
  });
  lockChain = run.catch(() => undefined);
  return run;
}

async function acquireLockDir(): Promise<void> {
  await mkdir(STATE_DIR, { recursive: true, mode: 0o755 });
  const deadline = Date.now() + LOCK_TIMEOUT_MS;
  for (;;) {
    try {
      await mkdir(LOCK_DIR);
      await writeFile(path.join(LOCK_DIR, 'pid'), `${process.pid}\n`);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = readPidFile(path.join(LOCK_DIR, 'pid'));
    // A holder that died (or never wrote its pid) leaves the lock behind: take it over.
    const orphaned = holder === undefined ? lockAgeMs() > LOCK_ORPHAN_AGE_MS : !isProcessAlive(holder);
    if (orphaned) {
      rmSync(LOCK_DIR, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`the L0 lock ${LOCK_DIR} is held by pid ${holder ?? '?'} for more than ${LOCK_TIMEOUT_MS} ms`);
    await sleep(LOCK_POLL_MS);
  }
}

function lockAgeMs(): number {
  try {
    return Date.now() - statSync(LOCK_DIR).mtimeMs;
  } catch {
    return 0;
  }
}

// ---------------------------------------------------------------------------------------------
// Who uses the daemons: one file per L0 handle, named <pid>-<sequence>.

let userSequence = 0;

async function registerUser(): Promise<string> {
  await mkdir(USERS_DIR, { recursive: true });
  userSequence += 1;
  const token = `${process.pid}-${userSequence}`;
  await writeFile(path.join(USERS_DIR, token), '');
  return token;
}

/** Tokens of live processes, other than `except`; tokens of dead processes are removed. */
function liveUsers(except?: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(USERS_DIR);
  } catch {
    return [];
  }
  return entries.filter((token) => {
    if (token === except) return false;
    const pid = Number.parseInt(token.split('-')[0] ?? '', 10);
    if (isProcessAlive(pid)) return true;
    rmSync(path.join(USERS_DIR, token), { force: true });
    return false;
  });
}

// ---------------------------------------------------------------------------------------------
// The user that logs in over SSH

/** Creates (or repairs) {@link L0_USER}: no home (home `/`, so sshd has somewhere to chdir), shell /bin/sh, group libvirt, unlocked but password-less. */
async function ensureL0User(): Promise<void> {
  const libvirtGroup = await runCommand('getent', ['group', 'libvirt']).catch(() => undefined);
  if (libvirtGroup === undefined) throw new Error(`the group libvirt does not exist (libvirt-daemon-system creates it): ${L0_INSTALL_HINT}`);
  const passwdEntry = await runCommand('getent', ['passwd', L0_USER]).catch(() => undefined);
  if (passwdEntry === undefined) {
    await runCommand(requireBinary('useradd'), ['-M', '-d', '/', '-s', '/bin/sh', '-G', 'libvirt', L0_USER]);
  } else {
    const fields = passwdEntry.stdout.trim().split(':');
    const groups = (await runCommand('id', ['-nG', L0_USER])).stdout.trim().split(/\s+/);
    const changes = [
      ...(fields[5] === '/' ? [] : ['-d', '/']),
      ...(fields[6] === '/bin/sh' ? [] : ['-s', '/bin/sh']),
      ...(groups.includes('libvirt') ? [] : ['-a', '-G', 'libvirt']),
    ];
    if (changes.length > 0) await runCommand(requireBinary('usermod'), [...changes, L0_USER]);
  }
  // With UsePAM off sshd refuses a locked account ('!'); '*' matches no password yet is not locked.
  const shadowEntry = await runCommand('getent', ['shadow', L0_USER]);
  if (shadowEntry.stdout.split(':')[1] !== '*') await runCommand(requireBinary('usermod'), ['-p', '*', L0_USER]);
}

// ---------------------------------------------------------------------------------------------
// The daemons

/**
 * Gives /dev/kvm the owner and mode udev gives it (root:kvm 0660). Without udev (a container) it is
 * root-only: QEMU probed by libvirtd sees KVM, the qemu user (libvirt-qemu, group kvm) cannot use
 * it, so libvirtd deems its capability cache stale and re-probes QEMU on every call (a define then
 * takes 4 s idle, 50 s under load). The domains still run TCG. /dev is rebuilt at boot: done each start.
 */
async function prepareKvmDevice(): Promise<void> {
  if (!existsSync('/dev/kvm')) return;
  const kvmGroup = await runCommand('getent', ['group', 'kvm']).catch(() => undefined);
  const kvmGid = Number(kvmGroup?.stdout.split(':')[2]);
  if (!Number.isInteger(kvmGid)) return;
  const device = statSync('/dev/kvm');
  if (device.gid !== kvmGid) chownSync('/dev/kvm', device.uid, kvmGid);
  if ((device.mode & 0o060) !== 0o060) chmodSync('/dev/kvm', (device.mode & 0o777) | 0o060);
}

interface DaemonRecord {
  libvirtdPid: number;
  /** Undefined when a virtlogd was already running (not ours to stop). */
  virtlogdPid?: number;
}

function readDaemonRecord(): DaemonRecord | undefined {
  try {
    const value = JSON.parse(readFileSync(DAEMONS_FILE, 'utf8')) as Partial<DaemonRecord>;
    if (typeof value.libvirtdPid !== 'number') return undefined;
    return { libvirtdPid: value.libvirtdPid, ...(typeof value.virtlogdPid === 'number' ? { virtlogdPid: value.virtlogdPid } : {}) };
  } catch {
    return undefined;
  }
}

/** True when the recorded libvirtd is alive and is the one the lab started (its command line names our config). */
function labDaemonRunning(record: DaemonRecord | undefined): boolean {
  return record !== undefined && isProcessAlive(record.libvirtdPid) && processCommandLine(record.libvirtdPid).includes(LIBVIRTD_CONFIG);
}

/**
 * Makes sure a libvirtd serves qemu:///system to group libvirt without polkit: reuses the lab's
 * own, reuses a foreign one only if the L0 user can use it, otherwise starts virtlogd and libvirtd.
 */
async function ensureDaemons(): Promise<void> {
  const record = readDaemonRecord();
  if (labDaemonRunning(record)) return;
  const modular = await unixSocketAnswers(VIRTQEMUD_SOCKET);
  if (modular || (await unixSocketAnswers(LIBVIRT_SOCKET))) {
    // Someone else's daemon (a developer's systemd service): usable only if group libvirt gets in.
    const runuserPath = requireBinary('runuser');
    const virshPath = requireBinary('virsh');
    try {
      await runCommand(runuserPath, ['-u', L0_USER, '--', virshPath, '-c', L0_URI, 'list', '--all', '--name'], { timeoutMs: 30_000 });
      return;
    } catch (error) {
      const pid = readPidFile(LIBVIRTD_PID_FILE);
      throw new Error(
        `a libvirt daemon that the lab did not start is running (${modular ? 'virtqemud' : `libvirtd${pid === undefined ? '' : ` pid ${pid}`}`}) and ` +
          `refuses ${L0_USER} (group libvirt) without polkit: stop it (e.g. \`systemctl stop libvirtd libvirtd.socket libvirtd-ro.socket libvirtd-admin.socket\`) ` +
          `so the lab can start its own, or let group libvirt in (unix_sock_group="libvirt", unix_sock_rw_perms="0770", auth_unix_rw="none"). ` +
          `virsh said: ${errorText(error)}`,
        { cause: error },
      );
    }
  }

  const libvirtdPath = requireBinary('libvirtd');
  const virtlogdPath = requireBinary('virtlogd');
  await mkdir(STATE_DIR, { recursive: true, mode: 0o755 });
  // Without polkit (no system bus here) group libvirt is let in by the socket's permissions alone.
  await writeFile(
    LIBVIRTD_CONFIG,
    [
      'unix_sock_group = "libvirt"',
      'unix_sock_ro_perms = "0777"',
      'unix_sock_rw_perms = "0770"',
      'auth_unix_ro = "none"',
      'auth_unix_rw = "none"',
      `log_outputs = "3:file:${LIBVIRTD_LOG}"`,
      '',
    ].join('\n'),
  );
  let virtlogdPid: number | undefined;
  // libvirtd hands QEMU's output to virtlogd; nothing socket-activates it without systemd.
  if (!(await unixSocketAnswers(VIRTLOGD_SOCKET))) {
    // -d returns once the daemon is listening (it waits for the child's status): no polling needed.
    await runCommand(virtlogdPath, ['-d'], { timeoutMs: DAEMON_READY_TIMEOUT_MS }).catch((error: unknown) => {
      throw new Error(`virtlogd did not start: ${errorText(error)}`, { cause: error });
    });
    virtlogdPid = readPidFile(VIRTLOGD_PID_FILE);
  }
  const startedAt = Date.now();
  await runCommand(libvirtdPath, ['-d', '-f', LIBVIRTD_CONFIG], { timeoutMs: DAEMON_READY_TIMEOUT_MS }).catch((error: unknown) => {
    const log = existsSync(LIBVIRTD_LOG) ? tail(readFileSync(LIBVIRTD_LOG, 'utf8'), 1500) : '';
    throw new Error(`libvirtd did not start: ${errorText(error)}${log === '' ? '' : `; ${LIBVIRTD_LOG} ends with:\n${log}`}`, { cause: error });
  });
  const libvirtdPid = readPidFile(LIBVIRTD_PID_FILE);
  if (libvirtdPid === undefined) throw new Error(`libvirtd started but wrote no ${LIBVIRTD_PID_FILE}`);
  await writeFile(DAEMONS_FILE, `${JSON.stringify({ libvirtdPid, ...(virtlogdPid === undefined ? {} : { virtlogdPid }) })}\n`);
  await waitFor(() => unixSocketAnswers(LIBVIRT_SOCKET), DAEMON_READY_TIMEOUT_MS - (Date.now() - startedAt), 50, () => `libvirtd (pid ${libvirtdPid}) does not answer on ${LIBVIRT_SOCKET}`);
}

/** Stops the daemons the lab started, once no live process uses the L0 any more. Called under the lock. */
async function stopDaemonsIfUnused(): Promise<void> {
  if (liveUsers().length > 0) return;
  const record = readDaemonRecord();
  if (record === undefined) return;
  if (labDaemonRunning(record)) await stopPid(record.libvirtdPid, 'libvirtd');
  if (record.virtlogdPid !== undefined && processCommandLine(record.virtlogdPid)[0]?.endsWith('virtlogd') === true) {
    await stopPid(record.virtlogdPid, 'virtlogd');
  }
  rmSync(DAEMONS_FILE, { force: true });
}

// ---------------------------------------------------------------------------------------------
// Domains

function xmlEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&apos;').replace(/"/g, '&quot;');
}

interface DomainFiles {
  kernelPath: string;
  initrdPath: string;
  diskPath: string;
  serialLogPath: string;
}

/**
 * The domain: the plain lab VM's guest and kernel command line (so every domain's screen is the
 * same), std VGA (720x400 text) and ACPI as QEMU's own defaults, plus a qcow2 disk that internal
 * snapshots store the memory state in. QEMU runs as root without relabelling, so the files may live
 * anywhere (a checkout under /root included) and the shared kernel is never chowned.
 */
function domainXml(name: string, files: DomainFiles, vncPort: number, emulatorPath: string): string {
  return `<domain type='qemu'>
  <name>${xmlEscape(name)}</name>
  <memory unit='MiB'>${DOMAIN_MEMORY_MIB}</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>${xmlEscape(files.kernelPath)}</kernel>
    <initrd>${xmlEscape(files.initrdPath)}</initrd>
    <cmdline>${GUEST_CMDLINE}</cmdline>
  </os>
  <features><acpi/><apic/></features>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>${xmlEscape(emulatorPath)}</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='${xmlEscape(files.diskPath)}'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <controller type='usb' model='none'/>
    <serial type='file'>
      <source path='${xmlEscape(files.serialLogPath)}'/>
      <target port='0'/>
    </serial>
    <graphics type='vnc' port='${vncPort}' autoport='no' listen='${LOOPBACK_HOST}'/>
    <video><model type='vga'/></video>
    <memballoon model='none'/>
  </devices>
  <seclabel type='static' model='dac' relabel='no'><label>+0:+0</label></seclabel>
</domain>
`;
}

const reservedVncPorts = new Set<number>();

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ host: LOOPBACK_HOST, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

async function pickVncPort(): Promise<number> {
  const { low, high } = DOMAIN_VNC_DISPLAYS;
  const start = low + Math.floor(Math.random() * (high - low));
  for (let offset = 0; offset < high - low; offset++) {
    const port = VNC_DISPLAY_PORT_BASE + low + ((start - low + offset) % (high - low));
    if (!reservedVncPorts.has(port) && (await canListen(port))) {
      reservedVncPorts.add(port);
      return port;
    }
  }
  throw new Error(`no free VNC port for a domain in ${VNC_DISPLAY_PORT_BASE + low}..${VNC_DISPLAY_PORT_BASE + high - 1}`);
}

/** Defines and starts one domain; a VNC port taken by another process between the check and QEMU's bind is picked again. */
async function defineAndStart(name: string, files: DomainFiles, runDir: string, emulatorPath: string): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const vncPort = await pickVncPort();
    const xmlPath = path.join(runDir, `${name}.xml`);
    await writeFile(xmlPath, domainXml(name, files, vncPort, emulatorPath));
    await virsh(['define', xmlPath]);
    try {
      await virsh(['start', name]);
      return vncPort;
    } catch (error) {
      reservedVncPorts.delete(vncPort);
      await virsh(['undefine', '--snapshots-metadata', name]).catch(() => undefined);
      if (!/address already in use|failed to bind|failed to start vnc server/i.test(errorText(error)) || attempt >= START_ATTEMPTS) {
        throw new Error(`could not start the domain ${name}: ${errorText(error)}${qemuLogTail(name)}`, { cause: error });
      }
    }
  }
}

function qemuLogTail(name: string): string {
  const logPath = path.join(QEMU_DOMAIN_LOG_DIR, `${name}.log`);
  if (!existsSync(logPath)) return '';
  return `; ${logPath} ends with:\n${tail(readFileSync(logPath, 'utf8'), 1200)}`;
}

async function waitForVncPort(port: number, timeoutMs: number, what: string): Promise<void> {
  await waitFor(
    () =>
      new Promise<boolean>((resolve) => {
        const socket = net.connect({ host: LOOPBACK_HOST, port });
        socket.setTimeout(1000, () => socket.destroy());
        socket.once('connect', () => {
          socket.destroy();
          resolve(true);
        });
        socket.once('error', () => resolve(false));
        socket.once('close', () => resolve(false));
      }),
    timeoutMs,
    50,
    () => `${what} did not accept connections on ${LOOPBACK_HOST}:${port} within ${timeoutMs} ms`,
  );
}

/** Waits for READY on the serial port, then for a settled, non-blank screen (the prompt). */
async function waitForGuest(domain: L0Domain, bootTimeoutMs: number): Promise<void> {
  const label = `the domain ${domain.name}`;
  try {
    await waitForVncPort(domain.vncPort, 30_000, label);
    await waitForSerialText(domain.serialLogPath, 'READY', bootTimeoutMs, label);
    await waitForStableFramebuffer(
      { host: domain.vncHost, port: domain.vncPort },
      { quietMs: 500, timeoutMs: DOMAIN_PROMPT_TIMEOUT_MS, accept: (framebuffer) => !isUniformFramebuffer(framebuffer) },
    );
  } catch (error) {
    const state = await virsh(['domstate', domain.name], 10_000).then(
      (output) => output.trim(),
      () => 'unknown',
    );
    throw new Error(`${errorText(error)} (domain state: ${state})${qemuLogTail(domain.name)}`, { cause: error });
  }
}

async function waitForSerialText(serialLogPath: string, text: string, timeoutMs: number, label: string): Promise<string> {
  let content = '';
  await waitFor(
    async () => {
      content = existsSync(serialLogPath) ? await readFile(serialLogPath, 'utf8') : '';
      return content.includes(text);
    },
    timeoutMs,
    SERIAL_POLL_MS,
    () => `${label} did not write ${JSON.stringify(text)} to its serial port within ${timeoutMs} ms; ${serialLogPath} ${content === '' ? 'is empty' : `ends with:\n${tail(content, 800)}`}`,
  );
  return content;
}

/** Destroys (if running) and undefines a domain with its snapshots' metadata, and removes libvirt's log of it. */
async function removeDomain(name: string): Promise<void> {
  await virsh(['destroy', name], 60_000).catch(() => undefined);
  await virsh(['undefine', '--snapshots-metadata', name], 60_000).catch((error: unknown) => {
    if (!/failed to get domain|domain not found/i.test(errorText(error))) throw error;
  });
  rmSync(path.join(QEMU_DOMAIN_LOG_DIR, `${name}.log`), { force: true });
}

/** Removes the domains (and their run folders) left by lab processes that died without stopping them. Called under the lock. */
async function removeOrphanDomains(): Promise<void> {
  const names = (await virsh(['list', '--all', '--name'])).split('\n').map((line) => line.trim());
  for (const name of names) {
    const match = /^rv-lab-(\d+)-\d+$/.exec(name);
    if (match === null || isProcessAlive(Number(match[1]))) continue;
    const xml = await virsh(['dumpxml', name]).catch(() => '');
    await removeDomain(name);
    const diskPath = /<source file='([^']+)'/.exec(xml)?.[1];
    if (diskPath !== undefined && /^l0-\d+-/.test(path.basename(path.dirname(diskPath)))) {
      rmSync(path.dirname(diskPath), { recursive: true, force: true });
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Last-resort clean-up when Node exits without stopping an L0 (a crash, an interrupt).

interface LiveL0 {
  domainNames: string[];
  runDir: string;
  token: string;
}

const liveL0s = new Set<LiveL0>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    const virshPath = findExecutable('virsh');
    for (const l0 of liveL0s) {
      if (virshPath !== undefined && l0.domainNames.length > 0) {
        // One virsh reading every command from stdin: an exit hook must be synchronous and short.
        const commands = l0.domainNames.map((name) => `destroy ${name}\nundefine --snapshots-metadata ${name}\n`).join('');
        spawnSync(virshPath, ['-c', L0_URI], { input: commands, stdio: ['pipe', 'ignore', 'ignore'], timeout: 30_000 });
        for (const name of l0.domainNames) rmSync(path.join(QEMU_DOMAIN_LOG_DIR, `${name}.log`), { force: true });
      }
      rmSync(l0.runDir, { recursive: true, force: true });
      try {
        unlinkSync(path.join(USERS_DIR, l0.token));
      } catch {
        // Already gone.
      }
    }
    liveL0s.clear();
  });
}

// ---------------------------------------------------------------------------------------------
// The L0

let domainCounter = 0;

/**
 * Starts (or joins) libvirtd, makes sure {@link L0_USER} exists, starts a loopback sshd that lets
 * that user in with a generated key, then defines and boots `domains` domains in parallel and
 * resolves once each has written READY on its serial port and shows a settled prompt.
 */
export async function startLibvirtL0(options: LibvirtL0Options): Promise<LibvirtL0> {
  const startedAt = Date.now();
  if (process.getuid?.() !== 0) {
    throw new Error('the L0 lab needs root (it creates a user and starts libvirtd): run the tests as root, as CI does');
  }
  for (const binary of ['libvirtd', 'virtlogd', 'virsh', 'qemu-img', 'runuser']) requireBinary(binary);
  const emulatorPath = requireBinary('qemu-system-x86_64');
  const qemuImgPath = requireBinary('qemu-img');
  const bootTimeoutMs = options.bootTimeoutMs ?? DOMAIN_BOOT_TIMEOUT_MS;
  installExitHook();

  const assetsReady = ensureVmAssets();
  // Awaited after the lock; a failure meanwhile must not count as an unhandled rejection.
  assetsReady.catch(() => undefined);
  const token = await withL0Lock(async () => {
    await ensureL0User();
    await prepareKvmDevice();
    const registered = await registerUser();
    try {
      await ensureDaemons();
      await removeOrphanDomains();
    } catch (error) {
      rmSync(path.join(USERS_DIR, registered), { force: true });
      throw error;
    }
    return registered;
  });

  await mkdir(LAB_RUN_DIR, { recursive: true });
  const runDir = await mkdtemp(path.join(LAB_RUN_DIR, `l0-${process.pid}-`));
  const live: LiveL0 = { domainNames: [], runDir, token };
  liveL0s.add(live);
  let sshd: SshdHandle | undefined;
  const domains: L0Domain[] = [];

  const release = async (): Promise<void> => {
    await Promise.allSettled(live.domainNames.map((name) => removeDomain(name)));
    for (const domain of domains) reservedVncPorts.delete(domain.vncPort);
    live.domainNames = [];
    await sshd?.stop();
    await rm(runDir, { recursive: true, force: true });
    liveL0s.delete(live);
    await withL0Lock(async () => {
      rmSync(path.join(USERS_DIR, token), { force: true });
      await stopDaemonsIfUnused();
    });
  };

  try {
    const [assets, startedSshd] = await Promise.all([assetsReady, startSshd({ user: L0_USER })]);
    sshd = startedSshd;
    // Numbered across the process, so a second L0 in the same process never redefines the first one's domains.
    const names = Array.from({ length: options.domains }, () => `${L0_DOMAIN_PREFIX}${process.pid}-${++domainCounter}`);
    const starts = names.map(async (name, index) => {
      const files: DomainFiles = {
        kernelPath: assets.kernelPath,
        initrdPath: assets.initrdPath,
        diskPath: path.join(runDir, `${name}.qcow2`),
        serialLogPath: path.join(runDir, `${name}.serial.log`),
      };
      await runCommand(qemuImgPath, ['create', '-q', '-f', 'qcow2', files.diskPath, DOMAIN_DISK_SIZE]);
      live.domainNames.push(name);
      const vncPort = await defineAndStart(name, files, runDir, emulatorPath);
      const domain: L0Domain = { name, vncHost: LOOPBACK_HOST, vncPort, serialLogPath: files.serialLogPath };
      domains[index] = domain;
      await waitForGuest(domain, bootTimeoutMs);
    });
    const results = await Promise.allSettled(starts);
    const errors = results.flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []));
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, `the L0 failed to start: ${errors.map(errorText).join(' | ')}`);
  } catch (error) {
    await release().catch(() => undefined);
    throw error;
  }

  const ssh: L0SshAccess = {
    host: sshd.host,
    port: sshd.port,
    user: sshd.user,
    identityFile: sshd.identityFile,
    hostKeyFingerprint: sshd.hostKeyFingerprint,
  };
  const startupMs = Date.now() - startedAt;
  let stopping: Promise<void> | undefined;
  return {
    uri: L0_URI,
    ssh,
    domains,
    startupMs,
    stop() {
      stopping ??= release();
      return stopping;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Out-of-band access to one domain (the tests make one replica diverge)

/** Linux input key names (`virsh send-key`'s default codeset) of unshifted characters, US layout. */
const LINUX_KEY_NAMES: Readonly<Record<string, string>> = {
  ' ': 'KEY_SPACE',
  '\n': 'KEY_ENTER',
  '\t': 'KEY_TAB',
  '\b': 'KEY_BACKSPACE',
  '-': 'KEY_MINUS',
  '=': 'KEY_EQUAL',
  '[': 'KEY_LEFTBRACE',
  ']': 'KEY_RIGHTBRACE',
  ';': 'KEY_SEMICOLON',
  "'": 'KEY_APOSTROPHE',
  '`': 'KEY_GRAVE',
  '\\': 'KEY_BACKSLASH',
  ',': 'KEY_COMMA',
  '.': 'KEY_DOT',
  '/': 'KEY_SLASH',
};

/** Shifted characters: the unshifted character on the same key. */
const SHIFTED_CHARACTERS: Readonly<Record<string, string>> = {
  '!': '1',
  '@': '2',
  '#': '3',
  $: '4',
  '%': '5',
  '^': '6',
  '&': '7',
  '*': '8',
  '(': '9',
  ')': '0',
  _: '-',
  '+': '=',
  '{': '[',
  '}': ']',
  ':': ';',
  '"': "'",
  '~': '`',
  '|': '\\',
  '<': ',',
  '>': '.',
  '?': '/',
};

/**
 * The keys `virsh send-key` presses together to type `character` on a US keyboard: Shift is an
 * explicit key (the guest sees key codes, never characters, so `(` is Shift+9).
 */
export function linuxKeyNames(character: string): string[] {
  if (/^[a-z]$/.test(character)) return [`KEY_${character.toUpperCase()}`];
  if (/^[A-Z]$/.test(character)) return ['KEY_LEFTSHIFT', `KEY_${character}`];
  if (/^[0-9]$/.test(character)) return [`KEY_${character}`];
  const plain = LINUX_KEY_NAMES[character];
  if (plain !== undefined) return [plain];
  const unshifted = SHIFTED_CHARACTERS[character];
  const base = unshifted === undefined ? undefined : /^[0-9]$/.test(unshifted) ? `KEY_${unshifted}` : LINUX_KEY_NAMES[unshifted];
  if (base === undefined) throw new Error(`typeOnDomain cannot type ${JSON.stringify(character)}: add its Linux key name to LINUX_KEY_NAMES`);
  return ['KEY_LEFTSHIFT', base];
}

/**
 * Types text on one domain's console out of band, through libvirt (`virsh send-key`, one character
 * at a time, paced), not through any VNC client: the way to make one replica diverge.
 */
export async function typeOnDomain(name: string, text: string): Promise<void> {
  const keys = [...text].map(linuxKeyNames);
  let lastKeyAt = 0;
  for (const chord of keys) {
    const waitMs = lastKeyAt + KEY_INTERVAL_MS - Date.now();
    if (waitMs > 0) await sleep(waitMs);
    lastKeyAt = Date.now();
    await virsh(['send-key', name, ...chord], 30_000);
  }
}

/** The serial log path of a domain, read from its definition (so a description's name is enough). */
export async function domainSerialLogPath(name: string): Promise<string> {
  const xml = await virsh(['dumpxml', '--inactive', name], 30_000);
  const serial = /<serial type='file'>\s*<source path='([^']+)'/.exec(xml)?.[1];
  if (serial === undefined) throw new Error(`the domain ${name} has no file-backed serial port`);
  return serial.replace(/&apos;/g, "'").replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** What the domain's guest wrote on its serial port since its QEMU process started (a revert starts a new one). */
export async function domainSerialLog(name: string): Promise<string> {
  const serialLogPath = await domainSerialLogPath(name);
  return existsSync(serialLogPath) ? readFile(serialLogPath, 'utf8') : '';
}

/** Waits until the domain's serial log contains `text` and returns the log; the error names the log and its tail. */
export async function waitForDomainSerial(name: string, text: string, timeoutMs: number): Promise<string> {
  return waitForSerialText(await domainSerialLogPath(name), text, timeoutMs, `the domain ${name}`);
}
