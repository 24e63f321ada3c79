// The L0 interface: what RetroVisor asks of the host that runs a replica's hypervisor (state,
// power, snapshots), shaped after virsh. Implemented by the simulated demo L0 and the SSH/virsh
// driver. Pure types and one error class: runs in every runtime.

/** A domain's state as `virsh domstate` names it (our subset). */
export type DomainState = 'running' | 'shut off' | 'paused' | 'crashed' | 'unknown';

/** Every DomainState, for validation and exhaustive UI tables. */
export const DOMAIN_STATES: readonly DomainState[] = ['running', 'shut off', 'paused', 'crashed', 'unknown'];

/** A domain's state and virsh's reason for it (`virsh domstate --reason`: "shut off (destroyed)"). */
export interface DomainStateDetail {
  readonly state: DomainState;
  /** virsh's reason word(s): "booted", "from snapshot", "destroyed", … ("unknown" when none is given). */
  readonly reason: string;
}

/** One domain defined on an L0 (`virsh list --all`). */
export interface DomainListing {
  readonly name: string;
  readonly state: DomainState;
}

/**
 * Machine-readable reason of an L0 failure; the UI and the remediation planner branch on it.
 * - no-such-domain / no-such-snapshot: the name is not known on the L0.
 * - invalid-state: the domain's state forbids the operation (already active, not running…).
 * - unreachable: SSH could not reach or log in to the L0.
 * - command-failed: virsh failed for another reason (its message says which).
 * - invalid-argument: a name or URI was refused before anything was sent to the L0.
 * - permission-denied: the L0 user may not use libvirt (or the SSH key is refused).
 * - timeout: no answer in time; the operation may still complete on the L0.
 * - no-virsh: virsh is not installed on the L0.
 * - daemon-down: virsh could not reach libvirtd on the L0.
 * - host-key-changed: the L0 presented another SSH host key than the pinned one; nothing was run.
 */
export type L0ErrorCode =
  | 'no-such-domain'
  | 'no-such-snapshot'
  | 'invalid-state'
  | 'unreachable'
  | 'command-failed'
  | 'invalid-argument'
  | 'permission-denied'
  | 'timeout'
  | 'no-virsh'
  | 'daemon-down'
  | 'host-key-changed';

/** Every L0ErrorCode, for validation and exhaustive tables. */
export const L0_ERROR_CODES: readonly L0ErrorCode[] = [
  'no-such-domain',
  'no-such-snapshot',
  'invalid-state',
  'unreachable',
  'command-failed',
  'invalid-argument',
  'permission-denied',
  'timeout',
  'no-virsh',
  'daemon-down',
  'host-key-changed',
];

// Names that reach a virsh command line. Checked before any command is built, here rather than in
// the driver so that a profile is refused when it is opened, with the same rule the driver applies.

/** A libvirt domain name RetroVisor accepts: letters, digits and "_.+:-", not starting with "-" or ".". */
export const DOMAIN_NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.+:-]{0,127}$/;
/** A snapshot (checkpoint) name RetroVisor accepts: same alphabet as domain names. */
export const SNAPSHOT_NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.+:-]{0,127}$/;
/**
 * A libvirt connection URI: `driver[+transport]://[user@][host[:port]]/[path]`. No query string,
 * no percent-escapes, no IPv6 brackets: "?", "&", "%", "[", "]", quotes, spaces and shell
 * metacharacters never validate (qemu:///system, qemu+ssh://user@host/system, test:///default do).
 */
export const LIBVIRT_URI_PATTERN =
  /^[a-z][a-z0-9]{0,15}(?:\+[a-z0-9]{1,15})?:\/\/(?:[A-Za-z_][A-Za-z0-9_.-]{0,31}@)?(?:[A-Za-z0-9][A-Za-z0-9.-]{0,252}(?::[0-9]{1,5})?)?\/[A-Za-z0-9_./-]{0,255}$/;

/** What validateL0Name checks. */
export type L0NameKind = 'domain' | 'snapshot' | 'uri';

// virsh looks a <domain> argument up as an id first when it is a non-negative integer, then as a
// UUID when it is 36 characters long, and only then as a name: such names could pick ANOTHER domain.
const NUMERIC_NAME = /^[0-9]+$/;

// libvirt's UUID parser takes 32 hex digits with "-" anywhere between them; virsh tries it on 36 characters.
function looksLikeUuid(value: string): boolean {
  return value.length === 36 && /^[0-9A-Fa-f-]+$/.test(value) && value.replace(/-/g, '').length === 32;
}

/** Why `value` cannot be used as a domain name, snapshot name or libvirt URI on a virsh command line; null when it can. */
export function validateL0Name(kind: L0NameKind, value: unknown): string | null {
  const what = kind === 'domain' ? 'domain name' : kind === 'snapshot' ? 'snapshot name' : 'libvirt URI';
  if (typeof value !== 'string') return `the ${what} must be a string`;
  if (value.length === 0) return `the ${what} must not be empty`;
  const shown = JSON.stringify(value.slice(0, 80)) + (value.length > 80 ? '…' : '');
  if (kind === 'uri') {
    return LIBVIRT_URI_PATTERN.test(value)
      ? null
      : `the ${what} ${shown} is not valid: expected driver[+transport]://[user@][host[:port]]/path such as qemu:///system, without "?", "&", "%", quotes, spaces or brackets`;
  }
  const pattern = kind === 'domain' ? DOMAIN_NAME_PATTERN : SNAPSHOT_NAME_PATTERN;
  if (!pattern.test(value)) {
    return `the ${what} ${shown} is not valid: 1 to 128 letters, digits, "_", ".", "+", ":" or "-", not starting with "-" or "."`;
  }
  if (NUMERIC_NAME.test(value)) {
    // QEMU matches an internal snapshot's tag against snapshot ids too, so a numeric snapshot name is just as ambiguous.
    return `the ${what} ${shown} is not valid: a number would be read as ${kind === 'domain' ? 'a domain id' : 'a snapshot id'}; add a letter`;
  }
  if (kind === 'domain' && looksLikeUuid(value)) {
    return `the ${what} ${shown} is not valid: virsh would read it as a domain UUID`;
  }
  return null;
}

/**
 * Management operations on the L0 host of one or more replicas. Every method rejects with an
 * L0Error. Like libvirt: destroy, snapshotRevert (and, for a real L0, start) begin a NEW hypervisor
 * process, so every VNC client of that domain is cut and must reconnect.
 */
export interface L0Driver {
  /** The current state of `domain` (`virsh domstate`). */
  domainState(domain: string): Promise<DomainState>;
  /** The current state of `domain` and virsh's reason for it (`virsh domstate --reason`). */
  domainStateReason(domain: string): Promise<DomainStateDetail>;
  /** Every domain defined on the L0, running or not (`virsh list --all`). */
  listDomains(): Promise<DomainListing[]>;
  /** Where the domain's console is served, as `virsh domdisplay` prints it ("vnc://127.0.0.1:21": display 21 = port 5921). */
  domainDisplay(domain: string): Promise<string>;
  /** Boots a shut-off domain (`virsh start`); 'invalid-state' if it is already active. */
  start(domain: string): Promise<void>;
  /** Pulls the plug (`virsh destroy`); 'invalid-state' if it is not running. */
  destroy(domain: string): Promise<void>;
  /** Presses the reset button (`virsh reset`); 'invalid-state' if it is not running. */
  reset(domain: string): Promise<void>;
  /** Asks the guest to reboot (`virsh reboot`); 'invalid-state' if it is not running. */
  reboot(domain: string): Promise<void>;
  /** Captures the domain's state under `name` (`virsh snapshot-create-as`). */
  snapshotCreate(domain: string, name: string): Promise<void>;
  /** Restores the snapshot `name` (`virsh snapshot-revert`); 'no-such-snapshot' if unknown. */
  snapshotRevert(domain: string, name: string): Promise<void>;
  /** Snapshot names of `domain`, oldest first (`virsh snapshot-list`). */
  listSnapshots(domain: string): Promise<string[]>;
  /** Deletes the snapshot `name` (`virsh snapshot-delete`); 'no-such-snapshot' if unknown. */
  snapshotDelete(domain: string, name: string): Promise<void>;
}

/** The failure of an L0 operation, with a code to branch on and virsh-like text to show. */
export class L0Error extends Error {
  override readonly name = 'L0Error';
  readonly code: L0ErrorCode;
  /** The domain the operation was about, when there was one. */
  readonly domain: string | undefined;

  constructor(code: L0ErrorCode, message: string, options: { domain?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.domain = options.domain;
  }
}

/** True when `value` is an L0Error (also across bundles, where instanceof may fail). */
export function isL0Error(value: unknown): value is L0Error {
  if (value instanceof L0Error) return true;
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as { name?: unknown; code?: unknown };
  return candidate.name === 'L0Error' && typeof candidate.code === 'string';
}
