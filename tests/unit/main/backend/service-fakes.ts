// Shared pieces of the back-end service tests: a logger that records its lines and lets a test wait
// for one (an event, never a sleep), a stream endpoint that records what the relay tells the UI, and
// a VNC server stand-in that never leaves the process.

import { Duplex } from 'node:stream';
import type { StreamControl } from '../../../../common/contract';
import type { InputChannelEndpoint } from '../../../../main/input-channel';
import { createLogger, SecretRedactor, type Logger } from '../../../../main/logger';
import type { StreamEndpoint } from '../../../../main/stream-relay';

/** One parsed log line. */
export interface LogRecord {
  readonly level: string;
  readonly message: string;
  readonly [field: string]: unknown;
}

/** A logger (debug and up, its own redactor) whose lines a test reads and waits for. */
export function recordingLogger(redactor: SecretRedactor = new SecretRedactor()) {
  const records: LogRecord[] = [];
  const waiters: { predicate: (record: LogRecord) => boolean; resolve: (record: LogRecord) => void }[] = [];
  const logger: Logger = createLogger({
    level: 'debug',
    redactor,
    sink: (line) => {
      const record = JSON.parse(line) as LogRecord;
      records.push(record);
      for (const waiter of [...waiters]) {
        if (!waiter.predicate(record)) continue;
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(record);
      }
    },
  });
  return {
    logger,
    redactor,
    records,
    /** Messages logged so far, in order. */
    messages: (): string[] => records.map((record) => record.message),
    /** Resolves with the first line (already logged or to come) with this message. */
    waitForMessage(message: string): Promise<LogRecord> {
      const seen = records.find((record) => record.message === message);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve) => waiters.push({ predicate: (record) => record.message === message, resolve }));
    },
  };
}

/** The UI side of a stream as a shell would carry it, recording every control and resolving `closed`. */
export function recordingEndpoint() {
  const controls: StreamControl[] = [];
  const closeListeners: (() => void)[] = [];
  let isClosed = false;
  let resolveClosed: () => void = () => undefined;
  const closed = new Promise<void>((resolve) => {
    resolveClosed = resolve;
  });
  let resolveOpened: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => {
    resolveOpened = resolve;
  });
  const endpoint: StreamEndpoint = {
    sendData: () => undefined,
    sendControl(control) {
      controls.push(control);
      if (control.type === 'open') resolveOpened();
    },
    close() {
      if (isClosed) return;
      isClosed = true;
      resolveClosed();
      for (const listener of closeListeners.splice(0)) listener();
    },
    onData: () => undefined,
    onControl: () => undefined,
    onClose(listener) {
      if (isClosed) queueMicrotask(listener);
      else closeListeners.push(listener);
    },
  };
  return {
    endpoint,
    controls,
    /** Resolves when the relay told the UI the server is reached. */
    opened,
    /** Resolves when the endpoint is closed. */
    closed,
    /** The reason of the `close` control the UI got, if any. */
    closeReason(): string | undefined {
      const close = controls.find((control) => control.type === 'close');
      return close?.type === 'close' ? close.reason : undefined;
    },
  };
}

/** The UI side of an input channel that records how it was closed. */
export function recordingInputChannel() {
  let resolveClosed: (close: { reason: string; refused: boolean }) => void = () => undefined;
  const closed = new Promise<{ reason: string; refused: boolean }>((resolve) => {
    resolveClosed = resolve;
  });
  const endpoint: InputChannelEndpoint = {
    onFrame: () => undefined,
    onSync: () => undefined,
    sendSynced: () => undefined,
    onClose: () => undefined,
    close: (reason, refused) => resolveClosed({ reason, refused }),
  };
  return { endpoint, closed };
}

/** A VNC server stand-in: a duplex that swallows what it is sent and never ends on its own. */
export function silentServer(): Duplex {
  return new Duplex({
    read: () => undefined,
    write: (_chunk, _encoding, callback) => callback(),
  });
}
