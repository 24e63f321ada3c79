// The one window factory: every RetroVisor window is created here with Electron's security
// checklist applied (context isolation, sandbox, no Node, no navigation, no new windows,
// no permissions). Runs in Electron's main process.

import { BrowserWindow, session, type WebContents } from 'electron';
import { APP_ENTRY_URL, isAppUrl, secureWebPreferences } from './security-policy';

/** Locks down a web contents: no navigation away, no new windows, no webviews. */
export function hardenWebContents(contents: WebContents): void {
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  contents.on('will-navigate', (event, url) => {
    if (!isAppUrl(url)) event.preventDefault();
  });
  contents.on('will-redirect', (event, url) => {
    if (!isAppUrl(url)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
}

/** Denies every permission request (camera, notifications from web content, clipboard-read...). */
export function denyAllPermissions(): void {
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
}

/** Creates the main window and loads the renderer. */
export function createMainWindow(preloadPath: string): BrowserWindow {
  const window = new BrowserWindow({
    width: 1400,
    height: 900,
    minWidth: 800,
    minHeight: 560,
    backgroundColor: '#11151c',
    title: 'RetroVisor',
    show: false,
    webPreferences: secureWebPreferences(preloadPath),
  });
  hardenWebContents(window.webContents);
  window.once('ready-to-show', () => window.show());
  void window.loadURL(APP_ENTRY_URL);
  return window;
}
