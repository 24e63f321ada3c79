// How the app controller opens a picked or dropped profile: by its disk path where the shell knows
// it (Electron: the back end reads the file, relative files resolve beside it), else as text; a
// failure is titled with the file the back end read. Plain Node, a fake back end.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BackendApi, OpenResult } from '../../../common/contract';
import { AppController } from '../../../renderer/app-controller';
import type { BackendConnection } from '../../../renderer/backend/backend-connection';
import { createAppStore } from '../../../renderer/store';

const REFUSED: OpenResult = { ok: false, problems: [{ path: '$.version', message: 'must be 1' }], source: '/home/me/lab/profile.json' };

function setUp(pathOfFile?: (file: File) => string) {
  const calls: string[] = [];
  const api = {
    openProfileFile: async ({ path }: { path: string }) => {
      calls.push(`file ${path}`);
      return REFUSED;
    },
    openProfileText: async ({ sourceName }: { sourceName: string }) => {
      calls.push(`text ${sourceName}`);
      return { ok: false, problems: [{ path: '$', message: 'not valid JSON' }] } satisfies OpenResult;
    },
  } as unknown as BackendApi;
  const connection: BackendConnection = {
    api,
    shell: pathOfFile === undefined ? 'browser' : 'electron',
    openStream: () => {
      throw new Error('not used');
    },
    openInputChannel: null,
    ...(pathOfFile === undefined ? {} : { pathOfFile }),
  };
  const store = createAppStore();
  const controller = new AppController(connection, store, () => {
    throw new Error('not used');
  });
  return { calls, store, controller };
}

const file = new File(['{"version": 2}'], 'profile.json', { type: 'application/json' });

describe('AppController: opening a picked or dropped profile', { timeout: 5_000 }, () => {
  it('opens it by its path where the shell knows it, titled with the file read', { timeout: 1_000 }, async () => {
    const { calls, store, controller } = setUp(() => '/home/me/lab/profile.json');
    await controller.openProfileFile(file);
    assert.deepEqual(calls, ['file /home/me/lab/profile.json']);
    assert.equal(store.getState().problemsSource, '/home/me/lab/profile.json');
  });

  it('sends its text where the path is unknown (a browser, or a file not on disk)', { timeout: 1_000 }, async () => {
    for (const pathOfFile of [undefined, () => '']) {
      const { calls, store, controller } = setUp(pathOfFile);
      await controller.openProfileFile(file);
      assert.deepEqual(calls, ['text profile.json']);
      assert.equal(store.getState().problemsSource, 'profile.json');
    }
  });
});
