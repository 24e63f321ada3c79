// Listeners<T>: every listener hears each emit in turn, a listener that throws is logged and the
// others still hear, unsubscribing (even from inside a listener) and clearing work.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Listeners } from '../../../../main/backend/listeners';
import { recordingLogger } from './service-fakes';

describe('Listeners', { timeout: 5_000 }, () => {
  it('calls every listener with the arguments, in the order they were added', { timeout: 2_000 }, () => {
    const { logger } = recordingLogger();
    const listeners = new Listeners<(name: string, count: number) => void>(logger, 'test');
    const heard: string[] = [];
    listeners.add((name, count) => heard.push(`first ${name} ${count}`));
    listeners.add((name, count) => heard.push(`second ${name} ${count}`));
    listeners.emit('a', 1);
    assert.deepEqual(heard, ['first a 1', 'second a 1']);
    assert.equal(listeners.size, 2);
  });

  it('logs a listener that throws, with its name and fields, and still calls the others', { timeout: 2_000 }, () => {
    const log = recordingLogger();
    const listeners = new Listeners<(value: number) => void>(log.logger, 'divergence', { event: 'x' });
    const heard: number[] = [];
    listeners.add(() => {
      throw new Error('listener bug');
    });
    listeners.add((value) => heard.push(value));
    assert.doesNotThrow(() => listeners.emit(7));
    assert.deepEqual(heard, [7]);
    const failure = log.records.find((record) => record.message === 'divergence listener failed');
    assert.ok(failure, log.messages().join('\n'));
    assert.equal(failure.level, 'error');
    assert.equal(failure.event, 'x');
    assert.deepEqual(failure.error, { name: 'Error', message: 'listener bug' });
  });

  it('stops calling an unsubscribed listener, even one that unsubscribes while it is called', { timeout: 2_000 }, () => {
    const { logger } = recordingLogger();
    const listeners = new Listeners<() => void>(logger, 'test');
    const heard: string[] = [];
    const stopOnce: () => void = listeners.add(() => {
      heard.push('once');
      stopOnce();
    });
    const stopAlways = listeners.add(() => heard.push('always'));
    listeners.emit();
    listeners.emit();
    stopAlways();
    stopAlways();
    listeners.emit();
    assert.deepEqual(heard, ['once', 'always', 'always']);
    assert.equal(listeners.size, 0);
  });

  it('counts the same function once, and forgets everyone on clear', { timeout: 2_000 }, () => {
    const { logger } = recordingLogger();
    const listeners = new Listeners<() => void>(logger, 'test');
    let calls = 0;
    const listener = (): void => {
      calls++;
    };
    listeners.add(listener);
    listeners.add(listener);
    listeners.emit();
    assert.equal(calls, 1);
    listeners.clear();
    listeners.emit();
    assert.equal(calls, 1);
    assert.equal(listeners.size, 0);
  });
});
