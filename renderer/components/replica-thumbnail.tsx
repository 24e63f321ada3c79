// One replica in the strip: its screen scaled down into a small canvas (painted by the workspace's
// ThumbnailRenderer from noVNC's full-size canvas, which sits hidden in the slot), label, endpoint,
// live state, the actions that fit that state, its actions menu (L0) and the remediation manager's
// badge. Runs in the renderer.

import { useCallback, useLayoutEffect, useRef, type ReactElement } from 'react';
import { describeReplicaState, type ReplicaStateName } from '../../common/replica-state';
import { useAppController } from '../app-context';
import { useDevicePixelRatio } from '../hooks/use-device-pixel-ratio';
import { useElementSize } from '../hooks/use-element-size';
import { useNow } from '../hooks/use-now';
import { outlierRegionCounts, sizeDiffersFromReference, useAppStore } from '../store';
import { DiffIcon } from './divergence-diff-view';
import { AlertIcon, KeyIcon, LinkOffIcon, RetryIcon, StarIcon, TunnelIcon } from './icons';
import { IncludeToggle } from './input-controls';
import { MiddleEllipsisText } from './middle-ellipsis-text';
import { RemediationBadge, ReplicaActionsMenu } from './replica-actions-menu';

/** Which replica this thumbnail shows. */
export interface ReplicaThumbnailProps {
  readonly replicaId: string;
}

/** How a state reads at a glance (the dot's colour). */
const STATE_TONE: Readonly<Record<ReplicaStateName, 'ok' | 'busy' | 'warn' | 'bad' | 'off'>> = {
  idle: 'off',
  connecting: 'busy',
  'needs-password': 'warn',
  connected: 'ok',
  'auth-failed': 'bad',
  disconnected: 'bad',
  reconnecting: 'warn',
  closed: 'off',
};

/** A live thumbnail of one replica. */
export function ReplicaThumbnail({ replicaId }: ReplicaThumbnailProps): ReactElement | null {
  const workspace = useAppController().workspace;
  const replica = useAppStore((state) => state.replicas[replicaId]);
  const isReference = useAppStore((state) => state.referenceId === replicaId);
  const sizeDiffers = useAppStore((state) => sizeDiffersFromReference(state, replicaId));
  const referenceWidth = useAppStore((state) => (state.referenceId === null ? null : (state.replicas[state.referenceId]?.width ?? null)));
  const referenceHeight = useAppStore((state) => (state.referenceId === null ? null : (state.replicas[state.referenceId]?.height ?? null)));
  const now = useNow(replica?.stateName === 'reconnecting');
  // In how many disagreeing regions this replica is an outlier (0: it agrees with the majority).
  const outlierRegions = useAppStore((state) => outlierRegionCounts(state.divergences)[replicaId] ?? 0);
  const screenRef = useRef<HTMLDivElement>(null);
  // The diff view needs this replica and one other on screen.
  const comparable = useAppStore((state) => state.replicaIds.filter((id) => state.replicas[id]?.stateName === 'connected').length >= 2);
  const openDiffView = useAppStore((state) => state.openDiffView);
  // The remediation manager's state of this replica (absent until the manager reports).
  const remediationState = useAppStore((state) => state.remediation?.replicas.find((entry) => entry.replicaId === replicaId)?.state ?? null);
  const setApart = remediationState === 'remediating' || remediationState === 'quarantined';

  // The thumbnail's bitmap is as large as the room it is shown in, in device pixels.
  const screenSize = useElementSize(screenRef);
  const pixelRatio = useDevicePixelRatio();
  const thumbnail = workspace?.thumbnailOf(replicaId) ?? null;
  const attachThumbnail = useCallback((canvas: HTMLCanvasElement | null) => thumbnail?.attachCanvas(canvas), [thumbnail]);
  useLayoutEffect(() => {
    thumbnail?.setBox(screenSize.width, screenSize.height, pixelRatio);
  }, [thumbnail, screenSize.width, screenSize.height, pixelRatio]);

  // The replica's noVNC screen lives in a host element owned by the session: mount it here (hidden:
  // it is the full-size framebuffer the thumbnail is drawn from).
  useLayoutEffect(() => {
    const host = workspace?.hostOf(replicaId) ?? null;
    const box = screenRef.current;
    if (host === null || box === null) return undefined;
    box.appendChild(host);
    return () => host.remove();
  }, [workspace, replicaId]);

  if (!replica) return null;
  const stateName = replica.stateName;
  const description = describeReplicaState(replica.state, now);
  const live = stateName === 'connected';
  const resting = stateName === 'disconnected' || stateName === 'auth-failed' || stateName === 'reconnecting';
  const detail = stateName === 'reconnecting' ? replica.lastError : null;
  const titleId = `replica-${replicaId}-label`;

  return (
    <article
      className={`thumbnail${isReference ? ' thumbnail-reference' : ''}${live ? '' : ' thumbnail-offline'}${outlierRegions > 0 ? ' thumbnail-divergent' : ''}${setApart ? ` thumbnail-${remediationState}` : ''}`}
      data-replica-id={replicaId}
      data-state={stateName}
      data-divergent={outlierRegions > 0 ? 'true' : 'false'}
      data-remediation={remediationState ?? ''}
      aria-labelledby={titleId}
    >
      <header className="thumbnail-header">
        <span className={`state-dot tone-${STATE_TONE[stateName]}`} aria-hidden="true" />
        {/* Cut in the middle when long: the end (a port, a number) is what tells replicas apart. */}
        <MiddleEllipsisText as="h3" id={titleId} className="thumbnail-label" text={replica.label} />
        <IncludeToggle replicaId={replicaId} />
        {outlierRegions > 0 ? (
          <span
            className="badge badge-divergent"
            data-testid="divergence-badge"
            title={`Its screen disagrees with the others in ${outlierRegions === 1 ? '1 region' : `${outlierRegions} regions`}`}
          >
            <AlertIcon size={11} /> {outlierRegions}
          </span>
        ) : null}
        {/* The reference thumbnail is crowded already; it gets the button only when it is an outlier. */}
        {live && comparable && (!isReference || outlierRegions > 0) ? (
          <button
            type="button"
            className={`icon-button open-diff${outlierRegions > 0 ? ' open-diff-divergent' : ''}`}
            data-testid="open-diff"
            aria-label={`Compare ${replica.label} with the reference`}
            title={outlierRegions > 0 ? 'Show where this replica differs (diff view)' : 'Compare this replica with another (diff view)'}
            onClick={() => openDiffView(replicaId)}
          >
            <DiffIcon size={14} />
          </button>
        ) : null}
        {isReference ? (
          // Beside a divergence badge and a diff button there is no room for the word: the star says it.
          <span className="badge badge-reference" title="Reference: the composite shows this replica" aria-label="Reference">
            <StarIcon size={11} />
            {outlierRegions > 0 ? null : ' Reference'}
          </span>
        ) : live ? (
          <button
            type="button"
            className="icon-button make-reference"
            data-testid="make-reference"
            aria-label={`Make ${replica.label} the reference`}
            title="Make reference: show this replica in the large view"
            onClick={() => workspace?.makeReference(replicaId)}
          >
            <StarIcon size={14} />
          </button>
        ) : null}
      </header>

      <div className="thumbnail-screen">
        {/* React renders nothing in the slot: the session's host element is appended to it. */}
        <div className="thumbnail-slot" ref={screenRef} />
        <canvas className="thumbnail-canvas" data-testid="thumbnail-canvas" ref={attachThumbnail} aria-hidden="true" />
        <RemediationBadge replicaId={replicaId} />
        {!live ? (
          <div className="thumbnail-placeholder" aria-hidden="true">
            {stateName === 'connecting' || stateName === 'idle' ? <span className="spinner spinner-small" /> : null}
            {stateName === 'needs-password' || stateName === 'auth-failed' ? <KeyIcon size={22} /> : null}
            {stateName === 'disconnected' || stateName === 'reconnecting' ? <LinkOffIcon size={22} /> : null}
          </div>
        ) : null}
      </div>

      <div className="thumbnail-info">
        {/* Here rather than in the crowded header; the endpoint and state flow around it. */}
        <ReplicaActionsMenu replicaId={replicaId} />
        <div className="thumbnail-endpoint" title={replica.endpoint}>
          {replica.tunnel ? <TunnelIcon size={12} className="tunnel-icon" /> : null}
          {replica.endpoint}
        </div>
        <div className={`thumbnail-state tone-text-${STATE_TONE[stateName]}`} data-testid="replica-state" title={description}>
          {description}
        </div>
        {detail !== null ? (
          <div className="thumbnail-detail" title={detail}>
            {detail}
          </div>
        ) : null}
        {sizeDiffers && replica.width !== null && referenceWidth !== null ? (
          <div className="size-warning" data-testid="size-differs" title="Its desktop size differs from the reference replica's">
            <AlertIcon size={12} />
            size differs: {replica.width}×{replica.height} vs {referenceWidth}×{referenceHeight}
          </div>
        ) : null}
      </div>

      {resting ? (
        <div className="thumbnail-actions">
          <button type="button" className="button small" data-testid="retry-now" onClick={() => workspace?.retryNow(replicaId)}>
            <RetryIcon size={12} /> Retry now
          </button>
          {stateName === 'auth-failed' ? (
            <button type="button" className="button small" data-testid="enter-password" onClick={() => workspace?.enterPasswordAgain(replicaId)}>
              <KeyIcon size={12} /> Enter password
            </button>
          ) : null}
        </div>
      ) : null}
    </article>
  );
}
