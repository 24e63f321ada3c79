// The memory bench's view of the process tree: which processes are RetroVisor's and what each one is,
// from command lines as /proc shows them (Chromium rewrites its own into one string). Plain Node.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { descendantsOf, processKind } from '../../../scripts/bench-memory';

describe('the memory bench: process kinds', { timeout: 5000 }, () => {
  it('names the back end and each Chromium process type, split into arguments or not', () => {
    assert.equal(processKind(['/usr/bin/node', '/repo/bin/retrovisor.mjs', 'serve', '--profile', 'p.json']), 'back end (node)');
    assert.equal(processKind(['/usr/lib/chromium/chromium', '--headless', '--disable-gpu']), 'chromium browser');
    assert.equal(processKind(['/usr/lib/chromium/chromium --type=renderer --enable-features=X --lang=en-US']), 'chromium renderer');
    assert.equal(processKind(['/usr/lib/chromium/chromium', '--type=gpu-process']), 'chromium gpu');
    assert.equal(processKind(['/usr/lib/chromium/chromium --type=utility --utility-sub-type=network.mojom.NetworkService']), 'chromium network');
    assert.equal(processKind(['/usr/lib/chromium/chromium --type=utility --utility-sub-type=storage.mojom.StorageService']), 'chromium utility (StorageService)');
    assert.equal(processKind(['/usr/lib/chromium/chromium --type=zygote']), 'chromium zygote');
  });

  it('leaves out what is not RetroVisor (the bench\'s own helpers)', () => {
    assert.equal(processKind(['/repo/node_modules/@esbuild/linux-x64/bin/esbuild', '--service=0.25.0', '--ping']), null);
    assert.equal(processKind([]), null);
  });

  it('finds the processes started under this one', () => {
    assert.ok(!descendantsOf(process.pid).includes(process.pid));
    assert.ok(descendantsOf(process.ppid).includes(process.pid));
  });
});
