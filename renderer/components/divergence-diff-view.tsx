// The diff view: replica k against a reference replica, from their live noVNC canvases —
// k's screen dimmed where both agree, differing pixels in one strong colour, the differing regions
// outlined, a count; flips between k / reference / diff. Refreshed after screen updates, at most every
// DIFF_REFRESH_MS. A modal: keys typed here never reach the replicas (only the composite captures
// them). Runs in the renderer.

import { useCallback, useEffect, useId, useRef, useState, type KeyboardEvent, type ReactElement } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { PixelRect } from '../../common/divergence';
import { useAppController } from '../app-context';
import { DIFF_REFRESH_MS, DiffRefreshScheduler } from '../divergence/diff-refresh';
import { defaultDiffReference, type DiffReferenceChoice } from '../divergence/diff-reference';
import { describeDiffCount, describeSizeMismatch, diffImages } from '../divergence/diff-pixels';
import { useElementSize } from '../hooks/use-element-size';
import { useFocusTrap } from '../hooks/use-focus-trap';
import { useAppStore, type DiffViewTarget } from '../store';
import { CloseIcon } from './icons';

/** What the big canvas shows. */
export type DiffMode = 'subject' | 'reference' | 'diff';

/** The diff icon (two overlapping screens), also used on the thumbnails and in the timeline. */
export function DiffIcon({ size = 16 }: { readonly size?: number }): ReactElement {
  return (
    <svg width={size} height={size} viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth={1.8} strokeLinecap="round" strokeLinejoin="round" aria-hidden="true" focusable="false">
      <rect x="3" y="4" width="12" height="10" rx="1.5" />
      <rect x="9" y="10" width="12" height="10" rx="1.5" />
      <path d="M9 10h6v4H9z" fill="currentColor" opacity="0.45" stroke="none" />
    </svg>
  );
}

/** The outcome the view shows (plain data; its pictures are kept beside it in component state, never in the store). */
type ViewResult =
  | { readonly status: 'waiting' }
  | { readonly status: 'unavailable'; readonly message: string }
  | {
      readonly status: 'compared';
      readonly differingPixels: number;
      readonly toleratedPixels: number;
      readonly ignoredPixels: number;
      readonly regions: readonly PixelRect[];
      readonly width: number;
      readonly height: number;
    }
  | { readonly status: 'size-mismatch'; readonly message: string };

/** The screens read for the last result (component state, never the store). */
interface Pictures {
  readonly subject: ImageData;
  readonly reference: ImageData;
  readonly diff: ImageData | null;
}

/** One computation's outcome and its pictures, for the pair it was computed for. */
interface Computed {
  readonly pair: string;
  readonly result: ViewResult;
  readonly pictures: Pictures | null;
}

const REASON_TEXT: Readonly<Record<DiffReferenceChoice['reason'] | 'chosen', string>> = {
  majority: 'a replica of the agreeing majority',
  'no-majority': 'no majority: choose the replica to compare against',
  composite: 'the composite’s reference',
  other: 'the first other connected replica',
  alone: 'no other replica is connected',
  chosen: 'your choice',
};

/** The open diff view, if any. */
export function DivergenceDiffView(): ReactElement | null {
  const target = useAppStore((state) => state.diffView);
  if (target === null) return null;
  return <DiffDialog key={target.subjectId} target={target} />;
}

function readScreen(canvas: HTMLCanvasElement): ImageData | null {
  if (canvas.width === 0 || canvas.height === 0) return null;
  const context = canvas.getContext('2d');
  return context === null ? null : context.getImageData(0, 0, canvas.width, canvas.height);
}

function DiffDialog({ target }: { readonly target: DiffViewTarget }): ReactElement {
  const workspace = useAppController().workspace;
  const closeDiffView = useAppStore((state) => state.closeDiffView);
  const chooseDiffReference = useAppStore((state) => state.chooseDiffReference);
  const replicaIds = useAppStore((state) => state.replicaIds);
  const replicas = useAppStore((state) => state.replicas);
  const divergences = useAppStore((state) => state.divergences);
  const compositeReferenceId = useAppStore((state) => state.referenceId);
  const connectedIds = useAppStore(useShallow((state) => state.replicaIds.filter((id) => state.replicas[id]?.stateName === 'connected')));
  const settings = useAppStore((state) => state.session?.divergence ?? null);
  const subjectId = target.subjectId;
  const choice: DiffReferenceChoice | { referenceId: string; reason: 'chosen' } =
    target.referenceId !== null ? { referenceId: target.referenceId, reason: 'chosen' } : defaultDiffReference(subjectId, divergences, connectedIds, compositeReferenceId);
  const referenceId = choice.referenceId;
  const subject = replicas[subjectId];
  const reference = referenceId === null ? undefined : replicas[referenceId];
  const nameOf = useCallback((id: string) => replicas[id]?.label ?? id, [replicas]);

  const [mode, setMode] = useState<DiffMode>('diff');
  const [computed, setComputed] = useState<Computed | null>(null);
  const pair = `${subjectId}|${referenceId ?? ''}`;
  // A result computed for another pair (the reference just changed) is not shown.
  const current = computed !== null && computed.pair === pair && referenceId !== null ? computed : null;
  const result: ViewResult = current?.result ?? { status: 'waiting' };
  const pictures = current?.pictures ?? null;
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const dialogRef = useRef<HTMLDivElement>(null);
  const viewportRef = useRef<HTMLDivElement>(null);
  const viewport = useElementSize(viewportRef);
  const ids = useId();
  useFocusTrap(dialogRef, closeDiffView);

  // Recomputed from the live canvases: at once, then after each update of either screen (throttled).
  const subjectLive = subject?.stateName === 'connected' ? `${subject.width}x${subject.height}` : null;
  const referenceLive = reference?.stateName === 'connected' ? `${reference.width}x${reference.height}` : null;
  useEffect(() => {
    if (workspace === null || referenceId === null) return undefined;
    const key = `${subjectId}|${referenceId}`;
    const publish = (next: ViewResult, shown: Pictures | null): void => setComputed({ pair: key, result: next, pictures: shown });
    // The diff picture's buffer is reused while the size stays.
    let lastDiff: ImageData | null = null;
    const compute = (): void => {
      const notLive = [subjectId, referenceId].find((id) => workspace.clientOf(id) === null || replicas[id]?.stateName !== 'connected');
      if (notLive !== undefined) {
        publish({ status: 'unavailable', message: `${nameOf(notLive)} is not connected: the comparison resumes when it is.` }, null);
        return;
      }
      const subjectCanvas = workspace.clientOf(subjectId)?.canvas;
      const referenceCanvas = workspace.clientOf(referenceId)?.canvas;
      const subjectPixels = subjectCanvas ? readScreen(subjectCanvas) : null;
      const referencePixels = referenceCanvas ? readScreen(referenceCanvas) : null;
      if (subjectPixels === null || referencePixels === null) {
        publish({ status: 'unavailable', message: `${nameOf(subjectPixels === null ? subjectId : referenceId)}'s screen cannot be read yet: wait for its first picture.` }, null);
        return;
      }
      if (subjectPixels.width !== referencePixels.width || subjectPixels.height !== referencePixels.height) {
        const subjectSize = { width: subjectPixels.width, height: subjectPixels.height };
        const referenceSize = { width: referencePixels.width, height: referencePixels.height };
        publish({ status: 'size-mismatch', message: describeSizeMismatch(nameOf(subjectId), subjectSize, nameOf(referenceId), referenceSize) }, { subject: subjectPixels, reference: referencePixels, diff: null });
        return;
      }
      const diff = lastDiff !== null && lastDiff.width === subjectPixels.width && lastDiff.height === subjectPixels.height ? lastDiff : new ImageData(subjectPixels.width, subjectPixels.height);
      lastDiff = diff;
      // The same rules as the engine: the profile's colour tolerance and ignore regions.
      const outcome = diffImages(subjectPixels, referencePixels, diff.data, { maxChannelDelta: settings?.tolerance?.maxChannelDelta ?? null, ignoreRegions: settings?.ignoreRegions ?? [] });
      if (outcome.kind !== 'compared') return;
      publish(
        {
          status: 'compared',
          differingPixels: outcome.differingPixels,
          toleratedPixels: outcome.toleratedPixels,
          ignoredPixels: outcome.ignoredPixels,
          regions: outcome.regions,
          width: outcome.width,
          height: outcome.height,
        },
        { subject: subjectPixels, reference: referencePixels, diff },
      );
    };
    const scheduler = new DiffRefreshScheduler(compute, { intervalMs: DIFF_REFRESH_MS });
    const unsubscribe = workspace.screenUpdates.subscribe((replicaId) => {
      if (replicaId === subjectId || replicaId === referenceId) scheduler.noteUpdate();
    });
    scheduler.refreshNow();
    return () => {
      unsubscribe();
      scheduler.dispose();
    };
    // `replicas` changes on any replica's state: only the two compared replicas' liveness restarts this.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [workspace, subjectId, referenceId, subjectLive, referenceLive, settings]);

  // In size-mismatch there is no diff picture: the view falls back to k's screen.
  const shownMode: DiffMode = mode === 'diff' && result.status === 'size-mismatch' ? 'subject' : mode;
  const shown = pictures === null ? null : shownMode === 'subject' ? pictures.subject : shownMode === 'reference' ? pictures.reference : pictures.diff;

  useEffect(() => {
    const canvas = canvasRef.current;
    if (canvas === null || shown === null) return;
    if (canvas.width !== shown.width) canvas.width = shown.width;
    if (canvas.height !== shown.height) canvas.height = shown.height;
    canvas.getContext('2d')?.putImageData(shown, 0, 0);
    // `current` changes with every computation (the diff buffer itself is reused).
  }, [shown, current]);

  const onKeyDown = (event: KeyboardEvent): void => {
    if (event.target instanceof HTMLSelectElement) return;
    const next: Record<string, DiffMode> = { '1': 'subject', '2': 'reference', '3': 'diff' };
    const wanted = next[event.key];
    if (wanted !== undefined) {
      event.preventDefault();
      setMode(wanted);
    } else if (event.key === 'f' || event.key === 'F') {
      // Flip: k ↔ reference (from the diff, to k first).
      event.preventDefault();
      setMode((current) => (current === 'subject' ? 'reference' : 'subject'));
    }
  };

  let cssSize: { width: string; height: string } | undefined;
  if (shown !== null && viewport.width > 0 && viewport.height > 0) {
    const scale = Math.min(viewport.width / shown.width, viewport.height / shown.height);
    cssSize = { width: `${Math.floor(shown.width * scale)}px`, height: `${Math.floor(shown.height * scale)}px` };
  }
  const regions = result.status === 'compared' ? result.regions : [];
  const subjectName = nameOf(subjectId);
  const referenceName = referenceId === null ? null : nameOf(referenceId);
  const others = replicaIds.filter((id) => id !== subjectId);
  const summary =
    result.status === 'compared' ? describeDiffCount(result.differingPixels, result.regions.length) : result.status === 'waiting' ? (referenceId === null ? 'Choose a reference' : 'Reading the screens…') : result.status === 'size-mismatch' ? 'Sizes differ' : 'Not live';

  return (
    <div className="modal-backdrop diff-backdrop">
      <div
        ref={dialogRef}
        className="diff-view"
        role="dialog"
        aria-modal="true"
        aria-labelledby={`${ids}-title`}
        data-testid="diff-view"
        data-subject-id={subjectId}
        data-reference-id={referenceId ?? ''}
        data-mode={shownMode}
        data-state={result.status}
        data-differing-pixels={result.status === 'compared' ? String(result.differingPixels) : ''}
        data-regions={JSON.stringify(regions)}
        onKeyDown={onKeyDown}
      >
        <header className="diff-header">
          <span className="diff-header-icon" aria-hidden="true">
            <DiffIcon size={20} />
          </span>
          <div className="diff-titles">
            <h2 id={`${ids}-title`} className="diff-title">
              {subjectName} <span className="diff-title-against">against</span> {referenceName ?? '…'}
            </h2>
            <p className="diff-subtitle" data-testid="diff-subtitle">
              Reference: {REASON_TEXT[choice.reason]} · live, refreshed after screen updates
              {settings?.tolerance ? ` · colour tolerance ${settings.tolerance.maxChannelDelta}` : ''}
              {result.status === 'compared' && result.toleratedPixels > 0 ? ` (${result.toleratedPixels.toLocaleString('en-US')} pixels within it)` : ''}
              {result.status === 'compared' && result.ignoredPixels > 0 ? ` · ${result.ignoredPixels.toLocaleString('en-US')} pixels in ignore regions not compared` : ''}
            </p>
          </div>
          <span className={`diff-count${result.status === 'compared' && result.differingPixels > 0 ? ' diff-count-differs' : ''}`} data-testid="diff-count" role="status">
            {summary}
          </span>
          <button type="button" className="icon-button diff-close" data-testid="diff-close" aria-label="Close the diff view" title="Close (Esc)" onClick={closeDiffView}>
            <CloseIcon size={16} />
          </button>
        </header>

        <div className="diff-controls">
          <div className="segmented" role="group" aria-label="Show">
            <button type="button" className="segment" data-testid="diff-mode-subject" aria-pressed={shownMode === 'subject'} title="Show this replica's screen (1)" onClick={() => setMode('subject')}>
              {subjectName}
            </button>
            <button type="button" className="segment" data-testid="diff-mode-reference" aria-pressed={shownMode === 'reference'} disabled={referenceId === null} title="Show the reference's screen (2)" onClick={() => setMode('reference')}>
              {referenceName ?? 'Reference'}
            </button>
            <button type="button" className="segment" data-testid="diff-mode-diff" aria-pressed={shownMode === 'diff'} disabled={result.status === 'size-mismatch'} title="Show the differences (3)" onClick={() => setMode('diff')}>
              Difference
            </button>
          </div>
          <label className="diff-reference-field">
            <span>Reference</span>
            <select
              className="input diff-reference-select"
              data-testid="diff-reference"
              value={referenceId ?? ''}
              onChange={(event) => {
                if (event.target.value !== '') chooseDiffReference(event.target.value);
              }}
            >
              {referenceId === null ? (
                <option value="" disabled>
                  Choose a replica…
                </option>
              ) : null}
              {others.map((id) => (
                <option key={id} value={id} disabled={replicas[id]?.stateName !== 'connected'}>
                  {nameOf(id)}
                  {replicas[id]?.stateName === 'connected' ? '' : ` (${replicas[id]?.stateName ?? 'gone'})`}
                </option>
              ))}
            </select>
          </label>
          {shownMode === 'diff' ? (
            <span className="diff-legend" aria-hidden="true">
              <span className="diff-swatch diff-swatch-equal" /> equal (dimmed)
              <span className="diff-swatch diff-swatch-differs" /> differs
              <span className="diff-swatch diff-swatch-region" /> region
              {settings !== null && settings.ignoreRegions.length > 0 ? (
                <>
                  <span className="diff-swatch diff-swatch-ignored" /> ignored
                </>
              ) : null}
            </span>
          ) : null}
        </div>

        <div ref={viewportRef} className="diff-viewport">
          {result.status === 'unavailable' || (result.status === 'waiting' && referenceId === null) ? (
            <p className="diff-message" data-testid="diff-message">
              {result.status === 'unavailable' ? result.message : choice.reason === 'alone' ? 'No other replica is connected: there is nothing to compare against.' : 'There is no majority here: choose the replica to compare against above.'}
            </p>
          ) : null}
          {shown !== null && result.status !== 'unavailable' ? (
            <div className="diff-picture" style={cssSize}>
              <canvas ref={canvasRef} className="diff-canvas" data-testid="diff-canvas" aria-label={`${shownMode === 'diff' ? 'Differences' : 'Screen'} of ${shownMode === 'reference' ? (referenceName ?? '') : subjectName}`} />
              <svg className="diff-regions" viewBox={`0 0 ${shown.width} ${shown.height}`} preserveAspectRatio="none" aria-hidden="true">
                {regions.map((region, index) => (
                  <rect key={index} x={region.x - 1.5} y={region.y - 1.5} width={region.width + 3} height={region.height + 3} vectorEffect="non-scaling-stroke" />
                ))}
              </svg>
            </div>
          ) : null}
        </div>
        {result.status === 'size-mismatch' ? (
          <p className="diff-note" data-testid="diff-message">
            {result.message}
          </p>
        ) : null}
        <footer className="diff-footer">
          <span>
            <kbd>1</kbd> <kbd>2</kbd> <kbd>3</kbd> switch · <kbd>F</kbd> flip {subjectName} ↔ {referenceName ?? 'reference'} · <kbd>Esc</kbd> closes
          </span>
          <span>Keys typed here are not sent to the replicas.</span>
        </footer>
      </div>
    </div>
  );
}
