// A window whose renderer crashed or was killed (`render-process-gone`) is reported and reloaded: the
// page reopens its session from the back end, which still holds it, and reconnects every replica. A
// renderer that keeps dying is not reloaded forever: the window is closed, never left as a blank zombie.
// Runs in Electron's main process; typed structurally so tests drive it with a fake webContents.

import type { Notice } from '../common/contract';
import type { Logger } from '../main/logger';

/** Electron's render-process-gone details (the part used here). */
export interface RenderProcessGoneDetails {
  readonly reason: string;
  readonly exitCode: number;
}

/** The part of a webContents this adapter uses. */
export interface RecoverableContentsLike {
  on(event: 'render-process-gone', listener: (event: unknown, details: RenderProcessGoneDetails) => void): unknown;
  once(event: 'did-finish-load', listener: () => void): unknown;
  reload(): void;
  isDestroyed(): boolean;
}

/** More renderer losses than this within RENDERER_LOSS_WINDOW_MS close the window instead of reloading it. */
export const MAX_RENDERER_LOSSES = 3;
export const RENDERER_LOSS_WINDOW_MS = 60_000;

/**
 * Watches a window's renderer. On its loss: logs it, reloads the page, and once the page is back
 * tells the user (`notify`) and calls `onReloaded` (the back end then hands the page its session).
 * A clean exit (the window is closing) is not a loss. After MAX_RENDERER_LOSSES within
 * RENDERER_LOSS_WINDOW_MS, `closeWindow` is called instead.
 */
export function recoverLostRenderer(options: {
  readonly contents: RecoverableContentsLike;
  readonly logger: Logger;
  readonly now: () => number;
  readonly beforeReload: () => void;
  readonly notify: (notice: Notice) => void;
  readonly closeWindow: (reason: string) => void;
}): void {
  const losses: number[] = [];
  options.contents.on('render-process-gone', (_event, details) => {
    if (details.reason === 'clean-exit' || options.contents.isDestroyed()) return;
    const now = options.now();
    losses.push(now);
    while (losses.length > 0 && now - losses[0]! > RENDERER_LOSS_WINDOW_MS) losses.shift();
    const what = `the window's page stopped (${details.reason}, exit code ${details.exitCode})`;
    if (losses.length > MAX_RENDERER_LOSSES) {
      options.logger.error('renderer lost too often: closing its window', { reason: details.reason, exitCode: details.exitCode, losses: losses.length });
      options.closeWindow(`${what} ${losses.length} times within ${RENDERER_LOSS_WINDOW_MS / 1000} s`);
      return;
    }
    options.logger.warn('renderer lost: reloading its window', { reason: details.reason, exitCode: details.exitCode });
    options.beforeReload();
    options.contents.once('did-finish-load', () => {
      options.notify({ level: 'warning', message: `RetroVisor reloaded this window: ${what}. Its session was reopened and every replica reconnected.` });
    });
    options.contents.reload();
  });
}
