// The executor of the remediation manager's UI commands: each command of its session answered exactly
// once (ok with the contract's fields, or the error in words), commands on one replica in order,
// input never held for ever, the vote following the broadcast. Fakes for the controllers, plus one run
// over the real BroadcastController with fake VNC clients. Plain Node; time moves only through the fake clock.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ManagerCommand, ManagerCommandAnswer, ManagerCommandEvent } from '../../../common/contract';
import type { BroadcastInput, InputJournalEntry } from '../../../common/input/input-events';
import type { AgreementResult } from '../../../renderer/divergence/divergence-monitor';
import { BroadcastController, type JournalReader, type ReplayOptions } from '../../../renderer/input/broadcast-controller';
import { MAX_HOLD_MS, ManagerCommandExecutor, type ManagerInputControl, type ManagerVoteControl } from '../../../renderer/remediation/manager-command-executor';
import type { VncClient } from '../../../renderer/vnc/vnc-client';
import { AsyncFakeClock as FakeClock, settlePromises } from '../support/fake-clocks';



/** A promise with its settle functions, for fakes that answer when the test says. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  return { promise, resolve, reject };
}

/** Fake controllers that log every call and answer when the test says. */
function fakes() {
  const calls: string[] = [];
  const holds: Array<ReturnType<typeof deferred<number>>> = [];
  const replays: Array<{ options: ReplayOptions; done: ReturnType<typeof deferred<number>> }> = [];
  const agreements: Array<ReturnType<typeof deferred<AgreementResult>>> = [];
  const connections: Array<ReturnType<typeof deferred<void>>> = [];
  const broadcast: ManagerInputControl = {
    holdInput: () => {
      calls.push('holdInput');
      const hold = deferred<number>();
      holds.push(hold);
      return hold.promise;
    },
    releaseInput: () => void calls.push('releaseInput'),
    isolate: (replicaId) => {
      calls.push(`isolate ${replicaId}`);
      if (replicaId === 'nobody') throw new Error('this session has no replica "nobody"');
      return 41;
    },
    replay: (replicaId, donorId, afterSeq, options) => {
      calls.push(`replay ${replicaId} from ${donorId} after ${afterSeq} within ${options.timeoutMs}`);
      const done = deferred<number>();
      replays.push({ options, done });
      return done.promise;
    },
    rejoin: (replicaId) => void calls.push(`rejoin ${replicaId}`),
  };
  const divergence: ManagerVoteControl = {
    setVoting: (replicaId, voting) => void calls.push(`vote ${replicaId} ${voting}`),
    awaitAgreement: (replicaIds, quietMs, timeoutMs) => {
      calls.push(`await ${replicaIds.join(',')} ${quietMs} ${timeoutMs}`);
      const agreement = deferred<AgreementResult>();
      agreements.push(agreement);
      return agreement.promise;
    },
  };
  const clock = new FakeClock();
  const answers: ManagerCommandAnswer[] = [];
  const warnings: string[] = [];
  const isolated: string[] = [];
  const journalReader: JournalReader = async () => ({ entries: [], complete: true, lastSeq: 0 });
  const executor = new ManagerCommandExecutor({
    sessionId: 's1',
    broadcast,
    divergence,
    reconnect: (replicaId) => void calls.push(`reconnect ${replicaId}`),
    waitConnected: (replicaId, timeoutMs) => {
      calls.push(`waitConnected ${replicaId} ${timeoutMs}`);
      const connected = deferred<void>();
      connections.push(connected);
      return connected.promise;
    },
    readJournal: journalReader,
    answer: async (answer) => void answers.push(answer),
    clock,
    log: { warn: (message) => void warnings.push(message) },
    onIsolationChange: (replicaId, isolatedNow) => void isolated.push(`${replicaId} ${isolatedNow}`),
  });
  let nextId = 1;
  /** Hands the executor a command of session s1 (or `sessionId`); returns its id. */
  const send = (command: ManagerCommand, sessionId = 's1'): string => {
    const commandId = `c${nextId++}`;
    executor.handle({ sessionId, commandId, command });
    return commandId;
  };
  const answerOf = (commandId: string): ManagerCommandAnswer | undefined => answers.find((answer) => answer.commandId === commandId);
  return { calls, holds, replays, agreements, connections, clock, answers, warnings, isolated, executor, send, answerOf, broadcast, divergence };
}

describe('ManagerCommandExecutor', { timeout: 30_000 }, () => {
  it('ignores other sessions, answers each command once, and a repeated command not again', { timeout: 5_000 }, async () => {
    const { send, executor, answers, calls } = fakes();
    send({ type: 'rejoin', replicaId: 'r2' }, 's2');
    const id = send({ type: 'rejoin', replicaId: 'r2' });
    executor.handle({ sessionId: 's1', commandId: id, command: { type: 'rejoin', replicaId: 'r2' } });
    await settlePromises();
    assert.deepEqual(answers, [{ sessionId: 's1', commandId: id, ok: true }]);
    assert.deepEqual(calls, ['rejoin r2', 'vote r2 true']);
  });

  it('holds input and answers the seq; releases on release-input', { timeout: 5_000 }, async () => {
    const { send, holds, answerOf, calls, clock } = fakes();
    const hold = send({ type: 'hold-input' });
    const release = send({ type: 'release-input' });
    await settlePromises();
    assert.deepEqual(calls, ['holdInput'], 'release waits for the hold in progress');
    holds[0]?.resolve(17);
    await settlePromises();
    assert.deepEqual(answerOf(hold), { sessionId: 's1', commandId: hold, ok: true, seq: 17 });
    assert.deepEqual(answerOf(release), { sessionId: 's1', commandId: release, ok: true });
    assert.deepEqual(calls, ['holdInput', 'releaseInput']);
    assert.equal(clock.pending, 0, 'no safety timer left');
  });

  it('releases held input by itself, with a warning, when no release-input comes', { timeout: 5_000 }, async () => {
    const { send, holds, calls, clock, warnings, answerOf } = fakes();
    send({ type: 'hold-input' });
    await settlePromises();
    holds[0]?.resolve(3);
    await clock.advance(MAX_HOLD_MS - 10);
    send({ type: 'hold-input' });
    await settlePromises();
    holds[1]?.resolve(3);
    await clock.advance(20);
    assert.deepEqual(calls, ['holdInput', 'holdInput', 'releaseInput'], 'counted from the first hold');
    assert.match(warnings[0] ?? '', /held for 30 s without the manager releasing it/);
    const late = send({ type: 'release-input' });
    await settlePromises();
    assert.equal(answerOf(late)?.ok, true);
  });

  it('answers a failed hold with the reason and forgets the safety timer', { timeout: 5_000 }, async () => {
    const { send, holds, answerOf, clock } = fakes();
    const hold = send({ type: 'hold-input' });
    await settlePromises();
    holds[0]?.reject(new Error('the back end did not confirm'));
    await settlePromises();
    assert.deepEqual(answerOf(hold), { sessionId: 's1', commandId: hold, ok: false, error: 'the back end did not confirm' });
    assert.equal(clock.pending, 0);
  });

  it('isolates (out of the broadcast and the vote), reconnects, replays (back in both in the same step) — in order', { timeout: 5_000 }, async () => {
    const { send, calls, answerOf, connections, replays, isolated } = fakes();
    const isolate = send({ type: 'isolate', replicaId: 'r2' });
    const reconnect = send({ type: 'reconnect', replicaId: 'r2', timeoutMs: 20_000 });
    const replay = send({ type: 'replay', replicaId: 'r2', donorId: 'r1', afterSeq: 30, timeoutMs: 60_000 });
    await settlePromises();
    assert.deepEqual(answerOf(isolate), { sessionId: 's1', commandId: isolate, ok: true, seq: 41 });
    assert.deepEqual(calls, ['isolate r2', 'vote r2 false', 'reconnect r2', 'waitConnected r2 20000'], 'the replay waits for the reconnect');
    connections[0]?.resolve();
    await settlePromises();
    assert.deepEqual(answerOf(reconnect), { sessionId: 's1', commandId: reconnect, ok: true });
    assert.equal(calls[4], 'replay r2 from r1 after 30 within 60000');
    // The broadcast rejoins the replica and calls onRejoin in that same step.
    replays[0]?.options.onRejoin?.();
    assert.equal(calls[5], 'vote r2 true');
    replays[0]?.done.resolve(12);
    await settlePromises();
    assert.deepEqual(answerOf(replay), { sessionId: 's1', commandId: replay, ok: true, replayed: 12 });
    assert.deepEqual(isolated, ['r2 true', 'r2 false']);
  });

  it('answers failures in words and keeps going: the replica stays out of the vote after a failed replay', { timeout: 5_000 }, async () => {
    const { send, calls, answerOf, connections, replays } = fakes();
    const bad = send({ type: 'isolate', replicaId: 'nobody' });
    const reconnect = send({ type: 'reconnect', replicaId: 'r3', timeoutMs: 100 });
    const replay = send({ type: 'replay', replicaId: 'r2', donorId: 'r1', afterSeq: 30, timeoutMs: 1000 });
    const unknown = send({ type: 'shutdown' } as unknown as ManagerCommand);
    const negative = send({ type: 'await-agreement', replicaIds: ['r1'], quietMs: -1, timeoutMs: 10 });
    await settlePromises();
    connections[0]?.reject(new Error('r3 did not connect within 100 ms'));
    replays[0]?.done.reject(new Error('the input journal lacks inputs 31–40; r2 stays isolated'));
    await settlePromises();
    assert.deepEqual(answerOf(bad), { sessionId: 's1', commandId: bad, ok: false, error: 'this session has no replica "nobody"' });
    assert.equal(answerOf(reconnect)?.error, 'r3 did not connect within 100 ms');
    assert.equal(answerOf(replay)?.error, 'the input journal lacks inputs 31–40; r2 stays isolated');
    assert.match(answerOf(unknown)?.error ?? '', /does not know the command "shutdown"/);
    assert.match(answerOf(negative)?.error ?? '', /quietMs must be a non-negative number/);
    assert.ok(!calls.includes('vote r2 true'));
  });

  it('awaits agreement after the commands queued for its replicas, without holding up later ones', { timeout: 5_000 }, async () => {
    const { send, calls, answerOf, replays, agreements } = fakes();
    send({ type: 'replay', replicaId: 'r2', donorId: 'r1', afterSeq: 0, timeoutMs: 1000 });
    const awaiting = send({ type: 'await-agreement', replicaIds: ['r1', 'r2', 'r3'], quietMs: 500, timeoutMs: 9000 });
    const rejoin = send({ type: 'rejoin', replicaId: 'r2' });
    await settlePromises();
    assert.equal(calls.filter((call) => call.startsWith('await')).length, 0, 'waits for the replay');
    replays[0]?.done.resolve(0);
    await settlePromises();
    assert.deepEqual(calls.slice(1).sort(), ['await r1,r2,r3 500 9000', 'rejoin r2', 'vote r2 true']);
    assert.ok(answerOf(rejoin)?.ok, 'the rejoin did not wait for the agreement');
    agreements[0]?.resolve({ agreed: false, outliers: ['r3'] });
    await settlePromises();
    assert.deepEqual(answerOf(awaiting), { sessionId: 's1', commandId: awaiting, ok: true, agreed: false, outliers: ['r3'] });
  });

  it('never throws out when the answer cannot be delivered', { timeout: 5_000 }, async () => {
    const warnings: string[] = [];
    const { broadcast, divergence } = fakes();
    const executor = new ManagerCommandExecutor({
      sessionId: 's1',
      broadcast,
      divergence,
      reconnect: () => undefined,
      waitConnected: async () => undefined,
      readJournal: async () => ({ entries: [], complete: true, lastSeq: 0 }),
      answer: async () => {
        throw new Error('the back end is gone');
      },
      clock: new FakeClock(),
      log: { warn: (message) => void warnings.push(message) },
    });
    executor.handle({ sessionId: 's1', commandId: 'x', command: { type: 'rejoin', replicaId: 'r1' } });
    await settlePromises();
    assert.match(warnings[0] ?? '', /could not answer the manager's "rejoin": the back end is gone/);
  });
});

describe('ManagerCommandExecutor over the real broadcast', { timeout: 30_000 }, () => {
  it('runs a checkpoint, an isolation and a replay with the seq and count the contract names', { timeout: 10_000 }, async () => {
    const clock = new FakeClock();
    const wire = new Map<string, string[]>([
      ['r1', []],
      ['r2', []],
    ]);
    const client = (id: string): VncClient => ({
      streamId: `stream-${id}`,
      canvas: {} as HTMLCanvasElement,
      width: 640,
      height: 400,
      acceptsInput: true,
      sendCredentials: () => undefined,
      getImageData: () => {
        throw new Error('not in Node');
      },
      disconnect: () => undefined,
      encodeInput: (input: BroadcastInput) => new TextEncoder().encode(input.kind === 'key' ? `key ${input.keysym} ${input.down}` : input.kind),
      writeOwnStream: (bytes) => void wire.get(id)?.push(new TextDecoder().decode(bytes)),
    });
    const clients = new Map([
      ['r1', client('r1')],
      ['r2', client('r2')],
    ]);
    const journal: InputJournalEntry[] = [];
    const broadcast = new BroadcastController({
      sessionId: 's1',
      replicaIds: ['r1', 'r2'],
      clientOf: (id) => clients.get(id) ?? null,
      inputChannel: null,
      api: { recordInput: async ({ entries }) => void journal.push(...entries), exportInputJournal: async () => ({ jsonLines: '', entries: 0, dropped: 0 }) },
      clock,
      log: { warn: () => undefined },
    });
    broadcast.setConnected('r1', true);
    broadcast.setConnected('r2', true);
    const votes: string[] = [];
    const answers: ManagerCommandAnswer[] = [];
    const executor = new ManagerCommandExecutor({
      sessionId: 's1',
      broadcast,
      divergence: { setVoting: (id, voting) => void votes.push(`${id} ${voting}`), awaitAgreement: async () => ({ agreed: true, outliers: [] }) },
      reconnect: () => undefined,
      waitConnected: async () => undefined,
      readJournal: async (afterSeq, limit) => ({ entries: journal.filter((entry) => entry.seq > afterSeq).slice(0, limit), complete: true, lastSeq: journal.length }),
      answer: async (answer) => void answers.push(answer),
      clock,
    });
    const run = async (command: ManagerCommand): Promise<ManagerCommandAnswer | undefined> => {
      const event: ManagerCommandEvent = { sessionId: 's1', commandId: `c${answers.length + 1}-${command.type}`, command };
      executor.handle(event);
      for (let step = 0; step < 400 && !answers.some((answer) => answer.commandId === event.commandId); step++) await clock.advance(25);
      return answers.find((answer) => answer.commandId === event.commandId);
    };
    broadcast.fanout.tap(0x61, 'KeyA');
    assert.deepEqual(await run({ type: 'hold-input' }), { sessionId: 's1', commandId: 'c1-hold-input', ok: true, seq: 2 });
    broadcast.fanout.tap(0x62, 'KeyB');
    assert.equal(wire.get('r1')?.length, 2, 'held');
    assert.equal((await run({ type: 'release-input' }))?.ok, true);
    assert.equal(wire.get('r1')?.length, 4);
    assert.equal((await run({ type: 'isolate', replicaId: 'r2' }))?.seq, 4);
    broadcast.fanout.tap(0x63, 'KeyC');
    const r2Before = wire.get('r2')?.length ?? 0;
    assert.deepEqual(await run({ type: 'replay', replicaId: 'r2', donorId: 'r1', afterSeq: 2, timeoutMs: 10_000 }), { sessionId: 's1', commandId: 'c4-replay', ok: true, replayed: 4 });
    assert.deepEqual(wire.get('r2')?.slice(r2Before), ['key 98 true', 'key 98 false', 'key 99 true', 'key 99 false']);
    assert.deepEqual(votes, ['r2 false', 'r2 true']);
    assert.deepEqual(broadcast.targets(), ['r1', 'r2']);
    executor.dispose();
  });
});
