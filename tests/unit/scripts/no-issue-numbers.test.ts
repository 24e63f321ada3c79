// The issue tracker is not part of the repository: no source, test, style or doc file cites an issue
// number (the word "issue" followed by a number). Comments say what the code does and why, in the code's own terms.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';

const root = resolve(import.meta.dirname, '../../..');
const CHECKED = /\.(ts|tsx|mjs|cjs|js|css|html|md|yml|yaml|sh)$/;
const CITATION = /\bissues? #?\d+\b/i;

describe('no issue numbers in the repository', { timeout: 60_000 }, () => {
  it('cites no issue number in any tracked text file', () => {
    const files = execFileSync('git', ['ls-files'], { cwd: root, encoding: 'utf8' })
      .split('\n')
      .filter((file) => CHECKED.test(file));
    assert.ok(files.length > 100, 'git lists the tracked files');
    const found = files.flatMap((file) =>
      readFileSync(join(root, file), 'utf8')
        .split('\n')
        .flatMap((line, index) => (CITATION.test(line) ? [`${file}:${index + 1}: ${line.trim().slice(0, 120)}`] : [])),
    );
    assert.deepEqual(found, [], `say what the code does instead:\n${found.join('\n')}`);
  });
});
