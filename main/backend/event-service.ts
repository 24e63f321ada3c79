// The contract's events from the back end to the UI (today: notices): the shells subscribe and carry
// them to the UI; any service may emit. Notices are redacted and logged. Node-side.

import type { EventName, EventPayload, Notice } from '../../common/contract';
import type { Logger, SecretRedactor } from '../logger';
import { Listeners } from './listeners';

/** What the event service needs. */
export interface EventServiceOptions {
  readonly logger: Logger;
  /** Notices pass through it: no secret reaches the UI in one. */
  readonly redactor: SecretRedactor;
}

type AnyEventListener = (payload: EventPayload<EventName>) => void;

/** Contract events: subscribe per event, emit to every subscriber. */
export class EventService {
  private readonly listeners = new Map<EventName, Listeners<AnyEventListener>>();

  constructor(private readonly options: EventServiceOptions) {}

  /** Subscribes to a contract event; returns the unsubscribe. */
  on<K extends EventName>(event: K, listener: (payload: EventPayload<K>) => void): () => void {
    let listeners = this.listeners.get(event);
    if (listeners === undefined) {
      listeners = new Listeners<AnyEventListener>(this.options.logger, 'event', { event });
      this.listeners.set(event, listeners);
    }
    // Safe: this set only ever hears payloads of `event` (emit looks it up by the same name).
    return listeners.add(listener as AnyEventListener);
  }

  /** Sends an event to every subscriber; one that throws is logged and the others still hear it. */
  emit<K extends EventName>(event: K, payload: EventPayload<K>): void {
    this.listeners.get(event)?.emit(payload as EventPayload<EventName>);
  }

  /** Emits a notice, redacted, and logs it at its level. */
  notice(notice: Notice): void {
    const { logger, redactor } = this.options;
    const clean: Notice = { level: notice.level, message: redactor.redact(notice.message) };
    if (clean.level === 'error') logger.error('notice', { message: clean.message });
    else if (clean.level === 'warning') logger.warn('notice', { message: clean.message });
    else logger.info('notice', { message: clean.message });
    this.emit('notice', clean);
  }

  /** Forgets every subscriber (the back end is shutting down). */
  clear(): void {
    this.listeners.clear();
  }
}
