// Scripted input for headless runs (`retrovisor run --script STEPS.json`): the step format, its
// validation (every problem with its JSON path) and the runner that plays steps through the same
// InputFanout as the user's own input. Pure: waiting and settling are passed in.

import type { InputFanout } from './input-fanout';
import { parseKeyChord } from './keysym-names';
import { textToKeyStrokes } from './text-keystrokes';

/** One scripted step. Coordinates are framebuffer pixels; buttons 1 left, 2 middle, 3 right. */
export type InputScriptStep =
  | { readonly type: 'text'; readonly text: string }
  | { readonly type: 'key'; readonly key: string }
  | { readonly type: 'move'; readonly x: number; readonly y: number }
  | { readonly type: 'click'; readonly x: number; readonly y: number; readonly button: 1 | 2 | 3 }
  | { readonly type: 'drag'; readonly from: readonly [number, number]; readonly to: readonly [number, number]; readonly button: 1 | 2 | 3 }
  | { readonly type: 'wheel'; readonly dx: number; readonly dy: number; readonly x?: number; readonly y?: number }
  | { readonly type: 'paste'; readonly text: string }
  | { readonly type: 'wait'; readonly ms: number }
  | { readonly type: 'settle'; readonly timeoutMs: number; readonly quietMs: number };

/** Most steps in one script. */
export const MAX_SCRIPT_STEPS = 10_000;
/** Longest text of one text or paste step. */
export const MAX_SCRIPT_TEXT_CHARS = 64 * 1024;
/** Longest wait or settle timeout, in milliseconds (ten minutes). */
export const MAX_SCRIPT_WAIT_MS = 600_000;
/** Default settle timeout and quiet window, in milliseconds. */
export const SETTLE_TIMEOUT_MS = 5000;
export const SETTLE_QUIET_MS = 300;
/** Pointer positions a drag passes through between its ends (xterm and others select on motion). */
export const DRAG_STEPS = 8;
const MAX_COORDINATE = 65535;
const MAX_WHEEL_STEPS = 100;

/** The outcome of validating a script document. */
export type ScriptParseResult = { readonly ok: true; readonly steps: InputScriptStep[] } | { readonly ok: false; readonly problems: string[] };

/** Validates a parsed JSON script (an array of steps, or {"steps": [...]}); every problem is listed. */
export function parseInputScript(document: unknown): ScriptParseResult {
  const list = Array.isArray(document)
    ? document
    : typeof document === 'object' && document !== null && Array.isArray((document as { steps?: unknown }).steps)
      ? ((document as { steps: unknown[] }).steps)
      : null;
  if (list === null) return { ok: false, problems: ['$: expected an array of steps (or {"steps": [...]})'] };
  if (list.length > MAX_SCRIPT_STEPS) return { ok: false, problems: [`$: ${list.length} steps; a script has at most ${MAX_SCRIPT_STEPS}`] };
  const problems: string[] = [];
  const steps: InputScriptStep[] = [];
  list.forEach((item, index) => {
    const path = `$[${index}]`;
    try {
      steps.push(parseStep(item, path));
    } catch (error) {
      problems.push(error instanceof Error ? error.message : String(error));
    }
  });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, steps };
}

function parseStep(item: unknown, path: string): InputScriptStep {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) throw new Error(`${path}: expected an object with a "type"`);
  const step = item as Record<string, unknown>;
  const integer = (key: string, min: number, max: number, fallback?: number): number => {
    const value = step[key] ?? fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw new Error(`${path}.${key}: expected an integer from ${min} to ${max}`);
    }
    return value;
  };
  const text = (key: string): string => {
    const value = step[key];
    if (typeof value !== 'string' || value.length > MAX_SCRIPT_TEXT_CHARS) {
      throw new Error(`${path}.${key}: expected a string of at most ${MAX_SCRIPT_TEXT_CHARS} characters`);
    }
    return value;
  };
  const button = (): 1 | 2 | 3 => integer('button', 1, 3, 1) as 1 | 2 | 3;
  const point = (key: string): [number, number] => {
    const value = step[key];
    if (!Array.isArray(value) || value.length !== 2 || !value.every((n) => typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= MAX_COORDINATE)) {
      throw new Error(`${path}.${key}: expected [x, y], two integers from 0 to ${MAX_COORDINATE}`);
    }
    return [value[0] as number, value[1] as number];
  };
  switch (step.type) {
    case 'text':
      return { type: 'text', text: text('text') };
    case 'key': {
      const key = text('key');
      try {
        parseKeyChord(key);
      } catch (error) {
        throw new Error(`${path}.key: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      }
      return { type: 'key', key };
    }
    case 'move':
      return { type: 'move', x: integer('x', 0, MAX_COORDINATE), y: integer('y', 0, MAX_COORDINATE) };
    case 'click':
      return { type: 'click', x: integer('x', 0, MAX_COORDINATE), y: integer('y', 0, MAX_COORDINATE), button: button() };
    case 'drag':
      return { type: 'drag', from: point('from'), to: point('to'), button: button() };
    case 'wheel': {
      const dx = integer('dx', -MAX_WHEEL_STEPS, MAX_WHEEL_STEPS, 0);
      const dy = integer('dy', -MAX_WHEEL_STEPS, MAX_WHEEL_STEPS, 0);
      if (dx === 0 && dy === 0) throw new Error(`${path}: a wheel step needs dy or dx (whole steps; positive dy scrolls down)`);
      const at = step.x === undefined && step.y === undefined ? {} : { x: integer('x', 0, MAX_COORDINATE), y: integer('y', 0, MAX_COORDINATE) };
      return { type: 'wheel', dx, dy, ...at };
    }
    case 'paste':
      return { type: 'paste', text: text('text') };
    case 'wait':
      return { type: 'wait', ms: integer('ms', 0, MAX_SCRIPT_WAIT_MS) };
    case 'settle':
      return {
        type: 'settle',
        timeoutMs: integer('timeoutMs', 1, MAX_SCRIPT_WAIT_MS, SETTLE_TIMEOUT_MS),
        quietMs: integer('quietMs', 1, MAX_SCRIPT_WAIT_MS, SETTLE_QUIET_MS),
      };
    default:
      throw new Error(`${path}.type: expected one of text, key, move, click, drag, wheel, paste, wait, settle`);
  }
}

/** What running a script needs besides the fan-out. */
export interface ScriptEffects {
  /** Resolves after `ms` milliseconds. */
  wait(ms: number): Promise<void>;
  /** Resolves when every target replica has had no screen update for `quietMs`; rejects after `timeoutMs`. */
  settle(timeoutMs: number, quietMs: number): Promise<void>;
  /** Called before each step (progress, cancellation: throw to stop). */
  beforeStep?(index: number, step: InputScriptStep): void;
}

/** Presses a chord's keys in order and releases them in reverse. */
export function sendChord(fanout: InputFanout, chord: string, origin: 'user' | 'script'): void {
  const keys = parseKeyChord(chord);
  for (const key of keys) fanout.key(key.keysym, key.code, true, origin);
  for (const key of [...keys].reverse()) fanout.key(key.keysym, key.code, false, origin);
}

/** Types text through the fan-out as key strokes (Shift as a real key). */
export function typeText(fanout: InputFanout, text: string, origin: 'user' | 'script'): void {
  for (const stroke of textToKeyStrokes(text)) fanout.key(stroke.keysym, stroke.code, stroke.down, origin);
}

/** Plays the steps in order through `fanout`; resolves with the number of steps run, rejects on the first failing step. */
export async function runInputScript(steps: readonly InputScriptStep[], fanout: InputFanout, effects: ScriptEffects): Promise<number> {
  let pointer: [number, number] = [0, 0];
  for (const [index, step] of steps.entries()) {
    effects.beforeStep?.(index, step);
    switch (step.type) {
      case 'text':
        typeText(fanout, step.text, 'script');
        break;
      case 'key':
        sendChord(fanout, step.key, 'script');
        break;
      case 'move':
        pointer = [step.x, step.y];
        fanout.pointerState(step.x, step.y, 0, 'script');
        break;
      case 'click': {
        pointer = [step.x, step.y];
        fanout.pointerState(step.x, step.y, 0, 'script');
        fanout.pointerButton(step.x, step.y, step.button, true, 'script');
        fanout.pointerButton(step.x, step.y, step.button, false, 'script');
        break;
      }
      case 'drag': {
        const [fromX, fromY] = step.from;
        const [toX, toY] = step.to;
        const bit = 1 << (step.button - 1);
        fanout.pointerState(fromX, fromY, 0, 'script');
        fanout.pointerState(fromX, fromY, bit, 'script');
        for (let index = 1; index <= DRAG_STEPS; index++) {
          const x = Math.round(fromX + ((toX - fromX) * index) / DRAG_STEPS);
          const y = Math.round(fromY + ((toY - fromY) * index) / DRAG_STEPS);
          fanout.pointerState(x, y, bit, 'script');
        }
        fanout.pointerState(toX, toY, 0, 'script');
        pointer = [toX, toY];
        break;
      }
      case 'wheel': {
        if (step.x !== undefined && step.y !== undefined) pointer = [step.x, step.y];
        fanout.wheel(pointer[0], pointer[1], step.dx, step.dy, 'script');
        break;
      }
      case 'paste':
        fanout.clipboard(step.text, 'script');
        break;
      case 'wait':
        await effects.wait(step.ms);
        break;
      case 'settle':
        await effects.settle(step.timeoutMs, step.quietMs);
        break;
    }
  }
  return steps.length;
}
