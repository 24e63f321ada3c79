// The toolbar's Notifications menu: "Notify me" (the browser shell's Web Notifications, asked from
// this click), do-not-disturb, which kinds notify, and close to tray (the Electron shell). Runs in the renderer.

import { useEffect, useId, useRef, useState, type ReactElement } from 'react';
import { DEFAULT_NOTIFICATION_SETTINGS, NOTIFICATION_KINDS, type NotificationKind } from '../../common/desktop-status';
import { useAppController } from '../app-context';
import { useAppStore } from '../store';
import { BellIcon } from './icons';

/** What each kind is called in the menu (docs/desktop.md). */
const KIND_WORDS: Readonly<Record<NotificationKind, string>> = {
  divergence: 'Divergence confirmed',
  resolved: 'Divergence resolved',
  remediation: 'Remediation started / ended',
  replica: 'Replica lost / back',
  'host-key': 'Host key changed',
};

/** The bell button and its menu. */
export function NotificationsMenu(): ReactElement {
  const controller = useAppController();
  const [open, setOpen] = useState(false);
  const menuId = useId();
  const anchor = useRef<HTMLDivElement>(null);
  const shell = useAppStore((state) => state.shell);
  const web = useAppStore((state) => state.webNotifications);
  const settings = useAppStore((state) => state.preferences?.notifications ?? DEFAULT_NOTIFICATION_SETTINGS);
  const closeToTray = useAppStore((state) => state.preferences?.closeToTray ?? true);

  useEffect(() => {
    if (!open) return undefined;
    const onPointer = (event: PointerEvent): void => {
      if (!anchor.current?.contains(event.target as Node)) setOpen(false);
    };
    const onKey = (event: KeyboardEvent): void => {
      if (event.key === 'Escape') setOpen(false);
    };
    document.addEventListener('pointerdown', onPointer);
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('pointerdown', onPointer);
      document.removeEventListener('keydown', onKey);
    };
  }, [open]);

  const toggleKind = (kind: NotificationKind): void => {
    const disabledKinds = settings.disabledKinds.includes(kind) ? settings.disabledKinds.filter((entry) => entry !== kind) : [...settings.disabledKinds, kind];
    void controller.setDesktopPreferences({ notifications: { ...settings, disabledKinds } });
  };
  const webWords = web === 'on' ? '✓ Notify me' : web === 'denied' ? 'Notify me (blocked by the browser)' : 'Notify me';
  const bellOn = shell === 'browser' ? web === 'on' && !settings.doNotDisturb : !settings.doNotDisturb;

  return (
    <div className="menu-anchor" ref={anchor}>
      <button
        type="button"
        className="button ghost"
        data-testid="notifications-menu"
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={menuId}
        title={bellOn ? 'Notifications are on' : 'Notifications are off'}
        onClick={() => setOpen(!open)}
      >
        <BellIcon size={15} off={!bellOn} /> <span className="toolbar-label">Notifications</span>
      </button>
      {open ? (
        <div className="menu" role="menu" id={menuId} aria-label="Notifications">
          {shell === 'browser' ? (
            <button
              type="button"
              role="menuitemcheckbox"
              aria-checked={web === 'on'}
              className="menu-item"
              data-testid="notify-me"
              disabled={web === 'unsupported' || web === 'denied'}
              title={web === 'denied' ? "The browser blocks this page's notifications: allow them in the site settings" : 'Show a notification when a session changes state (asks the browser once)'}
              // From the click itself: browsers only ask for permission from a user gesture.
              onClick={() => void controller.presence.toggleNotifications()}
            >
              {webWords}
            </button>
          ) : null}
          <button
            type="button"
            role="menuitemcheckbox"
            aria-checked={settings.doNotDisturb}
            className="menu-item"
            data-testid="do-not-disturb"
            onClick={() => void controller.setDesktopPreferences({ notifications: { ...settings, doNotDisturb: !settings.doNotDisturb } })}
          >
            {settings.doNotDisturb ? '✓ ' : ''}Do not disturb
          </button>
          <div className="menu-separator" role="separator" />
          {NOTIFICATION_KINDS.map((kind) => (
            <button
              key={kind}
              type="button"
              role="menuitemcheckbox"
              aria-checked={!settings.disabledKinds.includes(kind)}
              className="menu-item"
              data-testid={`notify-kind-${kind}`}
              onClick={() => toggleKind(kind)}
            >
              {settings.disabledKinds.includes(kind) ? '' : '✓ '}
              {KIND_WORDS[kind]}
            </button>
          ))}
          {shell === 'electron' ? (
            <>
              <div className="menu-separator" role="separator" />
              <button
                type="button"
                role="menuitemcheckbox"
                aria-checked={closeToTray}
                className="menu-item"
                data-testid="close-to-tray"
                title="Closing the window keeps RetroVisor monitoring in the tray; Quit from the tray menu"
                onClick={() => void controller.setDesktopPreferences({ closeToTray: !closeToTray })}
              >
                {closeToTray ? '✓ ' : ''}Keep running in the tray when closed
              </button>
            </>
          ) : null}
        </div>
      ) : null}
    </div>
  );
}
