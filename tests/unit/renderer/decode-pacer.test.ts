// The decode pacer: noVNC's rectangle decoding paused at a rectangle boundary once a task has spent
// its budget, resumed in a later task, the transport held meanwhile; over a stand-in for noVNC's
// message loop and a hand-driven clock. Plain Node.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DECODE_BUDGET_MS, defaultPacerTiming, paceDecoding, type DeliveryGate, type PacedRfb, type PacerTiming } from '../../../renderer/vnc/decode-pacer';

class HandTiming implements PacerTiming {
  nowMs = 0;
  readonly tasks: (() => void)[] = [];
  readonly now = (): number => this.nowMs;
  readonly nextTask = (task: () => void): void => {
    this.tasks.push(task);
  };
  /** Ends the current task (its microtasks run), then runs the next later task. */
  async runNext(): Promise<void> {
    await Promise.resolve();
    const task = this.tasks.shift();
    assert.ok(task !== undefined, 'a later task was scheduled');
    task();
  }
}

/** noVNC's loop in miniature: each queued rectangle costs its milliseconds on the clock when decoded. */
class FakeRfb implements PacedRfb {
  _flushing = false;
  _rfbConnectionState = 'connected';
  readonly decoded: string[] = [];
  private readonly queue: { name: string; costMs: number }[] = [];
  readonly _sock = { _rQi: 0, _rQlen: 0, _eventHandlers: { message: (): void => this.handleMessage() } };
  constructor(private readonly clock: { nowMs: number }) {}

  _handleRect(): boolean {
    const rect = this.queue.shift();
    if (rect === undefined) return false;
    this.clock.nowMs += rect.costMs;
    this.decoded.push(rect.name);
    this._sock._rQi += 1;
    // noVNC throwing on a hostile rectangle (e.g. a canvas call refusing a zero width).
    if (rect.name === 'broken') throw new Error('The source width is 0.');
    return true;
  }

  /** RFB._handleMessage: stops while flushing, or when a rectangle must wait. */
  handleMessage(): void {
    while (!this._flushing && this._sock._rQi < this._sock._rQlen) if (!this._handleRect()) break;
  }

  /** A message arrives: its rectangles are queued and the receive handler runs (RFB._recvMessage). */
  receive(...rects: [string, number][]): void {
    for (const [name, costMs] of rects) this.queue.push({ name, costMs });
    this._sock._rQlen += rects.length;
    this._sock._eventHandlers.message();
  }
}

class RecordingGate implements DeliveryGate {
  readonly log: string[] = [];
  hold(): void {
    this.log.push('hold');
  }
  release(): void {
    this.log.push('release');
  }
  fail(error: unknown): void {
    this.log.push(`fail: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function paced(): { rfb: FakeRfb; gate: RecordingGate; timing: HandTiming } {
  const timing = new HandTiming();
  const rfb = new FakeRfb(timing);
  const gate = new RecordingGate();
  paceDecoding(rfb, gate, timing);
  return { rfb, gate, timing };
}

const rects = (count: number, costMs: number, prefix = 'r'): [string, number][] => Array.from({ length: count }, (_, index) => [`${prefix}${index}`, costMs]);

describe('decode pacer', { timeout: 30_000 }, () => {
  it(`decodes rectangles until the task has spent ${DECODE_BUDGET_MS} ms, then holds the transport and goes on in later tasks`, async () => {
    const { rfb, gate, timing } = paced();
    rfb.receive(...rects(10, 1));
    assert.deepEqual(rfb.decoded, ['r0', 'r1', 'r2', 'r3']);
    assert.deepEqual(gate.log, ['hold']);
    assert.equal(rfb._flushing, true, "noVNC's loop is stopped before the next rectangle");
    await timing.runNext();
    assert.deepEqual(rfb.decoded.slice(4), ['r4', 'r5', 'r6', 'r7']);
    assert.deepEqual(gate.log, ['hold', 'hold'], 'still held: more to decode');
    await timing.runNext();
    assert.deepEqual(rfb.decoded.slice(8), ['r8', 'r9']);
    assert.deepEqual(gate.log, ['hold', 'hold', 'release']);
    assert.equal(rfb._flushing, false);
    assert.equal(timing.tasks.length, 0);
  });

  it('always decodes the first rectangle of a task, however long it takes, so decoding progresses', async () => {
    const { rfb, gate, timing } = paced();
    rfb.receive(['huge', 30], ['next', 1]);
    assert.deepEqual(rfb.decoded, ['huge']);
    await timing.runNext();
    assert.deepEqual(rfb.decoded, ['huge', 'next']);
    assert.deepEqual(gate.log, ['hold', 'release']);
  });

  it('gives each task its own budget: messages in later tasks are not paused for earlier work', async () => {
    const { rfb, gate } = paced();
    rfb.receive(...rects(3, 1, 'a'));
    await Promise.resolve();
    rfb.receive(...rects(3, 1, 'b'));
    assert.deepEqual(rfb.decoded, ['a0', 'a1', 'a2', 'b0', 'b1', 'b2']);
    assert.deepEqual(gate.log, []);
  });

  it("leaves noVNC's own flush alone: no pause while noVNC waits for its display", () => {
    const { rfb, gate, timing } = paced();
    rfb.receive(['first', 5]);
    rfb._flushing = true;
    // noVNC calls the handler again for the same rectangle once its flush is done; pacing stays out of it.
    const handled = rfb._handleRect();
    assert.equal(handled, false, 'nothing queued: the stand-in waits for bytes');
    assert.deepEqual(gate.log, []);
    assert.equal(timing.tasks.length, 0);
  });

  it('fails the session through the transport when a rectangle decoded in a resumed task throws, and does not release', async () => {
    const { rfb, gate, timing } = paced();
    rfb.receive(...rects(4, 2), ['broken', 1], ['after', 1]);
    assert.deepEqual(rfb.decoded, ['r0', 'r1']);
    // The first later task decodes r2 and r3, the second reaches the rectangle noVNC throws on.
    await timing.runNext();
    await timing.runNext();
    assert.deepEqual(rfb.decoded, ['r0', 'r1', 'r2', 'r3', 'broken']);
    assert.deepEqual(gate.log, ['hold', 'hold', 'fail: The source width is 0.']);
    assert.equal(timing.tasks.length, 0, 'nothing more is scheduled');
  });

  it('releases the transport without decoding when the session ended while paused', async () => {
    const { rfb, gate, timing } = paced();
    rfb.receive(...rects(6, 2));
    assert.deepEqual(rfb.decoded, ['r0', 'r1']);
    rfb._rfbConnectionState = 'disconnected';
    await timing.runNext();
    assert.deepEqual(rfb.decoded, ['r0', 'r1']);
    assert.deepEqual(gate.log, ['hold', 'release']);
  });

  it('resumes through a real later task by default', async () => {
    const rfb = new FakeRfb({ nowMs: 0 });
    // The stand-in's clock does not move; the real one does, busy-waiting past the budget.
    const realTiming = defaultPacerTiming();
    const gate = new RecordingGate();
    rfb._handleRect = function (this: FakeRfb): boolean {
      const until = performance.now() + DECODE_BUDGET_MS / 2 + 0.5;
      while (performance.now() < until);
      return FakeRfb.prototype._handleRect.call(this);
    };
    paceDecoding(rfb, gate, realTiming);
    rfb.receive(...rects(6, 0));
    assert.ok(rfb.decoded.length < 6, `paused after ${rfb.decoded.length}`);
    await new Promise<void>((resolve, reject) => {
      const deadline = setTimeout(() => reject(new Error(`decoding never finished: ${rfb.decoded.join(',')}`)), 5_000);
      const poll = (): void => {
        if (rfb.decoded.length === 6 && gate.log.at(-1) === 'release') {
          clearTimeout(deadline);
          resolve();
        } else setImmediate(poll);
      };
      poll();
    });
    assert.deepEqual(rfb.decoded, ['r0', 'r1', 'r2', 'r3', 'r4', 'r5']);
  });
});
