// The Electron shell's desktop notifications: the desktop status's events through the notification
// policy (kinds, grouping, rate limit, do-not-disturb); a click asks the UI to focus the replica's
// timeline entry. An adapter over a Notification constructor passed in (tests replace it).

import {
  NotificationPolicy,
  type DesktopEvent,
  type DesktopNotification,
  type DesktopSummary,
  type NotificationSettings,
  type PolicyClock,
  type SessionFacts,
} from '../common/desktop-status';

/** What the adapter needs of Electron's Notification. */
export interface NotificationLike {
  show(): void;
  on(event: 'click' | 'close', listener: () => void): unknown;
}

/** The options Electron's Notification constructor takes (the part used here). */
export interface NotificationOptionsLike {
  readonly title: string;
  readonly body: string;
  readonly silent?: boolean;
}

/** What the notifier follows. */
export interface NotificationStatusSource {
  session(sessionId: string): SessionFacts | null;
  onChange(listener: (summary: DesktopSummary, events: readonly DesktopEvent[]) => void): () => void;
}

/** Everything the notifier is given. */
export interface DesktopNotifierOptions {
  readonly Notification: new (options: NotificationOptionsLike) => NotificationLike;
  /** Electron's Notification.isSupported(): without a notification server nothing is shown. */
  readonly isSupported: () => boolean;
  readonly status: NotificationStatusSource;
  readonly settings: () => NotificationSettings;
  readonly clock: PolicyClock;
  /** A notification was clicked: show the window on its replica's timeline entry. */
  readonly onClick: (notification: DesktopNotification) => void;
}

/** Notifications kept referenced until closed (a collected one loses its click). */
const MAX_LIVE_NOTIFICATIONS = 20;

/** Shows what the policy lets through; created once, follows the status until disposed. */
export class DesktopNotifier {
  private readonly policy: NotificationPolicy;
  private readonly unsubscribe: () => void;
  private readonly live = new Set<NotificationLike>();

  constructor(private readonly options: DesktopNotifierOptions) {
    this.policy = new NotificationPolicy({
      clock: options.clock,
      settings: options.settings,
      session: (sessionId) => options.status.session(sessionId),
      show: (notification) => this.show(notification),
    });
    this.unsubscribe = options.status.onChange((_summary, events) => {
      for (const event of events) this.policy.offer(event);
    });
  }

  /** Shows a notification outside the policy (the one-time "still running in the tray"); false when none can show. */
  showNow(title: string, body: string, onClick: () => void): boolean {
    if (!this.options.isSupported()) return false;
    const notification = new this.options.Notification({ title, body });
    this.keep(notification, onClick);
    notification.show();
    return true;
  }

  /** Stops following the status; what the policy holds is dropped. */
  dispose(): void {
    this.unsubscribe();
    this.policy.dispose();
    this.live.clear();
  }

  private show(notification: DesktopNotification): void {
    if (!this.options.isSupported()) return;
    const native = new this.options.Notification({ title: notification.title, body: notification.body });
    this.keep(native, () => this.options.onClick(notification));
    native.show();
  }

  private keep(native: NotificationLike, onClick: () => void): void {
    if (this.live.size >= MAX_LIVE_NOTIFICATIONS) this.live.delete(this.live.values().next().value as NotificationLike);
    this.live.add(native);
    native.on('click', () => {
      this.live.delete(native);
      onClick();
    });
    native.on('close', () => this.live.delete(native));
  }
}
