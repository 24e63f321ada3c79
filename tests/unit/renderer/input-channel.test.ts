// The renderer's input channel over a fake port: one task's dispatches leave as ONE frame at the
// task's end, every replica gets exactly its dispatches in order across batches, a burst leaves as
// frames within the size limits as it is produced, and drain/close send what is batched first.
// Plain Node.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { InputChannelHandlers } from '../../../common/contract';
import { INPUT_BATCH_TARGET_BYTES, MAX_INPUT_TARGET_BYTES, parseInputFrame, type InputTarget } from '../../../common/input/input-frame';
import { InputChannel } from '../../../renderer/input/input-channel';

/** A fake transport: frames parsed as the back end would; what each stream received, in order. */
function setup() {
  const events: string[] = [];
  const received = new Map<string, number[]>();
  const frames: Array<Array<[string, number]>> = [];
  const warnings: string[] = [];
  const endOfTask: Array<() => void> = [];
  let handlers: InputChannelHandlers | null = null;
  let opened = 0;
  const channel = new InputChannel(
    (given) => {
      handlers = given;
      opened++;
      return {
        send: (frame) => {
          const parsed = parseInputFrame(frame);
          assert.ok(parsed.ok, parsed.ok ? '' : parsed.reason);
          frames.push(parsed.targets.map(({ streamId, bytes }) => [streamId, bytes.byteLength]));
          events.push('frame');
          for (const { streamId, bytes } of parsed.targets) received.set(streamId, [...(received.get(streamId) ?? []), ...bytes]);
        },
        sync: (token) => void events.push(`sync ${token}`),
        close: () => void events.push('close'),
      };
    },
    { warn: (message) => void warnings.push(message) },
    (flush) => void endOfTask.push(flush),
  );
  /** Ends the current task: runs the scheduled flushes. */
  const endTask = (): void => {
    for (const flush of endOfTask.splice(0)) flush();
  };
  return { channel, events, received, frames, warnings, endTask, handlers: () => handlers, opened: () => opened };
}

const dispatch = (value: number, ...streams: string[]): InputTarget[] => streams.map((streamId) => ({ streamId, bytes: Uint8Array.of(value) }));

describe('InputChannel batching', { timeout: 60_000 }, () => {
  it("sends one task's dispatches as ONE frame at the task's end, keeping each replica's order across batches", () => {
    const { channel, frames, received, endTask } = setup();
    channel.send(dispatch(1, 'a', 'b', 'c'));
    channel.send(dispatch(2, 'a', 'b', 'c'));
    channel.send(dispatch(3, 'c', 'a', 'b'));
    assert.deepEqual(frames, [], 'nothing leaves before the task ends');
    endTask();
    assert.deepEqual(frames, [[['a', 3], ['b', 3], ['c', 3]]]);
    channel.send(dispatch(4, 'b', 'a', 'c'));
    endTask();
    assert.equal(frames.length, 2);
    for (const stream of ['a', 'b', 'c']) assert.deepEqual(received.get(stream), [1, 2, 3, 4], stream);
  });

  it('gives a replica removed between two dispatches only the dispatches it was a target of', () => {
    const { channel, received, endTask } = setup();
    channel.send(dispatch(1, 'a', 'b'));
    channel.send(dispatch(2, 'b')); // a's release, say, went to b only
    channel.send(dispatch(3, 'a')); // b excluded
    channel.send(dispatch(4, 'a', 'b2')); // b reconnected: a new stream id
    endTask();
    assert.deepEqual([...received], [['a', [1, 3, 4]], ['b', [1, 2]], ['b2', [4]]]);
  });

  it('sends a burst as frames within the size limit while the task still runs, in order', () => {
    const { channel, frames, received, endTask } = setup();
    const perDispatch = 1000;
    const dispatches = Math.ceil((3 * INPUT_BATCH_TARGET_BYTES) / perDispatch);
    for (let index = 0; index < dispatches; index++) {
      channel.send(['a', 'b'].map((streamId) => ({ streamId, bytes: new Uint8Array(perDispatch).fill(index & 0xff) })));
    }
    const sentDuringTask = frames.length;
    assert.ok(sentDuringTask >= 2, `full frames leave at once (${sentDuringTask} did)`);
    endTask();
    for (const frame of frames) for (const [, bytes] of frame) assert.ok(bytes <= INPUT_BATCH_TARGET_BYTES, `${bytes} bytes for one stream`);
    const expected = Array.from({ length: dispatches }, (_unused, index) => new Array<number>(perDispatch).fill(index & 0xff)).flat();
    assert.deepEqual(received.get('a'), expected);
    assert.deepEqual(received.get('b'), expected);
  });

  it('sends a dispatch bigger than the batch limit alone, and refuses one bigger than a frame may carry, with a warning', () => {
    const { channel, frames, received, warnings, endTask } = setup();
    channel.send(dispatch(1, 'a', 'b'));
    const clipboard = INPUT_BATCH_TARGET_BYTES * 4;
    channel.send(['a', 'b'].map((streamId) => ({ streamId, bytes: new Uint8Array(clipboard).fill(2) })));
    channel.send([{ streamId: 'a', bytes: new Uint8Array(MAX_INPUT_TARGET_BYTES + 1) }, { streamId: 'b', bytes: Uint8Array.of(9) }]);
    channel.send(dispatch(3, 'a', 'b'));
    endTask();
    assert.deepEqual(frames, [
      [['a', 1], ['b', 1]],
      [['a', clipboard], ['b', clipboard]],
      [['a', 1], ['b', 1]],
    ]);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /input not sent: .*bytes for one stream/);
    assert.deepEqual(received.get('b')?.filter((value) => value !== 2), [1, 3], 'the refused dispatch reached no replica');
  });

  it('drain and close send what is batched before the sync and the close', () => {
    const { channel, events, endTask } = setup();
    channel.send(dispatch(1, 'a'));
    void channel.drain(1000, () => undefined);
    channel.send(dispatch(2, 'a'));
    channel.close();
    endTask();
    assert.deepEqual(events, ['frame', 'sync 1', 'frame', 'close']);
  });

  it('reopens a closed channel for the next task with input', () => {
    const { channel, frames, handlers, opened, endTask } = setup();
    channel.send(dispatch(1, 'a'));
    endTask();
    handlers()?.onClose('the back end went away');
    assert.equal(opened(), 1);
    channel.send(dispatch(2, 'a'));
    endTask();
    assert.equal(opened(), 2);
    assert.equal(frames.length, 2);
  });
});
