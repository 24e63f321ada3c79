// The remediation audit log: texts clipped, control characters escaped and secrets redacted before
// they are kept or written; the file 0600 in a 0700 folder; a symlink planted where the file goes is
// never written through (the entries stay in memory, the failure is logged). Plain Node, temp folders.

import assert from 'node:assert/strict';
import { chmod, mkdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MAX_AUDIT_ENTRIES_IN_VIEW, type AuditEntry } from '../../../../common/contract';
import { AuditLog, auditFilePath, MAX_AUDIT_TEXT_CHARS } from '../../../../main/remediation/audit-log';
import { recordingLogger } from '../backend/service-fakes';
import { temporaryFolder } from './manager-fakes';

const SECRET = 'hunter2-Very-Secret-Passphrase';

let dataFolder: { folder: string; remove: () => Promise<void> };

before(async () => {
  dataFolder = await temporaryFolder('retrovisor-audit-');
});

after(async () => {
  await dataFolder.remove();
});

function auditLog(root: string, profileName = 'Lab One') {
  const log = recordingLogger();
  log.redactor.add(SECRET);
  return { log, audit: new AuditLog(auditFilePath(root, profileName), log.logger, log.redactor) };
}

async function fileEntries(file: string): Promise<(AuditEntry & { time: string })[]> {
  return (await readFile(file, 'utf8'))
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as AuditEntry & { time: string });
}

describe('AuditLog: what an entry keeps', { timeout: 10_000 }, () => {
  it('redacts registered secrets (also across the clipping point), escapes control characters and clips long texts', { timeout: 5_000 }, async () => {
    const root = path.join(dataFolder.folder, 'clean');
    const { audit } = auditLog(root);
    // The secret straddles the clipping point: redacting after clipping would leave its start behind.
    const detail = `${'d'.repeat(MAX_AUDIT_TEXT_CHARS - 10)}${SECRET} and more`;
    const kept = audit.append({
      timeMs: 1_764_770_531_410,
      kind: 'command',
      l0: 'lab',
      argv: ['virsh', '--connect', `qemu+ssh://${SECRET}@host/system`, 'domstate'],
      stderr: `error: \u001b[31mboom\u001b[0m ${SECRET}\r\nnext line\u0007`,
      exitStatus: 1,
      durationMs: 12,
      outcome: 'command-failed',
      detail,
    });
    assert.equal(kept.detail.length, MAX_AUDIT_TEXT_CHARS);
    assert.ok(kept.detail.endsWith('…'));
    assert.equal(kept.stderr, 'error: \\u001b[31mboom\\u001b[0m ***\\r\\nnext line\\u0007');
    assert.deepEqual(kept.argv, ['virsh', '--connect', 'qemu+ssh://***@host/system', 'domstate']);
    assert.deepEqual(audit.entries(), [kept]);
    await audit.close();

    const text = await readFile(audit.file, 'utf8');
    assert.ok(!text.includes(SECRET.slice(0, 8)), 'no part of the secret reaches the file');
    // eslint-disable-next-line no-control-regex -- asserting their absence.
    assert.doesNotMatch(text.trimEnd(), /[\u0000-\u001f]/);
    const [written] = await fileEntries(audit.file);
    assert.deepEqual({ ...written, time: undefined }, { ...kept, time: undefined });
    assert.equal(written?.time, '2025-12-03T14:02:11.410Z');
  });

  it('keeps the newest entries for the view; the file keeps them all, in order', { timeout: 5_000 }, async () => {
    const root = path.join(dataFolder.folder, 'many');
    const { audit } = auditLog(root);
    const count = MAX_AUDIT_ENTRIES_IN_VIEW + 5;
    for (let index = 1; index <= count; index++) audit.append({ timeMs: index, kind: 'decision', outcome: 'skipped', detail: `entry ${index}` });
    assert.equal(audit.entries().length, MAX_AUDIT_ENTRIES_IN_VIEW);
    assert.equal(audit.entries()[0]?.detail, 'entry 6');
    await audit.flushed();
    const written = await fileEntries(audit.file);
    assert.deepEqual(
      written.map((entry) => entry.detail),
      Array.from({ length: count }, (_, index) => `entry ${index + 1}`),
    );
    await audit.close();
  });
});

describe('AuditLog: the file', { timeout: 10_000 }, () => {
  it('is created 0600 in a 0700 folder, and an existing file is made 0600', { timeout: 5_000 }, async () => {
    const root = path.join(dataFolder.folder, 'modes');
    const { audit } = auditLog(root);
    assert.equal(audit.file, path.join(root, 'Lab-One', 'audit.jsonl'));
    audit.append({ timeMs: 1, kind: 'decision', outcome: 'planned', detail: 'first' });
    await audit.close();
    assert.equal((await stat(audit.file)).mode & 0o777, 0o600);
    assert.equal((await stat(path.dirname(audit.file))).mode & 0o777, 0o700);
    assert.equal((await stat(root)).mode & 0o777, 0o700);

    await chmod(audit.file, 0o644);
    const again = auditLog(root).audit;
    again.append({ timeMs: 2, kind: 'decision', outcome: 'planned', detail: 'second' });
    await again.close();
    assert.equal((await stat(audit.file)).mode & 0o777, 0o600);
    assert.deepEqual(
      (await fileEntries(audit.file)).map((entry) => entry.detail),
      ['first', 'second'],
    );
  });

  it('makes the profile folder 0700 also when the divergence evidence created it first', { timeout: 5_000 }, async () => {
    const root = path.join(dataFolder.folder, 'evidence-first');
    // What main/divergence-evidence.ts does on a divergence: mkdir -p with the default mode.
    await mkdir(path.join(root, 'Lab-One', 'evidence', '20261203-140209-1'), { recursive: true, mode: 0o755 });
    const { audit } = auditLog(root);
    audit.append({ timeMs: 1, kind: 'decision', outcome: 'would-act', detail: 'observe mode' });
    await audit.close();
    assert.equal((await stat(path.dirname(audit.file))).mode & 0o777, 0o700);
    assert.equal((await stat(audit.file)).mode & 0o777, 0o600);
  });

  it('never writes through a symlink planted at its path: the failure is logged, the entries stay in memory', { timeout: 5_000 }, async () => {
    const root = path.join(dataFolder.folder, 'planted');
    const folder = path.join(root, 'Lab-One');
    await mkdir(folder, { recursive: true, mode: 0o700 });
    const victim = path.join(dataFolder.folder, 'victim.txt');
    await writeFile(victim, 'untouched\n', { mode: 0o644 });
    await symlink(victim, path.join(folder, 'audit.jsonl'));
    const missingTarget = path.join(dataFolder.folder, 'would-be-created.txt');
    const dangling = path.join(dataFolder.folder, 'dangling');
    await mkdir(path.join(dangling, 'Lab-One'), { recursive: true });
    await symlink(missingTarget, path.join(dangling, 'Lab-One', 'audit.jsonl'));

    for (const [where, target] of [
      [root, victim],
      [dangling, missingTarget],
    ] as const) {
      const { audit, log } = auditLog(where);
      audit.append({ timeMs: 1, kind: 'decision', outcome: 'planned', detail: 'kept in memory' });
      audit.append({ timeMs: 2, kind: 'alert', outcome: 'warning', detail: 'this one too' });
      await audit.close();
      assert.deepEqual(
        audit.entries().map((entry) => entry.detail),
        ['kept in memory', 'this one too'],
      );
      const warnings = log.records.filter((record) => record.message === 'cannot open the audit log: decisions are kept in memory only');
      assert.equal(warnings.length, 1, JSON.stringify(log.records));
      assert.equal(warnings[0]?.file, audit.file);
      assert.match(String(warnings[0]?.error), /ELOOP|symbolic link/i);
      if (target === victim) {
        assert.equal(await readFile(victim, 'utf8'), 'untouched\n');
        assert.equal((await stat(victim)).mode & 0o777, 0o644, 'not even its mode changed');
      } else {
        await assert.rejects(stat(missingTarget), { code: 'ENOENT' });
      }
    }
  });
});
