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

/**
 * V8 flags for the app's renderer: each isolate's young generation capped at 4 MiB semi-spaces. The
 * page (noVNC decoding, input) and the comparison worker allocate short-lived objects all the time,
 * and V8 grows an isolate's new space whenever enough objects have survived a scavenge since its last
 * growth, up to its default maximum: over minutes the page's heap went from 22 to 56 MiB allocated
 * (7–20 MiB used) and the worker's new space from 2 to 26 MiB. Capped, both stay under 16 MiB; a
 * scavenge of a small new space is short. Electron sets the same through app.commandLine.
 */
export const RENDERER_JS_FLAGS = '--max-semi-space-size=4';

/** The Chromium switches that carry RENDERER_JS_FLAGS (browser shell: app window and headless runs). */
export const MEMORY_CHROMIUM_FLAGS: readonly string[] = [`--js-flags=${RENDERER_JS_FLAGS}`];

/** The environment variable by which a user asks for Chromium without its sandbox (value "1"). */
export const NO_SANDBOX_VARIABLE = 'RETROVISOR_CHROMIUM_NO_SANDBOX';

/** Why Chromium runs without its sandbox: RetroVisor runs as root, or the user asked for it. */
export type NoSandboxReason = 'root' | 'asked';

/**
 * Whether Chromium must run without its sandbox, and why (null: it keeps it). Chromium refuses to
 * start as root unless told --no-sandbox, so root gets it; anyone else keeps the sandbox unless
 * RETROVISOR_CHROMIUM_NO_SANDBOX=1 says otherwise (a kernel without usable user namespaces): a
 * sandbox that cannot start is reported with that choice, never dropped silently.
 */
export function noSandboxReason(effectiveUid: number | null = process.geteuid?.() ?? null, env: NodeJS.ProcessEnv = process.env): NoSandboxReason | null {
  if (effectiveUid === 0) return 'root';
  if (env[NO_SANDBOX_VARIABLE] === '1') return 'asked';
  return null;
}

/** The flags that go with a sandbox decision: --no-sandbox only when there is a reason. */
export function sandboxFlags(reason: NoSandboxReason | null): readonly string[] {
  return reason === null ? [] : ['--no-sandbox'];
}

/** The one line that says Chromium runs without its sandbox, and what keeps it. */
export function noSandboxNotice(reason: NoSandboxReason): string {
  return reason === 'root'
    ? 'running as root: Chromium runs without its sandbox (--no-sandbox), as it refuses root otherwise; run RetroVisor as a regular user to keep the sandbox'
    : `${NO_SANDBOX_VARIABLE}=1: Chromium runs without its sandbox (--no-sandbox)`;
}

/** Flags for headless runs (run command, demo tour, tests, benchmarks): no GPU, the renderer's memory flags, and no sandbox only when needed. */
export function headlessChromiumFlags(reason: NoSandboxReason | null = noSandboxReason()): readonly string[] {
  return [...sandboxFlags(reason), '--disable-gpu', ...QUIET_CHROMIUM_FLAGS, ...MEMORY_CHROMIUM_FLAGS];
}

/** What Chromium prints when started as root without --no-sandbox. */
export const ROOT_REFUSAL_MESSAGE = 'Running as root without --no-sandbox is not supported';
/** What Chromium prints when the kernel offers it no sandbox (no user namespaces, no SUID helper). */
export const NO_USABLE_SANDBOX_MESSAGE = 'No usable sandbox';

/** What to do when Chromium's output says its sandbox stopped it; null when it does not. */
export function sandboxFailureAdvice(chromiumOutput: string): string | null {
  if (chromiumOutput.includes(ROOT_REFUSAL_MESSAGE)) {
    return `Chromium refuses to run as root with its sandbox: run RetroVisor as a regular user, or set ${NO_SANDBOX_VARIABLE}=1 to run it without the sandbox`;
  }
  if (chromiumOutput.includes(NO_USABLE_SANDBOX_MESSAGE)) {
    return `Chromium found no usable sandbox: enable unprivileged user namespaces (sysctl -w kernel.unprivileged_userns_clone=1, or on Ubuntu kernel.apparmor_restrict_unprivileged_userns=0) or install Chromium's SUID sandbox; or set ${NO_SANDBOX_VARIABLE}=1 to run it without the sandbox`;
  }
  return null;
}

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
