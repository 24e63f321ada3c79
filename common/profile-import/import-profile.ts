// Import of other tools' connection files and vnc:// URIs as replicas of a new or an existing profile:
// each source's format found (by name, else by content), parsed strictly, and the replicas joined into
// one profile document. Passwords found travel inline in the returned document only as far as the
// library's save, which moves them to the keyring or drops them; `secretOrigins` says which file each
// came from. Pure.

import { isObject, type Json } from '../json-fields';
import { migrateProfile, parseProfileText, PROFILE_VERSION } from '../profile';
import { IMPORT_FORMAT_NAMES, formatImportProblem, type ImportFormat, type ImportProblem, type ParsedImport } from './import-types';
import { parseRemminaFile } from './remmina';
import { TIGERVNC_HEADER, parseTigerVncFile } from './tigervnc';
import { parseVirtViewerFile } from './virt-viewer';
import { parseVncUri, uriForMessages } from './vnc-uri';

/** One thing to import: a file's text (with its name) or a vnc:// URI. */
export type ImportInput = { readonly kind: 'file'; readonly name: string; readonly text: string } | { readonly kind: 'uri'; readonly uri: string };

export type AssembledImport =
  | {
      readonly ok: true;
      /** A profile document (version 2, no library fields); inline passwords are for the library's save only. */
      readonly document: Record<string, Json>;
      /** JSON path of each inline password → the source it came from (for the library's notices). */
      readonly secretOrigins: Readonly<Record<string, string>>;
      readonly notices: readonly string[];
    }
  | { readonly ok: false; readonly problems: readonly ImportProblem[] };

/** The format of a file: by its extension, else by its first meaningful line; null when unknown. */
export function detectFormat(name: string, text: string): ImportFormat | null {
  const lower = name.toLowerCase();
  if (lower.endsWith('.vv')) return 'virt-viewer';
  if (lower.endsWith('.tigervnc')) return 'tigervnc';
  if (lower.endsWith('.remmina')) return 'remmina';
  if (lower.endsWith('.json')) return 'retrovisor';
  const body = text.replace(/^\uFEFF/, '').trimStart();
  if (body.startsWith(TIGERVNC_HEADER)) return 'tigervnc';
  if (body.startsWith('{')) return 'retrovisor';
  const firstGroup = /^\s*\[([^\]]+)\]/m.exec(body)?.[1];
  if (firstGroup === 'virt-viewer') return 'virt-viewer';
  if (firstGroup === 'remmina') return 'remmina';
  return null;
}

/** A RetroVisor profile being imported: its document (migrated to v2, library fields left out). */
interface ParsedProfile {
  readonly ok: true;
  readonly format: 'retrovisor';
  readonly document: Record<string, Json>;
}

/** Parses one source in its format. */
export function parseImportInput(input: ImportInput): ParsedImport | ParsedProfile {
  if (input.kind === 'uri') return parseVncUri(input.uri);
  const format = detectFormat(input.name, input.text);
  switch (format) {
    case 'virt-viewer':
      return parseVirtViewerFile(input.text, input.name);
    case 'tigervnc':
      return parseTigerVncFile(input.text, input.name);
    case 'remmina':
      return parseRemminaFile(input.text, input.name);
    case 'retrovisor': {
      const validation = parseProfileText(input.text.replace(/^\uFEFF/, ''));
      if (!validation.ok) {
        return { ok: false, problems: validation.problems.map((problem) => ({ source: input.name, key: problem.path, message: problem.message })) };
      }
      const document = migrateProfile(JSON.parse(input.text.replace(/^\uFEFF/, '')) as Json) as Record<string, Json>;
      const { id: _id, revision: _revision, createdAt: _createdAt, updatedAt: _updatedAt, ...content } = document;
      return { ok: true, format: 'retrovisor', document: content };
    }
    case 'vnc-uri':
    case null:
      return {
        ok: false,
        problems: [{ source: input.name, message: `not a format RetroVisor imports: ${Object.values(IMPORT_FORMAT_NAMES).join(', ')} (by extension or content)` }],
      };
  }
}

/** The name of a source for messages (a URI's password left out). */
export function inputName(input: ImportInput): string {
  return input.kind === 'file' ? input.name : uriForMessages(input.uri);
}

/** A file name without its folder and extension: a name for a profile made from it. */
function baseName(name: string): string {
  const file = name.split(/[\\/]/).pop() ?? name;
  const dot = file.lastIndexOf('.');
  return dot > 0 ? file.slice(0, dot) : file;
}

/**
 * Joins the sources' replicas into one profile document. Without `into`: a new profile named `name`
 * (default: the one source's title or file name, else "imported"); a single RetroVisor profile is kept
 * whole. With `into` (an existing profile's document): its replicas come first, the new ones after.
 * Replica ids are r1, r2... (an imported profile's own ids are kept unless taken).
 */
export function assembleImport(inputs: readonly ImportInput[], options: { readonly name?: string; readonly into?: Record<string, Json> } = {}): AssembledImport {
  if (inputs.length === 0) return { ok: false, problems: [{ source: '(nothing)', message: 'name at least one file or vnc:// URI to import' }] };
  const parsed = inputs.map((input) => ({ input, result: parseImportInput(input) }));
  const problems = parsed.flatMap(({ result }) => (result.ok ? [] : result.problems));
  if (problems.length > 0) return { ok: false, problems };

  const notices: string[] = [];
  const secretOrigins: Record<string, string> = {};
  const only = parsed.length === 1 ? parsed[0]?.result : undefined;
  if (options.into === undefined && only?.ok === true && only.format === 'retrovisor' && 'document' in only) {
    const document: Record<string, Json> = { ...only.document, version: PROFILE_VERSION, ...(options.name === undefined ? {} : { name: options.name }) };
    const replicas = Array.isArray(document.replicas) ? document.replicas : [];
    replicas.forEach((replica: Json, index: number) => {
      if (isObject(replica) && isObject(replica.vnc) && typeof replica.vnc.password === 'string') secretOrigins[`$.replicas[${index}].vnc.password`] = inputName(parsed[0]!.input);
    });
    return { ok: true, document, secretOrigins, notices };
  }

  const base: Record<string, Json> = options.into === undefined ? { version: PROFILE_VERSION, name: '', replicas: [] } : { ...options.into, version: PROFILE_VERSION };
  const replicas: Json[] = Array.isArray(base.replicas) ? [...(base.replicas as Json[])] : [];
  const l0: Record<string, Json> = isObject(base.l0) ? { ...base.l0 } : {};
  const taken = new Set(replicas.map((replica) => (isObject(replica) && typeof replica.id === 'string' ? replica.id : '')));
  const freshId = (wanted?: string): string => {
    if (wanted !== undefined && !taken.has(wanted)) {
      taken.add(wanted);
      return wanted;
    }
    let number = replicas.length + 1;
    while (taken.has(`r${number}`)) number += 1;
    taken.add(`r${number}`);
    return `r${number}`;
  };
  for (const { input, result } of parsed) {
    if (!result.ok) continue;
    const source = inputName(input);
    if ('document' in result) {
      // A RetroVisor profile joined with others: its replicas, and the L0 entries they name.
      const theirL0 = isObject(result.document.l0) ? result.document.l0 : {};
      for (const replica of Array.isArray(result.document.replicas) ? result.document.replicas : []) {
        if (!isObject(replica)) continue;
        const copy: Record<string, Json> = { ...replica, id: freshId(typeof replica.id === 'string' ? replica.id : undefined) };
        if (typeof replica.l0 === 'string') {
          const entry = theirL0[replica.l0];
          if (l0[replica.l0] !== undefined && JSON.stringify(l0[replica.l0]) !== JSON.stringify(entry)) {
            return { ok: false, problems: [{ source, key: `$.l0.${replica.l0}`, message: `names an L0 "${replica.l0}" that the profile already has with other settings: rename one of them` }] };
          }
          l0[replica.l0] = entry;
        }
        if (isObject(copy.vnc) && typeof copy.vnc.password === 'string') secretOrigins[`$.replicas[${replicas.length}].vnc.password`] = source;
        replicas.push(copy);
      }
      if (result.document.remediation !== undefined || result.document.divergence !== undefined) {
        notices.push(`${source}: its divergence and remediation settings are not joined into another profile (only its replicas are)`);
      }
      continue;
    }
    notices.push(...result.notices);
    for (const endpoint of result.endpoints) {
      const id = freshId();
      const shownHost = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
      if (endpoint.password !== undefined) secretOrigins[`$.replicas[${replicas.length}].vnc.password`] = source;
      replicas.push({
        id,
        label: endpoint.label ?? `${shownHost}:${endpoint.port}`,
        vnc: { host: endpoint.host, port: endpoint.port, ...(endpoint.password === undefined ? {} : { password: endpoint.password }) },
      });
    }
  }
  const single = parsed.length === 1 ? parsed[0] : undefined;
  const title = single?.result.ok === true && 'title' in single.result ? single.result.title : undefined;
  const name =
    options.name ??
    (options.into !== undefined && typeof base.name === 'string'
      ? base.name
      : (title ?? (single?.input.kind === 'file' ? baseName(single.input.name) : 'imported')));
  const document: Record<string, Json> = { ...base, name, replicas };
  if (Object.keys(l0).length > 0) document.l0 = l0;
  return { ok: true, document, secretOrigins, notices };
}

/** Import problems as lines for a terminal or a notice. */
export function formatImportProblems(problems: readonly ImportProblem[]): string {
  return problems.map(formatImportProblem).join('\n');
}
