// The root component: the start screen or the workspace, plus what can cover either (password
// prompt, toasts, the lost-back-end banner). Runs in the renderer.

import type { ReactElement } from 'react';
import { useAppStore } from '../store';
import { BackendLostBanner } from './backend-lost-banner';
import { NoticeToasts } from './notice-toasts';
import { PasswordDialog } from './password-dialog';
import { StartScreen } from './start-screen';
import { Workspace } from './workspace';

/** The whole UI. */
export function App(): ReactElement {
  const sessionId = useAppStore((state) => state.session?.sessionId ?? null);
  const blocked = useAppStore((state) => state.backendLost !== null);
  return (
    <>
      <div className="app" inert={blocked}>
        {sessionId === null ? <StartScreen /> : <Workspace key={sessionId} />}
        <PasswordDialog />
        <NoticeToasts />
      </div>
      <BackendLostBanner />
    </>
  );
}
