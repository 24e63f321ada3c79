// Shared pieces of the remediation manager's tests: an L0 driver that records every call (and fails
// as a test scripts it), a UI that answers the manager's commands the way the renderer would, a
// recorder a test waits on (an event, never a sleep), and a SessionManager wired to them. Plain Node.

import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ManagerCommand, ManagerCommandAnswer, ManagerCommandEvent, Notice, RemediationView } from '../../../../common/contract';
import type { DomainListing, DomainState, DomainStateDetail, L0Driver } from '../../../../common/l0';
import { validateProfile, type Profile } from '../../../../common/profile';
import { AuditLog, auditFilePath } from '../../../../main/remediation/audit-log';
import { SessionManager, type ManagerEvent, type ReplicaL0 } from '../../../../main/remediation/session-manager';
import { UiCommandBus, type UiCommandBusOptions } from '../../../../main/remediation/ui-commands';
import { recordingLogger } from '../backend/service-fakes';

/** How long a test waits for one expected event before it fails, naming what it waited for. */
export const EVENT_WAIT_MS = 5_000;

/** Things that happen in order; a test waits for the one it expects. */
export class Recorder<T> {
  readonly items: T[] = [];
  private readonly waiters: { predicate: (item: T) => boolean; resolve: (item: T) => void }[] = [];

  push(item: T): void {
    this.items.push(item);
    for (const waiter of [...this.waiters]) {
      if (!waiter.predicate(item)) continue;
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve(item);
    }
  }

  /** Items so far that match. */
  filter(predicate: (item: T) => boolean): T[] {
    return this.items.filter(predicate);
  }

  /**
   * Resolves with the `nth` (1-based) matching item, already recorded or to come. Rejects after
   * `timeoutMs` naming `what` and what was seen instead: a deadline that explains a failure, never a
   * pause the test relies on.
   */
  waitFor(what: string, predicate: (item: T) => boolean, nth = 1, timeoutMs = EVENT_WAIT_MS): Promise<T> {
    const seen = this.items.filter(predicate);
    if (seen.length >= nth) return Promise.resolve(seen[nth - 1] as T);
    let remaining = nth - seen.length;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`timed out waiting for ${what}; seen:\n${this.items.map((item) => JSON.stringify(item)).join('\n')}`));
      }, timeoutMs);
      // Not unref'd: the manager's own timers are, and a test waiting for one of them must keep Node alive.
      const waiter = {
        predicate: (item: T) => predicate(item) && --remaining === 0,
        resolve: (item: T) => {
          clearTimeout(timer);
          resolve(item);
        },
      };
      this.waiters.push(waiter);
    });
  }
}

/** One operation the manager asked of an L0. */
export interface L0Call {
  readonly operation: keyof L0Driver;
  readonly domain?: string;
  readonly name?: string;
}

/**
 * An L0Driver that records every call. `script` may answer a call instead of the default (return a
 * promise, rejected to fail it); by default domains run, snapshot lists are empty and actions succeed.
 */
export class FakeL0Driver implements L0Driver {
  readonly calls = new Recorder<L0Call>();
  script: (call: L0Call) => Promise<unknown> | undefined = () => undefined;
  /** What domainState answers per domain (default 'running'). */
  readonly domainStates = new Map<string, DomainState>();
  /** What listSnapshots answers per domain (default none). */
  readonly existingSnapshots = new Map<string, string[]>();

  /** The calls so far as "operation domain name" strings, optionally only some operations. */
  log(operations?: readonly (keyof L0Driver)[]): string[] {
    return this.calls.items
      .filter((call) => operations === undefined || operations.includes(call.operation))
      .map((call) => [call.operation, call.domain, call.name].filter((part) => part !== undefined).join(' '));
  }

  domainState(domain: string): Promise<DomainState> {
    return this.call({ operation: 'domainState', domain }, () => this.domainStates.get(domain) ?? 'running');
  }

  domainStateReason(domain: string): Promise<DomainStateDetail> {
    return this.call({ operation: 'domainStateReason', domain }, () => ({ state: this.domainStates.get(domain) ?? 'running', reason: 'unknown' }));
  }

  listDomains(): Promise<DomainListing[]> {
    return this.call({ operation: 'listDomains' }, () => []);
  }

  domainDisplay(domain: string): Promise<string> {
    return this.call({ operation: 'domainDisplay', domain }, () => 'vnc://127.0.0.1:1');
  }

  start(domain: string): Promise<void> {
    return this.call({ operation: 'start', domain }, () => undefined);
  }

  destroy(domain: string): Promise<void> {
    return this.call({ operation: 'destroy', domain }, () => undefined);
  }

  reset(domain: string): Promise<void> {
    return this.call({ operation: 'reset', domain }, () => undefined);
  }

  reboot(domain: string): Promise<void> {
    return this.call({ operation: 'reboot', domain }, () => undefined);
  }

  snapshotCreate(domain: string, name: string): Promise<void> {
    return this.call({ operation: 'snapshotCreate', domain, name }, () => undefined);
  }

  snapshotRevert(domain: string, name: string): Promise<void> {
    return this.call({ operation: 'snapshotRevert', domain, name }, () => undefined);
  }

  listSnapshots(domain: string): Promise<string[]> {
    return this.call({ operation: 'listSnapshots', domain }, () => [...(this.existingSnapshots.get(domain) ?? [])]);
  }

  snapshotDelete(domain: string, name: string): Promise<void> {
    return this.call({ operation: 'snapshotDelete', domain, name }, () => undefined);
  }

  private call<T>(call: L0Call, fallback: () => T): Promise<T> {
    this.calls.push(call);
    const scripted = this.script(call);
    return scripted === undefined ? Promise.resolve(fallback()) : (scripted as Promise<T>);
  }
}

/** A command as the UI received it. */
export interface ReceivedCommand {
  readonly sessionId: string;
  readonly commandId: string;
  readonly command: ManagerCommand;
}

type Answer = Omit<ManagerCommandAnswer, 'sessionId' | 'commandId'>;

/**
 * A UI that answers the manager's commands like the renderer: hold-input → the journal's last seq,
 * await-agreement → what the test scripted (agreed by default), the others → ok. `silent` never answers
 * (no window). `beforeAnswer` runs first (a reconnect reports its replica's states, as the UI does).
 */
export class FakeUi {
  readonly received = new Recorder<ReceivedCommand>();
  /** Answers to a command nobody waits for any more (the back end refused them). */
  readonly refusedAnswers: string[] = [];
  /** The journal's last sequence number, answered to hold-input. */
  seq = 0;
  /** Inputs a replay reports. */
  replayed = 0;
  /** Answers of await-agreement, in order; once used up, every replica agrees. */
  readonly agreements: { agreed: boolean; outliers?: string[] }[] = [];
  silent = false;
  beforeAnswer: (received: ReceivedCommand) => Promise<void> | void = () => undefined;
  /** Where answers go (UiCommandBus.answer or RemediationService.answer). */
  sink: (answer: ManagerCommandAnswer) => void = () => undefined;

  /** The types of the commands received so far (optionally for one replica only). */
  types(replicaId?: string): string[] {
    return this.received.items
      .filter((item) => replicaId === undefined || ('replicaId' in item.command && item.command.replicaId === replicaId))
      .map((item) => item.command.type);
  }

  /** Takes one command event; answers it unless silent. */
  receive(event: ManagerCommandEvent): void {
    const received: ReceivedCommand = { sessionId: event.sessionId, commandId: event.commandId, command: event.command };
    this.received.push(received);
    if (this.silent) return;
    void this.answerLater(received);
  }

  private async answerLater(received: ReceivedCommand): Promise<void> {
    // Answers arrive later, as from a window: never inside the call that sent the command.
    await new Promise<void>((resolve) => setImmediate(resolve));
    await this.beforeAnswer(received);
    const answer: Answer = this.answerTo(received.command);
    try {
      this.sink({ sessionId: received.sessionId, commandId: received.commandId, ...answer });
    } catch (error) {
      this.refusedAnswers.push(`${received.command.type}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private answerTo(command: ManagerCommand): Answer {
    switch (command.type) {
      case 'hold-input':
        return { ok: true, seq: this.seq };
      case 'isolate':
        return { ok: true, seq: this.seq };
      case 'await-agreement': {
        const scripted = this.agreements.shift() ?? { agreed: true };
        return { ok: true, agreed: scripted.agreed, ...(scripted.outliers === undefined ? {} : { outliers: scripted.outliers }) };
      }
      case 'replay':
        return { ok: true, replayed: this.replayed };
      default:
        return { ok: true };
    }
  }
}

/** A profile document: replicas r1..rN on the L0 "lab" (simulated unless given), domains rv-1..rv-N. */
export function profileDocument(options: { name?: string; replicaCount?: number; remediation?: Record<string, unknown>; l0?: Record<string, unknown> }): Record<string, unknown> {
  const count = options.replicaCount ?? 3;
  return {
    version: 1,
    name: options.name ?? 'Lab One',
    replicas: Array.from({ length: count }, (_, index) => ({
      id: `r${index + 1}`,
      vnc: { host: '127.0.0.1', port: 5901 + index },
      l0: 'lab',
      domain: `rv-${index + 1}`,
    })),
    l0: { lab: options.l0 ?? { simulated: true } },
    ...(options.remediation === undefined ? {} : { remediation: options.remediation }),
  };
}

/** The validated profile of a document (fails the test when it is not valid). */
export function validProfile(document: Record<string, unknown>): Profile {
  const validation = validateProfile(document);
  if (!validation.ok) throw new Error(`test profile rejected: ${JSON.stringify(validation.problems)}`);
  return validation.profile;
}

/** A temporary data folder, removed by `remove`. */
export async function temporaryFolder(prefix: string): Promise<{ folder: string; remove: () => Promise<void> }> {
  const folder = await mkdtemp(path.join(os.tmpdir(), prefix));
  return { folder, remove: () => rm(folder, { recursive: true, force: true }) };
}

export interface ManagerHarnessOptions {
  readonly remediation: Record<string, unknown>;
  readonly replicaCount?: number;
  readonly name?: string;
  /** Replicas the manager may act on (default: all, on one FakeL0Driver). */
  readonly controllable?: readonly string[];
  readonly lostDomainPollMs?: number;
  readonly bus?: UiCommandBusOptions;
  readonly dataDirectory: string;
}

/** A SessionManager over a FakeL0Driver and a FakeUi (through a real UiCommandBus), auditing into a temp folder. */
export function managerHarness(options: ManagerHarnessOptions) {
  const sessionId = 'session-1';
  const profile = validProfile(profileDocument({ remediation: options.remediation, ...(options.replicaCount === undefined ? {} : { replicaCount: options.replicaCount }), ...(options.name === undefined ? {} : { name: options.name }) }));
  const log = recordingLogger();
  const l0 = new FakeL0Driver();
  const ui = new FakeUi();
  const bus = new UiCommandBus((event) => ui.receive(event), options.bus ?? {});
  ui.sink = (answer) => bus.answer(answer);
  const events = new Recorder<ManagerEvent>();
  const views = new Recorder<RemediationView>();
  const notices = new Recorder<Notice>();
  const audit = new AuditLog(auditFilePath(options.dataDirectory, profile.name), log.logger, log.redactor);
  const l0s = new Map<string, ReplicaL0>();
  for (const replica of profile.replicas) {
    if (options.controllable !== undefined && !options.controllable.includes(replica.id)) continue;
    l0s.set(replica.id, { driver: l0, domain: replica.domain ?? replica.id, l0: 'lab' });
  }
  const manager = new SessionManager({
    sessionId,
    profile,
    l0s,
    audit,
    logger: log.logger,
    ui: (command) => bus.run(sessionId, command),
    publish: (view) => views.push(view),
    emit: (event) => events.push(event),
    notify: (level, message) => notices.push({ level, message }),
    agreementQuietMs: 100,
    ...(options.lostDomainPollMs === undefined ? {} : { lostDomainPollMs: options.lostDomainPollMs }),
  });
  const ids = profile.replicas.map((replica) => replica.id);
  return {
    sessionId,
    profile,
    log,
    l0,
    ui,
    bus,
    events,
    views,
    notices,
    audit,
    manager,
    ids,
    /** Every replica reports a VNC connection (the UI's replica state reports). */
    connectAll(): void {
      for (const id of ids) manager.replicaState(id, 'connected');
    },
    /** The comparison's divergence report: `outliers` differ from `agreeing`. */
    diverge(outliers: readonly string[], agreeing: readonly string[], noMajority = false): void {
      manager.divergenceReport({ kind: 'divergence', outliers, agreeing, noMajority }, null);
    },
    /** The comparison's consensus report: every compared replica agrees. */
    consensus(): void {
      manager.divergenceReport({ kind: 'consensus', outliers: [], agreeing: [], noMajority: false }, null);
    },
    async close(): Promise<void> {
      manager.close();
      bus.cancel('the test ended');
      await audit.close();
    },
  };
}

/** Resolves with the manager's first checkpoint once it succeeded (or fails the test with what happened). */
export function checkpointSucceeded(events: Recorder<ManagerEvent>, nth = 1): Promise<ManagerEvent> {
  return events.waitFor(`checkpoint #${nth} succeeded`, (event) => event.type === 'checkpoint' && event.status === 'succeeded', nth);
}

/** A remediation event of one replica, rung and status. */
export function remediationEvent(replica: string, action: string, status: string) {
  return (event: ManagerEvent): boolean => event.type === 'remediation' && event.replica === replica && event.action === action && event.status === status;
}
