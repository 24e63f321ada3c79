// The divergence timeline: a panel beside the composite listing the session's divergence
// events and replicas lost / back, newest first — time, outliers, regions, the input it came after, the screenshots taken at
// confirmation, the evidence folder — and, for a chosen entry, its screenshots large with the regions
// outlined, from where the live diff view opens. Runs in the renderer.

import { useCallback, useId, useRef, useState, type ReactElement } from 'react';
import type { PixelRect } from '../../common/divergence';
import { MAX_PICTURED_TIMELINE_ENTRIES, describeTimelineEntry, diffTargetOf, type TimelineEntry, type TimelineScreenshot } from '../divergence/timeline';
import { useFocusTrap } from '../hooks/use-focus-trap';
import { useAppStore } from '../store';
import { DiffIcon } from './divergence-diff-view';
import { ChevronRightIcon, CloseIcon } from './icons';

const KIND_TEXT: Readonly<Record<TimelineEntry['kind'], string>> = {
  new: 'New',
  changed: 'Changed',
  resolved: 'Resolved',
  consensus: 'Consensus',
  lost: 'Lost',
  back: 'Back',
};

/** "14:03:07.512" in local time. */
export function formatEventTime(atMs: number): string {
  const date = new Date(atMs);
  const two = (value: number): string => String(value).padStart(2, '0');
  return `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}.${String(date.getMilliseconds()).padStart(3, '0')}`;
}

/** The toolbar's button showing or hiding the timeline, with the number of events. */
export function TimelineToggle(): ReactElement {
  const open = useAppStore((state) => state.timelineOpen);
  const setOpen = useAppStore((state) => state.setTimelineOpen);
  const count = useAppStore((state) => state.timeline.length);
  const diverged = useAppStore((state) => state.divergences.length > 0);
  return (
    <button
      type="button"
      className={`button ghost timeline-toggle${open ? ' timeline-toggle-open' : ''}`}
      data-testid="timeline-toggle"
      aria-pressed={open}
      title={open ? 'Hide the divergence timeline' : 'Show the divergence timeline: every divergence event with its screens'}
      onClick={() => setOpen(!open)}
    >
      <TimelineIcon size={15} /> <span className="toolbar-label">Timeline</span>
      {count > 0 ? <span className={`timeline-count${diverged ? ' timeline-count-diverged' : ''}`}>{count}</span> : null}
    </button>
  );
}

function TimelineIcon({ size = 16 }: { readonly size?: number }): ReactElement {
  return (
    <svg width={size} height={size} viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth={1.8} strokeLinecap="round" strokeLinejoin="round" aria-hidden="true" focusable="false">
      <path d="M6 3v18" />
      <circle cx="6" cy="7" r="2" fill="currentColor" />
      <circle cx="6" cy="17" r="2" fill="currentColor" />
      <path d="M11 7h9M11 17h6" />
    </svg>
  );
}

/** The timeline panel (rendered while open and a session is shown). */
export function DivergenceTimeline(): ReactElement | null {
  const open = useAppStore((state) => state.timelineOpen);
  const setOpen = useAppStore((state) => state.setTimelineOpen);
  const entries = useAppStore((state) => state.timeline);
  const replicas = useAppStore((state) => state.replicas);
  const showDetail = useAppStore((state) => state.showTimelineDetail);
  const nameOf = useCallback((id: string) => replicas[id]?.label ?? id, [replicas]);
  if (!open) return null;

  return (
    <aside className="timeline-panel" data-testid="timeline" aria-label="Divergence timeline">
      <header className="timeline-header">
        <div className="timeline-titles">
          <h2 className="timeline-title">Divergence timeline</h2>
          <p className="timeline-subtitle">{entries.length === 0 ? 'No events yet' : `${entries.length} ${entries.length === 1 ? 'event' : 'events'}, newest first`}</p>
        </div>
        <button type="button" className="icon-button" data-testid="timeline-close" aria-label="Hide the timeline" title="Hide the timeline" onClick={() => setOpen(false)}>
          <ChevronRightIcon size={16} />
        </button>
      </header>
      {entries.length === 0 ? (
        <p className="timeline-empty">When the replicas disagree, each divergence, change and return to agreement is listed here with the screens captured at that moment.</p>
      ) : (
        <ol className="timeline-list">
          {entries.map((entry) => (
            <li key={entry.id}>
              <button
                type="button"
                className={`timeline-entry timeline-entry-${entry.kind}`}
                data-testid="timeline-entry"
                data-entry-id={entry.id}
                data-kind={entry.kind}
                data-outliers={entry.outliers.join(',')}
                data-evidence={entry.evidence.folder ?? ''}
                data-divergence-id={entry.divergenceId ?? ''}
                data-replica-id={entry.replicaId ?? ''}
                data-updates={entry.updates}
                title="Show this event's screens large"
                onClick={() => showDetail(entry.id)}
              >
                <span className="timeline-entry-top">
                  <span className={`timeline-kind timeline-kind-${entry.kind}`}>{KIND_TEXT[entry.kind]}</span>
                  <time className="timeline-time mono" dateTime={new Date(entry.atMs).toISOString()}>
                    {formatEventTime(entry.atMs)}
                  </time>
                  {entry.inputSeq !== null ? (
                    <span className="timeline-seq mono" data-testid="timeline-seq" title="The last input sent before this event (the input journal's seq). It came before the event; it did not necessarily cause it.">
                      after input #{entry.inputSeq}
                    </span>
                  ) : null}
                </span>
                <span className="timeline-text">{describeTimelineEntry(entry, nameOf)}</span>
                {entry.updates > 0 ? (
                  <span className="timeline-updates" title="The region still changed just after it was reported; this entry shows its latest state (the screens are from when it was reported)">
                    updated {entry.updates === 1 ? 'once' : `${entry.updates} times`} since
                  </span>
                ) : null}
                {entry.screenshots.length > 0 ? (
                  <span className="timeline-shots">
                    {entry.screenshots.map((shot) => (
                      <ShotThumbnail key={shot.replicaId} shot={shot} name={nameOf(shot.replicaId)} outlier={entry.outliers.includes(shot.replicaId)} />
                    ))}
                  </span>
                ) : null}
                <EvidenceLine entry={entry} />
              </button>
            </li>
          ))}
        </ol>
      )}
    </aside>
  );
}

function ShotThumbnail({ shot, name, outlier }: { readonly shot: TimelineScreenshot; readonly name: string; readonly outlier: boolean }): ReactElement {
  return (
    <span
      className={`timeline-shot${outlier ? ' timeline-shot-outlier' : ''}`}
      title={shot.state === 'released' ? `${name}: only the ${MAX_PICTURED_TIMELINE_ENTRIES} newest events keep their pictures here; this one is in the evidence folder` : name}
    >
      {shot.url !== null ? (
        <img src={shot.url} alt={`${name}'s screen`} data-testid="timeline-screenshot" data-replica-id={shot.replicaId} draggable={false} />
      ) : (
        <span className="timeline-shot-missing" data-replica-id={shot.replicaId}>
          {shot.state === 'capturing' ? '…' : shot.state === 'released' ? 'in evidence' : 'no picture'}
        </span>
      )}
      <span className="timeline-shot-label">{name}</span>
    </span>
  );
}

function EvidenceLine({ entry }: { readonly entry: TimelineEntry }): ReactElement | null {
  const { evidence } = entry;
  if (evidence.state === 'none') return null;
  if (evidence.state === 'pending') return <span className="timeline-evidence">Saving evidence…</span>;
  if (evidence.state === 'failed') {
    return (
      <span className="timeline-evidence timeline-evidence-failed" data-testid="timeline-evidence-failed">
        Evidence not saved: {evidence.error ?? 'see the log'}
      </span>
    );
  }
  return (
    <span className="timeline-evidence" data-testid="timeline-evidence" title={evidence.folder ?? ''}>
      <span className="timeline-evidence-label">Evidence</span> <span className="mono timeline-evidence-path">{evidence.folder === null ? 'saved (the back end named no folder)' : `\u200e${evidence.folder}\u200e`}</span>
    </span>
  );
}

/** The chosen timeline entry's screenshots, large, with its regions outlined (a dialog). */
export function TimelineEntryDetail(): ReactElement | null {
  const entry = useAppStore((state) => (state.timelineDetailId === null ? null : (state.timeline.find((candidate) => candidate.id === state.timelineDetailId) ?? null)));
  if (entry === null) return null;
  return <EntryDialog key={entry.id} entry={entry} />;
}

function EntryDialog({ entry }: { readonly entry: TimelineEntry }): ReactElement {
  const replicas = useAppStore((state) => state.replicas);
  const close = useAppStore((state) => state.showTimelineDetail);
  const openDiffView = useAppStore((state) => state.openDiffView);
  const nameOf = useCallback((id: string) => replicas[id]?.label ?? id, [replicas]);
  const dialogRef = useRef<HTMLDivElement>(null);
  const ids = useId();
  const onEscape = useCallback(() => close(null), [close]);
  useFocusTrap(dialogRef, onEscape);
  const ready = entry.screenshots.filter((shot) => shot.url !== null);
  const [chosen, setChosen] = useState<string | null>(entry.outliers.find((id) => ready.some((shot) => shot.replicaId === id)) ?? ready[0]?.replicaId ?? null);
  const shot = ready.find((candidate) => candidate.replicaId === chosen) ?? ready[0] ?? null;
  const diffTarget = diffTargetOf(entry);

  return (
    <div className="modal-backdrop diff-backdrop">
      <div ref={dialogRef} className="diff-view timeline-detail" role="dialog" aria-modal="true" aria-labelledby={`${ids}-title`} data-testid="timeline-detail" data-entry-id={entry.id} data-kind={entry.kind}>
        <header className="diff-header">
          <span className={`timeline-kind timeline-kind-${entry.kind}`}>{KIND_TEXT[entry.kind]}</span>
          <div className="diff-titles">
            <h2 id={`${ids}-title`} className="diff-title">
              {describeTimelineEntry(entry, nameOf)}
            </h2>
            <p className="diff-subtitle">
              {formatEventTime(entry.atMs)}
              {entry.inputSeq !== null ? ` · after input #${entry.inputSeq}` : ' · before any input'}
              {entry.divergenceId !== null ? ` · divergence ${entry.divergenceId}` : ''}
              {entry.agreeing.length > 0 ? ` · agreeing: ${entry.agreeing.map(nameOf).join(', ')}` : ''}
            </p>
          </div>
          {diffTarget !== null ? (
            <button type="button" className="button primary" data-testid="timeline-open-diff" onClick={() => openDiffView(diffTarget.subjectId, diffTarget.referenceId)}>
              <DiffIcon size={15} /> Compare live: {nameOf(diffTarget.subjectId)} vs {diffTarget.referenceId === null ? '…' : nameOf(diffTarget.referenceId)}
            </button>
          ) : null}
          <button type="button" className="icon-button diff-close" data-testid="timeline-detail-close" aria-label="Close" title="Close (Esc)" onClick={() => close(null)}>
            <CloseIcon size={16} />
          </button>
        </header>
        {ready.length > 1 ? (
          <div className="diff-controls">
            <div className="segmented" role="group" aria-label="Screen">
              {ready.map((candidate) => (
                <button
                  key={candidate.replicaId}
                  type="button"
                  className={`segment${entry.outliers.includes(candidate.replicaId) ? ' segment-outlier' : ''}`}
                  data-testid="timeline-detail-replica"
                  data-replica-id={candidate.replicaId}
                  aria-pressed={candidate.replicaId === shot?.replicaId}
                  onClick={() => setChosen(candidate.replicaId)}
                >
                  {nameOf(candidate.replicaId)}
                  {entry.outliers.includes(candidate.replicaId) ? ' (outlier)' : ''}
                </button>
              ))}
            </div>
          </div>
        ) : null}
        <div className="diff-viewport timeline-detail-viewport">
          {shot === null ? (
            <p className="diff-message">{entry.screenshots.length === 0 ? 'Screens are captured when a divergence is first confirmed; this event has none. Compare live instead.' : 'The screens of this event could not be captured.'}</p>
          ) : (
            <ScreenshotWithRegions url={shot.url ?? ''} name={nameOf(shot.replicaId)} replicaId={shot.replicaId} regions={entry.divergenceKind === 'pixels' ? entry.regions : []} />
          )}
        </div>
        <footer className="diff-footer">
          <span className="timeline-detail-evidence" title={entry.evidence.folder ?? ''}>
            {entry.evidence.state === 'saved' ? (
              <>
                Evidence: <span className="mono">{entry.evidence.folder ?? 'saved'}</span>
              </>
            ) : entry.evidence.state === 'failed' ? (
              `Evidence not saved: ${entry.evidence.error ?? 'see the log'}`
            ) : entry.evidence.state === 'pending' ? (
              'Saving evidence…'
            ) : (
              'Evidence is saved for new divergences only.'
            )}
          </span>
          <span>
            <kbd>Esc</kbd> closes
          </span>
        </footer>
      </div>
    </div>
  );
}

function ScreenshotWithRegions({ url, name, replicaId, regions }: { readonly url: string; readonly name: string; readonly replicaId: string; readonly regions: readonly PixelRect[] }): ReactElement {
  const [size, setSize] = useState<{ width: number; height: number } | null>(null);
  return (
    <div className="timeline-detail-picture">
      <img
        src={url}
        alt={`${name}'s screen when the event happened`}
        data-testid="timeline-detail-screenshot"
        data-replica-id={replicaId}
        draggable={false}
        onLoad={(event) => setSize({ width: event.currentTarget.naturalWidth, height: event.currentTarget.naturalHeight })}
      />
      {size !== null ? (
        <svg className="diff-regions" viewBox={`0 0 ${size.width} ${size.height}`} preserveAspectRatio="none" aria-hidden="true" data-testid="timeline-detail-regions">
          {regions.map((region, index) => (
            <rect key={index} x={region.x - 1.5} y={region.y - 1.5} width={region.width + 3} height={region.height + 3} vectorEffect="non-scaling-stroke" />
          ))}
        </svg>
      ) : null}
    </div>
  );
}
