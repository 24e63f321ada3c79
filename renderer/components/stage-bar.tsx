// The thin bar above the composite: who receives input (the broadcast badge), the reference's name
// and size and, in full screen where the toolbar is gone, the agreement state with the outliers'
// names and an Exit full screen button. It sits above the remote screen, never over its pixels.
// Runs in the renderer.

import type { ReactElement } from 'react';
import { useAppStore } from '../store';
import { ExitFullscreenIcon } from './icons';
import { BroadcastBadge } from './input-controls';
import { comparisonStatus } from '../workspace/session-status';
import { COMPARISON_OFF_TEXT } from './toolbar';

/** What the stage bar needs from the workspace. */
export interface StageBarProps {
  /** Leaves full screen (the workspace's toggle). */
  readonly onToggleFullscreen: () => void;
}

/** Full screen only: the toolbar's agreement pill, with the outliers named. */
function FullscreenState(): ReactElement {
  const connected = useAppStore((state) => state.replicaIds.filter((id) => state.replicas[id]?.stateName === 'connected').length);
  const total = useAppStore((state) => state.replicaIds.length);
  const divergences = useAppStore((state) => state.divergences);
  const replicas = useAppStore((state) => state.replicas);
  const comparisonOff = useAppStore((state) => state.session?.divergence?.enabled === false);
  const nameOf = (id: string): string => replicas[id]?.label ?? id;
  const outliers = [...new Set(divergences.flatMap((divergence) => divergence.outliers))];
  // The toolbar's own words and colours: green only while every replica is connected and agrees.
  const status = comparisonOff ? { text: COMPARISON_OFF_TEXT, tone: 'some' as const, diverged: false } : comparisonStatus(divergences, connected, total, nameOf);
  const { text, diverged } = status;
  return (
    <>
      <span className={`pill ${connected === total ? 'pill-all' : connected === 0 ? 'pill-none' : 'pill-some'}`}>
        {connected} of {total} connected
      </span>
      {outliers.length > 0 ? (
        // Named on their own, so a long status cut short never hides who disagrees.
        <span className="pill pill-none stage-bar-outliers" data-testid="fullscreen-outliers" title={`Outliers: ${outliers.map(nameOf).join(', ')}`}>
          {outliers.length === 1 ? 'Outlier' : 'Outliers'}: {outliers.map(nameOf).join(', ')}
        </span>
      ) : null}
      <span
        className={`pill stage-bar-state pill-${status.tone}`}
        data-testid="fullscreen-state"
        data-diverged={diverged ? 'true' : 'false'}
        data-outliers={outliers.join(',')}
        role="status"
        title={text}
      >
        {text}
      </span>
    </>
  );
}

/** The bar above the composite (inside the stage, so it stays visible in full screen). */
export function StageBar({ onToggleFullscreen }: StageBarProps): ReactElement {
  const fullScreen = useAppStore((state) => state.fullScreen);
  const session = useAppStore((state) => state.session !== null);
  const reference = useAppStore((state) => (state.referenceId === null ? null : (state.replicas[state.referenceId] ?? null)));
  return (
    <div className={`stage-bar${fullScreen ? ' stage-bar-fullscreen' : ''}`} data-testid="stage-bar">
      <div className="stage-bar-start">
        {fullScreen ? <FullscreenState /> : null}
        {!fullScreen && reference !== null && reference.width !== null ? (
          <span className="stage-caption" title={`The large screen shows ${reference.label}`}>
            {reference.label} · {reference.width}×{reference.height}
          </span>
        ) : null}
      </div>
      {session ? <BroadcastBadge /> : null}
      <div className="stage-bar-end">
        {fullScreen ? (
          <button type="button" className="button ghost small" data-testid="fullscreen-exit" title="Leave full screen (Esc)" onClick={onToggleFullscreen}>
            <ExitFullscreenIcon size={14} /> Exit full screen <kbd>Esc</kbd>
          </button>
        ) : null}
      </div>
    </div>
  );
}
