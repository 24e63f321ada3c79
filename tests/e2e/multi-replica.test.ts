// End to end, through the browser shell in headless Chromium: real Xvnc servers (one with a VNC
// password), a QEMU VM console and an SSH-tunnelled replica all connect and show their real screens;
// a killed server reconnects; hostile servers fail alone; the launch secret guards every request.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { WebSocket } from 'ws';
import { startXvnc, type XvncHandle } from '../lab/components';
import { loadLabDescription, type LabDescription } from '../lab/lab';
import {
  assertCanvasShowsServer,
  launchBrowser,
  openAppPage,
  startApp,
  thumbnailCanvas,
  waitForReplicaState,
  writeProfile,
  type RunningApp,
} from './support/app';
import { startHostileServer, type HostileServer } from './support/hostile-server';

const PASSWORD_ENV = 'RETROVISOR_E2E_VNC_PW';

describe('viewing N real replicas', { timeout: 7 * 60_000 }, () => {
  let lab: LabDescription;
  let own: XvncHandle;
  let huge: HostileServer;
  let garbage: HostileServer;
  let app: RunningApp;
  let browser: Browser;
  let page: Page;
  const targets = new Map<string, { host: string; port: number; password?: string }>();

  before(async () => {
    lab = loadLabDescription();
    const [x1, x2, xpw] = lab.xvnc;
    const vm = lab.vms[0];
    assert.ok(x1 && x2 && xpw?.password && vm && lab.sshd, 'the shared lab must have 3 Xvnc (the third with a password), a VM and sshd');
    [own, huge, garbage, browser] = await Promise.all([startXvnc(), startHostileServer('huge-desktop'), startHostileServer('garbage'), launchBrowser()]);
    targets.set('x1', x1).set('x2', x2).set('xpw', xpw).set('vm', vm).set('tunnel', x1).set('own', own);
    const profilePath = writeProfile({
      version: 1,
      name: 'e2e lab',
      replicas: [
        { id: 'x1', label: 'Xvnc one', vnc: { host: x1.host, port: x1.port } },
        { id: 'x2', label: 'Xvnc two', vnc: { host: x2.host, port: x2.port } },
        { id: 'xpw', label: 'Xvnc with password', vnc: { host: xpw.host, port: xpw.port, password: { env: PASSWORD_ENV } } },
        { id: 'vm', label: 'QEMU VM', vnc: { host: vm.host, port: vm.port } },
        { id: 'tunnel', label: 'Xvnc one via SSH', vnc: { host: '127.0.0.1', port: x1.port, tunnel: true }, l0: 'lab' },
        { id: 'own', label: 'Xvnc to kill', vnc: { host: own.host, port: own.port } },
        { id: 'huge', label: 'hostile: huge desktop', vnc: { host: '127.0.0.1', port: huge.port } },
        { id: 'garbage', label: 'hostile: garbage', vnc: { host: '127.0.0.1', port: garbage.port } },
      ],
      l0: {
        lab: {
          ssh: { host: lab.sshd.host, port: lab.sshd.port, user: lab.sshd.user, identityFile: lab.sshd.identityFile, hostKey: lab.sshd.hostKeyFingerprint },
        },
      },
    });
    app = await startApp({ profilePath, env: { [PASSWORD_ENV]: xpw.password } });
    page = await openAppPage(browser, app);
  });

  after(async () => {
    await browser?.close();
    await app?.stop();
    await Promise.allSettled([own?.stop(), huge?.stop(), garbage?.stop()]);
  });

  it('connects every real replica: plain, password from the profile, QEMU console, SSH tunnel', async () => {
    for (const id of ['x1', 'x2', 'xpw', 'vm', 'tunnel', 'own']) {
      await waitForReplicaState(page, id, 'connected', 60_000).catch((error: unknown) => {
        throw new Error(`${id} did not connect: ${String(error)}\napp stderr:\n${app.stderr()}`);
      });
    }
  });

  it('shows each replica\'s real screen in its thumbnail, pixel for pixel', async () => {
    for (const [id, target] of targets) await assertCanvasShowsServer(page, thumbnailCanvas(id), target, id);
  });

  it('shows the reference replica on the composite, pixel for pixel', async () => {
    const x1 = targets.get('x1');
    assert.ok(x1);
    await assertCanvasShowsServer(page, '#composite', x1, 'composite');
  });

  it('fails a hostile server alone, with a reason, while the others stay connected', async () => {
    for (const id of ['huge', 'garbage']) {
      await waitForReplicaState(page, id, ['disconnected', 'reconnecting'], 20_000);
    }
    const hugeText = await page.textContent('[data-replica-id="huge"]');
    assert.match(hugeText ?? '', /65535/, 'the huge-desktop replica says why it failed');
    for (const id of ['x1', 'x2', 'xpw', 'vm', 'tunnel', 'own']) {
      assert.equal(await page.getAttribute(`[data-replica-id="${id}"]`, 'data-state'), 'connected', `${id} must be unaffected`);
    }
  });

  it('shows a killed server as disconnected and reconnects when it is back, others unaffected', async () => {
    await own.kill();
    await waitForReplicaState(page, 'own', ['disconnected', 'reconnecting'], 15_000);
    assert.match((await page.textContent('[data-replica-id="own"]')) ?? '', /reconnecting in \d+ s|disconnected/);
    for (const id of ['x1', 'x2', 'xpw', 'vm', 'tunnel']) {
      assert.equal(await page.getAttribute(`[data-replica-id="${id}"]`, 'data-state'), 'connected', `${id} must be unaffected`);
    }
    await own.restart();
    await waitForReplicaState(page, 'own', 'connected', 30_000);
    await assertCanvasShowsServer(page, thumbnailCanvas('own'), own, 'the reconnected replica shows its screen again');
  });

  it('refuses HTTP and WebSocket requests without the launch secret or from another origin', async () => {
    const base = `http://127.0.0.1:${app.port}`;
    const secretPath = new URL(app.url).pathname;
    assert.equal((await fetch(`${base}/`)).status, 403);
    assert.equal((await fetch(`${base}/app.js`)).status, 403);
    assert.equal((await fetch(`${base}/${'x'.repeat(43)}/`)).status, 403);
    assert.equal((await fetch(`${base}${secretPath}`)).status, 200);
    assert.equal((await fetch(`${base}${secretPath}app.js`)).status, 200);
    assert.equal((await fetch(`${base}${secretPath}../../etc/passwd`)).status, 403, 'a path escaping the secret loses it');
    assert.equal((await fetch(`${base}${secretPath}..%2F..%2Fpackage.json`)).status, 404, 'an encoded path escaping the renderer folder');

    const attempt = (path: string, origin: string): Promise<'open' | 'refused'> =>
      new Promise((resolve) => {
        const socket = new WebSocket(`ws://127.0.0.1:${app.port}${path}`, { origin });
        socket.once('open', () => {
          socket.close();
          resolve('open');
        });
        socket.once('error', () => resolve('refused'));
      });
    assert.equal(await attempt('/rpc', base), 'refused');
    assert.equal(await attempt(`/${'y'.repeat(43)}/rpc`, base), 'refused');
    assert.equal(await attempt(`${secretPath}rpc`, 'http://evil.example'), 'refused');
    assert.equal(await attempt(`${secretPath}rpc`, base), 'open');
  });
});

describe('quick connect, password prompt and profile problems', { timeout: 7 * 60_000 }, () => {
  let app: RunningApp;
  let browser: Browser;
  let page: Page;
  let lab: LabDescription;

  before(async () => {
    lab = loadLabDescription();
    [app, browser] = await Promise.all([startApp(), launchBrowser()]);
    page = await browser.newPage();
    await page.goto(app.url);
  });

  after(async () => {
    await browser?.close();
    await app?.stop();
  });

  it('lists every problem of a bad profile with its JSON path', async () => {
    await page.setInputFiles('[data-testid="open-profile-input"]', {
      name: 'bad.json',
      mimeType: 'application/json',
      buffer: Buffer.from(JSON.stringify({ version: 1, name: 'bad', replicas: [{ id: 'r1', vnc: { host: '127.0.0.1', port: 99999 } }, { id: 'r1', vnc: {} }] })),
    });
    const problems = (await page.textContent('[data-testid="profile-problems"]', { timeout: 10_000 })) ?? '';
    assert.match(problems, /\$\.replicas\[0\]\.vnc\.port/);
    assert.match(problems, /\$\.replicas\[1\]\.id/);
    assert.match(problems, /\$\.replicas\[1\]\.vnc\.host/);
  });

  it('asks for a password, reports a wrong one, and connects with the right one', async () => {
    const xpw = lab.xvnc.find((server) => server.password !== undefined);
    const x2 = lab.xvnc[1];
    assert.ok(xpw?.password && x2);
    await page.fill('[data-testid="quick-connect-endpoints"]', `127.0.0.1::${xpw.port} 127.0.0.1::${x2.port}`);
    await page.click('[data-testid="quick-connect-submit"]');
    await waitForReplicaState(page, 'r2', 'connected');
    await waitForReplicaState(page, 'r1', 'needs-password');
    await page.fill('[data-testid="password-input"]', 'not-the-password');
    await page.click('[data-testid="password-submit"]');
    await waitForReplicaState(page, 'r1', 'auth-failed');
    assert.equal(await page.getAttribute('[data-replica-id="r2"]', 'data-state'), 'connected');
    // Retry with the right password: the prompt comes back on retry.
    await page.click('[data-replica-id="r1"] [data-testid="retry-now"]');
    await page.fill('[data-testid="password-input"]', xpw.password);
    await page.click('[data-testid="password-submit"]');
    await waitForReplicaState(page, 'r1', 'connected');
    // Connected means the server's init arrived; its first framebuffer update may still be on its way.
    await assertCanvasShowsServer(page, thumbnailCanvas('r1'), xpw, 'r1 after the right password');
  });
});
