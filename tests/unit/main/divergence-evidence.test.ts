// The back end's side of divergence detection in plain Node: reportDivergence starts an evidence
// folder under the data directory (built by the back end, never from the UI's text), screens are
// checked and re-encoded by sharp, the diff PNG paints the regions red, and listeners hear every report.

import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { CONTRACT_CALLS, type DivergenceReport } from '../../../common/contract';
import { createBackend, type Backend } from '../../../main/backend';
import { dataRoot, folderName } from '../../../main/divergence-evidence';
import { createLogger } from '../../../main/logger';

let dataDirectory = '';
let backend: Backend;
let sessionId = '';

/** A solid white PNG of the given size, base64. */
async function whitePng(width: number, height: number): Promise<string> {
  const png = await sharp({ create: { width, height, channels: 4, background: { r: 255, g: 255, b: 255, alpha: 1 } } })
    .png()
    .toBuffer();
  return png.toString('base64');
}

before(async () => {
  dataDirectory = await mkdtemp(path.join(os.tmpdir(), 'retrovisor-evidence-'));
  backend = createBackend({ shell: 'browser', headless: true, version: '0', logger: createLogger({ sink: () => undefined }), dataDirectory });
  const opened = await backend.handlers.quickConnect({ endpoints: '127.0.0.1:1, 127.0.0.1:2, 127.0.0.1:3' });
  assert.ok(opened.ok);
  sessionId = opened.session.sessionId;
});

after(async () => {
  await backend.close();
  await rm(dataDirectory, { recursive: true, force: true });
});

describe('divergence evidence', { timeout: 60_000 }, () => {
  it('finds the data folder: $RETROVISOR_DATA_DIR, else $XDG_DATA_HOME/retrovisor, else ~/.local/share/retrovisor', () => {
    assert.equal(dataRoot({ RETROVISOR_DATA_DIR: '/tmp/rv' }), '/tmp/rv');
    assert.equal(dataRoot({ XDG_DATA_HOME: '/xdg' }), '/xdg/retrovisor');
    assert.equal(dataRoot({}), path.join(os.homedir(), '.local', 'share', 'retrovisor'));
    assert.equal(folderName('../../etc passwd'), 'etc-passwd');
    assert.equal(folderName('...'), 'profile');
  });

  it('writes the record, every screen and a diff with the regions in red; reports reach listeners', async () => {
    const heard: { kind: string; folder: string | null }[] = [];
    const stop = backend.onDivergenceReport((report, folder) => heard.push({ kind: report.kind, folder }));
    const replicaIds = ['r1', 'r2', 'r3'];
    const report: DivergenceReport = {
      sessionId,
      kind: 'divergence',
      divergenceId: 'd1',
      change: 'new',
      divergenceKind: 'pixels',
      outliers: ['r2'],
      agreeing: ['r1', 'r3'],
      regions: [{ x: 4, y: 2, width: 12, height: 13 }],
      noMajority: false,
      inputSeq: 9,
    };
    const { evidenceId } = await backend.handlers.reportDivergence(report);
    assert.ok(evidenceId !== null);
    const folder = heard[0]?.folder;
    assert.ok(folder && folder.startsWith(path.join(dataDirectory, 'quick-connect', 'evidence')), String(folder));
    const record = JSON.parse(await readFile(path.join(folder, 'divergence.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual({ outliers: record.outliers, regions: record.regions, inputSeq: record.inputSeq, replicas: record.replicas }, { outliers: ['r2'], regions: report.regions, inputSeq: 9, replicas: replicaIds });

    const png = await whitePng(32, 24);
    for (const replicaId of replicaIds) await backend.handlers.saveDivergenceScreen({ sessionId, evidenceId, replicaId, pngBase64: png });
    assert.deepEqual((await readdir(folder)).sort(), ['diff.png', 'divergence.json', 'screen-r1.png', 'screen-r2.png', 'screen-r3.png']);
    const { data, info } = await sharp(path.join(folder, 'diff.png')).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    const at = (x: number, y: number): number[] => [...data.subarray((y * info.width + x) * 4, (y * info.width + x) * 4 + 3)];
    const inside = at(10, 8);
    assert.ok((inside[0] as number) > 200 && (inside[1] as number) < 200, `inside the region: ${inside.join(',')}`);
    assert.deepEqual(at(25, 20), [255, 255, 255], 'outside the region stays as it was');

    await backend.handlers.reportDivergence({ sessionId, kind: 'consensus', outliers: [], agreeing: [], regions: [], noMajority: false });
    assert.deepEqual(heard.map((entry) => entry.kind), ['divergence', 'consensus']);
    assert.equal(heard[1]?.folder, null);
    stop();
  });

  it('refuses screens that are not PNGs, of unknown evidence or replicas, or sent twice; starts no folder for a change', async () => {
    const { evidenceId } = await backend.handlers.reportDivergence({ sessionId, kind: 'divergence', change: 'new', outliers: ['r3'], agreeing: ['r1', 'r2'], regions: [{ x: 0, y: 0, width: 1, height: 1 }], noMajority: false });
    assert.ok(evidenceId !== null);
    const png = await whitePng(8, 8);
    await assert.rejects(backend.handlers.saveDivergenceScreen({ sessionId, evidenceId: 'e999', replicaId: 'r1', pngBase64: png }), /unknown evidence/);
    await assert.rejects(backend.handlers.saveDivergenceScreen({ sessionId: 'other', evidenceId, replicaId: 'r1', pngBase64: png }), /unknown evidence/);
    await assert.rejects(backend.handlers.saveDivergenceScreen({ sessionId, evidenceId, replicaId: '../r1', pngBase64: png }), /no replica/);
    const jpeg = (await sharp({ create: { width: 4, height: 4, channels: 3, background: '#000' } }).jpeg().toBuffer()).toString('base64');
    await assert.rejects(backend.handlers.saveDivergenceScreen({ sessionId, evidenceId, replicaId: 'r1', pngBase64: jpeg }), /not a PNG/);
    await backend.handlers.saveDivergenceScreen({ sessionId, evidenceId, replicaId: 'r2', pngBase64: png });
    await assert.rejects(backend.handlers.saveDivergenceScreen({ sessionId, evidenceId, replicaId: 'r2', pngBase64: png }), /already saved/);
    await assert.rejects(backend.handlers.reportDivergence({ sessionId, kind: 'divergence', change: 'new', outliers: ['r9'], agreeing: [], regions: [], noMajority: true }), /no replica "r9"/);
    const changed = await backend.handlers.reportDivergence({ sessionId, kind: 'divergence', change: 'changed', outliers: ['r3'], agreeing: ['r1', 'r2'], regions: [], noMajority: false });
    assert.equal(changed.evidenceId, null);
    // The failed JPEG did not use up r1's slot (r1 is the diff base: its screen and diff.png); the refused ones wrote nothing.
    await backend.handlers.saveDivergenceScreen({ sessionId, evidenceId, replicaId: 'r1', pngBase64: png });
    assert.equal((await readdir(dataDirectory, { recursive: true })).filter((file) => file.endsWith('.png')).length, 4 + 3);
  });

  it('amends the evidence of a divergence that grew within its confirm window: record, screens and diff rewritten', async () => {
    const heard: (string | null)[] = [];
    const stop = backend.onDivergenceReport((_report, folder) => heard.push(folder));
    const base = { sessionId, kind: 'divergence', divergenceId: 'd7', outliers: ['r2'], agreeing: ['r1', 'r3'], noMajority: false } as const;
    const first = await backend.handlers.reportDivergence({ ...base, change: 'new', regions: [{ x: 0, y: 0, width: 1, height: 16 }] });
    assert.ok(first.evidenceId !== null);
    const narrow = await whitePng(32, 24);
    for (const replicaId of ['r1', 'r2', 'r3']) await backend.handlers.saveDivergenceScreen({ sessionId, evidenceId: first.evidenceId, replicaId, pngBase64: narrow });
    const folder = heard[0];
    assert.ok(folder);

    // The three characters typed out of band: the region grew from a 1-px strip to 24 px.
    const grown = [{ x: 0, y: 0, width: 24, height: 16 }];
    const amended = await backend.handlers.reportDivergence({ ...base, change: 'changed', regions: grown, amendsEvidence: true });
    assert.equal(amended.evidenceId, first.evidenceId, 'the same folder, to send the screens again');
    assert.equal(amended.evidenceFolder, folder);
    const record = JSON.parse(await readFile(path.join(folder, 'divergence.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(record.regions, grown);
    assert.equal(record.amendments, 1);
    assert.equal(typeof record.amendedAt, 'string');

    for (const replicaId of ['r1', 'r2', 'r3']) await backend.handlers.saveDivergenceScreen({ sessionId, evidenceId: first.evidenceId, replicaId, pngBase64: narrow });
    assert.deepEqual((await readdir(folder)).sort(), ['diff.png', 'divergence.json', 'screen-r1.png', 'screen-r2.png', 'screen-r3.png'], 'replaced in place, no stray temporary file');
    const { data, info } = await sharp(path.join(folder, 'diff.png')).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    const red = (x: number, y: number): boolean => (data[(y * info.width + x) * 4] as number) > 200 && (data[(y * info.width + x) * 4 + 1] as number) < 200;
    assert.ok(red(20, 8), 'the diff marks the grown region, not the first 1-px strip');

    // A change of a divergence no folder records amends nothing.
    const stray = await backend.handlers.reportDivergence({ ...base, divergenceId: 'd99', change: 'changed', regions: grown, amendsEvidence: true });
    assert.equal(stray.evidenceId, null);
    // The contract lets amendsEvidence go only with a change of a named divergence.
    assert.throws(() => CONTRACT_CALLS.reportDivergence.parseRequest({ ...base, change: 'new', regions: grown, amendsEvidence: true }), /amendsEvidence/);
    assert.throws(() => CONTRACT_CALLS.reportDivergence.parseRequest({ ...base, change: 'changed', regions: grown, amendsEvidence: 'yes' }), /amendsEvidence/);
    assert.equal(CONTRACT_CALLS.reportDivergence.parseRequest({ ...base, change: 'changed', regions: grown, amendsEvidence: true }).amendsEvidence, true);
    stop();
  });
});
