// vnc:// URIs (RFC 7869): host and port (default 5900, a TCP port), user information and parameters
// percent-decoded; the password (in the user information or VncPassword) kept apart and never shown
// in a problem; tunnels refused; unknown parameters reported as ignored.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatImportProblem } from '../../../../common/profile-import/import-types';
import { parseVncUri, uriForMessages } from '../../../../common/profile-import/vnc-uri';

const problemsOf = (uri: string): string[] => {
  const result = parseVncUri(uri);
  assert.equal(result.ok, false, 'expected the URI to be refused');
  return result.ok ? [] : result.problems.map(formatImportProblem);
};

describe('vnc:// URI import', { timeout: 10_000 }, () => {
  it('reads host, port and ConnectionName; the default port is 5900', () => {
    const result = parseVncUri('vnc://192.0.2.40:5905?ConnectionName=Payments%20B');
    assert.ok(result.ok, JSON.stringify(result));
    assert.deepEqual(result.endpoints, [{ host: '192.0.2.40', port: 5905, label: 'Payments B' }]);
    const bare = parseVncUri('vnc://vm.example.net');
    assert.ok(bare.ok && bare.endpoints[0]?.port === 5900);
    const v6 = parseVncUri('vnc://[2001:db8::7]:5901/');
    assert.ok(v6.ok, JSON.stringify(v6));
    assert.deepEqual(v6.endpoints, [{ host: '2001:db8::7', port: 5901 }]);
  });

  it('keeps a password from the user information or VncPassword apart, decoded; the user name is noted as unused', () => {
    const fromUserInfo = parseVncUri('vnc://alice:p%40ss%3Aword@192.0.2.41:5901');
    assert.ok(fromUserInfo.ok, JSON.stringify(fromUserInfo));
    assert.equal(fromUserInfo.endpoints[0]?.password, 'p@ss:word');
    assert.match(fromUserInfo.notices.join('\n'), /user name is not used/);
    assert.ok(!fromUserInfo.notices.join('\n').includes('p%40ss'), 'notices name the URI without its password');
    const fromParameter = parseVncUri('vnc://192.0.2.41?VncPassword=s3cret%2B&SecurityType=2&ColorLevel=24');
    assert.ok(fromParameter.ok, JSON.stringify(fromParameter));
    assert.equal(fromParameter.endpoints[0]?.password, 's3cret+');
    assert.equal(uriForMessages('vnc://alice:pw@h?VncPassword=x&b=1'), 'vnc://…@h?VncPassword=…&b=1');
  });

  it('refuses a tunnel channel, a bad port, a path, a missing host and a broken escape, naming the key', () => {
    assert.deepEqual(problemsOf('vnc://h?ChannelType=24&SshHost=gw'), [
      'vnc://h?ChannelType=24&SshHost=gw: ChannelType: is 24: only ChannelType 1 (standard TCP) is imported; for an SSH tunnel define an L0 and set vnc.tunnel',
    ]);
    assert.deepEqual(problemsOf('vnc://h:0'), ['vnc://h:0: port: must be a TCP port, from 1 to 65535, found 0']);
    assert.match(problemsOf('vnc://h/desktop').join(), /has a path after the host/);
    assert.deepEqual(problemsOf('vnc://?VncPassword=x'), ['vnc://?VncPassword=…: host: names no host: RetroVisor connects to a server, vnc://host:port']);
    assert.deepEqual(problemsOf('vnc://h?ConnectionName=%E0%A4%A'), ['vnc://h?ConnectionName=%E0%A4%A: ConnectionName: has a malformed %-escape']);
    assert.deepEqual(problemsOf('http://h'), ['http://h: must start with vnc://']);
    const withSecret = problemsOf('vnc://u:topsecret@h:99999');
    assert.ok(!withSecret.join().includes('topsecret'));
  });
});
