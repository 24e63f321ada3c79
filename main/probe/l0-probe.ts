// "Test" for one L0, as the profile editor runs it: SSH reached, host key (shown for trust on first
// use when none is pinned; a changed key refused), login, virsh answering, and for each replica on this
// L0 its domain found and its `domdisplay` agreeing with the replica's VNC endpoint. Node-side.

import ssh2 from 'ssh2';
import type { ConnectionTestReport, PresentedHostKey, TestStep } from '../../common/connection-test';
import { connectionTestReport } from '../../common/connection-test';
import { L0Error } from '../../common/l0';
import type { SshTarget } from '../../common/profile';
import { sshVirshExec, VirshL0Driver } from '../l0/virsh-l0';
import { errorMessage, type Logger, type SecretRedactor } from '../logger';
import { formatHostPort } from '../sessions';
import { hostKeyType, SshL0Error, SshL0Pool, sshFingerprint, type L0Target } from '../ssh-l0';

// ssh2 is CommonJS: Node's ESM loader exposes only some names, so take them from the default export.
const { Client: SshClient } = ssh2;

/** How long the whole host-key scan may take (one handshake per key type, in parallel). */
export const HOST_KEY_SCAN_TIMEOUT_MS = 10_000;

/** Host key algorithms asked for one at a time, so that every key type the L0 has is seen. */
const SCANNED_KEY_ALGORITHMS = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512'] as const;

/** ssh-keygen's name for a key type. */
function keyTypeLabel(keyType: string): string {
  if (keyType === 'ssh-ed25519') return 'ED25519';
  if (keyType.startsWith('ecdsa-')) return 'ECDSA';
  if (keyType === 'ssh-rsa') return 'RSA';
  return keyType;
}

/** The outcome of a host key scan: the keys seen, or why the L0 could not be reached at all. */
export type HostKeyScan = { readonly ok: true; readonly keys: readonly PresentedHostKey[] } | { readonly ok: false; readonly reason: string };

/**
 * Asks the SSH server at host:port for each host key type in turn and records what it presents,
 * refusing every key before authentication: nothing is logged in, nothing is run.
 */
export async function scanHostKeys(host: string, port: number, timeoutMs = HOST_KEY_SCAN_TIMEOUT_MS): Promise<HostKeyScan> {
  const attempts = await Promise.all(
    SCANNED_KEY_ALGORITHMS.map(
      (algorithm) =>
        new Promise<{ key: PresentedHostKey | null; error: (Error & { code?: string; level?: string }) | null }>((resolve) => {
          const client = new SshClient();
          let key: PresentedHostKey | null = null;
          let settled = false;
          const settle = (error: (Error & { code?: string; level?: string }) | null): void => {
            if (settled) return;
            settled = true;
            client.destroy();
            resolve({ key, error: key === null ? error : null });
          };
          client.on('error', settle);
          client.on('close', () => settle(null));
          client.on('ready', () => settle(null));
          client.connect({
            host,
            port,
            username: 'retrovisor-host-key-scan',
            readyTimeout: timeoutMs,
            algorithms: { serverHostKey: [algorithm] },
            hostVerifier: (keyBlob: Buffer): boolean => {
              key = { type: keyTypeLabel(hostKeyType(keyBlob)), fingerprint: sshFingerprint(keyBlob) };
              // Refused on purpose: the handshake stops here, before any authentication.
              return false;
            },
          });
        }),
    ),
  );
  const keys: PresentedHostKey[] = [];
  for (const { key } of attempts) {
    if (key !== null && !keys.some((seen) => seen.fingerprint === key.fingerprint)) keys.push(key);
  }
  if (keys.length > 0) return { ok: true, keys };
  const error = attempts.find((attempt) => attempt.error !== null)?.error ?? null;
  const address = formatHostPort(host, port);
  if (error?.code === 'ECONNREFUSED') return { ok: false, reason: `${address} refused the connection — is sshd running there, on port ${port}?` };
  if (error?.code === 'ENOTFOUND' || error?.code === 'EAI_AGAIN') return { ok: false, reason: `host name "${host}" not found — check the L0's host` };
  if (error?.level === 'client-timeout') return { ok: false, reason: `${address} did not answer within ${Math.round(timeoutMs / 1000)} s — check the host, the port and any firewall` };
  return { ok: false, reason: `${address} presented no host key RetroVisor can check${error === null ? '' : `: ${error.message}`}` };
}

/** A replica that runs on the tested L0: its domain and the VNC endpoint the profile gives it. */
export interface L0ProbeReplica {
  readonly replicaId: string;
  readonly domain?: string;
  readonly vnc: { readonly host: string; readonly port: number; readonly tunnel: boolean };
}

/** What the L0 test needs. `ssh.hostKey` may be empty: the first contact, answered with the keys to trust. */
export interface L0ProbeOptions {
  readonly name: string;
  readonly ssh: Omit<SshTarget, 'hostKey'> & { readonly hostKey?: string };
  readonly uri: string;
  /** Where relative identity and passphrase files resolve. */
  readonly baseDir: string;
  readonly replicas: readonly L0ProbeReplica[];
  readonly logger: Logger;
  readonly redactor?: SecretRedactor;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '0.0.0.0', '::']);

/** Host and port of a `vnc://host:port` display URI (virsh prints the real port, not a display number). */
export function parseVncDisplay(display: string): { host: string; port: number } | null {
  const match = /^vnc:\/\/(\[[^\]]+\]|[^:/]+):(\d{1,5})\/?$/.exec(display);
  if (match === null) return null;
  const port = Number(match[2]);
  return port > 0 && port <= 65_535 ? { host: match[1]!.replace(/^\[|\]$/g, ''), port } : null;
}

/** Whether a domain's display agrees with the replica's VNC endpoint, in words. */
export function displayAgreement(display: string, replica: L0ProbeReplica): Pick<TestStep, 'outcome' | 'detail'> {
  const parsed = parseVncDisplay(display);
  const expected = formatHostPort(replica.vnc.host, replica.vnc.port);
  if (parsed === null) {
    return { outcome: 'warning', detail: `its display is ${display}, not a VNC display; the profile expects ${expected}` };
  }
  if (parsed.port !== replica.vnc.port) {
    return {
      outcome: 'warning',
      detail: `virsh domdisplay says ${display}, but the profile connects to port ${replica.vnc.port} — is this the right domain, or the right port?`,
    };
  }
  // Seen from the L0 (a tunnel), the profile's host must be where QEMU listens; seen from here, any
  // address of the L0 may reach it, so only the port is compared.
  const hostsAgree = !replica.vnc.tunnel || parsed.host === replica.vnc.host || (LOOPBACK_HOSTS.has(parsed.host) && LOOPBACK_HOSTS.has(replica.vnc.host));
  return hostsAgree
    ? { outcome: 'passed', detail: `found; its display ${display} agrees with ${expected}` }
    : { outcome: 'warning', detail: `virsh domdisplay says ${display}, but the tunnel goes to ${expected} on the L0` };
}

/** Runs the test; never throws (every failure is a failed step with what to do next). */
export async function probeL0(options: L0ProbeOptions): Promise<ConnectionTestReport> {
  const { ssh, name } = options;
  const address = formatHostPort(ssh.host, ssh.port);
  const steps: TestStep[] = [];
  if (ssh.hostKey === undefined || ssh.hostKey.length === 0) {
    const scan = await scanHostKeys(ssh.host, ssh.port);
    if (!scan.ok) {
      steps.push({ id: 'ssh', title: 'SSH server reached', outcome: 'failed', detail: scan.reason });
      return connectionTestReport(steps);
    }
    steps.push({ id: 'ssh', title: 'SSH server reached', outcome: 'passed', detail: address });
    steps.push({
      id: 'host-key',
      title: 'Host key',
      outcome: 'warning',
      detail: `first contact: no host key is pinned yet. Compare ${scan.keys.map((key) => `${key.type} ${key.fingerprint}`).join(', ')} with \`ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub\` on the L0, then trust it to pin it and test again`,
    });
    return connectionTestReport(steps, scan.keys);
  }

  const target: L0Target = { name, ssh: { ...ssh, hostKey: ssh.hostKey }, baseDir: options.baseDir };
  const pool = new SshL0Pool({ logger: options.logger, ...(options.redactor === undefined ? {} : { redactor: options.redactor }) });
  try {
    try {
      await pool.connection(target).client();
    } catch (error) {
      const kind = error instanceof SshL0Error ? error.kind : 'unreachable';
      if (kind === 'host-key-changed') {
        steps.push({ id: 'ssh', title: 'SSH server reached', outcome: 'passed', detail: address });
        steps.push({ id: 'host-key', title: 'Host key', outcome: 'failed', detail: errorMessage(error) });
      } else if (kind === 'auth-failed' || kind === 'identity' || kind === 'passphrase') {
        steps.push({ id: 'ssh', title: 'SSH server reached', outcome: 'passed', detail: address });
        steps.push({ id: 'host-key', title: 'Host key', outcome: 'passed', detail: `matches the pinned ${ssh.hostKey}` });
        steps.push({ id: 'login', title: `Login as ${ssh.user}`, outcome: 'failed', detail: errorMessage(error) });
      } else {
        steps.push({ id: 'ssh', title: 'SSH server reached', outcome: 'failed', detail: errorMessage(error) });
      }
      return connectionTestReport(steps);
    }
    steps.push({ id: 'ssh', title: 'SSH server reached', outcome: 'passed', detail: address });
    steps.push({ id: 'host-key', title: 'Host key', outcome: 'passed', detail: `matches the pinned ${ssh.hostKey}` });
    steps.push({ id: 'login', title: `Login as ${ssh.user}`, outcome: 'passed', detail: 'logged in' });

    const driver = new VirshL0Driver({ l0: name, uri: options.uri, exec: sshVirshExec(pool, target), user: ssh.user });
    let domains: readonly string[];
    try {
      domains = (await driver.listDomains()).map((domain) => domain.name);
    } catch (error) {
      steps.push({ id: 'virsh', title: 'virsh', outcome: 'failed', detail: errorMessage(error) });
      return connectionTestReport(steps);
    }
    steps.push({ id: 'virsh', title: 'virsh', outcome: 'passed', detail: `virsh answers on ${options.uri}: ${domains.length} domain(s) defined` });

    for (const replica of options.replicas) {
      const id = `domain:${replica.replicaId}`;
      const title = replica.domain === undefined ? `Replica ${replica.replicaId}` : `Domain ${replica.domain} (replica ${replica.replicaId})`;
      if (replica.domain === undefined) {
        steps.push({ id, title, outcome: 'warning', detail: 'no domain named: the manager cannot act on this replica — set its domain' });
        continue;
      }
      if (!domains.includes(replica.domain)) {
        const known = domains.length === 0 ? 'none is defined' : `defined: ${domains.slice(0, 10).join(', ')}${domains.length > 10 ? '…' : ''}`;
        steps.push({ id, title, outcome: 'failed', detail: `not found on ${options.uri} (${known}) — check the domain name` });
        continue;
      }
      try {
        steps.push({ id, title, ...displayAgreement(await driver.domainDisplay(replica.domain), replica) });
      } catch (error) {
        const detail = error instanceof L0Error ? error.message : errorMessage(error);
        steps.push({ id, title, outcome: 'warning', detail: `found, but its display could not be read: ${detail}` });
      }
    }
    return connectionTestReport(steps);
  } finally {
    await pool.close();
  }
}
