// The quick-connect form: a list of host:N / host::port replicas and an optional shared password
// (Ctrl+Enter in either field connects), and the recent endpoint sets to reuse with one click.
// Runs in the renderer.

import { useState, type FormEvent, type KeyboardEvent, type ReactElement } from 'react';
import { useAppController } from '../app-context';
import { useAppStore } from '../store';
import { BoltIcon, CloseIcon } from './icons';

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
  const onKeyDown = (event: KeyboardEvent<HTMLElement>): void => {
    // In the list Enter makes a new line (one replica per line); Ctrl/Cmd+Enter connects from either field.
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      submit();
    }
  };
  const reuse = (set: readonly string[]): void => {
    const text = set.join('\n');
    setEndpoints(text);
    void controller.quickConnect(text, password);
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
        onKeyDown={onKeyDown}
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
        onKeyDown={onKeyDown}
      />
      <div className="form-actions">
        <span className="field-hint">Ctrl+Enter connects</span>
        <button type="submit" className="button primary" data-testid="quick-connect-submit" disabled={opening}>
          <BoltIcon size={15} />
          {opening ? 'Connecting…' : 'Connect'}
        </button>
      </div>
      <RecentEndpointSets onReuse={reuse} />
    </form>
  );
}

/** The endpoint sets that opened before (most recent first; never a password), each one click away. */
function RecentEndpointSets({ onReuse }: { readonly onReuse: (set: readonly string[]) => void }): ReactElement | null {
  const controller = useAppController();
  const opening = useAppStore((state) => state.opening);
  const recent = useAppStore((state) => state.preferences?.recentEndpoints ?? EMPTY);
  if (recent.length === 0) return null;
  return (
    <div className="recent-endpoints" data-testid="recent-endpoints">
      <div className="recent-endpoints-header">
        <span className="field-label">Recent</span>
        <button type="button" className="link-button" data-testid="recent-endpoints-forget-all" onClick={() => void controller.forgetRecentEndpoints()}>
          Forget all
        </button>
      </div>
      <ul className="recent-endpoints-list">
        {recent.map((set) => {
          const text = set.join(', ');
          return (
            <li key={text} className="recent-endpoints-item">
              <button
                type="button"
                className="recent-endpoints-use mono"
                data-testid="recent-endpoint-set"
                title={`Connect to ${text}`}
                disabled={opening}
                onClick={() => onReuse(set)}
              >
                {text}
              </button>
              <button
                type="button"
                className="icon-button"
                data-testid="recent-endpoint-forget"
                aria-label={`Forget ${text}`}
                title="Forget this set"
                onClick={() => void controller.forgetRecentEndpoints(set)}
              >
                <CloseIcon size={12} />
              </button>
            </li>
          );
        })}
      </ul>
    </div>
  );
}

const EMPTY: readonly (readonly string[])[] = [];
