// The stream service: stream ids are single use and expire (a short TTL injected; the test waits for
// the expiry's log line, not a sleep), pending ids are capped, a closed session's streams close with
// its reason, and closeAll closes everything and refuses what comes later. No network: the VNC server
// is an in-process stand-in.

import assert from 'node:assert/strict';
import type { Duplex } from 'node:stream';
import { describe, it } from 'node:test';
import type { OpenResult } from '../../../../common/contract';
import { SessionService } from '../../../../main/backend/session-service';
import { MAX_PENDING_STREAMS, STREAM_ID_TTL_MS, StreamService, type StreamServiceOptions } from '../../../../main/backend/stream-service';
import { recordingEndpoint, recordingInputChannel, recordingLogger, silentServer } from './service-fakes';

function setup(overrides: Partial<StreamServiceOptions> = {}) {
  const log = recordingLogger();
  const sessions = new SessionService({ logger: log.logger, redactor: log.redactor, workingDirectory: process.cwd() });
  const connections: { replicaId: string; server: Duplex }[] = [];
  const streams = new StreamService({
    logger: log.logger,
    sessions,
    connect: async (replica) => {
      const server = silentServer();
      connections.push({ replicaId: replica.id, server });
      return server;
    },
    ...overrides,
  });
  return { log, sessions, streams, connections };
}

function sessionId(result: OpenResult): string {
  assert.ok(result.ok, JSON.stringify(result));
  return result.session.sessionId;
}

describe('StreamService', { timeout: 15_000 }, () => {
  it('keeps the contract\'s defaults', { timeout: 1_000 }, () => {
    assert.equal(STREAM_ID_TTL_MS, 30_000);
    assert.equal(MAX_PENDING_STREAMS, 64);
  });

  it('uses a stream id once: the first attach relays, a second one is refused with a reason', { timeout: 5_000 }, async () => {
    const { sessions, streams, connections } = setup();
    const id = sessionId(sessions.quickConnect('127.0.0.1:1, 127.0.0.1:2'));
    const { streamId } = streams.open(id, 'r2');
    assert.match(streamId, /^[A-Za-z0-9_-]{32}$/);
    assert.equal(streams.pendingCount, 1);
    const first = recordingEndpoint();
    streams.attach(streamId, first.endpoint);
    await first.opened;
    assert.deepEqual(
      connections.map((connection) => connection.replicaId),
      ['r2'],
    );
    assert.equal(streams.pendingCount, 0);
    assert.ok(streams.streamOf(streamId), 'the input channel finds the attached stream');
    const again = recordingEndpoint();
    streams.attach(streamId, again.endpoint);
    await again.closed;
    assert.equal(again.closeReason(), 'unknown or expired stream id: open the stream again');
    const madeUp = recordingEndpoint();
    streams.attach('x'.repeat(500), madeUp.endpoint);
    await madeUp.closed;
    assert.match(madeUp.closeReason() ?? '', /unknown or expired stream id/);
    assert.equal(connections.length, 1);
    await streams.closeAll('test over');
  });

  it('forgets an id not attached within the TTL', { timeout: 5_000 }, async () => {
    const { sessions, streams, connections, log } = setup({ streamIdTtlMs: 20 });
    const id = sessionId(sessions.quickConnect('127.0.0.1:1'));
    const { streamId } = streams.open(id, 'r1');
    // The service's timer is unref'd (it never keeps the process alive): this test keeps it alive while it waits.
    const keepAlive = setInterval(() => undefined, 1_000);
    const expired = await log.waitForMessage('stream id expired unused').finally(() => clearInterval(keepAlive));
    assert.equal(expired.sessionId, id);
    assert.equal(expired.replicaId, 'r1');
    assert.equal(streams.pendingCount, 0);
    const late = recordingEndpoint();
    streams.attach(streamId, late.endpoint);
    await late.closed;
    assert.match(late.closeReason() ?? '', /unknown or expired stream id/);
    assert.equal(connections.length, 0);
  });

  it('refuses ids for unknown sessions and replicas, and more pending ids than the cap', { timeout: 5_000 }, async () => {
    const { sessions, streams } = setup({ maxPendingStreams: 2 });
    const id = sessionId(sessions.quickConnect('127.0.0.1:1'));
    assert.throws(() => streams.open('nope', 'r1'), /no open session "nope"/);
    assert.throws(() => streams.open(id, 'zz'), /has no replica "zz"/);
    streams.open(id, 'r1');
    streams.open(id, 'r1');
    assert.throws(() => streams.open(id, 'r1'), /2 streams are waiting to be attached/);
    await streams.closeAll('test over');
  });

  it('closes a closed session\'s streams with its reason and forgets its ids; the others go on', { timeout: 5_000 }, async () => {
    const { sessions, streams } = setup();
    const first = sessionId(sessions.quickConnect('127.0.0.1:1'));
    const second = sessionId(sessions.quickConnect('127.0.0.1:2'));
    const one = recordingEndpoint();
    const two = recordingEndpoint();
    streams.attach(streams.open(first, 'r1').streamId, one.endpoint);
    streams.attach(streams.open(second, 'r1').streamId, two.endpoint);
    await Promise.all([one.opened, two.opened]);
    const unattached = streams.open(first, 'r1').streamId;
    sessions.close(first, 'the session was closed');
    await one.closed;
    assert.equal(one.closeReason(), 'the session was closed');
    assert.equal(two.closeReason(), undefined);
    assert.equal(streams.pendingCount, 0);
    const late = recordingEndpoint();
    streams.attach(unattached, late.endpoint);
    await late.closed;
    assert.match(late.closeReason() ?? '', /unknown or expired stream id/);
    await streams.closeAll('test over');
  });

  it('closes every stream and input channel on closeAll, then refuses new ones', { timeout: 5_000 }, async () => {
    const { sessions, streams } = setup();
    const id = sessionId(sessions.quickConnect('127.0.0.1:1'));
    const stream = recordingEndpoint();
    streams.attach(streams.open(id, 'r1').streamId, stream.endpoint);
    await stream.opened;
    const pendingId = streams.open(id, 'r1').streamId;
    const channel = recordingInputChannel();
    streams.attachInputChannel(channel.endpoint);
    await streams.closeAll('RetroVisor is shutting down');
    assert.equal(stream.closeReason(), 'RetroVisor is shutting down');
    assert.deepEqual(await channel.closed, { reason: 'RetroVisor is shutting down', refused: false });
    assert.equal(streams.activeCount, 0);
    assert.equal(streams.pendingCount, 0);
    const late = recordingEndpoint();
    streams.attach(pendingId, late.endpoint);
    await late.closed;
    assert.equal(late.closeReason(), 'RetroVisor is shutting down');
    const lateChannel = recordingInputChannel();
    streams.attachInputChannel(lateChannel.endpoint);
    assert.deepEqual(await lateChannel.closed, { reason: 'RetroVisor is shutting down', refused: false });
  });
});
