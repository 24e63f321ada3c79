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
  type InputChannelControlFromUi,
  type InputChannelHandlers,
  type StreamControlFromUi,
} from '../../common/contract';
import {
  MALFORMED_INPUT_CONTROL_REASON,
  MALFORMED_STREAM_CONTROL_REASON,
  parseInputChannelControlFromBackend,
  parseStreamControlFromBackend,
  type ControlParser,
} from '../../common/wire-control';

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
 * Opens a MessageChannel and hands one end to the main process on `channel` (with `request`). A
 * Uint8Array goes to `onData`; anything else must pass `parseControl` (common/wire-control.ts): a
 * `close` finishes the port with its reason, another message goes to `onControl`, and a message the
 * parser refuses finishes the port with `malformedReason` (the back end broke the protocol).
 */
function openMainPort<Control extends { readonly type: string }>(options: {
  readonly channel: string;
  readonly request: unknown;
  readonly parseControl: ControlParser<Control>;
  readonly malformedReason: string;
  readonly onData: (bytes: Uint8Array) => void;
  readonly onControl: (control: Exclude<Control, { readonly type: 'close' }>) => void;
  readonly onClose: (reason: string) => void;
}): MainPort {
  const { port1, port2 } = new MessageChannel();
  let closed = false;
  const finish = (reason: string): void => {
    if (closed) return;
    closed = true;
    port1.close();
    options.onClose(reason);
  };
  port1.onmessage = (event: MessageEvent<unknown>) => {
    if (closed) return;
    const data = event.data;
    if (data instanceof Uint8Array) {
      options.onData(data);
      return;
    }
    const control = options.parseControl(data);
    if (!control.ok) finish(`${options.malformedReason} (${control.problem})`);
    else if (isClose(control.message)) finish(control.message.reason);
    else options.onControl(control.message as Exclude<Control, { readonly type: 'close' }>);
  };
  port1.start();
  ipcRenderer.postMessage(options.channel, options.request, [port2]);
  return {
    post: (message) => {
      if (!closed) port1.postMessage(message);
    },
    finish,
  };
}

function isClose(control: { readonly type: string }): control is { readonly type: 'close'; readonly reason: string } {
  return control.type === 'close';
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
    let opened = false;
    let port: MainPort | null = null;
    port = openMainPort({
      channel: STREAM_IPC_CHANNEL,
      request: { streamId },
      parseControl: parseStreamControlFromBackend,
      malformedReason: MALFORMED_STREAM_CONTROL_REASON,
      onData: (bytes) => handlers.onData(bytes),
      onControl: () => {
        if (opened) {
          port?.finish(`${MALFORMED_STREAM_CONTROL_REASON} ("open" twice)`);
          return;
        }
        opened = true;
        handlers.onOpen();
      },
      onClose: (reason) => handlers.onClose(reason),
    });
    const stream = port;
    return {
      send: (bytes: Uint8Array) => stream.post(bytes),
      ack: (bytes: number) => {
        const control: StreamControlFromUi = { type: 'ack', bytes };
        stream.post(control);
      },
      close: () => stream.finish('closed'),
    };
  },
  openInputChannel(handlers: InputChannelHandlers) {
    let port: MainPort | null = null;
    port = openMainPort({
      channel: INPUT_IPC_CHANNEL,
      request: null,
      parseControl: parseInputChannelControlFromBackend,
      malformedReason: MALFORMED_INPUT_CONTROL_REASON,
      // The back end sends no binary data on the input channel.
      onData: () => port?.finish(`${MALFORMED_INPUT_CONTROL_REASON} (a binary message)`),
      onControl: (control) => handlers.onSynced(control.token),
      onClose: (reason) => handlers.onClose(reason),
    });
    const channel = port;
    return {
      send: (frame: Uint8Array) => channel.post(frame),
      sync: (token: number) => {
        const control: InputChannelControlFromUi = { type: 'sync', token };
        channel.post(control);
      },
      close: () => channel.finish('closed'),
    };
  },
};

contextBridge.exposeInMainWorld('retrovisor', bridge);

// A picked or dropped profile's path on disk ("" for a file that is not on disk): the back end then
// reads the file itself and finds the files the profile names relative to its own folder.
contextBridge.exposeInMainWorld('retrovisorFiles', { pathOf: (file: File): string => webUtils.getPathForFile(file) });
