// What the rest of the renderer knows of the back end, whichever shell carries it. Types only.

import type { BackendApi, ByteStream, ByteStreamHandlers, InputChannelHandlers, InputChannelPort } from '../../common/contract';

/** The contract plus the stream transport of the shell the page runs in. */
export interface BackendConnection {
  readonly api: BackendApi;
  /** Attaches to a stream the back end opened (openReplicaStream); one per VNC connection attempt. */
  openStream(streamId: string, handlers: ByteStreamHandlers): ByteStream;
  /**
   * Opens an input channel (one per open session: every dispatch in one frame for all replicas), or
   * null when input goes onto each replica's own stream instead (the browser shell's
   * `?input=per-stream`, for measuring the difference).
   */
  readonly openInputChannel: ((handlers: InputChannelHandlers) => InputChannelPort) | null;
  readonly shell: 'electron' | 'browser';
  /**
   * A picked or dropped file's path on disk, where the shell knows it (Electron); "" or absent
   * otherwise (a browser never tells a file's folder).
   */
  readonly pathOfFile?: (file: File) => string;
}

/** The one sentence the UI shows when the back end is gone. */
export const BACKEND_LOST_MESSAGE = 'Lost the connection to the RetroVisor back end — restart it';
