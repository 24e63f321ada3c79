// What the workspace says about the session as a whole: the toolbar's comparison status (never
// "all agree" while a replica is not connected), whether the main area must say that no replica is
// connected and why, and the broadcast badge's words. Pure functions over the store's data: tested
// in plain Node.

import { describeDivergenceState, type Divergence } from '../../common/divergence';
import { describeReplicaState } from '../../common/replica-state';
import type { ReplicaView } from '../store';
import { RELEASE_CHORD_TEXT } from '../../common/input/release-chord';

/** The colour of a status: green only when every replica is connected and they all agree. */
export type StatusTone = 'all' | 'some' | 'none';

/** The toolbar's comparison status. */
export interface ComparisonStatus {
  readonly text: string;
  readonly tone: StatusTone;
  readonly diverged: boolean;
}

/**
 * The toolbar's one-line comparison status. Agreement is only ever among the connected replicas, so
 * it is green ("All replicas agree") only when every replica of the session is connected; otherwise
 * amber and it says how many are ("2 of 3 connected · the connected ones agree"). A divergence is red.
 */
export function comparisonStatus(divergences: readonly Divergence[], connected: number, total: number, nameOf: (replicaId: string) => string): ComparisonStatus {
  const missing = connected < total ? ` · ${connected} of ${total} connected` : '';
  if (divergences.length > 0) {
    const text = describeDivergenceState({ divergences, allAgree: false }, nameOf);
    return { text: `${text.charAt(0).toUpperCase()}${text.slice(1)}${missing}`, tone: 'none', diverged: true };
  }
  if (connected === 0) return { text: total === 1 ? 'The replica is not connected: nothing is compared' : 'No replica is connected: nothing is compared', tone: 'none', diverged: false };
  if (connected < 2) return { text: total === 1 ? 'One replica: nothing to compare it with' : `Only 1 of ${total} connected: nothing to compare`, tone: 'some', diverged: false };
  if (connected < total) return { text: `${connected} of ${total} connected · the connected ones agree`, tone: 'some', diverged: false };
  return { text: 'All replicas agree', tone: 'all', diverged: false };
}

/** One replica that is not connected, as the "no replica is connected" panel lists it. */
export interface UnreachableReplica {
  readonly id: string;
  readonly label: string;
  readonly endpoint: string;
  /** Why, in words: the last failure ("connection refused"), and what it is doing now. */
  readonly reason: string;
}

/**
 * When no replica is connected and every one has failed at least once (nothing is on its first
 * attempt any more), the replicas and why each is not connected; else null (some replica is
 * connected, or a first attempt is still under way: the spinner is the truth then).
 */
export function unreachableReplicas(replicaIds: readonly string[], replicas: Readonly<Record<string, ReplicaView>>, nowMs: number): readonly UnreachableReplica[] | null {
  const views = replicaIds.map((id) => replicas[id]).filter((view): view is ReplicaView => view !== undefined);
  if (views.length === 0 || views.some((view) => view.stateName === 'connected')) return null;
  const failed = (view: ReplicaView): boolean => view.lastError !== null || view.stateName === 'auth-failed';
  if (!views.every(failed)) return null;
  return views.map((view) => {
    const now = describeReplicaState(view.state, nowMs);
    const cause = view.lastError ?? now;
    return { id: view.id, label: view.label, endpoint: view.endpoint, reason: cause === now || now.includes(cause) ? cause : `${cause} (${now})` };
  });
}

/** What the broadcast badge shows, from the store. */
export interface BadgeFacts {
  readonly enabled: boolean;
  /** Replicas receiving input now. */
  readonly targets: number;
  readonly total: number;
  readonly connected: number;
  /** With broadcast off: the one replica that gets input. */
  readonly soloLabel: string | null;
  /** The composite has the focus. */
  readonly focused: boolean;
  /** The composite has the keyboard: keys go to the replicas until the release chord. */
  readonly captured: boolean;
}

/**
 * The broadcast badge's words, and how the keyboard is taken and given back — only when something
 * would receive the typing.
 */
export function broadcastBadgeText(facts: BadgeFacts): string {
  if (facts.targets === 0) {
    if (facts.connected === 0) return facts.total === 1 ? 'No input: the replica is not connected' : `No input: none of ${facts.total} replicas is connected`;
    return 'No replica receives input';
  }
  const text = facts.enabled ? `Broadcasting to ${facts.targets} of ${facts.total}` : facts.soloLabel !== null ? `Input to ${facts.soloLabel} only` : 'No replica receives input';
  const keyboard = facts.captured ? ` · ${RELEASE_CHORD_TEXT} to release the keyboard` : facts.focused ? ' · Enter or click to type' : ' · click the screen to type';
  return `${text}${keyboard}`;
}
