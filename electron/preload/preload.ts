// The preload: exposes window.retrovisor, one typed method per contract call plus event
// subscription and the replica stream transport (MessagePorts). It only uses contextBridge,
// ipcRenderer and common/; it never exposes ipcRenderer itself. Runs sandboxed in the renderer process.

import { contextBridge, ipcRenderer } from 'electron';
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
    const { port1, port2 } = new MessageChannel();
    let closed = false;
    const finish = (reason: string): void => {
      if (closed) return;
      closed = true;
      port1.close();
      handlers.onClose(reason);
    };
    port1.onmessage = (event: MessageEvent<unknown>) => {
      const data = event.data;
      if (data instanceof Uint8Array) {
        handlers.onData(data);
      } else if (typeof data === 'object' && data !== null && 'type' in data) {
        const control = data as { type: unknown; reason?: unknown };
        if (control.type === 'open') handlers.onOpen();
        else if (control.type === 'close') finish(typeof control.reason === 'string' ? control.reason : 'closed by the back end');
      }
    };
    port1.start();
    ipcRenderer.postMessage(STREAM_IPC_CHANNEL, { streamId }, [port2]);
    return {
      send: (bytes: Uint8Array) => port1.postMessage(bytes),
      ack: (bytes: number) => port1.postMessage({ type: 'ack', bytes }),
      close: () => finish('closed'),
    };
  },
  openInputChannel(handlers: InputChannelHandlers) {
    const { port1, port2 } = new MessageChannel();
    let closed = false;
    const finish = (reason: string): void => {
      if (closed) return;
      closed = true;
      port1.close();
      handlers.onClose(reason);
    };
    port1.onmessage = (event: MessageEvent<unknown>) => {
      const data = event.data;
      if (typeof data !== 'object' || data === null) return;
      const control = data as { type?: unknown; reason?: unknown; token?: unknown };
      if (control.type === 'synced' && typeof control.token === 'number') handlers.onSynced(control.token);
      else if (control.type === 'close') finish(typeof control.reason === 'string' ? control.reason : 'closed by the back end');
    };
    port1.start();
    ipcRenderer.postMessage(INPUT_IPC_CHANNEL, null, [port2]);
    return {
      send: (frame: Uint8Array) => {
        if (!closed) port1.postMessage(frame);
      },
      sync: (token: number) => {
        if (!closed) port1.postMessage({ type: 'sync', token });
      },
      close: () => finish('closed'),
    };
  },
};

contextBridge.exposeInMainWorld('retrovisor', bridge);
