// The replica "Test": scripted RFB servers on real sockets (good, password, refusing, hostile, stalled,
// RFB 3.3) and what the report says for each. Runs in plain Node.

import assert from 'node:assert/strict';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import type { ConnectionTestReport } from '../../../../common/connection-test';
import { checkVncAuthResponse, newVncChallenge } from '../../../../main/demo/vnc-auth';
import { ByteReader } from '../../../../main/probe/byte-reader';
import { probeRfbServer } from '../../../../main/probe/rfb-probe';

type Script = (socket: net.Socket, reader: ByteReader) => Promise<void>;

const servers: net.Server[] = [];
after(() => {
  for (const server of servers) server.close();
});

/** A server running `script` on each connection; resolves with its port. */
async function scriptedServer(script: Script): Promise<number> {
  const server = net.createServer((socket) => {
    socket.on('error', () => undefined);
    script(socket, new ByteReader(socket, Date.now() + 10_000)).catch(() => socket.destroy());
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

function serverInit(width: number, height: number, name: string, nameLength = Buffer.byteLength(name, 'latin1')): Buffer {
  const header = Buffer.alloc(24);
  header.writeUInt16BE(width, 0);
  header.writeUInt16BE(height, 2);
  header.writeUInt32BE(nameLength, 20);
  return Buffer.concat([header, Buffer.from(name, 'latin1')]);
}

function u32(value: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value, 0);
  return bytes;
}

function reason(text: string): Buffer {
  return Buffer.concat([u32(Buffer.byteLength(text)), Buffer.from(text)]);
}

/** An RFB 3.8 server offering `types`; `password` enables VNC Authentication (type 2). */
function rfb38(types: number[], password: string | null, name = 'lab desktop'): Script {
  return async (socket, reader) => {
    socket.write('RFB 003.008\n');
    await reader.read(12);
    socket.write(Buffer.from([types.length, ...types]));
    const chosen = await reader.u8();
    if (chosen === 2 && password !== null) {
      const challenge = newVncChallenge();
      socket.write(challenge);
      const response = await reader.read(16);
      if (!checkVncAuthResponse(password, challenge, response)) {
        socket.end(Buffer.concat([u32(1), reason('Authentication failure')]));
        return;
      }
    }
    socket.write(u32(0));
    await reader.u8();
    socket.write(serverInit(640, 400, name));
  };
}

function probe(port: number, password?: string, timeoutMs = 5_000): Promise<ConnectionTestReport> {
  const endpoint = `127.0.0.1:${port}`;
  return probeRfbServer({
    endpoint,
    ...(password === undefined ? {} : { password }),
    timeoutMs,
    connect: () =>
      new Promise((resolve, reject) => {
        const socket = net.connect({ host: '127.0.0.1', port });
        socket.once('connect', () => resolve(socket));
        socket.once('error', reject);
      }),
  });
}

function outcomes(report: ConnectionTestReport): string[] {
  return report.steps.map((step) => `${step.id}:${step.outcome}`);
}

describe('replica test (RFB probe)', { timeout: 60_000 }, () => {
  it('walks a server with no password through every step and reads its desktop', async () => {
    const report = await probe(await scriptedServer(rfb38([1], null)));
    assert.deepEqual(outcomes(report), ['reach:passed', 'version:passed', 'security:passed', 'auth:passed', 'desktop:passed']);
    assert.equal(report.ok, true);
    assert.match(report.steps[4]!.detail, /640×400 named “lab desktop”/);
  });

  it('tries the password: accepted, refused, or not given', async () => {
    const port = await scriptedServer(rfb38([2], 'retro-pw'));
    const accepted = await probe(port, 'retro-pw');
    assert.deepEqual(outcomes(accepted), ['reach:passed', 'version:passed', 'security:passed', 'auth:passed', 'desktop:passed']);
    assert.match(accepted.steps[2]!.detail, /VNC Authentication \(2\)/);

    const refused = await probe(port, 'wrong');
    assert.deepEqual(outcomes(refused), ['reach:passed', 'version:passed', 'security:passed', 'auth:failed']);
    assert.equal(refused.ok, false);
    assert.match(refused.steps[3]!.detail, /refused the password \(Authentication failure\)/);
    assert.doesNotMatch(JSON.stringify(refused), /wrong/, 'the password tried never appears in the report');

    const none = await probe(port);
    assert.deepEqual(outcomes(none), ['reach:passed', 'version:passed', 'security:passed', 'auth:warning']);
    assert.equal(none.ok, true, 'a missing password is asked at connect time: a warning, not a failure');
  });

  it('says when the port is not a VNC server, or nothing listens', async () => {
    const http = await scriptedServer(async (socket) => {
      socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
    });
    const report = await probe(http);
    assert.deepEqual(outcomes(report), ['reach:passed', 'version:failed']);
    assert.match(report.steps[1]!.detail, /not a VNC server/);

    const closed = await scriptedServer(async () => undefined);
    servers.at(-1)!.close();
    const refused = await probe(closed);
    assert.deepEqual(outcomes(refused), ['reach:failed']);
  });

  it('gives up on a server that stalls mid-handshake, naming the step', async () => {
    const port = await scriptedServer(async (socket) => {
      socket.write('RFB 003.008\n');
      // …and nothing more.
    });
    const report = await probe(port, undefined, 300);
    assert.deepEqual(outcomes(report), ['reach:passed', 'version:passed', 'security:failed']);
    assert.match(report.steps[2]!.detail, /stopped answering/);
  });

  it('reports a refusal with the server\'s reason, control characters escaped', async () => {
    const port = await scriptedServer(async (socket, reader) => {
      socket.write('RFB 003.008\n');
      await reader.read(12);
      socket.end(Buffer.concat([Buffer.from([0]), reason('Too many security failures\u001b]0;pwned\u0007')]));
    });
    const report = await probe(port);
    assert.deepEqual(outcomes(report), ['reach:passed', 'version:passed', 'security:failed']);
    assert.match(report.steps[2]!.detail, /Too many security failures\\u001b\]0;pwned\\u0007/);
    assert.ok(!report.steps[2]!.detail.includes(String.fromCharCode(0x1b)), "no raw ESC reaches the report");
  });

  it('stops with a warning at security types it does not speak', async () => {
    const report = await probe(await scriptedServer(rfb38([19, 16], null)));
    assert.deepEqual(outcomes(report), ['reach:passed', 'version:passed', 'security:warning']);
    assert.match(report.steps[2]!.detail, /VeNCrypt \(19\), Tight \(16\)/);
  });

  it('speaks RFB 3.3 (the server picks the security type)', async () => {
    const port = await scriptedServer(async (socket, reader) => {
      socket.write('RFB 003.003\n');
      const answer = (await reader.read(12)).toString('latin1');
      assert.equal(answer, 'RFB 003.003\n');
      socket.write(u32(1));
      await reader.u8();
      socket.write(serverInit(800, 600, 'old'));
    });
    const report = await probe(port);
    assert.deepEqual(outcomes(report), ['reach:passed', 'version:passed', 'security:passed', 'auth:passed', 'desktop:passed']);
    assert.match(report.steps[4]!.detail, /800×600/);
  });

  it('reads at most 1 KiB of a desktop name announced as a gigabyte', async () => {
    const port = await scriptedServer(async (socket, reader) => {
      socket.write('RFB 003.008\n');
      await reader.read(12);
      socket.write(Buffer.from([1, 1]));
      await reader.u8();
      socket.write(u32(0));
      await reader.u8();
      socket.write(serverInit(640, 400, 'x'.repeat(4096), 1_000_000_000));
    });
    const report = await probe(port);
    assert.equal(report.steps[4]!.outcome, 'passed');
    assert.ok(report.steps[4]!.detail.length < 1200);
    assert.match(report.steps[4]!.detail, /x…”$/);
  });
});
