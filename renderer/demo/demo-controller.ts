// The demo panel's actions: faults and simulated L0 operations on the built-in demo lab's replicas,
// sent through the contract, with the store's demo status kept current and each outcome said in
// words. Runs in the renderer.

import type { BackendApi, DemoL0Action, DemoStatus } from '../../common/contract';
import type { AppStore } from '../store';

/** The contract calls the demo panel uses. */
export type DemoApi = Pick<BackendApi, 'getDemoStatus' | 'setDemoFault' | 'clearDemoFaults' | 'demoL0Action'>;

/** What a fault (its command-line form after "rN:") did, in words, for the panel's status line. */
export function describeFault(label: string, fault: string): string {
  const equals = fault.indexOf('=');
  const kind = equals < 0 ? fault : fault.slice(0, equals);
  const value = equals < 0 ? '' : fault.slice(equals + 1);
  switch (kind) {
    case 'lag':
      return value === '0' || value === '0-0' ? `${label}: lag removed` : `${label}: every screen update now waits ${value} ms`;
    case 'drop-key':
      return value === '1' ? `${label}: every key press is now lost` : `${label}: every ${ordinal(Number(value))} key press is now lost`;
    case 'inject':
      return `${label}: typed “${value}” on its own`;
    case 'banner':
      return `${label}: banner “${value}” painted (Reset or Revert removes it)`;
    case 'freeze':
      return `${label}: screen frozen (Clear faults thaws it)`;
    case 'crash':
      return `${label}: crashed, its VNC server is gone (Start or Reset brings it back)`;
    default:
      return `${label}: ${fault} applied`;
  }
}

/** What a simulated L0 action did, in words; `status` is the lab after it. */
export function describeL0Action(label: string, action: DemoL0Action, replicaId: string, status: DemoStatus): string {
  const snapshots = status.replicas.find((replica) => replica.id === replicaId)?.snapshots ?? [];
  switch (action) {
    case 'reset':
      return `${label}: reset, the guest rebooted`;
    case 'destroy':
      return `${label}: destroyed, the domain is shut off`;
    case 'start':
      return `${label}: started`;
    case 'snapshot-create':
      return `${label}: snapshot ${snapshots.at(-1) ?? ''} taken`.trimEnd();
    case 'snapshot-revert':
      return `${label}: reverted to ${snapshots.at(-1) ?? 'its newest snapshot'}`;
  }
}

function ordinal(value: number): string {
  const tens = value % 100;
  const suffix = tens >= 11 && tens <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][value % 10] ?? 'th');
  return `${value}${suffix}`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Drives the demo lab for the demo panel; one per app. */
export class DemoController {
  constructor(
    private readonly api: DemoApi,
    private readonly store: AppStore,
  ) {}

  /** Shows the demo panel when the session just opened is the back end's demo lab. */
  async sync(sessionId: string): Promise<void> {
    let status: DemoStatus;
    try {
      status = await this.api.getDemoStatus();
    } catch (error) {
      this.store.getState().pushNotice({ level: 'warning', message: `Could not ask the back end about the demo lab: ${messageOf(error)}` });
      return;
    }
    const state = this.store.getState();
    if (state.session?.sessionId !== sessionId) return;
    state.setDemoStatus(status.sessionIds.includes(sessionId) ? status : null);
  }

  /** Injects a fault: its command-line form after "rN:" ("lag=200", "banner=HACKED", "crash"). */
  setFault(replicaId: string, fault: string): Promise<void> {
    const kind = fault.split('=')[0] ?? fault;
    return this.run(replicaId, kind, () => this.api.setDemoFault({ replicaId, fault }), (label) => describeFault(label, fault));
  }

  /** Removes a replica's lasting faults (lag, drop-key, freeze). */
  clearFaults(replicaId: string): Promise<void> {
    return this.run(replicaId, 'clear', () => this.api.clearDemoFaults({ replicaId }), (label) => `${label}: lag, dropped keys and freeze cleared`);
  }

  /** Runs a simulated L0 action on a replica's domain. */
  l0Action(replicaId: string, action: DemoL0Action): Promise<void> {
    return this.run(replicaId, action, () => this.api.demoL0Action({ replicaId, action }), (label, status) =>
      describeL0Action(label, action, replicaId, status),
    );
  }

  private async run(
    replicaId: string,
    action: string,
    request: () => Promise<DemoStatus>,
    describe: (label: string, status: DemoStatus) => string,
  ): Promise<void> {
    const state = this.store.getState();
    if (state.demo === null || state.demoPending !== null) return;
    const label = state.demo.replicas.find((replica) => replica.id === replicaId)?.label ?? replicaId;
    state.setDemoPending({ replicaId, action });
    try {
      const status = await request();
      // The session may have closed while the request was out: then there is no panel to update.
      if (this.store.getState().demo === null) return;
      this.store.getState().setDemoStatus(status);
      this.store.getState().setDemoMessage(describe(label, status));
    } catch (error) {
      this.store.getState().pushNotice({ level: 'error', message: messageOf(error) });
      this.store.getState().setDemoMessage(null);
    } finally {
      this.store.getState().setDemoPending(null);
    }
  }
}
