// vnc:// URIs (RFC 7869): vnc://[user[:password]@]host[:port][?name=value&...], the port a TCP port
// (default 5900), values percent-encoded. ConnectionName names the replica, VncPassword (or the
// password in the user information) is a secret kept apart. Pure.

import { DEFAULT_VNC_PORT, hostProblem, parsePortText, type ImportProblem, type ParsedImport } from './import-types';

/** RFC 7869's parameters; any other is reported as ignored. */
const KNOWN_PARAMETERS = [
  'ConnectionName', 'VncUsername', 'VncPassword', 'SecurityType', 'ChannelType', 'SshHost', 'SshPort', 'SshUsername',
  'SshPassword', 'IdHashAlgorithm', 'IdHash', 'ColorLevel', 'ViewOnly', 'SaveConnection',
];
/** ChannelType 1: a plain TCP connection (23 and 24 are tunnels RetroVisor does not make from a URI). */
const STANDARD_TCP_CHANNEL = '1';

/** A URI as shown in messages: its user information (which may hold a password) left out. */
export function uriForMessages(uri: string): string {
  return uri.replace(/^(vnc:\/\/)[^@/?#]*@/i, '$1…@').replace(/([?&](?:VncPassword|SshPassword)=)[^&#]*/gi, '$1…');
}

function decode(text: string): string | null {
  try {
    return decodeURIComponent(text);
  } catch {
    return null;
  }
}

/** Parses one vnc:// URI. */
export function parseVncUri(uri: string): ParsedImport {
  const source = uriForMessages(uri.trim());
  const problems: ImportProblem[] = [];
  const notices: string[] = [];
  const fail = (message: string, key?: string): ParsedImport => ({ ok: false, problems: [{ source, ...(key === undefined ? {} : { key }), message }] });
  const trimmed = uri.trim();
  if (!/^vnc:\/\//i.test(trimmed)) return fail('must start with vnc://');
  const rest = trimmed.slice('vnc://'.length).replace(/#.*$/, '');
  const query = rest.indexOf('?');
  const authority = (query < 0 ? rest : rest.slice(0, query)).replace(/\/$/, '');
  if (authority.includes('/')) return fail('has a path after the host: a vnc URI is vnc://host:port?parameters');
  const at = authority.lastIndexOf('@');
  const userInfo = at < 0 ? undefined : authority.slice(0, at);
  const hostPort = at < 0 ? authority : authority.slice(at + 1);
  let hostText = hostPort;
  let portText: string | undefined;
  if (hostPort.startsWith('[')) {
    const close = hostPort.indexOf(']');
    if (close < 0) return fail('has "[" without "]" around an IPv6 address', 'host');
    hostText = hostPort.slice(1, close);
    const after = hostPort.slice(close + 1);
    if (after !== '' && !after.startsWith(':')) return fail('expected ":port" after "]"', 'port');
    portText = after === '' ? undefined : after.slice(1);
  } else if (hostPort.includes(':')) {
    hostText = hostPort.slice(0, hostPort.indexOf(':'));
    portText = hostPort.slice(hostPort.indexOf(':') + 1);
  }
  const host = decode(hostText);
  if (host === null || host === '') return fail(host === null ? 'has a malformed %-escape' : 'names no host: RetroVisor connects to a server, vnc://host:port', 'host');
  const hostMessage = hostProblem(host);
  if (hostMessage !== null) problems.push({ source, key: 'host', message: hostMessage });
  let port = DEFAULT_VNC_PORT;
  if (portText !== undefined && portText !== '') {
    const parsed = parsePortText(portText);
    if (typeof parsed === 'string') problems.push({ source, key: 'port', message: parsed });
    else port = parsed;
  }
  let password: string | undefined;
  if (userInfo !== undefined) {
    const colon = userInfo.indexOf(':');
    const user = decode(colon < 0 ? userInfo : userInfo.slice(0, colon));
    const secret = colon < 0 ? undefined : decode(userInfo.slice(colon + 1));
    if (user === null || secret === null) problems.push({ source, key: 'userinfo', message: 'has a malformed %-escape' });
    if (user !== null && user !== '') notices.push(`${source}: the user name is not used (VNC password authentication has no user name)`);
    if (secret !== undefined && secret !== null && secret !== '') password = secret;
  }
  let label: string | undefined;
  const seen = new Set<string>();
  for (const pair of query < 0 ? [] : rest.slice(query + 1).split('&').filter((part) => part !== '')) {
    const equals = pair.indexOf('=');
    const rawName = equals < 0 ? pair : pair.slice(0, equals);
    const name = KNOWN_PARAMETERS.find((known) => known.toLowerCase() === rawName.toLowerCase());
    const value = decode(equals < 0 ? '' : pair.slice(equals + 1));
    if (value === null) {
      problems.push({ source, key: rawName, message: 'has a malformed %-escape' });
      continue;
    }
    if (name === undefined) {
      notices.push(`${source}: parameter ${rawName.slice(0, 40)} is not used by RetroVisor (ignored)`);
      continue;
    }
    if (seen.has(name)) {
      problems.push({ source, key: name, message: 'appears twice: keep one' });
      continue;
    }
    seen.add(name);
    switch (name) {
      case 'ConnectionName':
        if (value.trim() !== '') label = value.trim().slice(0, 80);
        break;
      case 'VncPassword':
        if (value !== '') password = value;
        break;
      case 'VncUsername':
        if (value !== '') notices.push(`${source}: VncUsername is not used (VNC password authentication has no user name)`);
        break;
      case 'ChannelType':
        if (value !== STANDARD_TCP_CHANNEL) {
          problems.push({ source, key: name, message: `is ${value.slice(0, 20)}: only ChannelType 1 (standard TCP) is imported; for an SSH tunnel define an L0 and set vnc.tunnel` });
        }
        break;
      case 'SshHost':
      case 'SshPort':
      case 'SshUsername':
      case 'SshPassword':
        if (value !== '') notices.push(`${source}: ${name} is not imported (SSH tunnels go through an L0 with a pinned host key)`);
        break;
      default:
        notices.push(`${source}: ${name} is not used by RetroVisor (ignored)`);
    }
  }
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    format: 'vnc-uri',
    endpoints: [{ host, port, ...(label === undefined ? {} : { label }), ...(password === undefined ? {} : { password }) }],
    ...(label === undefined ? {} : { title: label }),
    notices,
  };
}
