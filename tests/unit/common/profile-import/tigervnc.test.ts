// TigerVNC connection files as vncviewer's "Save As..." writes them: the header line, then
// ServerName=host::port or host:display among the viewer's parameters (names case-insensitive).
// A missing header, a missing or malformed ServerName and a line without "=" are refused with their line.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatImportProblem } from '../../../../common/profile-import/import-types';
import { parseTigerVncFile } from '../../../../common/profile-import/tigervnc';

// vncviewer 1.13 "Save As...": the header, ServerName, then every viewer parameter.
const SAVED = `TigerVNC Configuration file Version 1.0

ServerName=192.0.2.20::5902
SecurityTypes=X509Plain,TLSPlain,X509Vnc,TLSVnc,X509None,TLSNone,VncAuth,None
EmulateMiddleButton=0
DotWhenNoCursor=0
AlertOnFatalError=1
PasswordFile=
FullScreen=0
FullScreenMode=Current
FullScreenSelectedMonitors=1
AutoSelect=1
FullColor=1
LowColorLevel=2
PreferredEncoding=Tight
CustomCompressLevel=0
CompressLevel=2
NoJPEG=0
QualityLevel=8
Maximize=0
RemoteResize=1
ViewOnly=0
Shared=1
AcceptClipboard=1
SendClipboard=1
MenuKey=F8
FullscreenSystemKeys=1
`;

const problemsOf = (text: string): string[] => {
  const result = parseTigerVncFile(text, 'vm.tigervnc');
  assert.equal(result.ok, false, 'expected the file to be refused');
  return result.ok ? [] : result.problems.map(formatImportProblem);
};

describe('TigerVNC .tigervnc import', { timeout: 10_000 }, () => {
  it('reads a file saved by vncviewer: host::port', () => {
    const result = parseTigerVncFile(SAVED, 'vm.tigervnc');
    assert.ok(result.ok, JSON.stringify(result));
    assert.deepEqual(result.endpoints, [{ host: '192.0.2.20', port: 5902 }]);
    assert.deepEqual(result.notices, []);
  });

  it('reads host:display as 5900 + display, names in any case, and says an obfuscated PasswordFile is not imported', () => {
    const result = parseTigerVncFile('TigerVNC Configuration file Version 1.0\r\nservername=vm.example.net:3\r\nPasswordFile=/home/me/.vnc/passwd\r\n', 'x.tigervnc');
    assert.ok(result.ok, JSON.stringify(result));
    assert.deepEqual(result.endpoints, [{ host: 'vm.example.net', port: 5903 }]);
    assert.match(result.notices.join('\n'), /PasswordFile is not imported .*obfuscated/);
  });

  it('refuses a file without the header, without ServerName, with a bad ServerName or a line without "="', () => {
    assert.deepEqual(problemsOf('ServerName=h:1\n'), ['vm.tigervnc:1: must be "TigerVNC Configuration file Version 1.0": this is not a TigerVNC connection file']);
    assert.deepEqual(problemsOf('TigerVNC Configuration file Version 1.0\nFullScreen=0\n'), ['vm.tigervnc: no ServerName line: the server to connect to (host:display or host::port)']);
    assert.deepEqual(problemsOf('TigerVNC Configuration file Version 1.0\n\nServerName=h:x\n'), ['vm.tigervnc:3: ServerName: "h:x": expected host:display or host::port']);
    assert.deepEqual(problemsOf('TigerVNC Configuration file Version 1.0\nServerName=h::1\nFullScreen\n'), ['vm.tigervnc:3: expected "key=value", a [group] header, a comment or a blank line']);
    assert.deepEqual(problemsOf('TigerVNC Configuration file Version 1.0\nServerName=/run/vnc.sock\n'), ['vm.tigervnc:2: ServerName: is a Unix socket path: RetroVisor connects over TCP only']);
    assert.deepEqual(problemsOf('TigerVNC Configuration file Version 1.0\nServerName=h::1\nvia=gateway\n'), [
      "vm.tigervnc:3: via: an SSH gateway (via) is not imported: define the gateway as an L0 and set the replica's vnc.tunnel",
    ]);
  });
});
