// A deliberately hostile "VNC server" for robustness tests: it completes the RFB handshake and then
// misbehaves (an absurd desktop size, or garbage). Runs in Node on 127.0.0.1.

import { createServer, type Server, type Socket } from 'node:net';

export type HostileBehaviour = 'huge-desktop' | 'garbage';

export interface HostileServer {
  readonly port: number;
  /** Connections accepted so far. */
  connections(): number;
  stop(): Promise<void>;
}

function serverInit(width: number, height: number, name: string): Buffer {
  const nameBytes = Buffer.from(name, 'latin1');
  const message = Buffer.alloc(24 + nameBytes.length);
  message.writeUInt16BE(width, 0);
  message.writeUInt16BE(height, 2);
  // 32 bpp, depth 24, little endian, true colour, max 255 each, shifts 16/8/0.
  Buffer.from([32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0]).copy(message, 4);
  message.writeUInt32BE(nameBytes.length, 20);
  nameBytes.copy(message, 24);
  return message;
}

/** Starts a server that behaves as asked after an RFB 3.8 handshake with security None. */
export async function startHostileServer(behaviour: HostileBehaviour): Promise<HostileServer> {
  let accepted = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    accepted += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let stage = 0;
    socket.write('RFB 003.008\n');
    socket.on('data', () => {
      stage += 1;
      if (stage === 1) socket.write(Buffer.from([1, 1])); // one security type: None
      else if (stage === 2) socket.write(Buffer.from([0, 0, 0, 0])); // SecurityResult OK
      else if (stage === 3) {
        // ClientInit received.
        socket.write(behaviour === 'huge-desktop' ? serverInit(65535, 65535, 'huge') : serverInit(640, 400, 'garbage'));
      } else if (stage === 4 && behaviour === 'garbage') {
        // The client's first requests: answer with a FramebufferUpdate claiming a rectangle in an
        // unknown encoding, then noise. (Sent as the answer, not glued to ServerInit: noVNC leaves
        // bytes that arrive in the same chunk as ServerInit unread until more data comes.)
        socket.write(Buffer.from([0, 0, 0, 1, 0, 0, 0, 0, 0, 16, 0, 16, 0x7f, 0x12, 0x34, 0x56]));
        socket.write(Buffer.alloc(4096, 0xa5));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    connections: () => accepted,
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
