// Electron's main process: serves the renderer on the app:// scheme, keeps one instance per user, and
// opens one window per profile (what a later `retrovisor start --profile X` names opens in the running
// instance), each window with its own back end bound to it. All real work is the back end in main/.

import { app, ipcMain, net, protocol, safeStorage, type BrowserWindow } from 'electron';
import { join, normalize, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import packageJson from '../package.json';
import type { Notice } from '../common/contract';
import { escapeControlKeepingLines } from '../common/terminal-text';
import { createBackend, type Backend } from '../main/backend';
import { RENDERER_JS_FLAGS } from '../main/chromium';
import { dataRoot } from '../main/divergence-evidence';
import { createLogger, errorMessage, parseLogLevel } from '../main/logger';
import { parseOpenArguments, resolveOpenRequest, windowKeyOf, type OpenRequest, type OpenTarget } from '../main/open-request';
import { lowerChildProcesses } from '../main/process-priority';
import { ProfileLibrary } from '../main/profile-library';
import type { SecretStore } from '../main/keyring/secret-store';
import { printStartupProblems } from '../main/startup-problems';
import { bindContract, isTrustedSender, type ContractBinding, type IpcEventLike } from './ipc';
import { createIpcRouter, type IpcRouter } from './ipc-router';
import { CONTENT_SECURITY_POLICY } from '../common/content-security-policy';
import { recoverLostRenderer } from './renderer-recovery';
import { APP_SCHEME } from './security-policy';
import { createElectronSecretStore } from './secret-store';
import { startDesktopShell } from './desktop-shell';
import { claimSingleInstance } from './single-instance';
import { createMainWindow, denyAllPermissions } from './window';

// Before ready: app:// behaves like https (standard, secure) so module scripts and fetch work.
protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
app.enableSandbox();
// The renderer's V8 young generation capped, as the browser shell's Chromium (main/chromium.ts).
app.commandLine.appendSwitch('js-flags', RENDERER_JS_FLAGS);

const logger = createLogger({ level: parseLogLevel(process.env.RETROVISOR_LOG) ?? 'warn', format: 'text' });
const rendererRoot = normalize(join(__dirname, '..', 'renderer'));
/** argv entries before the app's own arguments: the executable, and the app folder when run unpackaged. */
const argumentOffset = app.isPackaged ? 1 : 2;

/** One window, the profile it shows (its key; null: none of its own) and its back end. */
interface AppWindowEntry {
  readonly key: string | null;
  readonly window: BrowserWindow;
  readonly backend: Backend;
  readonly binding: ContractBinding;
}

const windows: AppWindowEntry[] = [];
const closingBackends: Promise<void>[] = [];
/** Pids of renderer, GPU and utility processes already put under SCHED_BATCH. */
const loweredPids = new Set<number>();
let router: IpcRouter | null = null;
let secretStore: SecretStore | null = null;
let library: ProfileLibrary | null = null;

function focus(window: BrowserWindow): void {
  if (window.isMinimized()) window.restore();
  window.show();
  window.focus();
}

/** The app's renderers, GPU and utility processes yield to the back end's input loop, as the browser shell's Chromium does. */
function lowerRenderers(): void {
  const switched = lowerChildProcesses(
    app.getAppMetrics().map((metric) => ({ pid: metric.pid, type: metric.type })),
    loweredPids,
  );
  if (switched.length > 0) logger.debug('renderer processes yield to the back end (SCHED_BATCH)', { pids: switched.join(',') });
}

/** Tells the user in `entry`'s window, once its page listens. */
function noticeInWindow(entry: AppWindowEntry, notice: Notice): void {
  const contents = entry.window.webContents;
  if (contents.isLoading()) contents.once('did-finish-load', () => entry.backend.emitNotice(notice));
  else entry.backend.emitNotice(notice);
}

/** Opens a window for `target` (null: a window with no profile, on the start screen). */
function createWindow(target: OpenTarget | null): AppWindowEntry {
  const backend = createBackend({
    shell: 'electron',
    headless: false,
    version: packageJson.version,
    logger,
    // Electron's safeStorage picks its keyring back end when the app is ready: created then, not before.
    secretStore: secretStore!,
    startupDemo: target?.kind === 'demo',
    ...(target?.kind === 'file' || target?.kind === 'saved' ? { startupProfilePath: target.path } : {}),
    ...(target?.kind === 'saved' ? { startupSavedProfileId: target.id } : {}),
  });
  // A profile that cannot be opened is said on the terminal too (`retrovisor start` shares its stderr).
  if (target?.kind === 'file') {
    printStartupProblems(backend, target.path, process.stderr).catch((error: unknown) => logger.warn('cannot open the startup profile', { error: String(error) }));
  }
  const window = createMainWindow(join(__dirname, 'preload.cjs'));
  const contents = window.webContents;
  const binding = bindContract({
    ipcMain: router!.forSender(contents),
    backend,
    // Only the app's own page in this window may talk to this window's back end.
    isTrustedSender: (event: IpcEventLike) => isTrustedSender(event, contents),
    sendToWindow: (channel, payload) => {
      if (!window.isDestroyed()) contents.send(channel, payload);
    },
    onRefused: (what) => logger.warn('refused IPC', { what }),
  });
  const entry: AppWindowEntry = { key: target === null ? null : windowKeyOf(target), window, backend, binding };
  windows.push(entry);
  recoverLostRenderer({
    contents,
    logger,
    now: () => Date.now(),
    beforeReload: () => backend.resumeLatestSession(),
    notify: (notice) => backend.emitNotice(notice),
    closeWindow: (reason) => {
      process.stderr.write(`retrovisor: closing a window: ${reason}\n`);
      window.destroy();
    },
  });
  contents.on('did-finish-load', lowerRenderers);
  // The tray and notifications of this window's back end; closing the window may only hide it (close to tray).
  const desktop = startDesktopShell(backend, window, logger).catch((error: unknown) => {
    logger.warn('no tray or notifications', { error: errorMessage(error) });
    return () => undefined;
  });
  window.on('closed', () => {
    void desktop.then((stop) => stop());
    windows.splice(windows.indexOf(entry), 1);
    binding.dispose();
    closingBackends.push(backend.close());
    // The app ends with its last window, once every back end has closed its sessions and streams.
    if (windows.length === 0) void Promise.allSettled(closingBackends).finally(() => app.quit());
  });
  return entry;
}

/** Serves what a launch asked for: this one's at start-up, or a later one's handed over. */
async function serveRequest(request: OpenRequest, atStartup: boolean): Promise<void> {
  let target: OpenTarget;
  try {
    target = await resolveOpenRequest(request, library!);
  } catch (error) {
    target = { kind: 'problem', message: errorMessage(error) };
  }
  const key = windowKeyOf(target);
  const existing = key === null ? undefined : windows.find((entry) => entry.key === key);
  const latest = windows.at(-1);
  if (existing !== undefined) {
    focus(existing.window);
  } else if (target.kind === 'problem') {
    logger.warn('cannot open what a launch asked for', { problem: target.message });
    if (atStartup) process.stderr.write(`retrovisor: ${escapeControlKeepingLines(target.message)}\n`);
    const entry = latest ?? createWindow(null);
    noticeInWindow(entry, { level: 'error', message: target.message });
    focus(entry.window);
  } else if (target.kind === 'show') {
    if (latest === undefined) createWindow(null);
    else focus(latest.window);
  } else {
    createWindow(target);
  }
}

const isTheInstance = claimSingleInstance({
  app,
  args: process.argv.slice(argumentOffset),
  workingDirectory: process.cwd(),
  argumentOffset,
  onRequest: (request) => {
    app
      .whenReady()
      .then(() => serveRequest(request, false))
      .catch((error: unknown) => logger.error('cannot open what a later launch asked for', { error: errorMessage(error) }));
  },
});

if (!isTheInstance) {
  // The running instance opens what this launch named (its window comes forward).
  app.quit();
} else {
  // The app quits when its last window's back end has closed (see createWindow), not before.
  app.on('window-all-closed', () => undefined);
  void app.whenReady().then(() => {
    denyAllPermissions();
    protocol.handle(APP_SCHEME, async (request) => {
      const { pathname } = new URL(request.url);
      const filePath = normalize(join(rendererRoot, decodeURIComponent(pathname)));
      if (!filePath.startsWith(rendererRoot + sep)) return new Response('not found', { status: 404 });
      const response = await net.fetch(pathToFileURL(filePath).href);
      const headers = new Headers(response.headers);
      headers.set('Content-Security-Policy', CONTENT_SECURITY_POLICY);
      headers.set('X-Content-Type-Options', 'nosniff');
      return new Response(response.body, { status: response.status, headers });
    });
    router = createIpcRouter(ipcMain, (what) => logger.warn('refused IPC', { what }));
    secretStore = createElectronSecretStore(safeStorage, dataRoot(), logger);
    library = new ProfileLibrary({ dataDirectory: dataRoot(), secretStore });
    return serveRequest(parseOpenArguments(process.argv.slice(argumentOffset), process.cwd()), true);
  }).catch((error: unknown) => {
    logger.error('cannot start', { error: errorMessage(error) });
    app.quit();
  });
}
