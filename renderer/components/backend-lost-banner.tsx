// The blocking banner shown when the back end is gone: nothing else works without it, so nothing
// else can be clicked. Runs in the renderer.

import type { ReactElement } from 'react';
import { useAppStore } from '../store';
import { LinkOffIcon } from './icons';

/** Covers the app once the back end connection is lost (or never came up). */
export function BackendLostBanner(): ReactElement | null {
  const reason = useAppStore((state) => state.backendLost);
  if (reason === null) return null;
  return (
    <div className="blocking-backdrop">
      <div className="blocking-banner" role="alertdialog" aria-modal="true" aria-labelledby="backend-lost-title" data-testid="backend-lost">
        <LinkOffIcon size={28} className="blocking-icon" />
        <h2 id="backend-lost-title">{reason}</h2>
        <p>The VNC sessions and every other action need it. Once it runs again, reload this window.</p>
      </div>
    </div>
  );
}
