// What a launch of the desktop app asks to open: its arguments read (--profile, --demo, a file from a
// file manager, a vnc:// address), a handed-over message checked, and the request resolved against a
// real profile library in a scratch folder (saved names, imports).

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { instanceMessage, parseInstanceMessage, parseOpenArguments, requestFromSecondInstance, resolveOpenRequest, windowKeyOf } from '../../../main/open-request';
import { ProfileLibrary } from '../../../main/profile-library';

const scratch = mkdtempSync(join(tmpdir(), 'retrovisor-open-request-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

describe('parseOpenArguments', { timeout: 10_000 }, () => {
  it('reads --profile in both spellings, --demo, and nothing as "show the app"', () => {
    assert.deepEqual(parseOpenArguments(['start', '--profile', 'lab'], '/home/u'), { kind: 'profile', argument: 'lab', workingDirectory: '/home/u' });
    assert.deepEqual(parseOpenArguments(['--profile=./a.json'], '/w'), { kind: 'profile', argument: './a.json', workingDirectory: '/w' });
    assert.deepEqual(parseOpenArguments(['--demo'], '/w'), { kind: 'demo' });
    assert.deepEqual(parseOpenArguments([], '/w'), { kind: 'show' });
    assert.deepEqual(parseOpenArguments(['--no-sandbox', 'start'], '/w'), { kind: 'show' }, 'Chromium switches and the command word are not files');
  });

  it('opens a profile file and imports connection files and vnc:// addresses a file manager passes', () => {
    assert.deepEqual(parseOpenArguments(['/p/lab.retrovisor.json'], '/w'), { kind: 'profile', argument: '/p/lab.retrovisor.json', workingDirectory: '/w' });
    for (const source of ['vm.vv', '/x/y.remmina', 'Z.TIGERVNC', 'vnc://192.0.2.1:5901']) {
      assert.deepEqual(parseOpenArguments([source], '/w'), { kind: 'import', source, workingDirectory: '/w' });
    }
    assert.deepEqual(parseOpenArguments(['file:///x/my%20vm.vv'], '/w'), { kind: 'import', source: '/x/my vm.vv', workingDirectory: '/w' });
  });
});

describe('a second launch\'s message', { timeout: 10_000 }, () => {
  it('is taken from additionalData when it is ours, else from argv after the offset', () => {
    const message = instanceMessage(['--profile', 'lab.json'], '/second');
    assert.deepEqual(requestFromSecondInstance(['/usr/bin/retrovisor', '--profile', 'other.json'], '/first', message, 1), { kind: 'profile', argument: 'lab.json', workingDirectory: '/second' });
    assert.deepEqual(requestFromSecondInstance(['/usr/bin/electron', '/app', '--profile', 'x.json'], '/cwd', undefined, 2), { kind: 'profile', argument: 'x.json', workingDirectory: '/cwd' });
  });

  it('refuses anything else: wrong marker, a relative folder, arguments that are not strings', () => {
    assert.equal(parseInstanceMessage(null), null);
    assert.equal(parseInstanceMessage({ retrovisorOpen: 2, args: [], workingDirectory: '/' }), null);
    assert.equal(parseInstanceMessage({ retrovisorOpen: 1, args: [], workingDirectory: 'relative' }), null);
    assert.equal(parseInstanceMessage({ retrovisorOpen: 1, args: [1], workingDirectory: '/' }), null);
  });
});

describe('resolveOpenRequest', { timeout: 10_000 }, () => {
  const library = new ProfileLibrary({ dataDirectory: join(scratch, 'data') });

  it('finds a saved profile by name, a file against the launch\'s folder, and says when a name matches nothing', async () => {
    const saved = await library.save({ version: 2, name: 'lab', replicas: [{ id: 'r1', vnc: { host: '192.0.2.1', port: 5901 } }] });
    assert.equal(saved.kind, 'saved');
    const id = saved.kind === 'saved' ? saved.id : '';
    assert.deepEqual(await resolveOpenRequest({ kind: 'profile', argument: 'lab', workingDirectory: '/w' }, library), { kind: 'saved', id, path: library.fileOf(id) });
    assert.deepEqual(await resolveOpenRequest({ kind: 'profile', argument: 'sub/p.json', workingDirectory: scratch }, library), { kind: 'file', path: join(scratch, 'sub', 'p.json') });
    const missing = await resolveOpenRequest({ kind: 'profile', argument: 'nope', workingDirectory: '/w' }, library);
    assert.equal(missing.kind, 'problem');
  });

  it('imports a .vv file into the library and opens the saved profile; an unreadable one is a problem', async () => {
    writeFileSync(join(scratch, 'console.vv'), '[virt-viewer]\ntype=vnc\nhost=192.0.2.9\nport=5909\n');
    const target = await resolveOpenRequest({ kind: 'import', source: 'console.vv', workingDirectory: scratch }, library);
    assert.equal(target.kind, 'saved');
    const entry = await library.read(target.kind === 'saved' ? target.id : '');
    assert.deepEqual(entry.profile.replicas.map((replica) => `${replica.vnc.host}:${replica.vnc.port}`), ['192.0.2.9:5909']);
    writeFileSync(join(scratch, 'broken.remmina'), 'not a key file');
    const broken = await resolveOpenRequest({ kind: 'import', source: 'broken.remmina', workingDirectory: scratch }, library);
    assert.equal(broken.kind, 'problem');
    const absent = await resolveOpenRequest({ kind: 'import', source: 'absent.vv', workingDirectory: scratch }, library);
    assert.equal(absent.kind, 'problem');
  });
});

describe('windowKeyOf', { timeout: 10_000 }, () => {
  it('gives one key per profile (the same file twice → the same window), none for show and problems', () => {
    assert.equal(windowKeyOf({ kind: 'file', path: '/a/b/../p.json' }), windowKeyOf({ kind: 'file', path: '/a/p.json' }));
    assert.notEqual(windowKeyOf({ kind: 'saved', id: 'x', path: '/lib/x.json' }), windowKeyOf({ kind: 'file', path: '/lib/x.json' }));
    assert.equal(windowKeyOf({ kind: 'show' }), null);
    assert.equal(windowKeyOf({ kind: 'problem', message: 'm' }), null);
  });
});
