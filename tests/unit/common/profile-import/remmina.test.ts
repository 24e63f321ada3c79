// Remmina connection files: [remmina] with protocol=VNC and server=host:port read; the name becomes the
// label; Remmina's encrypted password is never decrypted, only reported; other protocols, SSH tunnels
// and malformed servers refused with their line and key.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatImportProblem } from '../../../../common/profile-import/import-types';
import { parseRemminaFile } from '../../../../common/profile-import/remmina';

// As Remmina 1.4 saves a VNC connection (~/.local/share/remmina/group_vnc_payments_192-0-2-30-5901.remmina).
const SAVED = `[remmina]
password=aGVsbG8gd29ybGQgZW5jcnlwdGVk
gateway_username=
notes_text=
vc=
window_height=480
preferipv6=0
ssh_tunnel_loopback=0
serialname=
sound=off
printer_overwrite=0
name=Payments (cloud A)
proxy=
serialpermissive=0
ssh_tunnel_enabled=0
colordepth=32
group=
protocol=VNC
quality=9
server=192.0.2.30:5901
username=
viewonly=0
disablepasswordstoring=0
window_maximize=0
ssh_tunnel_server=
window_width=640
disableencryption=0
viewmode=1
`;

const problemsOf = (text: string): string[] => {
  const result = parseRemminaFile(text, 'vm.remmina');
  assert.equal(result.ok, false, 'expected the file to be refused');
  return result.ok ? [] : result.problems.map(formatImportProblem);
};

describe('Remmina .remmina import', { timeout: 10_000 }, () => {
  it('reads a VNC connection saved by Remmina; the encrypted password is reported, never imported', () => {
    const result = parseRemminaFile(SAVED, 'vm.remmina');
    assert.ok(result.ok, JSON.stringify(result));
    assert.deepEqual(result.endpoints, [{ host: '192.0.2.30', port: 5901, label: 'Payments (cloud A)' }]);
    assert.equal(result.title, 'Payments (cloud A)');
    assert.deepEqual(result.notices, ["vm.remmina: the password is encrypted with Remmina's own key and was not imported; you will be asked at connect time"]);
    assert.ok(!JSON.stringify(result).includes('aGVsbG8'));
  });

  it('reads a server without a port (5900) and a display number (host:2 → 5902)', () => {
    const bare = parseRemminaFile('[remmina]\nprotocol=VNC\nserver=vm.example.net\n', 'a.remmina');
    assert.ok(bare.ok && bare.endpoints[0]?.port === 5900, JSON.stringify(bare));
    const display = parseRemminaFile('[remmina]\nprotocol=VNC\nserver=[fd00::5]:2\n', 'b.remmina');
    assert.ok(display.ok, JSON.stringify(display));
    assert.deepEqual(display.endpoints, [{ host: 'fd00::5', port: 5902 }]);
  });

  it('refuses another protocol, a listening VNC, an SSH tunnel, a bad port, a missing server', () => {
    assert.deepEqual(problemsOf('[remmina]\nprotocol=RDP\nserver=h:3389\n'), ['vm.remmina:2: protocol: is RDP: only VNC connections can be imported']);
    assert.match(problemsOf('[remmina]\nprotocol=VNCI\nserver=h\n').join(), /vm\.remmina:2: protocol: is VNCI/);
    assert.match(problemsOf('[remmina]\nprotocol=VNC\nserver=h:5901\nssh_tunnel_enabled=1\n').join(), /vm\.remmina:4: ssh_tunnel_enabled: the connection goes through an SSH tunnel/);
    assert.deepEqual(problemsOf('[remmina]\nprotocol=VNC\nserver=h:99999\n'), ['vm.remmina:3: server: the port must be a TCP port, from 1 to 65535, found 99999']);
    assert.deepEqual(problemsOf('[remmina]\nprotocol=VNC\n'), ['vm.remmina:1: server: is missing: the VNC server as host:port']);
    assert.deepEqual(problemsOf('protocol=VNC\n'), ['vm.remmina: no [remmina] group: this is not a Remmina connection file']);
  });
});
