// The page's presence on the desktop: the title and favicon follow the back end's desktop status
// (the same state the Electron tray shows), the browser shell's Web Notifications follow its events
// through the same policy, and the tray's or a notification's requests (focus a replica's timeline
// entry, pause broadcast, open a profile) are carried out here. Runs in the renderer.

import type { BackendApi, DesktopRequest } from '../../common/contract';
import {
  DEFAULT_NOTIFICATION_SETTINGS,
  NotificationPolicy,
  stateIconDataUrl,
  type DesktopNotification,
  type DesktopSummary,
} from '../../common/desktop-status';
import type { AppStore } from '../store';
import type { WorkspaceController } from '../workspace/workspace-controller';
import { focusTimelineOn } from '../divergence/timeline-focus';

/** What the presence needs of the Web Notification API (tests and the Electron shell have none). */
export interface WebNotificationApi {
  readonly permission: NotificationPermission;
  requestPermission(): Promise<NotificationPermission>;
  new (title: string, options: { body: string; tag: string; icon?: string }): { onclick: ((event: Event) => void) | null };
}

/** What the presence needs of the app: the open workspace and opening a saved profile. */
export interface PresenceApp {
  readonly workspace: WorkspaceController | null;
  openSavedProfile(id: string): Promise<void>;
}

/** Follows the desktop status for the page; one per page. */
export class DesktopPresence {
  private summary: DesktopSummary | null = null;
  private readonly policy: NotificationPolicy;
  private favicon: HTMLLinkElement | null = null;

  constructor(
    private readonly api: BackendApi,
    private readonly store: AppStore,
    private readonly app: PresenceApp,
    /** window.Notification in the browser shell; null in the Electron shell (its notifications are native). */
    private notifications: WebNotificationApi | null,
  ) {
    this.policy = new NotificationPolicy({
      clock: { now: () => Date.now(), setTimeout: (callback, delayMs) => window.setTimeout(callback, delayMs), clearTimeout: (handle) => window.clearTimeout(handle as number) },
      settings: () => this.store.getState().preferences?.notifications ?? DEFAULT_NOTIFICATION_SETTINGS,
      session: (sessionId) => this.summary?.sessions.find((session) => session.sessionId === sessionId) ?? null,
      show: (notification) => this.show(notification),
    });
  }

  /** Which Web Notification API to use, once the shell is known (null: none). */
  useWebNotifications(api: WebNotificationApi | null): void {
    this.notifications = api;
  }

  /** Subscribes to the back end's desktop status and requests, and reports broadcast changes. */
  async start(): Promise<void> {
    const state = this.store.getState();
    if (this.notifications === null) state.setWebNotifications('unsupported');
    else state.setWebNotifications(this.notifications.permission === 'granted' ? 'on' : this.notifications.permission === 'denied' ? 'denied' : 'off');
    this.api.on('desktopStatus', ({ summary, events }) => {
      this.apply(summary);
      if (this.store.getState().webNotifications !== 'on') return;
      for (const event of events) this.policy.offer(event);
    });
    this.api.on('desktopRequest', (request) => this.handle(request));
    // The tray's "Pause broadcast" shows what the UI does: every change is reported.
    this.store.subscribe((next, previous) => {
      const sessionId = next.session?.sessionId;
      if (sessionId === undefined || next.broadcastEnabled === previous.broadcastEnabled) return;
      this.api.reportBroadcast({ sessionId, enabled: next.broadcastEnabled }).catch(() => undefined);
    });
    this.apply(await this.api.getDesktopStatus());
  }

  /**
   * The "Notify me" toggle: turning on asks the browser's permission (this must run from the click,
   * a user gesture, or the browser refuses to ask); turning off only stops showing them.
   */
  async toggleNotifications(): Promise<void> {
    const api = this.notifications;
    const state = this.store.getState();
    if (api === null) return;
    if (state.webNotifications === 'on') {
      state.setWebNotifications('off');
      return;
    }
    const permission = api.permission === 'granted' ? 'granted' : await api.requestPermission();
    this.store.getState().setWebNotifications(permission === 'granted' ? 'on' : permission === 'denied' ? 'denied' : 'off');
  }

  private apply(summary: DesktopSummary): void {
    this.summary = summary;
    document.title = summary.title;
    this.favicon ??= document.querySelector<HTMLLinkElement>('link[rel="icon"]');
    if (this.favicon === null) {
      this.favicon = document.createElement('link');
      this.favicon.rel = 'icon';
      document.head.append(this.favicon);
    }
    this.favicon.href = stateIconDataUrl(summary.state);
    this.favicon.dataset.state = summary.state;
  }

  private show(notification: DesktopNotification): void {
    const Api = this.notifications;
    if (Api === null || Api.permission !== 'granted') return;
    const shown = new Api(notification.title, { body: notification.body, tag: notification.tag, icon: stateIconDataUrl(this.summary?.state ?? 'idle') });
    shown.onclick = () => {
      window.focus();
      this.handle({ type: 'focus-replica', sessionId: notification.sessionId, replicaId: notification.replicaId });
    };
  }

  private handle(request: DesktopRequest): void {
    const state = this.store.getState();
    switch (request.type) {
      case 'focus-replica':
        if (state.session?.sessionId === request.sessionId) focusTimelineOn(this.store, request.replicaId);
        return;
      case 'set-broadcast':
        if (state.session?.sessionId === request.sessionId) this.app.workspace?.setBroadcastEnabled(request.enabled);
        return;
      case 'open-saved-profile':
        void this.app.openSavedProfile(request.id);
        return;
    }
  }
}
