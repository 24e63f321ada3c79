// What the profile editor's "Test" buttons report: a replica's VNC server (reached, RFB version,
// security types, password, desktop) and an L0 (SSH reached, host key, login, virsh, each domain).
// Plain data shared by the back end that runs the tests and the UI that shows them. Pure.

/** One checked step: passed, failed, a warning (works, but something looks wrong), or not run. */
export type TestStepOutcome = 'passed' | 'failed' | 'warning' | 'skipped';

export interface TestStep {
  /** Stable id for the UI and tests ("reach", "version", "security", "auth", "desktop", "ssh", "host-key", "login", "virsh", "domain:NAME"). */
  readonly id: string;
  /** What was checked, in words ("VNC server reached"). */
  readonly title: string;
  readonly outcome: TestStepOutcome;
  /** What was found, or what went wrong and what to do next. */
  readonly detail: string;
}

/** A host key an L0 presented, as `ssh-keygen -lf` prints it. */
export interface PresentedHostKey {
  /** "ED25519", "ECDSA", "RSA". */
  readonly type: string;
  /** "SHA256:" + 43 base64 characters. */
  readonly fingerprint: string;
}

/** The outcome of one "Test": every step in order; `ok` when none failed. */
export interface ConnectionTestReport {
  readonly ok: boolean;
  readonly steps: readonly TestStep[];
  /**
   * For an L0 with no pinned host key (first contact): the keys it presented, to be shown and trusted
   * by the user (trust on first use) — nothing past the host key was tried. Otherwise absent.
   */
  readonly unpinnedHostKeys?: readonly PresentedHostKey[];
}

/** Builds a report from its steps (`ok` when no step failed). */
export function connectionTestReport(steps: readonly TestStep[], unpinnedHostKeys?: readonly PresentedHostKey[]): ConnectionTestReport {
  return {
    ok: steps.every((step) => step.outcome !== 'failed'),
    steps,
    ...(unpinnedHostKeys === undefined ? {} : { unpinnedHostKeys }),
  };
}

/** Names of the RFB security types (RFC 6143 §7.2.1 and the IANA registry) the report mentions. */
export const SECURITY_TYPE_NAMES: Readonly<Record<number, string>> = {
  1: 'None',
  2: 'VNC Authentication',
  5: 'RA2',
  6: 'RA2ne',
  16: 'Tight',
  18: 'TLS',
  19: 'VeNCrypt',
  22: 'XVP',
  30: 'Diffie-Hellman (Apple)',
  113: 'MS-Logon II',
  129: 'Unix Logon',
  256: 'Plain',
};

/** "VNC Authentication (2)", or "type 77" for one the registry above does not name. */
export function securityTypeName(type: number): string {
  const name = SECURITY_TYPE_NAMES[type];
  return name === undefined ? `type ${type}` : `${name} (${type})`;
}
