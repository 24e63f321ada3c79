// Full screen through the Fullscreen API, mirrored into the store so the UI can show it.
// Runs in the renderer (Electron and the browser shell alike).

import { useCallback, useEffect, type RefObject } from 'react';
import { appStore } from '../store';

/** Returns a toggle that puts the element behind `ref` in (or out of) full screen. */
export function useFullscreen(ref: RefObject<HTMLElement | null>): () => void {
  useEffect(() => {
    const element = ref.current;
    const onChange = (): void => appStore.getState().setFullScreen(element !== null && document.fullscreenElement === element);
    document.addEventListener('fullscreenchange', onChange);
    return () => {
      document.removeEventListener('fullscreenchange', onChange);
      // Leaving the workspace leaves full screen too.
      if (element !== null && document.fullscreenElement === element) void document.exitFullscreen();
      appStore.getState().setFullScreen(false);
    };
  }, [ref]);

  return useCallback(() => {
    const element = ref.current;
    if (!element) return;
    const request = document.fullscreenElement === element ? document.exitFullscreen() : element.requestFullscreen({ navigationUI: 'hide' });
    request.catch((error: unknown) => {
      appStore.getState().pushNotice({ level: 'warning', message: `Full screen is not available here: ${error instanceof Error ? error.message : String(error)}` });
    });
  }, [ref]);
}
