// `retrovisor run` against the shared lab's real servers: JSON state events on stdout and the
// documented exit statuses (0 all connected and agreeing, 1 not all connected, 2 bad profile or
// arguments, 3 the screens still disagreed at the end).

import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { loadLabDescription, type LabDescription } from '../lab/lab';
import { runCli, writeProfile } from './support/app';

describe('retrovisor run', { timeout: 7 * 60_000 }, () => {
  let lab: LabDescription;
  before(() => {
    lab = loadLabDescription();
  });

  it('connects every replica, prints connected events as JSON lines, and exits 3 for the VM of another desktop size', async () => {
    const [x1, x2, xpw] = lab.xvnc;
    const vm = lab.vms[0];
    assert.ok(x1 && x2 && xpw?.password && vm);
    const profile = writeProfile({
      version: 1,
      name: 'run test',
      replicas: [
        { id: 'r1', label: 'one', vnc: { host: x1.host, port: x1.port } },
        { id: 'r2', label: 'two', vnc: { host: x2.host, port: x2.port } },
        { id: 'r3', label: 'password', vnc: { host: xpw.host, port: xpw.port, password: { env: 'RUN_TEST_PW' } } },
        { id: 'r4', label: 'vm', vnc: { host: vm.host, port: vm.port } },
      ],
    });
    const result = await runCli(['run', '--profile', profile, '--duration', '8', '--json'], { RUN_TEST_PW: xpw.password });
    // The VM's 720×400 desktop against three 640×400 xterms: a size divergence naming it, to the end.
    assert.equal(result.status, 3, `exit status; stderr:\n${result.stderr}\nstdout:\n${result.stdout}`);
    const sizeDivergence = result.events.find((event) => event.type === 'divergence' && event.kind === 'size');
    assert.deepEqual(sizeDivergence?.outliers, ['r4'], result.stdout);
    for (const [id, width, height] of [['r1', 640, 400], ['r2', 640, 400], ['r3', 640, 400], ['r4', 720, 400]] as const) {
      const connected = result.events.find((event) => event.type === 'replica' && event.id === id && event.state === 'connected');
      assert.deepEqual(connected, { type: 'replica', id, state: 'connected', width, height }, `${id}: ${result.stdout}`);
    }
    assert.ok(!result.stdout.includes(xpw.password), 'the password never appears in the output');
    assert.ok(!result.stderr.includes(xpw.password), 'the password never appears in the logs');
  });

  it('exits 1 when a replica never connects, and says which', async () => {
    const [x1] = lab.xvnc;
    assert.ok(x1);
    const profile = writeProfile({
      version: 1,
      name: 'one unreachable',
      replicas: [
        { id: 'up', vnc: { host: x1.host, port: x1.port } },
        { id: 'down', vnc: { host: '127.0.0.1', port: 1 } },
      ],
    });
    const result = await runCli(['run', '--profile', profile, '--duration', '4', '--json']);
    assert.equal(result.status, 1, result.stderr);
    assert.ok(result.events.some((event) => event.id === 'up' && event.state === 'connected'));
    assert.ok(result.events.some((event) => event.id === 'down' && (event.state === 'reconnecting' || event.state === 'disconnected')));
    assert.match(result.stderr, /never connected: down/);
  });

  it('exits 2 with one message per problem on a bad profile', async () => {
    const profile = writeProfile({ version: 1, name: 'bad', replicas: [{ id: 'r1', vnc: { host: 'h', port: 0 } }], extra: true });
    const result = await runCli(['run', '--profile', profile, '--json']);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /\$\.replicas\[0\]\.vnc\.port: must be a TCP port/);
    assert.match(result.stderr, /\$\.extra: unknown field/);
    assert.equal(result.stdout, '');
  });

  it('exits 2 on bad arguments or a missing profile file', async () => {
    assert.equal((await runCli(['run'])).status, 2);
    assert.equal((await runCli(['run', '--profile', '/nonexistent/profile.json'])).status, 2);
    assert.equal((await runCli(['run', '--profile', 'x.json', '--duration', 'soon'])).status, 2);
    assert.equal((await runCli(['frobnicate'])).status, 2);
  });
});
