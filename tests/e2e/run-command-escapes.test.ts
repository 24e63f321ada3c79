// `retrovisor run`'s output against hostile text: a VNC server whose failure reason carries terminal
// escapes (C0, DEL, C1) and one whose reason is 5000 characters long, in a profile whose label carries
// ESC and bidi overrides. Nothing reaches the terminal raw, and the long reason is still reported.
// Needs Chromium (the real renderer); the servers are fakes on 127.0.0.1.

import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { MAX_REPLICA_REASON_CHARS } from '../../common/contract';
import { runCli, writeProfile } from './support/app';

/** Any control character a terminal could act on (line breaks between lines excepted). */
// eslint-disable-next-line no-control-regex -- finding control characters is the point.
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

/** An RFB 3.8 server that offers no security type and gives `reason` (latin1 bytes, as RFB sends them). */
async function refusingServer(reason: string): Promise<{ port: number; server: Server }> {
  const server = createServer((socket) => {
    socket.on('error', () => socket.destroy());
    socket.write('RFB 003.008\n');
    socket.once('data', () => {
      const bytes = Buffer.from(reason, 'latin1');
      const length = Buffer.alloc(4);
      length.writeUInt32BE(bytes.length);
      socket.end(Buffer.concat([Buffer.from([0]), length, bytes]));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(typeof address === 'object' && address !== null);
  return { port: address.port, server };
}

describe('retrovisor run: hostile text reaches the terminal escaped', { timeout: 120_000 }, () => {
  const servers: Server[] = [];
  let hostilePort = 0;
  let longPort = 0;
  const HOSTILE_REASON = 'no\u001b]0;owned\u0007 \u001b[2J\u001b[31mred\u007f \u009b1;1H\u009d2;title\u009c';
  const LONG_REASON = `${'long '.repeat(999)}end!!`;

  before(async () => {
    const hostile = await refusingServer(HOSTILE_REASON);
    const long = await refusingServer(LONG_REASON);
    servers.push(hostile.server, long.server);
    hostilePort = hostile.port;
    longPort = long.port;
  });

  after(async () => {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  });

  it("escapes the servers' reasons and the profile's labels in text mode and in the logs; a 5000-character reason is reported clipped", async () => {
    assert.equal(LONG_REASON.length, 5000);
    const profile = writeProfile({
      version: 1,
      name: 'hostile text',
      replicas: [
        { id: 'r1', label: 'lab\u001b[5m\u202eevil\u2066', vnc: { host: '127.0.0.1', port: hostilePort } },
        { id: 'r2', label: 'long', vnc: { host: '127.0.0.1', port: longPort } },
      ],
    });
    const result = await runCli(['run', '--profile', profile, '--duration', '4'], { RETROVISOR_LOG: 'info' }, 100_000);
    assert.equal(result.status, 1, `exit status; stderr:\n${result.stderr}\nstdout:\n${result.stdout}`);
    for (const [name, text] of [['stdout', result.stdout], ['stderr', result.stderr]] as const) {
      const line = text.split('\n').find((candidate) => RAW_CONTROL.test(candidate));
      assert.equal(line, undefined, `${name} has a raw control character: ${JSON.stringify(line)}`);
    }
    const escapedLabel = 'lab\\u001b[5m\\u202eevil\\u2066';
    const escapedReason = 'no\\u001b]0;owned\\u0007 \\u001b[2J\\u001b[31mred\\u007f \\u009b1;1H\\u009d2;title\\u009c';
    assert.ok(result.stdout.includes(`r1 (${escapedLabel}): auth-failed — ${escapedReason}`), result.stdout);
    const longLine = result.stdout.split('\n').find((line) => line.startsWith('r2 (long): auth-failed — '));
    assert.ok(longLine !== undefined, `the long reason was reported:\n${result.stdout}`);
    const reported = longLine.slice('r2 (long): auth-failed — '.length);
    assert.equal(reported.length, MAX_REPLICA_REASON_CHARS);
    assert.ok(reported.endsWith('…') && LONG_REASON.startsWith(reported.slice(0, -1)), reported);
    assert.doesNotMatch(result.stderr, /could not report its state|expected a string of at most/);
    // The back end logs every state report (text lines at info): the reason is there, escaped.
    assert.ok(result.stderr.includes(escapedReason), result.stderr);
  });
});
