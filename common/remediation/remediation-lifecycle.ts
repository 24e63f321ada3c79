// The remediation lifecycle of one replica as an explicit transition table over a discriminated
// union: healthy → suspect → planned → awaiting-confirmation → remediating → healthy | next rung |
// quarantined. Every change goes through `transitionLifecycle`, which refuses illegal ones. Pure.

import type { RemediationRung } from './remediation-settings';

/** Why a replica became a candidate: it kept disagreeing, or it is lost and its domain is down. */
export type TriggerCause = 'outlier' | 'domain-down';

/** What a plan was based on, kept with it for the confirmation dialog and the audit log. */
export interface PlanEvidence {
  readonly cause: TriggerCause | 'manual';
  /** When the trigger condition began (the request time for a manual action). */
  readonly sinceMs: number;
  /** The replicas agreeing with each other (the majority) when the plan was made. */
  readonly agreeing: readonly string[];
  readonly voters: readonly string[];
  /** The comparison's own reference to its evidence (a divergence report id), when it gave one. */
  readonly evidenceRef: string | null;
}

/** One remediation episode of one replica: the rung it is on; the plan id stays across rungs. */
export interface RemediationPlan {
  readonly planId: string;
  readonly replicaId: string;
  readonly rung: RemediationRung;
  /** Position in the profile's ladder; -1 for a manual action (a one-rung ladder). */
  readonly rungIndex: number;
  readonly manual: boolean;
  readonly evidence: PlanEvidence;
}

export type LifecycleStateName = 'healthy' | 'suspect' | 'planned' | 'awaiting-confirmation' | 'remediating' | 'quarantined';

export type RemediationLifecycle =
  | { readonly name: 'healthy' }
  /** The trigger condition holds (timing may not have run out yet). */
  | { readonly name: 'suspect'; readonly cause: TriggerCause; readonly sinceMs: number }
  /** A plan exists; it is started or sent for confirmation within the same call. */
  | { readonly name: 'planned'; readonly plan: RemediationPlan }
  | { readonly name: 'awaiting-confirmation'; readonly plan: RemediationPlan; readonly askedAtMs: number }
  /** A rung runs: no live input, no vote, until it agrees again, fails or times out. */
  | { readonly name: 'remediating'; readonly plan: RemediationPlan; readonly startedAtMs: number; readonly deadlineMs: number }
  /** No input, no vote, until the user includes it again. */
  | { readonly name: 'quarantined'; readonly reason: string; readonly sinceMs: number };

export type LifecycleEvent =
  | { readonly type: 'suspect'; readonly cause: TriggerCause; readonly sinceMs: number }
  /** The trigger condition is gone (the replica agrees again, or reconnected). */
  | { readonly type: 'clear' }
  | { readonly type: 'plan'; readonly plan: RemediationPlan }
  | { readonly type: 'ask'; readonly nowMs: number }
  | { readonly type: 'start'; readonly nowMs: number; readonly deadlineMs: number }
  /** The plan is dropped (declined, or its guards no longer hold) while the trigger still holds. */
  | { readonly type: 'withdraw' }
  | { readonly type: 'rung-agreed' }
  | { readonly type: 'next-rung'; readonly plan: RemediationPlan }
  | { readonly type: 'quarantine'; readonly reason: string; readonly nowMs: number }
  /** Only by a manual "include again". */
  | { readonly type: 'include-again' };

export type LifecycleTransition =
  | { readonly ok: true; readonly state: RemediationLifecycle }
  | { readonly ok: false; readonly state: RemediationLifecycle; readonly error: string };

/** The table: for each event, the states it is legal in. Anything else is refused. */
export const LIFECYCLE_TRANSITIONS: Readonly<Record<LifecycleEvent['type'], readonly LifecycleStateName[]>> = {
  suspect: ['healthy', 'suspect'],
  clear: ['suspect', 'planned', 'awaiting-confirmation'],
  // From healthy and quarantined only for a manual action (checked below).
  plan: ['healthy', 'suspect', 'quarantined'],
  ask: ['planned'],
  start: ['planned', 'awaiting-confirmation'],
  withdraw: ['planned', 'awaiting-confirmation'],
  'rung-agreed': ['remediating'],
  'next-rung': ['remediating'],
  quarantine: ['healthy', 'suspect', 'planned', 'awaiting-confirmation', 'remediating'],
  'include-again': ['quarantined'],
};

function refuse(state: RemediationLifecycle, event: LifecycleEvent, why?: string): LifecycleTransition {
  const detail = why === undefined ? '' : ` (${why})`;
  return { ok: false, state, error: `illegal transition: "${event.type}" in state "${state.name}"${detail}` };
}

/** Applies one event; an event the table does not allow in the current state is refused, the state kept. */
export function transitionLifecycle(state: RemediationLifecycle, event: LifecycleEvent): LifecycleTransition {
  if (!LIFECYCLE_TRANSITIONS[event.type].includes(state.name)) return refuse(state, event);
  const ok = (next: RemediationLifecycle): LifecycleTransition => ({ ok: true, state: next });
  switch (event.type) {
    case 'suspect':
      return ok({ name: 'suspect', cause: event.cause, sinceMs: event.sinceMs });
    case 'clear':
      return ok({ name: 'healthy' });
    case 'plan':
      if (!event.plan.manual && state.name !== 'suspect') return refuse(state, event, 'only a manual action plans for a replica that is not suspect');
      return ok({ name: 'planned', plan: event.plan });
    case 'ask':
      if (state.name !== 'planned') return refuse(state, event);
      if (state.plan.manual) return refuse(state, event, 'a manual action is not confirmed twice');
      return ok({ name: 'awaiting-confirmation', plan: state.plan, askedAtMs: event.nowMs });
    case 'start':
      if (state.name !== 'planned' && state.name !== 'awaiting-confirmation') return refuse(state, event);
      return ok({ name: 'remediating', plan: state.plan, startedAtMs: event.nowMs, deadlineMs: event.deadlineMs });
    case 'withdraw': {
      if (state.name !== 'planned' && state.name !== 'awaiting-confirmation') return refuse(state, event);
      const { evidence } = state.plan;
      return ok(evidence.cause === 'manual' ? { name: 'healthy' } : { name: 'suspect', cause: evidence.cause, sinceMs: evidence.sinceMs });
    }
    case 'rung-agreed':
      return ok({ name: 'healthy' });
    case 'next-rung':
      if (state.name !== 'remediating') return refuse(state, event);
      if (event.plan.planId !== state.plan.planId || event.plan.rungIndex <= state.plan.rungIndex) {
        return refuse(state, event, 'the next rung continues the same plan further down the ladder');
      }
      return ok({ name: 'planned', plan: event.plan });
    case 'quarantine':
      return ok({ name: 'quarantined', reason: event.reason, sinceMs: event.nowMs });
    case 'include-again':
      return ok({ name: 'healthy' });
  }
}

/** The rung a state is about (planned, awaiting or running), else null. */
export function rungOf(state: RemediationLifecycle): RemediationRung | null {
  return state.name === 'planned' || state.name === 'awaiting-confirmation' || state.name === 'remediating' ? state.plan.rung : null;
}

/** A short human label for a lifecycle state ("remediating: revert-replay, 12 s left"). */
export function describeLifecycle(state: RemediationLifecycle, nowMs: number): string {
  switch (state.name) {
    case 'healthy':
      return 'healthy';
    case 'suspect':
      return state.cause === 'outlier' ? `outlier for ${Math.max(0, Math.round((nowMs - state.sinceMs) / 1000))} s` : 'lost, domain down';
    case 'planned':
      return `planned: ${state.plan.rung}`;
    case 'awaiting-confirmation':
      return `awaiting confirmation: ${state.plan.rung}`;
    case 'remediating':
      return `remediating: ${state.plan.rung}, ${Math.max(0, Math.ceil((state.deadlineMs - nowMs) / 1000))} s left`;
    case 'quarantined':
      return `quarantined: ${state.reason}`;
  }
}
