// The browser shell's app window: Chromium opened on a one-time hand-off page (0600, in a fresh 0700
// folder) that sends it on to the shell's URL, so the launch secret is in no process's argv or
// environment; and how the window ended: closed by the user, or failed. Runs in Node (CLI).

import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { clipText, escapeControl } from '../common/terminal-text';
import type { BrowserShell } from './browser-shell';
import { MEMORY_CHROMIUM_FLAGS, QUIET_CHROMIUM_FLAGS, sandboxFailureAdvice, sandboxFlags, type NoSandboxReason } from './chromium';
import type { Logger } from './logger';
import { launchYieldingToBackend } from './process-priority';

/** Longest the hand-off page stays on disk when the window never asks for the app's page. */
export const HANDOFF_MAX_MS = 60_000;
/** How much of Chromium's stderr is kept to tell why it exited (it is never forwarded). */
const STDERR_TAIL_CHARS = 16_384;
/** After Chromium exits, how long its stderr may take to deliver what it wrote last. */
const STDERR_DRAIN_MS = 1_000;
/** How long a window asked to stop has before it is killed. */
const CLOSE_GRACE_MS = 5_000;

/** The hand-off page and the window's browser profile, in one private folder. */
export interface WindowHandoff {
  /** The 0700 folder holding both. */
  readonly folder: string;
  /** file:// URL of the hand-off page: what Chromium's argv carries instead of the secret URL. */
  readonly pageUrl: string;
  /** The window's --user-data-dir (its history holds the URL: it stays in the private folder). */
  readonly profileFolder: string;
  /** Deletes the hand-off page; idempotent. */
  removePage(): void;
  /** Deletes the whole folder, browser profile included; idempotent. */
  removeAll(): void;
}

/** This user's private runtime folder ($XDG_RUNTIME_DIR, when it is a 0700 folder of this user), else the temporary folder. */
export function runtimeFolder(env: NodeJS.ProcessEnv = process.env, effectiveUid: number | undefined = process.geteuid?.()): string {
  const candidate = env.XDG_RUNTIME_DIR;
  if (candidate !== undefined && isAbsolute(candidate)) {
    try {
      const info = statSync(candidate);
      if (info.isDirectory() && info.uid === effectiveUid && (info.mode & 0o077) === 0) return candidate;
    } catch {
      // Absent or unreadable: the temporary folder does (the window's folder is 0700 either way).
    }
  }
  return tmpdir();
}

/** The hand-off page: it replaces itself by `shellUrl` (no history entry to come back to, no referrer). */
export function handoffPageHtml(shellUrl: string): string {
  // A JSON string is a JavaScript string literal; "<" escaped so nothing in it can close the script.
  const literal = JSON.stringify(shellUrl).replace(/</g, '\\u003c');
  return [
    '<!doctype html>',
    '<html><head><meta charset="utf-8"><meta name="referrer" content="no-referrer"><title>RetroVisor</title>',
    `<script>location.replace(${literal});</script>`,
    '</head><body>Opening RetroVisor…</body></html>',
    '',
  ].join('\n');
}

/**
 * Writes the hand-off page for `shellUrl` in a fresh folder under `parent`: mkdtemp (unpredictable
 * name, created exclusively, 0700) and the page created exclusively (O_EXCL: no symlink followed), 0600.
 */
export function createWindowHandoff(shellUrl: string, parent: string = runtimeFolder()): WindowHandoff {
  const folder = mkdtempSync(join(parent, 'retrovisor-window-'));
  chmodSync(folder, 0o700);
  const page = join(folder, 'open.html');
  writeFileSync(page, handoffPageHtml(shellUrl), { mode: 0o600, flag: 'wx' });
  return {
    folder,
    pageUrl: pathToFileURL(page).href,
    profileFolder: join(folder, 'profile'),
    removePage: () => rmSync(page, { force: true }),
    removeAll: () => rmSync(folder, { recursive: true, force: true, maxRetries: 3 }),
  };
}

/** How the window ended: closed (status 0: the user closed it), or failed (with what to do, when known). */
export type WindowOutcome = { readonly kind: 'closed' } | { readonly kind: 'failed'; readonly reason: string; readonly advice: string | null };

/** What a window's exit means; `hidden` (the launch secret) never reaches the reason. */
export function classifyWindowExit(exit: { readonly code: number | null; readonly signal: string | null; readonly output: string }, hidden = ''): WindowOutcome {
  const advice = sandboxFailureAdvice(exit.output);
  // Chromium refusing its sandbox is a failure whatever its status; status 0 otherwise means the
  // user closed the window. Any other end (a status, a signal) is a failure at any time, so a window
  // that crashes later does not take the back end and its sessions with it.
  if (exit.code === 0 && advice === null) return { kind: 'closed' };
  const how = exit.code === null ? `was killed by ${exit.signal ?? 'a signal'}` : `exited with status ${exit.code}`;
  const lastLine = exit.output
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .at(-1);
  const said = lastLine === undefined ? '' : `: ${clipText(escapeControl(hidden === '' ? lastLine : lastLine.split(hidden).join('***')), 300)}`;
  return { kind: 'failed', reason: `the browser ${how}${said}`, advice };
}

/** The lines that report a failed window on the terminal (the shell keeps serving). */
export function describeWindowFailure(outcome: Extract<WindowOutcome, { kind: 'failed' }>): string {
  return [
    `retrovisor: the app window failed: ${escapeControl(outcome.reason)}`,
    ...(outcome.advice === null ? [] : [`  ${outcome.advice}`]),
    '  RetroVisor keeps serving: open the address above in a browser; Ctrl+C stops RetroVisor.',
    '',
  ].join('\n');
}

export interface AppWindowOptions {
  /** The Chromium or Chrome executable (main/chromium.ts findChromium). */
  readonly executable: string;
  readonly shell: Pick<BrowserShell, 'url' | 'onPageServed'>;
  /** Why the window runs without Chromium's sandbox (main/chromium.ts noSandboxReason), or null. */
  readonly noSandbox: NoSandboxReason | null;
  readonly logger: Logger;
  /** Where the window's private folder goes (default: runtimeFolder()). */
  readonly parentFolder?: string;
}

export interface AppWindow {
  /** The window's private folder (hand-off page, browser profile). */
  readonly folder: string;
  /** Settles once, when the window ends. */
  readonly outcome: Promise<WindowOutcome>;
  /** Stops the window if it is still open and deletes its folder. */
  close(): Promise<void>;
}

/**
 * Opens the shell in a Chromium app window through a hand-off page. The page is deleted as soon as
 * the shell served the app's page (the window has made its way in), after HANDOFF_MAX_MS at most,
 * and when the window ends; the whole folder when the window is closed.
 */
export async function openAppWindow(options: AppWindowOptions): Promise<AppWindow> {
  const { logger } = options;
  const handoff = createWindowHandoff(options.shell.url, options.parentFolder);
  const secret = new URL(options.shell.url).pathname.split('/')[1] ?? '';

  let pageRemoved = false;
  const removePage = (why: string): void => {
    if (pageRemoved) return;
    pageRemoved = true;
    clearTimeout(handoffTimer);
    stopWatchingPage();
    handoff.removePage();
    logger.info(`the app window's hand-off page is deleted: ${why}`);
  };
  const stopWatchingPage = options.shell.onPageServed(() => removePage('the window opened RetroVisor'));
  const handoffTimer = setTimeout(() => removePage(`the window had not opened RetroVisor after ${HANDOFF_MAX_MS / 1000} s`), HANDOFF_MAX_MS);
  handoffTimer.unref();

  // The renderer yields to the back end's input fan-out loop (main/process-priority.ts).
  const child = await launchYieldingToBackend(() =>
    spawn(options.executable, [`--app=${handoff.pageUrl}`, `--user-data-dir=${handoff.profileFolder}`, ...sandboxFlags(options.noSandbox), ...QUIET_CHROMIUM_FLAGS, ...MEMORY_CHROMIUM_FLAGS], {
      stdio: ['ignore', 'ignore', 'pipe'],
    }),
  );
  let output = '';
  let outputEnded = false;
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    output = (output + chunk).slice(-STDERR_TAIL_CHARS);
  });
  const stderrEnded = new Promise<void>((resolve) => {
    const done = (): void => {
      outputEnded = true;
      resolve();
    };
    if (child.stderr === null) done();
    else child.stderr.once('close', done);
  });

  const outcome = new Promise<WindowOutcome>((resolve) => {
    child.once('error', (error) => resolve({ kind: 'failed', reason: `the browser could not be started: ${error.message}`, advice: null }));
    child.once('exit', (code, signal) => {
      // Chromium's helpers may hold its stderr open after it exits: wait for the last words, not for them.
      const drained = outputEnded ? Promise.resolve() : Promise.race([stderrEnded, new Promise<void>((wait) => setTimeout(wait, STDERR_DRAIN_MS).unref())]);
      void drained.then(() => resolve(classifyWindowExit({ code, signal, output }, secret)));
    });
  });
  void outcome.then(() => removePage('the window ended'));

  return {
    folder: handoff.folder,
    outcome,
    async close(): Promise<void> {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), CLOSE_GRACE_MS);
        await outcome;
        clearTimeout(killer);
      }
      removePage('RetroVisor stops');
      try {
        handoff.removeAll();
      } catch (error) {
        logger.warn("could not delete the app window's folder", { folder: handoff.folder, error: error instanceof Error ? error.message : String(error) });
      }
    },
  };
}
