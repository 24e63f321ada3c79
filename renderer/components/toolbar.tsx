// The workspace toolbar: profile name, how many replicas are up, whether their screens agree,
// Fit / 1:1, full screen, close (which asks first while replicas are connected). On narrow windows
// the secondary buttons show only their icons (their names stay for screen readers and tooltips) and,
// as a last resort, the actions wrap onto a second row: no control is ever out of reach. Runs in the renderer.

import type { ReactElement } from 'react';
import { useAppStore } from '../store';
import { BrandMark, ExitFullscreenIcon, FitIcon, FullscreenIcon } from './icons';
import { TimelineToggle } from './divergence-timeline';
import { BroadcastControls } from './input-controls';
import { comparisonStatus, type ComparisonStatus } from '../workspace/session-status';
import { CloseSessionButton } from './close-session-button';
import { NotificationsMenu } from './notifications-menu';

/** The workspace's full-screen toggle (the stage element lives in the workspace). */
export interface ToolbarProps {
  readonly onToggleFullscreen: () => void;
}

/** The status when the profile turned comparison off (`"divergence": {"enabled": false}`). */
export const COMPARISON_OFF_TEXT = 'Comparison is off for this profile (divergence.enabled is false)';

/**
 * The toolbar's comparison status. While a divergence is shown it is a button: clicking it opens the
 * timeline on that divergence's entry (its screens, regions and evidence).
 */
function DivergenceStatus({ status }: { readonly status: ComparisonStatus }): ReactElement {
  const firstId = useAppStore((state) => state.divergences[0]?.id ?? null);
  const entryId = useAppStore((state) => (firstId === null ? null : (state.timeline.find((entry) => entry.divergenceId === firstId && (entry.kind === 'new' || entry.kind === 'changed'))?.id ?? null)));
  const setTimelineOpen = useAppStore((state) => state.setTimelineOpen);
  const showTimelineDetail = useAppStore((state) => state.showTimelineDetail);
  const common = {
    className: `pill divergence-status pill-${status.tone}`,
    'data-testid': 'divergence-status',
    'data-diverged': status.diverged ? 'true' : 'false',
    'data-tone': status.tone,
  } as const;
  if (!status.diverged) {
    return (
      <span {...common} role="status" title={status.text}>
        {status.text}
      </span>
    );
  }
  return (
    <span role="status">
      <button
        type="button"
        {...common}
        title={`${status.text} — click to see it in the timeline`}
        onClick={() => {
          setTimelineOpen(true);
          if (entryId !== null) showTimelineDetail(entryId);
        }}
      >
        {status.text}
      </button>
    </span>
  );
}

/** The bar above the composite. */
export function Toolbar({ onToggleFullscreen }: ToolbarProps): ReactElement {
  const name = useAppStore((state) => state.session?.name ?? '');
  const source = useAppStore((state) => state.session?.source ?? '');
  const total = useAppStore((state) => state.replicaIds.length);
  const connected = useAppStore((state) => state.replicaIds.filter((id) => state.replicas[id]?.stateName === 'connected').length);
  const viewMode = useAppStore((state) => state.viewMode);
  const setViewMode = useAppStore((state) => state.setViewMode);
  const fullScreen = useAppStore((state) => state.fullScreen);
  const health = connected === total ? 'all' : connected === 0 ? 'none' : 'some';
  const divergences = useAppStore((state) => state.divergences);
  const labelOf = useAppStore((state) => state.replicas);
  const comparisonOff = useAppStore((state) => state.session?.divergence?.enabled === false);

  return (
    <header className="toolbar" role="toolbar" aria-label="Session">
      <div className="toolbar-title">
        <BrandMark size={24} />
        <div className="toolbar-names">
          <span className="toolbar-profile" title={name}>
            {name}
          </span>
          {source !== name ? (
            <span className="toolbar-source" title={source}>
              {source}
            </span>
          ) : null}
        </div>
        <span className={`pill pill-${health}`} aria-live="polite">
          {connected} of {total} connected
        </span>
        <DivergenceStatus
          status={comparisonOff ? { text: COMPARISON_OFF_TEXT, tone: 'some', diverged: false } : comparisonStatus(divergences, connected, total, (id) => labelOf[id]?.label ?? id)}
        />
      </div>

      <div className="toolbar-actions">
        <TimelineToggle />
        <NotificationsMenu />
        <BroadcastControls />
        <div className="segmented" role="group" aria-label="Zoom">
          <button
            type="button"
            className="segment"
            data-testid="view-fit"
            aria-pressed={viewMode === 'fit'}
            title="Scale the screen to the window"
            onClick={() => setViewMode('fit')}
          >
            <FitIcon size={14} /> Fit
          </button>
          <button
            type="button"
            className="segment"
            data-testid="view-1to1"
            aria-pressed={viewMode === '1:1'}
            title="One screen pixel per framebuffer pixel"
            onClick={() => setViewMode('1:1')}
          >
            1:1
          </button>
        </div>
        <button
          type="button"
          className="button ghost"
          data-testid="fullscreen"
          aria-pressed={fullScreen}
          title={fullScreen ? 'Exit full screen (Esc)' : 'Full screen: only the screen, with a thin bar to see the state and leave'}
          onClick={onToggleFullscreen}
        >
          {fullScreen ? <ExitFullscreenIcon size={15} /> : <FullscreenIcon size={15} />}
          <span className="toolbar-label">{fullScreen ? 'Exit full screen' : 'Full screen'}</span>
        </button>
        <CloseSessionButton />
      </div>
    </header>
  );
}
