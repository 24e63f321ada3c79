// The built-in demo lab as a back-end service: one DemoLab per back end, opened as a session, and
// the contract's demo calls (faults, simulated L0 actions, status) with errors that say what to do.
// Node-side; main/backend.ts delegates here, `retrovisor lab` reuses DemoLabControl.

import type { DemoL0Action, DemoReplicaStatus, DemoStatus, OpenResult } from '../common/contract';
import { isL0Error, type DomainState } from '../common/l0';
import { DEFAULT_DEMO_REPLICAS, demoLabProfile, startDemoLab, type DemoLab, type DemoLabOptions } from './demo/demo-lab';
import { FaultSpecError, formatFaultSpec, parseFaultSpec, type FaultKind } from './demo/faults';
import { errorMessage, type Logger } from './logger';
import { formatHostPort } from './sessions';

/** The session source and profile name under which the back end opens its demo lab. */
export const DEMO_SESSION_SOURCE = 'built-in demo lab';
/** The profile name of the back end's demo lab session. */
export const DEMO_PROFILE_NAME = 'Demo lab';
/** Snapshots taken from the demo panel are named SNAPSHOT_PREFIX + 1, 2, ... */
export const SNAPSHOT_PREFIX = 'snapshot-';

/** A refused demo request; the message is for the user and says what to do instead. */
export class DemoRequestError extends Error {
  override readonly name = 'DemoRequestError';
}

// Faults that act on the running guest once: a replica that is not running cannot take them.
const ONE_OFF_ON_GUEST: readonly FaultKind[] = ['inject', 'banner', 'crash'];

const FAULT_DOING: Readonly<Record<FaultKind, string>> = {
  lag: 'delay its screen',
  'drop-key': 'drop keys',
  inject: 'type into it',
  banner: 'paint a banner on it',
  freeze: 'freeze it',
  crash: 'crash it',
};

// What to tell the user when an L0 action is not valid in the domain's current state.
function invalidStateAdvice(label: string, action: DemoL0Action, state: DomainState): string {
  if (state === 'running' && action === 'start') return `${label} is already running: use Reset to reboot it, or Destroy it first`;
  if (state === 'shut off') return `${label} is shut off: Start it first`;
  if (state === 'crashed') return `${label} has crashed: Start or Reset it first`;
  return `${label} is ${state}: ${action} is not possible now`;
}

/** Faults, simulated L0 actions and status over one running DemoLab (the panel's and the CLI's verbs). */
export class DemoLabControl {
  constructor(
    readonly lab: DemoLab,
    private readonly logger?: Logger,
  ) {}

  /** Each replica's endpoint, domain state, lasting faults and snapshots. */
  async replicaStatuses(): Promise<DemoReplicaStatus[]> {
    return Promise.all(
      this.lab.replicas.map(async (entry) => {
        const replica = this.lab.replica(entry.id);
        return {
          id: entry.id,
          label: entry.label,
          endpoint: formatHostPort(entry.host, entry.port),
          domainState: await this.lab.l0.domainState(entry.domain),
          // The CLI form without "rN:", as the panel and setFault take it.
          faults: replica.faults.active().map((fault) => formatFaultSpec({ replicaId: entry.id, fault }).slice(entry.id.length + 1)),
          snapshots: await this.lab.l0.listSnapshots(entry.domain),
        };
      }),
    );
  }

  /** Applies `fault` (the CLI form after "rN:", e.g. "lag=0-300", "banner=HACKED", "crash") to a replica. */
  async setFault(replicaId: string, fault: string): Promise<void> {
    const entry = this.entry(replicaId);
    let parsed;
    try {
      parsed = parseFaultSpec(`${replicaId}:${fault}`).fault;
    } catch (error) {
      if (error instanceof FaultSpecError) throw new DemoRequestError(error.message);
      throw error;
    }
    const state = this.lab.replica(replicaId).state;
    if (ONE_OFF_ON_GUEST.includes(parsed.kind) && state !== 'running') {
      throw new DemoRequestError(`${entry.label} is ${state === 'crashed' ? 'crashed' : 'shut off'}: Start or Reset it before trying to ${FAULT_DOING[parsed.kind]}`);
    }
    await this.lab.setFault(replicaId, parsed);
    this.logger?.info('demo fault injected', { replicaId, fault: formatFaultSpec({ replicaId, fault: parsed }).slice(0, 200) });
  }

  /** Removes a replica's lasting faults (lag, drop-key, freeze). */
  clearFaults(replicaId: string): void {
    this.entry(replicaId);
    this.lab.clearFaults(replicaId);
    this.logger?.info('demo faults cleared', { replicaId });
  }

  /** Runs a simulated L0 operation; snapshot-create names the snapshot, snapshot-revert restores the newest. */
  async l0Action(replicaId: string, action: DemoL0Action): Promise<void> {
    const entry = this.entry(replicaId);
    const l0 = this.lab.l0;
    const domain = entry.domain;
    try {
      switch (action) {
        case 'reset':
          await l0.reset(domain);
          break;
        case 'destroy':
          await l0.destroy(domain);
          break;
        case 'start':
          await l0.start(domain);
          break;
        case 'snapshot-create': {
          // Numbered among the panel's own snapshots (the remediation manager's checkpoints are there too).
          const taken = new Set(await l0.listSnapshots(domain));
          let index = [...taken].filter((name) => name.startsWith(SNAPSHOT_PREFIX)).length + 1;
          while (taken.has(`${SNAPSHOT_PREFIX}${index}`)) index++;
          await l0.snapshotCreate(domain, `${SNAPSHOT_PREFIX}${index}`);
          break;
        }
        case 'snapshot-revert': {
          const newest = (await l0.listSnapshots(domain)).at(-1);
          if (newest === undefined) throw new DemoRequestError(`${entry.label} has no snapshot yet: take one with Snapshot first`);
          await l0.snapshotRevert(domain, newest);
          break;
        }
      }
    } catch (error) {
      if (error instanceof DemoRequestError) throw error;
      if (isL0Error(error) && error.code === 'invalid-state') {
        throw new DemoRequestError(invalidStateAdvice(entry.label, action, await l0.domainState(domain)));
      }
      throw new DemoRequestError(`${entry.label}: ${action} failed: ${errorMessage(error)}`);
    }
    this.logger?.info('demo L0 action', { replicaId, domain, action });
  }

  private entry(replicaId: string): DemoLab['replicas'][number] {
    const entry = this.lab.replicas.find((candidate) => candidate.id === replicaId);
    if (entry === undefined) {
      throw new DemoRequestError(`there is no demo replica "${replicaId}": the lab has ${this.lab.replicas.map((replica) => replica.id).join(', ')}`);
    }
    return entry;
  }
}

/** What the demo service needs from its back end. */
export interface DemoServiceOptions {
  readonly logger: Logger;
  /** Opens a profile document (validated by the back end) as a new session. */
  readonly openProfile: (document: unknown, source: string) => OpenResult;
  /** True while the session is open. */
  readonly sessionExists: (sessionId: string) => boolean;
  /** Closes a session's streams and forgets it (when the lab restarts with another replica count). */
  readonly closeSession: (sessionId: string, reason: string) => void;
  /** Lab tuning (size, cursor blink, clock, ports) for tests and the tour; the replica count comes per call. */
  readonly lab?: Omit<DemoLabOptions, 'replicas' | 'log'>;
}

/** What in-process callers (the demo tour, tests) may reach of the back end's demo lab. */
export interface DemoLabAccess {
  /** The running lab, or null: its guests can be read directly. */
  readonly lab: DemoLab | null;
}

/** The back end's demo lab: started on demand, reused while it runs, stopped with the back end. */
export class DemoService implements DemoLabAccess {
  private control: DemoLabControl | null = null;
  private starting: Promise<DemoLabControl> | null = null;
  private readonly sessionIds = new Set<string>();
  private stopped = false;

  constructor(private readonly options: DemoServiceOptions) {}

  /** The running lab, or null: the tour and tests read its guests directly. */
  get lab(): DemoLab | null {
    return this.control?.lab ?? null;
  }

  /** Starts the lab if needed (a different replica count restarts it) and opens it as a new session. */
  async open(replicas?: number): Promise<OpenResult> {
    let control = await this.ensureLab(replicas);
    if (replicas !== undefined && control.lab.replicas.length !== replicas) {
      await this.stopLab(`the demo lab restarted with ${replicas} replicas`);
      control = await this.ensureLab(replicas);
    }
    const result = this.options.openProfile(demoLabProfile(control.lab, DEMO_PROFILE_NAME), DEMO_SESSION_SOURCE);
    if (result.ok) this.sessionIds.add(result.session.sessionId);
    return result;
  }

  /** The lab's replicas and the sessions that show it. */
  async status(): Promise<DemoStatus> {
    const control = this.control;
    for (const sessionId of this.sessionIds) {
      if (!this.options.sessionExists(sessionId)) this.sessionIds.delete(sessionId);
    }
    if (control === null) return { running: false, sessionIds: [], replicas: [] };
    return { running: true, sessionIds: [...this.sessionIds], replicas: await control.replicaStatuses() };
  }

  /** Applies a fault (CLI form after "rN:") and returns the new status. */
  async setFault(replicaId: string, fault: string): Promise<DemoStatus> {
    await this.requireLab().setFault(replicaId, fault);
    return this.status();
  }

  /** Clears a replica's lasting faults and returns the new status. */
  async clearFaults(replicaId: string): Promise<DemoStatus> {
    this.requireLab().clearFaults(replicaId);
    return this.status();
  }

  /** Runs a simulated L0 action and returns the new status. */
  async l0Action(replicaId: string, action: DemoL0Action): Promise<DemoStatus> {
    await this.requireLab().l0Action(replicaId, action);
    return this.status();
  }

  /** Stops the lab for good (the back end is closing). */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.starting?.catch(() => undefined);
    await this.stopLab('RetroVisor is shutting down');
  }

  private requireLab(): DemoLabControl {
    if (this.control === null) throw new DemoRequestError('the demo lab is not running: open it from the start screen ("Open the demo lab") first');
    return this.control;
  }

  private async ensureLab(replicas: number | undefined): Promise<DemoLabControl> {
    if (this.stopped) throw new DemoRequestError('the back end is shut down');
    if (this.control !== null) return this.control;
    this.starting ??= this.startLab(replicas ?? DEFAULT_DEMO_REPLICAS).finally(() => {
      this.starting = null;
    });
    return this.starting;
  }

  private async startLab(replicas: number): Promise<DemoLabControl> {
    const logger = this.options.logger.child({ component: 'demo-lab' });
    let lab: DemoLab;
    try {
      lab = await startDemoLab({ ...this.options.lab, replicas, log: (message) => logger.info(message) });
    } catch (error) {
      const reason = errorMessage(error);
      const hint = /EADDRINUSE/.test(reason) ? ': a port it needs is taken; stop what uses it or let the lab pick free ports' : '';
      throw new DemoRequestError(`the demo lab could not start: ${reason}${hint}`);
    }
    if (this.stopped) {
      await lab.stop();
      throw new DemoRequestError('the back end is shut down');
    }
    logger.info('demo lab started', { replicas: lab.replicas.map((replica) => `${replica.id}=${formatHostPort(replica.host, replica.port)}`) });
    this.control = new DemoLabControl(lab, logger);
    return this.control;
  }

  private async stopLab(reason: string): Promise<void> {
    const control = this.control;
    this.control = null;
    for (const sessionId of this.sessionIds) this.options.closeSession(sessionId, reason);
    this.sessionIds.clear();
    if (control !== null) {
      await control.lab.stop();
      this.options.logger.info('demo lab stopped', { reason });
    }
  }
}
