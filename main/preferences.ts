// What the back end remembers for the user between launches — recent quick-connect endpoint sets,
// "don't ask again" choices, close to tray and the notification settings — in `preferences.json`
// under the data folder (private: 0700 folder, 0600 file, written whole through a rename). Never a
// secret. Node-side.

import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { UserPreferences } from '../common/contract';
import { DEFAULT_NOTIFICATION_SETTINGS, NOTIFICATION_KINDS, type NotificationKind, type NotificationSettings } from '../common/desktop-status';
import { forgetEndpointSet, readRecentEndpointSets, rememberEndpointSet } from '../common/recent-endpoints';
import { errorMessage, type Logger } from './logger';

/** The file's name under the data folder. */
export const PREFERENCES_FILE_NAME = 'preferences.json';

/** What a user who never chose anything gets. */
export const DEFAULT_PREFERENCES: UserPreferences = {
  recentEndpoints: [],
  confirmSystemKeys: true,
  closeToTray: true,
  closeToTrayNoticeShown: false,
  notifications: DEFAULT_NOTIFICATION_SETTINGS,
};

/** Notification settings from an edited file: unknown kinds dropped, a missing field defaulted. */
function readNotificationSettings(value: unknown): NotificationSettings {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return DEFAULT_NOTIFICATION_SETTINGS;
  const fields = value as Record<string, unknown>;
  const kinds = Array.isArray(fields.disabledKinds) ? fields.disabledKinds.filter((kind): kind is NotificationKind => (NOTIFICATION_KINDS as readonly unknown[]).includes(kind)) : [];
  return { disabledKinds: [...new Set(kinds)], doNotDisturb: fields.doNotDisturb === true };
}

/** The preferences of `value` (a parsed file a person may have edited): what is valid kept, the rest defaulted. */
export function readPreferences(value: unknown): UserPreferences {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return DEFAULT_PREFERENCES;
  const fields = value as Record<string, unknown>;
  return {
    recentEndpoints: readRecentEndpointSets(fields.recentEndpoints),
    confirmSystemKeys: typeof fields.confirmSystemKeys === 'boolean' ? fields.confirmSystemKeys : DEFAULT_PREFERENCES.confirmSystemKeys,
    closeToTray: typeof fields.closeToTray === 'boolean' ? fields.closeToTray : DEFAULT_PREFERENCES.closeToTray,
    closeToTrayNoticeShown: fields.closeToTrayNoticeShown === true,
    notifications: readNotificationSettings(fields.notifications),
  };
}

/** The user's preferences, read once from the data folder and written back on every change, in order. */
export class PreferencesStore {
  private current: Promise<UserPreferences> | null = null;
  private known: UserPreferences = DEFAULT_PREFERENCES;
  /** Changes apply one after the other: two quick clicks never lose one. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly dataDirectory: string,
    private readonly logger: Logger,
  ) {}

  /** The file the preferences live in. */
  get filePath(): string {
    return path.join(this.dataDirectory, PREFERENCES_FILE_NAME);
  }

  /** The preferences now (defaults when the file is missing or unreadable: it is only a convenience). */
  get(): Promise<UserPreferences> {
    this.current ??= this.load().then((preferences) => (this.known = preferences));
    return this.current;
  }

  /** The preferences as last read or written (defaults before the first get): for callers that cannot wait. */
  latest(): UserPreferences {
    return this.known;
  }

  /** Puts an endpoint set that opened first in the recent list (canonical "host::port" form). */
  rememberEndpoints(set: readonly string[]): Promise<UserPreferences> {
    return this.change((preferences) => ({ ...preferences, recentEndpoints: rememberEndpointSet(preferences.recentEndpoints, set) }));
  }

  /** Forgets one recent endpoint set, or every one. */
  forgetEndpoints(set?: readonly string[]): Promise<UserPreferences> {
    return this.change((preferences) => ({ ...preferences, recentEndpoints: set === undefined ? [] : forgetEndpointSet(preferences.recentEndpoints, set) }));
  }

  /** Whether to ask before sending Ctrl+Alt+Del or Ctrl+Alt+Backspace. */
  setConfirmSystemKeys(confirm: boolean): Promise<UserPreferences> {
    return this.change((preferences) => ({ ...preferences, confirmSystemKeys: confirm }));
  }

  /** The tray and notification settings (absent fields unchanged). */
  setDesktop(change: { closeToTray?: boolean; notifications?: NotificationSettings }): Promise<UserPreferences> {
    return this.change((preferences) => ({ ...preferences, ...change }));
  }

  /** Records that the "still running in the tray" notification was shown (it shows once). */
  markCloseToTrayNoticeShown(): Promise<UserPreferences> {
    return this.change((preferences) => ({ ...preferences, closeToTrayNoticeShown: true }));
  }

  private change(update: (preferences: UserPreferences) => UserPreferences): Promise<UserPreferences> {
    const next = this.queue.then(async () => {
      const updated = update(await this.get());
      this.current = Promise.resolve(updated);
      this.known = updated;
      await this.save(updated);
      return updated;
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async load(): Promise<UserPreferences> {
    let text: string;
    try {
      text = await readFile(this.filePath, 'utf8');
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'ENOENT') this.logger.warn('cannot read the preferences; using defaults', { file: this.filePath, error: errorMessage(error) });
      return DEFAULT_PREFERENCES;
    }
    try {
      return readPreferences(JSON.parse(text));
    } catch {
      this.logger.warn('the preferences file is not valid JSON; using defaults', { file: this.filePath });
      return DEFAULT_PREFERENCES;
    }
  }

  /** Writes the whole file through a temporary one and a rename: a crash never leaves half a file. */
  private async save(preferences: UserPreferences): Promise<void> {
    try {
      await mkdir(this.dataDirectory, { recursive: true, mode: 0o700 });
      const temporary = `${this.filePath}.${process.pid}.tmp`;
      await writeFile(temporary, `${JSON.stringify({ version: 1, ...preferences }, null, 2)}\n`, { mode: 0o600 });
      await rename(temporary, this.filePath);
    } catch (error) {
      // Kept for this launch; the next one starts from what the file holds.
      this.logger.warn('cannot save the preferences', { file: this.filePath, error: errorMessage(error) });
    }
  }
}
