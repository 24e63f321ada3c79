// "2 h ago": how long ago a saved profile was last opened, for the start screen's library list.
// Pure: the current time is passed in.

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
/** Past this, a date says more than a count of days. */
const DAYS_SHOWN = 30;

/** "never", "just now", "5 min ago", "2 h ago", "3 d ago", else the date ("2030-01-02"); a future time reads "just now". */
export function relativeTime(iso: string | null, nowMs: number): string {
  if (iso === null) return 'never';
  const thenMs = Date.parse(iso);
  if (Number.isNaN(thenMs)) return 'unknown';
  const ago = nowMs - thenMs;
  if (ago < MINUTE_MS) return 'just now';
  if (ago < HOUR_MS) return `${Math.floor(ago / MINUTE_MS)} min ago`;
  if (ago < DAY_MS) return `${Math.floor(ago / HOUR_MS)} h ago`;
  if (ago < DAYS_SHOWN * DAY_MS) return `${Math.floor(ago / DAY_MS)} d ago`;
  return new Date(thenMs).toISOString().slice(0, 10);
}
