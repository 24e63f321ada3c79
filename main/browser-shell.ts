// The browser shell: a local HTTP + WebSocket server on 127.0.0.1 that serves the built renderer
// and carries the contract (RPC socket) and replica byte streams. Every request must carry the
// per-launch secret as the first path segment; Host and Origin are checked. Runs in Node.

import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { CONTENT_SECURITY_POLICY } from '../common/content-security-policy';
import { BROWSER_SHELL_PATHS, EVENT_NAMES, MAX_STREAM_FRAME_BYTES } from '../common/contract';
import { MAX_INPUT_FRAME_BYTES } from '../common/input/input-frame';
import { MAX_RPC_MESSAGE_CHARS, decodeRpcMessage, dispatchCall, encodeEvent } from '../common/rpc';
import type { Backend } from './backend';
import type { Logger } from './logger';
import { wsInputChannelEndpoint } from './input-channel';
import { wsStreamEndpoint } from './stream-relay';

export interface BrowserShellOptions {
  readonly backend: Backend;
  /** Folder holding the built renderer (index.html, app.js, styles.css). */
  readonly staticRoot: string;
  readonly logger: Logger;
  /** 0 (default) picks a free port. */
  readonly port?: number;
}

export interface BrowserShell {
  /** The URL to open, secret included: http://127.0.0.1:PORT/SECRET/ */
  readonly url: string;
  readonly port: number;
  /** Calls `listener` each time the app's page is requested with the secret; returns the unsubscribe. */
  onPageServed(listener: () => void): () => void;
  close(): Promise<void>;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
};


const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Frame-Options': 'DENY',
  'Cache-Control': 'no-store',
};

const SECRET_BYTES = 32;

/** Constant-time check of a candidate secret. */
function secretMatches(expected: Buffer, candidate: string): boolean {
  const given = Buffer.from(candidate, 'utf8');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Starts the browser shell; resolves once it listens. */
export async function startBrowserShell(options: BrowserShellOptions): Promise<BrowserShell> {
  const { backend, logger } = options;
  const secret = randomBytes(SECRET_BYTES).toString('base64url');
  const secretBuffer = Buffer.from(secret, 'utf8');
  const staticRoot = normalize(options.staticRoot);
  let port = 0;
  const pageListeners = new Set<() => void>();

  const allowedHosts = (): readonly string[] => [`127.0.0.1:${port}`, `localhost:${port}`];

  /** The path below the secret ("" for the index), or null when the request lacks the secret. */
  function authorizedPath(request: IncomingMessage): string | null {
    if (!allowedHosts().includes(request.headers.host ?? '')) return null;
    let pathname: string;
    try {
      pathname = new URL(request.url ?? '/', 'http://127.0.0.1').pathname;
    } catch {
      return null;
    }
    const match = /^\/([^/]+)(\/.*)?$/.exec(pathname);
    if (!match?.[1] || !secretMatches(secretBuffer, match[1])) return null;
    return (match[2] ?? '/').slice(1);
  }

  function refuse(response: ServerResponse, status: number, message: string): void {
    response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS });
    response.end(message);
  }

  async function serveStatic(relativePath: string, response: ServerResponse, headOnly: boolean): Promise<void> {
    const wanted = relativePath === '' ? 'index.html' : decodeURIComponent(relativePath);
    const filePath = normalize(join(staticRoot, wanted));
    if (!filePath.startsWith(staticRoot + sep) || wanted.includes('\0')) {
      refuse(response, 404, 'not found');
      return;
    }
    try {
      const info = await stat(filePath);
      if (!info.isFile()) throw new Error('not a file');
      const body = await readFile(filePath);
      response.writeHead(200, {
        'Content-Type': CONTENT_TYPES[extname(filePath)] ?? 'application/octet-stream',
        'Content-Length': body.length,
        ...SECURITY_HEADERS,
      });
      response.end(headOnly ? undefined : body);
    } catch {
      refuse(response, 404, 'not found');
    }
  }

  const server = createServer((request, response) => {
    const path = authorizedPath(request);
    if (path === null) {
      logger.warn('refused a request without the launch secret', { url: '(hidden)', host: request.headers.host ?? '' });
      refuse(response, 403, 'RetroVisor: this address needs the launch secret. Open the URL the app printed.');
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      refuse(response, 405, 'method not allowed');
      return;
    }
    // "/SECRET" without the slash: relative asset paths need the trailing slash.
    if (path === '' && !(request.url ?? '').split('?')[0]?.endsWith('/')) {
      response.writeHead(308, { Location: `/${secret}/`, ...SECURITY_HEADERS });
      response.end();
      return;
    }
    if (path === '' && request.method === 'GET') for (const listener of pageListeners) listener();
    serveStatic(path, response, request.method === 'HEAD').catch((error: unknown) => {
      logger.error('static file failed', { error: String(error) });
      if (!response.headersSent) refuse(response, 500, 'internal error');
    });
  });

  const rpcServer = new WebSocketServer({ noServer: true, maxPayload: MAX_RPC_MESSAGE_CHARS * 2 });
  const streamServer = new WebSocketServer({ noServer: true, maxPayload: MAX_STREAM_FRAME_BYTES + 1024 });
  const inputServer = new WebSocketServer({ noServer: true, maxPayload: MAX_INPUT_FRAME_BYTES });
  const rpcSockets = new Set<WebSocket>();

  const eventSubscriptions = EVENT_NAMES.map((name) =>
    backend.onEvent(name, (payload) => {
      const raw = encodeEvent(name, payload);
      for (const socket of rpcSockets) socket.send(raw);
    }),
  );

  function handleRpc(socket: WebSocket): void {
    rpcSockets.add(socket);
    socket.on('close', () => rpcSockets.delete(socket));
    socket.on('message', (data, isBinary) => {
      if (isBinary) return;
      const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(new Uint8Array(data)).toString('utf8');
      const message = decodeRpcMessage(text);
      if (message?.kind !== 'call') return;
      dispatchCall(backend.handlers, message)
        .then((result) => {
          if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(result));
        })
        .catch((error: unknown) => logger.error('rpc dispatch failed', { error: String(error) }));
    });
  }

  function rejectUpgrade(socket: Duplex, status: number, reason: string): void {
    socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  }

  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = authorizedPath(request);
    const origin = request.headers.origin ?? '';
    if (path === null) {
      logger.warn('refused a WebSocket without the launch secret');
      rejectUpgrade(socket, 403, 'Forbidden');
      return;
    }
    if (!allowedHosts().some((host) => origin === `http://${host}`)) {
      logger.warn('refused a WebSocket from another origin', { origin: origin.slice(0, 100) });
      rejectUpgrade(socket, 403, 'Forbidden');
      return;
    }
    if (path === BROWSER_SHELL_PATHS.rpc) {
      rpcServer.handleUpgrade(request, socket, head, handleRpc);
      return;
    }
    if (path === BROWSER_SHELL_PATHS.input) {
      inputServer.handleUpgrade(request, socket, head, (ws) => backend.attachInputChannel(wsInputChannelEndpoint(ws, logger.child({ component: 'input-channel' }))));
      return;
    }
    const streamPrefix = `${BROWSER_SHELL_PATHS.stream}/`;
    if (path.startsWith(streamPrefix)) {
      const streamId = path.slice(streamPrefix.length);
      streamServer.handleUpgrade(request, socket, head, (ws) => backend.attachStream(streamId, wsStreamEndpoint(ws, { logger: logger.child({ component: 'stream' }) })));
      return;
    }
    rejectUpgrade(socket, 404, 'Not Found');
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  port = typeof address === 'object' && address ? address.port : 0;
  const url = `http://127.0.0.1:${port}/${secret}/`;

  return {
    url,
    port,
    onPageServed(listener: () => void): () => void {
      pageListeners.add(listener);
      return () => {
        pageListeners.delete(listener);
      };
    },
    async close(): Promise<void> {
      pageListeners.clear();
      for (const unsubscribe of eventSubscriptions) unsubscribe();
      for (const socket of rpcSockets) socket.terminate();
      for (const client of streamServer.clients) client.terminate();
      for (const client of inputServer.clients) client.terminate();
      rpcServer.close();
      streamServer.close();
      inputServer.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
