// The virsh command lines RetroVisor may run on an L0: an allow-list of verbs, each with fixed flags,
// every name checked (common/l0.ts validateL0Name) BEFORE anything is built, and POSIX single-quoting
// for the remote shell that parses the SSH exec request. Pure; lives in main/ beside the driver.

import { L0Error, validateL0Name } from '../../common/l0';

/** The virsh verbs RetroVisor runs; nothing else can be built. */
export type VirshVerb =
  | 'domstate'
  | 'start'
  | 'destroy'
  | 'reset'
  | 'reboot'
  | 'domdisplay'
  | 'list'
  | 'snapshot-create-as'
  | 'snapshot-revert'
  | 'snapshot-list'
  | 'snapshot-delete';

/** The names each verb takes. */
export interface VirshVerbArguments {
  readonly domstate: { readonly domain: string };
  readonly start: { readonly domain: string };
  readonly destroy: { readonly domain: string };
  readonly reset: { readonly domain: string };
  readonly reboot: { readonly domain: string };
  readonly domdisplay: { readonly domain: string };
  readonly list: Record<string, never>;
  readonly 'snapshot-create-as': { readonly domain: string; readonly snapshot: string };
  readonly 'snapshot-revert': { readonly domain: string; readonly snapshot: string };
  readonly 'snapshot-list': { readonly domain: string };
  readonly 'snapshot-delete': { readonly domain: string; readonly snapshot: string };
}

interface VerbSpec {
  /** Query verbs connect read-only (`--readonly`): least privilege, and they work on libvirt's read-only socket. */
  readonly readOnly: boolean;
  readonly build: (names: { readonly domain: string; readonly snapshot: string }) => readonly string[];
}

// Names go after an explicit option (--domain, --name, --snapshotname), never as bare positionals,
// so virsh never has to guess which argument is which.
const VERBS: Readonly<Record<VirshVerb, VerbSpec>> = {
  // --reason: "shut off (destroyed)" tells a crash from an operator's destroy.
  domstate: { readOnly: true, build: ({ domain }) => ['domstate', '--reason', '--domain', domain] },
  start: { readOnly: false, build: ({ domain }) => ['start', '--domain', domain] },
  destroy: { readOnly: false, build: ({ domain }) => ['destroy', '--domain', domain] },
  reset: { readOnly: false, build: ({ domain }) => ['reset', '--domain', domain] },
  reboot: { readOnly: false, build: ({ domain }) => ['reboot', '--domain', domain] },
  domdisplay: { readOnly: true, build: ({ domain }) => ['domdisplay', '--domain', domain] },
  // The table (not --name): it carries each domain's state.
  list: { readOnly: true, build: () => ['list', '--all'] },
  // A full system checkpoint: "--memspec snapshot=internal" demands the memory state (QEMU savevm,
  // stored with the internal qcow2 disk snapshot) instead of relying on the default, and makes libvirt
  // refuse a shut-off domain rather than take a disk-only snapshot that cannot resume where the
  // others are. --atomic: it succeeds whole or leaves nothing behind (virsh(1), snapshot-create-as).
  'snapshot-create-as': {
    readOnly: false,
    build: ({ domain, snapshot }) => ['snapshot-create-as', '--domain', domain, '--name', snapshot, '--atomic', '--memspec', 'snapshot=internal'],
  },
  // --running: the domain runs afterwards whatever state the checkpoint recorded (virsh(1),
  // snapshot-revert: "--running or --paused ... perform additional state changes"). No --force:
  // libvirt's refusals of risky reverts (incompatible configuration) stay refusals.
  'snapshot-revert': {
    readOnly: false,
    build: ({ domain, snapshot }) => ['snapshot-revert', '--domain', domain, '--snapshotname', snapshot, '--running'],
  },
  // virsh sorts snapshot lists by NAME unless --topological (parents before children) is given; the
  // table's creation time then orders them oldest first (see parseSnapshotList in virsh-l0.ts).
  'snapshot-list': { readOnly: true, build: ({ domain }) => ['snapshot-list', '--domain', domain, '--topological'] },
  // Never --children: that would delete every later checkpoint along with this one.
  'snapshot-delete': { readOnly: false, build: ({ domain, snapshot }) => ['snapshot-delete', '--domain', domain, '--snapshotname', snapshot] },
};

/** Every verb of the allow-list. */
export const VIRSH_VERBS: readonly VirshVerb[] = Object.keys(VERBS) as VirshVerb[];

/**
 * In front of every command. `env LC_ALL=C`: virsh translates its messages and state names, and the
 * driver reads both.
 */
const ENVIRONMENT_PREFIX = ['env', 'LC_ALL=C'] as const;
/** virsh and its global options. --quiet drops table headers and "Domain … started" lines. */
const VIRSH_PROGRAM = ['virsh', '--quiet'] as const;
/** After the remote deadline's SIGTERM, how long virsh has before `timeout` sends SIGKILL. */
export const REMOTE_KILL_AFTER_SECONDS = 5;
/** Longest remote deadline: a day is past any snapshot of any guest. */
const MAX_REMOTE_TIMEOUT_SECONDS = 86_400;

/** Options of virshArgv. */
export interface VirshArgvOptions {
  /**
   * Wraps virsh in `timeout -k 5 SECONDS` (coreutils or BusyBox) on the L0, so the L0 itself ends a
   * virsh that outlives its deadline: an SSH "signal" request is not honoured for every login (OpenSSH
   * refuses it for root sessions), and closing the channel alone leaves the process running.
   */
  readonly remoteTimeoutSeconds?: number;
}

/**
 * The argv of `[timeout …] virsh --connect URI VERB ARGS` for one allow-listed verb. Throws L0Error
 * 'invalid-argument' when the URI or a name is not acceptable (nothing is built then).
 */
export function virshArgv<V extends VirshVerb>(uri: string, verb: V, args: VirshVerbArguments[V], options: VirshArgvOptions = {}): string[] {
  const spec = Object.prototype.hasOwnProperty.call(VERBS, verb) ? VERBS[verb] : undefined;
  if (spec === undefined) throw new L0Error('invalid-argument', `virsh verb ${JSON.stringify(String(verb).slice(0, 40))} is not allowed`);
  const names = args as { domain?: unknown; snapshot?: unknown };
  const uriProblem = validateL0Name('uri', uri);
  if (uriProblem !== null) throw new L0Error('invalid-argument', uriProblem);
  let domain = '';
  let snapshot = '';
  if (verb !== 'list') {
    const domainProblem = validateL0Name('domain', names.domain);
    if (domainProblem !== null) throw new L0Error('invalid-argument', domainProblem);
    domain = names.domain as string;
  }
  if (verb === 'snapshot-create-as' || verb === 'snapshot-revert' || verb === 'snapshot-delete') {
    const snapshotProblem = validateL0Name('snapshot', names.snapshot);
    if (snapshotProblem !== null) throw new L0Error('invalid-argument', snapshotProblem, { domain });
    snapshot = names.snapshot as string;
  }
  const seconds = options.remoteTimeoutSeconds;
  if (seconds !== undefined && !(Number.isInteger(seconds) && seconds >= 1 && seconds <= MAX_REMOTE_TIMEOUT_SECONDS)) {
    throw new L0Error('invalid-argument', `a remote timeout must be a whole number of seconds from 1 to ${MAX_REMOTE_TIMEOUT_SECONDS}, not ${String(seconds)}`);
  }
  const deadline = seconds === undefined ? [] : ['timeout', '-k', String(REMOTE_KILL_AFTER_SECONDS), String(seconds)];
  // Always more than one word after the options: virsh reads a single word as a command STRING
  // (split on ";" and spaces), several words as an argv.
  return [...ENVIRONMENT_PREFIX, ...deadline, ...VIRSH_PROGRAM, ...(spec.readOnly ? ['--readonly'] : []), '--connect', uri, ...spec.build({ domain, snapshot })];
}

/** Where "virsh" stands in an argv from virshArgv (after `env LC_ALL=C` and any `timeout …`). */
export function virshProgramIndex(argv: readonly string[]): number {
  return argv.indexOf(VIRSH_PROGRAM[0]);
}

/** True for the verbs that only read (they connect with --readonly). */
export function isReadOnlyVerb(verb: VirshVerb): boolean {
  return VERBS[verb].readOnly;
}

/**
 * One argument quoted for a POSIX shell: inside single quotes nothing is special, and a single
 * quote is written as '\'' (close, escaped quote, reopen). Throws on a NUL byte, which no argv can hold.
 */
export function shellQuote(argument: string): string {
  if (argument.includes('\0')) throw new L0Error('invalid-argument', 'an argument cannot contain a NUL byte');
  return `'${argument.replace(/'/g, `'\\''`)}'`;
}

/** The command line an SSH exec request carries: every argument quoted, joined by spaces. */
export function commandLine(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}
