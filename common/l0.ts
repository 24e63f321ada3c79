// The L0 interface: what RetroVisor asks of the host that runs a replica's hypervisor (state,
// power, snapshots), shaped after virsh. Implemented by the simulated demo L0 and the SSH/virsh
// driver. Pure types and one error class: runs in every runtime.

/** A domain's state as `virsh domstate` names it (our subset). */
export type DomainState = 'running' | 'shut off' | 'paused' | 'crashed' | 'unknown';

/** Every DomainState, for validation and exhaustive UI tables. */
export const DOMAIN_STATES: readonly DomainState[] = ['running', 'shut off', 'paused', 'crashed', 'unknown'];

/** Machine-readable reason of an L0 failure; the UI and the remediation planner branch on it. */
export type L0ErrorCode = 'no-such-domain' | 'no-such-snapshot' | 'invalid-state' | 'unreachable' | 'command-failed';

/**
 * Management operations on the L0 host of one or more replicas. Every method rejects with an
 * L0Error. Like libvirt: destroy, snapshotRevert (and, for a real L0, start) begin a NEW hypervisor
 * process, so every VNC client of that domain is cut and must reconnect.
 */
export interface L0Driver {
  /** The current state of `domain` (`virsh domstate`). */
  domainState(domain: string): Promise<DomainState>;
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
  /** Snapshot names of `domain`, oldest first (`virsh snapshot-list --name`). */
  listSnapshots(domain: string): Promise<string[]>;
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
