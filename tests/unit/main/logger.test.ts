// The back end's logger: levels, child fields, JSON and text lines, and redaction of every registered
// secret wherever it appears (message, fields, nested values, errors), short secrets as whole tokens
// only, and control characters escaped in every line.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger, MIN_SUBSTRING_SECRET_CHARS, SecretRedactor } from '../../../main/logger';

function capture(options: Parameters<typeof createLogger>[0] = {}) {
  const lines: string[] = [];
  const logger = createLogger({ sink: (line) => lines.push(line), now: () => new Date('2030-01-02T03:04:05.000Z'), ...options });
  return { lines, logger };
}

describe('logger', { timeout: 5_000 }, () => {
  it('writes JSON lines with time, level, message and fields, dropping lines below the level', () => {
    const { lines, logger } = capture({ level: 'info', redactor: new SecretRedactor() });
    logger.debug('hidden');
    logger.info('session opened', { sessionId: 's1', replicas: 3 });
    assert.equal(lines.length, 1);
    assert.deepEqual(JSON.parse(lines[0]!), { time: '2030-01-02T03:04:05.000Z', level: 'info', message: 'session opened', sessionId: 's1', replicas: 3 });
  });

  it('adds child fields to every line and lets a line override them', () => {
    const { lines, logger } = capture({ redactor: new SecretRedactor() });
    const child = logger.child({ sessionId: 's1', replicaId: 'a' }).child({ replicaId: 'b' });
    child.warn('stream closed', { reason: 'gone' });
    assert.deepEqual(JSON.parse(lines[0]!), {
      time: '2030-01-02T03:04:05.000Z',
      level: 'warn',
      message: 'stream closed',
      sessionId: 's1',
      replicaId: 'b',
      reason: 'gone',
    });
  });

  it('writes text lines when asked', () => {
    const { lines, logger } = capture({ format: 'text', redactor: new SecretRedactor() });
    logger.error('cannot connect', { host: '127.0.0.1', reason: 'refused the connection' });
    assert.equal(lines[0], '2030-01-02T03:04:05.000Z ERROR cannot connect host=127.0.0.1 reason="refused the connection"');
  });

  it('replaces every registered secret with *** in the message, fields, nested values and errors', () => {
    const redactor = new SecretRedactor();
    redactor.add('hunter2');
    redactor.add('quote"and\\backslash');
    const { lines, logger } = capture({ redactor });
    logger.info('password is hunter2', {
      nested: { deeper: ['x hunter2 y'], error: new Error('auth with hunter2 failed') },
      escaped: 'quote"and\\backslash',
    });
    const line = lines[0]!;
    assert.ok(!line.includes('hunter2'), line);
    assert.ok(!line.includes('quote\\"and'), line);
    const parsed = JSON.parse(line) as { message: string; nested: { deeper: string[]; error: { message: string } }; escaped: string };
    assert.equal(parsed.message, 'password is ***');
    assert.deepEqual(parsed.nested.deeper, ['x *** y']);
    assert.equal(parsed.nested.error.message, 'auth with *** failed');
    assert.equal(parsed.escaped, '***');
  });

  it('registers the lines of a private key, and never dumps bytes', () => {
    const redactor = new SecretRedactor();
    const key = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----\n';
    redactor.addMultiline(key);
    const { lines, logger } = capture({ redactor });
    logger.info('oops', { line: 'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ', bytes: Buffer.from('hunter2') });
    assert.ok(!lines[0]!.includes('b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ'));
    assert.match(lines[0]!, /"bytes":"\[7 bytes\]"/);
  });

  it('accepts a level name from the environment and falls back to info on an unknown one', () => {
    const { lines, logger } = capture({ level: 'loud', redactor: new SecretRedactor() });
    logger.debug('hidden');
    logger.info('shown');
    assert.equal(lines.length, 2);
    assert.match(lines[0]!, /unknown log level/);
  });

  it('survives a circular field and a failing sink', () => {
    const circular: Record<string, unknown> = { name: 'loop' };
    circular.self = circular;
    const { lines, logger } = capture({ redactor: new SecretRedactor() });
    logger.info('circular', { circular });
    assert.match(lines[0]!, /\[circular\]/);
    const broken = createLogger({ sink: () => { throw new Error('stderr closed'); } });
    assert.doesNotThrow(() => broken.error('still fine'));
  });

  it('escapes every class of control character in text lines, in the message, keys and values without spaces', () => {
    const { lines, logger } = capture({ format: 'text', redactor: new SecretRedactor() });
    const hostile = '\u001b]0;owned\u0007\u001b[2J\u007f\u009b31m\u202eevil\u2066';
    logger.warn(`server said ${hostile}`, { reason: hostile, [`key${hostile}`]: 1, spaced: `a b${hostile}` });
    const line = lines[0]!;
    // eslint-disable-next-line no-control-regex -- finding control characters is the point.
    assert.doesNotMatch(line, /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/, JSON.stringify(line));
    assert.ok(line.includes('reason=\\u001b]0;owned\\u0007\\u001b[2J\\u007f\\u009b31m\\u202eevil\\u2066'), line);
    assert.ok(line.includes('server said \\u001b]0;owned'), line);
  });

  it('escapes C1 and bidi controls in JSON lines too, which still decode to the same values', () => {
    const { lines, logger } = capture({ redactor: new SecretRedactor() });
    const hostile = 'a\u009b2Jb\u202ec\u2028d\u007fe\u001bf';
    logger.info(hostile, { reason: hostile });
    // eslint-disable-next-line no-control-regex -- finding control characters is the point.
    assert.doesNotMatch(lines[0]!, /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e]/);
    const parsed = JSON.parse(lines[0]!) as { message: string; reason: string };
    assert.equal(parsed.message, hostile);
    assert.equal(parsed.reason, hostile);
  });

  it(`redacts a secret shorter than ${MIN_SUBSTRING_SECRET_CHARS} characters only as a whole token, longer ones everywhere`, () => {
    const redactor = new SecretRedactor();
    redactor.add('ab');
    redactor.add('x9');
    redactor.add('abcd');
    assert.equal(MIN_SUBSTRING_SECRET_CHARS, 4);
    // "ab" inside words stays (the log is readable); alone, quoted or after "=" it goes.
    assert.equal(redactor.redact('about a tab: ab, "ab" pw=ab (ab)'), 'about a tab: ***, "***" pw=*** (***)');
    assert.equal(redactor.redact('x9y x9 9x9'), 'x9y *** 9x9');
    // Four characters and more: replaced wherever they are, even inside a word.
    assert.equal(redactor.redact('xabcdx abcd'), 'x***x ***');
    const { lines, logger } = capture({ format: 'text', redactor });
    logger.info('table about abc', { password: 'ab' });
    assert.equal(lines[0], '2030-01-02T03:04:05.000Z INFO table about abc password=***');
  });
});
