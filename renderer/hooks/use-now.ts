// A clock for labels that count down ("reconnecting in 3 s"): re-renders only while active.
// Runs in the renderer.

import { useEffect, useState } from 'react';

/** The current time in ms, refreshed every `intervalMs` while `active` (frozen otherwise). */
export function useNow(active: boolean, intervalMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return undefined;
    const tick = (): void => setNow(Date.now());
    // First tick at once: the time kept while inactive is stale.
    const first = setTimeout(tick, 0);
    const timer = setInterval(tick, intervalMs);
    return () => {
      clearTimeout(first);
      clearInterval(timer);
    };
  }, [active, intervalMs]);
  return now;
}
