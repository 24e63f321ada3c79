// Fault injection for demo replicas: the fault kinds, the CLI form parser ("r2:lag=0-300") and
// the per-replica runtime state that delays or holds updates and drops key presses. Pure
// (randomness is passed in).

import { type UpdateGate } from './rfb-connection';

/** One fault, applied to one replica at run time. */
export type Fault =
  /** Hold every outgoing update for a delay drawn uniformly from [minMs, maxMs]. */
  | { readonly kind: 'lag'; readonly minMs: number; readonly maxMs: number }
  /** Lose every `every`-th key press (its release is lost too). */
  | { readonly kind: 'drop-key'; readonly every: number }
  /** Type `text` into the guest as if keyed (once). */
  | { readonly kind: 'inject'; readonly text: string }
  /** Paint a red banner with `text` over the guest screen (once; stays until reset or revert). */
  | { readonly kind: 'banner'; readonly text: string }
  /** Send no updates until the fault is cleared. */
  | { readonly kind: 'freeze' }
  /** Kill the replica: connections cut, port refused until L0 reset or start. */
  | { readonly kind: 'crash' };

/** The name of a fault, as written in the CLI form. */
export type FaultKind = Fault['kind'];

/** A fault aimed at a replica, as the CLI names it. */
export interface ReplicaFault {
  readonly replicaId: string;
  readonly fault: Fault;
}

/** Every fault kind, in the order help texts list them. */
export const FAULT_KINDS: readonly FaultKind[] = ['lag', 'drop-key', 'inject', 'banner', 'freeze', 'crash'];
/** Longest lag accepted, in milliseconds. */
export const MAX_LAG_MS = 60_000;
/** Longest injected or banner text accepted, in characters. */
export const MAX_FAULT_TEXT_CHARS = 1000;

const FAULT_SPEC_EXAMPLES = 'r2:lag=200, r2:lag=0-300, r2:drop-key=5, r2:inject=text, r2:banner=HACKED, r2:freeze, r2:crash';

/** A fault specification that cannot be understood; the message says what is wrong and what would work. */
export class FaultSpecError extends Error {
  override readonly name = 'FaultSpecError';
}

function parseMilliseconds(text: string, spec: string): number {
  if (!/^\d{1,6}$/.test(text)) throw new FaultSpecError(`"${spec}": lag takes milliseconds (N or A-B), e.g. r2:lag=200 or r2:lag=0-300`);
  const value = Number(text);
  if (value > MAX_LAG_MS) throw new FaultSpecError(`"${spec}": lag ${value} ms is over the ${MAX_LAG_MS} ms limit`);
  return value;
}

function parseFaultValue(kind: FaultKind, value: string | undefined, spec: string): Fault {
  const needsValue = kind === 'lag' || kind === 'drop-key' || kind === 'inject' || kind === 'banner';
  if (needsValue && (value === undefined || value === '')) {
    throw new FaultSpecError(`"${spec}": ${kind} needs a value, e.g. r2:${kind}=${kind === 'lag' ? '200' : kind === 'drop-key' ? '5' : 'text'}`);
  }
  if (!needsValue && value !== undefined) throw new FaultSpecError(`"${spec}": ${kind} takes no value (write r2:${kind})`);
  switch (kind) {
    case 'lag': {
      const [low = '', high, ...rest] = (value ?? '').split('-');
      if (rest.length > 0) throw new FaultSpecError(`"${spec}": lag takes N or A-B milliseconds`);
      const minMs = parseMilliseconds(low, spec);
      const maxMs = high === undefined ? minMs : parseMilliseconds(high, spec);
      if (maxMs < minMs) throw new FaultSpecError(`"${spec}": lag range ${minMs}-${maxMs} is backwards (write ${maxMs}-${minMs})`);
      return { kind, minMs, maxMs };
    }
    case 'drop-key': {
      const text = value ?? '';
      if (!/^\d{1,9}$/.test(text) || Number(text) < 1) {
        throw new FaultSpecError(`"${spec}": drop-key takes a whole number k >= 1 (drop every k-th key press), e.g. r2:drop-key=5`);
      }
      return { kind, every: Number(text) };
    }
    case 'inject':
    case 'banner': {
      const text = unescapeText(value ?? '');
      if (text.length > MAX_FAULT_TEXT_CHARS) throw new FaultSpecError(`"${spec.slice(0, 40)}…": ${kind} text is over ${MAX_FAULT_TEXT_CHARS} characters`);
      return { kind, text };
    }
    case 'freeze':
      return { kind };
    case 'crash':
      return { kind };
  }
}

// "\n", "\t" and "\\" in injected text, so a fault can press Return.
function unescapeText(text: string): string {
  return text.replace(/\\([nt\\])/g, (_, code: string) => (code === 'n' ? '\n' : code === 't' ? '\t' : '\\'));
}

/** Parses the CLI form "REPLICA:KIND[=VALUE]" (e.g. "r2:lag=0-300"); throws FaultSpecError with a clear message. */
export function parseFaultSpec(spec: string): ReplicaFault {
  const colon = spec.indexOf(':');
  if (colon < 0) throw new FaultSpecError(`"${spec}": expected REPLICA:FAULT, e.g. ${FAULT_SPEC_EXAMPLES}`);
  const replicaId = spec.slice(0, colon);
  if (!/^r[1-9]\d{0,2}$/.test(replicaId)) throw new FaultSpecError(`"${spec}": "${replicaId}" is not a replica id (r1, r2, ...)`);
  const rest = spec.slice(colon + 1);
  const equals = rest.indexOf('=');
  const kindText = equals < 0 ? rest : rest.slice(0, equals);
  const value = equals < 0 ? undefined : rest.slice(equals + 1);
  const kind = FAULT_KINDS.find((candidate) => candidate === kindText);
  if (kind === undefined) {
    throw new FaultSpecError(`"${spec}": unknown fault "${kindText}"; expected one of ${FAULT_KINDS.join(', ')} (${FAULT_SPEC_EXAMPLES})`);
  }
  return { replicaId, fault: parseFaultValue(kind, value, spec) };
}

/** The CLI form of a fault (the inverse of parseFaultSpec). */
export function formatFaultSpec({ replicaId, fault }: ReplicaFault): string {
  switch (fault.kind) {
    case 'lag':
      return `${replicaId}:lag=${fault.minMs === fault.maxMs ? fault.minMs : `${fault.minMs}-${fault.maxMs}`}`;
    case 'drop-key':
      return `${replicaId}:drop-key=${fault.every}`;
    case 'inject':
    case 'banner':
      return `${replicaId}:${fault.kind}=${fault.text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\t/g, '\\t')}`;
    case 'freeze':
    case 'crash':
      return `${replicaId}:${fault.kind}`;
  }
}

/**
 * The lasting faults of one replica (lag, drop-key, freeze): the RFB server asks it when to send,
 * and key events pass through `admitKey`. One-off faults (inject, banner, crash) act elsewhere.
 */
export class FaultState implements UpdateGate {
  private lag: { readonly minMs: number; readonly maxMs: number } | null = null;
  private dropEvery = 0;
  private frozen = false;
  private keyPresses = 0;
  private readonly droppedKeys = new Set<number>();

  /** `random` returns a number in [0, 1) (Math.random by default; a seeded one in tests). */
  constructor(private readonly random: () => number = Math.random) {}

  /** Applies a lasting fault; false for one-off kinds (which this state does not handle). */
  apply(fault: Fault): boolean {
    switch (fault.kind) {
      case 'lag':
        this.lag = fault.maxMs <= 0 ? null : { minMs: fault.minMs, maxMs: fault.maxMs };
        return true;
      case 'drop-key':
        this.dropEvery = fault.every;
        this.keyPresses = 0;
        return true;
      case 'freeze':
        this.frozen = true;
        return true;
      default:
        return false;
    }
  }

  /** Removes every lasting fault. */
  clear(): void {
    this.lag = null;
    this.dropEvery = 0;
    this.frozen = false;
    this.keyPresses = 0;
    this.droppedKeys.clear();
  }

  /** The lasting faults now in force, for status displays. */
  active(): Fault[] {
    const faults: Fault[] = [];
    if (this.lag) faults.push({ kind: 'lag', ...this.lag });
    if (this.dropEvery > 0) faults.push({ kind: 'drop-key', every: this.dropEvery });
    if (this.frozen) faults.push({ kind: 'freeze' });
    return faults;
  }

  isFrozen(): boolean {
    return this.frozen;
  }

  nextDelayMs(): number {
    if (this.lag === null) return 0;
    const { minMs, maxMs } = this.lag;
    return minMs + Math.floor(this.random() * (maxMs - minMs + 1));
  }

  /** True when this key event reaches the guest; every k-th press (and its release) does not. */
  admitKey(keysym: number, down: boolean): boolean {
    if (!down) return !this.droppedKeys.delete(keysym);
    if (this.dropEvery <= 0) return true;
    this.keyPresses++;
    if (this.keyPresses % this.dropEvery !== 0) return true;
    this.droppedKeys.add(keysym);
    return false;
  }
}
