// The contract over Electron IPC: one ipcMain handler per contract call, events forwarded to the
// window, replica streams carried on MessagePorts. Every message's sender is checked first.
// Runs in Electron's main process; typed structurally so tests can drive it without Electron.

import {
  CALL_NAMES,
  EVENT_NAMES,
  INPUT_IPC_CHANNEL,
  STREAM_IPC_CHANNEL,
  ipcChannel,
  type InputChannelControlFromBackend,
  type StreamControlFromBackend,
  type StreamControlFromUi,
} from '../common/contract';
import { invokeHandler } from '../common/rpc';
import {
  clipControlReason,
  parseInputChannelControlFromUi,
  parseStreamControlFromUi,
  REFUSED_INPUT_CONTROL_REASON,
  REFUSED_STREAM_CONTROL_REASON,
} from '../common/wire-control';
import type { Backend } from '../main/backend';
import type { InputChannelEndpoint } from '../main/input-channel';
import type { StreamEndpoint } from '../main/stream-relay';
import { isAppUrl } from './security-policy';

/** The part of a MessagePortMain this adapter uses. */
export interface MainMessagePort {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (messageEvent: { data: unknown }) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  start(): void;
  close(): void;
}

/** The part of an IPC event this adapter uses. */
export interface IpcEventLike {
  readonly senderFrame: { readonly url: string } | null;
  readonly sender: unknown;
  readonly ports?: readonly MainMessagePort[];
}

/** The part of ipcMain this adapter uses. */
export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcEventLike, request: unknown) => Promise<unknown>): void;
  on(channel: string, listener: (event: IpcEventLike, message: unknown) => void): void;
  removeHandler(channel: string): void;
  removeAllListeners(channel: string): void;
}

/**
 * The sender check of every IPC message: it must come from `windowContents` (the one window's
 * webContents) and from a frame showing the app's own URL. A page navigated elsewhere, another
 * window, or a message without a frame (the frame is gone) is refused.
 */
export function isTrustedSender(event: IpcEventLike, windowContents: unknown): boolean {
  return event.sender === windowContents && event.senderFrame !== null && isAppUrl(event.senderFrame.url);
}

export interface ContractBinding {
  /** Stops handling IPC (window closed, app quitting). */
  dispose(): void;
}

/**
 * The close-once bookkeeping both port endpoints share: `finish` runs the close listeners once, and a
 * listener added after the close still runs (soon), as StreamEndpoint and InputChannelEndpoint promise.
 */
function closeOnce(): { readonly isClosed: () => boolean; readonly finish: () => void; readonly onClose: (listener: () => void) => void } {
  const listeners: (() => void)[] = [];
  let closed = false;
  return {
    isClosed: () => closed,
    finish: () => {
      if (closed) return;
      closed = true;
      for (const listener of listeners) listener();
    },
    onClose: (listener) => {
      if (closed) queueMicrotask(listener);
      else listeners.push(listener);
    },
  };
}

/**
 * Wraps a MessagePortMain as a stream endpoint: Uint8Array = data, plain object = StreamControlFromUi
 * (common/wire-control.ts). Anything else ends this stream: `onRefused` hears why (for the log), the
 * UI gets a close with REFUSED_STREAM_CONTROL_REASON.
 */
export function messagePortStreamEndpoint(port: MainMessagePort, onRefused: (what: string) => void = () => undefined): StreamEndpoint {
  const dataListeners: ((bytes: Uint8Array) => void)[] = [];
  const controlListeners: ((control: StreamControlFromUi) => void)[] = [];
  const lifetime = closeOnce();
  port.on('message', ({ data }) => {
    if (lifetime.isClosed()) return;
    if (data instanceof Uint8Array) {
      for (const listener of dataListeners) listener(data);
      return;
    }
    const control = parseStreamControlFromUi(data);
    if (control.ok) {
      for (const listener of controlListeners) listener(control.message);
      return;
    }
    onRefused(`a malformed stream control message (${control.problem}); closing that stream`);
    const close: StreamControlFromBackend = { type: 'close', reason: REFUSED_STREAM_CONTROL_REASON };
    port.postMessage(close);
    port.close();
    lifetime.finish();
  });
  port.on('close', lifetime.finish);
  port.start();
  return {
    // `bytes` may be a view into a larger buffer the relay reuses: post a copy of just that range.
    sendData: (bytes) => port.postMessage(bytes.slice()),
    sendControl: (control) => port.postMessage(control),
    close: () => {
      port.close();
      lifetime.finish();
    },
    onData: (listener) => void dataListeners.push(listener),
    onControl: (listener) => void controlListeners.push(listener),
    onClose: lifetime.onClose,
  };
}

/**
 * Wraps a MessagePortMain as the input channel's endpoint: a Uint8Array is a frame, a sync
 * (common/wire-control.ts) a sync; anything else closes the channel (`onRefused` hears why). Closing
 * posts `{type:'close', reason}` first so the UI can say why.
 */
export function messagePortInputEndpoint(port: MainMessagePort, onRefused: (what: string) => void = () => undefined): InputChannelEndpoint {
  const frameListeners: ((frame: Uint8Array) => void)[] = [];
  const syncListeners: ((token: number) => void)[] = [];
  const lifetime = closeOnce();
  const close = (reason: string): void => {
    if (lifetime.isClosed()) return;
    const control: InputChannelControlFromBackend = { type: 'close', reason: clipControlReason(reason) };
    port.postMessage(control);
    port.close();
    lifetime.finish();
  };
  port.on('message', ({ data }) => {
    if (lifetime.isClosed()) return;
    if (data instanceof Uint8Array) {
      for (const listener of frameListeners) listener(data);
      return;
    }
    const control = parseInputChannelControlFromUi(data);
    if (control.ok) {
      for (const listener of syncListeners) listener(control.message.token);
      return;
    }
    onRefused(`a malformed input channel message (${control.problem}); closing the channel`);
    close(REFUSED_INPUT_CONTROL_REASON);
  });
  port.on('close', lifetime.finish);
  port.start();
  return {
    onFrame: (listener) => void frameListeners.push(listener),
    onSync: (listener) => void syncListeners.push(listener),
    sendSynced: (token) => {
      const control: InputChannelControlFromBackend = { type: 'synced', token };
      if (!lifetime.isClosed()) port.postMessage(control);
    },
    onClose: lifetime.onClose,
    close: (reason) => close(reason),
  };
}

/**
 * Serves the contract to one window. `isTrustedSender` decides, per message, whether it comes from
 * the app's own page in that window; anything else is refused and logged.
 */
export function bindContract(options: {
  readonly ipcMain: IpcMainLike;
  readonly backend: Backend;
  readonly isTrustedSender: (event: IpcEventLike) => boolean;
  readonly sendToWindow: (channel: string, payload: unknown) => void;
  readonly onRefused: (what: string) => void;
}): ContractBinding {
  const { ipcMain, backend, isTrustedSender } = options;
  for (const name of CALL_NAMES) {
    ipcMain.handle(ipcChannel(name), async (event, request) => {
      if (!isTrustedSender(event)) {
        options.onRefused(`call ${name} from an untrusted sender`);
        throw new Error('refused: untrusted sender');
      }
      return invokeHandler(backend.handlers, name, request);
    });
  }
  ipcMain.on(STREAM_IPC_CHANNEL, (event, message) => {
    const port = event.ports?.[0];
    const streamId = typeof message === 'object' && message !== null ? (message as { streamId?: unknown }).streamId : undefined;
    if (!isTrustedSender(event) || port === undefined || typeof streamId !== 'string') {
      options.onRefused('a stream request from an untrusted sender or without a port');
      port?.close();
      return;
    }
    backend.attachStream(streamId, messagePortStreamEndpoint(port, options.onRefused));
  });
  ipcMain.on(INPUT_IPC_CHANNEL, (event) => {
    const port = event.ports?.[0];
    if (!isTrustedSender(event) || port === undefined) {
      options.onRefused('an input channel request from an untrusted sender or without a port');
      port?.close();
      return;
    }
    backend.attachInputChannel(messagePortInputEndpoint(port, options.onRefused));
  });
  const eventSubscriptions = EVENT_NAMES.map((name) => backend.onEvent(name, (payload) => options.sendToWindow(ipcChannel(name), payload)));
  return {
    dispose(): void {
      for (const unsubscribe of eventSubscriptions) unsubscribe();
      for (const name of CALL_NAMES) ipcMain.removeHandler(ipcChannel(name));
      ipcMain.removeAllListeners(STREAM_IPC_CHANNEL);
      ipcMain.removeAllListeners(INPUT_IPC_CHANNEL);
    },
  };
}
