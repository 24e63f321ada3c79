// Toasts for notices from the back end and the UI; info and warnings fade after a while, errors
// stay until dismissed. Runs in the renderer.

import { useEffect, type ReactElement } from 'react';
import { useAppStore, type NoticeItem } from '../store';
import { CloseIcon } from './icons';

/** How long info and warning toasts stay. */
const NOTICE_LIFETIME_MS = 8000;

/** The stack of toasts in the corner. */
export function NoticeToasts(): ReactElement {
  const notices = useAppStore((state) => state.notices);
  return (
    <div className="toasts" aria-live="polite">
      {notices.map((notice) => (
        <Toast key={notice.id} notice={notice} />
      ))}
    </div>
  );
}

function Toast({ notice }: { readonly notice: NoticeItem }): ReactElement {
  const dismissNotice = useAppStore((state) => state.dismissNotice);
  useEffect(() => {
    if (notice.level === 'error') return undefined;
    const timer = setTimeout(() => dismissNotice(notice.id), NOTICE_LIFETIME_MS);
    return () => clearTimeout(timer);
  }, [notice, dismissNotice]);
  return (
    <div className={`toast toast-${notice.level}`} role={notice.level === 'error' ? 'alert' : 'status'}>
      <span className="toast-message">{notice.message}</span>
      <button type="button" className="icon-button" aria-label="Dismiss" onClick={() => dismissNotice(notice.id)}>
        <CloseIcon size={13} />
      </button>
    </div>
  );
}
