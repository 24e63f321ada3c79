// Tests of the demo lab as RetroVisor uses it: its profile, determinism across replicas driven
// through real RFB clients, blink phases, port allocation and clean shutdown. Runs in Node.

import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { describe, it } from 'node:test';
import { validateProfile } from '../../../common/profile';
import { demoLabProfile, startDemoLab } from '../../../main/demo/demo-lab';
import { assertSamePixels, diffBounds, ENC, NOVNC_PIXEL_FORMAT, RfbTestClient, tryConnect } from './rfb-test-client';

// The same input script, as a viewer broadcasting to every replica would send it.
function script(client: RfbTestClient): void {
  client.type('ls -l /tmp\n');
  client.type('echo "(|)_~!@#$%^&*{}<>?"\n');
  client.press(0xff09); // Tab
  client.type('tabbed');
  client.press(0xff08); // BackSpace
  client.pointer(60, 300, 0);
  client.pointer(60, 300, 1);
  client.pointer(250, 330, 1);
  client.pointer(400, 280, 1);
  client.pointer(400, 280, 0);
  client.cutText('from the clipboard');
}

/** Tries to listen on a port of 127.0.0.1; resolves with the server, or null when it is taken. */
function tryListen(port: number): Promise<Server | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(null));
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

/**
 * `count` consecutive free ports: the OS picks the first, the others are checked by listening on
 * them too (a port of the ephemeral range can be in use by any connection), retried until a block is free.
 */
async function freePortBlock(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const first = await tryListen(0);
    assert.ok(first !== null);
    const address = first.address();
    assert.ok(typeof address === 'object' && address !== null);
    const held: Server[] = [first];
    const base = address.port;
    for (let offset = 1; offset < count && base + offset <= 65535; offset++) {
      const next = await tryListen(base + offset);
      if (next === null) break;
      held.push(next);
    }
    await Promise.all(held.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    if (held.length === count) return base;
  }
  throw new Error(`no ${count} consecutive free ports on 127.0.0.1 after 50 tries`);
}

describe('demo lab', { timeout: 20_000 }, () => {
  it('describes itself as a valid version 1 profile', async () => {
    const lab = await startDemoLab({ replicas: 3, size: { width: 320, height: 240 }, password: 'demo' });
    try {
      const profile = demoLabProfile(lab);
      assert.deepEqual(profile.replicas[0], {
        id: 'r1',
        label: 'Demo 1',
        vnc: { host: '127.0.0.1', port: lab.replicas[0]?.port, password: 'demo' },
        l0: 'demo',
        domain: 'r1',
      });
      assert.deepEqual(profile.l0, { demo: { simulated: true } });
      const validation = validateProfile(JSON.parse(JSON.stringify(profile)));
      assert.ok(validation.ok, JSON.stringify(validation));
      assert.equal(validation.profile.replicas.length, 3);
      assert.deepEqual(validation.profile.l0.demo, { kind: 'simulated' });
      const withoutPassword = demoLabProfile({ replicas: lab.replicas, password: undefined });
      assert.equal('password' in (withoutPassword.replicas[0]?.vnc ?? {}), false);
      assert.equal(new Set(lab.replicas.map((replica) => replica.port)).size, 3, 'distinct ports');
    } finally {
      await lab.stop();
    }
  });

  it('gives identical framebuffers on every replica for the same input', async () => {
    const lab = await startDemoLab({ replicas: 3, size: { width: 480, height: 400 }, cursorBlinkMs: 0 });
    try {
      const clients = await Promise.all(
        lab.replicas.map(async (replica) => {
          const client = await RfbTestClient.connect({ port: replica.port });
          client.setPixelFormat(NOVNC_PIXEL_FORMAT);
          client.setEncodings([ENC.CopyRect, ENC.Zrle, ENC.Raw]);
          await client.update(false);
          return client;
        }),
      );
      for (const client of clients) script(client);
      await Promise.all(clients.map((client) => client.update(true)));
      const reference = lab.replica('r1').guest?.pixels;
      assert.ok(reference);
      for (const [index, client] of clients.entries()) {
        const id = `r${index + 1}`;
        assertSamePixels(lab.replica(id).guest?.pixels ?? new Uint8Array(), reference, 480, `${id} guest`);
        assertSamePixels(client.fb, reference, 480, `${id} as its client sees it`);
      }
      assert.match(clients[0]?.name ?? '', /Demo 1/);
      assert.match(clients[2]?.name ?? '', /Demo 3/);
      for (const client of clients) client.close();
    } finally {
      await lab.stop();
    }
  });

  it('blinks replicas out of phase when their clocks differ, and only the cursor differs', async () => {
    let now = 100;
    const lab = await startDemoLab({
      replicas: 2,
      size: { width: 320, height: 240 },
      clock: (replicaId) => ({ now: () => now + (replicaId === 'r2' ? 500 : 0) }),
    });
    try {
      const [a, b] = [lab.replica('r1').guest, lab.replica('r2').guest];
      assert.ok(a && b);
      assert.deepEqual(diffBounds(a.pixels, b.pixels, 320), a.cellRect(1, 0));
      now = 600;
      a.tick(now);
      b.tick(now + 500);
      assert.deepEqual(diffBounds(a.pixels, b.pixels, 320), a.cellRect(1, 0));
    } finally {
      await lab.stop();
    }
  });

  it('blinks on its own timer with the system clock', async () => {
    const lab = await startDemoLab({ replicas: 1, size: { width: 320, height: 240 }, cursorBlinkMs: 100 });
    try {
      const client = await RfbTestClient.connect({ port: lab.replicas[0]?.port ?? 0 });
      client.setEncodings([ENC.Raw]);
      await client.update(false);
      const rects = await client.update(true); // arrives when the cursor toggles
      assert.deepEqual(
        rects.map(({ x, y, width, height }) => ({ x, y, width, height })),
        [lab.replica('r1').guest?.cellRect(1, 0)],
      );
      client.close();
    } finally {
      await lab.stop();
    }
  });

  it('listens on portBase, portBase+1, ... and frees the ports on stop', async () => {
    const base = await freePortBlock(2);
    const lab = await startDemoLab({ replicas: 2, size: { width: 320, height: 240 }, portBase: base });
    assert.deepEqual(
      lab.replicas.map((replica) => replica.port),
      [base, base + 1],
    );
    assert.equal(await tryConnect(base + 1), 'connected');
    await lab.stop();
    assert.equal(await tryConnect(base), 'ECONNREFUSED');
    assert.equal(await tryConnect(base + 1), 'ECONNREFUSED');
  });

  it('fails cleanly when a port is taken, leaving nothing running', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const address = blocker.address();
    assert.ok(typeof address === 'object' && address !== null);
    // r2 collides with the blocker.
    await assert.rejects(startDemoLab({ replicas: 2, size: { width: 320, height: 240 }, portBase: address.port - 1 }), /EADDRINUSE/);
    assert.equal(await tryConnect(address.port - 1), 'ECONNREFUSED');
    await new Promise<void>((resolve) => blocker.close(() => resolve()));
  });

  it('validates its options', async () => {
    await assert.rejects(startDemoLab({ replicas: 0 }), RangeError);
    await assert.rejects(startDemoLab({ replicas: 9 }), RangeError);
    await assert.rejects(startDemoLab({ replicas: 1, size: { width: 50, height: 50 } }), RangeError);
    await assert.rejects(startDemoLab({ replicas: 2, portBase: 65535 }), RangeError);
  });
});
