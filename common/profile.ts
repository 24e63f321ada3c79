// Connection profiles: the JSON a user writes, its typed form, and the validator that turns one
// into the other with one message per problem. Pure: runs in the back end, the renderer and tests.

import { CONFIRM_MS, SETTLE_MS } from './divergence';
import { checkUnknownKeys, describe, isObject, readInteger, type Json } from './json-fields';
import { isKeyringSlot } from './keyring-slot';
import { describeJsonSyntaxError } from './json-syntax';
import { DOMAIN_NAME_PATTERN, LIBVIRT_URI_PATTERN, validateL0Name } from './l0';
import { checkRemediationTargets, readRemediation, type RemediationSettings } from './remediation/remediation-settings';

/**
 * A secret given inline, read from an environment variable, read from a file (first line), or saved
 * in the desktop keyring under one of the profile's slots (common/keyring-slot.ts).
 */
export type SecretRef =
  | { readonly kind: 'inline'; readonly value: string }
  | { readonly kind: 'env'; readonly name: string }
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'keyring'; readonly slot: string };

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

/** A framebuffer rectangle never compared (a clock, a host name that differs by design). */
export interface IgnoreRegion {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  /** Shown next to the region's outline on the composite. */
  readonly label?: string;
}

/** How far pixels may differ and still count as equal (the engine's Tolerance). */
export interface DivergenceTolerance {
  readonly maxChannelDelta: number;
  readonly maxDifferingPixelsPerTile: number;
}

/** A profile's divergence detection settings (docs/profiles.md, "divergence"), defaults filled in. */
export interface DivergenceSettings {
  /** false: the session's screens are not compared at all (no engine, no canvas reads). */
  readonly enabled: boolean;
  /** null: exact comparison. */
  readonly tolerance: DivergenceTolerance | null;
  readonly ignoreRegions: readonly IgnoreRegion[];
  readonly settleMs: number;
  readonly confirmMs: number;
}

/** Profile schema versions this RetroVisor reads; it writes PROFILE_VERSION. */
export type ProfileVersion = 1 | 2;
/** The version RetroVisor writes (a v1 document is migrated to it by migrateProfile). */
export const PROFILE_VERSION = 2;

/**
 * What a profile saved in the library carries besides its content (schema v2, all optional in a
 * file written by hand or exported): its id (the file's name), its revision (raised by every save,
 * checked against the one the saver started from) and when it was created and last saved.
 */
export interface LibraryFields {
  readonly id?: string;
  readonly revision?: number;
  /** ISO 8601 times. */
  readonly createdAt?: string;
  readonly updatedAt?: string;
}

export interface Profile extends LibraryFields {
  /** The document's version as written; the typed form is the same for every version. */
  readonly version: ProfileVersion;
  readonly name: string;
  readonly replicas: readonly ReplicaConfig[];
  readonly l0: Readonly<Record<string, L0Config>>;
  /** Always set by the validator; absent only in profiles built by hand (then DEFAULT_DIVERGENCE_SETTINGS). */
  readonly divergence?: DivergenceSettings;
  /** Always set by the validator; absent only in profiles built by hand (then DEFAULT_REMEDIATION_SETTINGS). */
  readonly remediation?: RemediationSettings;
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

/** Most ignore regions one profile names: masks are for a clock or a host name, not a mosaic. */
export const MAX_IGNORE_REGIONS = 32;
/** Largest coordinate or side of an ignore region: past any desktop a VNC server sends. */
export const MAX_REGION_COORDINATE_PX = 16_384;
/** Bounds of the settle window: below 50 ms a lagging replica is flagged; above 10 s nothing is timely. */
export const MIN_SETTLE_MS = 50;
export const MAX_SETTLE_MS = 10_000;
export const MAX_CONFIRM_MS = 60_000;
/** A tile is 16×16 = 256 pixels: allowing 256 differing pixels would never flag anything. */
export const MAX_DIFFERING_PIXELS_PER_TILE = 255;
const MAX_REGION_LABEL_LENGTH = 80;

/** Comparison on, exact, nothing ignored, the engine's own timing (SETTLE_MS, CONFIRM_MS). */
export const DEFAULT_DIVERGENCE_SETTINGS: DivergenceSettings = {
  enabled: true,
  tolerance: null,
  ignoreRegions: [],
  settleMs: SETTLE_MS,
  confirmMs: CONFIRM_MS,
};

/** A profile's divergence settings, defaults for a profile built without them. */
export function divergenceSettingsOf(profile: Profile): DivergenceSettings {
  return profile.divergence ?? DEFAULT_DIVERGENCE_SETTINGS;
}

// Identifiers end up in file names, JSON events and (later) virsh argument vectors: keep them plain.
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
// A host name or an IP literal: no spaces, quotes, shell metacharacters or leading dash.
const HOST_PATTERN = /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})|\[?[0-9A-Fa-f:.]{2,45}\]?)$/;
/** Whether `host` is a host name or IP literal a profile accepts (importers check hosts with it). */
export function isValidHost(host: string): boolean {
  return HOST_PATTERN.test(host);
}
const USER_PATTERN = /^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/;
// Domain names and libvirt URIs reach virsh command lines: the same rules as the L0 driver (common/l0.ts).
const DOMAIN_PATTERN = DOMAIN_NAME_PATTERN;
const URI_PATTERN = LIBVIRT_URI_PATTERN;
const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
const FINGERPRINT_PATTERN = /^SHA256:[A-Za-z0-9+/]{43}$/;


class ProblemCollector {
  readonly problems: ProfileProblem[] = [];
  add(path: string, message: string): void {
    this.problems.push({ path, message });
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

// A secret field's value is never quoted in a problem (not even its type's value): a password pasted
// where a variable name or a path was expected must not reach a terminal, a log or the UI.
function readSecret(value: Json, path: string, problems: ProblemCollector): SecretRef | undefined {
  if (typeof value === 'string') return { kind: 'inline', value };
  if (isObject(value)) {
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === 'env') {
      if (typeof value.env !== 'string' || !ENV_NAME_PATTERN.test(value.env)) {
        problems.add(`${path}.env`, 'must be the name of an environment variable: letters, digits and "_", not starting with a digit (the value is not shown: it may be a secret)');
        return undefined;
      }
      return { kind: 'env', name: value.env };
    }
    if (keys.length === 1 && keys[0] === 'file') {
      if (typeof value.file !== 'string' || value.file.length === 0) {
        problems.add(`${path}.file`, 'must be the path of the file holding the secret, a non-empty string (the value is not shown: it may be a secret)');
        return undefined;
      }
      return { kind: 'file', path: value.file };
    }
    if (keys.length === 1 && keys[0] === 'keyring') {
      if (typeof value.keyring !== 'string' || !isKeyringSlot(value.keyring)) {
        problems.add(`${path}.keyring`, 'must be a keyring slot such as "replica/r1/vnc": 1 to 4 names of letters, digits, "_", "." or "-" separated by "/" (the value is not shown: it may be a secret)');
        return undefined;
      }
      return { kind: 'keyring', slot: value.keyring };
    }
  }
  problems.add(path, 'must be a string, {"env": "NAME"}, {"file": "/path"} or {"keyring": "slot"} (the value is not shown: it may be a secret)');
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
      : readString(value.uri, `${path}.uri`, problems, URI_PATTERN, 'a libvirt URI such as qemu:///system or qemu+ssh://user@host/system (no "?", "&", "%", quotes or spaces)');
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
  // A number or a UUID would make virsh pick a domain by id or UUID: maybe another one.
  const domainProblem = domain === undefined ? null : validateL0Name('domain', domain);
  if (domainProblem !== null) problems.add(`${path}.domain`, domainProblem);
  if (id === undefined || label === undefined || vnc === undefined) return undefined;
  return {
    id,
    label,
    vnc,
    ...(l0 === undefined ? {} : { l0 }),
    ...(domain === undefined ? {} : { domain }),
  };
}

function readTolerance(value: Json, path: string, problems: ProblemCollector): DivergenceTolerance | null | undefined {
  if (value === null) return null;
  if (!isObject(value)) {
    problems.add(path, `must be null (exact comparison) or an object like {"maxChannelDelta": 8, "maxDifferingPixelsPerTile": 0}, found ${describe(value)}`);
    return undefined;
  }
  checkUnknownKeys(value, ['maxChannelDelta', 'maxDifferingPixelsPerTile'], path, problems);
  let maxChannelDelta: number | undefined;
  if (value.maxChannelDelta === undefined) {
    problems.add(`${path}.maxChannelDelta`, 'is required: the largest difference, 0 to 255, on any of R, G, B of a pixel that still counts as equal');
  } else {
    maxChannelDelta = readInteger(value.maxChannelDelta, `${path}.maxChannelDelta`, problems, 0, 255, 'a colour channel difference');
  }
  const maxDifferingPixelsPerTile =
    value.maxDifferingPixelsPerTile === undefined
      ? 0
      : readInteger(value.maxDifferingPixelsPerTile, `${path}.maxDifferingPixelsPerTile`, problems, 0, MAX_DIFFERING_PIXELS_PER_TILE, 'a pixel count per 16×16 tile');
  if (maxChannelDelta === undefined || maxDifferingPixelsPerTile === undefined) return undefined;
  return { maxChannelDelta, maxDifferingPixelsPerTile };
}

function readIgnoreRegion(value: Json, path: string, problems: ProblemCollector): IgnoreRegion | undefined {
  if (!isObject(value)) {
    problems.add(path, `must be an object like {"x": 0, "y": 0, "width": 80, "height": 16, "label": "clock"}, found ${describe(value)}`);
    return undefined;
  }
  checkUnknownKeys(value, ['x', 'y', 'width', 'height', 'label'], path, problems);
  const x = readInteger(value.x, `${path}.x`, problems, 0, MAX_REGION_COORDINATE_PX - 1, 'a framebuffer column');
  const y = readInteger(value.y, `${path}.y`, problems, 0, MAX_REGION_COORDINATE_PX - 1, 'a framebuffer row');
  const width = readInteger(value.width, `${path}.width`, problems, 1, MAX_REGION_COORDINATE_PX, 'a width in pixels');
  const height = readInteger(value.height, `${path}.height`, problems, 1, MAX_REGION_COORDINATE_PX, 'a height in pixels');
  const label = value.label === undefined ? undefined : readString(value.label, `${path}.label`, problems);
  if (label !== undefined && label.length > MAX_REGION_LABEL_LENGTH) problems.add(`${path}.label`, `must be at most ${MAX_REGION_LABEL_LENGTH} characters`);
  if (x === undefined || y === undefined || width === undefined || height === undefined) return undefined;
  return label === undefined ? { x, y, width, height } : { x, y, width, height, label };
}

function readDivergence(value: Json, path: string, problems: ProblemCollector): DivergenceSettings | undefined {
  if (value === undefined) return DEFAULT_DIVERGENCE_SETTINGS;
  if (!isObject(value)) {
    problems.add(path, `must be an object like {"enabled": true, "tolerance": null, "ignoreRegions": []}, found ${describe(value)}`);
    return undefined;
  }
  checkUnknownKeys(value, ['enabled', 'tolerance', 'ignoreRegions', 'settleMs', 'confirmMs'], path, problems);
  const defaults = DEFAULT_DIVERGENCE_SETTINGS;
  let enabled: boolean | undefined = defaults.enabled;
  if (value.enabled !== undefined) {
    if (typeof value.enabled === 'boolean') enabled = value.enabled;
    else {
      problems.add(`${path}.enabled`, `must be true (compare the replicas' screens) or false (do not), found ${describe(value.enabled)}`);
      enabled = undefined;
    }
  }
  const tolerance = value.tolerance === undefined ? defaults.tolerance : readTolerance(value.tolerance, `${path}.tolerance`, problems);
  let ignoreRegions: IgnoreRegion[] | undefined = [];
  if (value.ignoreRegions !== undefined) {
    if (!Array.isArray(value.ignoreRegions)) {
      problems.add(`${path}.ignoreRegions`, `must be an array of rectangles, found ${describe(value.ignoreRegions)}`);
      ignoreRegions = undefined;
    } else if (value.ignoreRegions.length > MAX_IGNORE_REGIONS) {
      problems.add(`${path}.ignoreRegions`, `must hold at most ${MAX_IGNORE_REGIONS} regions, found ${value.ignoreRegions.length}`);
      ignoreRegions = undefined;
    } else {
      const regions = value.ignoreRegions.map((entry: Json, index: number) => readIgnoreRegion(entry, `${path}.ignoreRegions[${index}]`, problems));
      ignoreRegions = regions.every((region) => region !== undefined) ? regions : undefined;
    }
  }
  const settleMs = value.settleMs === undefined ? defaults.settleMs : readInteger(value.settleMs, `${path}.settleMs`, problems, MIN_SETTLE_MS, MAX_SETTLE_MS, 'a time in milliseconds');
  const confirmMs = value.confirmMs === undefined ? defaults.confirmMs : readInteger(value.confirmMs, `${path}.confirmMs`, problems, 0, MAX_CONFIRM_MS, 'a time in milliseconds');
  if (enabled === undefined || tolerance === undefined || ignoreRegions === undefined || settleMs === undefined || confirmMs === undefined) return undefined;
  return { enabled, tolerance, ignoreRegions, settleMs, confirmMs };
}

/** A library id: a file-safe name (letters, digits, "_" and "-"; no dots, so never ".." or a hidden file). */
export const PROFILE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
/** Most revisions a profile counts (far beyond any real number of saves; keeps the number exact). */
const MAX_REVISION = Number.MAX_SAFE_INTEGER;
/** An ISO 8601 UTC time as Date.toISOString writes it. */
const ISO_TIME_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?Z$/;
/** Longest profile name: it is shown in lists and title bars. */
export const MAX_PROFILE_NAME_LENGTH = 200;

const V1_KEYS = ['version', 'name', 'replicas', 'l0', 'divergence', 'remediation'];
const LIBRARY_KEYS = ['id', 'revision', 'createdAt', 'updatedAt'];

/**
 * Migrates a version 1 document to version 2: the version changes, everything else is kept (v2 only
 * adds optional fields). Pure; returns a new object and leaves any other document as it is.
 */
export function migrateProfile(document: Json): Json {
  if (!isObject(document) || document.version !== 1) return document;
  return { ...document, version: PROFILE_VERSION };
}

function readLibraryFields(document: Record<string, Json>, problems: ProblemCollector): LibraryFields {
  const fields: { id?: string; revision?: number; createdAt?: string; updatedAt?: string } = {};
  if (document.id !== undefined) {
    const id = readString(document.id, '$.id', problems, PROFILE_ID_PATTERN, 'letters, digits, "_" or "-", at most 64 (it is the library file\'s name)');
    if (id !== undefined) fields.id = id;
  }
  if (document.revision !== undefined) {
    const revision = readInteger(document.revision, '$.revision', problems, 1, MAX_REVISION, 'a revision number');
    if (revision !== undefined) fields.revision = revision;
  }
  for (const key of ['createdAt', 'updatedAt'] as const) {
    if (document[key] === undefined) continue;
    const time = readString(document[key], `$.${key}`, problems, ISO_TIME_PATTERN, 'an ISO 8601 UTC time such as 2030-01-02T03:04:05.000Z');
    if (time !== undefined) fields[key] = time;
  }
  return fields;
}

/**
 * Validates a parsed profile document (version 1 or 2); every problem is reported, each with its JSON
 * path. The library fields of version 2 (id, revision, createdAt, updatedAt) are refused in a v1 document.
 */
export function validateProfile(document: Json): ProfileValidation {
  const problems = new ProblemCollector();
  if (!isObject(document)) {
    return { ok: false, problems: [{ path: '$', message: `a profile must be a JSON object, found ${describe(document)}` }] };
  }
  const version = document.version;
  if (version !== 1 && version !== 2) {
    const newer = typeof version === 'number' && Number.isInteger(version) && version > PROFILE_VERSION;
    problems.add(
      '$.version',
      newer
        ? `is ${version}: this profile was written by a newer RetroVisor (this one reads versions 1 and 2)`
        : `must be 1 or 2 (the profile versions this RetroVisor reads), found ${describe(version)}`,
    );
  }
  checkUnknownKeys(document, version === 1 ? V1_KEYS : [...V1_KEYS, ...LIBRARY_KEYS], '$', problems);
  const library = version === 1 ? {} : readLibraryFields(document, problems);
  const name = readString(document.name, '$.name', problems);
  if (name !== undefined && name.length > MAX_PROFILE_NAME_LENGTH) problems.add('$.name', `must be at most ${MAX_PROFILE_NAME_LENGTH} characters`);

  const l0: Record<string, L0Config> = {};
  if (document.l0 !== undefined) {
    if (!isObject(document.l0)) {
      problems.add('$.l0', `must be an object mapping names to L0 hosts, found ${describe(document.l0)}`);
    } else {
      for (const [key, entry] of Object.entries(document.l0)) {
        const path = `$.l0.${key}`;
        if (!ID_PATTERN.test(key)) problems.add(path, 'the L0 name must be letters, digits, "_", "." or "-"');
        const config = readL0(entry, path, problems);
        // Only valid names become keys: "__proto__" would otherwise replace the map's prototype.
        if (config && ID_PATTERN.test(key)) l0[key] = config;
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
      if (replica.l0 !== undefined && isObject(document.l0) && !Object.hasOwn(document.l0, replica.l0)) {
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

  const divergence = readDivergence(document.divergence, '$.divergence', problems);
  const remediation = readRemediation(document.remediation, '$.remediation', problems);
  if (remediation !== undefined) checkRemediationTargets(remediation, document.replicas, '$.replicas', problems);

  if (problems.problems.length > 0 || name === undefined || divergence === undefined || remediation === undefined) {
    return { ok: false, problems: problems.problems };
  }
  return { ok: true, profile: { version: version === 1 ? 1 : 2, ...library, name, replicas, l0, divergence, remediation } };
}

/** Parses profile text (JSON) and validates it; a syntax error is one problem at "$". */
export function parseProfileText(text: string): ProfileValidation {
  if (text.length > MAX_PROFILE_BYTES) {
    return { ok: false, problems: [{ path: '$', message: `the file is ${text.length} bytes; a profile is at most ${MAX_PROFILE_BYTES}` }] };
  }
  let document: Json;
  try {
    document = JSON.parse(text) as Json;
  } catch {
    // Never JSON.parse's message: it quotes the text around the error, and the file may be anything.
    return { ok: false, problems: [{ path: '$', message: `not valid JSON: ${describeJsonSyntaxError(text)}` }] };
  }
  return validateProfile(document);
}

/** Formats problems one per line, as the CLI and the UI show them. */
export function formatProblems(problems: readonly ProfileProblem[]): string {
  return problems.map((problem) => `${problem.path}: ${problem.message}`).join('\n');
}

/** A file a profile names by a path relative to the profile's own folder. */
export interface FolderRelativeFile {
  /** The JSON path of the field ("$.replicas[2].vnc.password.file"). */
  readonly path: string;
  /** What the file is, in words: "password file", "SSH key file", "SSH passphrase file". */
  readonly what: string;
  readonly file: string;
}

/** True for a path that means something only next to the profile: not absolute, not "~" or "~/...". */
export function isFolderRelativePath(file: string): boolean {
  return !(file.startsWith('/') || file === '~' || file.startsWith('~/') || /^[A-Za-z]:[\\/]/.test(file) || file.startsWith('\\\\'));
}

/**
 * Every file the profile names relative to its own folder (password files, SSH keys and passphrase
 * files): a profile whose folder is unknown (dropped or picked in a browser) cannot use them.
 */
export function folderRelativeFiles(profile: Profile): FolderRelativeFile[] {
  const found: FolderRelativeFile[] = [];
  profile.replicas.forEach((replica, index) => {
    const password = replica.vnc.password;
    if (password?.kind === 'file' && isFolderRelativePath(password.path)) {
      found.push({ path: `$.replicas[${index}].vnc.password.file`, what: 'password file', file: password.path });
    }
  });
  for (const [name, l0] of Object.entries(profile.l0)) {
    if (l0.kind !== 'ssh') continue;
    const { identityFile, passphrase } = l0.ssh;
    if (identityFile !== undefined && isFolderRelativePath(identityFile)) found.push({ path: `$.l0.${name}.ssh.identityFile`, what: 'SSH key file', file: identityFile });
    if (passphrase?.kind === 'file' && isFolderRelativePath(passphrase.path)) {
      found.push({ path: `$.l0.${name}.ssh.passphrase.file`, what: 'SSH passphrase file', file: passphrase.path });
    }
  }
  return found;
}
