// Starts a whole test lab (Xvnc servers, QEMU VMs, sshd, a libvirt L0) in parallel and describes it as JSON
// so test files in other processes can use it. Runs in Node; also a script that keeps a lab up until interrupted:
//   node --import tsx tests/lab/lab.ts --out .lab/lab.json [--spec '{"xvnc":[{},{"password":"pw"}],"vms":1,"sshd":true,"l0":{"domains":3}}']

import { readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import {
  startSshd,
  startVm,
  startXvnc,
  type SshdHandle,
  type VmHandle,
  type XvncHandle,
  type XvncOptions,
} from './components.js';
import { startLibvirtL0, type L0Domain, type LibvirtL0 } from './libvirt.js';

/** Environment variable naming the lab description file that {@link loadLabDescription} reads. */
export const LAB_FILE_ENV = 'RETROVISOR_LAB_FILE';

/** What to start. */
export interface LabSpec {
  /** One Xvnc (with its xterm) per entry. */
  xvnc: XvncOptions[];
  /** How many QEMU VMs to boot. */
  vms: number;
  /** Whether to start a loopback sshd. */
  sshd: boolean;
  /** A libvirt L0 (libvirtd, its own sshd for the libvirt user) with this many QEMU domains. */
  l0?: { domains: number };
}

/** A running lab; `stop` ends every component. */
export interface Lab {
  xvnc: XvncHandle[];
  vms: VmHandle[];
  sshd?: SshdHandle;
  l0?: LibvirtL0;
  stop(): Promise<void>;
}

/** One Xvnc in a {@link LabDescription}. */
export interface XvncDescription {
  host: string;
  port: number;
  display: number;
  password?: string;
  pid: number;
}

/** One VM in a {@link LabDescription}. */
export interface VmDescription {
  host: string;
  port: number;
  serialLogPath: string;
  /** QEMU's human monitor socket: typeOnVmConsole types on this VM out of band through it. */
  monitorSocketPath: string;
  pid: number;
}

/** The sshd in a {@link LabDescription}. */
export interface SshdDescription {
  host: string;
  port: number;
  user: string;
  identityFile: string;
  hostKeyFingerprint: string;
}

/** The L0 in a {@link LabDescription}: `virsh -c uri` over SSH as `ssh.user`; domains named for `virsh`. */
export interface L0Description {
  uri: string;
  ssh: SshdDescription;
  domains: L0Domain[];
}

/** A JSON-serializable description of a running lab, for test files in other processes. */
export interface LabDescription {
  xvnc: XvncDescription[];
  vms: VmDescription[];
  sshd?: SshdDescription;
  l0?: L0Description;
}

/**
 * Starts every component of the spec at once and resolves when all are ready. If any fails, the
 * ones that did start are stopped and the error (or an AggregateError of all errors) is thrown.
 */
export async function startLab(spec: LabSpec): Promise<Lab> {
  const xvncStarts = spec.xvnc.map((options) => startXvnc(options));
  const vmStarts = Array.from({ length: spec.vms }, (_unused, index) => startVm({ name: `lab-vm-${process.pid}-${index + 1}` }));
  const sshdStart = spec.sshd ? startSshd() : Promise.resolve(undefined);
  const l0Start = spec.l0 === undefined ? Promise.resolve(undefined) : startLibvirtL0({ domains: spec.l0.domains });
  const [xvncResults, vmResults, sshdResult, l0Result] = await Promise.all([
    Promise.allSettled(xvncStarts),
    Promise.allSettled(vmStarts),
    Promise.allSettled([sshdStart]),
    Promise.allSettled([l0Start]),
  ]);
  const started: Array<{ stop(): Promise<void> }> = [];
  const errors: unknown[] = [];
  for (const result of [...xvncResults, ...vmResults, ...sshdResult, ...l0Result]) {
    if (result.status === 'rejected') errors.push(result.reason);
    else if (result.value !== undefined) started.push(result.value);
  }
  if (errors.length > 0) {
    await Promise.allSettled(started.map((component) => component.stop()));
    if (errors.length === 1) throw errors[0];
    throw new AggregateError(errors, `the lab failed to start: ${errors.map((error) => (error instanceof Error ? error.message : String(error))).join(' | ')}`);
  }
  const xvnc = xvncResults.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const vms = vmResults.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const sshd = sshdResult[0]?.status === 'fulfilled' ? sshdResult[0].value : undefined;
  const l0 = l0Result[0]?.status === 'fulfilled' ? l0Result[0].value : undefined;
  return {
    xvnc,
    vms,
    ...(sshd === undefined ? {} : { sshd }),
    ...(l0 === undefined ? {} : { l0 }),
    async stop() {
      await Promise.allSettled(started.map((component) => component.stop()));
    },
  };
}

/** Describes a running lab as plain data (pids are those of the moment: an Xvnc restart changes its pid). */
export function describeLab(lab: Lab): LabDescription {
  const description: LabDescription = {
    xvnc: lab.xvnc.map((server) => ({
      host: server.host,
      port: server.port,
      display: server.display,
      ...(server.password === undefined ? {} : { password: server.password }),
      pid: server.pid,
    })),
    vms: lab.vms.map((vm) => ({ host: vm.host, port: vm.port, serialLogPath: vm.serialLogPath, monitorSocketPath: vm.monitorSocketPath, pid: vm.pid })),
  };
  if (lab.sshd !== undefined) {
    const { host, port, user, identityFile, hostKeyFingerprint } = lab.sshd;
    description.sshd = { host, port, user, identityFile, hostKeyFingerprint };
  }
  if (lab.l0 !== undefined) {
    const { host, port, user, identityFile, hostKeyFingerprint } = lab.l0.ssh;
    description.l0 = {
      uri: lab.l0.uri,
      ssh: { host, port, user, identityFile, hostKeyFingerprint },
      domains: lab.l0.domains.map(({ name, vncHost, vncPort, serialLogPath }) => ({ name, vncHost, vncPort, serialLogPath })),
    };
  }
  return description;
}

/** Writes the lab's description as JSON (creating the folder), for {@link loadLabDescription}. */
export async function writeLabDescription(lab: Lab, filePath: string): Promise<void> {
  await mkdir(path.dirname(filePath), { recursive: true });
  await writeFile(filePath, `${JSON.stringify(describeLab(lab), null, 2)}\n`, { mode: 0o600 });
}

/**
 * Reads and validates a lab description written by the orchestrator; the path defaults to the
 * RETROVISOR_LAB_FILE environment variable.
 */
export function loadLabDescription(filePath: string | undefined = process.env[LAB_FILE_ENV]): LabDescription {
  if (filePath === undefined || filePath === '') {
    throw new Error(`${LAB_FILE_ENV} is not set: start a lab first (node --import tsx tests/lab/lab.ts --out FILE) and point ${LAB_FILE_ENV} at FILE`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(filePath, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read the lab description ${filePath}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  return parseLabDescription(parsed, filePath);
}

function parseLabDescription(value: unknown, source: string): LabDescription {
  const fail = (what: string): never => {
    throw new Error(`invalid lab description in ${source}: ${what}`);
  };
  const record = (item: unknown, where: string): Record<string, unknown> =>
    typeof item === 'object' && item !== null && !Array.isArray(item) ? (item as Record<string, unknown>) : fail(`${where} is not an object`);
  const text = (item: Record<string, unknown>, key: string, where: string): string =>
    typeof item[key] === 'string' ? item[key] : fail(`${where}.${key} is not a string`);
  const integer = (item: Record<string, unknown>, key: string, where: string): number =>
    typeof item[key] === 'number' && Number.isInteger(item[key]) ? item[key] : fail(`${where}.${key} is not an integer`);
  const list = (item: unknown, where: string): unknown[] => (Array.isArray(item) ? item : fail(`${where} is not an array`));

  const root = record(value, 'the root');
  const description: LabDescription = {
    xvnc: list(root.xvnc, 'xvnc').map((entry, index) => {
      const where = `xvnc[${index}]`;
      const item = record(entry, where);
      const password = item.password === undefined ? undefined : text(item, 'password', where);
      return {
        host: text(item, 'host', where),
        port: integer(item, 'port', where),
        display: integer(item, 'display', where),
        ...(password === undefined ? {} : { password }),
        pid: integer(item, 'pid', where),
      };
    }),
    vms: list(root.vms, 'vms').map((entry, index) => {
      const where = `vms[${index}]`;
      const item = record(entry, where);
      return {
        host: text(item, 'host', where),
        port: integer(item, 'port', where),
        serialLogPath: text(item, 'serialLogPath', where),
        monitorSocketPath: text(item, 'monitorSocketPath', where),
        pid: integer(item, 'pid', where),
      };
    }),
  };
  const sshAccess = (item: Record<string, unknown>, where: string): SshdDescription => ({
    host: text(item, 'host', where),
    port: integer(item, 'port', where),
    user: text(item, 'user', where),
    identityFile: text(item, 'identityFile', where),
    hostKeyFingerprint: text(item, 'hostKeyFingerprint', where),
  });
  if (root.sshd !== undefined) description.sshd = sshAccess(record(root.sshd, 'sshd'), 'sshd');
  if (root.l0 !== undefined) {
    const item = record(root.l0, 'l0');
    description.l0 = {
      uri: text(item, 'uri', 'l0'),
      ssh: sshAccess(record(item.ssh, 'l0.ssh'), 'l0.ssh'),
      domains: list(item.domains, 'l0.domains').map((entry, index) => {
        const where = `l0.domains[${index}]`;
        const domain = record(entry, where);
        return {
          name: text(domain, 'name', where),
          vncHost: text(domain, 'vncHost', where),
          vncPort: integer(domain, 'vncPort', where),
          serialLogPath: text(domain, 'serialLogPath', where),
        };
      }),
    };
  }
  return description;
}

/** The spec the lab CLI uses without --spec: what most lab tests need. */
const DEFAULT_SPEC: LabSpec = { xvnc: [{}, {}, {}], vms: 0, sshd: true };

async function runCli(): Promise<void> {
  const { values } = parseArgs({ options: { out: { type: 'string' }, spec: { type: 'string' } } });
  if (values.out === undefined) throw new Error('usage: node --import tsx tests/lab/lab.ts --out FILE [--spec JSON]');
  const spec = values.spec === undefined ? DEFAULT_SPEC : parseSpec(values.spec);
  const outPath = path.resolve(values.out);
  const startedAt = Date.now();
  const starting = startLab(spec);
  // Registered while the lab starts, so an interrupt during start-up still stops what was started.
  let stopping = false;
  const shutdown = (): void => {
    if (stopping) return;
    stopping = true;
    starting
      .then((lab) => lab.stop(), () => undefined)
      // A description of a stopped lab would send tests to dead ports: remove it with the lab.
      .then(() => rm(outPath, { force: true }))
      .then(
        () => process.exit(0),
        () => process.exit(1),
      );
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, shutdown);
  const lab = await starting;
  if (stopping) return;
  await writeLabDescription(lab, outPath);
  console.log(`lab ready in ${Date.now() - startedAt} ms; description in ${outPath}; stop with Ctrl-C or SIGTERM (pid ${process.pid})`);
}

function parseSpec(json: string): LabSpec {
  const value: unknown = JSON.parse(json);
  if (typeof value !== 'object' || value === null) throw new Error('--spec must be a JSON object');
  const { xvnc, vms, sshd, l0 } = value as Record<string, unknown>;
  if (!Array.isArray(xvnc) || !xvnc.every((item) => typeof item === 'object' && item !== null)) throw new Error('--spec.xvnc must be an array of objects');
  const servers = xvnc.map((item: Record<string, unknown>, index): XvncOptions => {
    if (item.password !== undefined && typeof item.password !== 'string') throw new Error(`--spec.xvnc[${index}].password must be a string`);
    return item.password === undefined ? {} : { password: item.password };
  });
  let l0Domains: number | undefined;
  if (l0 !== undefined) {
    const domains = typeof l0 === 'object' && l0 !== null ? (l0 as Record<string, unknown>).domains : undefined;
    if (typeof domains !== 'number' || !Number.isInteger(domains) || domains < 1) throw new Error('--spec.l0 must be {"domains": N} with N >= 1');
    l0Domains = domains;
  }
  return {
    xvnc: servers,
    vms: typeof vms === 'number' && Number.isInteger(vms) && vms >= 0 ? vms : 0,
    sshd: sshd === true,
    ...(l0Domains === undefined ? {} : { l0: { domains: l0Domains } }),
  };
}

const invokedAsScript = process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href;
if (invokedAsScript) {
  runCli().catch((error: unknown) => {
    console.error(`lab: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
