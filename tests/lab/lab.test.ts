// Real-component tests of the lab itself: Xvnc + xterm, a QEMU VM, sshd and the lab's RFB reader.
// Runs in Node on a machine prepared by `npm run lab:install`; everything is started once, in parallel.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client, type ClientChannel } from 'ssh2';
import {
  compareFramebuffers,
  isUniformFramebuffer,
  openSshFingerprint,
  readFramebuffer,
  startXvnc,
  typeWithXdotool,
  waitForStableFramebuffer,
  type XvncHandle,
} from './components.js';
import { describeLab, LAB_FILE_ENV, loadLabDescription, startLab, type Lab } from './lab.js';

const LAB_START_TIMEOUT_MS = 150_000;
const TEST_TIMEOUT_MS = 30_000;
const SETTLE = { quietMs: 300, timeoutMs: 10_000 } as const;

let lab: Lab;
let plainServer: XvncHandle;
let protectedServer: XvncHandle;

before(
  async () => {
    const startedAt = Date.now();
    lab = await startLab({ xvnc: [{}, { password: 'secret' }], vms: 1, sshd: true });
    const [first, second] = lab.xvnc;
    assert.ok(first !== undefined && second !== undefined);
    plainServer = first;
    protectedServer = second;
    const vm = lab.vms[0];
    console.log(
      `lab up in ${Date.now() - startedAt} ms: Xvnc ${lab.xvnc.map((server) => server.startupMs).join('/')} ms, ` +
        `VM ${vm?.startupMs ?? '-'} ms, sshd ${lab.sshd?.startupMs ?? '-'} ms`,
    );
  },
  { timeout: LAB_START_TIMEOUT_MS },
);

after(async () => {
  await lab?.stop();
});

describe('Xvnc', { timeout: 7 * 60_000 }, () => {
  test('each server shows a 640x400 screen with the xterm drawn', { timeout: TEST_TIMEOUT_MS }, async () => {
    for (const server of [plainServer, protectedServer]) {
      const framebuffer = await readFramebuffer(server);
      assert.equal(framebuffer.width, 640);
      assert.equal(framebuffer.height, 400);
      assert.equal(framebuffer.rgba.length, 640 * 400 * 4);
      assert.equal(isUniformFramebuffer(framebuffer), false, `the screen of :${server.display} is uniform: xterm not drawn`);
      assert.equal(framebuffer.rgba[3], 255, 'alpha is opaque');
    }
  });

  test('a wrong or missing password is rejected with a clear error', { timeout: TEST_TIMEOUT_MS }, async () => {
    await assert.rejects(readFramebuffer({ ...protectedServer, password: 'wrong' }), /VNC authentication failed \(wrong password\?\)/);
    await assert.rejects(readFramebuffer({ host: protectedServer.host, port: protectedServer.port }), /requires a VNC password/);
  });

  test('the same keys give identical screens; one extra key makes them differ', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    await Promise.all([typeWithXdotool(plainServer.display, 'echo lab\n'), typeWithXdotool(protectedServer.display, 'echo lab\n')]);
    const [plainBefore, protectedBefore] = await Promise.all([
      waitForStableFramebuffer(plainServer, SETTLE),
      waitForStableFramebuffer(protectedServer, SETTLE),
    ]);
    assert.equal(compareFramebuffers(plainBefore, protectedBefore).identical, true, 'same keys, same screen');

    await typeWithXdotool(plainServer.display, 'x');
    const plainAfter = await waitForStableFramebuffer(plainServer, { ...SETTLE, accept: (framebuffer) => !compareFramebuffers(framebuffer, plainBefore).identical });
    const difference = compareFramebuffers(plainAfter, protectedBefore);
    t.diagnostic(`one extra key changed ${difference.differingPixels} px in ${JSON.stringify(difference.box)}`);
    assert.equal(difference.identical, false);
    assert.ok(difference.box !== undefined);
    // One character cell (6x13 in the fixed font) plus the cursor moving to the next cell.
    assert.ok(difference.box.width <= 12 && difference.box.height <= 13, `difference box ${JSON.stringify(difference.box)} is larger than one key`);
  });

  test('kill() takes the server down and restart() brings it back on the same port', { timeout: TEST_TIMEOUT_MS }, async () => {
    const oldPid = plainServer.pid;
    await plainServer.kill();
    await assert.rejects(readFramebuffer(plainServer, { timeoutMs: 2000 }), /ECONNREFUSED|closed/);
    await plainServer.restart();
    assert.notEqual(plainServer.pid, oldPid);
    const framebuffer = await readFramebuffer(plainServer);
    assert.equal(framebuffer.width, 640);
    assert.equal(isUniformFramebuffer(framebuffer), false);
  });

  test('a missing binary names the install command', { timeout: TEST_TIMEOUT_MS }, async () => {
    const savedPath = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      await assert.rejects(startXvnc(), (error: unknown) => {
        assert.ok(error instanceof Error);
        assert.match(error.message, /^Xvnc not found: run `npm run lab:install` \(or: apt-get install -y .*tigervnc-standalone-server/);
        return true;
      });
    } finally {
      process.env.PATH = savedPath;
    }
  });
});

describe('QEMU VM', { timeout: 7 * 60_000 }, () => {
  test('boots to a settled 720x400 text console', { timeout: TEST_TIMEOUT_MS }, async () => {
    const vm = lab.vms[0];
    assert.ok(vm !== undefined);
    assert.match(await readFile(vm.serialLogPath, 'utf8'), /READY/);
    const framebuffer = await readFramebuffer(vm);
    assert.equal(framebuffer.width, 720);
    assert.equal(framebuffer.height, 400);
    assert.equal(isUniformFramebuffer(framebuffer), false, 'the shell prompt is on screen');
  });
});

describe('sshd', { timeout: 7 * 60_000 }, () => {
  function connect(fingerprint: string): Promise<Client> {
    const sshd = lab.sshd;
    assert.ok(sshd !== undefined);
    return new Promise((resolve, reject) => {
      const client = new Client();
      client.once('ready', () => resolve(client));
      client.once('error', reject);
      client.connect({
        host: sshd.host,
        port: sshd.port,
        username: sshd.user,
        privateKey: readFileSync(sshd.identityFile),
        readyTimeout: 10_000,
        hostVerifier: (key: Buffer) => openSshFingerprint(key) === fingerprint,
      });
    });
  }

  function readAll(stream: ClientChannel, byteLimit: number): Promise<string> {
    return new Promise((resolve, reject) => {
      let received = '';
      const timer = setTimeout(() => reject(new Error(`no complete answer within 10 s (got ${JSON.stringify(received)})`)), 10_000);
      stream.on('data', (chunk: Buffer) => {
        received += chunk.toString('latin1');
        if (received.length >= byteLimit) {
          clearTimeout(timer);
          resolve(received);
        }
      });
      stream.on('close', () => {
        clearTimeout(timer);
        resolve(received);
      });
    });
  }

  test('accepts the client key, runs a command and forwards to an Xvnc port', { timeout: TEST_TIMEOUT_MS }, async () => {
    const sshd = lab.sshd;
    assert.ok(sshd !== undefined);
    assert.match(sshd.hostKeyFingerprint, /^SHA256:[A-Za-z0-9+/]{43}$/);
    const client = await connect(sshd.hostKeyFingerprint);
    try {
      const output = await new Promise<string>((resolve, reject) => {
        client.exec('echo ok', (error, stream) => (error ? reject(error) : resolve(readAll(stream, Number.POSITIVE_INFINITY))));
      });
      assert.equal(output, 'ok\n');
      const greeting = await new Promise<string>((resolve, reject) => {
        client.forwardOut('127.0.0.1', 0, protectedServer.host, protectedServer.port, (error, stream) => {
          if (error) reject(error);
          else {
            readAll(stream, 12).then((text) => {
              stream.close();
              resolve(text);
            }, reject);
          }
        });
      });
      assert.equal(greeting.slice(0, 12), 'RFB 003.008\n');
    } finally {
      client.end();
    }
  });

  test('a client pinning another host key refuses to connect', { timeout: TEST_TIMEOUT_MS }, async () => {
    await assert.rejects(connect('SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'), /verification failed|Host denied/i);
  });
});

describe('lab description', { timeout: 7 * 60_000 }, () => {
  test('round-trips through a file named by RETROVISOR_LAB_FILE', { timeout: TEST_TIMEOUT_MS }, async () => {
    const directory = await mkdtemp(path.join(os.tmpdir(), 'retrovisor-lab-'));
    const savedFile = process.env[LAB_FILE_ENV];
    try {
      const description = describeLab(lab);
      const filePath = path.join(directory, 'lab.json');
      await writeFile(filePath, JSON.stringify(description));
      process.env[LAB_FILE_ENV] = filePath;
      assert.deepEqual(loadLabDescription(), description);
      assert.equal(description.xvnc[1]?.password, 'secret');
      assert.equal(description.vms.length, 1);
      const vncPort = description.xvnc[0]?.port;
      assert.ok(vncPort !== undefined && (await isListening(vncPort)));
    } finally {
      if (savedFile === undefined) delete process.env[LAB_FILE_ENV];
      else process.env[LAB_FILE_ENV] = savedFile;
      await rm(directory, { recursive: true, force: true });
    }
  });
});

function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setTimeout(2000, () => socket.destroy());
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('close', () => resolve(false));
  });
}
