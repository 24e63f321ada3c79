// Profile problems never echo what must stay private: a value in a secret field (a password pasted
// where a variable name or a path was expected), or the bytes of a file that is not JSON.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseProfileText, validateProfile, type ProfileProblem } from '../../../common/profile';

function problemsOf(document: unknown): readonly ProfileProblem[] {
  const result = validateProfile(document);
  assert.equal(result.ok, false);
  return result.ok ? [] : result.problems;
}

const PASTED = 'Hunter2-pasted!';

describe('profile problems keep secrets out', { timeout: 5_000 }, () => {
  it('never quotes a password or passphrase value, whatever shape it has', () => {
    const badSecrets: unknown[] = [{ env: PASTED }, { file: 7_777_777 }, { env: 8_888_888 }, { file: '' }, { value: PASTED }, 9_999_999, [PASTED], { env: 'OK', file: PASTED }];
    for (const password of badSecrets) {
      const problems = problemsOf({
        version: 1,
        name: 'p',
        replicas: [{ id: 'r1', vnc: { host: '127.0.0.1', port: 5901, password } }],
        l0: { a: { ssh: { host: 'h', user: 'u', hostKey: `SHA256:${'A'.repeat(43)}`, passphrase: password } } },
      });
      const text = JSON.stringify(problems);
      assert.equal(problems.filter((problem) => /password|passphrase/.test(problem.path)).length, 2, text);
      for (const secret of [PASTED, '7777777', '8888888', '9999999']) assert.ok(!text.includes(secret), `${JSON.stringify(password)}: ${text}`);
    }
  });

  it('says where a file stops being JSON, never what it holds', () => {
    const privateText = 'root:$6$saltsalt$hashedpassword:19000:0:99999:7:::\n';
    const result = parseProfileText(privateText);
    assert.equal(result.ok, false);
    const message = result.ok ? '' : (result.problems[0]?.message ?? '');
    assert.match(message, /^not valid JSON: .* at line 1, column 1$/);
    for (const fragment of ['root', 'salt', 'hashed', '19000']) assert.ok(!message.includes(fragment), message);
    const late = parseProfileText('{\n  "version": 1,\n  "name": "secret-name" oops\n}');
    assert.match(late.ok ? '' : (late.problems[0]?.message ?? ''), /^not valid JSON: expected "," or "}" at line 3, column 25$/);
  });
});
