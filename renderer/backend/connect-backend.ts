// Finds the back end: the Electron preload's bridge (window.retrovisor) when present, otherwise the
// browser shell's WebSockets below the page's secret path. Runs in the renderer.

import type { ElectronBridge } from '../../common/contract';
import type { BackendConnection } from './backend-connection';
import { connectBrowserShell } from './browser-shell';
import { browserShellEndpoints } from './shell-location';
import type { SocketFactory } from './web-socket-like';

declare global {
  interface Window {
    /** Exposed by the Electron preload (contextBridge); absent in the browser shell. */
    readonly retrovisor?: ElectronBridge;
    /** Exposed by the Electron preload: a picked or dropped file's path on disk ("" when it has none). */
    readonly retrovisorFiles?: { readonly pathOf: (file: File) => string };
  }
}

/** How the caller hears about a back end that goes away. */
export interface ConnectBackendOptions {
  /** Called once if the back end goes away after connecting (browser shell). */
  readonly onConnectionLost: (reason: string) => void;
}

const openDomSocket: SocketFactory = (url) => new WebSocket(url);

/** Connects to the back end of whichever shell this page runs in. */
export async function connectBackend(options: ConnectBackendOptions): Promise<BackendConnection> {
  const bridge = window.retrovisor;
  if (bridge !== undefined) {
    const files = window.retrovisorFiles;
    return {
      ...(files === undefined ? {} : { pathOfFile: (file: File) => files.pathOf(file) }),
      api: bridge,
      shell: 'electron',
      openStream: (streamId, handlers) => bridge.openStream(streamId, handlers),
      openInputChannel: (handlers) => bridge.openInputChannel(handlers),
    };
  }
  const endpoints = browserShellEndpoints(window.location.href);
  if (endpoints === null) throw new Error('this page was not opened by RetroVisor (no back end to talk to)');
  return connectBrowserShell(endpoints, options.onConnectionLost, openDomSocket);
}
