// Builds and caches the lab VM's boot assets (a Debian kernel and a busybox initramfs) in .lab/cache/vm/.
// Runs in Node during lab set-up; also a script: `node --import tsx tests/lab/vm-assets.ts` (prints the paths).

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The repository root (two levels above this file). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Where the lab keeps caches and per-run state (gitignored); RETROVISOR_LAB_DIR overrides it. */
export const LAB_DIR = process.env.RETROVISOR_LAB_DIR ?? path.join(REPO_ROOT, '.lab');
/** Where the kernel and initramfs are cached. */
export const VM_CACHE_DIR = path.join(LAB_DIR, 'cache', 'vm');

/** The install command printed when a tool the VM assets need is missing. */
const VM_TOOLS_INSTALL_HINT =
  'run `npm run lab:install` (or: apt-get install -y --no-install-recommends qemu-system-x86 qemu-utils busybox-static cpio)';

const KERNEL_FILE_NAME = 'vmlinuz';
const KERNEL_PACKAGE_FILE_NAME = 'vmlinuz.package';
const APT_TIMEOUT_MS = 10 * 60_000;
const LOCAL_COMMAND_TIMEOUT_MS = 60_000;

/**
 * The guest's /init, exactly as LAB.md describes: mount the pseudo file systems, quiet the kernel,
 * clear tty1 and hide its cursor (a blinking cursor makes frames alternate), announce READY on the
 * serial port, then hand tty1 to an interactive shell with a controlling terminal.
 */
export const INIT_SCRIPT = `#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo 1 > /proc/sys/kernel/printk
printf '\\033[2J\\033[H\\033[?25l' > /dev/tty1
echo READY > /dev/ttyS0
exec setsid -c sh -i </dev/tty1 >/dev/tty1 2>&1
`;

/** Paths of the cached boot assets, ready for `qemu-system-x86_64 -kernel … -initrd …`. */
export interface VmAssets {
  kernelPath: string;
  initrdPath: string;
  /** The Debian package the kernel came from, e.g. linux-image-6.1.0-56-amd64. */
  kernelPackage: string;
}

/** Result of a finished command. */
export interface CommandResult {
  stdout: string;
  stderr: string;
}

/** Options of {@link runCommand}. */
export interface RunCommandOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string;
  timeoutMs?: number;
}

/**
 * Runs a command to completion with a bounded time; rejects with the command line, exit status and
 * the tail of stderr when it fails, times out or cannot be started.
 */
export function runCommand(command: string, args: readonly string[], options: RunCommandOptions = {}): Promise<CommandResult> {
  const timeoutMs = options.timeoutMs ?? LOCAL_COMMAND_TIMEOUT_MS;
  const commandLine = [command, ...args].join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
    if (options.input !== undefined) child.stdin?.end(options.input);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot run \`${commandLine}\`: ${error.message}`, { cause: error }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const result = { stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') };
      if (code === 0) {
        resolve(result);
        return;
      }
      const why = timedOut ? `timed out after ${timeoutMs} ms` : signal !== null ? `killed by ${signal}` : `exited with ${code}`;
      reject(new Error(`\`${commandLine}\` ${why}: ${tail(result.stderr || result.stdout, 2000)}`));
    });
  });
}

/** The last `maxChars` characters of a text, trimmed, for error messages. */
export function tail(text: string, maxChars: number): string {
  const trimmed = text.trim();
  return trimmed.length <= maxChars ? trimmed : `…${trimmed.slice(-maxChars)}`;
}

/**
 * Returns the cached kernel and initramfs, building whichever is missing. Building the kernel
 * downloads one Debian package (apt-get download), so scripts/install-lab-deps.sh calls this ahead
 * of any test run. Safe to call from several processes at once: each builds in its own temporary
 * directory and renames the result into place.
 */
export async function ensureVmAssets(): Promise<VmAssets> {
  await mkdir(VM_CACHE_DIR, { recursive: true });
  const [kernel, initrdPath] = await Promise.all([ensureKernel(), ensureInitrd()]);
  return { kernelPath: kernel.path, kernelPackage: kernel.packageName, initrdPath };
}

async function ensureKernel(): Promise<{ path: string; packageName: string }> {
  const kernelPath = path.join(VM_CACHE_DIR, KERNEL_FILE_NAME);
  const packagePath = path.join(VM_CACHE_DIR, KERNEL_PACKAGE_FILE_NAME);
  if (existsSync(kernelPath)) {
    const packageName = existsSync(packagePath) ? readFileSync(packagePath, 'utf8').trim() : 'unknown';
    return { path: kernelPath, packageName };
  }
  const packageName = await findKernelPackage();
  const workDir = await mkdtemp(path.join(VM_CACHE_DIR, '.tmp-kernel-'));
  try {
    // apt's download sandbox user (_apt) cannot write into a 0700 temp dir; as root, skip the sandbox.
    const sandboxOption = process.getuid?.() === 0 ? ['-o', 'APT::Sandbox::User=root'] : [];
    await runCommand('apt-get', [...sandboxOption, 'download', packageName], { cwd: workDir, timeoutMs: APT_TIMEOUT_MS }).catch(
      (error: unknown) => {
        throw new Error(
          `could not download the kernel package ${packageName} (needs the Debian registry; run \`apt-get update\` first): ${errorMessage(error)}`,
        );
      },
    );
    const debName = (await readdir(workDir)).find((name) => name.endsWith('.deb'));
    if (debName === undefined) throw new Error(`apt-get download ${packageName} produced no .deb in ${workDir}`);
    const debPath = path.join(workDir, debName);
    const extractDir = path.join(workDir, 'extract');
    await mkdir(extractDir);
    await runCommand(
      'bash',
      ['-o', 'pipefail', '-c', 'dpkg-deb --fsys-tarfile "$1" | tar -x -C "$2" --wildcards "./boot/vmlinuz-*"', 'bash', debPath, extractDir],
      { timeoutMs: LOCAL_COMMAND_TIMEOUT_MS },
    );
    const bootDir = path.join(extractDir, 'boot');
    const vmlinuzName = (await readdir(bootDir)).find((name) => name.startsWith('vmlinuz-'));
    if (vmlinuzName === undefined) throw new Error(`${debName} contains no boot/vmlinuz-*`);
    await writeFile(path.join(workDir, KERNEL_PACKAGE_FILE_NAME), `${packageName}\n`);
    // The package stays cached too: later lab features (guest ACPI modules) extract from it offline.
    await rename(debPath, path.join(VM_CACHE_DIR, debName));
    await rename(path.join(workDir, KERNEL_PACKAGE_FILE_NAME), packagePath);
    // The kernel file is the cache marker, so it is renamed into place last.
    await rename(path.join(bootDir, vmlinuzName), kernelPath);
    return { path: kernelPath, packageName };
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

/** The versioned kernel package that the linux-image-amd64 meta-package depends on. */
async function findKernelPackage(): Promise<string> {
  const { stdout } = await runCommand('apt-cache', ['depends', 'linux-image-amd64'], { timeoutMs: LOCAL_COMMAND_TIMEOUT_MS });
  const match = /Depends:\s*(linux-image-[0-9][\w.+~-]*-amd64)\b/.exec(stdout);
  if (match?.[1] === undefined) {
    throw new Error(`\`apt-cache depends linux-image-amd64\` names no linux-image-*-amd64 package (run \`apt-get update\`): ${tail(stdout, 500)}`);
  }
  return match[1];
}

async function ensureInitrd(): Promise<string> {
  // The file name carries a hash of the init script, so editing the script rebuilds the image.
  const key = createHash('sha256').update(INIT_SCRIPT).digest('hex').slice(0, 12);
  const initrdPath = path.join(VM_CACHE_DIR, `initrd-${key}.gz`);
  if (existsSync(initrdPath)) return initrdPath;
  for (const tool of ['cpio', 'gzip']) {
    if (findExecutable(tool) === undefined) throw new Error(`${tool} not found: ${VM_TOOLS_INSTALL_HINT}`);
  }
  const busyboxPath = findStaticBusybox();
  const workDir = await mkdtemp(path.join(VM_CACHE_DIR, '.tmp-initrd-'));
  try {
    const rootDir = path.join(workDir, 'root');
    for (const dir of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'proc', 'sys', 'dev', 'tmp', 'root', 'etc']) {
      await mkdir(path.join(rootDir, dir), { recursive: true });
    }
    await copyFile(busyboxPath, path.join(rootDir, 'bin', 'busybox'));
    await chmod(path.join(rootDir, 'bin', 'busybox'), 0o755);
    // Applet links are made here rather than by `busybox --install` in the guest, which needs /proc first.
    const { stdout } = await runCommand(busyboxPath, ['--list-full']);
    for (const applet of stdout.split('\n').map((line) => line.trim())) {
      if (applet === '' || applet === 'bin/busybox' || applet.includes('..')) continue;
      const linkPath = path.join(rootDir, applet);
      await mkdir(path.dirname(linkPath), { recursive: true });
      if (!existsSync(linkPath)) await symlink('/bin/busybox', linkPath);
    }
    await writeFile(path.join(rootDir, 'init'), INIT_SCRIPT, { mode: 0o755 });
    const partialPath = path.join(workDir, 'initrd.gz');
    await runCommand(
      'bash',
      ['-o', 'pipefail', '-c', 'cd "$1" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -9 > "$2"', 'bash', rootDir, partialPath],
      { timeoutMs: LOCAL_COMMAND_TIMEOUT_MS },
    );
    await rename(partialPath, initrdPath);
    return initrdPath;
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

/** Finds busybox and checks it is statically linked: the initramfs has no shared libraries. */
function findStaticBusybox(): string {
  const candidates = ['/bin/busybox', '/usr/bin/busybox'];
  const found = candidates.find((candidate) => existsSync(candidate));
  if (found === undefined) throw new Error(`busybox not found: ${VM_TOOLS_INSTALL_HINT}`);
  if (hasElfInterpreter(readFileSync(found))) {
    throw new Error(`${found} is dynamically linked; the VM needs busybox-static: ${VM_TOOLS_INSTALL_HINT}`);
  }
  return found;
}

/** True when a 64-bit little-endian ELF file has a PT_INTERP program header (a dynamic executable). */
function hasElfInterpreter(elf: Buffer): boolean {
  const ELF_CLASS_64 = 2;
  const PT_INTERP = 3;
  if (elf.length < 64 || elf.readUInt32BE(0) !== 0x7f454c46 || elf[4] !== ELF_CLASS_64) return false;
  const programHeaderOffset = Number(elf.readBigUInt64LE(0x20));
  const programHeaderSize = elf.readUInt16LE(0x36);
  const programHeaderCount = elf.readUInt16LE(0x38);
  for (let index = 0; index < programHeaderCount; index++) {
    const offset = programHeaderOffset + index * programHeaderSize;
    if (offset + 4 > elf.length) return false;
    if (elf.readUInt32LE(offset) === PT_INTERP) return true;
  }
  return false;
}

/** Looks a command up in PATH and the sbin directories (absent from a normal user's PATH). */
export function findExecutable(name: string): string | undefined {
  const searchDirs = [...(process.env.PATH ?? '').split(':').filter((dir) => dir !== ''), '/usr/sbin', '/sbin'];
  for (const dir of searchDirs) {
    const candidate = path.join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const invokedAsScript = process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href;
if (invokedAsScript) {
  const startedAt = Date.now();
  ensureVmAssets().then(
    (assets) => {
      console.log(`VM assets ready in ${Date.now() - startedAt} ms:`);
      console.log(`  kernel  ${assets.kernelPath} (${assets.kernelPackage})`);
      console.log(`  initrd  ${assets.initrdPath}`);
    },
    (error: unknown) => {
      console.error(`vm-assets: ${errorMessage(error)}`);
      process.exitCode = 1;
    },
  );
}
