// virt-viewer / remote-viewer connection files (.vv), as oVirt, Proxmox and virt-manager users save
// them: a GLib key file whose [virt-viewer] group names type, host, port, password and title. Only
// type=vnc is imported; the [ovirt] group (engine address, SSO token) is never read. Pure.

import { hostProblem, parsePortText, type ImportProblem, type ParsedImport } from './import-types';
import { groupValueReader, readKeyFile } from './key-file';

/** Keys of [virt-viewer] that only tune the viewer: accepted and ignored. */
const VIEWER_ONLY_KEYS = new Set([
  'fullscreen', 'toggle-fullscreen', 'release-cursor', 'secure-attention', 'smartcard-insert', 'smartcard-remove',
  'enable-smartcard', 'enable-usbredir', 'enable-usb-autoshare', 'usb-filter', 'color-depth', 'disable-effects',
  'delete-this-file', 'versions', 'newer-version-url', 'zoom', 'hotkeys', 'version', 'disable-channels',
  'secure-channels', 'tls-ciphers', 'ca', 'host-subject', 'kiosk', 'kiosk-quit', 'monitor-mapping', 'keymap',
]);

const LABEL_MAX = 80;

/** A window title as a replica label: oVirt's "%d" placeholders and "- Press ... to release" hints removed. */
function titleLabel(title: string): string | undefined {
  const cleaned = title.replace(/%d/g, '').replace(/\s*-\s*Press .*$/i, '').replace(/[:\s-]+$/, '').trim();
  return cleaned === '' ? undefined : cleaned.slice(0, LABEL_MAX);
}

/** Parses a .vv file's text; `source` names it in problems and notices. */
export function parseVirtViewerFile(text: string, source: string): ParsedImport {
  const file = readKeyFile(text, source);
  if (!file.ok) return file;
  const group = file.groups.find((candidate) => candidate.name === 'virt-viewer');
  if (group === undefined) {
    const line = file.groups[0]?.line ?? file.ungrouped[0]?.line;
    return { ok: false, problems: [{ source, ...(line === undefined ? {} : { line }), message: 'no [virt-viewer] group: this is not a virt-viewer connection file' }] };
  }
  const problems: ImportProblem[] = [];
  const notices: string[] = [];
  const value = groupValueReader(group, source, problems);
  for (const entry of file.ungrouped) problems.push({ source, line: entry.line, key: entry.key, message: 'is outside any group: keys go under [virt-viewer]' });

  const type = value('type');
  if (type === undefined) problems.push({ source, line: group.line, key: 'type', message: 'is missing: it must be "vnc"' });
  else if (type.text !== 'vnc') {
    problems.push({
      source,
      line: type.entry.line,
      key: 'type',
      message: type.text === 'spice' ? 'is "spice": RetroVisor speaks VNC only (set the VM\'s graphics to VNC)' : `must be "vnc", found "${type.text.slice(0, 40)}"`,
    });
  }
  const host = value('host');
  if (host === undefined) problems.push({ source, line: group.line, key: 'host', message: 'is missing: the VNC server\'s host name or address' });
  else {
    const problem = hostProblem(host.text);
    if (problem !== null) problems.push({ source, line: host.entry.line, key: 'host', message: problem });
  }
  const portEntry = value('port');
  let port: number | undefined;
  if (portEntry === undefined) {
    const tls = group.entries.get('tls-port');
    problems.push({ source, line: tls?.line ?? group.line, key: 'port', message: tls === undefined ? 'is missing: the VNC server\'s TCP port' : 'is missing (only tls-port is given, which VNC does not use)' });
  } else {
    const parsed = parsePortText(portEntry.text);
    if (typeof parsed === 'string') problems.push({ source, line: portEntry.entry.line, key: 'port', message: parsed });
    else port = parsed;
  }
  const proxy = value('proxy');
  if (proxy !== undefined && proxy.text !== '') {
    problems.push({ source, line: proxy.entry.line, key: 'proxy', message: 'RetroVisor cannot connect through a proxy; reach the server directly or through an L0 tunnel' });
  }
  const username = value('username');
  if (username !== undefined && username.text !== '') notices.push(`${source}: username is not used (VNC password authentication has no user name)`);
  for (const key of group.entries.keys()) {
    if (!['type', 'host', 'port', 'tls-port', 'password', 'title', 'proxy', 'username'].includes(key) && !VIEWER_ONLY_KEYS.has(key)) {
      notices.push(`${source}: ${key} is not used by RetroVisor (ignored)`);
    }
  }
  const password = value('password');
  const title = value('title');
  if (problems.length > 0 || host === undefined || port === undefined) return { ok: false, problems };
  const label = title === undefined ? undefined : titleLabel(title.text);
  return {
    ok: true,
    format: 'virt-viewer',
    endpoints: [{ host: host.text, port, ...(label === undefined ? {} : { label }), ...(password === undefined || password.text === '' ? {} : { password: password.text }) }],
    ...(label === undefined ? {} : { title: label }),
    notices,
  };
}
