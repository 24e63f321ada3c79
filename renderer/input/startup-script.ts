// `retrovisor run --script`: waits until every replica of the startup session is connected, plays the
// script through the workspace's broadcast (the user's own input path), makes sure the journal
// reached the back end, and reports how it ended. Runs in the renderer (no DOM of its own).

import type { BackendApi } from '../../common/contract';
import type { InputScriptStep } from '../../common/input/input-script';
import type { AppStore } from '../store';
import type { WorkspaceController } from '../workspace/workspace-controller';

/** How long the script waits for every replica to connect before giving up. */
export const SCRIPT_CONNECT_TIMEOUT_MS = 60_000;

/** Resolves when every replica is connected (true) or the time is up (false). */
function allConnected(store: AppStore, timeoutMs: number): Promise<boolean> {
  const check = (): boolean => {
    const state = store.getState();
    return state.replicaIds.length > 0 && state.replicaIds.every((id) => state.replicas[id]?.stateName === 'connected');
  };
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

/** Runs the startup script in `workspace` and reports the result to the back end. */
export async function runStartupScript(
  workspace: WorkspaceController,
  store: AppStore,
  api: Pick<BackendApi, 'reportScriptResult'>,
  steps: readonly InputScriptStep[],
): Promise<void> {
  const sessionId = workspace.info.sessionId;
  let stepsRun = 0;
  let error: string | undefined;
  if (!(await allConnected(store, SCRIPT_CONNECT_TIMEOUT_MS))) {
    const state = store.getState();
    const missing = state.replicaIds.filter((id) => state.replicas[id]?.stateName !== 'connected');
    error = `not every replica connected within ${SCRIPT_CONNECT_TIMEOUT_MS / 1000} s (${missing.join(', ')}): the script did not run`;
  } else {
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
  await api.reportScriptResult({ sessionId, ok: error === undefined, stepsRun, ...(error === undefined ? {} : { error }) });
}
