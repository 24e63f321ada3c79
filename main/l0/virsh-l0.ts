// The real L0 driver: virsh run over the L0's pooled SSH connection, one allow-listed command per
// operation, virsh's failures mapped to L0Error codes with virsh's own words, every command reported
// to an audit callback, one operation at a time per domain. Runs in the Node back end.

import {
  L0Error,
  type DomainListing,
  type DomainState,
  type DomainStateDetail,
  type L0Driver,
  type L0ErrorCode,
} from '../../common/l0';
import { clipText, escapeControl } from '../../common/terminal-text';
import { SshL0Error, type L0Target, type SshExecOptions, type SshExecResult, type SshL0Pool } from '../ssh-l0';
import { commandLine, REMOTE_KILL_AFTER_SECONDS, virshArgv, type VirshVerb, type VirshVerbArguments } from './virsh-argv';

/** Runs one command line on the L0; rejects with SshL0Error when SSH fails (see SshL0Pool.exec). */
export type VirshExec = (command: string, options: SshExecOptions) => Promise<SshExecResult>;

/** What happened to one virsh command, for the audit log. Never holds a secret: argv has names only. */
export interface VirshCommandRecord {
  /** The L0's name in the profile. */
  readonly l0: string;
  /** The exact argv run (empty when a name was refused before building it). */
  readonly argv: readonly string[];
  /** virsh's exit status; null when it never ran, was killed, or SSH failed. */
  readonly exitCode: number | null;
  readonly durationMs: number;
  /** The start of stderr (or of the refusal), at most STDERR_EXCERPT_CHARS, control characters escaped. */
  readonly stderrExcerpt: string;
  readonly outcome: 'ok' | L0ErrorCode;
}

/** How to reach one L0's libvirt. */
export interface VirshL0Options {
  /** The L0's name in the profile (messages, audit). */
  readonly l0: string;
  /** The libvirt URI virsh connects to on the L0 (e.g. qemu:///system). */
  readonly uri: string;
  readonly exec: VirshExec;
  /** The SSH user, named in "add user X to group libvirt" advice. */
  readonly user?: string;
  readonly onCommand?: (record: VirshCommandRecord) => void;
  /** Per-verb overrides of VIRSH_TIMEOUT_MS (rounded up to whole seconds: the L0's `timeout` counts seconds). */
  readonly timeoutsMs?: Partial<Record<VirshVerb, number>>;
  readonly maxOutputBytes?: number;
  /** Milliseconds, for durations of commands that never reached the L0. */
  readonly now?: () => number;
}

/**
 * How long virsh may take on the L0 for each verb, enforced there by timeout(1) (whole seconds). A
 * full system snapshot or revert writes or reads the guest's whole memory; destroy waits for QEMU to
 * exit; queries answer at once.
 */
export const VIRSH_TIMEOUT_MS: Readonly<Record<VirshVerb, number>> = {
  domstate: 20_000,
  list: 20_000,
  domdisplay: 20_000,
  'snapshot-list': 20_000,
  start: 60_000,
  destroy: 60_000,
  reset: 30_000,
  reboot: 30_000,
  'snapshot-create-as': 300_000,
  'snapshot-revert': 300_000,
  'snapshot-delete': 120_000,
};
/**
 * How much longer than the remote deadline (plus its kill-after) the SSH call waits: the L0's own
 * `timeout` normally ends virsh first and says so; the local deadline is for an L0 that stopped answering.
 */
export const LOCAL_TIMEOUT_GRACE_MS = 3_000;
/** timeout(1)'s exit status when it stopped the command with its signal; 128+9 after the kill-after SIGKILL. */
const TIMEOUT_EXIT_STATUS = 124;
const KILLED_EXIT_STATUS = 137;
/** virsh prints a few lines; more than this is not virsh talking. */
export const VIRSH_MAX_OUTPUT_BYTES = 1024 * 1024;
/** Longest stderr excerpt kept in an audit record. */
export const STDERR_EXCERPT_CHARS = 500;

/** Text with control characters (newlines included) written as escapes, cut to `maxChars`. */
export function escapeControlCharacters(text: string, maxChars: number): string {
  return clipText(escapeControl(text), maxChars);
}

/** virsh's own account of a failure: its "error: " lines, or the last line of stderr. */
export function virshErrorText(stderr: string): string {
  const lines = stderr
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
  const errors = lines.filter((line) => line.startsWith('error: ')).map((line) => line.slice('error: '.length));
  const chosen = errors.length > 0 ? errors.join('; ') : (lines.at(-1) ?? '');
  return escapeControlCharacters(chosen, 400);
}

/** What a failed virsh command was about, for the words of its error. */
export interface VirshFailureContext {
  readonly l0: string;
  readonly uri: string;
  readonly verb: VirshVerb;
  readonly domain?: string;
  readonly snapshot?: string;
  readonly user?: string;
  /** The deadline `timeout` enforced on the L0, when there was one. */
  readonly remoteTimeoutSeconds?: number;
}

/** Maps a virsh command that exited non-zero (or by a signal) to an L0Error code and a message quoting virsh. */
export function classifyVirshFailure(result: Pick<SshExecResult, 'exitCode' | 'signal' | 'stderr'>, context: VirshFailureContext): { code: L0ErrorCode; message: string } {
  const { l0, uri, verb, domain, snapshot } = context;
  const user = context.user ?? 'the SSH user';
  const said = virshErrorText(result.stderr);
  const quoted = said.length > 0 ? said : result.signal !== null ? `killed by SIG${result.signal}` : `exit status ${String(result.exitCode)}`;
  const where = `the L0 "${l0}"`;
  // 127: the shell, env or timeout could not find a program. Quotes vary with the L0's locale.
  if (result.exitCode === 127 || /virsh: (?:command )?not found|virsh['’]?: No such file or directory/.test(result.stderr)) {
    if (/timeout['’]?: No such file or directory|timeout: (?:command )?not found/.test(result.stderr)) {
      return { code: 'command-failed', message: `${where} has no "timeout" command: install coreutils there (${quoted})` };
    }
    return { code: 'no-virsh', message: `virsh is not installed on ${where}: install libvirt-clients there (${quoted})` };
  }
  const seconds = context.remoteTimeoutSeconds;
  if (seconds !== undefined && (result.exitCode === TIMEOUT_EXIT_STATUS || result.exitCode === KILLED_EXIT_STATUS)) {
    return {
      code: 'timeout',
      message: `virsh ${verb}${domain === undefined ? '' : ` ${domain}`} did not finish within ${seconds} s on ${where}, which stopped it (the operation it started may still complete there)${said.length > 0 ? `: ${said}` : ''}`,
    };
  }
  if (/Timed out during operation|cannot acquire state change lock/i.test(said)) {
    return { code: 'timeout', message: `libvirt on ${where} is busy with another job on ${domain ?? 'the domain'}: ${quoted}` };
  }
  // Refusals of the libvirt connection only: a guest's disk that QEMU may not open is another matter.
  if (/Failed to connect socket to [^;]*: Permission denied|authentication (?:failed|unavailable)|access denied|not authorized/i.test(said)) {
    return {
      code: 'permission-denied',
      message: `${user} may not use libvirt (${uri}) on ${where}: ${quoted} — add user ${user} to group libvirt there (usermod -aG libvirt ${user})`,
    };
  }
  // Only the socket's absence or refusal means the daemon is down; "failed to connect to the
  // hypervisor" alone also precedes a bad URI, which virsh explains in the next line.
  if (/Failed to connect socket|Connection refused|End of file while reading data/i.test(said)) {
    return { code: 'daemon-down', message: `virsh on ${where} cannot reach libvirt at ${uri}: ${quoted} — is libvirtd running on the L0?` };
  }
  if (/Domain snapshot not found|no domain snapshot with matching name|snapshot not found/i.test(said)) {
    return { code: 'no-such-snapshot', message: `no snapshot "${snapshot ?? '?'}" of domain "${domain ?? '?'}" on ${where}: ${quoted}` };
  }
  if (/Domain not found|no domain with matching|failed to get domain/i.test(said)) {
    return { code: 'no-such-domain', message: `no domain "${domain ?? '?'}" on ${where} (${uri}): ${quoted} — check "domain" of the replica in the profile` };
  }
  if (/Requested operation is not valid|domain is not running|is already active|domain is not active|memory state cannot be saved with offline/i.test(said)) {
    return { code: 'invalid-state', message: `virsh ${verb}${domain === undefined ? '' : ` ${domain}`} refused on ${where}: ${quoted}` };
  }
  const status = result.exitCode === null ? `signal ${String(result.signal)}` : `exit ${result.exitCode}`;
  return { code: 'command-failed', message: `virsh ${verb} failed on ${where} (${status}): ${quoted}` };
}

// virsh's state words (LC_ALL=C) → ours. Active states we do not model count as running, a
// power-management suspend as paused; the reason then keeps virsh's word.
const VIRSH_STATE_WORDS: Readonly<Record<string, DomainState>> = {
  running: 'running',
  idle: 'running',
  blocked: 'running',
  'in shutdown': 'running',
  paused: 'paused',
  pmsuspended: 'paused',
  'shut off': 'shut off',
  crashed: 'crashed',
  'no state': 'unknown',
};

function stateOf(word: string): DomainState {
  return Object.prototype.hasOwnProperty.call(VIRSH_STATE_WORDS, word) ? (VIRSH_STATE_WORDS[word] ?? 'unknown') : 'unknown';
}

/** Parses `virsh domstate --reason` output ("shut off (destroyed)"). */
export function parseDomainState(stdout: string): DomainStateDetail | null {
  const line = stdout.split(/\r?\n/).find((candidate) => candidate.trim().length > 0)?.trim();
  if (line === undefined) return null;
  const match = /^(.+?)(?: \((.*)\))?$/.exec(line);
  if (match === null) return null;
  const word = match[1] ?? '';
  const reason = match[2] ?? 'unknown';
  const state = stateOf(word);
  return { state, reason: state === word ? reason : `${word}: ${reason}` };
}

const LIST_LINE = /^\s*(?:\d+|-)\s+(.+?)\s+(running|idle|blocked|in shutdown|paused|pmsuspended|shut off|crashed|no state)\s*$/;

/** Parses the `virsh --quiet list --all` table (" 1   web   running", " -   db   shut off"); other lines are skipped. */
export function parseDomainList(stdout: string): DomainListing[] {
  const domains: DomainListing[] = [];
  for (const line of stdout.split(/\r?\n/)) {
    const match = LIST_LINE.exec(line);
    if (match?.[1] !== undefined && match[2] !== undefined) domains.push({ name: match[1], state: stateOf(match[2]) });
  }
  return domains;
}

const SNAPSHOT_LINE = /^\s*(.+?)\s+(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})(?:\s+.*)?$/;

/**
 * Snapshot names from the `virsh --quiet snapshot-list --topological` table, oldest first: by
 * creation time (whole seconds), and within one second in the topological order virsh printed
 * (a parent before its children).
 */
export function parseSnapshotList(stdout: string): string[] {
  const rows: { name: string; epochSeconds: number; index: number }[] = [];
  for (const line of stdout.split(/\r?\n/)) {
    const match = SNAPSHOT_LINE.exec(line);
    if (match === null) continue;
    const [, name, year, month, day, hour, minute, second, sign, offsetHours, offsetMinutes] = match;
    if (name === undefined) continue;
    const local = Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second)) / 1000;
    const offsetSeconds = (Number(offsetHours) * 3600 + Number(offsetMinutes) * 60) * (sign === '-' ? -1 : 1);
    rows.push({ name, epochSeconds: local - offsetSeconds, index: rows.length });
  }
  rows.sort((a, b) => a.epochSeconds - b.epochSeconds || a.index - b.index);
  return rows.map((row) => row.name);
}

/** The display URI `virsh domdisplay` printed ("vnc://127.0.0.1:21"), or null when the output is not one. */
export function parseDomainDisplay(stdout: string): string | null {
  const line = stdout.split(/\r?\n/).find((candidate) => candidate.trim().length > 0)?.trim();
  return line !== undefined && /^[a-z][a-z0-9+.-]*:\/\/\S+$/.test(line) ? line : null;
}

/** The VirshExec of one L0 reached through the back end's SSH pool. */
export function sshVirshExec(pool: SshL0Pool, target: L0Target): VirshExec {
  return (command, options) => pool.exec(target, command, options);
}

/** L0Driver for one real L0: virsh over SSH. */
export class VirshL0Driver implements L0Driver {
  // One operation at a time per domain, like libvirt's per-domain job lock: a revert never races a destroy.
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly now: () => number;

  constructor(private readonly options: VirshL0Options) {
    this.now = options.now ?? (() => performance.now());
  }

  async domainState(domain: string): Promise<DomainState> {
    return (await this.domainStateReason(domain)).state;
  }

  domainStateReason(domain: string): Promise<DomainStateDetail> {
    return this.serialised(domain, async () => {
      const stdout = await this.run('domstate', { domain });
      const detail = parseDomainState(stdout);
      if (detail === null) throw this.unexpectedOutput('domstate', stdout, domain);
      return detail;
    });
  }

  async listDomains(): Promise<DomainListing[]> {
    return parseDomainList(await this.run('list', {}));
  }

  domainDisplay(domain: string): Promise<string> {
    return this.serialised(domain, async () => {
      const stdout = await this.run('domdisplay', { domain });
      const display = parseDomainDisplay(stdout);
      if (display === null) throw this.unexpectedOutput('domdisplay', stdout, domain);
      return display;
    });
  }

  start(domain: string): Promise<void> {
    return this.serialised(domain, async () => void (await this.run('start', { domain })));
  }

  destroy(domain: string): Promise<void> {
    return this.serialised(domain, async () => void (await this.run('destroy', { domain })));
  }

  reset(domain: string): Promise<void> {
    return this.serialised(domain, async () => void (await this.run('reset', { domain })));
  }

  reboot(domain: string): Promise<void> {
    return this.serialised(domain, async () => void (await this.run('reboot', { domain })));
  }

  snapshotCreate(domain: string, name: string): Promise<void> {
    return this.serialised(domain, async () => void (await this.run('snapshot-create-as', { domain, snapshot: name })));
  }

  snapshotRevert(domain: string, name: string): Promise<void> {
    return this.serialised(domain, async () => void (await this.run('snapshot-revert', { domain, snapshot: name })));
  }

  listSnapshots(domain: string): Promise<string[]> {
    return this.serialised(domain, async () => parseSnapshotList(await this.run('snapshot-list', { domain })));
  }

  snapshotDelete(domain: string, name: string): Promise<void> {
    return this.serialised(domain, async () => void (await this.run('snapshot-delete', { domain, snapshot: name })));
  }

  // Builds, runs and judges one command; resolves with stdout, rejects with an L0Error. Audits every outcome.
  private async run<V extends VirshVerb>(verb: V, args: VirshVerbArguments[V]): Promise<string> {
    const { l0, uri } = this.options;
    const names = args as { domain?: string; snapshot?: string };
    const domain = names.domain;
    const remoteTimeoutSeconds = Math.max(1, Math.ceil((this.options.timeoutsMs?.[verb] ?? VIRSH_TIMEOUT_MS[verb]) / 1000));
    let argv: string[];
    try {
      argv = virshArgv(uri, verb, args, { remoteTimeoutSeconds });
    } catch (error) {
      const refusal = error instanceof L0Error ? error : new L0Error('invalid-argument', String(error));
      this.audit({ l0, argv: [], exitCode: null, durationMs: 0, stderrExcerpt: escapeControlCharacters(refusal.message, STDERR_EXCERPT_CHARS), outcome: refusal.code });
      throw new L0Error(refusal.code, `refused before contacting the L0 "${l0}": ${refusal.message}`, { ...(domain === undefined ? {} : { domain }), cause: refusal });
    }
    const started = this.now();
    let result: SshExecResult;
    try {
      result = await this.options.exec(commandLine(argv), {
        timeoutMs: (remoteTimeoutSeconds + REMOTE_KILL_AFTER_SECONDS) * 1000 + LOCAL_TIMEOUT_GRACE_MS,
        maxOutputBytes: this.options.maxOutputBytes ?? VIRSH_MAX_OUTPUT_BYTES,
      });
    } catch (error) {
      const failure = this.sshFailure(error, domain);
      this.audit({ l0, argv, exitCode: null, durationMs: Math.round(this.now() - started), stderrExcerpt: escapeControlCharacters(failure.message, STDERR_EXCERPT_CHARS), outcome: failure.code });
      throw failure;
    }
    const excerpt = escapeControlCharacters(result.stderr, STDERR_EXCERPT_CHARS);
    if (result.exitCode === 0) {
      this.audit({ l0, argv, exitCode: 0, durationMs: result.durationMs, stderrExcerpt: excerpt, outcome: 'ok' });
      return result.stdout;
    }
    const { code, message } = classifyVirshFailure(result, {
      l0,
      uri,
      verb,
      ...(domain === undefined ? {} : { domain }),
      ...(names.snapshot === undefined ? {} : { snapshot: names.snapshot }),
      ...(this.options.user === undefined ? {} : { user: this.options.user }),
      remoteTimeoutSeconds,
    });
    this.audit({ l0, argv, exitCode: result.exitCode, durationMs: result.durationMs, stderrExcerpt: excerpt, outcome: code });
    throw new L0Error(code, message, domain === undefined ? {} : { domain });
  }

  private sshFailure(error: unknown, domain: string | undefined): L0Error {
    const options = { ...(domain === undefined ? {} : { domain }), cause: error };
    if (error instanceof SshL0Error) {
      switch (error.kind) {
        case 'host-key-changed':
          return new L0Error('host-key-changed', error.message, options);
        case 'timeout':
          return new L0Error('timeout', error.message, options);
        case 'auth-failed':
        case 'identity':
        case 'passphrase':
          // The key, not the network: retrying will not help, fixing the profile or the L0 will.
          return new L0Error('permission-denied', error.message, options);
        default:
          return new L0Error('unreachable', error.message, options);
      }
    }
    const reason = error instanceof Error ? error.message : String(error);
    return new L0Error('unreachable', `cannot run virsh on the L0 "${this.options.l0}": ${reason}`, options);
  }

  private unexpectedOutput(verb: VirshVerb, stdout: string, domain: string): L0Error {
    return new L0Error('command-failed', `virsh ${verb} on the L0 "${this.options.l0}" printed something unexpected: ${escapeControlCharacters(stdout.trim(), 200)}`, { domain });
  }

  private audit(record: VirshCommandRecord): void {
    try {
      this.options.onCommand?.(record);
    } catch {
      // An audit sink that throws must not turn a done operation into a failed one.
    }
  }

  // Runs `operation` after the domain's previous one has settled.
  private serialised<T>(domain: string, operation: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(domain) ?? Promise.resolve();
    const result = previous.then(operation);
    const settledResult = result.catch(() => undefined);
    this.queues.set(domain, settledResult);
    // Forget an idle domain's queue so the map does not grow with every name ever asked about.
    void settledResult.then(() => {
      if (this.queues.get(domain) === settledResult) this.queues.delete(domain);
    });
    return result;
  }
}
