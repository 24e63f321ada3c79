// Every top-level suite and test in tests/ states its own timeout, so a hung test fails within its
// suite's bound instead of the file's 15 minutes (node:test's nested tests inherit the parent's bound).
// Read with TypeScript's parser, not a regular expression, so any formatting is checked.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import ts from 'typescript';

const root = resolve(import.meta.dirname, '../../..');
const SUITE_FUNCTIONS = new Set(['describe', 'it', 'test', 'suite']);

function testFiles(folder: string): string[] {
  return readdirSync(folder).flatMap((entry) => {
    const path = join(folder, entry);
    if (statSync(path).isDirectory()) return testFiles(path);
    return entry.endsWith('.test.ts') ? [path] : [];
  });
}

/** True when an options object literal among the call's arguments has a `timeout` property. */
function hasTimeout(call: ts.CallExpression): boolean {
  return call.arguments.some(
    (argument) =>
      ts.isObjectLiteralExpression(argument) &&
      argument.properties.some((property) => property.name !== undefined && ts.isIdentifier(property.name) && property.name.text === 'timeout'),
  );
}

/** The top-level describe/it/test calls of a file that set no timeout, as "file:line name". */
function suitesWithoutTimeout(path: string, text: string): string[] {
  const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
  const missing: string[] = [];
  for (const statement of source.statements) {
    if (!ts.isExpressionStatement(statement) || !ts.isCallExpression(statement.expression)) continue;
    const call = statement.expression;
    const callee = ts.isPropertyAccessExpression(call.expression) ? call.expression.expression : call.expression;
    if (!ts.isIdentifier(callee) || !SUITE_FUNCTIONS.has(callee.text)) continue;
    if (hasTimeout(call)) continue;
    const line = source.getLineAndCharacterOfPosition(call.getStart()).line + 1;
    const name = call.arguments[0] !== undefined && ts.isStringLiteralLike(call.arguments[0]) ? call.arguments[0].text : '(unnamed)';
    missing.push(`${relative(root, path)}:${line} ${name}`);
  }
  return missing;
}

describe('test timeouts', { timeout: 60_000 }, () => {
  it('finds a suite without a timeout, whatever its formatting', () => {
    const text = "describe('a', { timeout: 5 }, () => {});\ndescribe.only(\n  'b',\n  () => {},\n);\nit('c', async () => {});\n";
    assert.deepEqual(
      suitesWithoutTimeout(join(root, 'tests/x.test.ts'), text).map((entry) => entry.split(' ').slice(1).join(' ')),
      ['b', 'c'],
    );
  });

  it('every top-level suite and test under tests/ sets its own timeout', () => {
    const missing = testFiles(join(root, 'tests')).flatMap((path) => suitesWithoutTimeout(path, readFileSync(path, 'utf8')));
    assert.deepEqual(missing, [], `give each of these a { timeout } fitting its slowest legitimate run:\n${missing.join('\n')}`);
  });
});
