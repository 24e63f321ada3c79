// The broadcast's side of a remediation over fake VNC clients, a fake input channel and a fake back
// end journal: holding input for a checkpoint, isolating a replica (what the others get is kept),
// replaying the journal since the checkpoint into it alone — paced in bursts that wait for its screen —
// and its rejoining in the same step as it catches up, with its held keys known to the fan-out.
// Plain Node; time moves only through the fake clock.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { InputChannelHandlers } from '../../../common/contract';
import type { BroadcastInput, InputJournalEntry } from '../../../common/input/input-events';
import { parseInputFrame } from '../../../common/input/input-frame';
import {
  BroadcastController,
  HOLD_DRAIN_TIMEOUT_MS,
  MAX_ISOLATION_QUEUE,
  REPLAY_BURST_MAX_INPUTS,
  REPLAY_BURST_SETTLE_CAP_MS,
  REPLAY_QUIET_MS,
  type JournalReader,
} from '../../../renderer/input/broadcast-controller';
import { InputChannel } from '../../../renderer/input/input-channel';
import type { VncClient } from '../../../renderer/vnc/vnc-client';
import { AsyncFakeClock as FakeClock } from '../support/fake-clocks';



/** Advances the clock until `promise` settles (at most `maxMs` of fake time), and returns its outcome. */
async function drive<T>(clock: FakeClock, promise: Promise<T>, maxMs = 120_000): Promise<T> {
  let settled = false;
  const watched = promise.finally(() => {
    settled = true;
  });
  watched.catch(() => undefined);
  const endMs = clock.nowMs + maxMs;
  while (!settled && clock.nowMs < endMs) await clock.advance(25);
  assert.ok(settled, `still pending after ${maxMs} ms of fake time`);
  return watched;
}

/** The fake clients "encode" an input as readable text ending in ";", so the wire reads like the inputs. */
function describeInput(input: BroadcastInput): string {
  if (input.kind === 'key') return `key ${input.keysym} ${input.down ? 'down' : 'up'};`;
  if (input.kind === 'pointer') return `ptr ${input.x},${input.y} ${input.buttonMask};`;
  return `clip ${input.text};`;
}

const IDS = ['a', 'b', 'c'];

interface FrameRecord {
  readonly atMs: number;
  readonly replicaId: string;
  readonly inputs: string[];
}

function world(options: { channel?: boolean; autoSync?: boolean } = {}) {
  const useChannel = options.channel ?? true;
  const clock = new FakeClock(10_000);
  /** What each server received, in order. */
  const wire = new Map<string, string[]>(IDS.map((id) => [id, []]));
  /** Every frame (or own-stream write) per replica, with its time. */
  const frames: FrameRecord[] = [];
  const accepting = new Map<string, boolean>(IDS.map((id) => [id, true]));
  const record = (replicaId: string, text: string): void => {
    const inputs = text.split(';').filter((part) => part !== '');
    wire.get(replicaId)?.push(...inputs);
    frames.push({ atMs: clock.nowMs, replicaId, inputs });
  };
  const clients = new Map<string, VncClient>(
    IDS.map((id) => [
      id,
      {
        streamId: `stream-${id}`,
        canvas: {} as HTMLCanvasElement,
        width: 640,
        height: 400,
        get acceptsInput() {
          return accepting.get(id) === true;
        },
        sendCredentials: () => undefined,
        getImageData: () => {
          throw new Error('not in Node');
        },
        disconnect: () => undefined,
        encodeInput: (input: BroadcastInput) => (accepting.get(id) === true ? new TextEncoder().encode(describeInput(input)) : null),
        writeOwnStream: (bytes: Uint8Array) => record(id, new TextDecoder().decode(bytes)),
      },
    ]),
  );
  let handlers: InputChannelHandlers | null = null;
  const syncs: number[] = [];
  const channel = useChannel
    ? new InputChannel(
        (given) => {
          handlers = given;
          return {
            send: (frame: Uint8Array) => {
              const parsed = parseInputFrame(frame);
              assert.ok(parsed.ok);
              for (const { streamId, bytes } of parsed.targets) record(streamId.replace('stream-', ''), new TextDecoder().decode(bytes));
            },
            sync: (token: number) => {
              syncs.push(token);
              if (options.autoSync !== false) queueMicrotask(() => handlers?.onSynced(token));
            },
            close: () => undefined,
          };
        },
        { warn: () => undefined },
      )
    : null;
  /** The back end's journal: what recordInput got, and the newest seq it dropped. */
  const journal: InputJournalEntry[] = [];
  const backend = { droppedThroughSeq: 0, reads: 0 };
  const warnings: string[] = [];
  let targetChanges = 0;
  const broadcast = new BroadcastController({
    sessionId: 's1',
    replicaIds: IDS,
    clientOf: (id) => clients.get(id) ?? null,
    inputChannel: channel,
    api: {
      recordInput: async ({ entries }) => void journal.push(...entries),
      exportInputJournal: async () => ({ jsonLines: '', entries: 0, dropped: 0 }),
    },
    clock,
    log: { warn: (message) => void warnings.push(message) },
    onTargetsChange: () => void targetChanges++,
  });
  for (const id of IDS) broadcast.setConnected(id, true);
  const readJournal: JournalReader = async (afterSeq, limit) => {
    backend.reads++;
    return {
      entries: journal.filter((entry) => entry.seq > afterSeq).slice(0, limit),
      complete: backend.droppedThroughSeq <= afterSeq,
      lastSeq: journal[journal.length - 1]?.seq ?? 0,
    };
  };
  /** Types a key (press and release) at the current time. */
  const tap = (keysym: number): void => broadcast.fanout.tap(keysym, null);
  /** What a replica's server got after its first `from` inputs. */
  const receivedBy = (id: string, from = 0): string[] => (wire.get(id) ?? []).slice(from);
  return {
    clock,
    wire,
    frames,
    accepting,
    broadcast,
    readJournal,
    journal,
    backend,
    syncs,
    warnings,
    tap,
    receivedBy,
    answerSync: (token: number) => handlers?.onSynced(token),
    targetChanges: () => targetChanges,
    framesTo: (id: string) => frames.filter((frame) => frame.replicaId === id),
  };
}

/** A checkpoint: hold, note the seq, release (as the manager does around its snapshots). */
async function checkpoint(setup: ReturnType<typeof world>): Promise<number> {
  const seq = await drive(setup.clock, setup.broadcast.holdInput());
  setup.broadcast.releaseInput();
  return seq;
}

describe('remediation input: hold, isolate, replay, rejoin', { timeout: 60_000 }, () => {
  it('holds input until the back end wrote everything sent, answers the last seq, and sends what was queued on release', { timeout: 10_000 }, async () => {
    const setup = world({ autoSync: false });
    const { broadcast, clock, tap, syncs } = setup;
    tap(0x61);
    let answered: number | null = null;
    const holding = broadcast.holdInput().then((seq) => (answered = seq));
    tap(0x62);
    await clock.advance(50);
    assert.equal(answered, null, 'waits for the sync answer');
    assert.equal(syncs.length, 1);
    setup.answerSync(syncs[0] as number);
    await holding;
    assert.equal(answered, 2, 'the last seq sent before the hold');
    assert.deepEqual(setup.receivedBy('a'), ['key 97 down', 'key 97 up'], 'nothing typed during the hold was sent');
    broadcast.releaseInput();
    await clock.advance(1);
    assert.deepEqual(setup.receivedBy('a'), ['key 97 down', 'key 97 up', 'key 98 down', 'key 98 up']);
    assert.equal(broadcast.fanout.nextSequence, 5);
  });

  it('releases again and fails when the back end does not confirm the hold', { timeout: 10_000 }, async () => {
    const setup = world({ autoSync: false });
    const holding = setup.broadcast.holdInput();
    setup.tap(0x61);
    await assert.rejects(drive(setup.clock, holding, HOLD_DRAIN_TIMEOUT_MS + 100), /did not confirm .* input was released/);
    assert.equal(setup.broadcast.inputHeld, false);
    assert.deepEqual(setup.receivedBy('b'), ['key 97 down', 'key 97 up'], 'what was typed meanwhile went out');
  });

  it('holds at once in per-stream delivery (every write is synchronous)', { timeout: 10_000 }, async () => {
    const setup = world({ channel: false });
    setup.tap(0x61);
    assert.equal(await setup.broadcast.holdInput(), 2);
    assert.equal(setup.broadcast.inputHeld, true);
  });

  it('replays what the donor got since the checkpoint, then what the others got since the isolation, and rejoins', { timeout: 20_000 }, async () => {
    const setup = world();
    const { broadcast, clock, tap } = setup;
    tap(0x78);
    const checkpointSeq = await checkpoint(setup);
    assert.equal(checkpointSeq, 2);
    await clock.advance(1000);
    tap(0x79);
    broadcast.fanout.pointerButton(10, 20, 1, true);
    broadcast.fanout.pointerButton(10, 20, 1, false);
    // Left out by the user for a moment: the donor never got this one.
    broadcast.setIncluded('a', false);
    tap(0x6e);
    broadcast.setIncluded('a', true);
    await clock.advance(1000);
    const changesBefore = setup.targetChanges();
    const isolationSeq = broadcast.isolate('b');
    assert.equal(isolationSeq, 8);
    assert.equal(broadcast.isolate('b'), 8, 'isolating again answers the same');
    assert.ok(setup.targetChanges() > changesBefore, 'the UI hears of the change');
    assert.deepEqual(broadcast.targets(), ['a', 'c']);
    await clock.advance(1000);
    tap(0x7a);
    await clock.advance(10);
    const bBefore = setup.receivedBy('b').length;
    assert.deepEqual(setup.receivedBy('a').slice(-2), ['key 122 down', 'key 122 up']);
    assert.equal(setup.receivedBy('b').length, bBefore, 'an isolated replica gets no live input');
    const journaledBefore = broadcast.fanout.nextSequence;

    // (The manager reverted b's VM to the checkpoint here.)
    let rejoinedInStep = false;
    const replayed = await drive(
      clock,
      broadcast.replay('b', 'a', checkpointSeq, {
        readJournal: setup.readJournal,
        timeoutMs: 30_000,
        onRejoin: () => (rejoinedInStep = broadcast.blockReason('b') === null),
      }),
    );
    assert.equal(replayed, 6);
    assert.equal(rejoinedInStep, true, 'onRejoin runs once it is a target again');
    assert.deepEqual(setup.receivedBy('b', bBefore), ['key 121 down', 'key 121 up', 'ptr 10,20 1', 'ptr 10,20 0', 'key 122 down', 'key 122 up'], 'donor-filtered, in order');
    assert.equal(broadcast.fanout.nextSequence, journaledBefore, 'no sequence number spent by the replay');
    await broadcast.flushJournal();
    assert.equal(setup.journal.length, journaledBefore - 1, 'nothing journaled again');
    assert.equal(broadcast.isIsolated('b'), false);
    assert.deepEqual(broadcast.targets(), ['a', 'b', 'c']);
    tap(0x77);
    await clock.advance(1);
    assert.deepEqual(setup.receivedBy('b').slice(-2), ['key 119 down', 'key 119 up'], 'live input reaches it again');
  });

  it('paces the replay: bursts end at pauses of the original input or after REPLAY_BURST_MAX_INPUTS inputs, each waits for a quiet screen', { timeout: 20_000 }, async () => {
    const setup = world();
    const { broadcast, clock, tap } = setup;
    const checkpointSeq = await checkpoint(setup);
    tap(0x31);
    await clock.advance(100);
    tap(0x32); // 100 ms later: same burst
    await clock.advance(1000);
    tap(0x33); // after a pause: a burst of its own
    await clock.advance(1000);
    for (let index = 0; index < 70; index++) tap(0x61); // 140 inputs at once: bursts of REPLAY_BURST_MAX_INPUTS, then the rest
    await clock.advance(1000);
    broadcast.isolate('b');
    const framesBefore = setup.framesTo('b').length;
    // The guest draws for 400 ms after every burst it receives (a fake screen).
    const drawn: number[] = [];
    const originalLength = setup.frames.length;
    let seen = originalLength;
    const watchScreen = (): void => {
      for (; seen < setup.frames.length; seen++) {
        if (setup.frames[seen]?.replicaId !== 'b') continue;
        const startMs = clock.nowMs;
        drawn.push(startMs);
        const paint = (): void => {
          broadcast.noteScreenUpdate('b');
          if (clock.nowMs - startMs < 400) clock.setTimeout(paint, 20);
        };
        paint();
      }
      clock.setTimeout(watchScreen, 5);
    };
    watchScreen();
    const replayed = await drive(clock, broadcast.replay('b', 'a', checkpointSeq, { readJournal: setup.readJournal, timeoutMs: 60_000 }));
    assert.equal(replayed, 6 + 140);
    const bursts = setup.framesTo('b').slice(framesBefore);
    assert.deepEqual(
      bursts.map((frame) => frame.inputs.length),
      // 0x31 and 0x32 (typed 100 ms apart) keep that pace: one frame each within the first burst.
      [2, 2, 2, ...Array.from({ length: Math.floor(140 / REPLAY_BURST_MAX_INPUTS) }, () => REPLAY_BURST_MAX_INPUTS), ...(140 % REPLAY_BURST_MAX_INPUTS === 0 ? [] : [140 % REPLAY_BURST_MAX_INPUTS])],
    );
    assert.equal((bursts[1]?.atMs ?? 0) - (bursts[0]?.atMs ?? 0), 100, 'the second key of the first burst keeps its original 100 ms');
    for (let index = 2; index < bursts.length; index++) {
      const gap = (bursts[index]?.atMs ?? 0) - (bursts[index - 1]?.atMs ?? 0);
      assert.ok(gap >= 400 + REPLAY_QUIET_MS, `burst ${index} came ${gap} ms after the previous one: the screen was still drawing`);
    }
  });

  it('waits at most the per-burst cap for a screen that never goes quiet', { timeout: 20_000 }, async () => {
    const setup = world();
    const { broadcast, clock, tap } = setup;
    const checkpointSeq = await checkpoint(setup);
    tap(0x31);
    await clock.advance(1000);
    tap(0x32);
    await clock.advance(1);
    broadcast.isolate('b');
    const framesBefore = setup.framesTo('b').length;
    const blink = (): void => {
      broadcast.noteScreenUpdate('b');
      clock.setTimeout(blink, 50);
    };
    blink();
    await drive(clock, broadcast.replay('b', 'a', checkpointSeq, { readJournal: setup.readJournal, timeoutMs: 60_000 }));
    const bursts = setup.framesTo('b').slice(framesBefore);
    assert.equal(bursts.length, 2);
    const gap = (bursts[1]?.atMs ?? 0) - (bursts[0]?.atMs ?? 0);
    assert.ok(gap >= REPLAY_BURST_SETTLE_CAP_MS && gap < REPLAY_BURST_SETTLE_CAP_MS + 100, `waited ${gap} ms`);
  });

  it('keeps live input that arrives during the replay and rejoins without losing or doubling any', { timeout: 20_000 }, async () => {
    const setup = world();
    const { broadcast, clock, tap } = setup;
    const checkpointSeq = await checkpoint(setup);
    const aFrom = setup.receivedBy('a').length;
    for (let index = 0; index < 10; index++) {
      tap(0x41 + index);
      await clock.advance(300);
    }
    broadcast.isolate('b');
    const bFrom = setup.receivedBy('b').length;
    // A steady typist, every 70 ms, all through the replay and after it.
    let typed = 0;
    const type = (): void => {
      if (typed++ < 120) {
        tap(0x30 + (typed % 10));
        clock.setTimeout(type, 70);
      }
    };
    type();
    const replayed = await drive(clock, broadcast.replay('b', 'a', checkpointSeq, { readJournal: setup.readJournal, timeoutMs: 60_000 }));
    assert.ok(replayed > 20);
    assert.ok(typed < 120, `rejoined while the typist was still typing (typed ${typed}, replayed ${replayed}, at ${clock.nowMs})`);
    await clock.advance(120 * 70);
    assert.equal(typed, 121);
    assert.deepEqual(setup.receivedBy('b', bFrom), setup.receivedBy('a', aFrom), 'the same inputs in the same order');
  });

  it('leaves the fan-out knowing the keys and buttons the replay left down, so a later release reaches the replica', { timeout: 10_000 }, async () => {
    const setup = world();
    const { broadcast, clock } = setup;
    const checkpointSeq = await checkpoint(setup);
    broadcast.fanout.key(0xffe1, 'ShiftLeft', true);
    broadcast.fanout.pointerButton(5, 5, 1, true);
    broadcast.isolate('b');
    assert.deepEqual(broadcast.fanout.heldBy('b'), { keys: [], buttonMask: 0 }, 'released on isolation');
    await drive(clock, broadcast.replay('b', 'a', checkpointSeq, { readJournal: setup.readJournal, timeoutMs: 10_000 }));
    assert.deepEqual(broadcast.fanout.heldBy('b'), { keys: [{ keysym: 0xffe1, code: 'ShiftLeft' }], buttonMask: 1 });
    broadcast.fanout.key(0xffe1, 'ShiftLeft', false);
    broadcast.fanout.pointerButton(5, 5, 1, false);
    await clock.advance(1);
    assert.deepEqual(setup.receivedBy('b').slice(-2), ['key 65505 up', 'ptr 5,5 0']);
  });

  it('fails, and keeps the replica isolated, when the journal dropped inputs after the checkpoint', { timeout: 10_000 }, async () => {
    const setup = world();
    const { broadcast, clock, tap } = setup;
    const checkpointSeq = await checkpoint(setup);
    tap(0x61);
    broadcast.isolate('b');
    setup.backend.droppedThroughSeq = 1;
    await assert.rejects(drive(clock, broadcast.replay('b', 'a', checkpointSeq, { readJournal: setup.readJournal, timeoutMs: 10_000 })), /no longer holds every input after 0.*b stays isolated/);
    assert.equal(broadcast.blockReason('b'), 'remediating');
    assert.equal(broadcast.isIsolated('b'), true);
  });

  it('fails when the journal lacks inputs the back end never got', { timeout: 10_000 }, async () => {
    const setup = world();
    const { broadcast, clock, tap } = setup;
    tap(0x61);
    await broadcast.flushJournal();
    setup.journal.splice(0, 1);
    tap(0x62);
    broadcast.isolate('b');
    await assert.rejects(drive(clock, broadcast.replay('b', 'a', 0, { readJournal: setup.readJournal, timeoutMs: 10_000 })), /lacks inputs 1–1/);
  });

  it('fails when the replica disconnects during the replay, or the time is up', { timeout: 20_000 }, async () => {
    const setup = world();
    const { broadcast, clock, tap } = setup;
    const checkpointSeq = await checkpoint(setup);
    for (let index = 0; index < 5; index++) {
      tap(0x61);
      await clock.advance(1000);
    }
    broadcast.isolate('b');
    const replaying = broadcast.replay('b', 'a', checkpointSeq, { readJournal: setup.readJournal, timeoutMs: 60_000 });
    await assert.rejects(broadcast.replay('b', 'a', checkpointSeq, { readJournal: setup.readJournal, timeoutMs: 60_000 }), /already running/);
    await clock.advance(REPLAY_QUIET_MS + 100);
    setup.accepting.set('b', false);
    broadcast.setConnected('b', false);
    await assert.rejects(drive(clock, replaying), /b is not connected \(it disconnected after \d+ replayed inputs\); b stays isolated/);
    assert.equal(broadcast.isIsolated('b'), true);

    setup.accepting.set('b', true);
    broadcast.setConnected('b', true);
    await assert.rejects(drive(clock, broadcast.replay('b', 'a', checkpointSeq, { readJournal: setup.readJournal, timeoutMs: 700 })), /did not finish within 700 ms/);
    assert.equal(broadcast.blockReason('b'), 'remediating');
  });

  it('replays onto the replica own stream in per-stream delivery', { timeout: 10_000 }, async () => {
    const setup = world({ channel: false });
    const { broadcast, clock, tap } = setup;
    const checkpointSeq = await checkpoint(setup);
    tap(0x61);
    broadcast.isolate('c');
    // (c was reverted to the checkpoint: it gets the tap again.)
    const replayed = await drive(clock, broadcast.replay('c', 'b', checkpointSeq, { readJournal: setup.readJournal, timeoutMs: 10_000 }));
    assert.equal(replayed, 2);
    assert.deepEqual(setup.receivedBy('c'), ['key 97 down', 'key 97 up', 'key 97 down', 'key 97 up']);
  });

  it('rejoins without a replay, and refuses a replay of a replica that is not isolated', { timeout: 10_000 }, async () => {
    const setup = world();
    const { broadcast, tap } = setup;
    broadcast.isolate('b');
    tap(0x61);
    broadcast.rejoin('b');
    assert.deepEqual(broadcast.targets(), ['a', 'b', 'c']);
    await assert.rejects(broadcast.replay('b', 'a', 0, { readJournal: setup.readJournal, timeoutMs: 1000 }), /not isolated/);
    tap(0x62);
    await setup.clock.advance(1);
    assert.deepEqual(setup.receivedBy('b'), ['key 98 down', 'key 98 up']);
  });

  it('stops keeping inputs past the bound: the replay then fails with the reason', { timeout: 30_000 }, async () => {
    const setup = world({ channel: false });
    const { broadcast, clock } = setup;
    broadcast.isolate('b');
    for (let index = 0; index <= MAX_ISOLATION_QUEUE / 2; index++) broadcast.fanout.tap(0x61, 'KeyA');
    assert.ok(setup.warnings.some((message) => message.includes(`more than ${MAX_ISOLATION_QUEUE} inputs`)));
    await assert.rejects(drive(clock, broadcast.replay('b', 'a', 0, { readJournal: setup.readJournal, timeoutMs: 10_000 })), /cannot catch up/);
  });
});
