// The quick-connect form: a list of host:N / host::port replicas and an optional shared password.
// Runs in the renderer.

import { useState, type FormEvent, type KeyboardEvent, type ReactElement } from 'react';
import { useAppController } from '../app-context';
import { useAppStore } from '../store';
import { BoltIcon } from './icons';

const PLACEHOLDER = '127.0.0.1:1\n127.0.0.1:2\nhypervisor-b.lan::5901';

/** Opens an ad-hoc session from typed endpoints. */
export function QuickConnectForm(): ReactElement {
  const controller = useAppController();
  const opening = useAppStore((state) => state.opening);
  const [endpoints, setEndpoints] = useState('');
  const [password, setPassword] = useState('');

  const submit = (event?: FormEvent): void => {
    event?.preventDefault();
    void controller.quickConnect(endpoints, password);
  };
  const onEndpointsKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>): void => {
    // Enter makes a new line (one replica per line); Ctrl/Cmd+Enter connects.
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) submit();
  };

  return (
    <form className="quick-connect" onSubmit={submit} aria-labelledby="quick-connect-title">
      <label className="field-label" htmlFor="quick-connect-endpoints">
        Replicas
      </label>
      <textarea
        id="quick-connect-endpoints"
        className="input mono"
        data-testid="quick-connect-endpoints"
        rows={4}
        spellCheck={false}
        autoCapitalize="off"
        autoComplete="off"
        placeholder={PLACEHOLDER}
        value={endpoints}
        onChange={(event) => setEndpoints(event.target.value)}
        onKeyDown={onEndpointsKeyDown}
        aria-describedby="quick-connect-hint"
      />
      <p id="quick-connect-hint" className="field-hint">
        One per line: <code>host:N</code> for display N, <code>host::port</code> for a TCP port.
      </p>
      <label className="field-label" htmlFor="quick-connect-password">
        Password <span className="field-optional">optional, used for every replica</span>
      </label>
      <input
        id="quick-connect-password"
        className="input"
        data-testid="quick-connect-password"
        type="password"
        autoComplete="off"
        value={password}
        onChange={(event) => setPassword(event.target.value)}
      />
      <div className="form-actions">
        <span className="field-hint">Ctrl+Enter connects</span>
        <button type="submit" className="button primary" data-testid="quick-connect-submit" disabled={opening}>
          <BoltIcon size={15} />
          {opening ? 'Connecting…' : 'Connect'}
        </button>
      </div>
    </form>
  );
}
