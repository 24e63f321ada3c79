// virt-viewer connection files (.vv) as oVirt and virt-manager users save them: type=vnc with host,
// port, password and title read; SPICE, a missing port and malformed lines refused with their line
// and key; the password kept apart, the [ovirt] group's token never read.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatImportProblem } from '../../../../common/profile-import/import-types';
import { parseVirtViewerFile } from '../../../../common/profile-import/virt-viewer';

// As oVirt's engine serves console.vv for a VNC console (a one-time ticket as the password).
const OVIRT_VV = `[virt-viewer]
type=vnc
host=192.0.2.15
port=5900
password=TicketXyz123
# Password is valid for 120 seconds.
delete-this-file=1
fullscreen=0
title=payments-vm:%d - Press SHIFT+F12 to Release Cursor
toggle-fullscreen=shift+f11
release-cursor=shift+f12
secure-attention=ctrl+alt+end
versions=rhev-win64:2.0-160;rhev-win32:2.0-160;rhel8:7.0-3;rhel7:2.0-6;rhel6:99.0-1
newer-version-url=http://www.ovirt.org/documentation/admin-guide/virt/console-client-resources

[ovirt]
host=engine.example.net:443
vm-guid=2a1c5c3e-0e0f-4d5e-9b8a-1c2d3e4f5a6b
sso-token=SECRET-SSO-TOKEN
admin=1
`;

// The minimal file a user writes for remote-viewer (virt-manager's VNC console as a file).
const MINIMAL_VV = '[virt-viewer]\r\ntype=vnc\r\nhost=::1\r\nport=5901\r\n';

const problemLines = (text: string): string[] => {
  const result = parseVirtViewerFile(text, 'vm.vv');
  assert.equal(result.ok, false, 'expected the file to be refused');
  return result.ok ? [] : result.problems.map(formatImportProblem);
};

describe('virt-viewer .vv import', { timeout: 10_000 }, () => {
  it('reads an oVirt console.vv: host, port, the title as label, the password apart, nothing from [ovirt]', () => {
    const result = parseVirtViewerFile(OVIRT_VV, 'console.vv');
    assert.ok(result.ok, JSON.stringify(result));
    assert.deepEqual(result.endpoints, [{ host: '192.0.2.15', port: 5900, label: 'payments-vm', password: 'TicketXyz123' }]);
    assert.equal(result.title, 'payments-vm');
    assert.ok(!JSON.stringify(result).includes('SECRET-SSO-TOKEN'), 'the [ovirt] group is never read');
  });

  it('reads a minimal file with CRLF line ends and an IPv6 host', () => {
    const result = parseVirtViewerFile(MINIMAL_VV, 'min.vv');
    assert.ok(result.ok, JSON.stringify(result));
    assert.deepEqual(result.endpoints, [{ host: '::1', port: 5901 }]);
  });

  it('refuses SPICE, a missing port, a bad port and a malformed line, each with its line and key', () => {
    assert.deepEqual(problemLines('[virt-viewer]\ntype=spice\nhost=h\nport=5900\n'), ['vm.vv:2: type: is "spice": RetroVisor speaks VNC only (set the VM\'s graphics to VNC)']);
    assert.deepEqual(problemLines('[virt-viewer]\ntype=vnc\nhost=h\ntls-port=5901\n'), ['vm.vv:4: port: is missing (only tls-port is given, which VNC does not use)']);
    assert.deepEqual(problemLines('[virt-viewer]\ntype=vnc\nhost=h\nport=70000\n'), ['vm.vv:4: port: must be a TCP port, from 1 to 65535, found 70000']);
    assert.deepEqual(problemLines('[virt-viewer]\ntype=vnc\nhost=h\nport 5900\n'), ['vm.vv:4: expected "key=value", a [group] header, a comment or a blank line']);
    assert.deepEqual(problemLines('[virt-viewer]\ntype=vnc\nhost=h; rm -rf /\nport=5900\n'), [
      'vm.vv:3: host: "h; rm -rf /" is not a host name or IP address RetroVisor accepts (no spaces, quotes, shell characters or leading "-")',
    ]);
    assert.deepEqual(problemLines('[virt-viewer]\ntype=vnc\nhost=a\nhost=b\nport=1\n'), ['vm.vv:4: host: appears twice in [virt-viewer] (first on line 3): keep one']);
    assert.deepEqual(problemLines('[other]\nx=1\n'), ['vm.vv:1: no [virt-viewer] group: this is not a virt-viewer connection file']);
  });

  it('never quotes the password in a problem', () => {
    const lines = problemLines('[virt-viewer]\ntype=spice\nhost=h\nport=5900\npassword=hunter2-secret\n');
    assert.ok(!lines.join('\n').includes('hunter2-secret'));
  });
});
