// The renderer's broadcast over fake VNC clients: every dispatch reaches every target client in one
// pass (one input-channel frame, or each client's own stream), the journal reaches the back end in
// order, settle() waits for quiet screens, and closing the workspace releases what replicas hold
// before the streams may close. Also the composite's pixel mapping. Plain Node (no noVNC).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { InputChannelHandlers } from '../../../common/contract';
import type { BroadcastInput, InputJournalEntry } from '../../../common/input/input-events';
import { parseInputFrame } from '../../../common/input/input-frame';
import { BroadcastController, RELEASE_DRAIN_TIMEOUT_MS } from '../../../renderer/input/broadcast-controller';
import { InputChannel } from '../../../renderer/input/input-channel';
import { rfbButtonMask, toFramebuffer } from '../../../renderer/input/composite-input';
import type { Clock } from '../../../renderer/vnc/replica-session';
import type { VncClient } from '../../../renderer/vnc/vnc-client';

class ManualClock implements Clock {
  nowMs = 0;
  private timers: Array<{ at: number; callback: () => void }> = [];
  now(): number {
    return this.nowMs;
  }
  setTimeout(callback: () => void, delayMs: number): unknown {
    const timer = { at: this.nowMs + delayMs, callback };
    this.timers.push(timer);
    return timer;
  }
  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((timer) => timer !== handle);
  }
  /** Advances time in small steps, firing due timers. */
  async advance(ms: number): Promise<void> {
    const end = this.nowMs + ms;
    while (this.nowMs < end) {
      this.nowMs += 5;
      for (const timer of this.timers.filter((entry) => entry.at <= this.nowMs)) {
        this.timers = this.timers.filter((entry) => entry !== timer);
        timer.callback();
      }
      await Promise.resolve();
    }
  }
}

/** The fake clients "encode" an input as readable text, so the wire log reads like the inputs. */
function describeInput(input: BroadcastInput): string {
  if (input.kind === 'key') return `key ${input.keysym} ${input.down}`;
  if (input.kind === 'pointer') return `ptr ${input.x},${input.y} ${input.buttonMask}`;
  return `clip ${input.text}`;
}

function fakeClient(log: string[], name: string): VncClient {
  return {
    streamId: `stream-${name}`,
    canvas: {} as HTMLCanvasElement,
    width: 640,
    height: 400,
    acceptsInput: true,
    sendCredentials: () => undefined,
    getImageData: () => {
      throw new Error('not in Node');
    },
    disconnect: () => undefined,
    encodeInput: (input) => new TextEncoder().encode(describeInput(input)),
    writeOwnStream: (bytes) => void log.push(`${name} ${new TextDecoder().decode(bytes)}`),
  };
}

/** A fake input transport: every frame is parsed as the back end would and logged per target; syncs are answered on demand. */
function fakeInputPort(wire: string[], frames: string[][]) {
  let handlers: InputChannelHandlers | null = null;
  const syncs: number[] = [];
  const opener = (given: InputChannelHandlers) => {
    handlers = given;
    return {
      send: (frame: Uint8Array) => {
        const parsed = parseInputFrame(frame);
        assert.ok(parsed.ok);
        const entries = parsed.targets.map(({ streamId, bytes }) => `${streamId.replace('stream-', '')} ${new TextDecoder().decode(bytes)}`);
        frames.push(entries);
        wire.push(...entries);
      },
      sync: (token: number) => void syncs.push(token),
      close: () => undefined,
    };
  };
  return { opener, syncs, answer: (token: number) => handlers?.onSynced(token) };
}

function setup(options: { channel?: boolean } = {}) {
  const clock = new ManualClock();
  const wire: string[] = [];
  const frames: string[][] = [];
  const port = fakeInputPort(wire, frames);
  const recorded: InputJournalEntry[][] = [];
  const clients = new Map([
    ['a', fakeClient(wire, 'a')],
    ['b', fakeClient(wire, 'b')],
  ]);
  const broadcast = new BroadcastController({
    sessionId: 's1',
    replicaIds: ['a', 'b'],
    clientOf: (id) => clients.get(id) ?? null,
    inputChannel: options.channel === true ? new InputChannel(port.opener, { warn: () => undefined }) : null,
    api: {
      recordInput: async ({ entries }) => void recorded.push(entries),
      exportInputJournal: async () => ({ jsonLines: '', entries: 0, dropped: 0 }),
    },
    clock,
    log: { warn: () => undefined },
  });
  broadcast.setConnected('a', true);
  broadcast.setConnected('b', true);
  return { clock, wire, frames, port, recorded, broadcast };
}

describe('BroadcastController', { timeout: 60_000 }, () => {
  it('writes each input to every target before the next input (one pass per dispatch)', async () => {
    const { wire, recorded, broadcast, clock } = setup();
    broadcast.sendChord('Control_L+Alt_L+Delete');
    broadcast.paste('hi');
    assert.deepEqual(wire, [
      'a key 65507 true', 'b key 65507 true',
      'a key 65513 true', 'b key 65513 true',
      'a key 65535 true', 'b key 65535 true',
      'a key 65535 false', 'b key 65535 false',
      'a key 65513 false', 'b key 65513 false',
      'a key 65507 false', 'b key 65507 false',
      'a clip hi', 'b clip hi',
    ]);
    await clock.advance(150);
    await broadcast.flushJournal();
    assert.deepEqual(recorded.flat().map((entry) => entry.seq), [1, 2, 3, 4, 5, 6, 7]);
    assert.deepEqual(recorded.flat()[6]?.targets, ['a', 'b']);
  });

  it('settles once no target screen changed for the quiet window, and fails with the busy replicas named', async () => {
    const { broadcast, clock } = setup();
    let settled = false;
    const waiting = broadcast.settle(1000, 100).then(() => (settled = true));
    await clock.advance(50);
    broadcast.noteScreenUpdate('a');
    await clock.advance(80);
    assert.equal(settled, false, 'a changed 80 ms ago');
    await clock.advance(40);
    await waiting;
    assert.equal(settled, true);

    const failing = broadcast.settle(200, 100);
    const keepBusy = (async () => {
      for (let step = 0; step < 60; step++) {
        broadcast.noteScreenUpdate('b');
        await clock.advance(5);
      }
    })();
    await assert.rejects(failing, /settle: b still changed/);
    await keepBusy;
  });

  it('releases held keys and buttons on every replica when the session closes', () => {
    const { wire, broadcast } = setup();
    broadcast.fanout.key(0xffe1, 'ShiftLeft', true);
    broadcast.fanout.pointerButton(3, 4, 1, true);
    wire.length = 0;
    void broadcast.close();
    assert.deepEqual(wire, ['a key 65505 false', 'b key 65505 false', 'a ptr 3,4 0', 'b ptr 3,4 0']);
    broadcast.fanout.key(0x61, 'KeyA', true);
    assert.equal(wire.length, 4, 'nothing after close');
  });

  it("sends one task's dispatches as ONE input-channel frame naming every target stream, each with its inputs in order", async () => {
    const { frames, broadcast } = setup({ channel: true });
    broadcast.sendChord('Control_L+c');
    broadcast.setIncluded('b', false);
    broadcast.paste('hi');
    assert.deepEqual(frames, [], 'sent at the end of the task');
    await Promise.resolve();
    assert.deepEqual(frames, [['a key 65507 truekey 99 truekey 99 falsekey 65507 falseclip hi', 'b key 65507 truekey 99 truekey 99 falsekey 65507 false']]);
    broadcast.paste('again');
    await Promise.resolve();
    assert.deepEqual(frames[1], ['a clip again']);
  });

  it('on close, resolves only once the back end has written the releases (streams close after)', async () => {
    const { frames, port, broadcast, clock } = setup({ channel: true });
    broadcast.fanout.key(0xffe1, 'ShiftLeft', true);
    await Promise.resolve();
    frames.length = 0;
    let closed = false;
    const closing = broadcast.close().then(() => (closed = true));
    assert.deepEqual(frames, [['a key 65505 false', 'b key 65505 false']]);
    assert.equal(port.syncs.length, 1);
    await clock.advance(10);
    assert.equal(closed, false, 'waits for the sync answer');
    port.answer(port.syncs[0]!);
    await closing;
    assert.equal(closed, true);
  });

  it('on close, gives up waiting for a channel that never answers', async () => {
    const { broadcast, clock } = setup({ channel: true });
    let closed = false;
    const closing = broadcast.close().then(() => (closed = true));
    await clock.advance(RELEASE_DRAIN_TIMEOUT_MS + 10);
    await closing;
    assert.equal(closed, true);
  });
});

describe('composite pixel mapping', { timeout: 60_000 }, () => {
  it('maps CSS positions on a scaled canvas to framebuffer pixels, clamped', () => {
    const box = { left: 100, top: 50, width: 1280, height: 800 };
    const bitmap = { width: 640, height: 400 };
    assert.deepEqual(toFramebuffer(100, 50, box, bitmap), { x: 0, y: 0 });
    assert.deepEqual(toFramebuffer(100 + 201, 50 + 301, box, bitmap), { x: 100, y: 150 });
    assert.deepEqual(toFramebuffer(5000, -10, box, bitmap), { x: 639, y: 0 });
  });

  it('turns DOM button bits into RFB mask bits (middle and right swap places)', () => {
    assert.equal(rfbButtonMask(1), 1);
    assert.equal(rfbButtonMask(4), 2, 'DOM middle is RFB button 2');
    assert.equal(rfbButtonMask(2), 4, 'DOM right is RFB button 3');
    assert.equal(rfbButtonMask(7), 7);
  });
});
