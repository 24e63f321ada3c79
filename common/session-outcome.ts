// How a session of a saved profile went, in the few words the start screen shows next to it ("all
// agreed", "r2 diverged", "could not connect"), from what the UI reported. Pure.

/** What the back end heard from a session's UI. */
export interface SessionOutcomeInput {
  /** Every replica id of the profile, in order. */
  readonly replicaIds: readonly string[];
  /** Replicas that were connected at least once. */
  readonly everConnected: ReadonlySet<string>;
  /** The last divergence report: its outliers and whether there was a majority; null = none or consensus since. */
  readonly divergence: { readonly outliers: readonly string[]; readonly noMajority: boolean } | null;
  /** Whether the screens are compared at all (a profile may turn comparison off). */
  readonly compared: boolean;
}

/** The outcome in words: could not connect / rX did not connect / no majority / rX diverged / all agreed. */
export function describeSessionOutcome(input: SessionOutcomeInput): string {
  const missing = input.replicaIds.filter((id) => !input.everConnected.has(id));
  if (missing.length === input.replicaIds.length) return 'could not connect';
  if (missing.length > 0) return `${missing.join(', ')} did not connect`;
  if (input.divergence !== null) {
    if (input.divergence.noMajority) return 'no majority';
    if (input.divergence.outliers.length > 0) return `${input.divergence.outliers.join(', ')} diverged`;
  }
  return input.compared ? 'all agreed' : 'all connected';
}
