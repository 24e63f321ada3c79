// The password prompt: one modal at a time for the first replica whose server asks for a password
// the profile does not give. Focus stays inside; Enter submits, Escape cancels. Runs in the renderer.

import { useCallback, useId, useRef, useState, type FormEvent, type ReactElement } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { useAppController } from '../app-context';
import { useFocusTrap } from '../hooks/use-focus-trap';
import { useAppStore, type PasswordPrompt } from '../store';
import { KeyIcon } from './icons';

/** Shows the oldest waiting password prompt, if any. */
export function PasswordDialog(): ReactElement | null {
  const prompt = useAppStore((state) => state.passwordPrompts[0] ?? null);
  const othersWaiting = useAppStore(useShallow((state) => state.passwordPrompts.slice(1).map((entry) => entry.replicaId)));
  if (prompt === null) return null;
  // Keyed by replica: each prompt starts with empty fields.
  return <PasswordForm key={prompt.replicaId} prompt={prompt} othersWaiting={othersWaiting} />;
}

interface PasswordFormProps {
  readonly prompt: PasswordPrompt;
  readonly othersWaiting: readonly string[];
}

function PasswordForm({ prompt, othersWaiting }: PasswordFormProps): ReactElement {
  const workspace = useAppController().workspace;
  const dialogRef = useRef<HTMLDivElement>(null);
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [forAll, setForAll] = useState(false);
  const ids = useId();

  const cancel = useCallback(() => workspace?.cancelPasswordRequest(prompt.replicaId), [workspace, prompt.replicaId]);
  useFocusTrap(dialogRef, cancel);

  const submit = (event: FormEvent): void => {
    event.preventDefault();
    const targets = forAll ? [prompt.replicaId, ...othersWaiting] : [prompt.replicaId];
    workspace?.submitCredentials(targets, prompt.needsUsername ? { username, password } : { password });
  };

  return (
    <div className="modal-backdrop">
      <div ref={dialogRef} className="modal" role="dialog" aria-modal="true" aria-labelledby={`${ids}-title`} aria-describedby={`${ids}-text`}>
        <form onSubmit={submit}>
          <header className="modal-header">
            <span className="modal-icon" aria-hidden="true">
              <KeyIcon size={20} />
            </span>
            <div>
              <h2 id={`${ids}-title`} className="modal-title">
                Password for {prompt.label}
              </h2>
              <p id={`${ids}-text`} className="modal-text">
                The VNC server at <span className="mono">{prompt.endpoint}</span> asks for a password.
              </p>
            </div>
          </header>
          {prompt.message !== null ? (
            <p className="modal-message" data-testid="password-message">
              {prompt.message}
            </p>
          ) : null}
          {prompt.needsUsername ? (
            <>
              <label className="field-label" htmlFor={`${ids}-username`}>
                User name
              </label>
              <input
                id={`${ids}-username`}
                className="input"
                data-testid="username-input"
                autoComplete="off"
                value={username}
                onChange={(event) => setUsername(event.target.value)}
              />
            </>
          ) : null}
          <label className="field-label" htmlFor={`${ids}-password`}>
            Password
          </label>
          <input
            id={`${ids}-password`}
            className="input"
            type="password"
            data-testid="password-input"
            autoComplete="off"
            value={password}
            onChange={(event) => setPassword(event.target.value)}
          />
          {othersWaiting.length > 0 ? (
            <label className="checkbox">
              <input type="checkbox" data-testid="password-for-all" checked={forAll} onChange={(event) => setForAll(event.target.checked)} />
              Use it for the {othersWaiting.length === 1 ? 'other replica' : `${othersWaiting.length} other replicas`} waiting too
            </label>
          ) : null}
          <div className="modal-actions">
            <button type="button" className="button ghost" data-testid="password-cancel" onClick={cancel}>
              Cancel
            </button>
            <button type="submit" className="button primary" data-testid="password-submit">
              Connect
            </button>
          </div>
        </form>
      </div>
    </div>
  );
}
