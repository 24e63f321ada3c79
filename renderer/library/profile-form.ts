// The profile editor's form model: plain strings and flags per field, built from a profile document
// and turned back into one, plus the mapping of the validator's JSON-path problems onto the form's
// fields. Pure (no DOM, no React): runs in the renderer and in plain Node tests.

import { MAX_REPLICAS, PROFILE_VERSION, type ProfileProblem } from '../../common/profile';

/** How a secret field is given: not at all, typed here, from a variable, from a file, or already in the keyring. */
export type SecretKind = 'none' | 'typed' | 'env' | 'file' | 'keyring';

/** A secret as the form holds it: `value` is the typed text, the variable's name, the file's path or the keyring slot. */
export interface SecretField {
  readonly kind: SecretKind;
  readonly value: string;
}

/** One replica as the form holds it (numbers as typed, so a wrong one reaches the validator as typed). */
export interface ReplicaForm {
  /** Stable across edits (React key), never saved. */
  readonly key: string;
  readonly id: string;
  readonly label: string;
  readonly host: string;
  readonly port: string;
  readonly password: SecretField;
  readonly tunnel: boolean;
  /** The L0's name, '' for none. */
  readonly l0: string;
  readonly domain: string;
}

/** One L0 host as the form holds it. */
export interface L0Form {
  readonly key: string;
  readonly name: string;
  /** The built-in demo lab's simulated L0: kept as it is, nothing to edit. */
  readonly simulated: boolean;
  readonly host: string;
  /** '' for the default, 22. */
  readonly port: string;
  readonly user: string;
  readonly identityFile: string;
  readonly passphrase: SecretField;
  readonly hostKey: string;
  /** '' for the default, qemu:///system. */
  readonly uri: string;
}

/** One ignored rectangle of the divergence settings. */
export interface IgnoreRegionForm {
  readonly key: string;
  readonly x: string;
  readonly y: string;
  readonly width: string;
  readonly height: string;
  readonly label: string;
}

/** The divergence settings; '' in a number field means "the default". */
export interface DivergenceForm {
  readonly enabled: boolean;
  readonly toleranceEnabled: boolean;
  readonly maxChannelDelta: string;
  readonly maxDifferingPixelsPerTile: string;
  readonly settleMs: string;
  readonly confirmMs: string;
  readonly ignoreRegions: readonly IgnoreRegionForm[];
}

/** The remediation settings; '' means "the default". `ladder` is a comma-separated list of rungs. */
export interface RemediationForm {
  readonly mode: string;
  readonly outlierMs: string;
  readonly ladder: string;
  readonly rungTimeoutMs: string;
  readonly checkpointEveryMs: string;
  readonly checkpointKeep: string;
  readonly maxRemediationsPerHour: string;
  readonly backoffMs: string;
}

/** The whole form. */
export interface ProfileForm {
  readonly name: string;
  readonly replicas: readonly ReplicaForm[];
  readonly l0: readonly L0Form[];
  readonly divergence: DivergenceForm;
  readonly remediation: RemediationForm;
}

/** A JSON value as the form builds it. */
export type JsonValue = string | number | boolean | null | readonly JsonValue[] | JsonObject;
/** A JSON object as the form builds it. */
export type JsonObject = { [key: string]: JsonValue };

let keyCounter = 0;
/** A fresh React key for a new row. */
export function newRowKey(): string {
  keyCounter += 1;
  return `row-${keyCounter}`;
}

const NO_SECRET: SecretField = { kind: 'none', value: '' };

/** The first "rN" no replica uses. */
export function nextReplicaId(replicas: readonly Pick<ReplicaForm, 'id'>[]): string {
  const used = new Set(replicas.map((replica) => replica.id));
  for (let index = 1; ; index += 1) if (!used.has(`r${index}`)) return `r${index}`;
}

/** The first "l0-N" no L0 uses. */
export function nextL0Name(hosts: readonly Pick<L0Form, 'name'>[]): string {
  const used = new Set(hosts.map((host) => host.name));
  for (let index = 1; ; index += 1) if (!used.has(`l0-${index}`)) return `l0-${index}`;
}

/** An empty replica row with the next free id. */
export function emptyReplica(replicas: readonly Pick<ReplicaForm, 'id'>[]): ReplicaForm {
  return { key: newRowKey(), id: nextReplicaId(replicas), label: '', host: '', port: '', password: NO_SECRET, tunnel: false, l0: '', domain: '' };
}

/** An empty L0 row with the next free name. */
export function emptyL0(hosts: readonly Pick<L0Form, 'name'>[]): L0Form {
  return { key: newRowKey(), name: nextL0Name(hosts), simulated: false, host: '', port: '', user: '', identityFile: '', passphrase: NO_SECRET, hostKey: '', uri: '' };
}

/** An empty ignore-region row. */
export function emptyIgnoreRegion(): IgnoreRegionForm {
  return { key: newRowKey(), x: '', y: '', width: '', height: '', label: '' };
}

const EMPTY_REMEDIATION: RemediationForm = {
  mode: 'observe',
  outlierMs: '',
  ladder: '',
  rungTimeoutMs: '',
  checkpointEveryMs: '',
  checkpointKeep: '',
  maxRemediationsPerHour: '',
  backoffMs: '',
};

/** A new profile's form: no name, one empty replica, default settings. */
export function emptyForm(): ProfileForm {
  return {
    name: '',
    replicas: [emptyReplica([])],
    l0: [],
    divergence: { enabled: true, toleranceEnabled: false, maxChannelDelta: '', maxDifferingPixelsPerTile: '', settleMs: '', confirmMs: '', ignoreRegions: [] },
    remediation: EMPTY_REMEDIATION,
  };
}

function objectOf(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return '';
}

function secretOf(value: unknown): SecretField {
  if (value === undefined || value === null) return NO_SECRET;
  if (typeof value === 'string') return { kind: 'typed', value };
  const object = objectOf(value);
  if (typeof object.env === 'string') return { kind: 'env', value: object.env };
  if (typeof object.file === 'string') return { kind: 'file', value: object.file };
  if (typeof object.keyring === 'string') return { kind: 'keyring', value: object.keyring };
  return NO_SECRET;
}

/**
 * The form for a profile document (as getSavedProfile answers it). Fields the form does not know
 * are not kept: the validator refuses unknown fields, so a saved profile has none.
 */
export function formFromDocument(document: unknown): ProfileForm {
  const root = objectOf(document);
  const replicas = Array.isArray(root.replicas) ? root.replicas : [];
  const hosts = objectOf(root.l0);
  const divergence = objectOf(root.divergence);
  const tolerance = divergence.tolerance === null || divergence.tolerance === undefined ? null : objectOf(divergence.tolerance);
  const remediation = objectOf(root.remediation);
  const checkpoint = objectOf(remediation.checkpoint);
  return {
    name: textOf(root.name),
    replicas: replicas.map((entry): ReplicaForm => {
      const replica = objectOf(entry);
      const vnc = objectOf(replica.vnc);
      return {
        key: newRowKey(),
        id: textOf(replica.id),
        label: textOf(replica.label),
        host: textOf(vnc.host),
        port: textOf(vnc.port),
        password: secretOf(vnc.password),
        tunnel: vnc.tunnel === true,
        l0: textOf(replica.l0),
        domain: textOf(replica.domain),
      };
    }),
    l0: Object.entries(hosts).map(([name, entry]): L0Form => {
      const host = objectOf(entry);
      const ssh = objectOf(host.ssh);
      return {
        key: newRowKey(),
        name,
        simulated: host.simulated === true,
        host: textOf(ssh.host),
        port: textOf(ssh.port),
        user: textOf(ssh.user),
        identityFile: textOf(ssh.identityFile),
        passphrase: secretOf(ssh.passphrase),
        hostKey: textOf(ssh.hostKey),
        uri: textOf(host.uri),
      };
    }),
    divergence: {
      enabled: divergence.enabled !== false,
      toleranceEnabled: tolerance !== null,
      maxChannelDelta: tolerance === null ? '' : textOf(tolerance.maxChannelDelta),
      maxDifferingPixelsPerTile: tolerance === null ? '' : textOf(tolerance.maxDifferingPixelsPerTile),
      settleMs: textOf(divergence.settleMs),
      confirmMs: textOf(divergence.confirmMs),
      ignoreRegions: (Array.isArray(divergence.ignoreRegions) ? divergence.ignoreRegions : []).map((entry): IgnoreRegionForm => {
        const region = objectOf(entry);
        return { key: newRowKey(), x: textOf(region.x), y: textOf(region.y), width: textOf(region.width), height: textOf(region.height), label: textOf(region.label) };
      }),
    },
    remediation: {
      mode: typeof remediation.mode === 'string' ? remediation.mode : 'observe',
      outlierMs: textOf(remediation.outlierMs),
      ladder: Array.isArray(remediation.ladder) ? remediation.ladder.map(textOf).join(', ') : '',
      rungTimeoutMs: textOf(remediation.rungTimeoutMs),
      checkpointEveryMs: textOf(checkpoint.everyMs),
      checkpointKeep: textOf(checkpoint.keep),
      maxRemediationsPerHour: textOf(remediation.maxRemediationsPerHour),
      backoffMs: textOf(remediation.backoffMs),
    },
  };
}

/**
 * A number field's value: absent when empty, a number when it reads as one, else the text as typed
 * (the validator then says "must be an integer…, found string").
 */
export function numberField(text: string): JsonValue | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  return /^-?\d+(?:\.\d+)?$/.test(trimmed) ? Number(trimmed) : trimmed;
}

function secretJson(secret: SecretField): JsonValue | undefined {
  switch (secret.kind) {
    case 'none':
      return undefined;
    case 'typed':
      // An empty typed password is no password (the server asks for one at connect time).
      return secret.value === '' ? undefined : secret.value;
    case 'env':
      return { env: secret.value };
    case 'file':
      return { file: secret.value };
    case 'keyring':
      return { keyring: secret.value };
  }
}



function put(target: JsonObject, key: string, value: JsonValue | undefined): void {
  if (value !== undefined) target[key] = value;
}

function textField(text: string): string | undefined {
  const trimmed = text.trim();
  return trimmed === '' ? undefined : trimmed;
}

/** What documentFromForm builds: the document, and problems only the form can see (two L0s of one name). */
export interface FormDocument {
  readonly document: JsonObject;
  readonly problems: readonly ProfileProblem[];
}

/** The profile document (schema version 2, without the library's fields) the form describes. */
export function documentFromForm(form: ProfileForm): FormDocument {
  const problems: ProfileProblem[] = [];
  const replicas = form.replicas.map((replica): JsonObject => {
    const vnc: JsonObject = {};
    // The host as typed (spaces included): the validator says what is wrong with it.
    put(vnc, 'host', replica.host === '' ? undefined : replica.host);
    put(vnc, 'port', numberField(replica.port));
    put(vnc, 'password', secretJson(replica.password));
    if (replica.tunnel) vnc.tunnel = true;
    const entry: JsonObject = { id: replica.id };
    put(entry, 'label', textField(replica.label));
    entry.vnc = vnc;
    put(entry, 'l0', replica.l0 === '' ? undefined : replica.l0);
    put(entry, 'domain', textField(replica.domain));
    return entry;
  });
  const hosts: JsonObject = {};
  for (const host of form.l0) {
    if (Object.prototype.hasOwnProperty.call(hosts, host.name)) {
      problems.push({ path: `$.l0.${host.name}`, message: `"${host.name}" names another L0 too; L0 names must be unique` });
      continue;
    }
    if (host.simulated) {
      hosts[host.name] = { simulated: true };
      continue;
    }
    const ssh: JsonObject = {};
    put(ssh, 'host', host.host === '' ? undefined : host.host);
    put(ssh, 'port', numberField(host.port));
    put(ssh, 'user', host.user === '' ? undefined : host.user);
    put(ssh, 'identityFile', textField(host.identityFile));
    put(ssh, 'passphrase', secretJson(host.passphrase));
    put(ssh, 'hostKey', textField(host.hostKey));
    const entry: JsonObject = { ssh };
    put(entry, 'uri', textField(host.uri));
    hosts[host.name] = entry;
  }
  const document: JsonObject = { version: PROFILE_VERSION, name: form.name, replicas };
  if (form.l0.length > 0) document.l0 = hosts;
  const divergence = divergenceJson(form.divergence);
  if (divergence !== undefined) document.divergence = divergence;
  const remediation = remediationJson(form.remediation);
  if (remediation !== undefined) document.remediation = remediation;
  return { document, problems };
}

function divergenceJson(form: DivergenceForm): JsonObject | undefined {
  const divergence: JsonObject = {};
  if (!form.enabled) divergence.enabled = false;
  if (form.toleranceEnabled) {
    const tolerance: JsonObject = {};
    // Required in the object: an empty one reaches the validator as missing, which says so.
    put(tolerance, 'maxChannelDelta', numberField(form.maxChannelDelta));
    put(tolerance, 'maxDifferingPixelsPerTile', numberField(form.maxDifferingPixelsPerTile));
    divergence.tolerance = tolerance;
  }
  if (form.ignoreRegions.length > 0) {
    divergence.ignoreRegions = form.ignoreRegions.map((region): JsonObject => {
      const entry: JsonObject = {};
      put(entry, 'x', numberField(region.x));
      put(entry, 'y', numberField(region.y));
      put(entry, 'width', numberField(region.width));
      put(entry, 'height', numberField(region.height));
      put(entry, 'label', textField(region.label));
      return entry;
    });
  }
  put(divergence, 'settleMs', numberField(form.settleMs));
  put(divergence, 'confirmMs', numberField(form.confirmMs));
  return Object.keys(divergence).length === 0 ? undefined : divergence;
}

function remediationJson(form: RemediationForm): JsonObject | undefined {
  const remediation: JsonObject = {};
  if (form.mode !== 'observe') remediation.mode = form.mode;
  put(remediation, 'outlierMs', numberField(form.outlierMs));
  const rungs = form.ladder
    .split(/[\s,]+/)
    .map((rung) => rung.trim())
    .filter((rung) => rung !== '');
  if (rungs.length > 0) remediation.ladder = rungs;
  put(remediation, 'rungTimeoutMs', numberField(form.rungTimeoutMs));
  const checkpoint: JsonObject = {};
  put(checkpoint, 'everyMs', numberField(form.checkpointEveryMs));
  put(checkpoint, 'keep', numberField(form.checkpointKeep));
  if (Object.keys(checkpoint).length > 0) remediation.checkpoint = checkpoint;
  put(remediation, 'maxRemediationsPerHour', numberField(form.maxRemediationsPerHour));
  put(remediation, 'backoffMs', numberField(form.backoffMs));
  return Object.keys(remediation).length === 0 ? undefined : remediation;
}

/** Whether another replica may be added (the schema allows 1 to MAX_REPLICAS). */
export function canAddReplica(form: ProfileForm): boolean {
  return form.replicas.length < MAX_REPLICAS;
}

/**
 * The JSON path of a problem one level up: "$.a.b[2]" → "$.a.b", "$.a.b" → "$.a", "$" → null.
 * L0 names are plain (letters, digits, "_ . -" but no "." in paths the validator writes as keys).
 */
export function parentPath(path: string): string | null {
  const match = /^(.*)(?:\.[^.[\]]+|\[\d+\])$/.exec(path);
  return match?.[1] === undefined || match[1] === '' ? null : match[1];
}

/** Problems grouped by the form field that shows them, and those no field shows (listed at the top). */
export interface PlacedProblems {
  readonly byField: ReadonlyMap<string, readonly string[]>;
  readonly unplaced: readonly ProfileProblem[];
}

/**
 * Maps each problem's JSON path onto the nearest field the form shows: the path itself, else its
 * parent, and so on ("$.replicas[1].vnc.password.env" → the password field "$.replicas[1].vnc.password").
 * A problem with no field on its way up to "$" is unplaced.
 */
export function problemsByField(problems: readonly ProfileProblem[], fieldPaths: ReadonlySet<string>): PlacedProblems {
  const byField = new Map<string, string[]>();
  const unplaced: ProfileProblem[] = [];
  for (const problem of problems) {
    let path: string | null = problem.path;
    while (path !== null && !fieldPaths.has(path)) path = parentPath(path);
    if (path === null) {
      unplaced.push(problem);
      continue;
    }
    const messages = byField.get(path) ?? [];
    messages.push(problem.path === path ? problem.message : `${problem.path.slice(path.length).replace(/^\./, '')}: ${problem.message}`);
    byField.set(path, messages);
  }
  return { byField, unplaced };
}

/** The JSON paths of every field the form shows for `form` (problemsByField's targets). */
export function formFieldPaths(form: ProfileForm): Set<string> {
  const paths = new Set<string>(['$.name', '$.replicas', '$.l0', '$.divergence', '$.remediation']);
  form.replicas.forEach((_, index) => {
    const base = `$.replicas[${index}]`;
    for (const suffix of ['', '.id', '.label', '.vnc.host', '.vnc.port', '.vnc.password', '.vnc.tunnel', '.l0', '.domain']) paths.add(base + suffix);
  });
  for (const host of form.l0) {
    const base = `$.l0.${host.name}`;
    for (const suffix of ['', '.ssh.host', '.ssh.port', '.ssh.user', '.ssh.identityFile', '.ssh.passphrase', '.ssh.hostKey', '.uri']) paths.add(base + suffix);
  }
  for (const suffix of ['.enabled', '.tolerance', '.tolerance.maxChannelDelta', '.tolerance.maxDifferingPixelsPerTile', '.settleMs', '.confirmMs', '.ignoreRegions']) {
    paths.add(`$.divergence${suffix}`);
  }
  form.divergence.ignoreRegions.forEach((_, index) => paths.add(`$.divergence.ignoreRegions[${index}]`));
  for (const suffix of ['.mode', '.outlierMs', '.ladder', '.rungTimeoutMs', '.checkpoint.everyMs', '.checkpoint.keep', '.maxRemediationsPerHour', '.backoffMs']) {
    paths.add(`$.remediation${suffix}`);
  }
  return paths;
}
