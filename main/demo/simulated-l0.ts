// The simulated L0 of the demo lab: L0Driver over demo replicas, with virsh's rules and errors.
// As with libvirt, destroy, start and snapshot-revert make a NEW process (every VNC client is
// cut), while reset and reboot restart the guest inside the running process. Runs in Node.

import { L0Error, type DomainState, type L0Driver } from '../../common/l0';
import { type GuestSnapshot } from './guest-desktop';
import { type DemoReplica, type ReplicaProcessState } from './demo-replica';

// A snapshot of a shut-off domain holds no guest state: reverting to it leaves the domain off.
interface DomainSnapshot {
  readonly name: string;
  readonly guest: GuestSnapshot | null;
}

const SNAPSHOT_NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.+:-]{0,127}$/;

type L0Operation = 'start' | 'destroy' | 'reset' | 'reboot' | 'snapshot-create' | 'snapshot-revert';

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

  start(domain: string): Promise<void> {
    return this.run(domain, async (replica) => {
      requireState('start', replica);
      await replica.boot();
    });
  }

  destroy(domain: string): Promise<void> {
    return this.run(domain, async (replica) => {
      requireState('destroy', replica);
      await replica.halt();
    });
  }

  reset(domain: string): Promise<void> {
    return this.run(domain, async (replica) => {
      requireState('reset', replica);
      if (replica.state === 'crashed') await replica.boot();
      else replica.resetInPlace();
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
      if (!SNAPSHOT_NAME_PATTERN.test(name)) {
        throw new L0Error('command-failed', `invalid snapshot name ${JSON.stringify(name)}`, { domain });
      }
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
    });
  }

  listSnapshots(domain: string): Promise<string[]> {
    return this.run(domain, () => this.snapshotsOf(domain).map((snapshot) => snapshot.name));
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
