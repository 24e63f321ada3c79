// The workspace toolbar: profile name, how many replicas are up, whether their screens agree,
// Fit / 1:1, full screen, close. On narrow windows the secondary buttons show only their icons
// (their names stay for screen readers and tooltips) and, as a last resort, the actions wrap onto a
// second row: no control is ever out of reach. Runs in the renderer.

import type { ReactElement } from 'react';
import { describeDivergenceState, type Divergence } from '../../common/divergence';
import { useAppController } from '../app-context';
import { useAppStore } from '../store';
import { BrandMark, CloseIcon, ExitFullscreenIcon, FitIcon, FullscreenIcon } from './icons';
import { TimelineToggle } from './divergence-timeline';
import { BroadcastControls } from './input-controls';

/** The workspace's full-screen toggle (the stage element lives in the workspace). */
export interface ToolbarProps {
  readonly onToggleFullscreen: () => void;
}

/** The toolbar's one-line divergence status: what the divergence detection sees now. */
export function divergenceStatusText(divergences: readonly Divergence[], connected: number, nameOf: (replicaId: string) => string): string {
  if (divergences.length > 0) {
    const text = describeDivergenceState({ divergences, allAgree: false }, nameOf);
    return text.charAt(0).toUpperCase() + text.slice(1);
  }
  return connected >= 2 ? 'All replicas agree' : 'Comparing needs two connected replicas';
}

/** The status when the profile turned comparison off (`"divergence": {"enabled": false}`). */
export const COMPARISON_OFF_TEXT = 'Comparison is off for this profile (divergence.enabled is false)';

function DivergenceStatus({ text, diverged }: { readonly text: string; readonly diverged: boolean }): ReactElement {
  return (
    <span className={`pill divergence-status ${diverged ? 'pill-none' : 'pill-all'}`} data-testid="divergence-status" data-diverged={diverged ? 'true' : 'false'} role="status" title={text}>
      {text}
    </span>
  );
}

/** The bar above the composite. */
export function Toolbar({ onToggleFullscreen }: ToolbarProps): ReactElement {
  const controller = useAppController();
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
          text={comparisonOff ? COMPARISON_OFF_TEXT : divergenceStatusText(divergences, connected, (id) => labelOf[id]?.label ?? id)}
          diverged={divergences.length > 0}
        />
      </div>

      <div className="toolbar-actions">
        <TimelineToggle />
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
        <button type="button" className="button ghost danger" data-testid="close-session" onClick={() => void controller.closeSession()}>
          <CloseIcon size={15} /> Close
        </button>
      </div>
    </header>
  );
}
