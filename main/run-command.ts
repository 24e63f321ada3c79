// `retrovisor run`: the real renderer and back end in headless Chromium, connecting every replica of a
// profile and reporting state changes (as JSON lines with --json). Runs in Node.

import { chromium, type Browser } from 'playwright-core';
import type { ReplicaStatusReport, ScriptResult, SessionInfo, StartupScriptOptions } from '../common/contract';
import { journalLine } from '../common/input/input-journal';
import type { InputScriptStep } from '../common/input/input-script';
import { escapeControl } from '../common/terminal-text';
import { createBackend, type Backend } from './backend';
import { startBrowserShell } from './browser-shell';
import { CHROMIUM_INSTALL_HINT, findChromium, headlessChromiumFlags, noSandboxNotice, noSandboxReason, sandboxFailureAdvice } from './chromium';
import { launchYieldingToBackend } from './process-priority';
import { terminalProblems } from './startup-problems';
import type { Logger } from './logger';

export interface RunOptions {
  readonly profilePath: string;
  /** The saved profile's id when --profile named one: the run records when it was opened and how it went. */
  readonly savedProfileId?: string;
  /** Stop after this many seconds; undefined = until SIGINT/SIGTERM. */
  readonly durationSeconds?: number;
  readonly json: boolean;
  /** Input steps to play into every replica once all are connected; the run ends when they are done. */
  readonly script?: readonly InputScriptStep[];
  /** How the script waits for replicas (default: all, for 60 s, then a connected strict majority). */
  readonly scriptOptions?: StartupScriptOptions;
  /** `--checkpoint`: take a checkpoint on every replica once they all agree; without a script or duration the run then ends. */
  readonly checkpoint?: boolean;
  readonly staticRoot: string;
  readonly version: string;
  readonly logger: Logger;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

/** Exit statuses of `retrovisor run`, as documented in the README. */
export const RUN_EXIT = {
  allConnected: 0,
  failure: 1,
  badInput: 2,
  /** Every replica connected and nothing else failed, but the replicas' screens still disagreed at the end. */
  diverged: 3,
} as const;

/** Runs a profile headless; resolves with the process exit status. */
export async function runHeadless(options: RunOptions): Promise<number> {
  const { logger, stdout } = options;
  // Every line out carries text from servers (failure reasons) and the profile (labels, names): its
  // control characters are escaped, so no server can drive the user's terminal. On a JSON line the
  // escapes are JSON's own: the event decodes to the same values.
  const print = (event: Record<string, unknown>): void => {
    if (options.json) stdout.write(`${escapeControl(JSON.stringify(event))}\n`);
  };
  const say = (line: string): void => {
    if (!options.json) stdout.write(`${escapeControl(line)}\n`);
  };
  const complain = (line: string): void => void options.stderr.write(`retrovisor run: ${escapeControl(line)}\n`);

  const backend = createBackend({
    shell: 'browser',
    headless: true,
    version: options.version,
    startupProfilePath: options.profilePath,
    ...(options.savedProfileId === undefined ? {} : { startupSavedProfileId: options.savedProfileId }),
    logger,
    ...(options.script === undefined ? {} : { startupScript: options.script }),
    ...(options.scriptOptions === undefined ? {} : { startupScriptOptions: options.scriptOptions }),
  });
  const startup = await backend.handlers.getStartup();
  const opened = startup.startupSession;
  if (!opened?.ok) {
    complain(`${options.profilePath} is not a usable profile:`);
    options.stderr.write(`${terminalProblems(opened?.problems ?? [])}\n`);
    await backend.close();
    return RUN_EXIT.badInput;
  }
  const session: SessionInfo = opened.session;

  const executablePath = findChromium();
  if (executablePath === null) {
    complain(`no Chromium or Chrome found; install one: ${CHROMIUM_INSTALL_HINT} (or set RETROVISOR_CHROMIUM)`);
    await backend.close();
    return RUN_EXIT.failure;
  }

  const everConnected = new Set<string>();
  const lastState = new Map<string, string>();
  const stopReports = backend.onReplicaReport((report: ReplicaStatusReport, reportSession: SessionInfo) => {
    if (reportSession.sessionId !== session.sessionId) return;
    if (report.state === 'connected') everConnected.add(report.replicaId);
    lastState.set(report.replicaId, report.state);
    print({
      type: 'replica',
      id: report.replicaId,
      state: report.state,
      ...(report.width === undefined ? {} : { width: report.width, height: report.height }),
      ...(report.reason === undefined ? {} : { reason: report.reason }),
    });
    const label = session.replicas.find((replica) => replica.id === report.replicaId)?.label ?? report.replicaId;
    const size = report.width === undefined ? '' : ` ${report.width}x${report.height}`;
    say(`${report.replicaId} (${label}): ${report.state}${size}${report.reason ? ` — ${report.reason}` : ''}`);
  });

  // With --json every broadcast input is printed as the back end journals it (before the script's result).
  const stopInput = backend.onInputRecorded((entries, sessionId) => {
    if (sessionId !== session.sessionId) return;
    for (const entry of entries) print({ type: 'input', ...journalLine(entry) });
  });
  let scriptResult: ScriptResult | null = null;
  const stopScript = backend.onScriptResult((result) => {
    if (result.sessionId !== session.sessionId || scriptResult !== null) return;
    scriptResult = result;
    print({
      type: 'script',
      ok: result.ok,
      stepsRun: result.stepsRun,
      steps: options.script?.length ?? 0,
      ...(result.without === undefined ? {} : { without: result.without }),
      ...(result.error === undefined ? {} : { error: result.error }),
    });
    const into = result.without === undefined ? 'every replica' : `every replica but ${result.without.join(', ')} (not connected)`;
    say(result.ok ? `script: ${result.stepsRun} steps played into ${into}` : `script failed: ${result.error ?? 'unknown reason'}`);
  });

  // With --json every confirmed divergence and every return to consensus is printed; the last one decides exit 3.
  let diverged = false;
  const stopDivergence = backend.onDivergenceReport((report, evidenceFolder, reportSession) => {
    if (reportSession.sessionId !== session.sessionId) return;
    diverged = report.kind === 'divergence';
    if (report.kind === 'consensus') {
      print({ type: 'consensus' });
      say('divergence: all replicas agree again');
      return;
    }
    print({
      type: 'divergence',
      ...(report.divergenceId === undefined ? {} : { id: report.divergenceId }),
      ...(report.change === undefined ? {} : { change: report.change }),
      kind: report.divergenceKind ?? 'pixels',
      outliers: report.outliers,
      noMajority: report.noMajority,
      regions: report.regions.map((region) => ({ x: region.x, y: region.y, w: region.width, h: region.height })),
      ...(report.inputSeq === undefined ? {} : { inputSeq: report.inputSeq }),
      ...(evidenceFolder === null ? {} : { evidence: evidenceFolder }),
    });
    const who = report.noMajority ? `no majority: ${report.outliers.join(', ')}` : `outliers: ${report.outliers.join(', ')}`;
    say(`divergence (${report.change ?? 'new'}): ${report.regions.length} region(s), ${who}${evidenceFolder === null ? '' : ` — evidence in ${evidenceFolder}`}`);
  });

  // With --json every checkpoint, remediation step and manager alert is printed (docs/remediation.md).
  const quarantined = new Set<string>();
  const stopManager = backend.onManagerEvent((event) => {
    if (event.sessionId !== session.sessionId) return;
    const { sessionId: _sessionId, ...printed } = event;
    print(printed);
    switch (event.type) {
      case 'checkpoint':
        say(`checkpoint ${event.name}: ${event.status}${event.detail === undefined ? '' : ` — ${event.detail}`}`);
        return;
      case 'remediation':
        if (event.action === 'quarantine') quarantined.add(event.replica);
        else if (event.status === 'succeeded') quarantined.delete(event.replica);
        say(`remediation of ${event.replica}: ${event.action} ${event.status} — ${event.detail}`);
        return;
      case 'alert':
        say(`manager (${event.severity}): ${event.message}`);
        return;
    }
  });

  const shell = await startBrowserShell({ backend, staticRoot: options.staticRoot, logger });
  const noSandbox = noSandboxReason();
  if (noSandbox !== null) options.stderr.write(`retrovisor run: ${noSandboxNotice(noSandbox)}\n`);
  let browser: Browser | null = null;
  let failure: string | null = null;
  try {
    // The renderer yields to the back end's input fan-out loop (main/process-priority.ts).
    browser = await launchYieldingToBackend(() =>
      chromium.launch({
        executablePath,
        headless: true,
        args: [...headlessChromiumFlags(noSandbox)],
        // The run handles SIGINT/SIGTERM itself (it prints its summary and exits with its status);
        // playwright's own handlers would kill the browser and exit 130 first.
        handleSIGINT: false,
        handleSIGTERM: false,
        handleSIGHUP: false,
      }),
    );
    const page = await browser.newPage();
    page.on('pageerror', (error) => logger.error('renderer error', { error: error.message }));
    page.on('crash', () => {
      failure = 'the renderer crashed';
    });
    print({ type: 'session', name: session.name, replicas: session.replicas.map((replica) => replica.id) });
    await page.goto(shell.url);
    let checkpointDone = false;
    if (options.checkpoint === true) {
      void takeCheckpointOnAgreement(backend, session.sessionId, () => failure !== null).then(
        () => {
          checkpointDone = true;
        },
        (error: unknown) => {
          failure ??= `no checkpoint was taken: ${error instanceof Error ? error.message : String(error)}`;
        },
      );
    }
    // With a script the run ends when the script does, with --checkpoint alone once it is taken (or
    // at --duration, whichever comes first).
    const endsWithCheckpoint = options.checkpoint === true && options.script === undefined && options.durationSeconds === undefined;
    await waitForStop(options.durationSeconds, () => failure !== null || scriptResult !== null || (endsWithCheckpoint && checkpointDone));
  } catch (error) {
    failure = error instanceof Error ? error.message : String(error);
    // A sandbox that cannot start is reported with what to do, never dropped behind the user's back.
    const advice = sandboxFailureAdvice(failure);
    if (advice !== null) failure = `${advice} (${failure})`;
  } finally {
    stopReports();
    stopInput();
    stopScript();
    stopDivergence();
    stopManager();
    await browser?.close().catch(() => undefined);
    await shell.close();
    await backend.close();
  }

  const missing = session.replicas.filter((replica) => !everConnected.has(replica.id)).map((replica) => replica.id);
  const finished = scriptResult as ScriptResult | null;
  if (options.script !== undefined && finished === null && failure === null) failure = 'the script did not finish before the run ended (raise --duration)';
  if (finished !== null && !finished.ok) failure ??= `the script failed: ${finished.error ?? 'unknown reason'}`;
  // A quarantined replica is out of the comparison: the others agreeing does not make it agree.
  const disagreeing = diverged || quarantined.size > 0;
  const status = failure !== null || missing.length > 0 ? RUN_EXIT.failure : disagreeing ? RUN_EXIT.diverged : RUN_EXIT.allConnected;
  print({
    type: 'summary',
    connected: [...everConnected].sort(),
    neverConnected: missing,
    diverged: disagreeing,
    ...(quarantined.size === 0 ? {} : { quarantined: [...quarantined].sort() }),
    exitStatus: status,
    ...(failure ? { error: failure } : {}),
  });
  if (failure) complain(failure);
  if (failure === null && missing.length === 0 && disagreeing) {
    complain(`the replicas still disagreed at the end${quarantined.size === 0 ? '' : ` (quarantined: ${[...quarantined].join(', ')})`} (exit 3)`);
  }
  if (missing.length > 0) {
    complain(`never connected: ${missing.map((id) => `${id} (${lastState.get(id) ?? 'no attempt'})`).join(', ')}`);
  }
  return status;
}

/** How long `run --checkpoint` waits for every replica to connect and agree. */
export const CHECKPOINT_AGREEMENT_WAIT_MS = 120_000;

/**
 * Asks the manager for a checkpoint until it takes one: it refuses while not every replica is
 * connected and agrees (they are still connecting), so the request is repeated on each refusal.
 */
async function takeCheckpointOnAgreement(backend: Backend, sessionId: string, stopped: () => boolean): Promise<void> {
  const deadline = Date.now() + CHECKPOINT_AGREEMENT_WAIT_MS;
  for (;;) {
    try {
      const checkpoint = await backend.handlers.takeCheckpoint({ sessionId });
      if (!checkpoint.complete) throw new Error(`checkpoint ${checkpoint.name} is incomplete (failed on ${checkpoint.failed.join(', ')})`);
      return;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (stopped() || Date.now() > deadline || !/not every replica agrees|is being remediated|is still being taken/.test(message)) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

/** A profile's problems for the terminal: one per line, each with its control characters escaped. */

/** Resolves after the duration, on SIGINT/SIGTERM, or when `shouldStop` turns true. */
function waitForStop(durationSeconds: number | undefined, shouldStop: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const finish = (): void => {
      clearTimeout(timer);
      clearInterval(poll);
      process.off('SIGINT', finish);
      process.off('SIGTERM', finish);
      resolve();
    };
    const timer = durationSeconds === undefined ? undefined : setTimeout(finish, durationSeconds * 1000);
    const poll = setInterval(() => {
      if (shouldStop()) finish();
    }, 200);
    process.once('SIGINT', finish);
    process.once('SIGTERM', finish);
  });
}
