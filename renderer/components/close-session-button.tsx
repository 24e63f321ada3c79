// The toolbar's Close: with replicas connected it asks first ("Disconnect from N replicas?"); with
// none connected it closes at once. Runs in the renderer.

import { useState, type ReactElement } from 'react';
import { useAppController } from '../app-context';
import { useAppStore } from '../store';
import { ConfirmDialog } from './confirm-dialog';
import { CloseIcon } from './icons';

/** The question Close asks while `connected` replicas are connected. */
export function disconnectQuestion(connected: number): string {
  return connected === 1 ? 'Disconnect from 1 replica?' : `Disconnect from ${connected} replicas?`;
}

/** Closes the session, asking first while any replica is connected. */
export function CloseSessionButton(): ReactElement {
  const controller = useAppController();
  const connected = useAppStore((state) => state.replicaIds.filter((id) => state.replicas[id]?.stateName === 'connected').length);
  const [asking, setAsking] = useState(false);
  return (
    <>
      <button
        type="button"
        className="button ghost danger"
        data-testid="close-session"
        onClick={() => (connected > 0 ? setAsking(true) : void controller.closeSession())}
      >
        <CloseIcon size={15} /> Close
      </button>
      {asking ? (
        <ConfirmDialog
          title={disconnectQuestion(connected)}
          text="The session closes and you return to the start screen. The replicas themselves keep running."
          confirmLabel="Disconnect"
          testId="close-confirm"
          onConfirm={() => {
            setAsking(false);
            void controller.closeSession();
          }}
          onCancel={() => setAsking(false)}
        />
      ) : null}
    </>
  );
}
