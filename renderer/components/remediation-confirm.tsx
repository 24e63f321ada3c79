// The remediation manager's question (mode "confirm"): which replica, what it would run and why,
// the screens of the divergence that triggered it (the replica's and a majority replica's), a way
// into the live diff view, and "Run" / "Don't". A card docked over the screen, not a modal: it takes
// neither the focus nor the pointer from the replicas (the user may be typing into them when it
// comes), and runs nothing until a button is pressed. "Later" or Escape puts the question aside (the
// panel reopens it). Waits while another dialog is open. Runs in the renderer.

import { useCallback, useId, type KeyboardEvent, type ReactElement } from 'react';
import type { PendingConfirmation } from '../../common/contract';
import { useAppController } from '../app-context';
import { useAppStore } from '../store';
import { REMEDIATION_ACTION_TEXT, clockTime, confirmationEvidence, newestCompleteCheckpoint, plannedActionText, remediationRequestKey } from '../workspace/remediation-display';
import { DiffIcon } from './divergence-diff-view';
import { ShieldIcon } from './remediation-panel';

/** Shows the first remediation waiting for the user, unless it was put aside or another dialog is open. */
export function RemediationConfirm(): ReactElement | null {
  const pending = useAppStore((state) => state.remediation?.pending.find((entry) => entry.planId !== state.deferredPlanId) ?? null);
  const otherDialog = useAppStore((state) => state.diffView !== null || state.timelineDetailId !== null || state.passwordPrompts.length > 0);
  if (pending === null || otherDialog) return null;
  return <ConfirmDialog key={pending.planId} pending={pending} />;
}

function ConfirmDialog({ pending }: { readonly pending: PendingConfirmation }): ReactElement {
  const controller = useAppController();
  const label = useAppStore((state) => state.replicas[pending.replicaId]?.label ?? pending.replicaId);
  const replicas = useAppStore((state) => state.replicas);
  const timeline = useAppStore((state) => state.timeline);
  const checkpoint = useAppStore((state) => newestCompleteCheckpoint(state.remediation?.checkpoints ?? []));
  const busy = useAppStore((state) => state.remediationRequests.includes(remediationRequestKey('plan', pending.planId)));
  const deferConfirmation = useAppStore((state) => state.deferConfirmation);
  const openDiffView = useAppStore((state) => state.openDiffView);
  const ids = useId();
  const action = REMEDIATION_ACTION_TEXT[pending.action];
  const evidence = confirmationEvidence(timeline, pending.replicaId);
  const majorityName = evidence?.majorityId === null || evidence === null ? null : (replicas[evidence.majorityId]?.label ?? evidence.majorityId);

  // Never focused on its own: keys typed for the replicas must neither answer it nor be lost to it.
  const putAside = useCallback(() => deferConfirmation(pending.planId), [deferConfirmation, pending.planId]);
  const onKeyDown = useCallback(
    (event: KeyboardEvent<HTMLElement>) => {
      if (event.key !== 'Escape') return;
      event.preventDefault();
      putAside();
    },
    [putAside],
  );

  return (
    <div className="remediation-confirm-dock">
      <section
        className="modal remediation-confirm"
        role="region"
        aria-live="assertive"
        aria-labelledby={`${ids}-title`}
        aria-describedby={`${ids}-text`}
        onKeyDown={onKeyDown}
        data-testid="remediation-confirm"
        data-plan-id={pending.planId}
        data-replica-id={pending.replicaId}
        data-action={pending.action}
      >
        <header className="modal-header">
          <span className="modal-icon remediation-confirm-icon" aria-hidden="true">
            <ShieldIcon size={20} />
          </span>
          <div>
            <h2 id={`${ids}-title`} className="modal-title">
              Run {action} on {label}?
            </h2>
            <p className="modal-text">The remediation manager asks before it acts (mode “confirm”).</p>
          </div>
        </header>

        <div id={`${ids}-text`} className="remediation-confirm-body">
          <p className="remediation-confirm-reason" data-testid="remediation-confirm-reason">
            <span className="remediation-confirm-label">Why</span> {pending.reason}
          </p>
          <p className="remediation-confirm-plan">
            <span className="remediation-confirm-label">What</span> {plannedActionText(pending.action, label, checkpoint)}
          </p>
        </div>

        <figure className="remediation-evidence" data-testid="remediation-confirm-evidence">
          {evidence !== null && (evidence.subjectUrl !== null || evidence.majorityUrl !== null) ? (
            <div className="remediation-evidence-screens">
              <EvidenceScreen url={evidence.subjectUrl} caption={`${label} (disagrees)`} outlier replicaId={pending.replicaId} />
              <EvidenceScreen url={evidence.majorityUrl} caption={majorityName === null ? 'the majority' : `${majorityName} (majority)`} outlier={false} replicaId={evidence.majorityId ?? ''} />
            </div>
          ) : (
            <p className="remediation-evidence-none">No screens of this divergence are in the timeline; compare the live screens instead.</p>
          )}
          <figcaption className="remediation-evidence-caption">
            {evidence !== null ? `Screens captured at ${clockTime(evidence.atMs)}, when the divergence was confirmed.` : null}
            {pending.evidenceFolder !== undefined ? (
              <>
                {' '}
                Evidence: <span className="mono" title={pending.evidenceFolder}>{`\u200e${pending.evidenceFolder}\u200e`}</span>
              </>
            ) : null}
          </figcaption>
        </figure>

        <div className="modal-actions remediation-confirm-actions">
          <button type="button" className="button ghost remediation-confirm-diff" data-testid="remediation-confirm-diff" onClick={() => openDiffView(pending.replicaId, evidence?.majorityId ?? null)}>
            <DiffIcon size={15} /> Compare live
          </button>
          <span className="remediation-confirm-spacer" />
          <button type="button" className="button ghost" data-testid="remediation-confirm-later" onClick={putAside}>
            Later
          </button>
          <button type="button" className="button" data-testid="remediation-confirm-decline" disabled={busy} onClick={() => void controller.confirmRemediation(pending.planId, false)}>
            Don't
          </button>
          <button type="button" className="button primary" data-testid="remediation-confirm-run" disabled={busy} onClick={() => void controller.confirmRemediation(pending.planId, true)}>
            {busy ? <span className="spinner spinner-tiny" aria-hidden="true" /> : null}
            Run {action}
          </button>
        </div>
        <p className="remediation-confirm-hint">
          Later (or <kbd>Esc</kbd> here) decides later: the remediation panel keeps the question.
        </p>
      </section>
    </div>
  );
}

function EvidenceScreen({ url, caption, outlier, replicaId }: { readonly url: string | null; readonly caption: string; readonly outlier: boolean; readonly replicaId: string }): ReactElement {
  return (
    <div className={`remediation-evidence-screen${outlier ? ' remediation-evidence-outlier' : ''}`}>
      {url !== null ? (
        <img src={url} alt={`${caption}: its screen`} data-testid="remediation-confirm-screenshot" data-replica-id={replicaId} draggable={false} />
      ) : (
        <span className="remediation-evidence-missing">no picture</span>
      )}
      <span className="remediation-evidence-label">{caption}</span>
    </div>
  );
}
