// The desktop status of the back end: from the UI's replica and divergence reports and the
// remediation manager's events, each open session's facts (common/desktop-status.ts), the tray
// summary and the events notifications follow. Node-side; the tray and notifications need no renderer.

import type { DivergenceReport, ReplicaStatusReport, RemediationView, SessionInfo } from '../../common/contract';
import { summarize, type DesktopEvent, type DesktopSummary, type ReplicaFacts, type SessionFacts } from '../../common/desktop-status';
import type { Logger } from '../logger';
import type { ManagerEvent } from '../remediation/session-manager';
import { Listeners } from './listeners';

/** A summary change and the events that came with it. */
export type DesktopStatusListener = (summary: DesktopSummary, events: readonly DesktopEvent[]) => void;

/** The L0 a host key message names: `(l0 "name")` at the end of ssh-l0's message. */
const HOST_KEY_CHANGED = /host key for .* changed.*\(l0 "([^"]{1,200})"\)/s;

/** The host-key-changed event a text (ssh-l0's message) names, or null. */
function hostKeyChanged(sessionId: string, text: string): DesktopEvent | null {
  const match = HOST_KEY_CHANGED.exec(text);
  return match === null ? null : { type: 'host-key-changed', sessionId, l0: match[1] as string };
}

/** Keeps every open session's facts and tells listeners when the summary changes or something happens. */
export class DesktopStatusService {
  private readonly facts = new Map<string, SessionFacts>();
  /** Whether each session's manager can act, as last published (it may publish before the first report). */
  private readonly canAct = new Map<string, boolean>();
  private readonly listeners: Listeners<DesktopStatusListener>;
  private last: DesktopSummary = summarize([]);

  constructor(logger: Logger) {
    this.listeners = new Listeners<DesktopStatusListener>(logger, 'desktop status');
  }

  /** The summary now. */
  summary(): DesktopSummary {
    return this.last;
  }

  /** One session's facts, or null once it is closed (or before its first report). */
  session(sessionId: string): SessionFacts | null {
    return this.facts.get(sessionId) ?? null;
  }

  /** Listens to summary changes and events; returns the unsubscribe. */
  onChange(listener: DesktopStatusListener): () => void {
    return this.listeners.add(listener);
  }

  /** A replica state report: a connected replica that drops is lost; one that connects again is back. */
  replicaReport(report: ReplicaStatusReport, info: SessionInfo): void {
    const session = this.ensure(info);
    const events: DesktopEvent[] = [];
    const replicas = session.replicas.map((replica): ReplicaFacts => {
      if (replica.id !== report.replicaId) return replica;
      const wasConnected = replica.state === 'connected';
      const nowConnected = report.state === 'connected';
      const lostStates = ['disconnected', 'reconnecting', 'auth-failed', 'needs-password'];
      if (wasConnected && lostStates.includes(report.state)) events.push({ type: 'replica-lost', sessionId: session.sessionId, replicaId: replica.id });
      if (nowConnected && replica.everConnected && !wasConnected) events.push({ type: 'replica-back', sessionId: session.sessionId, replicaId: replica.id });
      return { ...replica, state: report.state, everConnected: replica.everConnected || nowConnected };
    });
    // A tunnelled replica whose L0 presents another host key fails with ssh-l0's message as its reason.
    const hostKey = hostKeyChanged(session.sessionId, report.reason ?? '');
    if (hostKey !== null) events.push(hostKey);
    this.update({ ...session, replicas }, events);
  }

  /** A divergence report: a new one (or a new split) is an event; consensus after one is "resolved". */
  divergenceReport(report: DivergenceReport, info: SessionInfo): void {
    const session = this.ensure(info);
    if (report.kind === 'consensus') {
      this.update({ ...session, divergence: null }, session.divergence === null ? [] : [{ type: 'resolved', sessionId: session.sessionId }]);
      return;
    }
    const divergence = { outliers: [...report.outliers], regions: report.regions.length, noMajority: report.noMajority };
    const before = session.divergence;
    const newSplit = before === null || before.noMajority !== divergence.noMajority || before.outliers.join() !== divergence.outliers.join();
    this.update(
      { ...session, divergence },
      newSplit ? [{ type: 'divergence', sessionId: session.sessionId, outliers: divergence.outliers, regions: divergence.regions, noMajority: divergence.noMajority }] : [],
    );
  }

  /** The remediation manager's events: remediations start and end; a host key that changed (an alert, a failure's detail) is its own event. */
  managerEvent(event: ManagerEvent): void {
    const session = this.facts.get(event.sessionId);
    if (session === undefined) return;
    const events: DesktopEvent[] = [];
    let next = session;
    if (event.type === 'remediation' && (event.status === 'started' || event.status === 'succeeded' || event.status === 'failed')) {
      const remediating = event.status === 'started';
      next = { ...session, replicas: session.replicas.map((replica) => (replica.id === event.replica ? { ...replica, remediating } : replica)) };
      events.push({ type: 'remediation', sessionId: session.sessionId, replicaId: event.replica, action: event.action, status: event.status });
    }
    const hostKey = hostKeyChanged(session.sessionId, event.type === 'alert' ? event.message : (event.detail ?? ''));
    if (hostKey !== null) events.push(hostKey);
    if (next !== session || events.length > 0) this.update(next, events);
  }

  /** The manager's view: whether a checkpoint can be taken. */
  remediationView(view: RemediationView): void {
    this.canAct.set(view.sessionId, view.canAct);
    const session = this.facts.get(view.sessionId);
    if (session === undefined || session.canCheckpoint === view.canAct) return;
    this.update({ ...session, canCheckpoint: view.canAct }, []);
  }

  /** The UI paused or resumed the session's broadcast. */
  broadcast(sessionId: string, enabled: boolean): void {
    const session = this.facts.get(sessionId);
    if (session === undefined || session.broadcasting === enabled) return;
    this.update({ ...session, broadcasting: enabled }, []);
  }

  /** The session closed: it leaves the summary. */
  sessionClosed(sessionId: string): void {
    this.canAct.delete(sessionId);
    if (!this.facts.delete(sessionId)) return;
    this.publish([]);
  }

  /** Forgets every listener (the back end is shutting down). */
  clear(): void {
    this.listeners.clear();
    this.facts.clear();
    this.canAct.clear();
  }

  private ensure(info: SessionInfo): SessionFacts {
    const known = this.facts.get(info.sessionId);
    if (known !== undefined) return known;
    const created: SessionFacts = {
      sessionId: info.sessionId,
      name: info.name,
      replicas: info.replicas.map((replica) => ({ id: replica.id, label: replica.label, state: 'idle', everConnected: false, remediating: false })),
      divergence: null,
      broadcasting: true,
      canCheckpoint: this.canAct.get(info.sessionId) ?? false,
    };
    this.facts.set(info.sessionId, created);
    return created;
  }

  private update(session: SessionFacts, events: readonly DesktopEvent[]): void {
    this.facts.set(session.sessionId, session);
    this.publish(events);
  }

  private publish(events: readonly DesktopEvent[]): void {
    const next = summarize([...this.facts.values()]);
    const changed = JSON.stringify(next) !== JSON.stringify(this.last);
    this.last = next;
    if (changed || events.length > 0) this.listeners.emit(next, events);
  }
}
