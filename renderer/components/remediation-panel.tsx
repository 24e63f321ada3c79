// The remediation panel beside the screen: the manager's mode, the checkpoints (with "Take
// checkpoint"), each replica's place in the manager's lifecycle and the newest audit entries.
// Collapsible; folds to its rail when docking it would squeeze the screen (then it opens over it).
// Runs in the renderer.

import { useCallback, useEffect, useRef, useState, type ReactElement, type RefObject } from 'react';
import type { RemediationView } from '../../common/contract';
import { useAppController } from '../app-context';
import { useElementSize } from '../hooks/use-element-size';
import { useNow } from '../hooks/use-now';
import { useAppStore } from '../store';
import {
  MODE_TEXT,
  auditLine,
  backoffText,
  checkpointOutcomeText,
  checkpointsNewestFirst,
  clockTime,
  dockedPanelFits,
  newestAuditFirst,
  remediationRequestKey,
  remediationSummary,
  replicaDetailText,
  replicaStateText,
} from '../workspace/remediation-display';
import { CameraIcon, ChevronLeftIcon, ChevronRightIcon } from './icons';

/** Audit entries the panel lists (the view carries more; the audit file has all). */
const AUDIT_ENTRIES_SHOWN = 60;

/** The stage whose width decides whether the panel docks beside it. */
export interface RemediationPanelProps {
  readonly stageRef: RefObject<HTMLElement | null>;
}

/** A shield: the remediation manager's mark. */
export function ShieldIcon({ size = 16, className }: { readonly size?: number; readonly className?: string }): ReactElement {
  return (
    <svg className={className} width={size} height={size} viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth={1.8} strokeLinecap="round" strokeLinejoin="round" aria-hidden="true" focusable="false">
      <path d="M12 3 4.5 6v5.5c0 4.4 3.1 8.3 7.5 9.5 4.4-1.2 7.5-5.1 7.5-9.5V6L12 3Z" />
      <path d="m9 12 2 2 4-4" />
    </svg>
  );
}

/** The remediation manager's panel; renders nothing until the manager has reported. */
export function RemediationPanel({ stageRef }: RemediationPanelProps): ReactElement | null {
  const view = useAppStore((state) => state.remediation);
  const open = useAppStore((state) => state.remediationPanelOpen);
  const setOpen = useAppStore((state) => state.setRemediationPanelOpen);
  const replicas = useAppStore((state) => state.replicas);
  const stageWidth = useElementSize(stageRef).width;
  // What is rendered now: docked beside the stage, or the rail. Derived during render (hysteresis in dockedPanelFits).
  const [docked, setDocked] = useState(true);
  // Opened over the stage from the rail, while there is no room to dock it.
  const [overlay, setOverlay] = useState(false);
  const overlayRef = useRef<HTMLDivElement>(null);
  const nameOf = useCallback((id: string) => replicas[id]?.label ?? id, [replicas]);

  const shouldDock = open && dockedPanelFits(stageWidth, docked);
  if (shouldDock !== docked) setDocked(shouldDock);
  if (overlay && (shouldDock || !open)) setOverlay(false);
  const showOverlay = overlay && open && !shouldDock;

  const closeOverlay = useCallback(() => setOverlay(false), []);
  useOverlayDismiss(showOverlay, overlayRef, closeOverlay);

  if (view === null) return null;
  const summary = remediationSummary(view, nameOf);
  const attention = view.pending.length > 0 ? 'pending' : view.replicas.some((replica) => replica.state === 'remediating') ? 'busy' : view.replicas.some((replica) => replica.state === 'quarantined') ? 'bad' : 'calm';

  if (shouldDock) {
    return (
      <aside className="remediation-panel" data-testid="remediation-panel" data-collapsed="false" data-mode={view.mode} aria-label="Remediation">
        <PanelContent view={view} summary={summary} nameOf={nameOf} collapseTestId="remediation-panel-toggle" collapseTitle="Hide the remediation panel" onCollapse={() => setOpen(false)} />
      </aside>
    );
  }

  const squeezed = open;
  const expand = (): void => {
    // Docking would leave the screen too narrow: open it over the screen instead.
    if (squeezed || !dockedPanelFits(stageWidth, false)) setOverlay(true);
    setOpen(true);
  };
  return (
    <aside
      className={`remediation-panel remediation-panel-collapsed${showOverlay ? ' remediation-panel-overlaid' : ''}`}
      data-testid="remediation-panel"
      data-collapsed={showOverlay ? 'false' : 'true'}
      data-squeezed={squeezed ? 'true' : 'false'}
      data-mode={view.mode}
      aria-label="Remediation"
    >
      <button
        type="button"
        className={`side-rail remediation-rail remediation-rail-${attention}`}
        data-testid="remediation-panel-toggle"
        aria-expanded={showOverlay}
        title={squeezed ? `Remediation — ${summary}. No room beside the screen: opens over it` : `Show the remediation panel — ${summary}`}
        onClick={() => (showOverlay ? setOverlay(false) : expand())}
      >
        <ChevronLeftIcon size={15} />
        <ShieldIcon size={16} />
        <span className="side-rail-text">Remediation</span>
        {attention !== 'calm' ? <span className={`remediation-rail-dot remediation-rail-dot-${attention}`} aria-hidden="true" /> : null}
      </button>
      {showOverlay ? (
        <div ref={overlayRef} className="remediation-overlay">
          <PanelContent view={view} summary={summary} nameOf={nameOf} collapseTestId="remediation-overlay-close" collapseTitle="Close (Esc)" onCollapse={closeOverlay} />
        </div>
      ) : null}
    </aside>
  );
}

/** Moves focus into the overlaid panel, and closes it on Escape or a press outside it. */
function useOverlayDismiss(active: boolean, ref: RefObject<HTMLElement | null>, close: () => void): void {
  useEffect(() => {
    if (!active) return undefined;
    ref.current?.querySelector<HTMLElement>('button:not([disabled])')?.focus();
    const onKeyDown = (event: KeyboardEvent): void => {
      if (event.key === 'Escape' && ref.current?.contains(document.activeElement)) close();
    };
    const onPointerDown = (event: PointerEvent): void => {
      const target = event.target;
      if (!(target instanceof Node) || ref.current?.contains(target) || ref.current?.parentElement?.contains(target)) return;
      close();
    };
    document.addEventListener('keydown', onKeyDown);
    document.addEventListener('pointerdown', onPointerDown);
    return () => {
      document.removeEventListener('keydown', onKeyDown);
      document.removeEventListener('pointerdown', onPointerDown);
    };
  }, [active, ref, close]);
}

interface PanelContentProps {
  readonly view: RemediationView;
  readonly summary: string;
  readonly nameOf: (replicaId: string) => string;
  readonly collapseTestId: string;
  readonly collapseTitle: string;
  readonly onCollapse: () => void;
}

function PanelContent({ view, summary, nameOf, collapseTestId, collapseTitle, onCollapse }: PanelContentProps): ReactElement {
  return (
    <>
      <header className="side-panel-header">
        <ShieldIcon size={17} className="side-panel-icon" />
        <div className="side-panel-titles">
          <h2 className="side-panel-title">Remediation</h2>
          <p className="side-panel-subtitle" data-testid="remediation-summary" title={summary}>
            {summary}
          </p>
        </div>
        <button type="button" className="icon-button" data-testid={collapseTestId} aria-expanded="true" title={collapseTitle} aria-label={collapseTitle} onClick={onCollapse}>
          <ChevronRightIcon size={15} />
        </button>
      </header>
      <ModeSection view={view} />
      <CheckpointSection view={view} nameOf={nameOf} />
      <ReplicaSection view={view} nameOf={nameOf} />
      <AuditSection view={view} nameOf={nameOf} />
      {view.auditFile !== undefined ? (
        <footer className="remediation-footer" title={view.auditFile}>
          Audit log <span className="mono">{`\u200e${view.auditFile}\u200e`}</span>
        </footer>
      ) : null}
    </>
  );
}

function ModeSection({ view }: { readonly view: RemediationView }): ReactElement {
  const mode = MODE_TEXT[view.mode];
  return (
    <section className="remediation-section remediation-mode" data-testid="remediation-mode" data-mode={view.mode} data-can-act={view.canAct ? 'true' : 'false'} aria-label="Mode">
      <span className={`remediation-mode-pill remediation-mode-${view.mode}`}>{mode.name}</span>
      <p className="remediation-mode-text">{view.canAct ? mode.meaning : 'No replica has an "l0" and "domain" in the profile: the manager can only observe.'}</p>
    </section>
  );
}

function CheckpointSection({ view, nameOf }: { readonly view: RemediationView; readonly nameOf: (id: string) => string }): ReactElement {
  const controller = useAppController();
  const busy = useAppStore((state) => state.remediationRequests.includes(remediationRequestKey('checkpoint')));
  const checkpoints = checkpointsNewestFirst(view.checkpoints);
  const blocked = view.canAct ? null : 'The profile names no L0 for the replicas: there is nothing to snapshot';
  return (
    <section className="remediation-section" aria-label="Checkpoints">
      <div className="remediation-section-heading">
        <h3 className="remediation-section-title">Checkpoints</h3>
        <button
          type="button"
          className="button small"
          data-testid="take-checkpoint"
          disabled={busy || blocked !== null}
          title={blocked ?? 'Snapshot every replica now, at one consistent moment (every replica must agree)'}
          onClick={() => void controller.takeCheckpoint()}
        >
          {busy ? <span className="spinner spinner-tiny" aria-hidden="true" /> : <CameraIcon size={12} />}
          {busy ? 'Taking…' : 'Take checkpoint'}
        </button>
      </div>
      {checkpoints.length === 0 ? (
        <p className="remediation-empty">{view.canAct ? 'None yet. A revert needs one: take it while every replica agrees.' : 'Checkpoints need each replica\'s "l0" and "domain" in the profile.'}</p>
      ) : (
        <ol className="checkpoint-list" data-testid="checkpoint-list">
          {checkpoints.map((checkpoint) => (
            <li
              key={checkpoint.name}
              className={`checkpoint${checkpoint.complete ? '' : ' checkpoint-incomplete'}`}
              data-testid={`checkpoint-${checkpoint.name}`}
              data-complete={checkpoint.complete ? 'true' : 'false'}
              data-seq={checkpoint.seq}
            >
              <span className="checkpoint-name mono" title={checkpoint.name}>
                {checkpoint.name}
              </span>
              <span className="checkpoint-meta">
                <span className="mono" title="The input journal's sequence number when it was taken">
                  input #{checkpoint.seq}
                </span>
                <time dateTime={new Date(checkpoint.takenAtMs).toISOString()}>{clockTime(checkpoint.takenAtMs)}</time>
                <span className={checkpoint.complete ? 'tone-text-ok' : 'tone-text-bad'}>{checkpointOutcomeText(checkpoint, nameOf)}</span>
              </span>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

function ReplicaSection({ view, nameOf }: { readonly view: RemediationView; readonly nameOf: (id: string) => string }): ReactElement {
  const controller = useAppController();
  const deferredPlanId = useAppStore((state) => state.deferredPlanId);
  const deferConfirmation = useAppStore((state) => state.deferConfirmation);
  const requests = useAppStore((state) => state.remediationRequests);
  const now = useNow(view.replicas.some((replica) => replica.backoffUntilMs !== undefined));
  return (
    <section className="remediation-section" aria-label="Replicas">
      <h3 className="remediation-section-title">Replicas</h3>
      <ul className="remediation-replicas">
        {view.replicas.map((replica) => {
          const { text, tone } = replicaStateText(replica);
          const backoff = backoffText(replica.backoffUntilMs, now);
          const detail = replicaDetailText(replica);
          const pending = view.pending.find((entry) => entry.replicaId === replica.replicaId);
          const including = requests.includes(remediationRequestKey('action', replica.replicaId, 'include'));
          return (
            <li key={replica.replicaId} className="remediation-replica" data-testid={`remediation-replica-${replica.replicaId}`} data-state={replica.state} data-action={replica.action ?? ''}>
              <div className="remediation-replica-top">
                <span className="remediation-replica-name" title={nameOf(replica.replicaId)}>
                  {nameOf(replica.replicaId)}
                </span>
                <span className={`remediation-state remediation-tone-${tone}`}>{text}</span>
              </div>
              {detail !== null ? (
                <p className="remediation-replica-detail" title={detail}>
                  {detail}
                </p>
              ) : null}
              <p className="remediation-replica-meta">
                <span title="Remediations started in the last hour">
                  {replica.attemptsLastHour} {replica.attemptsLastHour === 1 ? 'attempt' : 'attempts'} in the last hour
                </span>
                {backoff !== null ? <span className="tone-text-warn">{backoff}</span> : null}
              </p>
              {pending !== undefined && pending.planId === deferredPlanId ? (
                <button type="button" className="button small primary remediation-review" data-testid={`remediation-review-${replica.replicaId}`} onClick={() => deferConfirmation(null)}>
                  Review the question
                </button>
              ) : null}
              {replica.state === 'quarantined' ? (
                <button
                  type="button"
                  className="button small"
                  data-testid={`remediation-include-${replica.replicaId}`}
                  disabled={including}
                  title="Give it input and a vote again, without a replay"
                  onClick={() => void controller.replicaAction(replica.replicaId, 'include')}
                >
                  Include again
                </button>
              ) : null}
            </li>
          );
        })}
      </ul>
    </section>
  );
}

function AuditSection({ view, nameOf }: { readonly view: RemediationView; readonly nameOf: (id: string) => string }): ReactElement {
  const entries = newestAuditFirst(view.audit, AUDIT_ENTRIES_SHOWN);
  return (
    <section className="remediation-section remediation-audit" aria-label="Audit">
      <h3 className="remediation-section-title">
        Audit <span className="remediation-section-note">newest first</span>
      </h3>
      {entries.length === 0 ? (
        <p className="remediation-empty">Every decision and every command run on an L0 is listed here.</p>
      ) : (
        <ol className="audit-list" data-testid="audit-list">
          {entries.map((entry, index) => {
            const line = auditLine(entry, nameOf);
            return (
              // Rows hold no state: their place in the list is key enough.
              <li key={index} className={`audit-entry remediation-tone-border-${line.tone}`} data-testid="audit-entry" data-kind={entry.kind} data-outcome={entry.outcome}>
                <span className="audit-top">
                  <time className="mono" dateTime={new Date(entry.timeMs).toISOString()}>
                    {line.time}
                  </time>
                  <span className={`audit-kind audit-kind-${entry.kind}`}>{entry.kind}</span>
                  <span className="audit-meta" title={line.meta}>
                    {line.meta}
                  </span>
                </span>
                <span className={`audit-text${entry.kind === 'command' ? ' mono' : ''}`} title={line.text}>
                  {line.text}
                </span>
                {line.stderr !== null ? (
                  <span className="audit-stderr mono" title={line.stderr}>
                    {line.stderr}
                  </span>
                ) : null}
              </li>
            );
          })}
        </ol>
      )}
    </section>
  );
}
