// The tray icon of the Electron shell: its image and tooltip follow the desktop status, its menu shows
// the window, the open profile's replicas and their states, recent profiles, pause/resume broadcast,
// take checkpoint and quit. An adapter over Tray / Menu constructors passed in (tests replace them).

import { TRAY_STATE_WORDS, safeLabel, type DesktopSummary, type TrayState } from '../common/desktop-status';
import type { Backend } from '../main/backend';
import { errorMessage } from '../main/logger';

/** What the adapter needs of Electron's Tray. */
export interface TrayLike {
  setImage(image: never): void;
  setToolTip(text: string): void;
  setContextMenu(menu: never): void;
  on(event: 'click', listener: () => void): unknown;
  destroy(): void;
}

/** One menu item, in the shape of Electron's MenuItemConstructorOptions. */
export interface TrayMenuItem {
  readonly label?: string;
  readonly type?: 'normal' | 'separator' | 'submenu' | 'checkbox';
  readonly enabled?: boolean;
  readonly checked?: boolean;
  readonly click?: () => void;
  readonly submenu?: TrayMenuItem[];
}

/** What the adapter needs of Electron's Menu. */
export interface MenuLike<MenuHandle> {
  buildFromTemplate(template: TrayMenuItem[]): MenuHandle;
}

/** A saved profile as the menu lists it. */
export interface RecentProfile {
  readonly id: string;
  readonly name: string;
}

/** What the menu's items do (the shell wires them to the window and the back end). */
export interface TrayActions {
  showWindow(): void;
  /** Shows the window on the replica's newest timeline entry. */
  focusReplica(sessionId: string, replicaId: string | null): void;
  setBroadcast(sessionId: string, enabled: boolean): void;
  takeCheckpoint(sessionId: string): void;
  openSavedProfile(id: string): void;
  quit(): void;
}

/** What the shell does itself: show its window, quit. */
export interface WindowControls {
  showWindow(): void;
  quit(): void;
}

/**
 * The menu's actions over the back end: a replica (or a notification's click) focuses its timeline
 * entry in the UI, broadcast and profiles are the UI's (asked through the desktopRequest event), a
 * checkpoint is the back end's own.
 */
export function trayActionsFor(backend: Pick<Backend, 'emit' | 'emitNotice' | 'handlers'>, window: WindowControls): TrayActions {
  return {
    showWindow: () => window.showWindow(),
    focusReplica: (sessionId, replicaId) => {
      window.showWindow();
      backend.emit('desktopRequest', { type: 'focus-replica', sessionId, replicaId });
    },
    setBroadcast: (sessionId, enabled) => backend.emit('desktopRequest', { type: 'set-broadcast', sessionId, enabled }),
    takeCheckpoint: (sessionId) => {
      backend.handlers.takeCheckpoint({ sessionId }).catch((error: unknown) => backend.emitNotice({ level: 'error', message: `The checkpoint failed: ${errorMessage(error)}` }));
    },
    openSavedProfile: (id) => {
      window.showWindow();
      backend.emit('desktopRequest', { type: 'open-saved-profile', id });
    },
    quit: () => window.quit(),
  };
}

/** The saved profiles for the menu, most recently opened first. */
export async function recentProfilesOf(backend: Pick<Backend, 'handlers'>): Promise<readonly RecentProfile[]> {
  return (await backend.handlers.listProfiles()).profiles.slice(0, MAX_RECENT_PROFILES_IN_TRAY).map((profile) => ({ id: profile.id, name: profile.name }));
}

/** What the tray follows. */
export interface TrayStatusSource {
  summary(): DesktopSummary;
  onChange(listener: (summary: DesktopSummary) => void): () => void;
}

/** Everything the tray adapter is given. */
export interface DesktopTrayOptions<Image, MenuHandle> {
  readonly Tray: new (image: Image) => TrayLike;
  readonly Menu: MenuLike<MenuHandle>;
  /** The state's icon for the panel now (light or dark). */
  readonly icon: (state: TrayState) => Image;
  readonly status: TrayStatusSource;
  readonly actions: TrayActions;
  /** The saved profiles to list, most recently opened first (at most a few). */
  readonly recentProfiles: () => Promise<readonly RecentProfile[]>;
  readonly onError: (what: string, error: unknown) => void;
}

/** Replica states in words for the menu. */
const REPLICA_STATE_WORDS: Readonly<Record<string, string>> = {
  idle: 'idle',
  connecting: 'connecting',
  'needs-password': 'needs a password',
  connected: 'connected',
  'auth-failed': 'authentication failed',
  disconnected: 'disconnected',
  reconnecting: 'reconnecting',
  closed: 'closed',
};

/** Profiles the menu lists. */
export const MAX_RECENT_PROFILES_IN_TRAY = 5;

/** The tray menu for a summary (pure: exported for tests). */
export function trayMenuTemplate(summary: DesktopSummary, recent: readonly RecentProfile[], actions: TrayActions): TrayMenuItem[] {
  const items: TrayMenuItem[] = [{ label: 'Show RetroVisor', click: () => actions.showWindow() }, { type: 'separator' }];
  items.push({ label: `State: ${TRAY_STATE_WORDS[summary.state]}`, enabled: false });
  for (const session of summary.sessions) {
    items.push({ label: safeLabel(session.name), enabled: false });
    for (const replica of session.replicas) {
      const state = replica.remediating ? 'remediating' : session.divergence?.outliers.includes(replica.id) === true ? 'differs' : (REPLICA_STATE_WORDS[replica.state] ?? replica.state);
      items.push({ label: `    ${safeLabel(replica.label)} — ${state}`, click: () => actions.focusReplica(session.sessionId, replica.id) });
    }
    items.push({
      label: session.broadcasting ? 'Pause broadcast' : 'Resume broadcast',
      click: () => actions.setBroadcast(session.sessionId, !session.broadcasting),
    });
    if (session.canCheckpoint) items.push({ label: 'Take checkpoint', click: () => actions.takeCheckpoint(session.sessionId) });
    items.push({ type: 'separator' });
  }
  if (summary.sessions.length === 0) items.push({ label: 'No session open', enabled: false }, { type: 'separator' });
  items.push({
    label: 'Recent profiles',
    type: 'submenu',
    enabled: recent.length > 0,
    submenu: recent.slice(0, MAX_RECENT_PROFILES_IN_TRAY).map((profile) => ({ label: safeLabel(profile.name), click: () => actions.openSavedProfile(profile.id) })),
  });
  items.push({ type: 'separator' }, { label: 'Quit RetroVisor', click: () => actions.quit() });
  return items;
}

/** The tray: created once, follows the status until disposed. */
export class DesktopTray<Image, MenuHandle> {
  private readonly tray: TrayLike;
  private readonly unsubscribe: () => void;
  private recent: readonly RecentProfile[] = [];
  private sessionKey = '';
  private shownState: TrayState;

  constructor(private readonly options: DesktopTrayOptions<Image, MenuHandle>) {
    const summary = options.status.summary();
    this.shownState = summary.state;
    this.tray = new options.Tray(options.icon(summary.state));
    this.tray.on('click', () => options.actions.showWindow());
    this.unsubscribe = options.status.onChange((next) => this.update(next));
    this.update(summary);
  }

  /** The state the icon shows now. */
  get state(): TrayState {
    return this.shownState;
  }

  /** Redraws the icon (the panel's theme changed). */
  redraw(): void {
    this.tray.setImage(this.options.icon(this.shownState) as never);
  }

  /** Removes the tray icon. */
  dispose(): void {
    this.unsubscribe();
    this.tray.destroy();
  }

  private update(summary: DesktopSummary): void {
    if (summary.state !== this.shownState) {
      this.shownState = summary.state;
      this.redraw();
    }
    this.tray.setToolTip(summary.tooltip);
    this.rebuildMenu(summary);
    // The recent list changes when a profile is opened: read again when the open sessions change.
    const key = summary.sessions.map((session) => session.sessionId).join();
    if (key !== this.sessionKey || this.sessionKey === '') {
      this.sessionKey = key === '' ? ' ' : key;
      this.options
        .recentProfiles()
        .then((recent) => {
          this.recent = recent;
          this.rebuildMenu(this.options.status.summary());
        })
        .catch((error: unknown) => this.options.onError('cannot list the recent profiles', error));
    }
  }

  private rebuildMenu(summary: DesktopSummary): void {
    this.tray.setContextMenu(this.options.Menu.buildFromTemplate(trayMenuTemplate(summary, this.recent, this.options.actions)) as never);
  }
}
