// Tests of the simulated L0 over a running demo lab: power operations, snapshots, what happens to
// VNC clients (cut or kept, as with libvirt) and virsh-like errors. Runs in Node.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isL0Error, type L0ErrorCode } from '../../../common/l0';
import { startDemoLab, type DemoLab } from '../../../main/demo/demo-lab';
import { GuestDesktop } from '../../../main/demo/guest-desktop';
import { assertSamePixels, ENC, RfbTestClient, tryConnect } from './rfb-test-client';

const SIZE = { width: 400, height: 300 };

async function rejectsWith(promise: Promise<unknown>, code: L0ErrorCode): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isL0Error(error), `not an L0Error: ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return true;
  });
}

describe('simulated L0', { timeout: 20_000 }, () => {
  let lab: DemoLab;
  let bootPixels: Uint8Array;

  before(async () => {
    lab = await startDemoLab({ replicas: 2, size: SIZE, cursorBlinkMs: 0, password: 'pw' });
    const guest = lab.replica('r1').guest;
    assert.ok(guest);
    bootPixels = guest.pixels.slice();
  });
  after(async () => {
    await lab.stop();
  });

  async function viewer(domain: string): Promise<RfbTestClient> {
    const replica = lab.replicas.find((candidate) => candidate.domain === domain);
    assert.ok(replica);
    const client = await RfbTestClient.connect({ port: replica.port, password: 'pw' });
    client.setEncodings([ENC.Zrle]);
    await client.update(false);
    return client;
  }

  function guestPixels(domain: string): Uint8Array {
    const guest = lab.replica(domain).guest;
    assert.ok(guest, `${domain} has a guest`);
    return guest.pixels;
  }

  it('reports running domains and boots them all alike', async () => {
    assert.equal(await lab.l0.domainState('r1'), 'running');
    assert.equal(await lab.l0.domainState('r2'), 'running');
    assertSamePixels(guestPixels('r2'), bootPixels, SIZE.width);
  });

  it('reset restarts the guest from its boot state inside the same process (clients stay, as with QEMU)', async () => {
    const client = await viewer('r1');
    client.type('typed before reset');
    await client.update(true);
    assert.notEqual(Buffer.compare(Buffer.from(guestPixels('r1')), Buffer.from(bootPixels)), 0);
    await lab.l0.reset('r1');
    assertSamePixels(guestPixels('r1'), bootPixels, SIZE.width, 'guest after reset');
    await client.update(true);
    assert.equal(client.isClosed, false);
    assertSamePixels(client.fb, bootPixels, SIZE.width, 'client after reset');
    client.type('after');
    await client.update(true);
    assert.equal(lab.replica('r1').guest?.text.lines[1], 'after', 'input reaches the new guest');
    client.close();
  });

  it('reboot also restores the boot state', async () => {
    const client = await viewer('r2');
    client.type('x');
    await client.update(true);
    await lab.l0.reboot('r2');
    assertSamePixels(guestPixels('r2'), bootPixels, SIZE.width);
    client.close();
  });

  it('destroy cuts every client and the port refuses; start brings it back on the same port at boot state', async () => {
    const port = lab.replicas[0]?.port ?? 0;
    const client = await viewer('r1');
    client.type('lost on destroy');
    await client.update(true);
    await lab.l0.destroy('r1');
    assert.equal(await client.closedWithin(2000), true, 'client cut');
    assert.equal(await lab.l0.domainState('r1'), 'shut off');
    assert.equal(await tryConnect(port), 'ECONNREFUSED');
    await lab.l0.start('r1');
    assert.equal(await lab.l0.domainState('r1'), 'running');
    assert.equal(lab.replica('r1').port, port);
    const again = await viewer('r1');
    assertSamePixels(again.fb, bootPixels, SIZE.width);
    again.close();
  });

  it('snapshot revert restores the captured pixels as a new process, cutting every client', async () => {
    const client = await viewer('r2');
    client.type('state to keep');
    client.pointer(100, 200, 1);
    client.pointer(200, 250, 1);
    client.pointer(200, 250, 0);
    client.cutText('clipboard kept');
    await client.update(true);
    await lab.l0.snapshotCreate('r2', 'good');
    const kept = guestPixels('r2').slice();
    client.type(' then damage');
    await client.update(true);
    await lab.l0.snapshotRevert('r2', 'good');
    assert.equal(await client.closedWithin(2000), true, 'revert cuts the client');
    const again = await viewer('r2');
    assertSamePixels(again.fb, kept, SIZE.width, 'pixels after revert');
    assert.equal(lab.replica('r2').guest?.text.lines[1], 'state to keep');
    assert.equal(lab.replica('r2').guest?.clipboardText, 'clipboard kept');
    assert.deepEqual(await lab.l0.listSnapshots('r2'), ['good']);
    again.close();
  });

  it('a snapshot of a shut-off domain reverts to shut off; reverting a running snapshot boots it', async () => {
    await lab.l0.snapshotCreate('r1', 'running-state');
    await lab.l0.destroy('r1');
    await lab.l0.snapshotCreate('r1', 'off-state');
    await lab.l0.snapshotRevert('r1', 'running-state');
    assert.equal(await lab.l0.domainState('r1'), 'running');
    await lab.l0.snapshotRevert('r1', 'off-state');
    assert.equal(await lab.l0.domainState('r1'), 'shut off');
    assert.deepEqual(await lab.l0.listSnapshots('r1'), ['running-state', 'off-state']);
    await lab.l0.start('r1');
  });

  it('refuses illegal operations with virsh-like L0Error codes', async () => {
    await rejectsWith(lab.l0.start('r1'), 'invalid-state');
    await rejectsWith(lab.l0.domainState('nope'), 'no-such-domain');
    await rejectsWith(lab.l0.reset('nope'), 'no-such-domain');
    await rejectsWith(lab.l0.snapshotRevert('r1', 'missing'), 'no-such-snapshot');
    await rejectsWith(lab.l0.snapshotCreate('r1', 'running-state'), 'command-failed');
    await rejectsWith(lab.l0.snapshotCreate('r1', '-bad name'), 'invalid-argument');
    await rejectsWith(lab.l0.snapshotCreate('r1', '42'), 'invalid-argument');
    await lab.l0.destroy('r1');
    await rejectsWith(lab.l0.destroy('r1'), 'invalid-state');
    await rejectsWith(lab.l0.reset('r1'), 'invalid-state');
    await rejectsWith(lab.l0.reboot('r1'), 'invalid-state');
    await lab.l0.start('r1');
    assert.equal(await lab.l0.domainState('r1'), 'running');
  });

  it('treats a crashed domain like virsh: no snapshot or reboot, but start, reset or destroy', async () => {
    await lab.setFault('r2', { kind: 'crash' });
    assert.equal(await lab.l0.domainState('r2'), 'crashed');
    await rejectsWith(lab.l0.snapshotCreate('r2', 'while-crashed'), 'invalid-state');
    await rejectsWith(lab.l0.reboot('r2'), 'invalid-state');
    await lab.l0.start('r2');
    assertSamePixels(guestPixels('r2'), bootPixels, SIZE.width, 'a crashed domain starts from boot');
    await lab.setFault('r2', { kind: 'crash' });
    await lab.l0.destroy('r2');
    assert.equal(await lab.l0.domainState('r2'), 'shut off');
    await lab.l0.start('r2');
  });

  it('serialises concurrent operations on one domain', async () => {
    const results = await Promise.allSettled([lab.l0.destroy('r2'), lab.l0.start('r2'), lab.l0.destroy('r2'), lab.l0.start('r2')]);
    assert.deepEqual(
      results.map((result) => result.status),
      ['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled'],
    );
    assert.equal(await lab.l0.domainState('r2'), 'running');
  });

  it('reports state reasons, the domains and their displays, and deletes snapshots, like virsh', async () => {
    assert.deepEqual(await lab.l0.listDomains(), [
      { name: 'r1', state: 'running' },
      { name: 'r2', state: 'running' },
    ]);
    const replica = lab.replica('r1');
    const display = await lab.l0.domainDisplay('r1');
    assert.equal(display, `vnc://${replica.host}:${replica.port - 5900}`);
    assert.equal(Number(/:(\d+)$/.exec(display)?.[1]) + 5900, replica.port, 'display number + 5900 is the port');

    await lab.l0.destroy('r1');
    assert.deepEqual(await lab.l0.domainStateReason('r1'), { state: 'shut off', reason: 'destroyed' });
    await rejectsWith(lab.l0.domainDisplay('r1'), 'invalid-state');
    await lab.l0.start('r1');
    assert.deepEqual(await lab.l0.domainStateReason('r1'), { state: 'running', reason: 'booted' });
    await lab.l0.snapshotRevert('r1', 'running-state');
    assert.deepEqual(await lab.l0.domainStateReason('r1'), { state: 'running', reason: 'from snapshot' });

    await lab.l0.snapshotDelete('r1', 'off-state');
    assert.deepEqual(await lab.l0.listSnapshots('r1'), ['running-state']);
    await rejectsWith(lab.l0.snapshotDelete('r1', 'off-state'), 'no-such-snapshot');
    await rejectsWith(lab.l0.snapshotDelete('nope', 'x'), 'no-such-domain');

    await lab.setFault('r2', { kind: 'crash' });
    assert.deepEqual(await lab.l0.domainStateReason('r2'), { state: 'crashed', reason: 'panicked' });
    assert.deepEqual((await lab.l0.listDomains()).find((domain) => domain.name === 'r2'), { name: 'r2', state: 'crashed' });
    await lab.l0.start('r2');
    assert.deepEqual(await lab.l0.domainStateReason('r2'), { state: 'running', reason: 'booted' });
  });

  it('boots a guest identical to a fresh GuestDesktop with the lab title', () => {
    const fresh = new GuestDesktop({ ...SIZE, title: 'demo-vm: RetroVisor demo guest', cursorBlinkMs: 0 });
    assertSamePixels(fresh.pixels, bootPixels, SIZE.width);
  });
});
