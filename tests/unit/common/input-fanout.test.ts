// The input fan-out: one ordered stream for every target replica, moves coalesced once, nothing for
// excluded/disconnected/remediating replicas, and no stuck keys or buttons anywhere.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { InputDispatch } from '../../../common/input/input-events';
import { InputFanout, POINTER_MOVE_INTERVAL_MS } from '../../../common/input/input-fanout';
import { ManualClock } from '../support/fake-clocks';


function setup(ids = ['a', 'b', 'c']) {
  const clock = new ManualClock();
  const dispatches: InputDispatch[] = [];
  const fanout = new InputFanout({ replicaIds: ids, clock, sink: (dispatch) => dispatches.push(dispatch) });
  for (const id of ids) fanout.setConnected(id, true);
  /** What one replica received, as compact strings, in order. */
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

describe('InputFanout', { timeout: 60_000 }, () => {
  it('gives every included replica the same inputs in the same order, numbered 1, 2, 3…', () => {
    const { fanout, dispatches, received } = setup();
    fanout.key(0xffe1, 'ShiftLeft', true);
    fanout.key(0x28, 'Digit9', true);
    fanout.key(0x28, 'Digit9', false);
    fanout.key(0xffe1, 'ShiftLeft', false);
    fanout.pointerButton(10, 20, 1, true);
    fanout.pointerButton(10, 20, 1, false);
    fanout.clipboard('hello');
    assert.deepEqual(dispatches.map((dispatch) => dispatch.seq), [1, 2, 3, 4, 5, 6, 7]);
    const expected = ['key 65505 down', 'key 40 down', 'key 40 up', 'key 65505 up', 'ptr 10,20 1', 'ptr 10,20 0', 'clip hello'];
    for (const id of ['a', 'b', 'c']) assert.deepEqual(received(id), expected, id);
    assert.ok(dispatches.every((dispatch) => dispatch.deliveries.map((delivery) => delivery.replicaId).join() === 'a,b,c'));
  });

  it('coalesces pointer moves once for all replicas and flushes a pending move before any other input', () => {
    const { fanout, clock, received } = setup(['a', 'b']);
    fanout.pointerMove(1, 1);
    clock.advance(5);
    fanout.pointerMove(2, 2);
    clock.advance(5);
    fanout.pointerMove(3, 3);
    assert.deepEqual(received('a'), ['ptr 1,1 0'], 'moves inside the interval wait');
    clock.advance(POINTER_MOVE_INTERVAL_MS);
    assert.deepEqual(received('a'), ['ptr 1,1 0', 'ptr 3,3 0'], 'the timer sends only the latest position');
    clock.advance(1);
    fanout.pointerMove(4, 4);
    fanout.pointerMove(5, 5);
    fanout.key(0x61, 'KeyA', true);
    assert.deepEqual(received('a').slice(2), ['ptr 5,5 0', 'key 97 down'], 'the pending move goes out before the key');
    assert.equal(clock.pending, 0);
    assert.deepEqual(received('a'), received('b'));
  });

  it('sends nothing to an excluded, disconnected or remediating replica, and releases it on the way out', () => {
    const { fanout, received, dispatches } = setup();
    fanout.key(0xffe3, 'ControlLeft', true);
    fanout.pointerButton(5, 5, 1, true);
    fanout.setIncluded('b', false);
    assert.deepEqual(received('b'), ['key 65507 down', 'ptr 5,5 1', 'key 65507 up', 'ptr 5,5 0'], 'released on exclusion');
    assert.ok(dispatches.slice(-2).every((dispatch) => dispatch.origin === 'release'));
    fanout.setRemediating('c', true);
    assert.deepEqual(received('c').slice(2), ['key 65507 up', 'ptr 5,5 0']);
    const before = { b: received('b').length, c: received('c').length };
    fanout.key(0x61, 'KeyA', true);
    fanout.key(0x61, 'KeyA', false);
    fanout.clipboard('x');
    assert.equal(received('b').length, before.b);
    assert.equal(received('c').length, before.c);
    assert.deepEqual(fanout.targets(), ['a']);
    assert.equal(fanout.blockReason('b'), 'excluded');
    assert.equal(fanout.blockReason('c'), 'remediating');
    fanout.setConnected('a', false);
    assert.equal(fanout.blockReason('a'), 'not-connected');
    const count = dispatches.length;
    fanout.key(0x62, 'KeyB', true);
    assert.equal(dispatches.length, count, 'no target: no dispatch, no sequence number spent');
  });

  it('releases every held key (reverse order) and button on every replica when focus is lost', () => {
    const { fanout, received } = setup(['a', 'b']);
    fanout.key(0xffe1, 'ShiftLeft', true);
    fanout.key(0xffe9, 'AltLeft', true);
    fanout.pointerButton(1, 2, 2, true);
    fanout.releaseAll();
    for (const id of ['a', 'b']) {
      assert.deepEqual(received(id).slice(3), ['key 65513 up', 'key 65505 up', 'ptr 1,2 0'], id);
      assert.deepEqual(fanout.heldBy(id), { keys: [], buttonMask: 0 });
    }
    fanout.releaseAll();
    assert.equal(received('a').length, 6, 'nothing more when nothing is held');
    fanout.pointerButton(1, 2, 1, true);
    assert.deepEqual(received('a').slice(6), ['ptr 1,2 1'], 'a press after focus loss still reaches every replica');
  });

  it('never gives a replica a release it did not see pressed, nor a button held before it joined', () => {
    const { fanout, received } = setup(['a', 'b']);
    fanout.setIncluded('b', false);
    fanout.key(0xffe1, 'ShiftLeft', true);
    fanout.pointerButton(0, 0, 1, true);
    fanout.setIncluded('b', true);
    fanout.pointerMove(9, 9);
    fanout.key(0xffe1, 'ShiftLeft', false);
    fanout.pointerButton(9, 9, 1, false);
    fanout.wheel(9, 9, 0, 1);
    assert.deepEqual(received('b'), ['ptr 9,9 0', 'ptr 9,9 0', 'ptr 9,9 16', 'ptr 9,9 0']);
    assert.deepEqual(received('a'), ['key 65505 down', 'ptr 0,0 1', 'ptr 9,9 1', 'key 65505 up', 'ptr 9,9 0', 'ptr 9,9 16', 'ptr 9,9 0']);
  });

  it('sends to the solo replica alone while broadcast is off, releasing the others first', () => {
    const { fanout, received } = setup();
    fanout.setSoloReplica('b');
    fanout.key(0x61, 'KeyA', true);
    fanout.setBroadcast(false);
    assert.deepEqual(fanout.targets(), ['b']);
    assert.deepEqual(received('a'), ['key 97 down', 'key 97 up']);
    assert.deepEqual(received('b'), ['key 97 down']);
    fanout.key(0x61, 'KeyA', false);
    fanout.key(0x62, 'KeyB', true);
    assert.deepEqual(received('b'), ['key 97 down', 'key 97 up', 'key 98 down']);
    assert.deepEqual(received('c'), ['key 97 down', 'key 97 up']);
  });

  it('releases a replica before it is cut off, then sends it nothing', () => {
    const { fanout, received } = setup(['a', 'b']);
    fanout.key(0xffe3, 'ControlLeft', true);
    fanout.cutOff('b');
    assert.deepEqual(received('b'), ['key 65507 down', 'key 65507 up']);
    fanout.key(0x63, 'KeyC', true);
    assert.equal(received('b').length, 2);
    fanout.setConnected('b', true);
    fanout.key(0xffe3, 'ControlLeft', false);
    assert.equal(received('b').length, 2, 'a reconnected replica holds nothing, so gets no release');
  });
});
