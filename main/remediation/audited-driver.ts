// Wraps an L0Driver that is not virsh (the demo lab's simulated L0) so each of its operations reaches
// the audit log like a virsh command does: the verb and names it was given, its outcome and duration.
// Runs in Node.

import { isL0Error, type L0Driver } from '../../common/l0';
import type { VirshCommandRecord } from '../l0/virsh-l0';

/** `driver` with every operation reported to `onCommand` as `[l0, verb, domain, name?]`. */
export function auditedDriver(driver: L0Driver, l0: string, onCommand: (record: VirshCommandRecord) => void): L0Driver {
  const timed = <T>(argv: readonly string[], operation: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    const report = (outcome: VirshCommandRecord['outcome'], stderr: string): void =>
      onCommand({ l0, argv: ['simulated-l0', ...argv], exitCode: outcome === 'ok' ? 0 : 1, durationMs: performance.now() - started, stderrExcerpt: stderr, outcome });
    return operation().then(
      (value) => {
        report('ok', '');
        return value;
      },
      (error: unknown) => {
        report(isL0Error(error) ? error.code : 'command-failed', error instanceof Error ? error.message : String(error));
        throw error;
      },
    );
  };
  return {
    domainState: (domain) => timed(['domstate', domain], () => driver.domainState(domain)),
    domainStateReason: (domain) => timed(['domstate', '--reason', domain], () => driver.domainStateReason(domain)),
    domainDisplay: (domain) => timed(['domdisplay', domain], () => driver.domainDisplay(domain)),
    listDomains: () => timed(['list', '--all'], () => driver.listDomains()),
    start: (domain) => timed(['start', domain], () => driver.start(domain)),
    destroy: (domain) => timed(['destroy', domain], () => driver.destroy(domain)),
    reset: (domain) => timed(['reset', domain], () => driver.reset(domain)),
    reboot: (domain) => timed(['reboot', domain], () => driver.reboot(domain)),
    snapshotCreate: (domain, name) => timed(['snapshot-create-as', domain, name], () => driver.snapshotCreate(domain, name)),
    snapshotRevert: (domain, name) => timed(['snapshot-revert', domain, name], () => driver.snapshotRevert(domain, name)),
    listSnapshots: (domain) => timed(['snapshot-list', domain], () => driver.listSnapshots(domain)),
    snapshotDelete: (domain, name) => timed(['snapshot-delete', domain, name], () => driver.snapshotDelete(domain, name)),
  };
}
