// The input fan-out's hold (a checkpoint is being taken): nothing is dispatched while held, every
// input is queued in order and numbered only on release, moves stay coalesced, and the held-key
// bookkeeping of a replica can be handed over after a replay.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { InputDispatch } from '../../../common/input/input-events';
import { InputFanout, POINTER_MOVE_INTERVAL_MS, RELEASE_MAX_GAP_MS } from '../../../common/input/input-fanout';
import { ManualClock } from '../support/fake-clocks';


function setup(ids = ['a', 'b']) {
  const clock = new ManualClock();
  const dispatches: InputDispatch[] = [];
  const fanout = new InputFanout({ replicaIds: ids, clock, sink: (dispatch) => dispatches.push(dispatch) });
  for (const id of ids) fanout.setConnected(id, true);
  const received = (id: string): string[] =>
    dispatches.flatMap((dispatch) =>
      dispatch.deliveries
        .filter((delivery) => delivery.replicaId === id)
        .map(({ input }) =>
          input.kind === 'key' ? `key ${input.keysym} ${input.down ? 'down' : 'up'}` : input.kind === 'pointer' ? `ptr ${input.x},${input.y} ${input.buttonMask}` : `clip ${input.text}`,
        ),
    );
  return { clock, dispatches, fanout, received };
}

describe('InputFanout hold', { timeout: 10_000 }, () => {
  it('releases held input at the pace it came (pauses shortened), with input typed meanwhile behind it', { timeout: 5_000 }, () => {
    const { fanout, dispatches, received, clock } = setup();
    fanout.hold();
    fanout.tap(0x61, 'KeyA');
    clock.advance(100);
    fanout.tap(0x62, 'KeyB');
    clock.advance(2000);
    fanout.tap(0x63, 'KeyC');
    fanout.release();
    // The first key goes at once; the second keeps its 100 ms; the third's 2 s pause is shortened.
    assert.deepEqual(received('a'), ['key 97 down', 'key 97 up']);
    clock.advance(99);
    assert.equal(dispatches.length, 2);
    clock.advance(1);
    assert.deepEqual(received('a').slice(2), ['key 98 down', 'key 98 up']);
    fanout.tap(0x64, 'KeyD'); // typed while the queue drains: it waits behind KeyC
    assert.equal(dispatches.length, 4);
    clock.advance(RELEASE_MAX_GAP_MS);
    assert.deepEqual(received('a').slice(4, 6), ['key 99 down', 'key 99 up']);
    clock.advance(RELEASE_MAX_GAP_MS);
    assert.deepEqual(received('a').slice(6), ['key 100 down', 'key 100 up']);
    assert.deepEqual(received('b'), received('a'));
    assert.deepEqual(
      dispatches.map((dispatch) => dispatch.seq),
      dispatches.map((_dispatch, index) => index + 1),
      'numbered in order',
    );
    // Drained: new input goes at once again.
    fanout.tap(0x65, 'KeyE');
    assert.deepEqual(received('a').slice(-2), ['key 101 down', 'key 101 up']);
  });

  it('queues every kind of input while held and dispatches it in order on release, numbered then', { timeout: 5_000 }, () => {
    const { fanout, dispatches, received, clock } = setup();
    fanout.key(0x61, 'KeyA', true);
    fanout.key(0x61, 'KeyA', false);
    assert.equal(fanout.nextSequence, 3);
    fanout.hold();
    assert.equal(fanout.isHeld, true);
    fanout.key(0xffe1, 'ShiftLeft', true);
    fanout.pointerButton(4, 5, 1, true);
    fanout.pointerButton(4, 5, 1, false);
    fanout.wheel(4, 5, 0, 1);
    fanout.clipboard('hi');
    fanout.releaseAll();
    clock.advance(50);
    assert.equal(dispatches.length, 2, 'nothing dispatched while held');
    assert.equal(fanout.nextSequence, 3, 'no sequence number spent while held');
    assert.equal(fanout.queuedInputs, 6);
    const releasedAtMs = clock.nowMs;
    fanout.release();
    assert.equal(fanout.isHeld, false);
    assert.equal(fanout.queuedInputs, 0);
    const expected = ['key 97 down', 'key 97 up', 'key 65505 down', 'ptr 4,5 1', 'ptr 4,5 0', 'ptr 4,5 16', 'ptr 4,5 0', 'clip hi', 'key 65505 up'];
    assert.deepEqual(received('a'), expected);
    assert.deepEqual(received('b'), expected);
    assert.deepEqual(dispatches.map((dispatch) => dispatch.seq), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.ok(dispatches.slice(2).every((dispatch) => dispatch.timeMs === releasedAtMs), 'stamped when dispatched');
  });

  it('holding twice is one hold; releasing when not held does nothing', { timeout: 5_000 }, () => {
    const { fanout, received } = setup();
    fanout.hold();
    fanout.key(0x61, 'KeyA', true);
    fanout.hold();
    fanout.key(0x61, 'KeyA', false);
    fanout.release();
    assert.deepEqual(received('a'), ['key 97 down', 'key 97 up']);
    fanout.release();
    fanout.key(0x62, 'KeyB', true);
    assert.deepEqual(received('a'), ['key 97 down', 'key 97 up', 'key 98 down'], 'input flows again');
  });

  it('sends a pending move before holding, and keeps moves coalesced in the queue', { timeout: 5_000 }, () => {
    const { fanout, clock, received } = setup();
    fanout.pointerMove(1, 1);
    clock.advance(5);
    fanout.pointerMove(2, 2);
    assert.deepEqual(received('a'), ['ptr 1,1 0'], 'the second move waits for the coalescer');
    fanout.hold();
    assert.deepEqual(received('a'), ['ptr 1,1 0', 'ptr 2,2 0'], 'the pending move went out before the hold');
    assert.equal(clock.pending, 0, 'no coalescer timer left running while held');
    fanout.pointerMove(3, 3);
    fanout.pointerMove(4, 4);
    fanout.pointerMove(5, 5);
    fanout.key(0x61, 'KeyA', true);
    fanout.pointerMove(6, 6);
    fanout.pointerMove(7, 7);
    assert.equal(fanout.queuedInputs, 3, 'consecutive moves are kept once, as the latest');
    clock.advance(POINTER_MOVE_INTERVAL_MS * 3);
    fanout.release();
    assert.deepEqual(received('a').slice(2), ['ptr 5,5 0', 'key 97 down'], 'the last move waits for the coalescer, as live moves do');
    clock.advance(POINTER_MOVE_INTERVAL_MS);
    assert.deepEqual(received('a').slice(2), ['ptr 5,5 0', 'key 97 down', 'ptr 7,7 0']);
    assert.deepEqual(received('a'), received('b'));
  });

  it('keeps the releases a control change would send until release, still in order', { timeout: 5_000 }, () => {
    const { fanout, received } = setup(['a', 'b', 'c']);
    fanout.key(0xffe3, 'ControlLeft', true);
    fanout.hold();
    fanout.key(0x63, 'KeyC', true);
    fanout.setIncluded('b', false);
    assert.deepEqual(fanout.heldBy('b').keys, [], 'the bookkeeping changes at once');
    assert.deepEqual(received('b'), ['key 65507 down'], 'but nothing is sent while held');
    fanout.release();
    assert.deepEqual(received('b'), ['key 65507 down', 'key 65507 up']);
    assert.deepEqual(received('a'), ['key 65507 down', 'key 99 down'], 'queued input goes to the targets at release');
  });

  it('still releases a replica that is cut off during a hold (its connection ends)', { timeout: 5_000 }, () => {
    const { fanout, received } = setup();
    fanout.key(0xffe3, 'ControlLeft', true);
    fanout.hold();
    fanout.cutOff('b');
    assert.deepEqual(received('b'), ['key 65507 down', 'key 65507 up']);
    assert.deepEqual(received('a'), ['key 65507 down']);
  });

  it('drops the queue on dispose', { timeout: 5_000 }, () => {
    const { fanout, dispatches } = setup();
    fanout.hold();
    fanout.key(0x61, 'KeyA', true);
    fanout.dispose();
    fanout.release();
    assert.equal(dispatches.length, 0);
    assert.equal(fanout.queuedInputs, 0);
  });

  it('takes over what a replay left held, so a later release reaches the replica', { timeout: 5_000 }, () => {
    const { fanout, received } = setup();
    fanout.setRemediating('b', true);
    fanout.key(0xffe1, 'ShiftLeft', true);
    fanout.adoptHeld('b', [{ keysym: 0xffe1, code: 'ShiftLeft' }], 1 | 8);
    assert.deepEqual(fanout.heldBy('b'), { keys: [{ keysym: 0xffe1, code: 'ShiftLeft' }], buttonMask: 1 }, 'wheel bits never stay down');
    fanout.setRemediating('b', false);
    fanout.key(0xffe1, 'ShiftLeft', false);
    fanout.pointerButton(0, 0, 1, false);
    assert.deepEqual(received('b'), ['key 65505 up', 'ptr 0,0 0']);
  });
});
