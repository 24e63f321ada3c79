// Waits for a file to appear, by watching its folder (no polling, no sleep): for tests whose fakes or
// scripts rename a complete record into place. Runs in Node (tests).

import { existsSync, watch } from 'node:fs';
import { basename, dirname } from 'node:path';

/** Resolves when `path` exists; rejects after `timeoutMs`, naming the file and `why` (what its absence means). */
export function waitForFile(path: string, timeoutMs: number, why = ''): Promise<void> {
  return new Promise((resolve, reject) => {
    const watcher = watch(dirname(path), () => check());
    const timer = setTimeout(() => finish(new Error(`${basename(path)} did not appear within ${timeoutMs} ms${why === '' ? '' : `: ${why}`}`)), timeoutMs);
    function finish(error?: Error): void {
      clearTimeout(timer);
      watcher.close();
      if (error) reject(error);
      else resolve();
    }
    function check(): void {
      if (existsSync(path)) finish();
    }
    check();
  });
}
