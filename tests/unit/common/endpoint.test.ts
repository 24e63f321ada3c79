// Quick-connect endpoints follow VNC users' conventions: host:N is display N (port 5900+N),
// host::P is port P, and the ad-hoc profile obeys the same rules as a profile file.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseEndpoint, quickConnectProfile } from '../../../common/endpoint';

describe('parseEndpoint', { timeout: 60_000 }, () => {
  const cases: [string, unknown][] = [
    ['127.0.0.1:1', { host: '127.0.0.1', port: 5901 }],
    ['host:0', { host: 'host', port: 5900 }],
    ['host:99', { host: 'host', port: 5999 }],
    ['host:5901', { host: 'host', port: 5901 }],
    ['host::5901', { host: 'host', port: 5901 }],
    ['host::1', { host: 'host', port: 1 }],
    ['host', { host: 'host', port: 5900 }],
    [':2', { host: '127.0.0.1', port: 5902 }],
    ['[::1]:3', { host: '::1', port: 5903 }],
    ['[fe80::1]::6000', { host: 'fe80::1', port: 6000 }],
  ];
  for (const [text, expected] of cases) {
    it(`reads "${text}"`, () => assert.deepEqual(parseEndpoint(text), expected));
  }
  for (const text of ['', 'host:x', 'host::', 'host:70000', '[::1', 'host:1:2']) {
    it(`rejects "${text}" with a message`, () => {
      const parsed = parseEndpoint(text);
      assert.ok('error' in parsed, `expected an error for "${text}"`);
    });
  }
});

describe('quickConnectProfile', { timeout: 60_000 }, () => {
  it('builds one replica per endpoint, ids r1..rN, password on each', () => {
    const result = quickConnectProfile('127.0.0.1:1, 127.0.0.1:2\n127.0.0.1::5903', 'pw');
    assert.ok(result.ok);
    assert.deepEqual(
      result.profile.replicas.map((replica) => [replica.id, replica.vnc.port, replica.vnc.password]),
      [
        ['r1', 5901, { kind: 'inline', value: 'pw' }],
        ['r2', 5902, { kind: 'inline', value: 'pw' }],
        ['r3', 5903, { kind: 'inline', value: 'pw' }],
      ],
    );
  });

  it('reports each bad endpoint by position', () => {
    const result = quickConnectProfile('127.0.0.1:1 nothere:x');
    assert.equal(result.ok, false);
    assert.deepEqual(result.ok ? [] : result.problems.map((problem) => problem.path), ['endpoints[1]']);
  });

  it('refuses an empty list and more than 8 replicas', () => {
    assert.equal(quickConnectProfile('  ').ok, false);
    assert.equal(quickConnectProfile(Array.from({ length: 9 }, (_, index) => `h:${index}`).join(' ')).ok, false);
  });

  it('applies the profile rules to hosts', () => {
    const result = quickConnectProfile('$(reboot):1');
    assert.equal(result.ok, false);
    assert.match(result.ok ? '' : result.problems[0]?.path ?? '', /^\$\.replicas\[0\]\.vnc\.host$/);
  });
});
