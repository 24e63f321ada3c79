// The divergence timeline in plain Node: entries from engine events (new / changed / resolved /
// consensus) with the reporter's own captures as object URLs, the evidence folder, the bound of
// MAX_TIMELINE_ENTRIES with dropped entries' URLs revoked, and every URL revoked on dispose.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Divergence, DivergenceEvent } from '../../../common/divergence';
import type { EvidenceOutcome, ReportedEvent } from '../../../renderer/divergence/divergence-reporter';
import { DivergenceReporter } from '../../../renderer/divergence/divergence-reporter';
import { describeTimelineEntry, diffTargetOf, prependTimelineEntry, timelineEntryOf, type TimelineEntry } from '../../../renderer/divergence/timeline';
import { TimelineRecorder, type ObjectUrls } from '../../../renderer/divergence/timeline-recorder';
import { createAppStore } from '../../../renderer/store';

const D1: Divergence = { id: 'd1', kind: 'pixels', regions: [{ x: 8, y: 16, width: 30, height: 32 }], outliers: ['r2'], agreeing: ['r1', 'r3'], groups: [['r1', 'r3'], ['r2']], noMajority: false, sinceMs: 0, sizes: [] };

class FakeUrls implements ObjectUrls {
  private next = 1;
  readonly live = new Set<string>();
  readonly revoked: string[] = [];
  create(): string {
    const url = `blob:test/${this.next++}`;
    this.live.add(url);
    return url;
  }
  revoke(url: string): void {
    assert.ok(this.live.delete(url), `${url} revoked once, after it was made`);
    this.revoked.push(url);
  }
}

function png(): Blob {
  return new Blob([new Uint8Array([0x89, 0x50, 0x4e, 0x47])], { type: 'image/png' });
}

function reported(event: DivergenceEvent, screens: ReportedEvent['screens'] = [], evidence: EvidenceOutcome = { state: 'none', folder: null, error: null }): ReportedEvent {
  return { event, inputSeq: 7, screens, evidence: Promise.resolve(evidence) };
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('timeline entries', { timeout: 60_000 }, () => {
  it('describe what happened in words, with labels', () => {
    const names = (id: string): string => ({ r1: 'Demo 1', r2: 'Demo 2', r3: 'Demo 3' })[id] ?? id;
    const entry = timelineEntryOf({ type: 'divergence', change: 'new', divergence: D1, atMs: 1 }, { id: 1, atMs: 5, inputSeq: 3, screenshotIds: ['r1', 'r2'] });
    assert.equal(describeTimelineEntry(entry, names), 'Demo 2 diverges — 1 region');
    assert.deepEqual(entry.screenshots.map((shot) => shot.state), ['capturing', 'capturing']);
    assert.equal(entry.evidence.state, 'pending');
    assert.deepEqual(diffTargetOf(entry), { subjectId: 'r2', referenceId: 'r1' });
    const split = timelineEntryOf({ type: 'divergence', change: 'changed', divergence: { ...D1, outliers: ['r1', 'r2'], agreeing: [], noMajority: true }, atMs: 1 }, { id: 2, atMs: 5, inputSeq: null });
    assert.equal(describeTimelineEntry(split, names), 'No majority: Demo 1 and Demo 2 disagree (1 region)');
    assert.deepEqual(diffTargetOf(split), { subjectId: 'r1', referenceId: 'r2' });
    assert.equal(split.evidence.state, 'none');
    assert.equal(describeTimelineEntry(timelineEntryOf({ type: 'consensus', atMs: 2 }, { id: 3, atMs: 6, inputSeq: null }), names), 'All replicas agree again');
  });

  it('keep at most the bound, newest first, handing back the dropped ones', () => {
    let entries = prependTimelineEntry([], timelineEntryOf({ type: 'consensus', atMs: 0 }, { id: 1, atMs: 0, inputSeq: null }), 2).entries;
    entries = prependTimelineEntry(entries, timelineEntryOf({ type: 'consensus', atMs: 0 }, { id: 2, atMs: 0, inputSeq: null }), 2).entries;
    const third = prependTimelineEntry(entries, timelineEntryOf({ type: 'consensus', atMs: 0 }, { id: 3, atMs: 0, inputSeq: null }), 2);
    assert.deepEqual(third.entries.map((entry) => entry.id), [3, 2]);
    assert.deepEqual(third.dropped.map((entry) => entry.id), [1]);
  });
});

describe('TimelineRecorder', { timeout: 60_000 }, () => {
  it('records every event with the reporter’s captures as object URLs and the evidence folder', async () => {
    const urls = new FakeUrls();
    const published: number[] = [];
    const recorder = new TimelineRecorder({ publish: (entries) => published.push(entries.length), urls, now: () => 1_000 });
    recorder.record([
      reported({ type: 'divergence', change: 'new', divergence: D1, atMs: 1 }, [
        { replicaId: 'r1', png: Promise.resolve(png()) },
        { replicaId: 'r2', png: Promise.resolve(null) },
      ], { state: 'saved', folder: '/data/Demo-lab/evidence/x-1', error: null }),
    ]);
    recorder.record([reported({ type: 'divergence-resolved', id: 'd1', atMs: 2 }), reported({ type: 'consensus', atMs: 2 })]);
    await settle();
    const [consensus, resolved, first] = recorder.current;
    assert.deepEqual([consensus?.kind, resolved?.kind, first?.kind], ['consensus', 'resolved', 'new']);
    assert.deepEqual(resolved?.outliers, ['r2'], 'a resolved entry names the divergence’s outliers');
    assert.deepEqual(first?.screenshots, [
      { replicaId: 'r1', state: 'ready', url: 'blob:test/1' },
      { replicaId: 'r2', state: 'failed', url: null },
    ]);
    assert.deepEqual(first?.evidence, { state: 'saved', folder: '/data/Demo-lab/evidence/x-1', error: null });
    assert.equal(first?.inputSeq, 7);
    assert.ok(published.length >= 3);
  });

  it('revokes the URLs of entries pushed out of the bound, and all of them on dispose; late captures make none', async () => {
    const urls = new FakeUrls();
    const recorder = new TimelineRecorder({ publish: () => undefined, urls, maxEntries: 2 });
    const newOne = (id: string): ReportedEvent => reported({ type: 'divergence', change: 'new', divergence: { ...D1, id }, atMs: 1 }, [{ replicaId: 'r1', png: Promise.resolve(png()) }]);
    recorder.record([newOne('d1')]);
    recorder.record([newOne('d2')]);
    await settle();
    assert.deepEqual([...urls.live], ['blob:test/1', 'blob:test/2']);
    recorder.record([newOne('d3')]);
    await settle();
    assert.deepEqual(urls.revoked, ['blob:test/1'], 'the oldest entry’s screenshot');
    let release: (blob: Blob) => void = () => undefined;
    recorder.record([reported({ type: 'divergence', change: 'new', divergence: { ...D1, id: 'd4' }, atMs: 1 }, [{ replicaId: 'r1', png: new Promise<Blob>((resolve) => (release = resolve)) }])]);
    recorder.dispose();
    assert.deepEqual(urls.live.size, 0, 'every URL revoked on dispose');
    release(png());
    await settle();
    assert.equal(urls.live.size, 0, 'a capture finishing after dispose makes no URL');
  });

  it('keeps pictures in memory for the newest pictured entries only; older ones keep their text', async () => {
    const urls = new FakeUrls();
    let shown: readonly TimelineEntry[] = [];
    const recorder = new TimelineRecorder({ publish: (entries) => (shown = entries), urls, maxPicturedEntries: 2 });
    const newOne = (id: string): ReportedEvent =>
      reported({ type: 'divergence', change: 'new', divergence: { ...D1, id }, atMs: 1 }, [
        { replicaId: 'r1', png: Promise.resolve(png()) },
        { replicaId: 'r2', png: Promise.resolve(png()) },
      ]);
    recorder.record([newOne('d1')]);
    await settle();
    recorder.record([newOne('d2')]);
    // A resolved entry has no pictures: it does not count against the bound.
    recorder.record([reported({ type: 'divergence-resolved', id: 'd2', atMs: 2 })]);
    await settle();
    assert.equal(urls.live.size, 4);
    recorder.record([newOne('d3')]);
    await settle();
    assert.deepEqual(urls.revoked, ['blob:test/1', 'blob:test/2'], 'd1’s two pictures are let go');
    assert.deepEqual(
      shown.map((entry) => [entry.divergenceId, entry.screenshots.map((shot) => shot.state).join(',')]),
      [
        ['d3', 'ready,ready'],
        ['d2', ''],
        ['d2', 'ready,ready'],
        ['d1', 'released,released'],
      ],
    );
    assert.equal(describeTimelineEntry(shown[3] as TimelineEntry, (id) => id), 'r2 diverges — 1 region', 'the released entry keeps its text');
    // A capture that finishes after its entry's pictures were let go makes no URL.
    let late: (blob: Blob) => void = () => undefined;
    recorder.record([reported({ type: 'divergence', change: 'new', divergence: { ...D1, id: 'd4' }, atMs: 1 }, [{ replicaId: 'r1', png: new Promise<Blob>((resolve) => (late = resolve)) }])]);
    recorder.record([newOne('d5')]);
    recorder.record([newOne('d6')]);
    await settle();
    late(png());
    await settle();
    assert.equal(shown.find((entry) => entry.divergenceId === 'd4')?.screenshots[0]?.state, 'released');
    assert.equal(urls.live.size, 4, 'd5 and d6 keep two pictures each; nothing else is held');
    recorder.dispose();
  });

  it('gets the reporter’s own captures: one capture per replica serves the evidence and the timeline', async () => {
    const captures: string[] = [];
    const reporter = new DivergenceReporter({
      sessionId: 's1',
      api: {
        reportDivergence: async (report) => ({ evidenceId: report.change === 'new' ? 'e1' : null, evidenceFolder: report.change === 'new' ? '/data/e1' : null }),
        saveDivergenceScreen: async () => undefined,
      },
      lastInputSeq: () => 12,
      screenIds: () => ['r1', 'r2'],
      captureScreen: async (replicaId) => {
        captures.push(replicaId);
        return png();
      },
      warn: () => undefined,
    });
    const urls = new FakeUrls();
    const recorder = new TimelineRecorder({ publish: () => undefined, urls });
    recorder.record(reporter.handle([{ type: 'divergence', change: 'new', divergence: D1, atMs: 1 }]));
    await reporter.flush();
    await settle();
    assert.deepEqual(captures, ['r1', 'r2']);
    const entry = recorder.current[0];
    assert.deepEqual(entry?.screenshots.map((shot) => shot.state), ['ready', 'ready']);
    assert.deepEqual(entry?.evidence, { state: 'saved', folder: '/data/e1', error: null });
    assert.equal(entry?.inputSeq, 12);
  });

  it('says why evidence is missing when the back end refuses the report', async () => {
    const reporter = new DivergenceReporter({
      sessionId: 's1',
      api: {
        reportDivergence: async () => {
          throw new Error('the profile "x" has no replica "r9"');
        },
        saveDivergenceScreen: async () => undefined,
      },
      lastInputSeq: () => null,
      screenIds: () => [],
      captureScreen: async () => null,
      warn: () => undefined,
    });
    const recorder = new TimelineRecorder({ publish: () => undefined, urls: new FakeUrls() });
    recorder.record(reporter.handle([{ type: 'divergence', change: 'new', divergence: D1, atMs: 1 }]));
    await reporter.flush();
    await settle();
    assert.equal(recorder.current[0]?.evidence.state, 'failed');
    assert.match(recorder.current[0]?.evidence.error ?? '', /the back end refused the report: the profile "x" has no replica "r9"/);
  });
});

describe('TimelineRecorder: one entry per divergence while it settles, and replicas lost / back', { timeout: 10_000 }, () => {
  const GROWN: Divergence = { ...D1, regions: [...D1.regions, { x: 60, y: 16, width: 8, height: 13 }] };

  it('folds a "changed" event within the confirm window into the divergence’s entry', () => {
    let nowMs = 1_000;
    const recorder = new TimelineRecorder({ publish: () => undefined, urls: new FakeUrls(), now: () => nowMs, foldWindowMs: 600 });
    recorder.record([reported({ type: 'divergence', change: 'new', divergence: D1, atMs: 1 })]);
    nowMs = 1_270;
    recorder.record([reported({ type: 'divergence', change: 'changed', divergence: GROWN, atMs: 2 })]);
    assert.equal(recorder.current.length, 1, 'no second entry');
    const [entry] = recorder.current;
    assert.equal(entry?.kind, 'new');
    assert.equal(entry?.regionCount, 2, 'the entry holds the grown region');
    assert.equal(entry?.updates, 1);
    assert.equal(entry?.atMs, 1_000, 'still dated when it was reported');
    // Later than the window: a change is news of its own.
    nowMs = 5_000;
    recorder.record([reported({ type: 'divergence', change: 'changed', divergence: D1, atMs: 3 })]);
    assert.deepEqual(recorder.current.map((item) => item.kind), ['changed', 'new']);
  });

  it('replaces the entry\'s screenshots with those of a change that amends it, revoking the earlier ones', async () => {
    let nowMs = 1_000;
    const urls = new FakeUrls();
    const recorder = new TimelineRecorder({ publish: () => undefined, urls, now: () => nowMs, foldWindowMs: 600 });
    const png = (): Promise<Blob | null> => Promise.resolve(new Blob(['png']));
    recorder.record([reported({ type: 'divergence', change: 'new', divergence: D1, atMs: 1 }, [{ replicaId: 'r1', png: png() }, { replicaId: 'r2', png: png() }])]);
    await settle();
    const first = recorder.current[0]?.screenshots.map((shot) => shot.url);
    nowMs = 1_017;
    // r1's new capture failed: its earlier screenshot stays.
    recorder.record([reported({ type: 'divergence', change: 'changed', divergence: GROWN, atMs: 2 }, [{ replicaId: 'r1', png: Promise.resolve(null) }, { replicaId: 'r2', png: png() }])]);
    await settle();
    const [entry] = recorder.current;
    assert.equal(recorder.current.length, 1);
    assert.equal(entry?.screenshots.find((shot) => shot.replicaId === 'r1')?.url, first?.[0]);
    assert.notEqual(entry?.screenshots.find((shot) => shot.replicaId === 'r2')?.url, first?.[1]);
    assert.deepEqual(urls.revoked, [first?.[1]]);
  });

  it('records a replica lost, with why, and back; in words', () => {
    const recorder = new TimelineRecorder({ publish: () => undefined, urls: new FakeUrls(), now: () => 5 });
    recorder.recordConnection('lost', 'r2', 'connection refused', 37);
    recorder.recordConnection('back', 'r2', null, 37);
    const [back, lost] = recorder.current;
    const names = (id: string): string => ({ r2: 'xterm 2' })[id] ?? id;
    assert.deepEqual([back?.kind, lost?.kind], ['back', 'lost']);
    assert.equal(lost?.replicaId, 'r2');
    assert.equal(describeTimelineEntry(lost, names), 'xterm 2 lost (connection refused) — not compared until it is back');
    assert.equal(describeTimelineEntry(back!, names), 'xterm 2 back — compared again');
    assert.equal(lost?.inputSeq, 37);
  });
});

describe('the store’s timeline and diff view', { timeout: 60_000 }, () => {
  it('holds plain entries, opens the diff view on known replicas only, and resets per session', () => {
    const store = createAppStore();
    store.getState().openSession({ sessionId: 's1', name: 'p', source: 'p', replicas: ['r1', 'r2'].map((id) => ({ id, label: id, endpoint: 'h:1', tunnel: false, hasPassword: false })) });
    const entry = timelineEntryOf({ type: 'consensus', atMs: 0 }, { id: 4, atMs: 0, inputSeq: null });
    store.getState().setTimeline([entry]);
    store.getState().showTimelineDetail(4);
    assert.equal(store.getState().timelineDetailId, 4);
    store.getState().openDiffView('r2', 'r1');
    assert.deepEqual(store.getState().diffView, { subjectId: 'r2', referenceId: 'r1' });
    assert.equal(store.getState().timelineDetailId, null, 'one dialog at a time');
    store.getState().chooseDiffReference('r2');
    assert.deepEqual(store.getState().diffView, { subjectId: 'r2', referenceId: 'r1' }, 'a replica is not its own reference');
    store.getState().openDiffView('r9');
    assert.equal(store.getState().diffView?.subjectId, 'r2', 'unknown replicas are ignored');
    store.getState().setTimeline([]);
    store.getState().closeSession();
    assert.deepEqual([store.getState().timeline, store.getState().diffView], [[], null]);
  });
});
