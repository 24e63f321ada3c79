// The security policy every window follows, as plain data and pure functions (no Electron import,
// so tests check it in plain Node): the app's origin, its CSP, and the web preferences.

import type { WebPreferences } from 'electron';


/** The custom scheme the renderer is served from (module scripts do not load over file://). */
export const APP_SCHEME = 'app';
export const APP_ORIGIN = `${APP_SCHEME}://retrovisor`;
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;


/** Web preferences of every window: isolated, sandboxed, Node-free. Exported for the tests. */
export function secureWebPreferences(preloadPath: string): WebPreferences {
  return {
    preload: preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    experimentalFeatures: false,
    webviewTag: false,
    navigateOnDragDrop: false,
    spellcheck: false,
  };
}

/** True when a URL belongs to the app itself (the only content a window may show). */
export function isAppUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}` === APP_ORIGIN;
  } catch {
    return false;
  }
}

