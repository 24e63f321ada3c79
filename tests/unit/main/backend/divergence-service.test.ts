// The divergence service: reports checked against the session's replicas, an evidence folder for a
// new divergence only (a write failure does not lose the report), listeners told with the folder and
// the session, a failing listener isolated, screens saved into the folder.

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import type { DivergenceReport, OpenResult, SessionInfo } from '../../../../common/contract';
import { DivergenceService } from '../../../../main/backend/divergence-service';
import { SessionService } from '../../../../main/backend/session-service';
import { EvidenceStore } from '../../../../main/divergence-evidence';
import { recordingLogger } from './service-fakes';

let folder = '';

before(async () => {
  folder = await mkdtemp(path.join(os.tmpdir(), 'retrovisor-divergence-service-'));
});

after(async () => {
  await rm(folder, { recursive: true, force: true });
});

const NOW_MS = Date.UTC(2030, 0, 2, 3, 4, 5);

function setup(evidenceRoot = folder) {
  const log = recordingLogger();
  const sessions = new SessionService({ logger: log.logger, redactor: log.redactor, workingDirectory: folder });
  const divergences = new DivergenceService({ logger: log.logger, sessions, evidence: new EvidenceStore(evidenceRoot), nowMs: () => NOW_MS });
  return { log, sessions, divergences };
}

function sessionId(result: OpenResult): string {
  assert.ok(result.ok, JSON.stringify(result));
  return result.session.sessionId;
}

function report(id: string, overrides: Partial<DivergenceReport> = {}): DivergenceReport {
  return {
    sessionId: id,
    kind: 'divergence',
    divergenceId: 'd1',
    change: 'new',
    outliers: ['r3'],
    agreeing: ['r1', 'r2'],
    regions: [{ x: 0, y: 0, width: 2, height: 2 }],
    noMajority: false,
    ...overrides,
  };
}

describe('DivergenceService', { timeout: 15_000 }, () => {
  it('starts an evidence folder for a new divergence and tells the listeners with it', { timeout: 10_000 }, async () => {
    const { sessions, divergences } = setup();
    const id = sessionId(sessions.quickConnect('127.0.0.1:1, 127.0.0.1:2, 127.0.0.1:3'));
    const heard: [DivergenceReport, string | null, SessionInfo][] = [];
    divergences.onReport((...args) => heard.push(args));
    const answer = await divergences.report(report(id));
    assert.equal(answer.evidenceId, 'e1');
    // Named by the time and an unpredictable suffix (divergence-evidence.ts), under the profile's folder.
    assert.match(answer.evidenceFolder ?? 'no folder', new RegExp(`${path.join('evidence', '2030-01-02T03-04-05-')}[0-9a-f]{12}$`));
    const record = JSON.parse(await readFile(path.join(answer.evidenceFolder ?? '', 'divergence.json'), 'utf8')) as { outliers: string[] };
    assert.deepEqual(record.outliers, ['r3']);
    assert.equal(heard.length, 1);
    assert.equal(heard[0]![1], answer.evidenceFolder);
    assert.equal(heard[0]![2].sessionId, id);
    const png = await sharp({ create: { width: 2, height: 2, channels: 4, background: '#ff0000' } }).png().toBuffer();
    await divergences.saveScreen({ sessionId: id, evidenceId: 'e1', replicaId: 'r3', pngBase64: png.toString('base64') });
    assert.ok((await stat(path.join(answer.evidenceFolder ?? '', 'screen-r3.png'))).size > 0);
    await assert.rejects(divergences.saveScreen({ sessionId: id, evidenceId: 'e9', replicaId: 'r3', pngBase64: '' }), /unknown evidence "e9"/);
  });

  it('starts no folder for a change or a consensus, and still tells the listeners', { timeout: 5_000 }, async () => {
    const { sessions, divergences, log } = setup();
    const id = sessionId(sessions.quickConnect('127.0.0.1:1, 127.0.0.1:2, 127.0.0.1:3'));
    const folders: (string | null)[] = [];
    divergences.onReport((_report, evidenceFolder) => folders.push(evidenceFolder));
    assert.deepEqual(await divergences.report(report(id, { change: 'changed' })), { evidenceId: null, evidenceFolder: null });
    assert.deepEqual(await divergences.report(report(id, { kind: 'consensus', outliers: [], agreeing: ['r1', 'r2', 'r3'] })), { evidenceId: null, evidenceFolder: null });
    assert.deepEqual(folders, [null, null]);
    assert.deepEqual(log.messages().filter((message) => message.startsWith('replicas')), ['replicas diverge', 'replicas agree again']);
  });

  it('ignores a closed session\'s report and refuses a replica the profile does not have', { timeout: 5_000 }, async () => {
    const { sessions, divergences } = setup();
    const id = sessionId(sessions.quickConnect('127.0.0.1:1, 127.0.0.1:2, 127.0.0.1:3'));
    let heard = 0;
    divergences.onReport(() => heard++);
    await assert.rejects(divergences.report(report(id, { outliers: ['r9'] })), /has no replica "r9"/);
    sessions.close(id, 'the session was closed');
    assert.deepEqual(await divergences.report(report(id)), { evidenceId: null });
    assert.equal(heard, 0);
  });

  it('keeps the report when the evidence cannot be written, and isolates a failing listener', { timeout: 5_000 }, async () => {
    const notAFolder = path.join(folder, 'a-file');
    await writeFile(notAFolder, 'in the way');
    const { sessions, divergences, log } = setup(notAFolder);
    const id = sessionId(sessions.quickConnect('127.0.0.1:1, 127.0.0.1:2, 127.0.0.1:3'));
    const folders: (string | null)[] = [];
    divergences.onReport(() => {
      throw new Error('printer broke');
    });
    divergences.onReport((_report, evidenceFolder) => folders.push(evidenceFolder));
    assert.deepEqual(await divergences.report(report(id)), { evidenceId: null, evidenceFolder: null });
    assert.deepEqual(folders, [null]);
    assert.ok(log.messages().includes('cannot write divergence evidence'));
    assert.ok(log.messages().includes('divergence listener failed'));
  });
});
