// The profile editor's "Test" buttons: one replica's VNC server, or one L0, tested from the profile the
// user is editing (not yet saved, perhaps incomplete elsewhere). Only the part under test is validated,
// with the profile's own rules; secrets resolve as when connecting and never enter the report. Node-side.

import os from 'node:os';
import { connectionTestReport, type ConnectionTestReport, type TestStep } from '../../common/connection-test';
import type { Json } from '../../common/json-fields';
import { formatProblems, validateProfile, type Profile } from '../../common/profile';
import { errorMessage, type Logger, type SecretRedactor } from '../logger';
import { probeL0 } from '../probe/l0-probe';
import { probeRfbServer } from '../probe/rfb-probe';
import { connectReplica } from '../replica-transport';
import { resolveSecret } from '../secrets';
import { formatHostPort } from '../sessions';
import { SshL0Pool } from '../ssh-l0';

/** What the service needs. */
export interface ConnectionTestServiceOptions {
  readonly logger: Logger;
  readonly redactor: SecretRedactor;
  /** Where relative key and password files of an unsaved profile resolve (default: the home folder). */
  readonly baseDir?: string;
}

/** A pin that validates, put in place of a missing one: the L0 test of a first contact discovers the real one. */
const PLACEHOLDER_HOST_KEY = `SHA256:${'A'.repeat(43)}`;

function isObject(value: Json): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A failed "profile" step listing the problems of the part under test. */
function invalid(problems: string): ConnectionTestReport {
  return connectionTestReport([{ id: 'profile', title: 'Settings', outcome: 'failed', detail: `fix these first:\n${problems}` }]);
}

/** Runs the editor's tests; each answers a report, never throws for what it tests. */
export class ConnectionTestService {
  private readonly baseDir: string;

  constructor(private readonly options: ConnectionTestServiceOptions) {
    this.baseDir = options.baseDir ?? os.homedir();
  }

  /** Tests replica `replicaId` of the draft `document`: reach (direct or tunnelled), version, security, password, desktop. */
  async testReplica(document: Json, replicaId: string): Promise<ConnectionTestReport> {
    if (!isObject(document) || !Array.isArray(document.replicas)) return invalid('$.replicas: the profile has no replicas');
    const replica = (document.replicas as readonly Json[]).find((candidate) => isObject(candidate) && candidate.id === replicaId);
    if (replica === undefined || !isObject(replica)) return invalid(`$.replicas: no replica "${replicaId}"`);
    const l0Name = typeof replica.l0 === 'string' ? replica.l0 : undefined;
    const l0s = isObject(document.l0) ? document.l0 : {};
    const minimal: Record<string, Json> = {
      version: 1,
      name: 'connection test',
      replicas: [replica],
      l0: l0Name !== undefined && l0s[l0Name] !== undefined ? { [l0Name]: l0s[l0Name] } : {},
    };
    const validation = validateProfile(minimal);
    if (!validation.ok) return invalid(formatProblems(validation.problems));
    const profile: Profile = validation.profile;
    const tested = profile.replicas[0]!;
    const endpoint = `${formatHostPort(tested.vnc.host, tested.vnc.port)}${tested.vnc.tunnel && tested.l0 !== undefined ? ` via ${tested.l0}` : ''}`;

    let password: string | undefined;
    if (tested.vnc.password !== undefined) {
      try {
        password = await resolveSecret(tested.vnc.password, this.baseDir, this.options.redactor);
      } catch (error) {
        const step: TestStep = { id: 'password', title: 'Password', outcome: 'failed', detail: errorMessage(error) };
        return connectionTestReport([step]);
      }
    }
    const ssh = new SshL0Pool({ logger: this.options.logger.child({ component: 'connection-test' }), redactor: this.options.redactor });
    try {
      const report = await probeRfbServer({
        endpoint,
        ...(password === undefined ? {} : { password }),
        connect: (signal) => connectReplica(tested, { profile, baseDir: this.baseDir, ssh }, signal),
      });
      this.options.logger.info('replica test', { endpoint, ok: report.ok, steps: report.steps.map((step) => `${step.id}:${step.outcome}`).join(' ') });
      return report;
    } finally {
      await ssh.close();
    }
  }

  /** Tests L0 `l0Name` of the draft `document`: SSH, host key (first contact: the keys to trust), login, virsh, its replicas' domains. */
  async testL0(document: Json, l0Name: string): Promise<ConnectionTestReport> {
    if (!isObject(document) || !isObject(document.l0) || !isObject(document.l0[l0Name] ?? null)) {
      return invalid(`$.l0: no L0 named "${l0Name}"`);
    }
    const entry = document.l0[l0Name] as Record<string, Json>;
    const ssh = isObject(entry.ssh) ? entry.ssh : null;
    const unpinned = ssh !== null && (ssh.hostKey === undefined || ssh.hostKey === '');
    const checkedEntry = unpinned && ssh !== null ? { ...entry, ssh: { ...ssh, hostKey: PLACEHOLDER_HOST_KEY } } : entry;
    const replicas = Array.isArray(document.replicas)
      ? (document.replicas as readonly Json[]).filter((replica): replica is Record<string, Json> => isObject(replica) && replica.l0 === l0Name)
      : [];
    // The replicas are validated with the L0 so that their domains and endpoints follow the profile's rules;
    // without one, a stand-in replica keeps the document valid.
    const minimal: Record<string, Json> = {
      version: 1,
      name: 'connection test',
      replicas: replicas.length > 0 ? replicas : [{ id: 'l0-test', vnc: { host: '127.0.0.1', port: 5900 } }],
      l0: { [l0Name]: checkedEntry },
    };
    const validation = validateProfile(minimal);
    if (!validation.ok) return invalid(formatProblems(validation.problems));
    const l0 = validation.profile.l0[l0Name];
    if (l0 === undefined) return invalid(`$.l0: no L0 named "${l0Name}"`);
    if (l0.kind !== 'ssh') {
      return connectionTestReport([{ id: 'ssh', title: 'SSH server reached', outcome: 'skipped', detail: 'the demo lab’s simulated L0 has nothing to test' }]);
    }
    const report = await probeL0({
      name: l0Name,
      ssh: unpinned ? { ...l0.ssh, hostKey: '' } : l0.ssh,
      uri: l0.uri,
      baseDir: this.baseDir,
      replicas: replicas.length === 0 ? [] : validation.profile.replicas.map((replica) => ({
        replicaId: replica.id,
        ...(replica.domain === undefined ? {} : { domain: replica.domain }),
        vnc: { host: replica.vnc.host, port: replica.vnc.port, tunnel: replica.vnc.tunnel },
      })),
      logger: this.options.logger.child({ component: 'connection-test' }),
      redactor: this.options.redactor,
    });
    this.options.logger.info('L0 test', { l0: l0Name, ok: report.ok, steps: report.steps.map((step) => `${step.id}:${step.outcome}`).join(' ') });
    return report;
  }
}
