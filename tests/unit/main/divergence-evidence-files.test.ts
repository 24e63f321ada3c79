// Evidence folders on disk: private (0700 folders on the whole path RetroVisor makes, 0600 files),
// created exclusively under unguessable names, never written through a planted symlink; two stores
// (two processes) sharing a data folder never write into the same folder. Plain Node, real files.

import assert from 'node:assert/strict';
import { chmod, lstat, mkdir, mkdtemp, readFile, readdir, rm, stat, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import type { DivergenceReport } from '../../../common/contract';
import { EvidenceStore } from '../../../main/divergence-evidence';

let scratch = '';

before(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'retrovisor-evidence-files-'));
});

after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

const NOW_MS = Date.parse('2030-01-02T03:04:05.678Z');
const REPLICAS = ['r1', 'r2', 'r3'];

function report(divergenceId: string): DivergenceReport {
  return { sessionId: 's1', kind: 'divergence', divergenceId, change: 'new', outliers: ['r2'], agreeing: ['r1', 'r3'], regions: [{ x: 0, y: 0, width: 4, height: 4 }], noMajority: false };
}

const modeOf = async (file: string): Promise<number> => (await lstat(file)).mode & 0o777;

describe('evidence folders on disk', { timeout: 20_000 }, () => {
  it('makes every folder on the path under the data root 0700 and every file 0600, named time + random', async () => {
    const root = path.join(scratch, 'modes', 'data');
    const store = new EvidenceStore(root);
    const { evidenceId, folder } = await store.start(report('d1'), 'My Profile', REPLICAS, NOW_MS);
    assert.match(path.basename(folder), /^2030-01-02T03-04-05-[0-9a-f]{12}$/);
    assert.equal(path.dirname(folder), path.join(root, 'My-Profile', 'evidence'));
    for (const made of [root, path.join(root, 'My-Profile'), path.join(root, 'My-Profile', 'evidence'), folder]) {
      assert.equal(await modeOf(made), 0o700, made);
    }
    const png = await sharp({ create: { width: 8, height: 8, channels: 4, background: '#fff' } }).png().toBuffer();
    for (const replicaId of REPLICAS) await store.saveScreen('s1', evidenceId, replicaId, png);
    const files = (await readdir(folder)).sort();
    assert.deepEqual(files, ['diff.png', 'divergence.json', 'screen-r1.png', 'screen-r2.png', 'screen-r3.png']);
    for (const file of files) assert.equal(await modeOf(path.join(folder, file)), 0o600, file);
  });

  it('makes a loose folder it finds (its own) private', async () => {
    const root = path.join(scratch, 'loose');
    await mkdir(path.join(root, 'p', 'evidence'), { recursive: true });
    await chmod(path.join(root, 'p'), 0o755);
    await chmod(path.join(root, 'p', 'evidence'), 0o777);
    await new EvidenceStore(root).start(report('d1'), 'p', REPLICAS, NOW_MS);
    assert.equal(await modeOf(path.join(root, 'p')), 0o700);
    assert.equal(await modeOf(path.join(root, 'p', 'evidence')), 0o700);
  });

  it('refuses a symlink planted for the profile or the evidence folder, and writes nothing through it', async () => {
    const elsewhere = await mkdtemp(path.join(scratch, 'elsewhere-'));
    const root = path.join(scratch, 'planted');
    await mkdir(path.join(root, 'victim'), { recursive: true });
    await symlink(elsewhere, path.join(root, 'victim', 'evidence'));
    await symlink(elsewhere, path.join(root, 'other'));
    const store = new EvidenceStore(root);
    await assert.rejects(store.start(report('d1'), 'victim', REPLICAS, NOW_MS), /evidence is a symbolic link/);
    await assert.rejects(store.start(report('d2'), 'other', REPLICAS, NOW_MS), /other is a symbolic link/);
    assert.deepEqual(await readdir(elsewhere), []);
    assert.equal((await stat(elsewhere)).mode & 0o777, 0o700, 'the symlink target keeps its mode');
  });

  it('never lets two stores sharing a data folder write into the same folder, even at the same instant', async () => {
    const root = path.join(scratch, 'shared');
    const first = new EvidenceStore(root);
    const second = new EvidenceStore(root);
    const started = await Promise.all(
      Array.from({ length: 20 }, (_, index) => (index % 2 === 0 ? first : second).start(report(`d${index}`), 'p', REPLICAS, NOW_MS)),
    );
    const folders = started.map((entry) => entry.folder);
    assert.equal(new Set(folders).size, folders.length, folders.join('\n'));
    for (const [index, folder] of folders.entries()) {
      const record = JSON.parse(await readFile(path.join(folder, 'divergence.json'), 'utf8')) as { divergenceId: string };
      assert.equal(record.divergenceId, `d${index}`, folder);
    }
  });
});
