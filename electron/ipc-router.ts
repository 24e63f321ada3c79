// Several windows, each with its own back end, over one ipcMain: Electron allows one handler per
// channel, so the router holds the real handlers and passes each message to the binding of the window
// that sent it (by its webContents). A message from any other sender is refused. Runs in Electron's
// main process; typed structurally so tests drive it without Electron.

import type { IpcEventLike, IpcMainLike } from './ipc';

type Handler = (event: IpcEventLike, request: unknown) => Promise<unknown>;
type Listener = (event: IpcEventLike, message: unknown) => void;

/** Hands each window an IpcMainLike of its own over the one real ipcMain. */
export interface IpcRouter {
  /** The ipcMain of the window whose webContents is `sender`: what is bound on it hears only that window. */
  forSender(sender: unknown): IpcMainLike;
}

/** Creates the router; `onRefused` hears a message from a sender no window is bound to. */
export function createIpcRouter(ipcMain: IpcMainLike, onRefused: (what: string) => void): IpcRouter {
  const handlers = new Map<string, Map<unknown, Handler>>();
  const listeners = new Map<string, Map<unknown, Listener>>();

  function handlersOf(channel: string): Map<unknown, Handler> {
    let bySender = handlers.get(channel);
    if (bySender === undefined) {
      bySender = new Map();
      handlers.set(channel, bySender);
      const routed = bySender;
      ipcMain.handle(channel, (event, request) => {
        const handler = routed.get(event.sender);
        if (handler === undefined) {
          onRefused(`call on ${channel} from a sender with no window`);
          return Promise.reject(new Error('refused: untrusted sender'));
        }
        return handler(event, request);
      });
    }
    return bySender;
  }

  function listenersOf(channel: string): Map<unknown, Listener> {
    let bySender = listeners.get(channel);
    if (bySender === undefined) {
      bySender = new Map();
      listeners.set(channel, bySender);
      const routed = bySender;
      ipcMain.on(channel, (event, message) => {
        const listener = routed.get(event.sender);
        if (listener === undefined) {
          onRefused(`message on ${channel} from a sender with no window`);
          for (const port of event.ports ?? []) port.close();
          return;
        }
        listener(event, message);
      });
    }
    return bySender;
  }

  return {
    forSender: (sender) => ({
      handle: (channel, handler) => void handlersOf(channel).set(sender, handler),
      on: (channel, listener) => void listenersOf(channel).set(sender, listener),
      removeHandler: (channel) => void handlers.get(channel)?.delete(sender),
      removeAllListeners: (channel) => void listeners.get(channel)?.delete(sender),
    }),
  };
}
