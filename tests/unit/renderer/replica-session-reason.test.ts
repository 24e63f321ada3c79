// A server chooses its failure text: however long, the replica session clips it to what the contract
// carries, so the state report still reaches the back end (a refused report would hide the failure).
// Plain Node, a fake VNC client and back end.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CONTRACT_CALLS, MAX_REPLICA_REASON_CHARS, type ByteStream, type ReplicaStatusReport } from '../../../common/contract';
import { ReplicaSession, type Clock } from '../../../renderer/vnc/replica-session';
import type { VncClient, VncClientEvents } from '../../../renderer/vnc/vnc-client';

const STILL_CLOCK: Clock = { now: () => 1_000, setTimeout: () => 0, clearTimeout: () => undefined };

const settle = async (): Promise<void> => {
  for (let index = 0; index < 5; index += 1) await new Promise((resolve) => setImmediate(resolve));
};

describe('ReplicaSession: a long failure reason', { timeout: 5_000 }, () => {
  it('reports a 5000-character server reason clipped to the contract, and the contract accepts it', async () => {
    const reports: ReplicaStatusReport[] = [];
    const warnings: string[] = [];
    let events: VncClientEvents | null = null;
    const session = new ReplicaSession({
      sessionId: 's1',
      replica: { id: 'r1', label: 'one', endpoint: '127.0.0.1:5901', tunnel: false, hasPassword: false },
      api: {
        openReplicaStream: () => Promise.resolve({ streamId: 'st1' }),
        getReplicaPassword: () => Promise.resolve({ password: null }),
        reportReplicaState: (report) => {
          // What the back end does with it first: the contract's parser (strict: at most 1024 characters).
          reports.push(CONTRACT_CALLS.reportReplicaState.parseRequest(report));
          return Promise.resolve();
        },
      },
      openStream: (): ByteStream => ({ send: () => undefined, ack: () => undefined, close: () => undefined }),
      createClient: (_host, _channel, clientEvents) => {
        events = clientEvents;
        return { disconnect: () => undefined } as unknown as VncClient;
      },
      host: {} as HTMLElement,
      listener: { onStateChange: () => undefined, onClientChange: () => undefined, onFramebufferUpdate: () => undefined, onPasswordRequest: () => undefined },
      clock: STILL_CLOCK,
      log: { warn: (message) => warnings.push(message) },
    });
    session.start();
    await settle();
    assert.ok(events !== null, 'the session started a client');
    const reason = `${'x'.repeat(4_990)} the end`;
    (events as VncClientEvents).onSecurityFailure(1, reason);
    await settle();
    assert.deepEqual(warnings, []);
    const failed = reports.find((report) => report.state === 'auth-failed');
    assert.ok(failed?.reason !== undefined, JSON.stringify(reports.map((report) => report.state)));
    assert.equal(failed.reason.length, MAX_REPLICA_REASON_CHARS);
    assert.ok(failed.reason.endsWith('…'));
    assert.ok(reason.startsWith(failed.reason.slice(0, -1)));
    // The UI itself keeps the whole text.
    assert.equal(session.state.name === 'auth-failed' ? session.state.reason : '', reason);
    session.close();
  });
});
