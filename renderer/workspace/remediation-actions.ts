// The UI's side of the remediation manager: keeps the store's view of the open session current (the
// `remediation` event, and one getRemediationState when a session opens) and sends the user's
// checkpoints, confirmations and replica actions, each outcome said as a notice. Runs in the renderer.

import type { BackendApi, CheckpointView, ReplicaActionName } from '../../common/contract';
import type { AppStore } from '../store';
import { REMEDIATION_ACTION_TEXT, REPLICA_ACTION_TEXT, remediationRequestKey } from './remediation-display';

/** The contract calls and event the remediation UI uses. */
export type RemediationApi = Pick<BackendApi, 'getRemediationState' | 'takeCheckpoint' | 'confirmRemediation' | 'replicaAction' | 'on'>;

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function list(names: readonly string[]): string {
  return names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1] ?? ''}`;
}

/** What a checkpoint that was taken means for the user, in words. */
export function describeCheckpoint(checkpoint: CheckpointView, nameOf: (replicaId: string) => string): { readonly level: 'info' | 'warning'; readonly message: string } {
  if (checkpoint.complete) {
    return { level: 'info', message: `Checkpoint ${checkpoint.name} taken at input #${checkpoint.seq} on every replica: a revert goes back to it.` };
  }
  const failed = checkpoint.failed.map(nameOf);
  const who = failed.length === 0 ? 'some replicas' : list(failed);
  return {
    level: 'warning',
    message: `Checkpoint ${checkpoint.name} is incomplete: the snapshot failed on ${who}, so no revert uses it. Take another once ${who} ${failed.length === 1 ? 'is' : 'are'} reachable (the audit list says why).`,
  };
}

/** Drives the remediation manager for the panel, the confirmation and the actions menus; one per app. */
export class RemediationActions {
  constructor(
    private readonly api: RemediationApi,
    private readonly store: AppStore,
  ) {}

  /** Takes every `remediation` event the open session's; returns the unsubscribe. */
  listen(): () => void {
    return this.api.on('remediation', (view) => this.store.getState().setRemediation(view));
  }

  /** Asks for the manager's view of a session that just opened (events only say what changes). */
  async sync(sessionId: string): Promise<void> {
    try {
      const view = await this.api.getRemediationState({ sessionId });
      this.store.getState().setRemediation(view);
    } catch (error) {
      if (this.store.getState().session?.sessionId !== sessionId) return;
      this.store.getState().pushNotice({
        level: 'warning',
        message: `The remediation manager did not answer: ${messageOf(error)}. Divergence detection goes on; the remediation panel shows once the manager reports.`,
      });
    }
  }

  /** Takes a checkpoint of every replica now. */
  async takeCheckpoint(): Promise<void> {
    const sessionId = this.store.getState().session?.sessionId;
    if (sessionId === undefined) return;
    await this.request(remediationRequestKey('checkpoint'), async () => {
      try {
        const checkpoint = await this.api.takeCheckpoint({ sessionId });
        this.notifyIfOpen(sessionId, describeCheckpoint(checkpoint, this.nameOf));
      } catch (error) {
        this.notifyIfOpen(sessionId, {
          level: 'error',
          message: `No checkpoint was taken: ${messageOf(error)}. Try again once every replica is connected and their screens agree.`,
        });
      }
    });
  }

  /** The user's answer to a remediation waiting for confirmation. */
  async confirmRemediation(planId: string, approve: boolean): Promise<void> {
    const state = this.store.getState();
    const sessionId = state.session?.sessionId;
    if (sessionId === undefined) return;
    const pending = state.remediation?.pending.find((entry) => entry.planId === planId);
    const label = pending === undefined ? 'The replica' : this.nameOf(pending.replicaId);
    const action = pending === undefined ? 'the remediation' : REMEDIATION_ACTION_TEXT[pending.action];
    if (state.deferredPlanId === planId) state.deferConfirmation(null);
    await this.request(remediationRequestKey('plan', planId), async () => {
      try {
        await this.api.confirmRemediation({ sessionId, planId, approve });
        this.notifyIfOpen(
          sessionId,
          approve
            ? { level: 'info', message: `${label}: ${action} asked for. Its thumbnail shows it running; the audit list shows each command.` }
            : { level: 'info', message: `${label} is left as it is; the manager does not ask again during its backoff. Its actions menu can still remediate it by hand.` },
        );
      } catch (error) {
        this.notifyIfOpen(sessionId, {
          level: 'error',
          message: `Your answer did not reach the manager: ${messageOf(error)}. The question may be gone already (the replica agreed again); the audit list says what happened.`,
        });
      }
    });
  }

  /** An action from a replica's actions menu. */
  async replicaAction(replicaId: string, action: ReplicaActionName): Promise<void> {
    const sessionId = this.store.getState().session?.sessionId;
    if (sessionId === undefined) return;
    const what = REPLICA_ACTION_TEXT[action].label;
    await this.request(remediationRequestKey('action', replicaId, action), async () => {
      try {
        const { message } = await this.api.replicaAction({ sessionId, replicaId, action });
        this.notifyIfOpen(sessionId, { level: 'info', message });
      } catch (error) {
        this.notifyIfOpen(sessionId, { level: 'error', message: `${what} on ${this.nameOf(replicaId)} failed: ${messageOf(error)}` });
      }
    });
  }

  private readonly nameOf = (replicaId: string): string => this.store.getState().replicas[replicaId]?.label ?? replicaId;

  /** Runs one request under `key` (a second one with the same key while it is out is dropped). */
  private async request(key: string, run: () => Promise<void>): Promise<void> {
    if (this.store.getState().remediationRequests.includes(key)) return;
    this.store.getState().setRemediationRequest(key, true);
    try {
      await run();
    } finally {
      this.store.getState().setRemediationRequest(key, false);
    }
  }

  /** A notice about a session that is still open (the answer to a closed one's request says nothing useful). */
  private notifyIfOpen(sessionId: string, notice: { readonly level: 'info' | 'warning' | 'error'; readonly message: string }): void {
    if (this.store.getState().session?.sessionId === sessionId) this.store.getState().pushNotice(notice);
  }
}
