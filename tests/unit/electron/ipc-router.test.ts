// Several windows over one ipcMain: each window's binding hears only its own window's messages, a
// sender with no window is refused (its ports closed), and a closed window's binding is gone.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { IpcEventLike, IpcMainLike, MainMessagePort } from '../../../electron/ipc';
import { createIpcRouter } from '../../../electron/ipc-router';

type Handler = (event: IpcEventLike, request: unknown) => Promise<unknown>;
type Listener = (event: IpcEventLike, message: unknown) => void;

function fakeIpcMain() {
  const handlers = new Map<string, Handler>();
  const listeners = new Map<string, Listener>();
  const ipcMain: IpcMainLike = {
    handle: (channel, handler) => {
      assert.ok(!handlers.has(channel), `one handler per channel, as Electron allows (${channel})`);
      handlers.set(channel, handler);
    },
    on: (channel, listener) => void listeners.set(channel, listener),
    removeHandler: (channel) => void handlers.delete(channel),
    removeAllListeners: (channel) => void listeners.delete(channel),
  };
  return { ipcMain, handlers, listeners };
}

function eventFrom(sender: object, ports: MainMessagePort[] = []): IpcEventLike {
  return { sender, senderFrame: { url: 'app://retrovisor/index.html' }, ports };
}

describe('createIpcRouter', { timeout: 10_000 }, () => {
  it('passes each call to the binding of the window that sent it', async () => {
    const real = fakeIpcMain();
    const refused: string[] = [];
    const router = createIpcRouter(real.ipcMain, (what) => refused.push(what));
    const windowA = {};
    const windowB = {};
    router.forSender(windowA).handle('call', async (_event, request) => `A:${String(request)}`);
    router.forSender(windowB).handle('call', async (_event, request) => `B:${String(request)}`);
    const handler = real.handlers.get('call')!;
    assert.equal(await handler(eventFrom(windowA), 1), 'A:1');
    assert.equal(await handler(eventFrom(windowB), 2), 'B:2');
    await assert.rejects(handler(eventFrom({}), 3), /refused/);
    assert.equal(refused.length, 1);

    router.forSender(windowA).removeHandler('call');
    await assert.rejects(handler(eventFrom(windowA), 4), /refused/, 'a closed window\'s binding is gone');
    assert.equal(await handler(eventFrom(windowB), 5), 'B:5', 'the other window is untouched');
  });

  it('passes port messages to their window, and closes the ports of a sender with no window', () => {
    const real = fakeIpcMain();
    const router = createIpcRouter(real.ipcMain, () => undefined);
    const windowA = {};
    const heard: unknown[] = [];
    router.forSender(windowA).on('stream', (_event, message) => heard.push(message));
    const listener = real.listeners.get('stream')!;
    listener(eventFrom(windowA), 'hello');
    let closed = 0;
    const port: MainMessagePort = { postMessage: () => undefined, on: () => undefined, start: () => undefined, close: () => void closed++ };
    listener(eventFrom({}, [port]), 'intruder');
    router.forSender(windowA).removeAllListeners('stream');
    listener(eventFrom(windowA, [port]), 'after close');
    assert.deepEqual(heard, ['hello']);
    assert.equal(closed, 2);
  });
});
