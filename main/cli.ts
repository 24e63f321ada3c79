// The `retrovisor` command: start (Electron, or the browser shell when Electron's runtime is absent),
// serve (browser shell only) and run (headless). Runs in Node; bundled to dist/main/cli.js.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import packageJson from '../package.json';
import { DEFAULT_SCRIPT_CONNECT_TIMEOUT_MS } from '../common/contract';
import { escapeControlKeepingLines } from '../common/terminal-text';
import { createBackend } from './backend';
import { startBrowserShell } from './browser-shell';
import { openAppWindow, describeWindowFailure, type AppWindow } from './app-window';
import { findChromium, noSandboxNotice, noSandboxReason } from './chromium';
import { findElectronRuntime } from './electron-runtime';
import { runLabCommand } from './lab-command';
import { InputScriptFileError, loadInputScriptFile } from './input-script-file';
import { createLogger, parseLogLevel, type Logger } from './logger';
import { RUN_EXIT, runHeadless } from './run-command';
import { printStartupProblems } from './startup-problems';
import { dataRoot } from './divergence-evidence';
import { LibraryError, ProfileLibrary } from './profile-library';
import { resolveProfileArgument, runProfileCommand, type ProfileArgument } from './profile-command';

const USAGE = `RetroVisor ${packageJson.version} — one window onto a VM replicated across hypervisors

Usage:
  retrovisor start [--profile FILE|NAME | --demo]
                                               the desktop app (Electron; the browser shell when Electron's runtime is missing)
                                               --demo opens the built-in demo lab at once; when the desktop app already
                                               runs, it opens the profile in a new window there (one instance per user)
  retrovisor serve [--profile FILE|NAME | --demo] [--port N] [--open]
                                               the browser shell only: prints the URL (with its launch secret)
  retrovisor lab [--replicas N] [--size WxH] [--fault rN:KIND[=VALUE]]... [--port-base P] [--password-file FILE] [--profile-out FILE]
                                               the demo lab alone: prints its endpoints, writes a profile, runs until Ctrl+C
                                               (retrovisor lab --help for details)
  retrovisor run --profile FILE|NAME [--duration SECONDS] [--json] [--checkpoint] [--script STEPS.json [--require-all] [--connect-timeout SECONDS]]
                                               headless: connect every replica, report state changes and divergences, exit
                                               --script plays input steps into every replica, then exits; a replica still
                                               not connected after --connect-timeout (default 60) is left out when a strict
                                               majority is connected (--require-all: the script then does not run);
                                               --checkpoint takes a checkpoint on every replica (virsh snapshot) once they
                                               all agree, then exits (or goes on until --duration)
                                               0 = every replica connected and their screens agree, 1 = not all connected,
                                               2 = bad profile or arguments, 3 = the screens still disagreed at the end
  retrovisor profile list|import|export|delete|restore ...
                                               the profile library (retrovisor profile --help for details)
  retrovisor --help | --version

--profile takes a profile file (a path with "/" or ending in .json) or a saved profile's name.

Environment: RETROVISOR_CHROMIUM (browser to use), RETROVISOR_CHROMIUM_NO_SANDBOX=1 (Chromium without its
  sandbox where the kernel offers none; as root it always is), RETROVISOR_LOG (error|warn|info|debug),
  RETROVISOR_DATA_DIR (the profile library, divergence evidence, audit logs, preferences; default
  $XDG_DATA_HOME/retrovisor, else ~/.local/share/retrovisor), ELECTRON_OVERRIDE_DIST_PATH.`;

class UsageError extends Error {
  override readonly name = 'UsageError';
}

const moduleFolder = dirname(fileURLToPath(import.meta.url));
const projectRoot = resolve(moduleFolder, '..', '..');

/** The built renderer: next to this bundle (dist/main → dist/renderer), or dist/renderer from sources. */
function staticRoot(): string {
  const candidates = [join(moduleFolder, '..', 'renderer'), join(projectRoot, 'dist', 'renderer'), join(moduleFolder, '..', 'dist', 'renderer')];
  const found = candidates.find((folder) => existsSync(join(folder, 'app.js')));
  if (!found) throw new Error('the renderer is not built: run `npm run build`');
  return found;
}

function parseCommand(argv: readonly string[]) {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      profile: { type: 'string' },
      duration: { type: 'string' },
      json: { type: 'boolean', default: false },
      script: { type: 'string' },
      'require-all': { type: 'boolean', default: false },
      'connect-timeout': { type: 'string' },
      checkpoint: { type: 'boolean', default: false },
      port: { type: 'string' },
      open: { type: 'boolean', default: false },
      demo: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
      version: { type: 'boolean', short: 'v', default: false },
    },
  });
  if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"`);
  return { command: positionals[0], values };
}

function parsePositiveNumber(value: string | undefined, name: string, integer: boolean): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0 || (integer && !Number.isInteger(number))) {
    throw new UsageError(`--${name} must be a positive ${integer ? 'integer' : 'number'}, not "${value}"`);
  }
  return number;
}

async function serve(options: { profilePath?: string; savedProfileId?: string; demo: boolean; port?: number; openWindow: boolean; logger: Logger }): Promise<number> {
  const backend = createBackend({
    shell: 'browser',
    headless: false,
    version: packageJson.version,
    logger: options.logger,
    startupDemo: options.demo,
    ...(options.profilePath ? { startupProfilePath: options.profilePath } : {}),
    ...(options.savedProfileId ? { startupSavedProfileId: options.savedProfileId } : {}),
  });
  // A profile that cannot be opened is said here, where it was named, as well as on the page.
  if (options.profilePath !== undefined) await printStartupProblems(backend, options.profilePath, process.stderr);
  const shell = await startBrowserShell({ backend, staticRoot: staticRoot(), logger: options.logger, ...(options.port ? { port: options.port } : {}) });
  process.stdout.write(`RetroVisor is running at ${shell.url}\n(keep this address private: it carries this launch's secret; Ctrl+C stops RetroVisor)\n`);

  let appWindow: AppWindow | null = null;
  if (options.openWindow) {
    const browser = findChromium();
    const hasDisplay = Boolean(process.env.DISPLAY ?? process.env.WAYLAND_DISPLAY);
    if (browser === null) {
      process.stdout.write('No Chromium or Chrome found for an app window: open the address above in a browser (or apt-get install -y chromium).\n');
    } else if (!hasDisplay) {
      process.stdout.write('No display ($DISPLAY is not set): open the address above in a browser.\n');
    } else {
      const noSandbox = noSandboxReason();
      if (noSandbox !== null) process.stderr.write(`retrovisor: ${noSandboxNotice(noSandbox)}\n`);
      // The window opens a private hand-off page, never the secret URL itself: argv is public.
      try {
        appWindow = await openAppWindow({ executable: browser, shell, noSandbox, logger: options.logger });
      } catch (error) {
        process.stderr.write(describeWindowFailure({ kind: 'failed', reason: `it could not be prepared: ${error instanceof Error ? error.message : String(error)}`, advice: null }));
      }
    }
  }

  await new Promise<void>((resolveStop) => {
    process.once('SIGINT', () => resolveStop());
    process.once('SIGTERM', () => resolveStop());
    // Closing the app window quits RetroVisor, as closing a desktop app's window would; a window that
    // failed (it could not start, or crashed) is reported and the shell keeps serving its address.
    void appWindow?.outcome.then((outcome) => {
      if (outcome.kind === 'closed') resolveStop();
      else process.stderr.write(describeWindowFailure(outcome));
    });
  });
  await appWindow?.close();
  await shell.close();
  await backend.close();
  return 0;
}

async function start(profile: ProfileArgument | undefined, demo: boolean, logger: Logger): Promise<number> {
  const runtime = findElectronRuntime();
  const profilePath = profile?.path;
  if (!runtime.available) {
    process.stdout.write(`Electron is not available: ${runtime.reason}. Starting the browser shell instead.\n`);
    return serve({ openWindow: true, demo, logger, ...(profilePath ? { profilePath } : {}), ...(profile?.kind === 'saved' ? { savedProfileId: profile.id } : {}) });
  }
  await markOpened(profile);
  const child = spawn(runtime.executable, [projectRoot, ...(profilePath ? ['--profile', profilePath] : []), ...(demo ? ['--demo'] : [])], {
    stdio: 'inherit',
  });
  return new Promise((resolveExit) => {
    child.on('exit', (code) => resolveExit(code ?? 1));
    child.on('error', (error) => {
      logger.error('could not start Electron', { error: error.message });
      resolveExit(1);
    });
  });
}

/**
 * The file behind `--profile ARG`: a profile file, or a saved profile's library file (then its
 * "last opened" is recorded). Throws LibraryError for a name that matches no saved profile, or several.
 */
async function profileArgument(argument: string): Promise<ProfileArgument> {
  return resolveProfileArgument(argument, new ProfileLibrary({ dataDirectory: dataRoot() }), process.cwd());
}

/** Records that a saved profile is being opened by a process that opens it by path (Electron). */
async function markOpened(profile: ProfileArgument | undefined): Promise<void> {
  if (profile?.kind === 'saved') await new ProfileLibrary({ dataDirectory: dataRoot() }).markOpened(profile.id);
}

/** Entry point: returns the exit status. */
export async function main(argv: readonly string[]): Promise<number> {
  const logger = createLogger({ level: parseLogLevel(process.env.RETROVISOR_LOG) ?? 'warn', format: 'text' });
  // `lab` has flags of its own (and its own usage): it parses them itself.
  if (argv[0] === 'lab') {
    return runLabCommand(argv.slice(1), { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, workingDirectory: process.cwd() });
  }
  if (argv[0] === 'profile') {
    return runProfileCommand(argv.slice(1), { stdout: process.stdout, stderr: process.stderr, workingDirectory: process.cwd() });
  }
  let parsed: ReturnType<typeof parseCommand>;
  try {
    parsed = parseCommand(argv);
    if (parsed.values.help) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    if (parsed.values.version) {
      process.stdout.write(`${packageJson.version}\n`);
      return 0;
    }
    const profile = parsed.values.profile ? await profileArgument(parsed.values.profile) : undefined;
    const profilePath = profile?.path;
    // A saved profile opened by this process's back end records when it was opened and how it went.
    const savedProfileId = profile?.kind === 'saved' ? profile.id : undefined;
    const demo = parsed.values.demo;
    if (demo && profilePath !== undefined) throw new UsageError('--demo and --profile both say what to open: choose one');
    if (demo && parsed.command !== undefined && parsed.command !== 'start' && parsed.command !== 'serve') {
      throw new UsageError(`--demo goes with start or serve, not ${parsed.command} (for a lab of its own: retrovisor lab)`);
    }
    switch (parsed.command ?? 'start') {
      case 'start':
        return await start(profile, demo, logger);
      case 'serve': {
        const port = parsePositiveNumber(parsed.values.port, 'port', true);
        return await serve({ openWindow: parsed.values.open, demo, logger, ...(profilePath ? { profilePath } : {}), ...(savedProfileId ? { savedProfileId } : {}), ...(port ? { port } : {}) });
      }
      case 'run': {
        if (!profilePath) throw new UsageError('run needs --profile FILE|NAME');
        const durationSeconds = parsePositiveNumber(parsed.values.duration, 'duration', false);
        const script = parsed.values.script === undefined ? undefined : await loadInputScriptFile(resolve(parsed.values.script));
        const connectTimeoutSeconds = parsePositiveNumber(parsed.values['connect-timeout'], 'connect-timeout', false);
        if (script === undefined && (parsed.values['require-all'] || connectTimeoutSeconds !== undefined)) {
          throw new UsageError('--require-all and --connect-timeout go with --script');
        }
        return await runHeadless({
          profilePath,
          ...(savedProfileId === undefined ? {} : { savedProfileId }),
          json: parsed.values.json,
          staticRoot: staticRoot(),
          version: packageJson.version,
          logger,
          stdout: process.stdout,
          stderr: process.stderr,
          ...(durationSeconds === undefined ? {} : { durationSeconds }),
          ...(script === undefined ? {} : { script }),
          checkpoint: parsed.values.checkpoint,
          scriptOptions: {
            requireAll: parsed.values['require-all'],
            connectTimeoutMs: connectTimeoutSeconds === undefined ? DEFAULT_SCRIPT_CONNECT_TIMEOUT_MS : connectTimeoutSeconds * 1000,
          },
        });
      }
      default:
        throw new UsageError(`unknown command "${parsed.command}"`);
    }
  } catch (error) {
    if (error instanceof LibraryError) {
      process.stderr.write(`retrovisor: ${escapeControlKeepingLines(error.message)}\n`);
      return RUN_EXIT.badInput;
    }
    if (error instanceof InputScriptFileError) {
      process.stderr.write(`retrovisor: ${escapeControlKeepingLines(error.message)}\n`);
      return RUN_EXIT.badInput;
    }
    if (error instanceof UsageError || (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))) {
      process.stderr.write(`retrovisor: ${escapeControlKeepingLines(error.message)}\n\n${USAGE}\n`);
      return RUN_EXIT.badInput;
    }
    process.stderr.write(`retrovisor: ${escapeControlKeepingLines(error instanceof Error ? error.message : String(error))}\n`);
    return 1;
  }
}
