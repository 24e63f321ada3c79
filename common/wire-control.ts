// The control messages of replica streams and of the input channel, by direction, and ONE strict
// parser per direction that every side uses (back end, Electron main, preload, browser shell). Pure:
// it takes parsed JSON (or a posted object) or a text frame, and never trusts what it is given.

/** Longest close reason either side sends or accepts (the back end clips its own before sending). */
export const MAX_CONTROL_REASON_CHARS = 1024;
/**
 * Longest control text frame accepted, checked before JSON.parse: room for the longest close reason
 * even if every character of it is written as a six-character `\uXXXX` escape.
 */
export const MAX_CONTROL_FRAME_CHARS = 8192;
/** Why the back end ends a stream whose UI sent a control message it may not send (also a WebSocket close reason: short). */
export const REFUSED_STREAM_CONTROL_REASON = 'the back end refused a malformed stream control message';
/** Why the back end ends the input channel when its UI sent a text message that is not a sync. */
export const REFUSED_INPUT_CONTROL_REASON = 'the back end refused a malformed input channel control message';
/** Why the UI ends a stream whose back end sent a control message the UI's parser refused. */
export const MALFORMED_STREAM_CONTROL_REASON = 'the back end sent a malformed stream control message';
/** Why the UI ends its input channel when the back end sent a control message the UI's parser refused. */
export const MALFORMED_INPUT_CONTROL_REASON = 'the back end sent a malformed input channel control message';
/** Largest acknowledgement, token or other count a control message may carry (2^53 − 1). */
export const MAX_CONTROL_INTEGER = Number.MAX_SAFE_INTEGER;

/** What the UI sends on a stream: bytes consumed (flow control), or that it is done with the stream. */
export type StreamControlFromUi = { readonly type: 'ack'; readonly bytes: number } | { readonly type: 'close'; readonly reason: string };
/** What the back end sends on a stream: the VNC server is reached, or the stream ended and why. */
export type StreamControlFromBackend = { readonly type: 'open' } | { readonly type: 'close'; readonly reason: string };
/** Every stream control message (text frames in the browser shell, plain objects on a MessagePort). */
export type StreamControl = StreamControlFromUi | StreamControlFromBackend;

/** What the UI sends on the input channel: "answer once every earlier frame is written". */
export type InputChannelControlFromUi = { readonly type: 'sync'; readonly token: number };
/**
 * What the back end sends on the input channel: the answer to a sync, or (on a MessagePort, which has
 * no close reason of its own) why it closes the channel.
 */
export type InputChannelControlFromBackend = { readonly type: 'synced'; readonly token: number } | { readonly type: 'close'; readonly reason: string };
/** Every input channel control message. */
export type InputChannelControl = InputChannelControlFromUi | InputChannelControlFromBackend;

/** A parsed control message, or the problem with it in words (for a log line, never for the peer's eyes only). */
export type ControlParse<T> = { readonly ok: true; readonly message: T } | { readonly ok: false; readonly problem: string };

/** A parser of one direction's control messages. */
export type ControlParser<T> = (input: unknown) => ControlParse<T>;

function refused(problem: string): { readonly ok: false; readonly problem: string } {
  return { ok: false, problem };
}

/**
 * The fields of a plain object whose own enumerable keys are exactly `type` plus `fields`, or a
 * problem. Arrays, class instances, objects with extra, missing or inherited fields are refused.
 */
function exactFields(input: unknown, fields: readonly string[]): Record<string, unknown> | string {
  if (typeof input !== 'object' || input === null) return `not an object (${input === null ? 'null' : typeof input})`;
  if (Array.isArray(input)) return 'an array, not an object';
  // Structured clone and JSON.parse give plain objects; anything else (a Map, a Date) is not a message.
  if (Object.prototype.toString.call(input) !== '[object Object]') return 'not a plain object';
  const keys = Object.keys(input);
  if (Object.getOwnPropertySymbols(input).length > 0) return 'has symbol keys';
  for (const key of keys) {
    if (key !== 'type' && !fields.includes(key)) return `unexpected field ${JSON.stringify(key.slice(0, 40))}`;
  }
  for (const field of fields) {
    if (!Object.prototype.hasOwnProperty.call(input, field)) return `missing field "${field}"`;
  }
  return input as Record<string, unknown>;
}

/** The message's `type` if it is one of `types` (own property, a string), else a problem. */
function typeOf(input: unknown, types: readonly string[]): string | { readonly problem: string } {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return { problem: `not an object (${Array.isArray(input) ? 'an array' : input === null ? 'null' : typeof input})` };
  if (!Object.prototype.hasOwnProperty.call(input, 'type')) return { problem: 'no "type"' };
  const type = (input as { type?: unknown }).type;
  if (typeof type !== 'string') return { problem: '"type" is not a string' };
  if (!types.includes(type)) return { problem: `unexpected type ${JSON.stringify(type.slice(0, 40))}; expected ${types.map((name) => `"${name}"`).join(' or ')}` };
  return type;
}

function readCount(message: Record<string, unknown>, field: string): number | string {
  const value = message[field];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > MAX_CONTROL_INTEGER) {
    return `"${field}" must be a whole number from 0 to ${MAX_CONTROL_INTEGER}`;
  }
  return value;
}

function readReason(message: Record<string, unknown>): string | { readonly problem: string } {
  const value = message.reason;
  if (typeof value !== 'string') return { problem: '"reason" must be a string' };
  if (value.length > MAX_CONTROL_REASON_CHARS) return { problem: `"reason" is longer than ${MAX_CONTROL_REASON_CHARS} characters` };
  return value;
}

function parseClose(input: unknown): ControlParse<{ readonly type: 'close'; readonly reason: string }> {
  const message = exactFields(input, ['reason']);
  if (typeof message === 'string') return refused(`"close": ${message}`);
  const reason = readReason(message);
  return typeof reason === 'string' ? { ok: true, message: { type: 'close', reason } } : refused(`"close": ${reason.problem}`);
}

/** The one whole-number field of an `ack`, `sync` or `synced`, or the problem with the message. */
function parseCount(input: unknown, type: string, field: 'bytes' | 'token'): ControlParse<number> {
  const message = exactFields(input, [field]);
  if (typeof message === 'string') return refused(`"${type}": ${message}`);
  const count = readCount(message, field);
  return typeof count === 'string' ? refused(`"${type}": ${count}`) : { ok: true, message: count };
}

/** Checks a stream control message the back end received from the UI: `ack` or `close` only. */
export function parseStreamControlFromUi(input: unknown): ControlParse<StreamControlFromUi> {
  const type = typeOf(input, ['ack', 'close']);
  if (typeof type !== 'string') return refused(type.problem);
  if (type === 'close') return parseClose(input);
  const bytes = parseCount(input, type, 'bytes');
  return bytes.ok ? { ok: true, message: { type: 'ack', bytes: bytes.message } } : bytes;
}

/** Checks a stream control message the UI received from the back end: `open` or `close` only. */
export function parseStreamControlFromBackend(input: unknown): ControlParse<StreamControlFromBackend> {
  const type = typeOf(input, ['open', 'close']);
  if (typeof type !== 'string') return refused(type.problem);
  if (type === 'close') return parseClose(input);
  const message = exactFields(input, []);
  return typeof message === 'string' ? refused(`"open": ${message}`) : { ok: true, message: { type: 'open' } };
}

/** Checks an input channel control message the back end received from the UI: `sync` only. */
export function parseInputChannelControlFromUi(input: unknown): ControlParse<InputChannelControlFromUi> {
  const type = typeOf(input, ['sync']);
  if (typeof type !== 'string') return refused(type.problem);
  const token = parseCount(input, type, 'token');
  return token.ok ? { ok: true, message: { type: 'sync', token: token.message } } : token;
}

/** Checks an input channel control message the UI received from the back end: `synced` or `close`. */
export function parseInputChannelControlFromBackend(input: unknown): ControlParse<InputChannelControlFromBackend> {
  const type = typeOf(input, ['synced', 'close']);
  if (typeof type !== 'string') return refused(type.problem);
  if (type === 'close') return parseClose(input);
  const token = parseCount(input, type, 'token');
  return token.ok ? { ok: true, message: { type: 'synced', token: token.message } } : token;
}

/**
 * Parses a control text frame with `parse`: refused unbounded before JSON.parse (longer than
 * MAX_CONTROL_FRAME_CHARS) or when it is not JSON at all.
 */
export function parseControlText<T>(text: string, parse: ControlParser<T>): ControlParse<T> {
  if (text.length > MAX_CONTROL_FRAME_CHARS) return refused(`a control frame of ${text.length} characters; at most ${MAX_CONTROL_FRAME_CHARS} are allowed`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return refused('a control frame that is not JSON');
  }
  return parse(value);
}

/** Clips a close reason to what the peer's parser accepts (the back end's reasons can quote a server). */
export function clipControlReason(reason: string): string {
  return reason.length <= MAX_CONTROL_REASON_CHARS ? reason : `${reason.slice(0, MAX_CONTROL_REASON_CHARS - 1)}…`;
}
