// Joining imported sources into one profile document: formats found by extension or content, several
// files become the replicas r1, r2... of one profile, a RetroVisor profile alone is kept whole, replicas
// are appended to an existing profile, and every source's problems are reported together.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assembleImport, detectFormat } from '../../../../common/profile-import/import-profile';
import { formatImportProblem } from '../../../../common/profile-import/import-types';
import { validateProfile } from '../../../../common/profile';

const VV = '[virt-viewer]\ntype=vnc\nhost=192.0.2.1\nport=5901\npassword=vv-secret\ntitle=kvm\n';
const TIGER = 'TigerVNC Configuration file Version 1.0\nServerName=192.0.2.2::5902\n';

describe('import: assembling a profile', { timeout: 10_000 }, () => {
  it('finds the format by extension, else by content', () => {
    assert.equal(detectFormat('a.VV', ''), 'virt-viewer');
    assert.equal(detectFormat('a.tigervnc', ''), 'tigervnc');
    assert.equal(detectFormat('a.remmina', ''), 'remmina');
    assert.equal(detectFormat('a.json', ''), 'retrovisor');
    assert.equal(detectFormat('dropped', TIGER), 'tigervnc');
    assert.equal(detectFormat('dropped', '# c\n[virt-viewer]\n'), 'virt-viewer');
    assert.equal(detectFormat('dropped', '[remmina]\n'), 'remmina');
    assert.equal(detectFormat('dropped', ' {"version":1}'), 'retrovisor');
    assert.equal(detectFormat('notes.txt', 'hello'), null);
  });

  it('joins several files and a URI into the replicas of one valid profile; passwords are marked with their source', () => {
    const result = assembleImport(
      [
        { kind: 'file', name: 'kvm.vv', text: VV },
        { kind: 'file', name: 'xen.tigervnc', text: TIGER },
        { kind: 'uri', uri: 'vnc://:uri-secret@192.0.2.3:5903' },
      ],
      { name: 'payments' },
    );
    assert.ok(result.ok, JSON.stringify(result));
    assert.equal(result.document.name, 'payments');
    assert.equal(result.document.version, 2);
    assert.deepEqual(result.document.replicas, [
      { id: 'r1', label: 'kvm', vnc: { host: '192.0.2.1', port: 5901, password: 'vv-secret' } },
      { id: 'r2', label: '192.0.2.2:5902', vnc: { host: '192.0.2.2', port: 5902 } },
      { id: 'r3', label: '192.0.2.3:5903', vnc: { host: '192.0.2.3', port: 5903, password: 'uri-secret' } },
    ]);
    assert.deepEqual(result.secretOrigins, { '$.replicas[0].vnc.password': 'kvm.vv', '$.replicas[2].vnc.password': 'vnc://…@192.0.2.3:5903' });
    assert.ok(validateProfile(result.document).ok);
  });

  it('names a one-file profile after its title or file name', () => {
    const titled = assembleImport([{ kind: 'file', name: 'kvm.vv', text: VV }]);
    assert.ok(titled.ok && titled.document.name === 'kvm');
    const untitled = assembleImport([{ kind: 'file', name: '/tmp/xen-b.tigervnc', text: TIGER }]);
    assert.ok(untitled.ok && untitled.document.name === 'xen-b');
  });

  it('keeps a RetroVisor profile imported alone whole (v1 migrated, library fields dropped)', () => {
    const text = JSON.stringify({ version: 1, name: 'lab', replicas: [{ id: 'a', vnc: { host: 'h', port: 5901 } }], divergence: { settleMs: 500 } });
    const result = assembleImport([{ kind: 'file', name: 'lab.json', text }]);
    assert.ok(result.ok, JSON.stringify(result));
    assert.deepEqual(result.document, { version: 2, name: 'lab', replicas: [{ id: 'a', vnc: { host: 'h', port: 5901 } }], divergence: { settleMs: 500 } });
  });

  it('appends to an existing profile after its replicas, with fresh ids', () => {
    const into = { version: 2, name: 'existing', replicas: [{ id: 'r1', vnc: { host: 'h', port: 5901 } }, { id: 'r2', vnc: { host: 'h', port: 5902 } }] };
    const result = assembleImport([{ kind: 'file', name: 'x.tigervnc', text: TIGER }], { into });
    assert.ok(result.ok, JSON.stringify(result));
    assert.equal(result.document.name, 'existing');
    assert.deepEqual((result.document.replicas as { id: string }[]).map((replica) => replica.id), ['r1', 'r2', 'r3']);
  });

  it('reports every source\'s problems together, and refuses an unknown format', () => {
    const result = assembleImport([
      { kind: 'file', name: 'a.vv', text: '[virt-viewer]\ntype=spice\nhost=h\nport=1\n' },
      { kind: 'file', name: 'b.txt', text: 'hello' },
      { kind: 'file', name: 'c.tigervnc', text: TIGER },
    ]);
    assert.ok(!result.ok);
    const lines = result.problems.map(formatImportProblem);
    assert.equal(lines.length, 2, lines.join('\n'));
    assert.match(lines[0] ?? '', /^a\.vv:2: type: is "spice"/);
    assert.match(lines[1] ?? '', /^b\.txt: not a format RetroVisor imports/);
  });
});
