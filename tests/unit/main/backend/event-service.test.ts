// The event service: subscribers of an event hear it, a failing one is logged with the event's name
// and the others still hear; notices are redacted and logged at their level.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Notice } from '../../../../common/contract';
import { EventService } from '../../../../main/backend/event-service';
import { recordingLogger } from './service-fakes';

describe('EventService', { timeout: 5_000 }, () => {
  it('emits to every subscriber, isolates one that throws, and stops after unsubscribe or clear', { timeout: 2_000 }, () => {
    const log = recordingLogger();
    const events = new EventService({ logger: log.logger, redactor: log.redactor });
    const heard: string[] = [];
    events.on('notice', () => {
      throw new Error('toast broke');
    });
    const stop = events.on('notice', (notice) => heard.push(notice.message));
    events.emit('notice', { level: 'info', message: 'one' });
    stop();
    events.emit('notice', { level: 'info', message: 'two' });
    assert.deepEqual(heard, ['one']);
    const failures = log.records.filter((record) => record.message === 'event listener failed');
    assert.equal(failures.length, 2);
    assert.equal(failures[0]?.event, 'notice');
    events.clear();
    events.emit('notice', { level: 'info', message: 'three' });
    assert.equal(log.records.filter((record) => record.message === 'event listener failed').length, 2);
  });

  it('redacts a notice before anyone sees it, and logs it at its level', { timeout: 2_000 }, () => {
    const log = recordingLogger();
    log.redactor.add('notice-secret');
    const events = new EventService({ logger: log.logger, redactor: log.redactor });
    const heard: Notice[] = [];
    events.on('notice', (notice) => heard.push(notice));
    events.notice({ level: 'warning', message: 'replica r1 failed with notice-secret' });
    events.notice({ level: 'error', message: 'bad' });
    events.notice({ level: 'info', message: 'fine' });
    assert.deepEqual(heard, [
      { level: 'warning', message: 'replica r1 failed with ***' },
      { level: 'error', message: 'bad' },
      { level: 'info', message: 'fine' },
    ]);
    // The notice's text is the line's message field.
    assert.deepEqual(
      log.records.map((record) => [record.level, record.message]),
      [
        ['warn', 'replica r1 failed with ***'],
        ['error', 'bad'],
        ['info', 'fine'],
      ],
    );
    assert.ok(!JSON.stringify(log.records).includes('notice-secret'));
  });
});
