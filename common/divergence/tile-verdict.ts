// The per-tile (and per-desktop-size) verdict as an explicit state machine: a disagreement is only
// confirmed after it has been observed, settled, for CONFIRM_MS; agreement clears at once. Pure.

import { type Partition } from './partition';

/** What one judgement saw in a tile (or in the desktop sizes). */
export type Observation =
  /** Some replica is still changing there (or its blink cycle is not yet established). */
  | { readonly kind: 'unjudgeable' }
  | { readonly kind: 'agree' }
  | { readonly kind: 'disagree'; readonly partition: Partition };

/** The verdict kept for a tile between judgements. */
export type Verdict =
  /** Never judged, or judged again from scratch after the replicas changed there. */
  | { readonly name: 'unjudged' }
  | { readonly name: 'agree' }
  /** Seen disagreeing since `sinceMs`; not reported until confirmed. */
  | { readonly name: 'pending'; readonly partition: Partition; readonly sinceMs: number }
  /**
   * Confirmed (reported). `next` is a different disagreement being confirmed in its place (the
   * outliers changed): the reported one stays until that one is confirmed or the tile agrees.
   */
  | {
      readonly name: 'diverged';
      readonly partition: Partition;
      readonly sinceMs: number;
      readonly next: { readonly partition: Partition; readonly sinceMs: number } | null;
    };

/** The shared instances of the data-free observations and verdicts (compared by identity). */
export const UNJUDGEABLE: Observation = { kind: 'unjudgeable' };
export const AGREE: Observation = { kind: 'agree' };
export const UNJUDGED: Verdict = { name: 'unjudged' };
export const AGREED: Verdict = { name: 'agree' };

/**
 * Applies one observation at `nowMs`. Transition table:
 * - agree: any → agree (agreement seen on settled screens is trusted at once);
 * - unjudgeable: pending → unjudged (confirmation needs an unbroken run of settled judgements);
 *   diverged keeps showing (its `next` is dropped); unjudged and agree stay;
 * - disagree(P): unjudged/agree → pending(P); pending(P) → diverged(P) once held for confirmMs;
 *   pending(Q≠P) → pending(P) afresh; diverged(P) stays; diverged(Q≠P) → diverged(P) once P has
 *   held for confirmMs (meanwhile Q stays reported).
 */
export function nextVerdict(verdict: Verdict, observation: Observation, nowMs: number, confirmMs: number): Verdict {
  switch (observation.kind) {
    case 'agree':
      return AGREED;
    case 'unjudgeable':
      if (verdict.name === 'pending') return UNJUDGED;
      if (verdict.name === 'diverged' && verdict.next !== null) return { ...verdict, next: null };
      return verdict;
    case 'disagree': {
      const partition = observation.partition;
      switch (verdict.name) {
        case 'unjudged':
        case 'agree':
          return confirmMs <= 0 ? { name: 'diverged', partition, sinceMs: nowMs, next: null } : { name: 'pending', partition, sinceMs: nowMs };
        case 'pending':
          if (verdict.partition !== partition) return { name: 'pending', partition, sinceMs: nowMs };
          return nowMs - verdict.sinceMs >= confirmMs ? { name: 'diverged', partition, sinceMs: verdict.sinceMs, next: null } : verdict;
        case 'diverged': {
          if (verdict.partition === partition) return verdict.next === null ? verdict : { ...verdict, next: null };
          if (verdict.next === null || verdict.next.partition !== partition) {
            return confirmMs <= 0 ? { name: 'diverged', partition, sinceMs: nowMs, next: null } : { ...verdict, next: { partition, sinceMs: nowMs } };
          }
          return nowMs - verdict.next.sinceMs >= confirmMs ? { name: 'diverged', partition, sinceMs: verdict.next.sinceMs, next: null } : verdict;
        }
      }
    }
  }
}
