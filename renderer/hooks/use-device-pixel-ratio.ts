// The window's device pixels per CSS pixel, kept current when it changes (the window moves to a
// screen of another density, or the page is zoomed). Runs in the renderer.

import { useEffect, useState } from 'react';

/** window.devicePixelRatio (1 when unknown), re-read whenever the current ratio stops matching. */
export function useDevicePixelRatio(): number {
  const [ratio, setRatio] = useState(() => window.devicePixelRatio || 1);
  useEffect(() => {
    // A resolution query matches the current ratio only: its change event says the ratio moved.
    const query = window.matchMedia(`(resolution: ${ratio}dppx)`);
    const update = (): void => setRatio(window.devicePixelRatio || 1);
    query.addEventListener('change', update);
    return () => query.removeEventListener('change', update);
  }, [ratio]);
  return ratio;
}
