// TigerVNC connection files (.tigervnc), as vncviewer's "Save As..." writes them: the line
// "TigerVNC Configuration file Version 1.0", then name=value lines, ServerName=host::port or
// host:display among them. Names are case-insensitive, as vncviewer reads them. Pure.

import { parseEndpoint } from '../endpoint';
import { hostProblem, type ImportProblem, type ParsedImport } from './import-types';
import { decodeEscapes, readKeyFile } from './key-file';

/** The first line of every file vncviewer saves (it refuses a file without it). */
export const TIGERVNC_HEADER = 'TigerVNC Configuration file Version 1.0';

/** Parses a .tigervnc file's text; `source` names it in problems and notices. */
export function parseTigerVncFile(text: string, source: string): ParsedImport {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const firstLine = body.split(/\r?\n/, 1)[0] ?? '';
  if (!firstLine.startsWith(TIGERVNC_HEADER)) {
    return { ok: false, problems: [{ source, line: 1, message: `must be "${TIGERVNC_HEADER}": this is not a TigerVNC connection file` }] };
  }
  const file = readKeyFile(body, source, { firstLine: 2 });
  if (!file.ok) return file;
  const problems: ImportProblem[] = [];
  const notices: string[] = [];
  for (const group of file.groups) problems.push({ source, line: group.line, message: 'TigerVNC files have no [groups]' });
  const byName = new Map<string, { value: string; line: number; key: string }>();
  for (const entry of file.ungrouped) {
    const name = entry.key.toLowerCase();
    const earlier = byName.get(name);
    if (earlier !== undefined) {
      problems.push({ source, line: entry.line, key: entry.key, message: `appears twice (first on line ${earlier.line}): keep one` });
      continue;
    }
    byName.set(name, { value: entry.value, line: entry.line, key: entry.key });
  }
  const server = byName.get('servername');
  let endpoint: { host: string; port: number } | undefined;
  if (server === undefined) problems.push({ source, message: 'no ServerName line: the server to connect to (host:display or host::port)' });
  else {
    const decoded = decodeEscapes(server.value);
    if (typeof decoded !== 'string') problems.push({ source, line: server.line, key: server.key, message: `the value ${decoded.error}` });
    else if (decoded.trim() === '') problems.push({ source, line: server.line, key: server.key, message: 'is empty: the server to connect to (host:display or host::port)' });
    else if (decoded.startsWith('/')) problems.push({ source, line: server.line, key: server.key, message: 'is a Unix socket path: RetroVisor connects over TCP only' });
    else {
      const parsed = parseEndpoint(decoded);
      const problem = 'error' in parsed ? parsed.error : hostProblem(parsed.host);
      if (problem !== null) problems.push({ source, line: server.line, key: server.key, message: problem });
      else if (!('error' in parsed)) endpoint = parsed;
    }
  }
  const passwordFile = byName.get('passwordfile');
  if (passwordFile !== undefined && passwordFile.value !== '') {
    notices.push(`${source}: PasswordFile is not imported (it is in VNC's obfuscated format, not a password RetroVisor reads); you will be asked at connect time`);
  }
  const via = byName.get('via');
  if (via !== undefined && via.value !== '') {
    problems.push({ source, line: via.line, key: via.key, message: 'an SSH gateway (via) is not imported: define the gateway as an L0 and set the replica\'s vnc.tunnel' });
  }
  if (problems.length > 0 || endpoint === undefined) return { ok: false, problems };
  return { ok: true, format: 'tigervnc', endpoints: [endpoint], notices };
}
