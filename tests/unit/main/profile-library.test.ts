// The profile library on disk: a round trip through private atomic files, a v1 file migrated, a
// corrupted file set aside (kept) and reported, a crash between write and rename leaving the previous
// version whole, two writers (the second told of the conflict), trash and restore, duplicate, export
// without secrets, inline and imported passwords never written in clear. Plain Node, real files.

import assert from 'node:assert/strict';
import { lstat, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { SaveProfileResult } from '../../../common/contract';
import { LibraryError, ProfileLibrary, type LibrarySecretStore, type SecretKey } from '../../../main/profile-library';

let scratch = '';
let counter = 0;

before(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'retrovisor-library-'));
});

after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** A fresh data folder per test. */
function dataFolder(): string {
  counter += 1;
  return path.join(scratch, `data-${counter}`);
}

const PROFILE = {
  version: 2,
  name: 'payments',
  replicas: [
    { id: 'r1', label: 'KVM', vnc: { host: '192.0.2.1', port: 5901, password: { env: 'VNC_PW' } } },
    { id: 'r2', vnc: { host: '192.0.2.2', port: 5902 } },
  ],
};

function saved(result: SaveProfileResult): { id: string; revision: number; notices: readonly string[] } {
  if (result.kind !== 'saved') assert.fail(`expected a save, got ${JSON.stringify(result)}`);
  return result;
}

const modeOf = async (file: string): Promise<number> => (await lstat(file)).mode & 0o777;
const readJson = async (file: string): Promise<Record<string, unknown>> => JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;

describe('profile library: store', { timeout: 30_000 }, () => {
  it('round-trips a profile through a private file, raising the revision on each save', async () => {
    let now = Date.parse('2030-01-02T03:04:05.000Z');
    const library = new ProfileLibrary({ dataDirectory: dataFolder(), now: () => now });
    const first = saved(await library.save(PROFILE));
    assert.match(first.id, /^[0-9a-f]{16}$/);
    assert.equal(first.revision, 1);
    const file = library.fileOf(first.id);
    assert.equal(await modeOf(file), 0o600);
    assert.equal(await modeOf(library.folder), 0o700);
    const stored = await readJson(file);
    assert.deepEqual(stored, { version: 2, id: first.id, name: 'payments', revision: 1, createdAt: '2030-01-02T03:04:05.000Z', updatedAt: '2030-01-02T03:04:05.000Z', replicas: PROFILE.replicas });
    const entry = await library.read(first.id);
    assert.equal(entry.profile.name, 'payments');
    assert.deepEqual(entry.profile.replicas[0]?.vnc.password, { kind: 'env', name: 'VNC_PW' });

    now += 60_000;
    const second = saved(await library.save({ ...entry.document, name: 'payments (prod)' }, { id: first.id, expectedRevision: 1 }));
    assert.equal(second.revision, 2);
    const again = await readJson(file);
    assert.equal(again.name, 'payments (prod)');
    assert.equal(again.createdAt, '2030-01-02T03:04:05.000Z', 'created once');
    assert.equal(again.updatedAt, '2030-01-02T03:05:05.000Z');
    const listing = await library.list();
    assert.deepEqual(listing.profiles.map((summary) => [summary.name, summary.replicaCount, summary.revision]), [['payments (prod)', 2, 2]]);
    assert.deepEqual(listing.setAside, []);
  });

  it('reads a v1 file put in the folder by hand (revision 0), and its first save writes it as v2', async () => {
    const library = new ProfileLibrary({ dataDirectory: dataFolder() });
    await library.list();
    const v1 = { version: 1, name: 'old lab', replicas: [{ id: 'a', vnc: { host: '127.0.0.1', port: 5901 } }] };
    await writeFile(path.join(library.folder, 'old-lab.json'), JSON.stringify(v1));
    const listing = await library.list();
    assert.deepEqual(listing.profiles.map((summary) => [summary.id, summary.name, summary.revision, summary.createdAt]), [['old-lab', 'old lab', 0, null]]);
    const entry = await library.read('old-lab');
    assert.equal(entry.document.version, 2, 'migrated in memory');
    assert.equal((await readJson(library.fileOf('old-lab'))).version, 1, 'reading does not rewrite the file');
    saved(await library.save(entry.document, { id: 'old-lab', expectedRevision: 0 }));
    const written = await readJson(library.fileOf('old-lab'));
    assert.equal(written.version, 2);
    assert.equal(written.id, 'old-lab');
    assert.equal(written.revision, 1);
  });

  it('sets a corrupted or invalid file aside, keeps it whole, reports it once, and lists the rest', async () => {
    const library = new ProfileLibrary({ dataDirectory: dataFolder() });
    const good = saved(await library.save(PROFILE));
    const broken = '{ "version": 2, "name": "half';
    await writeFile(path.join(library.folder, 'broken.json'), broken);
    await writeFile(path.join(library.folder, 'invalid.json'), JSON.stringify({ version: 2, name: 'x', replicas: [{ id: 'a', vnc: { host: 'h', port: 70000 } }] }));
    const listing = await library.list();
    assert.deepEqual(listing.profiles.map((summary) => summary.id), [good.id]);
    const byFile = new Map(listing.setAside.map((entry) => [entry.file, entry]));
    assert.match(byFile.get('broken.json')?.problems[0]?.message ?? '', /^not valid JSON: a string is not closed at line 1/);
    assert.equal(byFile.get('invalid.json')?.problems[0]?.path, '$.replicas[0].vnc.port');
    const moved = byFile.get('broken.json')?.movedTo ?? '';
    assert.equal(path.dirname(moved), path.join(library.folder, 'set-aside'));
    assert.equal(await readFile(moved, 'utf8'), broken, 'kept byte for byte');
    assert.deepEqual((await readdir(library.folder)).filter((name) => name.endsWith('.json')).sort(), [`${good.id}.json`]);
    assert.deepEqual((await library.list()).setAside, [], 'reported once');
    await assert.rejects(library.read('broken'), LibraryError);
  });

  it('leaves a file written by a newer RetroVisor in place, skipped and said so', async () => {
    const library = new ProfileLibrary({ dataDirectory: dataFolder() });
    await library.list();
    await writeFile(path.join(library.folder, 'future.json'), JSON.stringify({ version: 9, name: 'from the future' }));
    const listing = await library.list();
    assert.deepEqual(listing.skipped, [{ file: 'future.json', reason: 'it is a version 9 profile, written by a newer RetroVisor' }]);
    assert.ok((await readdir(library.folder)).includes('future.json'));
  });

  it('keeps the previous version whole when a save crashes between write and rename', async () => {
    const folder = dataFolder();
    const library = new ProfileLibrary({ dataDirectory: folder });
    const first = saved(await library.save(PROFILE));
    const before = await readFile(library.fileOf(first.id), 'utf8');
    let tempSeen = '';
    const crashing = new ProfileLibrary({
      dataDirectory: folder,
      writeHooks: {
        beforeRename: async (tempFile) => {
          tempSeen = tempFile;
          // The new version is complete on disk, next to the old one, when the "crash" comes.
          assert.equal((await readJson(tempFile)).name, 'renamed');
          throw new Error('simulated crash before rename');
        },
      },
    });
    await assert.rejects(crashing.save({ ...PROFILE, name: 'renamed' }, { id: first.id, expectedRevision: 1 }), /simulated crash/);
    assert.equal(path.dirname(tempSeen), library.folder, 'the temporary file is in the same folder (same file system: rename is atomic)');
    assert.equal(await readFile(library.fileOf(first.id), 'utf8'), before, 'the previous version is intact');
    // A real crash leaves the temporary file behind: the library never lists it.
    await writeFile(path.join(library.folder, '.tmp-0123456789abcdef-x.json'), '{ "half": ');
    const listing = await library.list();
    assert.deepEqual(listing.profiles.map((summary) => [summary.id, summary.name, summary.revision]), [[first.id, 'payments', 1]]);
    assert.deepEqual(listing.setAside, []);
  });

  it('tells the second of two writers (two windows) of the conflict, naming what differs, and writes nothing', async () => {
    const folder = dataFolder();
    const windowA = new ProfileLibrary({ dataDirectory: folder });
    const windowB = new ProfileLibrary({ dataDirectory: folder });
    const { id } = saved(await windowA.save(PROFILE));
    const seenByA = await windowA.read(id);
    const seenByB = await windowB.read(id);
    saved(await windowA.save({ ...seenByA.document, name: 'renamed by A' }, { id, expectedRevision: seenByA.revision }));
    const replicasB = [...(seenByB.document.replicas as object[]), { id: 'r3', vnc: { host: '192.0.2.3', port: 5903 } }];
    const conflict = await windowB.save({ ...seenByB.document, replicas: replicasB }, { id, expectedRevision: seenByB.revision });
    assert.equal(conflict.kind, 'conflict');
    assert.ok(conflict.kind === 'conflict');
    assert.equal(conflict.currentRevision, 2);
    assert.deepEqual(conflict.differences, ['name', 'replica r3 (added)']);
    const reordered = await windowB.save({ ...seenByB.document, replicas: [...(seenByB.document.replicas as object[])].reverse() }, { id, expectedRevision: 1 });
    assert.ok(reordered.kind === 'conflict');
    assert.deepEqual(reordered.differences, ['name', 'replica order']);
    const stored = await readJson(windowA.fileOf(id));
    assert.equal(stored.name, 'renamed by A');
    assert.equal((stored.replicas as unknown[]).length, 2, 'B\'s change was not written over A\'s');
  });

  it('lets exactly one of two simultaneous saves from the same revision win', async () => {
    const folder = dataFolder();
    const windowA = new ProfileLibrary({ dataDirectory: folder });
    const windowB = new ProfileLibrary({ dataDirectory: folder });
    const { id } = saved(await windowA.save(PROFILE));
    const results = await Promise.all([
      windowA.save({ ...PROFILE, name: 'A' }, { id, expectedRevision: 1 }),
      windowB.save({ ...PROFILE, name: 'B' }, { id, expectedRevision: 1 }),
    ]);
    assert.deepEqual(results.map((result) => result.kind).sort(), ['conflict', 'saved']);
    const winner = results[0]?.kind === 'saved' ? 'A' : 'B';
    assert.equal((await readJson(windowA.fileOf(id))).name, winner);
    assert.deepEqual((await readdir(windowA.folder)).filter((name) => name.startsWith('.')), [], 'no lock or temporary file left');
  });

  it('refuses an invalid document, and an update of a missing profile', async () => {
    const library = new ProfileLibrary({ dataDirectory: dataFolder() });
    const invalid = await library.save({ version: 2, name: '', replicas: [] });
    assert.equal(invalid.kind, 'invalid');
    const missing = await library.save(PROFILE, { id: 'nothere', expectedRevision: 1 });
    assert.equal(missing.kind, 'missing');
    assert.throws(() => library.fileOf('../escape'), LibraryError);
  });
});

describe('profile library: secrets', { timeout: 30_000 }, () => {
  it('never writes an inline password: without a keyring it is dropped with a notice', async () => {
    const library = new ProfileLibrary({ dataDirectory: dataFolder() });
    const withSecrets = {
      ...PROFILE,
      replicas: [{ id: 'r1', vnc: { host: '192.0.2.1', port: 5901, password: 'typed-secret-1' } }],
      l0: { a: { ssh: { host: 'l0.example.net', user: 'virt', passphrase: 'typed-secret-2', hostKey: `SHA256:${'A'.repeat(43)}` } } },
    };
    const result = saved(await library.save(withSecrets));
    assert.deepEqual(result.notices, [
      'the VNC password of replica r1 was not saved: no keyring; you will be asked at connect time',
      'the SSH key passphrase of L0 a was not saved: no keyring; you will be asked at connect time',
    ]);
    const text = await readFile(library.fileOf(result.id), 'utf8');
    assert.ok(!text.includes('typed-secret'), text);
  });

  it('hands inline passwords to the keyring when there is one; the file names the slot', async () => {
    const stored: { key: SecretKey; secret: string; label: string }[] = [];
    const keyring: LibrarySecretStore = {
      store: async (key, secret, label) => {
        stored.push({ key, secret, label });
      },
      removeProfile: async () => undefined,
    };
    const library = new ProfileLibrary({ dataDirectory: dataFolder(), secretStore: keyring });
    const result = saved(await library.save({ ...PROFILE, replicas: [{ id: 'r1', vnc: { host: '192.0.2.1', port: 5901, password: 'typed-secret' } }] }));
    assert.deepEqual(result.notices, []);
    assert.deepEqual(stored, [{ key: { profileId: result.id, slot: 'replica/r1/vnc' }, secret: 'typed-secret', label: 'VNC password of replica r1' }]);
    const text = await readFile(library.fileOf(result.id), 'utf8');
    assert.ok(!text.includes('typed-secret'));
    assert.deepEqual((JSON.parse(text) as { replicas: { vnc: unknown }[] }).replicas[0]?.vnc, { host: '192.0.2.1', port: 5901, password: { keyring: 'replica/r1/vnc' } });
  });

  it('never overwrites a keyring slot another field names: a renamed replica keeps its secret', async () => {
    const stored: string[] = [];
    const keyring: LibrarySecretStore = {
      store: async (key, secret) => {
        stored.push(`${key.slot}=${secret}`);
      },
      removeProfile: async () => undefined,
    };
    const library = new ProfileLibrary({ dataDirectory: dataFolder(), secretStore: keyring });
    // r1 was renamed r5 in the editor (its reference still names replica/r1/vnc); a new r1 gets a typed password.
    const result = saved(
      await library.save({
        ...PROFILE,
        replicas: [
          { id: 'r5', vnc: { host: '192.0.2.1', port: 5901, password: { keyring: 'replica/r1/vnc' } } },
          { id: 'r1', vnc: { host: '192.0.2.2', port: 5902, password: 'new-secret' } },
        ],
      }),
    );
    assert.deepEqual(stored, ['replica/r1/vnc-2=new-secret']);
    const replicas = (JSON.parse(await readFile(library.fileOf(result.id), 'utf8')) as { replicas: { vnc: { password: unknown } }[] }).replicas;
    assert.deepEqual(replicas.map((replica) => replica.vnc.password), [{ keyring: 'replica/r1/vnc' }, { keyring: 'replica/r1/vnc-2' }]);
  });

  it('imports a .vv file with its password: not written, the notice names the file', async () => {
    const library = new ProfileLibrary({ dataDirectory: dataFolder() });
    const result = await library.import([{ kind: 'file', name: 'console.vv', text: '[virt-viewer]\ntype=vnc\nhost=192.0.2.9\nport=5909\npassword=ticket-secret\n' }], { name: 'from oVirt' });
    const { id, notices } = saved(result as SaveProfileResult);
    assert.deepEqual(notices, ['the password in console.vv was not saved: no keyring; you will be asked at connect time']);
    const text = await readFile(library.fileOf(id), 'utf8');
    assert.ok(!text.includes('ticket-secret'));
    const entry = await library.read(id);
    assert.equal(entry.profile.name, 'from oVirt');
    assert.deepEqual(entry.profile.replicas.map((replica) => `${replica.id} ${replica.vnc.host}:${replica.vnc.port}`), ['r1 192.0.2.9:5909']);
  });

  it('imports into an existing profile as new replicas, and reports a bad file with its line', async () => {
    const library = new ProfileLibrary({ dataDirectory: dataFolder() });
    const { id } = saved(await library.save(PROFILE));
    const added = saved((await library.import([{ kind: 'uri', uri: 'vnc://192.0.2.7:5907' }], { intoId: id })) as SaveProfileResult);
    assert.equal(added.revision, 2);
    assert.deepEqual((await library.read(id)).profile.replicas.map((replica) => replica.id), ['r1', 'r2', 'r3']);
    const bad = await library.import([{ kind: 'file', name: 'bad.tigervnc', text: 'TigerVNC Configuration file Version 1.0\nServerName\n' }]);
    assert.equal(bad.kind, 'unreadable');
    assert.ok(bad.kind === 'unreadable');
    assert.deepEqual(bad.problems, [{ source: 'bad.tigervnc', line: 2, message: 'expected "key=value", a [group] header, a comment or a blank line' }]);
  });

  it('exports RetroVisor JSON without secrets or library fields; references that hold no secret stay', async () => {
    const library = new ProfileLibrary({ dataDirectory: dataFolder() });
    await library.list();
    const id = 'handmade';
    // A file put in the library by hand may hold an inline password: exported without it.
    const document = {
      version: 2,
      id,
      revision: 4,
      name: 'payments',
      replicas: [
        { id: 'r1', vnc: { host: '192.0.2.1', port: 5901, password: { env: 'VNC_PW' } } },
        { id: 'r2', vnc: { host: '192.0.2.2', port: 5902, password: { file: '/run/secrets/vnc' } } },
        { id: 'r3', vnc: { host: '192.0.2.3', port: 5903, password: 'hand-typed-secret' } },
      ],
    };
    await writeFile(library.fileOf(id), JSON.stringify(document));
    const exported = await library.export(id);
    assert.equal(exported.fileName, 'payments.json');
    assert.deepEqual(JSON.parse(exported.text), {
      version: 2,
      name: 'payments',
      replicas: [...document.replicas.slice(0, 2), { id: 'r3', vnc: { host: '192.0.2.3', port: 5903 } }],
    });
    assert.ok(!exported.text.includes('hand-typed-secret'));
    assert.deepEqual(exported.notices, ['the VNC password of replica r3: not exported; the receiver is asked for it at connect time or adds a reference']);
  });
});

describe('profile library: the editor\'s copy', { timeout: 30_000 }, () => {
  it('gives the editor a hand-written file without its clear-text password, with a notice; references stay', async () => {
    const library = new ProfileLibrary({ dataDirectory: dataFolder() });
    await library.list();
    const document = {
      version: 2,
      name: 'by hand',
      replicas: [
        { id: 'r1', vnc: { host: '192.0.2.1', port: 5901, password: 'clear-text-secret' } },
        { id: 'r2', vnc: { host: '192.0.2.2', port: 5902, password: { env: 'PW' } } },
      ],
    };
    await writeFile(library.fileOf('byhand'), JSON.stringify(document));
    const forEditor = await library.readForEditor('byhand');
    assert.equal(forEditor.revision, 0);
    assert.ok(!JSON.stringify(forEditor.document).includes('clear-text-secret'));
    assert.deepEqual((forEditor.document.replicas as { vnc: unknown }[]).map((replica) => replica.vnc), [
      { host: '192.0.2.1', port: 5901 },
      { host: '192.0.2.2', port: 5902, password: { env: 'PW' } },
    ]);
    assert.deepEqual(forEditor.notices, ['the VNC password of replica r1: held in clear in the file, not shown; saving leaves it out (you will be asked at connect time)']);
  });
});

describe('profile library: list, open, duplicate, delete, restore', { timeout: 30_000 }, () => {
  it('lists the most recently opened first, with the last state, and finds by exact name', async () => {
    let now = Date.parse('2030-01-01T00:00:00.000Z');
    const library = new ProfileLibrary({ dataDirectory: dataFolder(), now: () => now });
    const older = saved(await library.save({ ...PROFILE, name: 'older' }));
    now += 1000;
    saved(await library.save({ ...PROFILE, name: 'newer' }));
    assert.deepEqual((await library.list()).profiles.map((summary) => summary.name), ['newer', 'older']);
    now += 1000;
    await library.markOpened(older.id);
    await library.recordState(older.id, 'r2 diverged');
    const listing = await library.list();
    assert.deepEqual(listing.profiles.map((summary) => summary.name), ['older', 'newer']);
    assert.equal(listing.profiles[0]?.lastOpenedAt, '2030-01-01T00:00:02.000Z');
    assert.equal(listing.profiles[0]?.lastState, 'r2 diverged');
    assert.equal((await readJson(library.fileOf(older.id))).revision, 1, 'opening does not touch the profile\'s own file');
    const found = await library.findByName('older');
    assert.ok(found.kind === 'found' && found.summary.id === older.id);
    assert.equal((await library.findByName('OLDER')).kind, 'none', 'names are case-sensitive');
    saved(await library.save({ ...PROFILE, name: 'older' }));
    const ambiguous = await library.findByName('older');
    assert.ok(ambiguous.kind === 'ambiguous' && ambiguous.ids.length === 2);
  });

  it('duplicates under a new id and name', async () => {
    const library = new ProfileLibrary({ dataDirectory: dataFolder() });
    const original = saved(await library.save(PROFILE));
    const copy = saved(await library.duplicate(original.id));
    assert.notEqual(copy.id, original.id);
    assert.equal(copy.revision, 1);
    assert.equal((await library.read(copy.id)).profile.name, 'payments (copy)');
    assert.equal((await library.read(original.id)).profile.name, 'payments');
  });

  it('moves a deleted profile (and its state) to the trash, and restores it', async () => {
    const library = new ProfileLibrary({ dataDirectory: dataFolder() });
    const { id } = saved(await library.save(PROFILE));
    await library.markOpened(id);
    assert.deepEqual(await library.delete(id), { ok: true });
    assert.deepEqual((await library.list()).profiles, []);
    assert.deepEqual((await readdir(path.join(library.folder, 'trash'))).sort(), [`${id}.json`, `${id}.state.json`]);
    assert.deepEqual(await library.restore(id), { ok: true });
    const listing = await library.list();
    assert.equal(listing.profiles[0]?.id, id);
    assert.notEqual(listing.profiles[0]?.lastOpenedAt, null, 'its state came back too');
    assert.equal((await library.restore(id)).ok, false);
    assert.match((await library.delete('nothere')).error ?? '', /no saved profile has the id "nothere"/);
  });

  it('purges a profile trashed more than 30 days before a later delete, with its keyring secrets', async () => {
    let now = Date.now();
    const removed: string[] = [];
    const keyring: LibrarySecretStore = { store: async () => undefined, removeProfile: async (profileId) => void removed.push(profileId) };
    const library = new ProfileLibrary({ dataDirectory: dataFolder(), secretStore: keyring, now: () => now });
    const old = saved(await library.save(PROFILE));
    const recent = saved(await library.save(PROFILE));
    const later = saved(await library.save(PROFILE));
    assert.deepEqual(await library.delete(old.id), { ok: true });
    now += 31 * 24 * 60 * 60 * 1000;
    assert.deepEqual(await library.delete(recent.id), { ok: true });
    assert.deepEqual(removed, [old.id]);
    assert.deepEqual(await readdir(path.join(library.folder, 'trash')), [`${recent.id}.json`]);
    assert.equal((await library.restore(old.id)).ok, false);
    assert.deepEqual((await library.list()).profiles.map((summary) => summary.id), [later.id]);
  });

  it('uses a folder it finds only when it is the user\'s own real folder, made private', async () => {
    const folder = dataFolder();
    await mkdir(path.join(folder, 'profiles'), { recursive: true, mode: 0o755 });
    const library = new ProfileLibrary({ dataDirectory: folder });
    await library.list();
    assert.equal(await modeOf(library.folder), 0o700);
  });
});
