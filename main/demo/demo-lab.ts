// The built-in demo lab: N replicas of one deterministic guest, each served by its own RFB server
// on 127.0.0.1, a simulated L0 to power-cycle and snapshot them, run-time fault injection, and the
// connection profile that points RetroVisor at it. Runs in Node.

import { DemoReplica, type DemoClock } from './demo-replica';
import { FaultSpecError, type Fault, type ReplicaFault } from './faults';
import { type Size } from './framebuffer';
import { DEFAULT_GUEST_SIZE } from './guest-desktop';
import { SimulatedL0 } from './simulated-l0';

export type { DemoClock } from './demo-replica';

/** How to start the demo lab; every field has a default. */
export interface DemoLabOptions {
  /** Number of replicas, 1..MAX_DEMO_REPLICAS; default 3. */
  readonly replicas?: number;
  /** Guest screen size; default 1024x768. */
  readonly size?: Size;
  /** Port of r1 (r2 gets portBase + 1, ...); 0 (default) = free ports. */
  readonly portBase?: number;
  /** VNC password of every replica; default none (security None). */
  readonly password?: string;
  /** Faults in force from the start (e.g. parsed from `--fault r2:lag=200`). */
  readonly faults?: readonly ReplicaFault[];
  /** Clock for the cursor blink: one for all, or one per replica (to blink out of phase). Default Date.now. */
  readonly clock?: DemoClock | ((replicaId: string) => DemoClock);
  /** Cursor blink half period; 0 = steady cursor. Default 500 ms. */
  readonly cursorBlinkMs?: number;
  /**
   * Show the replica label in the guest's title bar. Default false: replicas of one VM show the same
   * screen, so the label (which differs) goes into the VNC desktop name instead.
   */
  readonly labelInTitleBar?: boolean;
  /** Random source in [0, 1) for random lag; default Math.random. */
  readonly random?: () => number;
  /** One line per notable server event (clients dropped and why). */
  readonly log?: (message: string) => void;
}

/** Where a demo replica listens. */
export interface DemoLabReplica {
  readonly id: string;
  readonly label: string;
  readonly host: string;
  readonly port: number;
  readonly domain: string;
}

/** A running demo lab. */
export interface DemoLab {
  readonly replicas: readonly DemoLabReplica[];
  readonly l0: SimulatedL0;
  /** The VNC password, if any (demoLabProfile puts it in the profile). */
  readonly password: string | undefined;
  /** Applies a fault to a replica now. */
  setFault(replicaId: string, fault: Fault): Promise<void>;
  /** Removes a replica's lasting faults (lag, drop-key, freeze). */
  clearFaults(replicaId: string): void;
  /** The replica object behind an id (its guest, state and faults), for tests and diagnostics. */
  replica(replicaId: string): DemoReplica;
  /** Stops every replica. */
  stop(): Promise<void>;
}

/** Replicas started when the caller does not say. */
export const DEFAULT_DEMO_REPLICAS = 3;
/** At most this many replicas (the profile allows 8). */
export const MAX_DEMO_REPLICAS = 8;
/** Every demo replica listens on loopback only. */
export const DEMO_HOST = '127.0.0.1';
/** The name of the simulated L0 in the demo profile. */
export const DEMO_L0_NAME = 'demo';
/** Title bar text of every demo guest (unless labelInTitleBar). */
export const DEMO_GUEST_TITLE = 'demo-vm: RetroVisor demo guest';

const SYSTEM_CLOCK: DemoClock = { now: () => Date.now() };

/** Starts the demo lab; on failure nothing is left running. */
export async function startDemoLab(options: DemoLabOptions = {}): Promise<DemoLab> {
  const count = options.replicas ?? DEFAULT_DEMO_REPLICAS;
  if (!Number.isInteger(count) || count < 1 || count > MAX_DEMO_REPLICAS) {
    throw new RangeError(`the demo lab runs 1 to ${MAX_DEMO_REPLICAS} replicas, not ${count}`);
  }
  const portBase = options.portBase ?? 0;
  if (!Number.isInteger(portBase) || portBase < 0 || (portBase > 0 && portBase + count - 1 > 65535)) {
    throw new RangeError(`portBase ${portBase} leaves no room for ${count} ports`);
  }
  const size = options.size ?? DEFAULT_GUEST_SIZE;
  const replicas: DemoReplica[] = [];
  for (let index = 0; index < count; index++) {
    const id = `r${index + 1}`;
    const label = `Demo ${index + 1}`;
    const clock = typeof options.clock === 'function' ? options.clock(id) : (options.clock ?? SYSTEM_CLOCK);
    replicas.push(
      new DemoReplica({
        id,
        label,
        domain: id,
        size,
        title: options.labelInTitleBar ? `${label}: RetroVisor demo guest` : DEMO_GUEST_TITLE,
        desktopName: `RetroVisor demo: ${label}`,
        host: DEMO_HOST,
        port: portBase === 0 ? 0 : portBase + index,
        clock,
        ...(options.password === undefined ? {} : { password: options.password }),
        ...(options.cursorBlinkMs === undefined ? {} : { cursorBlinkMs: options.cursorBlinkMs }),
        ...(options.random === undefined ? {} : { random: options.random }),
        ...(options.log === undefined ? {} : { log: (message: string) => options.log?.(`${id}: ${message}`) }),
      }),
    );
  }
  const byId = new Map(replicas.map((replica) => [replica.id, replica]));
  const find = (replicaId: string): DemoReplica => {
    const replica = byId.get(replicaId);
    if (replica === undefined) throw new RangeError(`no demo replica "${replicaId}" (have ${[...byId.keys()].join(', ')})`);
    return replica;
  };
  for (const { replicaId } of options.faults ?? []) {
    if (!byId.has(replicaId)) throw new FaultSpecError(`fault for "${replicaId}", but the lab has ${[...byId.keys()].join(', ')}`);
  }

  try {
    for (const replica of replicas) await replica.boot();
    for (const { replicaId, fault } of options.faults ?? []) await find(replicaId).applyFault(fault);
  } catch (error) {
    await Promise.all(replicas.map((replica) => replica.halt()));
    throw error;
  }

  return {
    replicas: replicas.map((replica) => ({
      id: replica.id,
      label: replica.label,
      host: replica.host,
      // Fixed after the first boot: the simulated L0 restarts a replica on the same port.
      port: replica.port,
      domain: replica.domain,
    })),
    l0: new SimulatedL0(replicas),
    password: options.password,
    setFault: (replicaId, fault) => find(replicaId).applyFault(fault),
    clearFaults: (replicaId) => find(replicaId).clearFaults(),
    replica: find,
    stop: async () => {
      await Promise.all(replicas.map((replica) => replica.halt()));
    },
  };
}

/** The profile document (JSON form, version 1) that connects RetroVisor to a running demo lab. */
export interface DemoLabProfile {
  readonly version: 1;
  readonly name: string;
  readonly replicas: readonly {
    readonly id: string;
    readonly label: string;
    readonly vnc: { readonly host: string; readonly port: number; readonly password?: string };
    readonly l0: string;
    readonly domain: string;
  }[];
  readonly l0: Readonly<Record<string, { readonly simulated: true }>>;
  /** The demo asks before it remediates: the user sees the plan and the evidence first. */
  readonly remediation: { readonly mode: 'confirm'; readonly outlierMs: number };
}

/** How long a demo replica must keep disagreeing before the manager proposes to remediate it. */
export const DEMO_OUTLIER_MS = 2_000;

/** The profile for `lab`, as a user would write it (validate with common/profile.ts). */
export function demoLabProfile(lab: Pick<DemoLab, 'replicas' | 'password'>, name = 'demo'): DemoLabProfile {
  return {
    version: 1,
    name,
    replicas: lab.replicas.map((replica) => ({
      id: replica.id,
      label: replica.label,
      vnc: {
        host: replica.host,
        port: replica.port,
        ...(lab.password === undefined ? {} : { password: lab.password }),
      },
      l0: DEMO_L0_NAME,
      domain: replica.domain,
    })),
    l0: { [DEMO_L0_NAME]: { simulated: true } },
    remediation: { mode: 'confirm', outlierMs: DEMO_OUTLIER_MS },
  };
}
