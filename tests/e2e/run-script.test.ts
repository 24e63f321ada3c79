// `retrovisor run --script` against real Xvnc+xterm servers: the steps reach every replica through
// the renderer's broadcast (both end identical to a control server given the same input by xdotool),
// `--json` prints every input with its sequence number, a replica that never connects is left out
// once a strict majority is connected (or the script refused with --require-all), and a bad script
// is refused with exit 2.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { execFile } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { compareFramebuffers, startXvnc, waitForStableFramebuffer, type XvncHandle } from '../lab/components';
import { runCli, writeProfile } from './support/app';
import { scratchFolder } from './support/scratch';

const run = promisify(execFile);

/** A loopback port where nothing listens (bound, then released). */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function writeScript(steps: unknown): string {
  const path = join(scratchFolder('script'), 'steps.json');
  writeFileSync(path, JSON.stringify(steps));
  return path;
}

describe('retrovisor run --script', { timeout: 360_000 }, () => {
  let servers: XvncHandle[];
  let control: XvncHandle;

  before(async () => {
    const started = await Promise.all([startXvnc(), startXvnc(), startXvnc()]);
    servers = started.slice(0, 2);
    control = started[2];
  });

  after(async () => {
    await Promise.allSettled([...(servers ?? []), control].map((server) => server?.stop()));
  });

  it('plays the steps into every replica, prints each input with its sequence number, and exits 0', async () => {
    const profile = writeProfile({
      version: 1,
      name: 'script test',
      replicas: servers.map((server, index) => ({ id: `r${index + 1}`, label: `xterm ${index + 1}`, vnc: { host: server.host, port: server.port } })),
    });
    const script = writeScript([
      { type: 'text', text: 'echo "(hi|there)_~"\n' },
      { type: 'settle', timeoutMs: 10000 },
      { type: 'key', key: 'Control_L+l' },
      { type: 'text', text: 'seq 1 3' },
      { type: 'key', key: 'Return' },
      { type: 'wait', ms: 100 },
      { type: 'click', x: 30, y: 6, button: 1 },
      { type: 'settle', timeoutMs: 10000 },
    ]);
    const result = await runCli(['run', '--profile', profile, '--script', script, '--json', '--duration', '60']);
    assert.equal(result.status, 0, `stderr:\n${result.stderr}\nstdout:\n${result.stdout}`);
    const events = result.events;
    const inputs = events.filter((event) => event.type === 'input');
    assert.ok(inputs.length > 40, `${inputs.length} input events`);
    assert.deepEqual(
      inputs.map((event) => event.seq),
      inputs.map((_event, index) => index + 1),
      'sequence numbers 1, 2, 3… without a gap',
    );
    assert.ok(inputs.every((event) => event.origin === 'script' && JSON.stringify(event.targets) === '["r1","r2"]'));
    const scriptEvent = events.find((event) => event.type === 'script');
    assert.deepEqual(scriptEvent, { type: 'script', ok: true, stepsRun: 8, steps: 8 });
    assert.ok(events.indexOf(scriptEvent) > events.indexOf(inputs.at(-1) as Record<string, unknown>), 'inputs come before the result');

    const env = { ...process.env, DISPLAY: `:${control.display}` };
    await run('xdotool', ['type', '--', 'echo "(hi|there)_~"'], { env });
    await run('xdotool', ['key', 'Return'], { env });
    // As the script's settle step does: the echo's output is on the screen before Ctrl+L clears it.
    await waitForStableFramebuffer(control);
    await run('xdotool', ['key', 'ctrl+l', 'type', 'seq 1 3'], { env });
    await run('xdotool', ['key', 'Return', 'mousemove', '30', '6', 'click', '1'], { env });
    const expected = await waitForStableFramebuffer(control);
    for (const server of servers) {
      const screen = await waitForStableFramebuffer(server);
      const comparison = compareFramebuffers(screen, expected);
      assert.ok(comparison.identical, `${server.display}: ${comparison.differingPixels} pixels differ in ${JSON.stringify(comparison.box)}`);
    }
  });

  it('runs on a connected strict majority after --connect-timeout, names the replica left out, and --require-all refuses', async () => {
    const closed = await closedPort();
    const profile = writeProfile({
      version: 1,
      name: 'majority script',
      replicas: [
        ...servers.map((server, index) => ({ id: `r${index + 1}`, vnc: { host: server.host, port: server.port } })),
        { id: 'r3', vnc: { host: '127.0.0.1', port: closed } },
      ],
    });
    const script = writeScript([{ type: 'text', text: 'x' }]);
    const majority = await runCli(['run', '--profile', profile, '--script', script, '--json', '--connect-timeout', '3', '--duration', '60']);
    const scriptEvent = majority.events.find((event) => event.type === 'script');
    assert.deepEqual(scriptEvent, { type: 'script', ok: true, stepsRun: 1, steps: 1, without: ['r3'] }, majority.stderr);
    const inputs = majority.events.filter((event) => event.type === 'input');
    assert.ok(inputs.length > 0 && inputs.every((event) => JSON.stringify(event.targets) === '["r1","r2"]'), 'the input reached r1 and r2 only');
    // r3 never connected: the run still says so with its status.
    assert.equal(majority.status, 1);
    assert.match(majority.stderr, /never connected: r3/);

    const strict = await runCli(['run', '--profile', profile, '--script', script, '--json', '--connect-timeout', '3', '--require-all', '--duration', '60']);
    const refused = strict.events.find((event) => event.type === 'script');
    assert.equal(refused?.ok, false);
    assert.match(String(refused?.error), /r3.*--require-all was given: the script did not run/);
    assert.equal(strict.events.filter((event) => event.type === 'input').length, 0, 'no input was sent');
    assert.equal(strict.status, 1);
  });

  it('refuses a bad script with every problem and exit status 2, before connecting anything', async () => {
    const profile = writeProfile({ version: 1, name: 'x', replicas: [{ id: 'r1', vnc: { host: '127.0.0.1', port: servers[0]?.port } }] });
    const script = writeScript([{ type: 'key', key: 'Bogus' }, { type: 'wheel' }]);
    const result = await runCli(['run', '--profile', profile, '--script', script, '--json']);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /\$\[0\]\.key: unknown key name "Bogus"/);
    assert.match(result.stderr, /\$\[1\]: a wheel step needs dy or dx/);
    assert.equal(result.stdout, '');
  });
});
