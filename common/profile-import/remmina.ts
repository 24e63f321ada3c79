// Remmina connection files (.remmina): a GLib key file whose [remmina] group has protocol=VNC,
// server=host:port and name. Remmina keeps passwords encrypted with its own per-user key (or in the
// system keyring, password=.): they are never decrypted here, only reported as not imported. Pure.

import { DEFAULT_VNC_PORT, hostProblem, parsePortText, type ImportProblem, type ParsedImport } from './import-types';
import { groupValueReader, readKeyFile } from './key-file';

/** Below this, a number after "host:" is a VNC display (5900 + n), as VNC clients read it. */
const MAX_DISPLAY_NUMBER = 99;

/** Splits Remmina's server value: "host", "host:port", "[v6]:port"; a problem message when malformed. */
function splitServer(server: string): { host: string; port: number } | string {
  let host = server;
  let portText: string | undefined;
  if (server.startsWith('[')) {
    const close = server.indexOf(']');
    if (close < 0) return 'has "[" without "]" around an IPv6 address';
    host = server.slice(1, close);
    const rest = server.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':')) return 'expected ":port" after "]"';
    portText = rest === '' ? undefined : rest.slice(1);
  } else {
    const colon = server.lastIndexOf(':');
    if (colon >= 0 && server.indexOf(':') === colon) {
      host = server.slice(0, colon);
      portText = server.slice(colon + 1);
    }
  }
  let port = DEFAULT_VNC_PORT;
  if (portText !== undefined) {
    const parsed = parsePortText(portText);
    if (typeof parsed === 'string') return `the port ${parsed}`;
    port = parsed <= MAX_DISPLAY_NUMBER ? DEFAULT_VNC_PORT + parsed : parsed;
  }
  const problem = hostProblem(host);
  return problem ?? { host, port };
}

/** Parses a .remmina file's text; `source` names it in problems and notices. */
export function parseRemminaFile(text: string, source: string): ParsedImport {
  const file = readKeyFile(text, source, { semicolonComments: true });
  if (!file.ok) return file;
  const group = file.groups.find((candidate) => candidate.name === 'remmina');
  if (group === undefined) return { ok: false, problems: [{ source, message: 'no [remmina] group: this is not a Remmina connection file' }] };
  const problems: ImportProblem[] = [];
  const notices: string[] = [];
  const read = groupValueReader(group, source, problems);
  const protocol = read('protocol');
  if (protocol === undefined) problems.push({ source, line: group.line, key: 'protocol', message: 'is missing: it must be VNC' });
  else if (protocol.text !== 'VNC') {
    const message =
      protocol.text === 'VNCI'
        ? 'is VNCI (a listening, reverse connection): RetroVisor connects to servers, it does not listen'
        : `is ${protocol.text.slice(0, 20)}: only VNC connections can be imported`;
    problems.push({ source, line: protocol.line, key: 'protocol', message });
  }
  const server = read('server');
  let endpoint: { host: string; port: number } | undefined;
  if (server === undefined || server.text === '') {
    problems.push({ source, line: server?.line ?? group.line, key: 'server', message: 'is missing: the VNC server as host:port' });
  } else {
    const split = splitServer(server.text);
    if (typeof split === 'string') problems.push({ source, line: server.line, key: 'server', message: split });
    else endpoint = split;
  }
  const tunnel = read('ssh_tunnel_enabled');
  if (tunnel !== undefined && tunnel.text !== '0' && tunnel.text !== '' && tunnel.text !== 'false') {
    problems.push({ source, line: tunnel.line, key: 'ssh_tunnel_enabled', message: 'the connection goes through an SSH tunnel: define the SSH host as an L0 and set the replica\'s vnc.tunnel, then import again without the tunnel' });
  }
  const proxy = read('proxy');
  if (proxy !== undefined && proxy.text !== '') problems.push({ source, line: proxy.line, key: 'proxy', message: 'RetroVisor cannot connect through a VNC repeater or proxy' });
  const password = read('password');
  if (password !== undefined && password.text !== '') {
    notices.push(
      password.text === '.'
        ? `${source}: the password is in Remmina's keyring entry and was not imported; you will be asked at connect time`
        : `${source}: the password is encrypted with Remmina's own key and was not imported; you will be asked at connect time`,
    );
  }
  const name = read('name');
  if (problems.length > 0 || endpoint === undefined) return { ok: false, problems };
  const label = name === undefined || name.text.trim() === '' ? undefined : name.text.trim().slice(0, 80);
  return { ok: true, format: 'remmina', endpoints: [{ ...endpoint, ...(label === undefined ? {} : { label }) }], ...(label === undefined ? {} : { title: label }), notices };
}
