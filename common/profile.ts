// Connection profiles: the JSON a user writes, its typed form, and the validator that turns one
// into the other with one message per problem. Pure: runs in the back end, the renderer and tests.

/** A secret given inline, read from an environment variable, or read from a file (first line). */
export type SecretRef =
  | { readonly kind: 'inline'; readonly value: string }
  | { readonly kind: 'env'; readonly name: string }
  | { readonly kind: 'file'; readonly path: string };

export interface VncEndpoint {
  readonly host: string;
  readonly port: number;
  readonly password?: SecretRef;
  /** Reach host:port through the replica's L0 over SSH (host is then resolved on the L0 side). */
  readonly tunnel: boolean;
}

export interface ReplicaConfig {
  readonly id: string;
  readonly label: string;
  readonly vnc: VncEndpoint;
  /** Key into Profile.l0; required when vnc.tunnel is true. */
  readonly l0?: string;
  /** The libvirt domain name of this replica on its L0. */
  readonly domain?: string;
}

export interface SshTarget {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly identityFile?: string;
  readonly passphrase?: SecretRef;
  /** Pinned host key, OpenSSH fingerprint form: "SHA256:<base64 without padding>". */
  readonly hostKey: string;
}

export type L0Config =
  | { readonly kind: 'ssh'; readonly ssh: SshTarget; readonly uri: string }
  | { readonly kind: 'simulated' };

export interface Profile {
  readonly version: 1;
  readonly name: string;
  readonly replicas: readonly ReplicaConfig[];
  readonly l0: Readonly<Record<string, L0Config>>;
}

/** One problem found in a profile, with the JSON path of the offending value ("$.replicas[1].vnc.port"). */
export interface ProfileProblem {
  readonly path: string;
  readonly message: string;
}

export type ProfileValidation =
  | { readonly ok: true; readonly profile: Profile }
  | { readonly ok: false; readonly problems: readonly ProfileProblem[] };

export const MIN_REPLICAS = 1;
export const MAX_REPLICAS = 8;
/** Profiles are small; a bigger file is a mistake (or an attack), not a profile. */
export const MAX_PROFILE_BYTES = 1024 * 1024;

// Identifiers end up in file names, JSON events and (later) virsh argument vectors: keep them plain.
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
// A host name or an IP literal: no spaces, quotes, shell metacharacters or leading dash.
const HOST_PATTERN = /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})|\[?[0-9A-Fa-f:.]{2,45}\]?)$/;
const USER_PATTERN = /^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/;
const DOMAIN_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.+:-]{0,127}$/;
const URI_PATTERN = /^[a-z][a-z0-9+]*:\/\/[A-Za-z0-9_.:@/[\]?=&%+-]*$/;
const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
const FINGERPRINT_PATTERN = /^SHA256:[A-Za-z0-9+/]{43}$/;

type Json = unknown;

class ProblemCollector {
  readonly problems: ProfileProblem[] = [];
  add(path: string, message: string): void {
    this.problems.push({ path, message });
  }
}

function isObject(value: Json): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: Json): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.slice(0, 40))}`;
  return `${typeof value} ${JSON.stringify(value)}`.slice(0, 60);
}

function checkUnknownKeys(
  value: Record<string, Json>,
  allowed: readonly string[],
  path: string,
  problems: ProblemCollector,
): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      problems.add(`${path}.${key}`, `unknown field; expected one of: ${allowed.join(', ')}`);
    }
  }
}

function readString(
  value: Json,
  path: string,
  problems: ProblemCollector,
  pattern?: RegExp,
  patternHint?: string,
): string | undefined {
  if (typeof value !== 'string') {
    problems.add(path, `must be a string, found ${describe(value)}`);
    return undefined;
  }
  if (value.length === 0) {
    problems.add(path, 'must not be empty');
    return undefined;
  }
  if (pattern && !pattern.test(value)) {
    problems.add(path, `${JSON.stringify(value.slice(0, 80))} is not valid: ${patternHint ?? 'bad format'}`);
    return undefined;
  }
  return value;
}

function readPort(value: Json, path: string, problems: ProblemCollector): number | undefined {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65535) {
    problems.add(path, `must be a TCP port, an integer from 1 to 65535, found ${describe(value)}`);
    return undefined;
  }
  return value;
}

function readSecret(value: Json, path: string, problems: ProblemCollector): SecretRef | undefined {
  if (typeof value === 'string') return { kind: 'inline', value };
  if (isObject(value)) {
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === 'env') {
      const name = readString(value.env, `${path}.env`, problems, ENV_NAME_PATTERN, 'an environment variable name');
      return name === undefined ? undefined : { kind: 'env', name };
    }
    if (keys.length === 1 && keys[0] === 'file') {
      const filePath = readString(value.file, `${path}.file`, problems);
      return filePath === undefined ? undefined : { kind: 'file', path: filePath };
    }
  }
  problems.add(path, 'must be a string, {"env": "NAME"} or {"file": "/path"}');
  return undefined;
}

function readVnc(value: Json, path: string, problems: ProblemCollector): VncEndpoint | undefined {
  if (!isObject(value)) {
    problems.add(path, `must be an object like {"host": "127.0.0.1", "port": 5901}, found ${describe(value)}`);
    return undefined;
  }
  checkUnknownKeys(value, ['host', 'port', 'password', 'tunnel'], path, problems);
  const host = readString(value.host, `${path}.host`, problems, HOST_PATTERN, 'a host name or IP address');
  const port = readPort(value.port, `${path}.port`, problems);
  const password = value.password === undefined ? undefined : readSecret(value.password, `${path}.password`, problems);
  let tunnel = false;
  if (value.tunnel !== undefined) {
    if (typeof value.tunnel !== 'boolean') problems.add(`${path}.tunnel`, `must be true or false, found ${describe(value.tunnel)}`);
    else tunnel = value.tunnel;
  }
  if (host === undefined || port === undefined) return undefined;
  return password === undefined ? { host, port, tunnel } : { host, port, password, tunnel };
}

function readSsh(value: Json, path: string, problems: ProblemCollector): SshTarget | undefined {
  if (!isObject(value)) {
    problems.add(path, `must be an object with host, port, user and hostKey, found ${describe(value)}`);
    return undefined;
  }
  checkUnknownKeys(value, ['host', 'port', 'user', 'identityFile', 'passphrase', 'hostKey'], path, problems);
  const host = readString(value.host, `${path}.host`, problems, HOST_PATTERN, 'a host name or IP address');
  const port = value.port === undefined ? 22 : readPort(value.port, `${path}.port`, problems);
  const user = readString(value.user, `${path}.user`, problems, USER_PATTERN, 'a plain user name');
  const identityFile =
    value.identityFile === undefined ? undefined : readString(value.identityFile, `${path}.identityFile`, problems);
  const passphrase =
    value.passphrase === undefined ? undefined : readSecret(value.passphrase, `${path}.passphrase`, problems);
  let hostKey: string | undefined;
  if (value.hostKey === undefined) {
    problems.add(
      `${path}.hostKey`,
      'is required: pin the L0 host key, e.g. the SHA256:... line printed by `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` on the L0',
    );
  } else {
    hostKey = readString(value.hostKey, `${path}.hostKey`, problems, FINGERPRINT_PATTERN, 'an OpenSSH fingerprint "SHA256:" followed by 43 base64 characters');
  }
  if (host === undefined || port === undefined || user === undefined || hostKey === undefined) return undefined;
  return {
    host,
    port,
    user,
    hostKey,
    ...(identityFile === undefined ? {} : { identityFile }),
    ...(passphrase === undefined ? {} : { passphrase }),
  };
}

function readL0(value: Json, path: string, problems: ProblemCollector): L0Config | undefined {
  if (!isObject(value)) {
    problems.add(path, `must be an object with "ssh" and "uri", found ${describe(value)}`);
    return undefined;
  }
  if (value.simulated !== undefined) {
    checkUnknownKeys(value, ['simulated'], path, problems);
    if (value.simulated !== true) problems.add(`${path}.simulated`, 'must be true when present');
    return { kind: 'simulated' };
  }
  checkUnknownKeys(value, ['ssh', 'uri'], path, problems);
  const ssh = readSsh(value.ssh, `${path}.ssh`, problems);
  const uri =
    value.uri === undefined
      ? 'qemu:///system'
      : readString(value.uri, `${path}.uri`, problems, URI_PATTERN, 'a libvirt URI such as qemu:///system');
  if (ssh === undefined || uri === undefined) return undefined;
  return { kind: 'ssh', ssh, uri };
}

function readReplica(
  value: Json,
  path: string,
  problems: ProblemCollector,
): ReplicaConfig | undefined {
  if (!isObject(value)) {
    problems.add(path, `must be an object with id and vnc, found ${describe(value)}`);
    return undefined;
  }
  checkUnknownKeys(value, ['id', 'label', 'vnc', 'l0', 'domain'], path, problems);
  const id = readString(value.id, `${path}.id`, problems, ID_PATTERN, 'letters, digits, "_", "." or "-", at most 64');
  const label = value.label === undefined ? id : readString(value.label, `${path}.label`, problems);
  if (label !== undefined && label.length > 80) problems.add(`${path}.label`, 'must be at most 80 characters');
  const vnc = readVnc(value.vnc, `${path}.vnc`, problems);
  const l0 = value.l0 === undefined ? undefined : readString(value.l0, `${path}.l0`, problems, ID_PATTERN, 'the name of an entry in "l0"');
  const domain =
    value.domain === undefined
      ? undefined
      : readString(value.domain, `${path}.domain`, problems, DOMAIN_PATTERN, 'a libvirt domain name (letters, digits, "_.+:-", not starting with "-")');
  if (id === undefined || label === undefined || vnc === undefined) return undefined;
  return {
    id,
    label,
    vnc,
    ...(l0 === undefined ? {} : { l0 }),
    ...(domain === undefined ? {} : { domain }),
  };
}

/** Validates a parsed profile document; every problem is reported, each with its JSON path. */
export function validateProfile(document: Json): ProfileValidation {
  const problems = new ProblemCollector();
  if (!isObject(document)) {
    return { ok: false, problems: [{ path: '$', message: `a profile must be a JSON object, found ${describe(document)}` }] };
  }
  checkUnknownKeys(document, ['version', 'name', 'replicas', 'l0'], '$', problems);
  if (document.version !== 1) {
    problems.add('$.version', `must be 1 (the only profile version this RetroVisor reads), found ${describe(document.version)}`);
  }
  const name = readString(document.name, '$.name', problems);

  const l0: Record<string, L0Config> = {};
  if (document.l0 !== undefined) {
    if (!isObject(document.l0)) {
      problems.add('$.l0', `must be an object mapping names to L0 hosts, found ${describe(document.l0)}`);
    } else {
      for (const [key, entry] of Object.entries(document.l0)) {
        const path = `$.l0.${key}`;
        if (!ID_PATTERN.test(key)) problems.add(path, 'the L0 name must be letters, digits, "_", "." or "-"');
        const config = readL0(entry, path, problems);
        if (config) l0[key] = config;
      }
    }
  }

  const replicas: ReplicaConfig[] = [];
  if (!Array.isArray(document.replicas)) {
    problems.add('$.replicas', `must be an array of ${MIN_REPLICAS} to ${MAX_REPLICAS} replicas, found ${describe(document.replicas)}`);
  } else {
    if (document.replicas.length < MIN_REPLICAS || document.replicas.length > MAX_REPLICAS) {
      problems.add('$.replicas', `must hold ${MIN_REPLICAS} to ${MAX_REPLICAS} replicas, found ${document.replicas.length}`);
    }
    const seenIds = new Set<string>();
    document.replicas.slice(0, MAX_REPLICAS * 4).forEach((entry: Json, index: number) => {
      const path = `$.replicas[${index}]`;
      // Duplicates are checked on the raw ids, so a replica with other problems still claims its id.
      const rawId = isObject(entry) && typeof entry.id === 'string' ? entry.id : undefined;
      if (rawId !== undefined) {
        if (seenIds.has(rawId)) problems.add(`${path}.id`, `"${rawId.slice(0, 64)}" is used by another replica; ids must be unique`);
        seenIds.add(rawId);
      }
      const replica = readReplica(entry, path, problems);
      if (!replica) return;
      if (replica.l0 !== undefined && isObject(document.l0) && !(replica.l0 in document.l0)) {
        problems.add(`${path}.l0`, `names "${replica.l0}", which is not defined in $.l0`);
      }
      if (replica.vnc.tunnel && replica.l0 === undefined) {
        problems.add(`${path}.vnc.tunnel`, 'a tunnelled replica needs "l0": the SSH host to tunnel through');
      }
      if (replica.vnc.tunnel && replica.l0 !== undefined && l0[replica.l0]?.kind === 'simulated') {
        problems.add(`${path}.vnc.tunnel`, `"${replica.l0}" is a simulated L0 and cannot carry an SSH tunnel`);
      }
      replicas.push(replica);
    });
  }

  if (problems.problems.length > 0 || name === undefined) {
    return { ok: false, problems: problems.problems };
  }
  return { ok: true, profile: { version: 1, name, replicas, l0 } };
}

/** Parses profile text (JSON) and validates it; a syntax error is one problem at "$". */
export function parseProfileText(text: string): ProfileValidation {
  if (text.length > MAX_PROFILE_BYTES) {
    return { ok: false, problems: [{ path: '$', message: `the file is ${text.length} bytes; a profile is at most ${MAX_PROFILE_BYTES}` }] };
  }
  let document: Json;
  try {
    document = JSON.parse(text) as Json;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { ok: false, problems: [{ path: '$', message: `not valid JSON: ${reason}` }] };
  }
  return validateProfile(document);
}

/** Formats problems one per line, as the CLI and the UI show them. */
export function formatProblems(problems: readonly ProfileProblem[]): string {
  return problems.map((problem) => `${problem.path}: ${problem.message}`).join('\n');
}
