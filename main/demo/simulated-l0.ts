// The simulated L0 of the demo lab: L0Driver over demo replicas, with virsh's rules and errors.
// As with libvirt, destroy, start and snapshot-revert make a NEW process (every VNC client is
// cut), while reset and reboot restart the guest inside the running process. Runs in Node.

import {
  L0Error,
  validateL0Name,
  type DomainListing,
  type DomainState,
  type DomainStateDetail,
  type L0Driver,
} from '../../common/l0';
import { type GuestSnapshot } from './guest-desktop';
import { type DemoReplica, type ReplicaProcessState } from './demo-replica';

// A snapshot of a shut-off domain holds no guest state: reverting to it leaves the domain off.
interface DomainSnapshot {
  readonly name: string;
  readonly guest: GuestSnapshot | null;
}

type L0Operation = 'start' | 'destroy' | 'reset' | 'reboot' | 'snapshot-create' | 'snapshot-revert';

/** QEMU's VNC display numbers count from this port (`virsh domdisplay` prints port − 5900). */
const VNC_DISPLAY_PORT_BASE = 5900;

// Which replica states each operation is legal in (virsh's rules, as the demo models them). A
// crashed demo replica has no process left, so start and reset may bring it back.
const ALLOWED_IN: Readonly<Record<L0Operation, readonly ReplicaProcessState[]>> = {
  start: ['shut off', 'crashed'],
  destroy: ['running', 'crashed'],
  reset: ['running', 'crashed'],
  reboot: ['running'],
  'snapshot-create': ['running', 'shut off'],
  'snapshot-revert': ['running', 'shut off', 'crashed'],
};

// Refuses an operation the replica's state does not allow, with virsh's wording.
function requireState(operation: L0Operation, replica: DemoReplica): void {
  if (ALLOWED_IN[operation].includes(replica.state)) return;
  const detail =
    replica.state === 'running' ? 'domain is already active' : replica.state === 'crashed' ? 'domain has crashed' : 'domain is not running';
  throw new L0Error('invalid-state', `Requested operation is not valid: ${detail}`, { domain: replica.domain });
}

/** L0Driver for the demo lab; domain names are the replicas' `domain`. */
export class SimulatedL0 implements L0Driver {
  private readonly domains = new Map<string, DemoReplica>();
  private readonly snapshots = new Map<string, DomainSnapshot[]>();
  // virsh's reason for each domain's state, as the last operation left it (see domainStateReason).
  private readonly reasons = new Map<string, { state: ReplicaProcessState; reason: string }>();
  // One operation at a time per domain, like libvirt's per-domain job lock.
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(replicas: readonly DemoReplica[]) {
    for (const replica of replicas) {
      this.domains.set(replica.domain, replica);
      this.snapshots.set(replica.domain, []);
    }
  }

  domainState(domain: string): Promise<DomainState> {
    return this.run(domain, (replica) => replica.state);
  }

  domainStateReason(domain: string): Promise<DomainStateDetail> {
    return this.run(domain, (replica) => ({ state: replica.state, reason: this.reasonOf(replica) }));
  }

  listDomains(): Promise<DomainListing[]> {
    return Promise.resolve([...this.domains.values()].map((replica) => ({ name: replica.domain, state: replica.state })));
  }

  domainDisplay(domain: string): Promise<string> {
    return this.run(domain, (replica) => {
      if (replica.state !== 'running') throw new L0Error('invalid-state', 'Requested operation is not valid: domain is not running', { domain });
      if (replica.port < VNC_DISPLAY_PORT_BASE) {
        throw new L0Error('command-failed', `the demo replica listens on port ${replica.port}, below the first VNC display port ${VNC_DISPLAY_PORT_BASE}`, { domain });
      }
      return `vnc://${replica.host}:${replica.port - VNC_DISPLAY_PORT_BASE}`;
    });
  }

  start(domain: string): Promise<void> {
    return this.run(domain, async (replica) => {
      requireState('start', replica);
      await replica.boot();
      this.setReason(replica, 'booted');
    });
  }

  destroy(domain: string): Promise<void> {
    return this.run(domain, async (replica) => {
      requireState('destroy', replica);
      await replica.halt();
      this.setReason(replica, 'destroyed');
    });
  }

  reset(domain: string): Promise<void> {
    return this.run(domain, async (replica) => {
      requireState('reset', replica);
      if (replica.state === 'crashed') {
        await replica.boot();
        this.setReason(replica, 'booted');
      } else {
        replica.resetInPlace();
      }
    });
  }

  reboot(domain: string): Promise<void> {
    return this.run(domain, (replica) => {
      requireState('reboot', replica);
      replica.resetInPlace();
    });
  }

  snapshotCreate(domain: string, name: string): Promise<void> {
    return this.run(domain, (replica) => {
      const invalid = validateL0Name('snapshot', name);
      if (invalid !== null) throw new L0Error('invalid-argument', invalid, { domain });
      const list = this.snapshotsOf(domain);
      if (list.some((snapshot) => snapshot.name === name)) {
        throw new L0Error('command-failed', `domain snapshot ${name} already exists`, { domain });
      }
      requireState('snapshot-create', replica);
      list.push({ name, guest: replica.snapshot() });
    });
  }

  snapshotRevert(domain: string, name: string): Promise<void> {
    return this.run(domain, async (replica) => {
      const snapshot = this.snapshotsOf(domain).find((candidate) => candidate.name === name);
      if (snapshot === undefined) {
        throw new L0Error('no-such-snapshot', `Domain snapshot not found: no domain snapshot with matching name '${name}'`, { domain });
      }
      requireState('snapshot-revert', replica);
      // Like libvirt: the old process goes (every client is cut) and a new one starts from the snapshot.
      if (replica.state !== 'shut off') await replica.halt();
      if (snapshot.guest !== null) await replica.boot(snapshot.guest);
      this.setReason(replica, 'from snapshot');
    });
  }

  listSnapshots(domain: string): Promise<string[]> {
    return this.run(domain, () => this.snapshotsOf(domain).map((snapshot) => snapshot.name));
  }

  snapshotDelete(domain: string, name: string): Promise<void> {
    return this.run(domain, () => {
      const list = this.snapshotsOf(domain);
      const index = list.findIndex((candidate) => candidate.name === name);
      if (index < 0) {
        throw new L0Error('no-such-snapshot', `Domain snapshot not found: no domain snapshot with matching name '${name}'`, { domain });
      }
      list.splice(index, 1);
    });
  }

  private setReason(replica: DemoReplica, reason: string): void {
    this.reasons.set(replica.domain, { state: replica.state, reason });
  }

  // The reason the last operation recorded, while the state is still the one it left; otherwise
  // (a crash fault, the lab's first boot) what libvirt reports for that state.
  private reasonOf(replica: DemoReplica): string {
    const recorded = this.reasons.get(replica.domain);
    if (recorded !== undefined && recorded.state === replica.state) return recorded.reason;
    return replica.state === 'crashed' ? 'panicked' : replica.state === 'running' ? 'booted' : 'unknown';
  }

  private snapshotsOf(domain: string): DomainSnapshot[] {
    let list = this.snapshots.get(domain);
    if (list === undefined) {
      list = [];
      this.snapshots.set(domain, list);
    }
    return list;
  }

  // Runs `operation` after the domain's previous one; unknown domains and unexpected failures become L0Errors.
  private run<T>(domain: string, operation: (replica: DemoReplica) => T | Promise<T>): Promise<T> {
    const replica = this.domains.get(domain);
    if (replica === undefined) {
      return Promise.reject(new L0Error('no-such-domain', `Domain not found: no domain with matching name '${domain}'`, { domain }));
    }
    const previous = this.queues.get(domain) ?? Promise.resolve();
    const result = previous.then(async () => {
      try {
        return await operation(replica);
      } catch (error) {
        if (error instanceof L0Error) throw error;
        const reason = error instanceof Error ? error.message : String(error);
        throw new L0Error('command-failed', `${domain}: ${reason}`, { domain, cause: error });
      }
    });
    this.queues.set(
      domain,
      result.catch(() => undefined),
    );
    return result;
  }
}
