// Electron's main process: serves the renderer on the app:// scheme, creates the one window through
// the window factory and binds the contract to it. All real work is the back end in main/.

import { app, ipcMain, net, protocol, safeStorage } from 'electron';
import { join, normalize, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import packageJson from '../package.json';
import { createBackend } from '../main/backend';
import { dataRoot } from '../main/divergence-evidence';
import { createLogger, parseLogLevel } from '../main/logger';
import { printStartupProblems } from '../main/startup-problems';
import { bindContract, isTrustedSender, type IpcEventLike } from './ipc';
import { CONTENT_SECURITY_POLICY } from '../common/content-security-policy';
import { APP_SCHEME } from './security-policy';
import { createElectronSecretStore } from './secret-store';
import { startDesktopShell } from './desktop-shell';
import { createMainWindow, denyAllPermissions } from './window';

// Before ready: app:// behaves like https (standard, secure) so module scripts and fetch work.
protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
app.enableSandbox();

const logger = createLogger({ level: parseLogLevel(process.env.RETROVISOR_LOG) ?? 'warn', format: 'text' });
const rendererRoot = normalize(join(__dirname, '..', 'renderer'));

/** What the command line asks to open at start-up: `--profile FILE`, or `--demo` for the built-in demo lab. */
function startupRequest(): { profilePath: string | undefined; demo: boolean } {
  const { values } = parseArgs({
    args: process.argv.slice(1),
    options: { profile: { type: 'string' }, demo: { type: 'boolean' } },
    strict: false,
    allowPositionals: true,
  });
  return { profilePath: typeof values.profile === 'string' ? values.profile : undefined, demo: values.demo === true };
}

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
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

    const { profilePath, demo } = startupRequest();
    const backend = createBackend({
      shell: 'electron',
      headless: false,
      version: packageJson.version,
      logger,
      // Electron's safeStorage picks its keyring back end when the app is ready: created here, not before.
      secretStore: createElectronSecretStore(safeStorage, dataRoot(), logger),
      startupDemo: demo,
      ...(profilePath ? { startupProfilePath: profilePath } : {}),
    });
    // A --profile that cannot be opened is said on the terminal too (`retrovisor start` shares its stderr).
    if (profilePath) {
      printStartupProblems(backend, profilePath, process.stderr).catch((error: unknown) => logger.warn('cannot open the startup profile', { error: String(error) }));
    }
    const window = createMainWindow(join(__dirname, 'preload.cjs'));
    const binding = bindContract({
      ipcMain,
      backend,
      // Only the app's own page in this window may talk to the back end.
      isTrustedSender: (event: IpcEventLike) => isTrustedSender(event, window.webContents),
      sendToWindow: (channel, payload) => {
        if (!window.isDestroyed()) window.webContents.send(channel, payload);
      },
      onRefused: (what) => logger.warn('refused IPC', { what }),
    });
    app.on('second-instance', () => {
      if (window.isMinimized()) window.restore();
      window.focus();
    });
    // The tray and notifications; closing the window may only hide it (close to tray).
    const desktop = startDesktopShell(backend, window, logger).catch((error: unknown) => {
      logger.warn('no tray or notifications', { error: String(error) });
      return () => undefined;
    });
    window.on('closed', () => {
      void desktop.then((stop) => stop());
      binding.dispose();
      void backend.close().finally(() => app.quit());
    });
  });
}

app.on('window-all-closed', () => app.quit());
