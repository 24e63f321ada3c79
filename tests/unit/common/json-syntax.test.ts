// Where a JSON text breaks, in words with line and column and never quoting the text: valid JSON gives
// null, and the syntax errors JSON.parse refuses are each located.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeJsonSyntaxError, findJsonSyntaxError } from '../../../common/json-syntax';

describe('findJsonSyntaxError', { timeout: 5_000 }, () => {
  it('finds nothing in valid JSON', () => {
    for (const text of ['{}', '[]', ' {"a": [1, -2.5e3, true, false, null, "x\\n\\u00e9"]} ', '"s"', '0']) {
      assert.equal(findJsonSyntaxError(text), null, text);
    }
  });

  it('locates each kind of error by line and column, as JSON.parse refuses it', () => {
    const cases: [string, string, number, number][] = [
      ['{\n  "a": 1,\n  b: 2\n}', 'expected a property name in double quotes', 3, 3],
      ['{"a" 1}', 'expected ":" after a property name', 1, 6],
      ['[1 2]', 'expected "," or "]"', 1, 4],
      ['{"a": "open', 'a string is not closed', 1, 7],
      ['{"a": "\\q"}', 'an invalid escape in a string', 1, 8],
      ['{"a": -}', 'an invalid number', 1, 7],
      ['{"a": 1}}', 'unexpected text after the end of the JSON value', 1, 9],
      ['{"a": [1,', 'unexpected end of the text', 1, 10],
    ];
    for (const [text, problem, line, column] of cases) {
      assert.throws(() => JSON.parse(text), SyntaxError, text);
      const error = findJsonSyntaxError(text);
      assert.deepEqual({ problem: error?.problem, line: error?.line, column: error?.column }, { problem, line, column }, text);
    }
  });

  it('describes an error without quoting any of the text', () => {
    const text = 'hunter2-secret-line\nmore secret';
    const message = describeJsonSyntaxError(text);
    assert.match(message, /^unexpected character .* at line 1, column 1$/);
    assert.doesNotMatch(message, /hunter|secret/);
  });
});
