// The one escaping helper for text that reaches a terminal: every class of control character becomes
// an escape (and JSON's escapes, so a JSON line keeps its values); clipping never splits a character.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clipText, escapeControl, escapeControlKeepingLines } from '../../../common/terminal-text';

describe('escapeControl', { timeout: 5_000 }, () => {
  it('escapes C0, DEL, C1, line separators and every bidi control; leaves other text alone', () => {
    const cases: [string, string, string][] = [
      ['C0 ESC', 'a\u001b[31mb', 'a\\u001b[31mb'],
      ['C0 BEL and NUL', '\u0007\u0000', '\\u0007\\u0000'],
      ['C0 line breaks and tab', 'a\r\n\tb', 'a\\r\\n\\tb'],
      ['DEL', 'a\u007fb', 'a\\u007fb'],
      ['C1 CSI and OSC', '\u009b31m\u009d0;title\u009c', '\\u009b31m\\u009d0;title\\u009c'],
      ['line and paragraph separators', '\u2028\u2029', '\\u2028\\u2029'],
      ['bidi overrides and embeddings', '\u202a\u202b\u202c\u202d\u202e', '\\u202a\\u202b\\u202c\\u202d\\u202e'],
      ['bidi isolates', '\u2066\u2067\u2068\u2069', '\\u2066\\u2067\\u2068\\u2069'],
      ['bidi marks', '\u200e\u200f\u061c', '\\u200e\\u200f\\u061c'],
      ['plain text, accents, emoji, backslashes', 'héllo wörld 😀 C:\\x', 'héllo wörld 😀 C:\\x'],
    ];
    for (const [what, input, expected] of cases) assert.equal(escapeControl(input), expected, what);
  });

  it('applied to a JSON line, keeps the values it decodes to', () => {
    const value = { reason: '\u001b]0;x\u0007 \u009b2J \u202eevil\u202c \u2028 \u007f' };
    const line = escapeControl(JSON.stringify(value));
    // eslint-disable-next-line no-control-regex -- finding control characters is the point.
    assert.doesNotMatch(line, /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e]/);
    assert.deepEqual(JSON.parse(line), value);
  });

  it('keeps line breaks when asked, escaping the rest', () => {
    assert.equal(escapeControlKeepingLines('one\u001b[2J\r\ntwo\u202e'), 'one\\u001b[2J\ntwo\\u202e');
  });
});

describe('clipText', { timeout: 5_000 }, () => {
  it('cuts to the limit with an ellipsis, never inside a surrogate pair', () => {
    assert.equal(clipText('short', 10), 'short');
    assert.equal(clipText('abcdefghij', 5), 'abcd…');
    const clipped = clipText(`abc${'😀'.repeat(4)}`, 5);
    assert.equal(clipped, 'abc…');
    assert.ok(clipped.length <= 5);
  });
});
