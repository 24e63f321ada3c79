// Benchmark section "remediation": the real renderer in headless Chromium and an in-process back end
// (createBackend + the browser shell) on a profile in mode "auto", first on the demo lab (simulated L0),
// then — with root and virsh — on a real L0 (libvirtd, three QEMU domains over SSH, tests/lab/libvirt.ts),
// which the section starts and stops itself. First N checkpoints (input held, snapshots of every
// replica in parallel, then one snapshot alone and all in parallel straight through the driver), then N
// remediations: typing, one replica made to diverge out of band, timed from the back end receiving the
// divergence report naming it to the first command on its L0 and to agreement again, beside the floors
// of the same round (snapshot-revert, replay). Figures and ratios only, never pass/fail. Runs in Node: through
// `npm run bench -- --only remediation [--rounds N] [--targets demo,libvirt]`.

import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser, Page } from 'playwright-core';
import type { AuditEntry, DivergenceReport } from '../common/contract';
import { CONFIRM_MS, SETTLE_MS } from '../common/divergence';
import type { L0Driver } from '../common/l0';
import { createBackend, type Backend } from '../main/backend';
import { startBrowserShell } from '../main/browser-shell';
import type { DemoLab } from '../main/demo/demo-lab';
import { VirshL0Driver, sshVirshExec } from '../main/l0/virsh-l0';
import { createLogger } from '../main/logger';
import { auditFilePath } from '../main/remediation/audit-log';
import type { ManagerEvent } from '../main/remediation/session-manager';
import { SshL0Pool } from '../main/ssh-l0';

/** How the section is run; every field has a default. */
export interface RemediationBenchOptions {
  /** Remediations (and checkpoints) per target. Default 5. */
  readonly rounds?: number;
  /** Which targets to measure. Default both; libvirt only with root and virsh. */
  readonly targets?: readonly BenchTarget[];
}

export type BenchTarget = 'demo' | 'libvirt';

const REPO_ROOT = resolve(import.meta.dirname, '..');
const DEFAULT_ROUNDS = 5;
/** The profile's outlierMs: how long a confirmed outlier waits before the manager acts (by design). */
const OUTLIER_MS = 1_000;
/** How long agreement must hold before a rung counts as successful (the session's settle + confirm). */
const AGREEMENT_QUIET_MS = SETTLE_MS + CONFIRM_MS;
const RUNG_TIMEOUT_MS = 90_000;
/** From the out-of-band divergence to the manager's verdict: detection, outlierMs, the rung and its agreement wait. */
const ROUND_TIMEOUT_MS = 150_000;
const CONNECT_TIMEOUT_MS = 60_000;
/** Typing pace: 10 keys a second, a fast typist. */
const KEY_INTERVAL_MS = 100;

/** What a target provides: its profile, how to type and how to make a replica diverge, its L0 driver for direct timings. */
interface TargetSetup {
  readonly name: string;
  readonly replicaIds: readonly string[];
  /** The profile document (mode auto) the page opens at start. */
  readonly profile: Record<string, unknown>;
  /** A driver of the same kind the manager uses, for snapshot timings straight through it. */
  readonly driver: L0Driver;
  readonly domainOf: (replicaId: string) => string;
  /** Types `marker` (letters and digits) through the composite and resolves once every replica shows it. */
  readonly type: (page: Page, marker: string) => Promise<void>;
  /** Makes `replicaId` diverge without going through RetroVisor. */
  readonly diverge: (replicaId: string, round: number) => Promise<void>;
  readonly close: () => Promise<void>;
}

/** One round's timings (epoch ms for instants, ms for durations). */
interface RoundTimings {
  readonly replicaId: string;
  readonly rung: string;
  readonly succeeded: boolean;
  readonly replayed: number;
  /** Divergence made out of band → the back end gets the report naming the outlier. */
  readonly detectionMs: number;
  /** Report → the first command on the replica's L0 starts (snapshot-revert). */
  readonly toFirstCommandMs: number;
  /** Report → the manager plans the rung (outlierMs by design, plus timer lateness). */
  readonly toPlanMs: number;
  /** Report → the rung succeeded (the replica agreed again for the quiet time). */
  readonly toAgreementMs: number;
  /** The rung's steps as the manager timed them (isolate, snapshot-revert, reconnect, replay, await-agreement). */
  readonly steps: Readonly<Record<string, number>>;
  /** The snapshot-revert command's own duration (the L0 driver's measure, in the audit). */
  readonly revertMs: number;
}

/** One checkpoint's timings. */
interface CheckpointTimings {
  readonly heldMs: number;
  readonly steps: Readonly<Record<string, number>>;
  /** Each replica's snapshot-create-as, as the driver timed it. */
  readonly perReplicaMs: readonly number[];
  /** One replica's snapshot alone, straight through the driver. */
  readonly aloneMs: number;
  /** Every replica's snapshot in parallel, straight through the driver. */
  readonly parallelMs: number;
}

function loadText(): string {
  return os
    .loadavg()
    .map((load) => load.toFixed(2))
    .join(' / ');
}

function percentile(values: readonly number[], fraction: number): number {
  const sorted = [...values].filter((value) => Number.isFinite(value)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] as number;
}

const median = (values: readonly number[]): number => percentile(values, 0.5);
const max = (values: readonly number[]): number => percentile(values, 1);
const ms = (value: number): string => (Number.isNaN(value) ? '—' : value < 10 ? `${value.toFixed(2)} ms` : `${value.toFixed(0)} ms`);
const times = (value: number): string => (Number.isFinite(value) ? `${value.toFixed(2)}×` : '—');
const medMax = (values: readonly number[], format: (value: number) => string = ms): string => `${format(median(values))} / ${format(max(values))}`;

/** Steps "(steps: isolate 3 ms, snapshot-revert 120 ms, …; input held 1021 ms)" of an audit detail. */
function parseSteps(detail: string): { steps: Record<string, number>; heldMs: number } {
  const steps: Record<string, number> = {};
  const list = /\(steps: ([^;)]*)(?:; input held (\d+) ms)?\)/.exec(detail);
  for (const part of list?.[1]?.split(', ') ?? []) {
    const match = /^(\S+) (\d+) ms$/.exec(part);
    if (match?.[1] !== undefined) steps[match[1]] = Number(match[2]);
  }
  return { steps, heldMs: list?.[2] === undefined ? Number.NaN : Number(list[2]) };
}

/** What the back end reported, in order, with the epoch ms it arrived. */
type Happening = { readonly atMs: number } & ({ readonly kind: 'report'; readonly report: DivergenceReport } | { readonly kind: 'manager'; readonly event: ManagerEvent });

/** The back end's divergence reports and manager events of one session, awaitable. */
class Timeline {
  readonly happenings: Happening[] = [];
  private waiters: (() => void)[] = [];

  add(happening: Happening): void {
    this.happenings.push(happening);
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  /** The first happening at or after `fromIndex` matching `match`; rejects after `timeoutMs`. */
  async next<T extends Happening>(fromIndex: number, match: (happening: Happening) => happening is T, timeoutMs: number, what: string): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.happenings.slice(fromIndex).find(match);
      if (found !== undefined) return found;
      const leftMs = deadline - Date.now();
      if (leftMs <= 0) throw new Error(`no ${what} within ${timeoutMs} ms`);
      await new Promise<void>((resolveWait) => {
        const timer = setTimeout(resolveWait, leftMs);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolveWait();
        });
      });
    }
  }
}

/** Polls `condition` (a file or a guest's text that has no event of its own) until it holds. */
async function until<T>(condition: () => T | undefined | Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(50);
  }
}

function readAudit(file: string): AuditEntry[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as AuditEntry);
}

/**
 * Presses the keys that type `text` on a US keyboard (letters, digits, space, '-', '/', '>', newline)
 * at a person's pace: faster, a QEMU guest under software emulation on a busy machine drops keys
 * on one replica now and then (a divergence the bench did not ask for).
 */
async function typeText(page: Page, text: string): Promise<void> {
  const keys: Readonly<Record<string, string>> = { ' ': 'Space', '\n': 'Enter', '-': 'Minus', '/': 'Slash', '>': 'Shift+Period' };
  const letterOrDigit = (character: string): string | undefined =>
    /^[a-z]$/.test(character) ? `Key${character.toUpperCase()}` : /^[A-Z]$/.test(character) ? `Shift+Key${character}` : /^[0-9]$/.test(character) ? `Digit${character}` : undefined;
  const startedMs = performance.now();
  for (const [index, character] of [...text].entries()) {
    const key = keys[character] ?? letterOrDigit(character);
    if (key === undefined) throw new Error(`the bench cannot type ${JSON.stringify(character)}`);
    const waitMs = startedMs + index * KEY_INTERVAL_MS - performance.now();
    if (waitMs > 0) await sleep(waitMs);
    await page.keyboard.press(key);
  }
}

/** The demo lab (simulated L0) behind the back end, opened with an auto-mode profile instead of the demo's confirm one. */
async function demoTarget(backend: Backend): Promise<TargetSetup> {
  // The back end's simulated L0 is its demo lab's: start the lab, close the demo's own (confirm) session.
  const demo = await backend.handlers.startDemoLab({});
  if (demo.ok) await backend.handlers.closeSession({ sessionId: demo.session.sessionId });
  const lab: DemoLab | null = backend.demo.lab;
  if (lab === null) throw new Error(`the demo lab did not start${demo.ok ? '' : `: ${JSON.stringify(demo.problems)}`}`);
  const guestText = (replicaId: string): string => lab.replica(replicaId).guest?.text.lines.join('\n') ?? '';
  return {
    name: 'demo lab (simulated L0)',
    replicaIds: lab.replicas.map((replica) => replica.id),
    profile: {
      replicas: lab.replicas.map((replica) => ({ id: replica.id, label: replica.label, vnc: { host: replica.host, port: replica.port }, l0: 'demo', domain: replica.domain })),
      l0: { demo: { simulated: true } },
    },
    driver: lab.l0,
    domainOf: (replicaId) => lab.replica(replicaId).domain,
    type: async (page, marker) => {
      await typeText(page, `${marker} `);
      await until(() => (lab.replicas.every((replica) => guestText(replica.id).includes(marker)) ? true : undefined), 20_000, `"${marker}" on every demo guest`);
    },
    diverge: (replicaId, round) => lab.setFault(replicaId, { kind: 'banner', text: `BENCH ${round}` }),
    close: () => Promise.resolve(),
  };
}

/** A real L0: libvirtd and three QEMU domains (tests/lab/libvirt.ts), reached over SSH as the manager does. */
async function libvirtTarget(dataDir: string): Promise<TargetSetup> {
  // Test-lab code, loaded only when this target runs (it needs root and the lab's packages).
  const { startLibvirtL0, typeOnDomain } = await import('../tests/lab/libvirt');
  console.log(`starting a libvirt L0 with 3 domains (load ${loadText()})…`);
  const l0 = await startLibvirtL0({ domains: 3 });
  console.log(`libvirt L0 up in ${(l0.startupMs / 1000).toFixed(1)} s: ${l0.domains.map((domain) => domain.name).join(', ')} (load ${loadText()})`);
  const ids = ['v1', 'v2', 'v3'];
  const domainOf = (replicaId: string): string => {
    const domain = l0.domains[ids.indexOf(replicaId)];
    if (domain === undefined) throw new Error(`no domain for ${replicaId}`);
    return domain.name;
  };
  const ssh = { host: l0.ssh.host, port: l0.ssh.port, user: l0.ssh.user, identityFile: l0.ssh.identityFile, hostKey: l0.ssh.hostKeyFingerprint };
  // The bench's own connection to the same L0, for snapshot timings straight through the driver.
  const pool = new SshL0Pool({ logger: createLogger({ level: 'warn' }) });
  const driver = new VirshL0Driver({ l0: 'lab', uri: l0.uri, user: ssh.user, exec: sshVirshExec(pool, { name: 'lab', ssh, baseDir: dataDir }) });
  const serialShows = async (text: string): Promise<boolean> => (await Promise.all(l0.domains.map(async (domain) => (existsSync(domain.serialLogPath) ? readFile(domain.serialLogPath, 'utf8') : '')))).every((log) => log.includes(text));
  return {
    name: 'libvirt L0 (3 QEMU domains, virsh over SSH)',
    replicaIds: ids,
    profile: {
      replicas: ids.map((id) => {
        const domain = l0.domains[ids.indexOf(id)];
        if (domain === undefined) throw new Error(`no domain for ${id}`);
        return { id, label: id, vnc: { host: domain.vncHost, port: domain.vncPort }, l0: 'lab', domain: domain.name };
      }),
      l0: { lab: { ssh, uri: l0.uri } },
    },
    driver,
    domainOf,
    type: async (page, marker) => {
      // The command writes the marker on each VM's serial port: the bench waits for it on all three, so
      // that nothing is typed before the next prompt (typeahead at a shell that is still busy lands
      // differently on each VM — a real divergence of the guests, not one the bench asked for).
      await typeText(page, `echo ${marker} > /dev/ttyS0\n`);
      await until(async () => ((await serialShows(marker)) ? true : undefined), 30_000, `${marker} on every domain's serial port`);
    },
    diverge: (replicaId) => typeOnDomain(domainOf(replicaId), 'zzz'),
    close: async () => {
      await pool.close();
      await l0.stop();
    },
  };
}

/** Times one snapshot alone and every replica's in parallel straight through the driver, then deletes them. */
async function directSnapshots(setup: TargetSetup, round: number): Promise<{ aloneMs: number; parallelMs: number }> {
  const domains = setup.replicaIds.map(setup.domainOf);
  const aloneDomain = domains[round % domains.length] as string;
  const aloneName = `rvbench-alone-${round}`;
  const parallelName = `rvbench-parallel-${round}`;
  let started = performance.now();
  await setup.driver.snapshotCreate(aloneDomain, aloneName);
  const aloneMs = performance.now() - started;
  started = performance.now();
  await Promise.all(domains.map((domain) => setup.driver.snapshotCreate(domain, parallelName)));
  const parallelMs = performance.now() - started;
  await setup.driver.snapshotDelete(aloneDomain, aloneName);
  await Promise.all(domains.map((domain) => setup.driver.snapshotDelete(domain, parallelName)));
  return { aloneMs, parallelMs };
}

/** Runs `rounds` checkpoints and remediations on one target and prints its figures. */
async function measureTarget(browser: Browser, target: BenchTarget, rounds: number): Promise<void> {
  const dataDir = await mkdtemp(join(os.tmpdir(), 'retrovisor-bench-remediation-'));
  const profilePath = join(dataDir, 'profile.json');
  const profileName = `bench remediation ${target}`;
  const logLines: string[] = [];
  const logger = createLogger({ level: 'info', sink: (line) => logLines.push(line) });
  const version = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  // The startup profile is read on the first getStartup: written below, once the target's ports are known.
  const backend = createBackend({ shell: 'browser', headless: true, version, logger, startupProfilePath: profilePath, dataDirectory: dataDir });
  let setup: TargetSetup | null = null;
  let page: Page | null = null;
  let shell: Awaited<ReturnType<typeof startBrowserShell>> | null = null;
  const timeline = new Timeline();
  try {
    setup = target === 'demo' ? await demoTarget(backend) : await libvirtTarget(dataDir);
    const remediation = { mode: 'auto', outlierMs: OUTLIER_MS, rungTimeoutMs: RUNG_TIMEOUT_MS, maxRemediationsPerHour: 20, backoffMs: 1_000, checkpoint: { everyMs: 0, keep: 20 } };
    await writeFile(profilePath, JSON.stringify({ version: 1, name: profileName, ...setup.profile, remediation }));
    const startup = (await backend.handlers.getStartup()).startupSession;
    if (!startup?.ok) throw new Error(`the bench profile did not open: ${JSON.stringify(startup)}`);
    const sessionId = startup.session.sessionId;
    backend.onDivergenceReport((report) => {
      if (report.sessionId === sessionId) timeline.add({ kind: 'report', atMs: Date.now(), report });
    });
    backend.onManagerEvent((event) => {
      if (event.sessionId === sessionId) timeline.add({ kind: 'manager', atMs: Date.now(), event });
    });
    const auditFile = auditFilePath(dataDir, profileName);

    const staticRoot = join(REPO_ROOT, 'dist', 'renderer');
    if (!existsSync(join(staticRoot, 'app.js'))) throw new Error('the renderer is not built: run `npm run build`');
    shell = await startBrowserShell({ backend, staticRoot, logger });
    page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    page.on('pageerror', (error) => console.error(`page error: ${error.stack ?? error.message}`));
    await page.goto(shell.url);
    for (const id of setup.replicaIds) await page.waitForSelector(`[data-replica-id="${id}"][data-state="connected"]`, { timeout: CONNECT_TIMEOUT_MS, state: 'attached' });
    await page.focus('#composite');
    const first = await timeline.next(0, (happening): happening is Happening & { kind: 'manager' } => happening.kind === 'manager' && happening.event.type === 'checkpoint' && happening.event.status !== 'started', 60_000, 'first checkpoint');
    console.log(`first checkpoint (taken by the manager once every replica agreed): ${first.kind === 'manager' && first.event.type === 'checkpoint' ? first.event.status : '?'}`);

    const checkpoints: CheckpointTimings[] = [];
    const remediations: RoundTimings[] = [];
    // Phase 1: checkpoints. A remediation leaves the manager without a fresh "every replica agrees"
    // until the next comparison report, which refuses a checkpoint asked for right after it: so the
    // checkpoints come first, then the remediations (each reverting to the newest checkpoint).
    for (let round = 1; round <= rounds; round++) {
      await setup.type(page, `cp${round}x`);
      const checkpoint = await backend.handlers.takeCheckpoint({ sessionId });
      const entry = await until(
        () => readAudit(auditFile).find((candidate) => candidate.kind === 'checkpoint' && candidate.action === 'take' && candidate.detail.startsWith(`${checkpoint.name} `)),
        10_000,
        `the audit entry of ${checkpoint.name}`,
      );
      const parsed = parseSteps(entry.detail);
      const perReplicaMs = readAudit(auditFile)
        .filter((candidate) => candidate.kind === 'command' && candidate.argv?.includes('snapshot-create-as') === true && candidate.argv.includes(checkpoint.name))
        .map((candidate) => candidate.durationMs ?? Number.NaN);
      const direct = await directSnapshots(setup, round);
      checkpoints.push({ heldMs: parsed.heldMs, steps: parsed.steps, perReplicaMs, ...direct });
      console.log(
        `checkpoint ${round}: input held ${ms(parsed.heldMs)} (${Object.entries(parsed.steps).map(([step, value]) => `${step} ${value}`).join(', ')} ms; each replica ${perReplicaMs.map((value) => value.toFixed(0)).join(' / ')} ms); ` +
          `direct: one alone ${ms(direct.aloneMs)}, ${setup.replicaIds.length} in parallel ${ms(direct.parallelMs)} (load ${loadText()})`,
      );
    }

    // Phase 2: remediations. Input since the checkpoint, then one replica diverges out of band.
    for (let round = 1; round <= rounds; round++) {
      await setup.type(page, `mark${round}x`);
      // One replica diverges out of band; the manager reverts it and replays the journal.
      const replicaId = setup.replicaIds[round % setup.replicaIds.length] as string;
      const fromIndex = timeline.happenings.length;
      const divergedAtMs = Date.now();
      await setup.diverge(replicaId, round);
      const report = await timeline.next(
        fromIndex,
        (happening): happening is Happening & { kind: 'report' } => happening.kind === 'report' && happening.report.kind === 'divergence' && happening.report.outliers.includes(replicaId),
        ROUND_TIMEOUT_MS,
        `divergence report naming ${replicaId}`,
      );
      const isMine = (happening: Happening, statuses: readonly string[]): boolean =>
        happening.kind === 'manager' && happening.event.type === 'remediation' && happening.event.replica === replicaId && statuses.includes(happening.event.status);
      const planned = await timeline.next(fromIndex, (happening): happening is Happening => isMine(happening, ['planned']), ROUND_TIMEOUT_MS, `plan for ${replicaId}`);
      const ended = await timeline.next(fromIndex, (happening): happening is Happening => isMine(happening, ['succeeded', 'failed']), ROUND_TIMEOUT_MS, `end of the rung on ${replicaId}`);
      const succeeded = ended.kind === 'manager' && ended.event.type === 'remediation' && ended.event.status === 'succeeded';
      const rungEntry = await until(
        () => readAudit(auditFile).find((candidate) => candidate.kind === 'remediation' && candidate.replicaId === replicaId && candidate.timeMs >= report.atMs && (candidate.outcome === 'succeeded' || candidate.outcome === 'failed')),
        10_000,
        `the audit entry of the rung on ${replicaId}`,
      );
      const domain = setup.domainOf(replicaId);
      const revert = readAudit(auditFile).find((candidate) => candidate.kind === 'command' && candidate.timeMs >= report.atMs && candidate.argv?.includes('snapshot-revert') === true && candidate.argv.includes(domain));
      // Audit entries are written when a command ends: the first command is the one that started first.
      const commandStarts = readAudit(auditFile)
        .filter((candidate) => candidate.kind === 'command' && candidate.timeMs >= report.atMs && candidate.argv?.includes(domain) === true)
        .map((candidate) => candidate.timeMs - (candidate.durationMs ?? 0));
      const firstStartMs = commandStarts.length === 0 ? Number.NaN : Math.min(...commandStarts);
      const timings: RoundTimings = {
        replicaId,
        rung: rungEntry.action ?? '?',
        succeeded,
        replayed: Number(/^(\d+) input\(s\) replayed/.exec(rungEntry.detail)?.[1] ?? Number.NaN),
        detectionMs: report.atMs - divergedAtMs,
        toFirstCommandMs: firstStartMs - report.atMs,
        toPlanMs: planned.atMs - report.atMs,
        toAgreementMs: ended.atMs - report.atMs,
        steps: parseSteps(rungEntry.detail).steps,
        revertMs: revert?.durationMs ?? Number.NaN,
      };
      remediations.push(timings);
      console.log(
        `remediation ${round}: ${replicaId} diverged → reported after ${ms(timings.detectionMs)} → first L0 command +${ms(timings.toFirstCommandMs)} → ${timings.rung} ${succeeded ? 'succeeded' : 'FAILED'} +${ms(timings.toAgreementMs)} ` +
          `(${timings.replayed} inputs replayed; steps ${Object.entries(timings.steps).map(([step, value]) => `${step} ${value}`).join(', ')} ms) (load ${loadText()})`,
      );
      if (!succeeded) throw new Error(`the remediation of ${replicaId} failed: ${rungEntry.detail}`);
    }
    printTarget(setup, checkpoints, remediations);
  } catch (error) {
    console.log(`${target}: ${error instanceof Error ? error.message : String(error)}`);
    const screenshot = join(os.tmpdir(), `retrovisor-bench-remediation-${target}-${process.pid}.png`);
    if (page !== null && (await page.screenshot({ path: screenshot }).then(() => true, () => false))) console.log(`the page at the failure: ${screenshot}`);
    console.log(`audit tail:\n${readAudit(auditFilePath(dataDir, profileName)).slice(-12).map((entry) => `  ${JSON.stringify(entry)}`).join('\n')}`);
    console.log(`back-end log tail:\n${logLines.slice(-15).join('\n')}`);
    const reports = timeline.happenings.flatMap((happening) => (happening.kind === 'report' ? [happening] : []));
    console.log(`divergence reports:\n${reports.map((happening) => `  ${new Date(happening.atMs).toISOString()} ${JSON.stringify(happening.report)}`).join('\n')}`);
    throw error;
  } finally {
    await page?.close().catch(() => undefined);
    await shell?.close().catch(() => undefined);
    await backend.close().catch(() => undefined);
    await setup?.close().catch((error: unknown) => console.error(`closing the ${target} target: ${String(error)}`));
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** The target's table: medians and maxima over the rounds, and ratios per round. */
function printTarget(setup: TargetSetup, checkpoints: readonly CheckpointTimings[], rounds: readonly RoundTimings[]): void {
  const n = setup.replicaIds.length;
  const step = (name: string) => rounds.map((round) => round.steps[name] ?? Number.NaN);
  const replay = step('replay');
  const floors = rounds.map((round) => round.revertMs + (round.steps.replay ?? Number.NaN));
  console.log(`\n### ${setup.name}: ${rounds.length} remediations, median / max (load ${loadText()})`);
  console.log(`outlierMs ${OUTLIER_MS} ms and the agreement wait (settle + confirm) ${AGREEMENT_QUIET_MS} ms are waits by design`);
  console.log(`divergence made → report naming the outlier     ${medMax(rounds.map((round) => round.detectionMs))}   (settle + confirm ${AGREEMENT_QUIET_MS} ms by design)`);
  console.log(`report → rung planned                           ${medMax(rounds.map((round) => round.toPlanMs))}`);
  console.log(`report → first command on its L0 (raw)          ${medMax(rounds.map((round) => round.toFirstCommandMs))}   goal ≤ 1 s`);
  console.log(`report → first command − outlierMs              ${medMax(rounds.map((round) => round.toFirstCommandMs - OUTLIER_MS))}`);
  console.log(`report → agreement again (rung succeeded)       ${medMax(rounds.map((round) => round.toAgreementMs))}`);
  console.log(`floor: snapshot-revert (driver)                 ${medMax(rounds.map((round) => round.revertMs))}`);
  console.log(`floor: replay (command → answer)                ${medMax(replay)}   (${medMax(rounds.map((round) => round.replayed), (value) => value.toFixed(0))} inputs)`);
  console.log(`rung steps: isolate ${medMax(step('isolate'))}, snapshot-revert ${medMax(step('snapshot-revert'))}, reconnect ${medMax(step('reconnect'))}, replay ${medMax(replay)}, await-agreement ${medMax(step('await-agreement'))}`);
  console.log(`ratio (report → agreement) ÷ (revert + replay)                               ${medMax(rounds.map((round, index) => round.toAgreementMs / (floors[index] ?? Number.NaN)), times)}`);
  console.log(
    `ratio (report → agreement − outlierMs − agreement wait) ÷ (revert + replay)   ${medMax(
      rounds.map((round, index) => (round.toAgreementMs - OUTLIER_MS - AGREEMENT_QUIET_MS) / (floors[index] ?? Number.NaN)),
      times,
    )}`,
  );
  console.log(`ratio (report → first command) ÷ outlierMs                                   ${medMax(rounds.map((round) => round.toFirstCommandMs / OUTLIER_MS), times)}`);
  const checkpointStep = (name: string) => checkpoints.map((checkpoint) => checkpoint.steps[name] ?? Number.NaN);
  console.log(`\n### ${setup.name}: ${checkpoints.length} checkpoints, median / max`);
  console.log(`input held (hold-input → release-input answered)  ${medMax(checkpoints.map((checkpoint) => checkpoint.heldMs))}`);
  console.log(`  of which: hold-input ${medMax(checkpointStep('hold-input'))}, await-agreement ${medMax(checkpointStep('await-agreement'))}, snapshots ${medMax(checkpointStep('snapshots'))}, release-input ${medMax(checkpointStep('release-input'))}`);
  console.log(`each replica's snapshot-create-as in the checkpoint (driver)   ${medMax(checkpoints.flatMap((checkpoint) => checkpoint.perReplicaMs))}`);
  console.log(`direct: one snapshot alone                      ${medMax(checkpoints.map((checkpoint) => checkpoint.aloneMs))}`);
  console.log(`direct: ${n} snapshots in parallel                ${medMax(checkpoints.map((checkpoint) => checkpoint.parallelMs))}`);
  console.log(`ratio direct ${n} in parallel ÷ one alone          ${medMax(checkpoints.map((checkpoint) => checkpoint.parallelMs / checkpoint.aloneMs), times)}`);
  console.log(`ratio checkpoint's snapshots step ÷ one alone    ${medMax(checkpoints.map((checkpoint) => (checkpoint.steps.snapshots ?? Number.NaN) / checkpoint.aloneMs), times)}`);
  console.log(`ratio input held ÷ checkpoint's snapshots step   ${medMax(checkpoints.map((checkpoint) => checkpoint.heldMs / (checkpoint.steps.snapshots ?? Number.NaN)), times)}`);
}

/** True when a real L0 can be started here (root, virsh on PATH), else why not. */
function libvirtUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'not root';
  const onPath = (process.env.PATH ?? '').split(':').some((folder) => folder !== '' && existsSync(join(folder, 'virsh')));
  return onPath ? null : 'no virsh on PATH';
}

/** Runs the section on `browser` and prints it. */
export async function runRemediationBenchmark(browser: Browser, options: RemediationBenchOptions = {}): Promise<void> {
  const rounds = options.rounds ?? DEFAULT_ROUNDS;
  const targets = options.targets ?? ['demo', 'libvirt'];
  console.log(`\n## Remediation: divergence → revert + replay → agreement, and checkpoint cost (mode auto, ${rounds} rounds per target)\n`);
  console.log(`load average at start: ${loadText()}`);
  for (const target of targets) {
    if (target === 'libvirt') {
      const why = libvirtUnavailable();
      if (why !== null) {
        console.log(`\nlibvirt L0: not measured (${why}); demo figures only.`);
        continue;
      }
    }
    console.log(`\n### target: ${target} (load ${loadText()})`);
    await measureTarget(browser, target, rounds);
  }
  console.log(`\nload average at the end: ${loadText()}`);
}

/** Parses this section's command-line options (shared with scripts/bench.ts). */
export function remediationBenchOptions(values: { rounds?: string; targets?: string }): RemediationBenchOptions {
  const rounds = values.rounds === undefined ? undefined : Number(values.rounds);
  if (rounds !== undefined && (!Number.isSafeInteger(rounds) || rounds < 1)) throw new Error(`--rounds takes a whole number ≥ 1, not ${JSON.stringify(values.rounds)}`);
  const targets = values.targets?.split(',').map((name) => name.trim());
  if (targets !== undefined && !targets.every((name): name is BenchTarget => name === 'demo' || name === 'libvirt')) throw new Error('--targets is a comma-separated list of demo, libvirt');
  return { ...(rounds === undefined ? {} : { rounds }), ...(targets === undefined ? {} : { targets }) };
}
