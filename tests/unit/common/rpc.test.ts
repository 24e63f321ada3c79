// The contract over a message pipe, both ends in memory: every call round-trips, requests are
// checked against their declared shape, errors come back as errors, events reach listeners.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CALL_NAMES, ipcChannel, type ContractHandlers, type DemoStatus, type OpenResult } from '../../../common/contract';
import { BackendError, createRpcClient, decodeRpcMessage, dispatchCall, encodeEvent } from '../../../common/rpc';
import { DEFAULT_NOTIFICATION_SETTINGS, summarize } from '../../../common/desktop-status';

const DEFAULT_PREFERENCES = { recentEndpoints: [], confirmSystemKeys: true, closeToTray: true, closeToTrayNoticeShown: false, notifications: DEFAULT_NOTIFICATION_SETTINGS };

const FAILED: OpenResult = { ok: false, problems: [{ path: '$', message: 'nope' }] };
const NO_DEMO: DemoStatus = { running: false, sessionIds: [], replicas: [] };

function fakeHandlers(log: string[]): ContractHandlers {
  return {
    getStartup: async () => ({ shell: 'browser', version: '0.0.0', headless: false, startupSession: null }),
    openProfileFile: async ({ path }) => {
      log.push(`open ${path}`);
      return FAILED;
    },
    openProfileText: async ({ sourceName }) => {
      log.push(`text ${sourceName}`);
      return FAILED;
    },
    quickConnect: async ({ endpoints }) => {
      log.push(`quick ${endpoints}`);
      return FAILED;
    },
    getPreferences: async () => DEFAULT_PREFERENCES,
    setConfirmSystemKeys: async ({ confirm }) => ({ ...DEFAULT_PREFERENCES, confirmSystemKeys: confirm }),
    setDesktopPreferences: async (change) => ({ ...DEFAULT_PREFERENCES, ...change }),
    getDesktopStatus: async () => summarize([]),
    reportBroadcast: async () => undefined,
    forgetRecentEndpoints: async () => DEFAULT_PREFERENCES,
    closeSession: async () => undefined,
    openReplicaStream: async ({ replicaId }) => ({ streamId: `stream-${replicaId}` }),
    getReplicaPassword: async () => {
      throw new Error('VNC_PW is not set');
    },
    reportReplicaState: async (report) => {
      log.push(`report ${report.replicaId} ${report.state}`);
    },
    recordInput: async ({ entries }) => {
      log.push(`input ${entries.map((entry) => entry.seq).join(',')}`);
    },
    exportInputJournal: async () => ({ jsonLines: '', entries: 0, dropped: 0 }),
    reportScriptResult: async ({ ok, stepsRun }) => {
      log.push(`script ${ok} ${stepsRun}`);
    },
    reportDivergence: async ({ kind, outliers }) => {
      log.push(`divergence ${kind} ${outliers.join(',')}`);
      return { evidenceId: null };
    },
    saveDivergenceScreen: async ({ replicaId }) => {
      log.push(`screen ${replicaId}`);
    },
    startDemoLab: async ({ replicas }) => {
      log.push(`demo ${replicas ?? 'default'}`);
      return FAILED;
    },
    getDemoStatus: async () => NO_DEMO,
    setDemoFault: async ({ replicaId, fault }) => {
      log.push(`fault ${replicaId} ${fault}`);
      return NO_DEMO;
    },
    clearDemoFaults: async () => NO_DEMO,
    demoL0Action: async ({ replicaId, action }) => {
      log.push(`l0 ${replicaId} ${action}`);
      return NO_DEMO;
    },
    getRemediationState: async ({ sessionId }) => ({ sessionId, mode: 'observe', canAct: false, replicas: [], checkpoints: [], pending: [], audit: [] }),
    takeCheckpoint: async () => {
      throw new Error('not every replica agrees');
    },
    confirmRemediation: async ({ planId, approve }) => {
      log.push(`confirm ${planId} ${approve}`);
    },
    replicaAction: async ({ replicaId, action }) => ({ message: `${action} ${replicaId}` }),
    answerManagerCommand: async ({ commandId, ok }) => {
      log.push(`answer ${commandId} ${ok}`);
    },
    readInputJournal: async () => ({ entries: [], complete: true, lastSeq: 0 }),
    testReplicaConnection: async () => ({ ok: true, steps: [] }),
    testL0Connection: async () => ({ ok: true, steps: [] }),
    listProfiles: async () => ({ profiles: [], setAside: [], skipped: [] }),
    getSavedProfile: async ({ id }) => ({ ok: false, error: `no ${id}` }),
    openSavedProfile: async ({ id }) => {
      log.push(`open saved ${id}`);
      return FAILED;
    },
    saveProfile: async ({ id, expectedRevision }) => {
      log.push(`save ${id ?? 'new'} ${expectedRevision ?? '-'}`);
      return { kind: 'saved', id: id ?? 'new', revision: (expectedRevision ?? 0) + 1, notices: [] };
    },
    duplicateProfile: async ({ id }) => ({ kind: 'missing', id, message: 'gone' }),
    deleteProfile: async () => ({ ok: true }),
    restoreProfile: async () => ({ ok: true }),
    importProfiles: async ({ sources }) => {
      log.push(`import ${sources.map((source) => source.kind).join(',')}`);
      return { kind: 'unreadable', problems: [] };
    },
    exportProfile: async ({ id }) => ({ fileName: `${id}.json`, text: '{}', notices: [] }),
    getKeyringStatus: async () => ({ available: false, reason: 'no keyring', hint: 'install one' }),
  };
}

function pair(log: string[]) {
  const handlers = fakeHandlers(log);
  const client = createRpcClient((raw) => {
    const message = decodeRpcMessage(raw);
    assert.ok(message && message.kind === 'call');
    void dispatchCall(handlers, message).then((result) => client.receive(JSON.stringify(result)));
  });
  return client;
}

describe('contract over RPC', { timeout: 60_000 }, () => {
  it('has a distinct IPC channel per call', () => {
    const channels = CALL_NAMES.map((name) => ipcChannel(name));
    assert.equal(new Set(channels).size, channels.length);
  });

  it('round-trips calls and their results', async () => {
    const log: string[] = [];
    const { api } = pair(log);
    assert.equal((await api.getStartup()).shell, 'browser');
    assert.deepEqual(await api.openReplicaStream({ sessionId: 's', replicaId: 'r2' }), { streamId: 'stream-r2' });
    await api.reportReplicaState({ sessionId: 's', replicaId: 'r1', state: 'connected', width: 640, height: 400 });
    await api.quickConnect({ endpoints: 'h:1' });
    assert.deepEqual(log, ['report r1 connected', 'quick h:1']);
  });

  it('turns handler errors into rejected calls', async () => {
    const { api } = pair([]);
    await assert.rejects(api.getReplicaPassword({ sessionId: 's', replicaId: 'r1' }), (error: unknown) => {
      assert.ok(error instanceof BackendError);
      assert.equal(error.message, 'VNC_PW is not set');
      return true;
    });
  });

  it('checks request shapes before any handler runs', async () => {
    const log: string[] = [];
    const { api } = pair(log);
    const sneaky = api.reportReplicaState as unknown as (request: unknown) => Promise<void>;
    await assert.rejects(sneaky({ sessionId: 's', replicaId: 'r1', state: 'pwned' }), /bad request: state: unknown state/);
    await assert.rejects(sneaky({ sessionId: 's', replicaId: 'r1', state: 'connected', width: -5 }), /bad request: width/);
    const open = api.openProfileFile as unknown as (request: unknown) => Promise<void>;
    await assert.rejects(open({ path: 42 }), /bad request: path/);
    await assert.rejects(open(null), /bad request/);
    assert.deepEqual(log, []);
  });

  it('checks the demo calls\' requests: replica count, fault text, L0 action', async () => {
    const log: string[] = [];
    const { api } = pair(log);
    const start = api.startDemoLab as unknown as (request: unknown) => Promise<OpenResult>;
    const fault = api.setDemoFault as unknown as (request: unknown) => Promise<DemoStatus>;
    const l0 = api.demoL0Action as unknown as (request: unknown) => Promise<DemoStatus>;
    await start({});
    await start({ replicas: 5 });
    await assert.rejects(start({ replicas: 0 }), /bad request: replicas: the demo lab runs 1 to 8/);
    await assert.rejects(start({ replicas: 9 }), /bad request: replicas/);
    await assert.rejects(start({ replicas: 2.5 }), /bad request: replicas/);
    await fault({ replicaId: 'r2', fault: 'banner=HACKED' });
    await assert.rejects(fault({ replicaId: 'r2', fault: 'x'.repeat(2000) }), /bad request: fault/);
    await assert.rejects(fault({ replicaId: 'r2' }), /bad request: fault/);
    await l0({ replicaId: 'r3', action: 'snapshot-revert' });
    await assert.rejects(l0({ replicaId: 'r3', action: 'rm -rf' }), /bad request: action: expected one of reset, destroy, start, snapshot-create, snapshot-revert/);
    assert.deepEqual(log, ['demo default', 'demo 5', 'fault r2 banner=HACKED', 'l0 r3 snapshot-revert']);
  });

  it("checks the divergence calls' requests: kinds, replica ids, regions, base64 screens", async () => {
    const log: string[] = [];
    const { api } = pair(log);
    const report = api.reportDivergence as unknown as (request: unknown) => Promise<{ evidenceId: string | null }>;
    const screen = api.saveDivergenceScreen as unknown as (request: unknown) => Promise<void>;
    const valid = { sessionId: 's', kind: 'divergence', change: 'new', outliers: ['r2'], agreeing: ['r1', 'r3'], regions: [{ x: 0, y: 0, width: 12, height: 13 }], noMajority: false, inputSeq: 7 };
    assert.deepEqual(await report(valid), { evidenceId: null });
    await report({ sessionId: 's', kind: 'consensus', outliers: [], agreeing: [], regions: [], noMajority: false });
    await assert.rejects(report({ ...valid, kind: 'maybe' }), /bad request: kind/);
    await assert.rejects(report({ ...valid, regions: [{ x: 0, y: 0, width: 0, height: 13 }] }), /bad request: regions\[0\]\.width/);
    await assert.rejects(report({ ...valid, regions: [{ x: -1, y: 0, width: 1, height: 1 }] }), /bad request: regions\[0\]\.x/);
    await assert.rejects(report({ ...valid, regions: Array.from({ length: 257 }, () => ({ x: 0, y: 0, width: 1, height: 1 })) }), /bad request: regions: expected an array of at most 256/);
    await assert.rejects(report({ ...valid, outliers: 'r2' }), /bad request: outliers/);
    await assert.rejects(report({ ...valid, inputSeq: -1 }), /bad request: inputSeq/);
    await assert.rejects(report({ ...valid, change: 'old' }), /bad request: change/);
    await screen({ sessionId: 's', evidenceId: 'e1', replicaId: 'r2', pngBase64: 'iVBORw0KGgo=' });
    await assert.rejects(screen({ sessionId: 's', evidenceId: 'e1', replicaId: 'r2', pngBase64: '../../etc/passwd' }), /bad request: pngBase64: expected base64/);
    await assert.rejects(screen({ sessionId: 's', evidenceId: 'e1', replicaId: 'r2', pngBase64: 'A'.repeat(3 * 1024 * 1024 + 4) }), /bad request: pngBase64/);
    assert.deepEqual(log, ['divergence divergence r2', 'divergence consensus ', 'screen r2']);
  });

  it('drops malformed and unknown messages', () => {
    for (const raw of ['', 'nope', '[]', '{"kind":"call","id":1,"name":"eval","request":{}}', '{"kind":"call","id":"x","name":"getStartup"}', '{"kind":"result","id":1,"ok":false}', `{"kind":"event","name":"toString"}`]) {
      assert.equal(decodeRpcMessage(raw), null, raw);
    }
  });

  it('delivers events to their listeners until unsubscribed', () => {
    const client = createRpcClient(() => undefined);
    const seen: string[] = [];
    const stop = client.api.on('notice', (notice) => seen.push(notice.message));
    client.receive(encodeEvent('notice', { level: 'info', message: 'one' }));
    stop();
    client.receive(encodeEvent('notice', { level: 'info', message: 'two' }));
    assert.deepEqual(seen, ['one']);
  });

  it('fails pending and later calls when the pipe is gone', async () => {
    const client = createRpcClient(() => undefined);
    const pending = client.api.getStartup();
    client.fail('back end gone');
    await assert.rejects(pending, /back end gone/);
    await assert.rejects(client.api.getStartup(), /back end gone/);
  });
});
