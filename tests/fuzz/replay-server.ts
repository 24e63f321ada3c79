// A "VNC server" that replays a recorded (usually mutated) server stream to whoever connects: case k
// on the k-th connection. Each write waits until the client has sent what the real client had sent
// by then (its version, security choice, ClientInit, first requests) — unless the client has gone
// quiet, after which the rest goes at once — then the socket is closed once everything is sent. Runs in Node on 127.0.0.1.

import { createServer, type Server, type Socket } from 'node:net';
import type { ReplayPlan } from './rfb-recording';

/**
 * How long a write waits for client bytes that do not come before it goes anyway. A mutated
 * handshake can leave the client waiting for more server bytes instead of answering; sending the
 * rest is then the only way on. It paces the server, it does not synchronise the test.
 */
export const CLIENT_QUIET_MS = 300;

/** One connection's case, or null for "replay the recording unmutated". */
export type CaseForConnection = (connectionIndex: number) => ReplayPlan | null;

export interface ReplayServer {
  readonly port: number;
  /** Connections accepted so far. */
  connections(): number;
  /** Resolves once connection `index` (0-based) has been served to its end and closed. */
  finished(index: number): Promise<void>;
  stop(): Promise<void>;
}

/** Starts a replaying server; `caseFor` picks what connection k is sent. */
export async function startReplayServer(caseFor: CaseForConnection, fallback: ReplayPlan): Promise<ReplayServer> {
  const sockets = new Set<Socket>();
  const done = new Map<number, { promise: Promise<void>; resolve: () => void }>();
  const entry = (index: number): { promise: Promise<void>; resolve: () => void } => {
    let found = done.get(index);
    if (found === undefined) {
      let resolve = (): void => {};
      const promise = new Promise<void>((resolvePromise) => (resolve = resolvePromise));
      found = { promise, resolve };
      done.set(index, found);
    }
    return found;
  };
  let accepted = 0;
  const server: Server = createServer((socket) => {
    const index = accepted++;
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      sockets.delete(socket);
      entry(index).resolve();
    });
    void serve(socket, caseFor(index) ?? fallback);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    port: typeof address === 'object' && address !== null ? address.port : 0,
    connections: () => accepted,
    finished: (index) => entry(index).promise,
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Sends `plan` on `socket`, each write after its client bytes (or a quiet client), then ends it. */
async function serve(socket: Socket, plan: ReplayPlan): Promise<void> {
  let clientBytes = 0;
  let closed = false;
  let wake: (() => void) | null = null;
  socket.on('data', (bytes: Buffer) => {
    clientBytes += bytes.length;
    wake?.();
  });
  socket.on('close', () => {
    closed = true;
    wake?.();
  });
  // Once the client has failed to answer, it will not answer later gates either: the rest goes at once.
  let gated = true;
  for (const chunk of plan.chunks) {
    while (gated && !closed && clientBytes < chunk.afterClientBytes) {
      // Woken by client bytes or a close; a client quiet for CLIENT_QUIET_MS is not going to answer.
      const answered = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), CLIENT_QUIET_MS);
        wake = () => {
          clearTimeout(timer);
          resolve(true);
        };
      });
      wake = null;
      if (!answered) gated = false;
    }
    if (closed) return;
    if (!socket.write(chunk.bytes)) await new Promise<void>((resolve) => socket.once('drain', resolve).once('close', resolve));
  }
  if (!closed) socket.end();
}
