// `retrovisor run --script`: waits until the replicas of the startup session are connected, plays the
// script through the workspace's broadcast (the user's own input path), makes sure the journal
// reached the back end, and reports how it ended. When some replicas are still not connected after
// the connect timeout, the script runs on a connected strict majority (the others are left out of
// the broadcast and reported), unless every replica is required. Runs in the renderer (no DOM of its own).

import { DEFAULT_SCRIPT_CONNECT_TIMEOUT_MS, type BackendApi, type StartupScriptOptions } from '../../common/contract';
import type { InputScriptStep } from '../../common/input/input-script';
import type { AppStore } from '../store';
import type { WorkspaceController } from '../workspace/workspace-controller';

/** How long the script waits for every replica to connect, by default. */
export const SCRIPT_CONNECT_TIMEOUT_MS = DEFAULT_SCRIPT_CONNECT_TIMEOUT_MS;

/** What a script run does without the command line's options: wait for every replica, then a majority. */
export const DEFAULT_STARTUP_SCRIPT_OPTIONS: StartupScriptOptions = { requireAll: false, connectTimeoutMs: SCRIPT_CONNECT_TIMEOUT_MS };

/** The replicas not connected now, in profile order. */
function notConnected(store: AppStore): string[] {
  const state = store.getState();
  return state.replicaIds.filter((id) => state.replicas[id]?.stateName !== 'connected');
}

/** Resolves when every replica is connected (true) or the time is up (false). */
function allConnected(store: AppStore, timeoutMs: number): Promise<boolean> {
  const check = (): boolean => store.getState().replicaIds.length > 0 && notConnected(store).length === 0;
  if (check()) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      unsubscribe();
      resolve(false);
    }, timeoutMs);
    const unsubscribe = store.subscribe(() => {
      if (!check()) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(true);
    });
  });
}

/**
 * Which replicas the script runs without, or why it cannot run: after the connect timeout, a strict
 * majority of the profile's replicas must be connected (never half, never one of two) unless every
 * replica is required.
 */
export function scriptQuorum(replicaIds: readonly string[], missing: readonly string[], requireAll: boolean, timeoutMs: number): { without: string[] } | { error: string } {
  if (missing.length === 0) return { without: [] };
  const seconds = Math.round(timeoutMs / 1000);
  if (requireAll) return { error: `not every replica connected within ${seconds} s (${missing.join(', ')}) and --require-all was given: the script did not run` };
  const connected = replicaIds.length - missing.length;
  if (connected * 2 <= replicaIds.length) {
    return { error: `only ${connected} of ${replicaIds.length} replicas connected within ${seconds} s (missing: ${missing.join(', ')}), not a strict majority: the script did not run` };
  }
  return { without: [...missing] };
}

/** Runs the startup script in `workspace` and reports the result to the back end. */
export async function runStartupScript(
  workspace: WorkspaceController,
  store: AppStore,
  api: Pick<BackendApi, 'reportScriptResult'>,
  steps: readonly InputScriptStep[],
  options: StartupScriptOptions = DEFAULT_STARTUP_SCRIPT_OPTIONS,
): Promise<void> {
  const sessionId = workspace.info.sessionId;
  let stepsRun = 0;
  let error: string | undefined;
  let without: string[] = [];
  const everyone = await allConnected(store, options.connectTimeoutMs);
  const quorum = everyone ? { without: [] } : scriptQuorum(store.getState().replicaIds, notConnected(store), options.requireAll, options.connectTimeoutMs);
  if ('error' in quorum) {
    error = quorum.error;
  } else {
    without = quorum.without;
    // A replica that connects while the script runs would get only the end of it: it stays out.
    for (const replicaId of without) workspace.setIncluded(replicaId, false);
    try {
      stepsRun = await workspace.broadcast.runScript(steps, (index) => {
        stepsRun = index;
      });
    } catch (failure) {
      error = `step ${stepsRun + 1} of ${steps.length} failed: ${failure instanceof Error ? failure.message : String(failure)}`;
    }
  }
  // Every input event is journaled (and printed by `run --json`) before the result.
  await workspace.broadcast.flushJournal();
  await api.reportScriptResult({
    sessionId,
    ok: error === undefined,
    stepsRun,
    ...(error === undefined ? {} : { error }),
    ...(without.length === 0 ? {} : { without }),
  });
}
