// The large composite: one canvas showing the reference replica, fitted to the room below the stage
// bar (badge, caption, full screen's state) or at one framebuffer pixel per device pixel. The pixels
// are painted by the workspace's CompositeRenderer.
// Runs in the renderer.

import { useCallback, useRef, type ReactElement, type RefObject } from 'react';
import { describeReplicaState } from '../../common/replica-state';
import { useAppController } from '../app-context';
import { useElementSize } from '../hooks/use-element-size';
import { useNow } from '../hooks/use-now';
import { useAppStore } from '../store';
import { DivergenceOverlay } from './divergence-overlay';
import { RemediationConfirm } from './remediation-confirm';
import { StageBar } from './stage-bar';
import { unreachableReplicas, type UnreachableReplica } from '../workspace/session-status';

/** Space kept between a fitted composite and the stage's edges, in CSS px. */
const FIT_MARGIN_PX = 16;
/** The same in full screen: just room for the keyboard outline. */
const FULLSCREEN_FIT_MARGIN_PX = 7;

/** The stage ref shared with the full-screen toggle. */
export interface CompositeViewProps {
  /** The stage element (also what goes full screen). */
  readonly stageRef: RefObject<HTMLDivElement | null>;
  /** Enters or leaves full screen (the stage bar's Exit button in full screen). */
  readonly onToggleFullscreen: () => void;
}

/** The stage with the composite canvas and, while the reference is not live, an overlay saying why. */
export function CompositeView({ stageRef, onToggleFullscreen }: CompositeViewProps): ReactElement {
  const workspace = useAppController().workspace;
  const viewMode = useAppStore((state) => state.viewMode);
  const fullScreen = useAppStore((state) => state.fullScreen);
  const reference = useAppStore((state) => (state.referenceId === null ? null : (state.replicas[state.referenceId] ?? null)));
  const total = useAppStore((state) => state.replicaIds.length);
  const trying = useAppStore((state) =>
    state.replicaIds.some((id) => ['idle', 'connecting', 'needs-password', 'reconnecting'].includes(state.replicas[id]?.stateName ?? '')),
  );
  const noneConnected = useAppStore((state) => !state.replicaIds.some((id) => state.replicas[id]?.stateName === 'connected'));
  // The composite fits the room below the stage bar: the bar never covers its pixels.
  const scrollerRef = useRef<HTMLDivElement>(null);
  const stageSize = useElementSize(scrollerRef);
  const now = useNow(reference?.stateName === 'reconnecting' || noneConnected);
  const replicaIds = useAppStore((state) => state.replicaIds);
  const replicas = useAppStore((state) => state.replicas);
  const unreachable = unreachableReplicas(replicaIds, replicas, now);

  const attachCanvas = useCallback(
    (canvas: HTMLCanvasElement | null) => {
      workspace?.composite.attachCanvas(canvas);
      workspace?.attachCompositeInput(canvas, {
        // Where the keyboard goes when the user releases it (Ctrl+Alt): the first control of the
        // toolbar, or in full screen (no toolbar) the stage bar's Exit full screen button.
        releaseTarget: () =>
          (stageRef.current?.querySelector<HTMLElement>('[data-testid="fullscreen-exit"]') ?? null) ??
          document.querySelector<HTMLElement>('.toolbar button:not([disabled])'),
      });
    },
    [workspace, stageRef],
  );

  const width = reference?.width ?? null;
  const height = reference?.height ?? null;
  let style: { width: string; height: string } | undefined;
  if (width !== null && height !== null && width > 0 && height > 0) {
    if (viewMode === 'fit') {
      // In full screen a thin margin still shows the keyboard outline around the screen.
      const margin = fullScreen ? FULLSCREEN_FIT_MARGIN_PX : FIT_MARGIN_PX;
      const scale = Math.max(0, Math.min((stageSize.width - 2 * margin) / width, (stageSize.height - 2 * margin) / height));
      style = { width: `${Math.floor(width * scale)}px`, height: `${Math.floor(height * scale)}px` };
    } else {
      // One framebuffer pixel per device pixel, also on HiDPI screens.
      const ratio = window.devicePixelRatio || 1;
      style = { width: `${width / ratio}px`, height: `${height / ratio}px` };
    }
  }
  const live = reference?.stateName === 'connected';
  // The coloured frame: input typed here goes to more than one machine.
  const broadcasting = useAppStore((state) => state.broadcastEnabled && state.inputTargets.length > 0);
  // The keyboard's state on the screen, drawn unlike the broadcast frame (see styles.css).
  const keyboard = useAppStore((state) => (state.compositeCaptured ? 'captured' : state.compositeFocused ? 'focused' : 'none'));

  return (
    <div ref={stageRef} className={`stage stage-${viewMode === 'fit' ? 'fit' : 'actual'}${broadcasting ? ' stage-broadcasting' : ''}`} data-testid="stage">
      <StageBar onToggleFullscreen={onToggleFullscreen} />
      <div className="stage-scroller" ref={scrollerRef}>
        {/* The frame holds the composite and, above it, the divergence overlay at the same scale. */}
        <div className="composite-frame">
          <canvas
            id="composite"
            ref={attachCanvas}
            className={`composite${live ? '' : ' composite-stale'}${style ? '' : ' composite-empty'}`}
            data-reference-id={reference?.id ?? ''}
            data-keyboard={keyboard}
            aria-label={reference ? `Screen of ${reference.label}: click to type into the replicas` : 'Screen'}
            role="application"
            style={style}
          />
          {style && width !== null && height !== null ? <DivergenceOverlay width={width} height={height} /> : null}
        </div>
      </div>
      {/* The manager's question (mode "confirm"), docked over the screen's top right without taking its
          focus: inside the stage so it never covers the side panels, and stays visible in full screen. */}
      <RemediationConfirm />
      {unreachable !== null ? (
        <NoReplicaConnected replicas={unreachable} />
      ) : !live ? (
        <div className="stage-overlay" role="status">
          <div className="stage-overlay-box">
            {trying && (reference === null || reference.width === null) ? <span className="spinner" aria-hidden="true" /> : null}
            <p className="stage-overlay-title">
              {reference !== null
                ? `${reference.label}: ${describeReplicaState(reference.state, now)}`
                : trying
                  ? `Connecting to ${total === 1 ? 'the replica' : `${total} replicas`}…`
                  : 'No replica is connected'}
            </p>
            {reference === null && !trying ? <p className="stage-overlay-text">Each replica below says why.</p> : null}
            {reference !== null && reference.width !== null ? <p className="stage-overlay-text">Showing its last picture.</p> : null}
          </div>
        </div>
      ) : null}
    </div>
  );
}

/**
 * Over the stage when no replica is connected and none is on its first attempt: which replicas,
 * why each is not connected, and what to do — check the server, retry now, or go back to the start.
 */
function NoReplicaConnected({ replicas }: { readonly replicas: readonly UnreachableReplica[] }): ReactElement {
  const controller = useAppController();
  const single = replicas.length === 1;
  return (
    <div className="stage-overlay stage-overlay-interactive" role="alert" data-testid="no-replica-connected">
      <div className="stage-overlay-box">
        <p className="stage-overlay-title">{single ? 'The replica is not connected' : `None of the ${replicas.length} replicas is connected`}</p>
        <ul className="stage-overlay-list">
          {replicas.map((replica) => (
            <li key={replica.id} data-testid="unreachable-replica" data-replica-id={replica.id}>
              <span className="mono">{replica.endpoint}</span> — {replica.reason}
              {replica.label !== replica.endpoint ? <span className="stage-overlay-text"> ({replica.label})</span> : null}
            </li>
          ))}
        </ul>
        <p className="stage-overlay-text">
          Check that the VNC server is running and listens on that address and port (and that a firewall lets you in). RetroVisor keeps retrying on its own.
        </p>
        <div className="stage-overlay-actions">
          <button type="button" className="button primary" data-testid="retry-all" onClick={() => replicas.forEach((replica) => controller.workspace?.retryNow(replica.id))}>
            Retry now
          </button>
          <button type="button" className="button ghost" data-testid="back-to-start" onClick={() => void controller.closeSession()}>
            Back to start
          </button>
        </div>
      </div>
    </div>
  );
}
