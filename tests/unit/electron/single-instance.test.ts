// One instance per user, through the adapter with a fake Electron app: a second launch hands its
// profile (its arguments and working folder) to the first and quits, and the first resolves it
// against its profile library (a relative path against the SECOND launch's folder, a saved name).

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { claimSingleInstance, type SingleInstanceAppLike } from '../../../electron/single-instance';
import { resolveOpenRequest, windowKeyOf, type OpenRequest } from '../../../main/open-request';
import { ProfileLibrary } from '../../../main/profile-library';

type SecondInstanceListener = (event: unknown, argv: string[], workingDirectory: string, additionalData: unknown) => void;

/** Electron's per-user lock between launches: the first takes it; a later one's request reaches the holder. */
function fakeLock() {
  let holder: { listeners: SecondInstanceListener[] } | null = null;
  return {
    /** A launch with this argv: its `app`, as Electron gives it to the main process. */
    launch(argv: string[]): SingleInstanceAppLike {
      const own = { listeners: [] as SecondInstanceListener[] };
      return {
        requestSingleInstanceLock: (additionalData) => {
          if (holder === null) {
            holder = own;
            return true;
          }
          // Electron passes the second launch's argv and folder too; the argv here is deliberately
          // different so the test sees the handed-over message is what counts.
          for (const listener of holder.listeners) listener({}, [...argv, '--some-chromium-switch'], '/somewhere/else', additionalData);
          return false;
        },
        on: (_event, listener) => void own.listeners.push(listener),
      };
    },
  };
}

const scratch = mkdtempSync(join(tmpdir(), 'retrovisor-single-instance-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

describe('one instance per user', { timeout: 10_000 }, () => {
  it('a second `retrovisor start --profile X` hands X to the first, which opens it; the second quits', async () => {
    const lock = fakeLock();
    const heard: OpenRequest[] = [];
    const first = claimSingleInstance({ app: lock.launch(['/opt/RetroVisor/retrovisor']), args: [], workingDirectory: '/home/u', argumentOffset: 1, onRequest: (request) => heard.push(request) });
    assert.equal(first, true, 'the first launch is the instance');

    const secondFolder = join(scratch, 'projects');
    const second = claimSingleInstance({
      app: lock.launch(['/opt/RetroVisor/retrovisor', 'start', '--profile', 'vm/lab.json']),
      args: ['start', '--profile', 'vm/lab.json'],
      workingDirectory: secondFolder,
      argumentOffset: 1,
      onRequest: () => assert.fail('the second launch serves nothing'),
    });
    assert.equal(second, false, 'the second launch is told to quit');
    assert.deepEqual(heard, [{ kind: 'profile', argument: 'vm/lab.json', workingDirectory: secondFolder }]);

    const library = new ProfileLibrary({ dataDirectory: join(scratch, 'data') });
    const target = await resolveOpenRequest(heard[0]!, library);
    assert.deepEqual(target, { kind: 'file', path: join(secondFolder, 'vm', 'lab.json') }, 'the path is the second launch\'s, resolved in its folder');
    assert.equal(windowKeyOf(target), `file:${join(secondFolder, 'vm', 'lab.json')}`);
  });

  it('hands over a saved profile\'s name, and a bare second launch asks the first to come forward', async () => {
    const library = new ProfileLibrary({ dataDirectory: join(scratch, 'data-saved') });
    const saved = await library.save({ version: 2, name: 'bench rig', replicas: [{ id: 'r1', vnc: { host: '192.0.2.1', port: 5901 } }] });
    assert.equal(saved.kind, 'saved');
    const lock = fakeLock();
    const heard: OpenRequest[] = [];
    claimSingleInstance({ app: lock.launch(['/usr/bin/electron', '/app']), args: [], workingDirectory: '/', argumentOffset: 2, onRequest: (request) => heard.push(request) });
    claimSingleInstance({ app: lock.launch(['/usr/bin/electron', '/app', '--profile', 'bench rig']), args: ['--profile', 'bench rig'], workingDirectory: '/tmp', argumentOffset: 2, onRequest: () => undefined });
    claimSingleInstance({ app: lock.launch(['/usr/bin/electron', '/app']), args: [], workingDirectory: '/tmp', argumentOffset: 2, onRequest: () => undefined });
    assert.equal(heard.length, 2);
    const target = await resolveOpenRequest(heard[0]!, library);
    assert.deepEqual(target, { kind: 'saved', id: saved.kind === 'saved' ? saved.id : '', path: library.fileOf(saved.kind === 'saved' ? saved.id : '') });
    assert.deepEqual(heard[1], { kind: 'show' });
  });

  it('without a handed-over message (another launcher), reads the argv Electron reports after the offset', () => {
    const heard: OpenRequest[] = [];
    let listener: SecondInstanceListener | undefined;
    const app: SingleInstanceAppLike = { requestSingleInstanceLock: () => true, on: (_event, registered) => void (listener = registered) };
    claimSingleInstance({ app, args: [], workingDirectory: '/', argumentOffset: 1, onRequest: (request) => heard.push(request) });
    listener?.({}, ['/opt/RetroVisor/retrovisor', '/data/console.vv'], '/data', undefined);
    assert.deepEqual(heard, [{ kind: 'import', source: '/data/console.vv', workingDirectory: '/data' }]);
  });
});
