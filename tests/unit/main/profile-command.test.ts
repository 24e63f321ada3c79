// `retrovisor profile` in-process, on a private data folder: import of several formats into one
// profile (--name), into an existing one, list (text with hostile names escaped, and --json), export
// without secrets, delete and restore, bad input with exit 2; and how `--profile ARG` finds a file
// or a saved profile. Plain Node, real files.

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { LibraryError, ProfileLibrary } from '../../../main/profile-library';
import { PROFILE_EXIT, URI_PASSWORD_ARGV_WARNING, resolveProfileArgument, runProfileCommand } from '../../../main/profile-command';

let folder = '';
let counter = 0;

before(async () => {
  folder = await mkdtemp(path.join(os.tmpdir(), 'retrovisor-profile-command-'));
  await writeFile(path.join(folder, 'kvm.vv'), '[virt-viewer]\ntype=vnc\nhost=192.0.2.1\nport=5901\npassword=vv-secret-123\ntitle=KVM\n');
  await writeFile(path.join(folder, 'xen.tigervnc'), 'TigerVNC Configuration file Version 1.0\nServerName=192.0.2.2::5902\n');
  await writeFile(path.join(folder, 'bhyve.remmina'), '[remmina]\nname=bhyve\nprotocol=VNC\nserver=192.0.2.3:5903\npassword=ENCRYPTED==\n');
  await writeFile(path.join(folder, 'bad.vv'), '[virt-viewer]\ntype=vnc\nhost=h\nport=not-a-port\n');
});

after(async () => {
  await rm(folder, { recursive: true, force: true });
});

/** Runs the command on a data folder of its own (or `dataDirectory`); returns status and output. */
async function run(argv: string[], dataDirectory: string): Promise<{ status: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const status = await runProfileCommand(argv, { stdout, stderr, workingDirectory: folder, env: { RETROVISOR_DATA_DIR: dataDirectory } });
  return { status, stdout: out, stderr: err };
}

function newDataFolder(): string {
  counter += 1;
  return path.join(folder, `data-${counter}`);
}

describe('retrovisor profile', { timeout: 30_000 }, () => {
  it('imports three formats into one profile with --name, then lists it; the password is not saved and said so', async () => {
    const data = newDataFolder();
    const imported = await run(['import', 'kvm.vv', 'xen.tigervnc', 'bhyve.remmina', '--name', 'payments'], data);
    assert.equal(imported.status, PROFILE_EXIT.ok, imported.stderr);
    assert.match(imported.stdout, /^imported payments {2}\(3 replicas, never opened\) {2}id [0-9a-f]{16}\n$/);
    assert.match(imported.stderr, /the password in kvm\.vv was not saved: no keyring; you will be asked at connect time/);
    assert.match(imported.stderr, /bhyve\.remmina: the password is encrypted with Remmina's own key and was not imported/);
    const listed = await run(['list', '--json'], data);
    const profiles = JSON.parse(listed.stdout) as { name: string; replicaCount: number; id: string }[];
    assert.deepEqual(profiles.map((profile) => [profile.name, profile.replicaCount]), [['payments', 3]]);
    const file = await readFile(path.join(data, 'profiles', `${profiles[0]?.id}.json`), 'utf8');
    assert.ok(!file.includes('vv-secret-123') && !file.includes('ENCRYPTED'), file);
    // Adding to the same name adds replicas to it.
    const added = await run(['import', 'vnc://192.0.2.4:5904', '--name', 'payments'], data);
    assert.equal(added.status, PROFILE_EXIT.ok, added.stderr);
    assert.match(added.stdout, /^added to payments {2}\(4 replicas/);
  });

  it('imports each source as its own profile without --name; a bad file is refused with its line and exit 2', async () => {
    const data = newDataFolder();
    const result = await run(['import', 'xen.tigervnc', 'vnc://192.0.2.9?ConnectionName=nine'], data);
    assert.equal(result.status, PROFILE_EXIT.ok, result.stderr);
    assert.deepEqual((await run(['list'], data)).stdout.split('\n').filter(Boolean).map((line) => line.split('  ')[0]).sort(), ['nine', 'xen']);
    const bad = await run(['import', 'bad.vv'], data);
    assert.equal(bad.status, PROFILE_EXIT.badInput);
    assert.match(bad.stderr, /bad\.vv:4: port: must be a TCP port \(a number from 1 to 65535\), found "not-a-port"/);
    const secretUri = await run(['import', 'vnc://:pw-on-argv@192.0.2.5'], data);
    assert.match(secretUri.stderr, new RegExp(URI_PASSWORD_ARGV_WARNING.slice(0, 40).replace(/[()]/g, '\\$&')));
    assert.ok(!secretUri.stderr.includes('pw-on-argv') && !secretUri.stdout.includes('pw-on-argv'));
  });

  it('prints a hostile profile name escaped; exports without secrets; deletes and restores', async () => {
    const data = newDataFolder();
    const library = new ProfileLibrary({ dataDirectory: data });
    const hostile = 'evil\u001b[2J\u202ename';
    const saved = await library.save({ version: 2, name: hostile, replicas: [{ id: 'r1', vnc: { host: '192.0.2.1', port: 5901, password: { env: 'PW' } } }] });
    assert.ok(saved.kind === 'saved');
    const listed = await run(['list'], data);
    assert.ok(listed.stdout.startsWith('evil\\u001b[2J\\u202ename  (1 replica, never opened)'), listed.stdout);
    const exported = await run(['export', saved.id], data);
    assert.equal(exported.status, PROFILE_EXIT.ok, exported.stderr);
    assert.deepEqual(JSON.parse(exported.stdout), { version: 2, name: hostile, replicas: [{ id: 'r1', vnc: { host: '192.0.2.1', port: 5901, password: { env: 'PW' } } }] });
    const deleted = await run(['delete', hostile], data);
    assert.equal(deleted.status, PROFILE_EXIT.ok, deleted.stderr);
    assert.match(deleted.stdout, new RegExp(`undo with: retrovisor profile restore ${saved.id}`));
    assert.match((await run(['list'], data)).stdout, /^No saved profiles/);
    assert.equal((await run(['restore', saved.id], data)).status, PROFILE_EXIT.ok);
    assert.equal((await run(['list', '--json'], data)).stdout.includes(saved.id), true);
    assert.equal((await run(['delete', 'nothing-by-that-name'], data)).status, PROFILE_EXIT.failure);
  });

  it('refuses bad usage with exit 2 and the usage', async () => {
    const data = newDataFolder();
    for (const argv of [[], ['frobnicate'], ['list', '--name', 'x'], ['export'], ['import'], ['list', '--bogus']]) {
      const result = await run(argv, data);
      assert.equal(result.status, PROFILE_EXIT.badInput, argv.join(' '));
      assert.match(result.stderr, /Usage:/, argv.join(' '));
    }
  });
});

describe('--profile ARG', { timeout: 30_000 }, () => {
  it('is a file when it has a "/" or ends in .json and exists; else a saved profile by name, else by id', async () => {
    const data = newDataFolder();
    const library = new ProfileLibrary({ dataDirectory: data });
    const saved = await library.save({ version: 2, name: 'lab.json', replicas: [{ id: 'r1', vnc: { host: '192.0.2.1', port: 5901 } }] });
    assert.ok(saved.kind === 'saved');
    // No file lab.json here: the saved profile of that name.
    assert.deepEqual(await resolveProfileArgument('lab.json', library, folder), { kind: 'saved', id: saved.id, name: 'lab.json', path: library.fileOf(saved.id) });
    await writeFile(path.join(folder, 'lab.json'), '{}');
    assert.deepEqual(await resolveProfileArgument('lab.json', library, folder), { kind: 'file', path: path.join(folder, 'lab.json') });
    assert.deepEqual(await resolveProfileArgument('./missing.json', library, folder), { kind: 'file', path: path.join(folder, 'missing.json') });
    assert.equal((await resolveProfileArgument(saved.id, library, folder)).kind, 'saved');
    await assert.rejects(resolveProfileArgument('payments', library, folder), (error: unknown) => error instanceof LibraryError && /no saved profile is named "payments"/.test(error.message));
    const twin = await library.save({ version: 2, name: 'twin', replicas: [{ id: 'r1', vnc: { host: '192.0.2.1', port: 5901 } }] });
    await library.save({ version: 2, name: 'twin', replicas: [{ id: 'r1', vnc: { host: '192.0.2.1', port: 5901 } }] });
    assert.ok(twin.kind === 'saved');
    await assert.rejects(resolveProfileArgument('twin', library, folder), /2 saved profiles are named "twin": name one by its id/);
  });
});
