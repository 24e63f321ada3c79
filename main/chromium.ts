// Finds an installed Chromium or Chrome for the browser shell (app window, headless runs).
// Runs in Node (back end / CLI).

import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The command that installs the browser RetroVisor's browser shell uses on Debian. */
export const CHROMIUM_INSTALL_HINT = 'apt-get install -y chromium';

const CANDIDATE_NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable', 'chrome'];

/** Flags for a Chromium that must not reach out to the network on its own (closed networks, CI). */
export const QUIET_CHROMIUM_FLAGS: readonly string[] = [
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-default-browser-check',
];

/** Flags for headless runs (run command, demo tour, tests, benchmarks): as root, without a GPU. */
export const HEADLESS_CHROMIUM_FLAGS: readonly string[] = ['--no-sandbox', '--disable-gpu', ...QUIET_CHROMIUM_FLAGS];

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The browser executable to use: $RETROVISOR_CHROMIUM if set, else the first Chromium/Chrome on PATH
 * (then /usr/bin). Returns null when none is installed.
 */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string | null {
  const override = env.RETROVISOR_CHROMIUM;
  if (override) return isExecutable(override) ? override : null;
  const folders = [...(env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/bin', '/usr/local/bin', '/snap/bin'];
  for (const name of CANDIDATE_NAMES) {
    for (const folder of folders) {
      const path = join(folder, name);
      if (isExecutable(path)) return path;
    }
  }
  return null;
}
