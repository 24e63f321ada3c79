// The preload: exposes window.retrovisor, one typed method per contract call plus event
// subscription and the replica stream transport (MessagePorts), and window.retrovisorFiles (the
// disk path of a picked or dropped file). It only uses contextBridge, ipcRenderer, webUtils and
// common/; it never exposes ipcRenderer itself. Runs sandboxed in the renderer process.

import { contextBridge, ipcRenderer, webUtils } from 'electron';
import {
  CALL_NAMES,
  INPUT_IPC_CHANNEL,
  STREAM_IPC_CHANNEL,
  ipcChannel,
  isEventName,
  type ByteStreamHandlers,
  type ContractHandlers,
  type ElectronBridge,
  type EventName,
  type EventPayload,
  type InputChannelHandlers,
} from '../../common/contract';

const calls = Object.fromEntries(
  CALL_NAMES.map((name) => [name, (request: unknown) => ipcRenderer.invoke(ipcChannel(name), request)]),
) as unknown as ContractHandlers;

/** A port to the main process for one stream or channel: closes once, tells `onClose` once. */
interface MainPort {
  /** Posts to the main process unless closed. */
  post(message: unknown): void;
  /** Closes the port (idempotent) and reports `reason` the first time. */
  finish(reason: string): void;
}

/**
 * Opens a MessageChannel, hands one end to the main process on `channel` (with `request`), and
 * passes what arrives to `onMessage`; a `{type: 'close'}` control message finishes the port.
 */
function openMainPort(channel: string, request: unknown, onMessage: (data: unknown) => void, onClose: (reason: string) => void): MainPort {
  const { port1, port2 } = new MessageChannel();
  let closed = false;
  const finish = (reason: string): void => {
    if (closed) return;
    closed = true;
    port1.close();
    onClose(reason);
  };
  port1.onmessage = (event: MessageEvent<unknown>) => {
    const data = event.data;
    if (typeof data === 'object' && data !== null && !(data instanceof Uint8Array) && (data as { type?: unknown }).type === 'close') {
      const reason = (data as { reason?: unknown }).reason;
      finish(typeof reason === 'string' ? reason : 'closed by the back end');
      return;
    }
    onMessage(data);
  };
  port1.start();
  ipcRenderer.postMessage(channel, request, [port2]);
  return {
    post: (message) => {
      if (!closed) port1.postMessage(message);
    },
    finish,
  };
}

const bridge: ElectronBridge = {
  ...calls,
  on<K extends EventName>(event: K, listener: (payload: EventPayload<K>) => void): () => void {
    if (!isEventName(event)) throw new Error(`unknown event "${String(event)}"`);
    const channel = ipcChannel(event);
    const forward = (_event: unknown, payload: EventPayload<K>): void => listener(payload);
    ipcRenderer.on(channel, forward);
    return () => void ipcRenderer.removeListener(channel, forward);
  },
  openStream(streamId: string, handlers: ByteStreamHandlers) {
    const port = openMainPort(
      STREAM_IPC_CHANNEL,
      { streamId },
      (data) => {
        if (data instanceof Uint8Array) handlers.onData(data);
        else if (typeof data === 'object' && data !== null && (data as { type?: unknown }).type === 'open') handlers.onOpen();
      },
      (reason) => handlers.onClose(reason),
    );
    return {
      send: (bytes: Uint8Array) => port.post(bytes),
      ack: (bytes: number) => port.post({ type: 'ack', bytes }),
      close: () => port.finish('closed'),
    };
  },
  openInputChannel(handlers: InputChannelHandlers) {
    const port = openMainPort(
      INPUT_IPC_CHANNEL,
      null,
      (data) => {
        const control = data as { type?: unknown; token?: unknown } | null;
        if (typeof control === 'object' && control !== null && control.type === 'synced' && typeof control.token === 'number') handlers.onSynced(control.token);
      },
      (reason) => handlers.onClose(reason),
    );
    return {
      send: (frame: Uint8Array) => port.post(frame),
      sync: (token: number) => port.post({ type: 'sync', token }),
      close: () => port.finish('closed'),
    };
  },
};

contextBridge.exposeInMainWorld('retrovisor', bridge);

// A picked or dropped profile's path on disk ("" for a file that is not on disk): the back end then
// reads the file itself and finds the files the profile names relative to its own folder.
contextBridge.exposeInMainWorld('retrovisorFiles', { pathOf: (file: File): string => webUtils.getPathForFile(file) });
