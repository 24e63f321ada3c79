// The Electron shell's presence on the desktop: the tray (icon per state, menu), the notifications, and
// close-to-tray (closing the window hides it while RetroVisor keeps monitoring; the first time, a
// notification says so). Runs in Electron's main process; the parts are adapters in tray.ts and notifications.ts.

import { Menu, Notification, Tray, app, nativeImage, nativeTheme, type BrowserWindow, type NativeImage } from 'electron';
import type { DesktopNotification, PanelTheme, TrayState } from '../common/desktop-status';
import type { Backend } from '../main/backend';
import { errorMessage, type Logger } from '../main/logger';
import { renderTrayIcons, type TrayIconSet } from '../main/tray-icons';
import { DesktopNotifier } from './notifications';
import { DesktopTray, recentProfilesOf, trayActionsFor } from './tray';

/** The size a Linux panel's tray asks for most; the other drawings are added as representations at their density. */
const BASE_TRAY_SIZE = 22;

/** One native image per state: the base size and every larger size as a representation. */
function nativeIcons(set: TrayIconSet): Map<TrayState, NativeImage> {
  const icons = new Map<TrayState, NativeImage>();
  for (const [state, pngs] of set) {
    const base = pngs.find((icon) => icon.size === BASE_TRAY_SIZE) ?? pngs[0];
    if (base === undefined) continue;
    const image = nativeImage.createFromBuffer(base.png, { scaleFactor: 1 });
    for (const icon of pngs) if (icon !== base) image.addRepresentation({ scaleFactor: icon.size / BASE_TRAY_SIZE, buffer: icon.png });
    icons.set(state, image);
  }
  return icons;
}

/** The panel's theme as Electron sees it (a dark desktop theme usually means a dark panel). */
function panelTheme(): PanelTheme {
  return nativeTheme.shouldUseDarkColors ? 'dark' : 'light';
}

/** Starts the tray and notifications for the window; returns what stops them. */
export async function startDesktopShell(backend: Backend, window: BrowserWindow, logger: Logger): Promise<() => void> {
  const [light, dark] = await Promise.all([renderTrayIcons('light'), renderTrayIcons('dark')]);
  const icons: Record<PanelTheme, Map<TrayState, NativeImage>> = { light: nativeIcons(light), dark: nativeIcons(dark) };
  await backend.preferences.get();
  let quitting = false;
  const showWindow = (): void => {
    if (window.isDestroyed()) return;
    if (window.isMinimized()) window.restore();
    window.show();
    window.focus();
  };
  const actions = trayActionsFor(backend, {
    showWindow,
    quit: () => {
      quitting = true;
      app.quit();
    },
  });
  const tray = new DesktopTray<NativeImage, Menu>({
    Tray,
    Menu,
    icon: (state) => icons[panelTheme()].get(state) ?? nativeImage.createEmpty(),
    status: backend.desktop,
    recentProfiles: () => recentProfilesOf(backend),
    onError: (what, error) => logger.warn(what, { error: errorMessage(error) }),
    actions,
  });
  const redraw = (): void => tray.redraw();
  nativeTheme.on('updated', redraw);
  const notifier = new DesktopNotifier({
    Notification,
    isSupported: () => Notification.isSupported(),
    status: backend.desktop,
    settings: () => backend.preferences.latest().notifications,
    clock: { now: () => Date.now(), setTimeout: (callback, delayMs) => setTimeout(callback, delayMs), clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout) },
    onClick: (notification: DesktopNotification) => actions.focusReplica(notification.sessionId, notification.replicaId),
  });
  app.on('before-quit', () => {
    quitting = true;
  });
  // Close to tray: the window hides and RetroVisor goes on monitoring; Quit (tray menu, app menu) really quits.
  window.on('close', (event) => {
    const preferences = backend.preferences.latest();
    if (quitting || !preferences.closeToTray) return;
    event.preventDefault();
    window.hide();
    if (!preferences.closeToTrayNoticeShown) {
      notifier.showNow('RetroVisor is still running', 'It keeps monitoring your sessions in the tray. Quit from the tray menu; turn this off in the settings.', showWindow);
      backend.preferences.markCloseToTrayNoticeShown().catch((error: unknown) => logger.warn('cannot save the preferences', { error: errorMessage(error) }));
    }
  });
  return () => {
    nativeTheme.off('updated', redraw);
    notifier.dispose();
    tray.dispose();
  };
}
