// Opens the divergence timeline on the newest entry about a replica (a notification's click, the
// tray's replica item) or, without a replica, on the newest divergence. Runs in the renderer.

import type { AppStore } from '../store';
import type { TimelineEntry } from './timeline';

/** The newest entry about `replicaId` (an outlier of a divergence, or lost / back), or the newest divergence entry. */
export function timelineEntryFor(entries: readonly TimelineEntry[], replicaId: string | null): TimelineEntry | null {
  // Entries are newest first.
  if (replicaId === null) return entries.find((entry) => entry.kind === 'new' || entry.kind === 'changed' || entry.kind === 'resolved') ?? null;
  return entries.find((entry) => entry.replicaId === replicaId || entry.outliers.includes(replicaId)) ?? null;
}

/** Opens the timeline and, when there is one, the entry's detail (as the red divergence status does). */
export function focusTimelineOn(store: AppStore, replicaId: string | null): void {
  const state = store.getState();
  state.setTimelineOpen(true);
  const entry = timelineEntryFor(state.timeline, replicaId);
  if (entry !== null) state.showTimelineDetail(entry.id);
}
