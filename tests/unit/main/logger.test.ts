// The back end's logger: levels, child fields, JSON and text lines, and redaction of every registered
// secret wherever it appears (message, fields, nested values, errors).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger, SecretRedactor } from '../../../main/logger';

function capture(options: Parameters<typeof createLogger>[0] = {}) {
  const lines: string[] = [];
  const logger = createLogger({ sink: (line) => lines.push(line), now: () => new Date('2030-01-02T03:04:05.000Z'), ...options });
  return { lines, logger };
}

describe('logger', () => {
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
});
