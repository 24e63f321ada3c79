// The one strict parser per direction of the stream and input channel control messages: each accepts
// exactly its direction's messages and refuses every field wrong in turn, hostile values included. Plain Node.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  clipControlReason,
  MAX_CONTROL_FRAME_CHARS,
  MAX_CONTROL_REASON_CHARS,
  parseControlText,
  parseInputChannelControlFromBackend,
  parseInputChannelControlFromUi,
  parseStreamControlFromBackend,
  parseStreamControlFromUi,
  type ControlParser,
} from '../../../common/wire-control';

/** Values that are never a valid count (bytes, token). */
const BAD_COUNTS: readonly unknown[] = [
  -1,
  1.5,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  2 ** 53,
  1e308,
  -0.5,
  '12',
  '',
  null,
  true,
  [],
  [12],
  {},
  { valueOf: 12 },
];

/** Values that are never a valid reason. */
const BAD_REASONS: readonly unknown[] = [7, null, true, [], ['bye'], { text: 'bye' }, 'x'.repeat(MAX_CONTROL_REASON_CHARS + 1)];

/** Inputs that are not a message object at all. */
const NOT_OBJECTS: readonly unknown[] = [undefined, null, 0, 1, 'ack', '{"type":"ack","bytes":1}', true, [], [{ type: 'ack', bytes: 1 }], new Map([['type', 'ack']]), new Date(0)];

function refuses<T>(parse: ControlParser<T>, input: unknown, label: string): void {
  const result = parse(input);
  assert.equal(result.ok, false, `${label}: ${describeValue(input)} was accepted`);
  if (!result.ok) assert.ok(result.problem.length > 0 && result.problem.length < 200, `${label}: a short problem, got ${JSON.stringify(result.problem)}`);
}

function describeValue(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** The checks every parser shares: wrong shapes, unknown and other-direction types, extra and inherited fields. */
function sharedRefusals<T>(parse: ControlParser<T>, valid: Record<string, unknown>, foreignTypes: readonly string[]): void {
  for (const input of NOT_OBJECTS) refuses(parse, input, 'not an object');
  const type = valid.type as string;
  for (const other of ['', 'nope', 'ACK', type.toUpperCase(), ` ${type}`, 'constructor', '__proto__', 'toString', ...foreignTypes]) {
    refuses(parse, { ...valid, type: other }, `type ${JSON.stringify(other)}`);
  }
  for (const badType of [1, null, [type], { type }, true]) refuses(parse, { ...valid, type: badType }, 'type not a string');
  const withoutType: Record<string, unknown> = { ...valid };
  delete withoutType.type;
  refuses(parse, withoutType, 'no type');
  refuses(parse, { ...valid, extra: 1 }, 'extra field');
  refuses(parse, { ...valid, type2: type }, 'extra field');
  // A JSON "__proto__" key is an own field like any other: refused, and never a prototype.
  refuses(parse, JSON.parse(`{${JSON.stringify(valid).slice(1, -1)},"__proto__":{"polluted":true}}`), '__proto__ field');
  assert.equal(({} as { polluted?: unknown }).polluted, undefined);
  // Fields inherited through a prototype are not the message's own.
  refuses(parse, Object.create(valid) as unknown, 'inherited fields');
  refuses(parse, Object.assign(Object.create({ type }) as object, Object.fromEntries(Object.entries(valid).filter(([key]) => key !== 'type'))), 'inherited type');
  const symbolKeyed = { ...valid, [Symbol('x')]: 1 };
  refuses(parse, symbolKeyed, 'symbol key');
}

describe('stream control from the UI', { timeout: 10_000 }, () => {
  const parse = parseStreamControlFromUi;
  it('accepts an ack and a close, exactly', () => {
    assert.deepEqual(parse({ type: 'ack', bytes: 0 }), { ok: true, message: { type: 'ack', bytes: 0 } });
    assert.deepEqual(parse({ type: 'ack', bytes: Number.MAX_SAFE_INTEGER }), { ok: true, message: { type: 'ack', bytes: Number.MAX_SAFE_INTEGER } });
    assert.deepEqual(parse({ type: 'close', reason: '' }), { ok: true, message: { type: 'close', reason: '' } });
    const longest = 'é'.repeat(MAX_CONTROL_REASON_CHARS);
    assert.deepEqual(parse({ type: 'close', reason: longest }), { ok: true, message: { type: 'close', reason: longest } });
  });
  it('refuses what only the back end sends, and every field wrong in turn', () => {
    sharedRefusals(parse, { type: 'ack', bytes: 1 }, ['open', 'sync', 'synced']);
    sharedRefusals(parse, { type: 'close', reason: 'bye' }, ['open', 'sync', 'synced']);
    for (const bytes of BAD_COUNTS) refuses(parse, { type: 'ack', bytes }, 'ack bytes');
    refuses(parse, { type: 'ack' }, 'ack without bytes');
    refuses(parse, { type: 'ack', reason: 'x' }, 'ack with a reason');
    for (const reason of BAD_REASONS) refuses(parse, { type: 'close', reason }, 'close reason');
    refuses(parse, { type: 'close' }, 'close without a reason');
    refuses(parse, { type: 'close', reason: 'x', bytes: 1 }, 'close with bytes');
    refuses(parse, { type: 'open' }, 'open');
  });
});

describe('stream control from the back end', { timeout: 10_000 }, () => {
  const parse = parseStreamControlFromBackend;
  it('accepts an open and a close, exactly', () => {
    assert.deepEqual(parse({ type: 'open' }), { ok: true, message: { type: 'open' } });
    assert.deepEqual(parse({ type: 'close', reason: 'bye' }), { ok: true, message: { type: 'close', reason: 'bye' } });
  });
  it('refuses what only the UI sends, and every field wrong in turn', () => {
    sharedRefusals(parse, { type: 'open' }, ['ack', 'sync', 'synced']);
    sharedRefusals(parse, { type: 'close', reason: 'bye' }, ['ack', 'sync', 'synced']);
    for (const extra of [{ reason: 'x' }, { bytes: 1 }, { open: true }]) refuses(parse, { type: 'open', ...extra }, 'open with a field');
    for (const reason of BAD_REASONS) refuses(parse, { type: 'close', reason }, 'close reason');
    refuses(parse, { type: 'close' }, 'close without a reason (it was once accepted)');
    refuses(parse, { type: 'ack', bytes: 1 }, 'ack');
  });
});

describe('input channel control from the UI', { timeout: 10_000 }, () => {
  const parse = parseInputChannelControlFromUi;
  it('accepts a sync, exactly', () => {
    assert.deepEqual(parse({ type: 'sync', token: 0 }), { ok: true, message: { type: 'sync', token: 0 } });
    assert.deepEqual(parse({ type: 'sync', token: 41 }), { ok: true, message: { type: 'sync', token: 41 } });
  });
  it('refuses what only the back end sends, and every field wrong in turn', () => {
    sharedRefusals(parse, { type: 'sync', token: 1 }, ['synced', 'close', 'ack', 'open']);
    for (const token of BAD_COUNTS) refuses(parse, { type: 'sync', token }, 'sync token');
    refuses(parse, { type: 'sync' }, 'sync without a token');
    refuses(parse, { type: 'close', reason: 'bye' }, 'a close (the UI closes its socket instead)');
  });
});

describe('input channel control from the back end', { timeout: 10_000 }, () => {
  const parse = parseInputChannelControlFromBackend;
  it('accepts a synced and a close, exactly', () => {
    assert.deepEqual(parse({ type: 'synced', token: 7 }), { ok: true, message: { type: 'synced', token: 7 } });
    assert.deepEqual(parse({ type: 'close', reason: 'refused' }), { ok: true, message: { type: 'close', reason: 'refused' } });
  });
  it('refuses what only the UI sends, and every field wrong in turn', () => {
    sharedRefusals(parse, { type: 'synced', token: 1 }, ['sync', 'ack', 'open']);
    sharedRefusals(parse, { type: 'close', reason: 'x' }, ['sync', 'ack', 'open']);
    for (const token of BAD_COUNTS) refuses(parse, { type: 'synced', token }, 'synced token');
    for (const reason of BAD_REASONS) refuses(parse, { type: 'close', reason }, 'close reason');
    refuses(parse, { type: 'sync', token: 1 }, 'sync');
  });
});

describe('control text frames', { timeout: 10_000 }, () => {
  it('parses JSON with the given parser', () => {
    assert.deepEqual(parseControlText('{"type":"ack","bytes":3}', parseStreamControlFromUi), { ok: true, message: { type: 'ack', bytes: 3 } });
    assert.deepEqual(parseControlText(' {"type":"open"} ', parseStreamControlFromBackend), { ok: true, message: { type: 'open' } });
  });
  it('refuses text that is not JSON, JSON that is not a message, and anything over the bound before parsing it', () => {
    for (const text of ['', 'not json', '{"type":"ack","bytes":3', '{"type":"ack","bytes":3}}', 'null', '[]', '"ack"', '{"type":"ack","bytes":1e400}', '{"type":"ack","bytes":NaN}']) {
      refuses((input) => parseControlText(input as string, parseStreamControlFromUi), text, `text ${JSON.stringify(text)}`);
    }
    const deep = `${'['.repeat(MAX_CONTROL_FRAME_CHARS / 2)}${']'.repeat(MAX_CONTROL_FRAME_CHARS / 2)}`;
    refuses((input) => parseControlText(input as string, parseStreamControlFromUi), deep, 'deeply nested arrays');
    const padded = `{"type":"ack","bytes":3}${' '.repeat(MAX_CONTROL_FRAME_CHARS)}`;
    const result = parseControlText(padded, parseStreamControlFromUi);
    assert.equal(result.ok, false);
    assert.match(result.ok ? '' : result.problem, /at most 8192/);
  });
  it('accepts the longest reason even when every character of it is escaped', () => {
    const reason = '\u0001'.repeat(MAX_CONTROL_REASON_CHARS);
    const text = JSON.stringify({ type: 'close', reason });
    assert.ok(text.length <= MAX_CONTROL_FRAME_CHARS);
    assert.deepEqual(parseControlText(text, parseStreamControlFromBackend), { ok: true, message: { type: 'close', reason } });
  });
});

describe('clipControlReason', { timeout: 10_000 }, () => {
  it('leaves a short reason alone and clips a long one to what the peer accepts', () => {
    assert.equal(clipControlReason('bye'), 'bye');
    const clipped = clipControlReason('x'.repeat(5000));
    assert.equal(clipped.length, MAX_CONTROL_REASON_CHARS);
    assert.ok(parseStreamControlFromBackend({ type: 'close', reason: clipped }).ok);
  });
});
