// A small RFB (VNC) server over node:net for the demo lab: serves one framebuffer source to any
// number of shared clients (RFB 3.3/3.7/3.8, security None or VNC password; Raw, CopyRect, Zlib,
// ZRLE, DesktopSize, ExtendedDesktopSize, QEMU extended keys). Runs in Node.

import { createServer, type Server, type Socket } from 'node:net';
import { type FramebufferSource } from './framebuffer';
import { RfbConnection, type RfbInputSink, type UpdateGate } from './rfb-connection';

export type { RfbInputSink, UpdateGate } from './rfb-connection';

/** How to run an RFB server. */
export interface RfbServerOptions {
  readonly source: FramebufferSource;
  readonly input: RfbInputSink;
  /** Sent in ServerInit; viewers show it as the window title. */
  readonly desktopName: string;
  /** VNC password (only its first 8 characters count); undefined = security None. */
  readonly password?: string;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0: a free port. */
  readonly port?: number;
  /** Lag and freeze hooks; default: updates leave at once. */
  readonly gate?: UpdateGate;
  /** A client with more output than this waiting is dropped. Default MAX_PENDING_OUTPUT_BYTES. */
  readonly maxPendingOutputBytes?: number;
  /** A client that has not finished the handshake by then is dropped. Default HANDSHAKE_TIMEOUT_MS. */
  readonly handshakeTimeoutMs?: number;
  /** One line per notable event (client dropped and why). Default: silent. */
  readonly log?: (message: string) => void;
}

/** A client with more output than this waiting (unread) is dropped. */
export const MAX_PENDING_OUTPUT_BYTES = 64 * 1024 * 1024;
/** A client must finish the handshake within this time. */
export const HANDSHAKE_TIMEOUT_MS = 10_000;
/** Connections beyond this are refused by the listening socket. */
export const MAX_CONNECTIONS = 256;

const OPEN_GATE: UpdateGate = { isFrozen: () => false, nextDelayMs: () => 0 };

/** The demo RFB server; `listen()` to start, `close()` to stop and cut every client. */
export class RfbServer {
  private server: Server | null = null;
  private readonly connections = new Set<RfbConnection>();
  private source: FramebufferSource;
  private boundPort = 0;

  constructor(private readonly options: RfbServerOptions) {
    this.source = options.source;
  }

  /** The port listened on (0 before listen()). */
  get port(): number {
    return this.boundPort;
  }

  /** Clients currently connected (handshaking or served). */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** Starts listening; resolves with the port (useful with port 0). */
  listen(): Promise<number> {
    if (this.server !== null) return Promise.reject(new Error('RFB server already listening'));
    const server = createServer((socket) => this.accept(socket));
    server.maxConnections = MAX_CONNECTIONS;
    this.server = server;
    return new Promise<number>((resolve, reject) => {
      const onError = (error: Error): void => {
        this.server = null;
        reject(error);
      };
      server.once('error', onError);
      server.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1', () => {
        server.off('error', onError);
        server.on('error', (error) => this.log(`rfb server error: ${error.message}`));
        const address = server.address();
        this.boundPort = typeof address === 'object' && address !== null ? address.port : 0;
        resolve(this.boundPort);
      });
    });
  }

  /** Serves another framebuffer to every client from now on (a guest rebooted in place). */
  setSource(source: FramebufferSource): void {
    this.source = source;
    for (const connection of this.connections) connection.replaceSource(source);
  }

  /** Lets held updates go out (call after a freeze ends). */
  wake(): void {
    for (const connection of this.connections) connection.wake();
  }

  /** Cuts every client; the server keeps listening. */
  disconnectAll(reason: string): void {
    for (const connection of [...this.connections]) connection.close(reason);
  }

  /** Stops listening and cuts every client. */
  close(): Promise<void> {
    const server = this.server;
    this.server = null;
    this.disconnectAll('server stopped');
    if (server === null) return Promise.resolve();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    if (this.server === null) {
      socket.destroy();
      return;
    }
    const connection = new RfbConnection({
      socket,
      source: this.source,
      input: this.options.input,
      desktopName: this.options.desktopName,
      password: this.options.password,
      gate: this.options.gate ?? OPEN_GATE,
      maxPendingOutputBytes: this.options.maxPendingOutputBytes ?? MAX_PENDING_OUTPUT_BYTES,
      handshakeTimeoutMs: this.options.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS,
      log: (message) => this.log(message),
      onClosed: (closed) => this.connections.delete(closed),
    });
    this.connections.add(connection);
  }

  private log(message: string): void {
    this.options.log?.(message);
  }
}
