// A yes/no question before an action that is hard to take back (Ctrl+Alt+Del to every replica,
// closing a session with replicas connected), optionally with "Don't ask again". A modal: focus
// starts on Cancel and stays inside; Escape cancels. Runs in the renderer.

import { useId, useRef, useState, type ReactElement } from 'react';
import { useFocusTrap } from '../hooks/use-focus-trap';
import { AlertIcon } from './icons';

/** What the question says and does. */
export interface ConfirmDialogProps {
  readonly title: string;
  readonly text: string;
  readonly confirmLabel: string;
  /** data-testid of the dialog; its buttons are `${testId}-confirm`, `${testId}-cancel`, `${testId}-dont-ask`. */
  readonly testId: string;
  /** Shows a "Don't ask again" checkbox; onConfirm hears whether it was ticked. */
  readonly offerDontAskAgain?: boolean;
  readonly onConfirm: (dontAskAgain: boolean) => void;
  readonly onCancel: () => void;
}

/** Asks once; nothing happens until a button is pressed. */
export function ConfirmDialog({ title, text, confirmLabel, testId, offerDontAskAgain = false, onConfirm, onCancel }: ConfirmDialogProps): ReactElement {
  const dialogRef = useRef<HTMLDivElement>(null);
  const [dontAskAgain, setDontAskAgain] = useState(false);
  const ids = useId();
  useFocusTrap(dialogRef, onCancel);
  return (
    <div className="modal-backdrop">
      <div
        ref={dialogRef}
        className="modal confirm-dialog"
        role="alertdialog"
        aria-modal="true"
        aria-labelledby={`${ids}-title`}
        aria-describedby={`${ids}-text`}
        data-testid={testId}
      >
        <header className="modal-header">
          <span className="modal-icon" aria-hidden="true">
            <AlertIcon size={20} />
          </span>
          <div>
            <h2 id={`${ids}-title`} className="modal-title">
              {title}
            </h2>
            <p id={`${ids}-text`} className="modal-text">
              {text}
            </p>
          </div>
        </header>
        {offerDontAskAgain ? (
          <label className="checkbox">
            <input type="checkbox" data-testid={`${testId}-dont-ask`} checked={dontAskAgain} onChange={(event) => setDontAskAgain(event.target.checked)} />
            Don&apos;t ask again
          </label>
        ) : null}
        <div className="modal-actions">
          {/* Focus starts on Cancel: Enter pressed out of habit does nothing harmful. */}
          <button type="button" className="button ghost" data-testid={`${testId}-cancel`} autoFocus onClick={onCancel}>
            Cancel
          </button>
          <button type="button" className="button primary danger" data-testid={`${testId}-confirm`} onClick={() => onConfirm(dontAskAgain)}>
            {confirmLabel}
          </button>
        </div>
      </div>
    </div>
  );
}
