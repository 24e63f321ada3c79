// A notification's click and the tray's replica item open the timeline on that replica's newest
// entry (an outlier of a divergence, or lost / back); without a replica, on the newest divergence.
// Plain Node over the store.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TimelineEntry } from '../../../renderer/divergence/timeline';
import { focusTimelineOn, timelineEntryFor } from '../../../renderer/divergence/timeline-focus';
import { createAppStore } from '../../../renderer/store';

function entry(id: number, kind: TimelineEntry['kind'], overrides: Partial<TimelineEntry> = {}): TimelineEntry {
  return {
    id,
    kind,
    atMs: id,
    divergenceId: kind === 'lost' || kind === 'back' ? null : 'd1',
    divergenceKind: null,
    outliers: [],
    agreeing: [],
    noMajority: false,
    regions: [],
    regionCount: 0,
    inputSeq: null,
    screenshots: [],
    evidence: { state: 'none', folder: null, error: null },
    updates: 0,
    replicaId: null,
    reason: null,
    ...overrides,
  };
}

// Newest first, as the store keeps them.
const ENTRIES = [entry(4, 'back', { replicaId: 'r3' }), entry(3, 'lost', { replicaId: 'r3' }), entry(2, 'new', { outliers: ['r2'] }), entry(1, 'new', { outliers: ['r3'] })];

describe('timeline focus', { timeout: 5000 }, () => {
  it('finds the newest entry about a replica, or the newest divergence', () => {
    assert.equal(timelineEntryFor(ENTRIES, 'r2')?.id, 2);
    assert.equal(timelineEntryFor(ENTRIES, 'r3')?.id, 4);
    assert.equal(timelineEntryFor(ENTRIES, null)?.id, 2);
    assert.equal(timelineEntryFor(ENTRIES, 'r9'), null);
  });

  it('opens the timeline on that entry', () => {
    const store = createAppStore();
    store.getState().setTimeline(ENTRIES);
    focusTimelineOn(store, 'r2');
    assert.equal(store.getState().timelineOpen, true);
    assert.equal(store.getState().timelineDetailId, 2);
  });
});
