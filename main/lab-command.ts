// `retrovisor lab`: starts the built-in demo lab on its own, prints each replica's endpoint, writes
// the matching profile and runs until SIGINT/SIGTERM, taking fault and L0 commands on stdin. Runs in Node.

import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { DEMO_L0_ACTIONS, type DemoL0Action } from '../common/contract';
import { DEFAULT_DEMO_REPLICAS, MAX_DEMO_REPLICAS, demoLabProfile, startDemoLab, type DemoLab } from './demo/demo-lab';
import { FAULT_KINDS, FaultSpecError, formatFaultSpec, parseFaultSpec, type ReplicaFault } from './demo/faults';
import { type Size } from './demo/framebuffer';
import { DEFAULT_GUEST_SIZE, MAX_GUEST_SIZE, MIN_GUEST_SIZE } from './demo/guest-desktop';
import { VNC_PASSWORD_MAX_CHARS } from './demo/vnc-auth';
import { DemoLabControl } from './demo-service';
import { escapeControlKeepingLines } from '../common/terminal-text';
import { errorMessage } from './logger';
import { resolveSecret } from './secrets';

/** Where `retrovisor lab` writes its profile when --profile-out is not given (relative to the working directory). */
export const DEFAULT_LAB_PROFILE_FILE = 'demo-lab.profile.json';

/** Exit statuses of `retrovisor lab`. */
export const LAB_EXIT = { stopped: 0, failure: 1, badInput: 2 } as const;

/** The environment variable `retrovisor lab` reads its VNC password from (unlike argv, other users cannot read it). */
export const LAB_PASSWORD_VARIABLE = 'RETROVISOR_LAB_PASSWORD';

/** Printed when the password comes from argv, which every local user can read (ps, /proc). */
export const LAB_PASSWORD_ARGV_WARNING = `warning: --password is visible to every user of this machine (ps); use --password-file FILE or ${LAB_PASSWORD_VARIABLE}`;

/** Usage of `retrovisor lab`, printed with --help and after a bad flag. */
export const LAB_USAGE = `Usage: retrovisor lab [--replicas N] [--size WxH] [--fault rN:KIND[=VALUE]]... [--port-base P] [--password-file FILE] [--profile-out FILE]

  --replicas N        1 to ${MAX_DEMO_REPLICAS} replicas (default ${DEFAULT_DEMO_REPLICAS})
  --size WxH          guest screen size (default ${DEFAULT_GUEST_SIZE.width}x${DEFAULT_GUEST_SIZE.height}; ${MIN_GUEST_SIZE.width}x${MIN_GUEST_SIZE.height} to ${MAX_GUEST_SIZE.width}x${MAX_GUEST_SIZE.height})
  --fault SPEC        a fault in force from the start, repeatable: r2:lag=200, r2:lag=0-300, r2:drop-key=5,
                      r2:inject=text, r2:banner=HACKED, r2:freeze, r2:crash
  --port-base P       r1 listens on port P, r2 on P+1, ... (default: free ports)
  --password-file FILE  VNC password of every replica: the file's first line (default: $${LAB_PASSWORD_VARIABLE},
                      else none; VNC uses its first ${VNC_PASSWORD_MAX_CHARS} characters)
  --password PW       the same, but visible to every user of this machine (ps): prefer the two above
  --profile-out FILE  where to write the matching profile (default ./${DEFAULT_LAB_PROFILE_FILE})

While it runs, type one command per line on its standard input:
  r2:banner=HACKED (any fault above)   r2:clear (lag, drop-key, freeze)
  r2:start  r2:reset  r2:destroy  r2:snapshot-create  r2:snapshot-revert (simulated L0)   status   help
It stops on Ctrl+C (SIGINT) or SIGTERM.`;

/** A bad `retrovisor lab` argument; the message says which and what would work. */
export class LabUsageError extends Error {
  override readonly name = 'LabUsageError';
}

/** The parsed arguments of `retrovisor lab`. */
export interface LabArguments {
  readonly replicas: number;
  readonly size: Size;
  readonly faults: readonly ReplicaFault[];
  /** 0 = free ports. */
  readonly portBase: number;
  /** From --password, else $RETROVISOR_LAB_PASSWORD (unless --password-file is given). */
  readonly password: string | undefined;
  /** Absolute path of --password-file, whose first line is the password (read when the lab starts). */
  readonly passwordFile?: string;
  /** Absolute path of the profile to write. */
  readonly profileOut: string;
}

function integerFlag(value: string | undefined, name: string, low: number, high: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d{1,6}$/.test(value) || Number(value) < low || Number(value) > high) {
    throw new LabUsageError(`--${name} must be a whole number from ${low} to ${high}, not "${value}"`);
  }
  return Number(value);
}

function sizeFlag(value: string | undefined): Size {
  if (value === undefined) return DEFAULT_GUEST_SIZE;
  const match = /^(\d{1,5})x(\d{1,5})$/.exec(value);
  const width = Number(match?.[1]);
  const height = Number(match?.[2]);
  const fits =
    match !== null && width >= MIN_GUEST_SIZE.width && height >= MIN_GUEST_SIZE.height && width <= MAX_GUEST_SIZE.width && height <= MAX_GUEST_SIZE.height;
  if (!fits) {
    throw new LabUsageError(
      `--size must be WIDTHxHEIGHT from ${MIN_GUEST_SIZE.width}x${MIN_GUEST_SIZE.height} to ${MAX_GUEST_SIZE.width}x${MAX_GUEST_SIZE.height} (e.g. 1024x768), not "${value}"`,
    );
  }
  return { width, height };
}

/**
 * Parses `retrovisor lab`'s flags (after "lab"); 'help' for --help. The password comes from --password,
 * --password-file (at most one of them) or else `env`'s RETROVISOR_LAB_PASSWORD. Throws LabUsageError.
 */
export function parseLabArguments(argv: readonly string[], workingDirectory: string, env: NodeJS.ProcessEnv = process.env): LabArguments | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: false,
      strict: true,
      options: {
        replicas: { type: 'string' },
        size: { type: 'string' },
        fault: { type: 'string', multiple: true },
        'port-base': { type: 'string' },
        password: { type: 'string' },
        'password-file': { type: 'string' },
        'profile-out': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    throw new LabUsageError(errorMessage(error));
  }
  const { values } = parsed;
  if (values.help) return 'help';
  const replicas = integerFlag(values.replicas, 'replicas', 1, MAX_DEMO_REPLICAS, DEFAULT_DEMO_REPLICAS);
  const portBase = integerFlag(values['port-base'], 'port-base', 1, 65535 - replicas + 1, 0);
  const faults = (values.fault ?? []).map((spec) => {
    let fault: ReplicaFault;
    try {
      fault = parseFaultSpec(spec);
    } catch (error) {
      throw new LabUsageError(`--fault ${errorMessage(error)}`);
    }
    const index = Number(fault.replicaId.slice(1));
    if (index > replicas) throw new LabUsageError(`--fault "${spec}": the lab has r1 to r${replicas} (raise --replicas)`);
    return fault;
  });
  if (values.password === '') throw new LabUsageError('--password must not be empty (leave it out for no password)');
  if (values['password-file'] === '') throw new LabUsageError('--password-file needs a file name');
  if (values.password !== undefined && values['password-file'] !== undefined) throw new LabUsageError('--password and --password-file both give the password: choose one');
  const fromEnvironment = env[LAB_PASSWORD_VARIABLE];
  if (fromEnvironment === '') throw new LabUsageError(`${LAB_PASSWORD_VARIABLE} is set but empty (unset it for no password)`);
  const passwordFile = values['password-file'] === undefined ? undefined : resolve(workingDirectory, values['password-file']);
  if (values['profile-out'] === '') throw new LabUsageError('--profile-out needs a file name');
  return {
    replicas,
    size: sizeFlag(values.size),
    faults,
    portBase,
    password: passwordFile === undefined ? (values.password ?? fromEnvironment) : undefined,
    ...(passwordFile === undefined ? {} : { passwordFile }),
    profileOut: resolve(workingDirectory, values['profile-out'] ?? DEFAULT_LAB_PROFILE_FILE),
  };
}

/** One line typed on the lab's standard input, understood. */
export type LabConsoleCommand =
  | { readonly kind: 'fault'; readonly replicaId: string; readonly fault: string }
  | { readonly kind: 'clear'; readonly replicaId: string }
  | { readonly kind: 'l0'; readonly replicaId: string; readonly action: DemoL0Action }
  | { readonly kind: 'status' }
  | { readonly kind: 'help' }
  | { readonly kind: 'nothing' };

/** Parses a console line ("r2:banner=HACKED", "r2:clear", "r2:start", "status"); throws LabUsageError. */
export function parseLabConsoleCommand(line: string): LabConsoleCommand {
  const text = line.trim();
  if (text === '') return { kind: 'nothing' };
  if (text === 'status') return { kind: 'status' };
  if (text === 'help' || text === '?') return { kind: 'help' };
  const match = /^(r[1-9]\d{0,2}):(.*)$/.exec(text);
  if (match?.[1] === undefined || match[2] === undefined) {
    throw new LabUsageError(`"${text.slice(0, 60)}": expected rN:FAULT, rN:clear, rN:ACTION (${DEMO_L0_ACTIONS.join(', ')}), status or help`);
  }
  const [, replicaId, rest] = match;
  if (rest === 'clear') return { kind: 'clear', replicaId };
  const action = DEMO_L0_ACTIONS.find((candidate) => candidate === rest);
  if (action !== undefined) return { kind: 'l0', replicaId, action };
  // Checked here so a typo is reported at once, with the list of faults.
  try {
    parseFaultSpec(text);
  } catch (error) {
    if (error instanceof FaultSpecError) {
      throw new LabUsageError(`${error.message}; or rN:clear, or an L0 action: ${DEMO_L0_ACTIONS.join(', ')}`);
    }
    throw error;
  }
  return { kind: 'fault', replicaId, fault: rest };
}

/** Where `retrovisor lab` reads and writes (the process's streams; tests pass their own). */
export interface LabCommandIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  /** Commands, one per line; null = none. */
  readonly stdin: NodeJS.ReadableStream | null;
  readonly workingDirectory: string;
  /** Stops the lab when aborted (in addition to SIGINT/SIGTERM). */
  readonly signal?: AbortSignal;
  /** Where RETROVISOR_LAB_PASSWORD is read; default process.env. */
  readonly env?: NodeJS.ProcessEnv;
}

function describeReplicas(lab: DemoLab, statuses: Awaited<ReturnType<DemoLabControl['replicaStatuses']>>): string {
  const labelWidth = Math.max(...lab.replicas.map((replica) => replica.label.length));
  return statuses
    .map((status) => {
      const extras = [
        status.domainState === 'running' ? '' : status.domainState,
        status.faults.length > 0 ? `faults: ${status.faults.join(' ')}` : '',
        status.snapshots.length > 0 ? `snapshots: ${status.snapshots.join(' ')}` : '',
      ].filter((part) => part !== '');
      return `  ${status.id.padEnd(4)}${status.label.padEnd(labelWidth + 2)}${status.endpoint}${extras.length > 0 ? `   ${extras.join(', ')}` : ''}`;
    })
    .join('\n');
}

/** Runs `retrovisor lab` (argv after "lab"); resolves with the exit status once stopped. */
export async function runLabCommand(argv: readonly string[], io: LabCommandIo): Promise<number> {
  const say = (line: string): void => void io.stdout.write(`${line}\n`);
  // What is complained about may quote a typed line, a file's words or a server's: escaped for the terminal.
  const complain = (line: string): void => void io.stderr.write(`retrovisor lab: ${escapeControlKeepingLines(line)}\n`);

  let args: LabArguments | 'help';
  try {
    args = parseLabArguments(argv, io.workingDirectory, io.env ?? process.env);
  } catch (error) {
    complain(errorMessage(error));
    io.stderr.write(`\n${LAB_USAGE}\n`);
    return LAB_EXIT.badInput;
  }
  if (args === 'help') {
    say(LAB_USAGE);
    return LAB_EXIT.stopped;
  }
  if (argv.some((argument) => argument === '--password' || argument.startsWith('--password='))) complain(LAB_PASSWORD_ARGV_WARNING);
  let password = args.password;
  if (args.passwordFile !== undefined) {
    try {
      // As a profile's {"file": ...} secret: the first line, registered with the log redactor.
      password = await resolveSecret({ kind: 'file', path: args.passwordFile }, io.workingDirectory);
    } catch (error) {
      complain(`--password-file: ${errorMessage(error)}`);
      return LAB_EXIT.badInput;
    }
  }

  let lab: DemoLab;
  try {
    lab = await startDemoLab({
      replicas: args.replicas,
      size: args.size,
      portBase: args.portBase,
      faults: args.faults,
      ...(password === undefined ? {} : { password }),
      log: (message) => complain(message),
    });
  } catch (error) {
    const reason = errorMessage(error);
    const hint = /EADDRINUSE/.test(reason) ? ': a port is taken; choose another --port-base or leave it out for free ports' : '';
    complain(`the lab could not start: ${reason}${hint}`);
    return LAB_EXIT.failure;
  }
  const control = new DemoLabControl(lab);

  try {
    await mkdir(dirname(args.profileOut), { recursive: true });
    // 0600: the profile may carry the lab's VNC password inline.
    await writeFile(args.profileOut, `${JSON.stringify(demoLabProfile(lab), null, 2)}\n`, { mode: 0o600 });
  } catch (error) {
    await lab.stop();
    complain(`cannot write the profile to ${args.profileOut}: ${errorMessage(error)} (choose another --profile-out)`);
    return LAB_EXIT.failure;
  }

  const passwordNote =
    password === undefined ? 'no password' : `password set${password.length > VNC_PASSWORD_MAX_CHARS ? ` (VNC uses its first ${VNC_PASSWORD_MAX_CHARS} characters)` : ''}`;
  say(`RetroVisor demo lab: ${lab.replicas.length} replica${lab.replicas.length === 1 ? '' : 's'} of a ${args.size.width}x${args.size.height} guest, ${passwordNote}`);
  say(describeReplicas(lab, await control.replicaStatuses()));
  if (args.faults.length > 0) say(`Faults from the start: ${args.faults.map((fault) => formatFaultSpec(fault)).join(' ')}`);
  say(`Profile: ${args.profileOut}`);
  say(`Open it: npx retrovisor start --profile ${args.profileOut}`);
  say(`Commands on stdin: r2:banner=HACKED (faults: ${FAULT_KINDS.join(', ')}), r2:clear, r2:start|reset|destroy|snapshot-create|snapshot-revert, status, help`);
  say('Ctrl+C stops the lab.');

  // Commands run one after another, in the order typed.
  let queue = Promise.resolve();
  const commands = io.stdin === null ? null : createInterface({ input: io.stdin, terminal: false });
  commands?.on('line', (line) => {
    queue = queue.then(async () => {
      try {
        const command = parseLabConsoleCommand(line);
        switch (command.kind) {
          case 'nothing':
            return;
          case 'help':
            say(LAB_USAGE);
            return;
          case 'status':
            say(describeReplicas(lab, await control.replicaStatuses()));
            return;
          case 'clear':
            control.clearFaults(command.replicaId);
            say(`${command.replicaId}: lasting faults cleared`);
            return;
          case 'l0':
            await control.l0Action(command.replicaId, command.action);
            say(`${command.replicaId}: ${command.action} done`);
            return;
          case 'fault':
            await control.setFault(command.replicaId, command.fault);
            say(`${command.replicaId}: ${command.fault.split('=')[0] ?? command.fault} applied`);
            return;
        }
      } catch (error) {
        complain(errorMessage(error));
      }
    });
  });

  await new Promise<void>((resolveStop) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      io.signal?.removeEventListener('abort', stop);
      resolveStop();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    if (io.signal?.aborted) stop();
    else io.signal?.addEventListener('abort', stop);
  });
  commands?.close();
  await queue;
  await lab.stop();
  say('Demo lab stopped.');
  return LAB_EXIT.stopped;
}
