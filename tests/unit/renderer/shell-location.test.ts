// Where the browser shell's sockets live, derived from the page URL and its secret. Plain Node.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { browserShellEndpoints } from '../../../renderer/backend/shell-location';

describe('browserShellEndpoints', { timeout: 60_000 }, () => {
  it('puts the RPC and stream sockets below the secret of the page', () => {
    const endpoints = browserShellEndpoints('http://127.0.0.1:4567/Zx9_secret/');
    assert.ok(endpoints);
    assert.equal(endpoints.rpcUrl, 'ws://127.0.0.1:4567/Zx9_secret/rpc');
    assert.equal(endpoints.streamUrl('st-1'), 'ws://127.0.0.1:4567/Zx9_secret/stream/st-1');
  });

  it('takes only the first path segment, ignoring the file name, query and fragment', () => {
    const endpoints = browserShellEndpoints('http://127.0.0.1:4567/abc/index.html?x=1#y');
    assert.equal(endpoints?.rpcUrl, 'ws://127.0.0.1:4567/abc/rpc');
  });

  it('uses wss under https and escapes stream ids', () => {
    const endpoints = browserShellEndpoints('https://localhost:9/abc/');
    assert.equal(endpoints?.rpcUrl, 'wss://localhost:9/abc/rpc');
    assert.equal(endpoints?.streamUrl('a/b?c'), 'wss://localhost:9/abc/stream/a%2Fb%3Fc');
  });

  it('is null without a secret or outside http(s)', () => {
    assert.equal(browserShellEndpoints('http://127.0.0.1:4567/'), null);
    assert.equal(browserShellEndpoints('file:///opt/retrovisor/index.html'), null);
    assert.equal(browserShellEndpoints('not a url'), null);
  });
});
