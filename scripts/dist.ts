// `npm run dist`: builds dist/, then packs the app with electron-builder for Linux. The unpacked app
// (the `dir` target) is always built, offline too; AppImage, deb and tar.gz only where electron-builder
// can download the tools it fetches on first use. Says which targets were built and which were skipped,
// and why. Usage: npm run dist [-- --if-stale] [-- -c.electronDist=DIR] [-- -c.KEY=VALUE ...]
// Runs in Node (through tsx).

import { spawn } from 'node:child_process';
import { lookup } from 'node:dns/promises';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { findElectronRuntime } from '../main/electron-runtime';

const root = resolve(import.meta.dirname, '..');
/** Targets whose tools electron-builder downloads on first use (from GitHub, or its binaries mirror). */
const DOWNLOADED_TARGETS = ['AppImage', 'deb', 'tar.gz'] as const;
/** How long the reachability check of the download host may take before the host counts as unreachable. */
const PROBE_TIMEOUT_MS = 5000;
/** Error codes that mean "no network to the download host", not a packaging bug. */
const NETWORK_ERROR = /\b(ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|getaddrinfo|socket hang up)\b/;

interface Outcome {
  readonly target: string;
  readonly result: 'built' | 'skipped' | 'failed';
  readonly why?: string;
}

function run(command: string, args: readonly string[]): Promise<{ status: number; output: string }> {
  return new Promise((resolveRun) => {
    const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer): void => {
      output += chunk.toString();
      process.stderr.write(chunk);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (error) => resolveRun({ status: 1, output: `${output}\n${error.message}` }));
    child.on('exit', (code) => resolveRun({ status: code ?? 1, output }));
  });
}

/** The host electron-builder downloads its tools from (its binaries mirror when one is set). */
function downloadHost(env: NodeJS.ProcessEnv): string {
  const mirror = env.ELECTRON_BUILDER_BINARIES_MIRROR ?? env.NPM_CONFIG_ELECTRON_BUILDER_BINARIES_MIRROR ?? env.npm_config_electron_builder_binaries_mirror;
  if (mirror !== undefined && mirror.trim() !== '') {
    try {
      return new URL(mirror.trim()).hostname;
    } catch {
      return 'github.com';
    }
  }
  return 'github.com';
}

/** Null when the host's name resolves in time; else why not (the DNS error code, or a timeout). */
async function unreachable(host: string): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolveTimeout) => {
    timer = setTimeout(() => resolveTimeout(`${host} did not answer within ${PROBE_TIMEOUT_MS / 1000} s`), PROBE_TIMEOUT_MS);
  });
  const probe = lookup(host).then(
    () => null,
    (error: NodeJS.ErrnoException) => `${host}: ${error.code ?? error.message}`,
  );
  try {
    return await Promise.race([probe, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The first line of electron-builder's output naming a network error, for the summary. */
function networkReason(output: string): string | null {
  const line = output.split('\n').find((text) => NETWORK_ERROR.test(text));
  return line === undefined ? null : line.trim().slice(0, 200);
}

/** The value of `-c.electronDist=DIR` among the arguments, if given. */
function electronDistArgument(args: readonly string[]): string | undefined {
  const found = args.find((arg) => arg.startsWith('-c.electronDist='));
  return found === undefined ? undefined : found.slice('-c.electronDist='.length);
}

/** The output folder electron-builder writes to (`-c.directories.output=DIR`, else release/). */
function outputFolder(args: readonly string[]): string {
  const found = args.find((arg) => arg.startsWith('-c.directories.output='));
  return resolve(root, found === undefined ? 'release' : found.slice('-c.directories.output='.length));
}

async function main(argv: readonly string[]): Promise<number> {
  const ifStale = argv.includes('--if-stale');
  const passThrough = argv.filter((arg) => arg !== '--if-stale');

  const build = await run(process.execPath, [join(root, 'scripts', 'build.mjs'), ...(ifStale ? ['--if-stale'] : [])]);
  if (build.status !== 0) {
    process.stderr.write('dist: the build failed (see above); nothing was packed\n');
    return 1;
  }

  // The Electron runtime: -c.electronDist wins, then ELECTRON_OVERRIDE_DIST_PATH (which `retrovisor
  // start` honours too), then the electron package's own download if it ever happened.
  const host = downloadHost(process.env);
  const offlineReason = await unreachable(host);
  let electronDist = electronDistArgument(passThrough);
  const extra: string[] = [];
  if (electronDist === undefined) {
    const runtime = findElectronRuntime(process.env);
    if (runtime.available) {
      electronDist = resolve(runtime.executable, '..');
      extra.push(`-c.electronDist=${electronDist}`);
    } else if (offlineReason !== null) {
      process.stderr.write(
        `dist: no Electron runtime to pack, and electron-builder cannot download one (${offlineReason}).\n` +
          'Point ELECTRON_OVERRIDE_DIST_PATH at an unpacked Electron of the version in package-lock.json (a folder\n' +
          'holding its `electron` executable, e.g. extracted from electron-vVERSION-linux-x64.zip), then run again:\n' +
          '  ELECTRON_OVERRIDE_DIST_PATH=/path/to/electron-dist npm run dist\n' +
          'or pass it once: npm run dist -- -c.electronDist=/path/to/electron-dist\n',
      );
      return 1;
    }
    // Otherwise electron-builder downloads Electron itself.
  }
  if (electronDist !== undefined && !existsSync(join(electronDist, 'electron'))) {
    process.stderr.write(`dist: ${electronDist} holds no \`electron\` executable: point it at an unpacked Electron's folder\n`);
    return 1;
  }

  const builder = join(root, 'node_modules', 'electron-builder', 'cli.js');
  const common = ['--config', 'electron-builder.yml', ...passThrough, ...extra];
  const outcomes: Outcome[] = [];

  const unpacked = await run(process.execPath, [builder, ...common, '--linux', 'dir']);
  if (unpacked.status !== 0) {
    process.stderr.write('dist: electron-builder could not pack the unpacked app (see above)\n');
    return 1;
  }
  outcomes.push({ target: 'dir', result: 'built', why: join(outputFolder(passThrough), 'linux-unpacked') });

  for (const target of DOWNLOADED_TARGETS) {
    if (offlineReason !== null) {
      outcomes.push({ target, result: 'skipped', why: `its tools are downloaded on first use and ${offlineReason}` });
      continue;
    }
    const packed = await run(process.execPath, [builder, ...common, '--linux', target]);
    if (packed.status === 0) {
      outcomes.push({ target, result: 'built' });
      continue;
    }
    const network = networkReason(packed.output);
    outcomes.push(network === null ? { target, result: 'failed', why: 'see electron-builder output above' } : { target, result: 'skipped', why: `a download failed: ${network}` });
  }

  process.stdout.write(`\nnpm run dist — ${outputFolder(passThrough)}\n`);
  for (const outcome of outcomes) {
    process.stdout.write(`  ${outcome.target.padEnd(9)} ${outcome.result}${outcome.why === undefined ? '' : `: ${outcome.why}`}\n`);
  }
  // The unpacked app is what every machine can build: skipping a download target is not a failure,
  // a target failing for another reason is.
  return outcomes.some((outcome) => outcome.result === 'failed') ? 1 : 0;
}

process.exit(await main(process.argv.slice(2)));
