// A small structured logger for the back end (JSON lines or text, stderr by default) whose every
// line passes through a redactor: secret values registered by main/secrets.ts never reach a log.
// Control characters are escaped in every line. Node-side.

import { escapeControl } from '../common/terminal-text';

/** Severity of a log line, lowest first. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Extra key/values attached to a log line. Values are serialized safely (depth- and size-bounded). */
export type LogFields = Readonly<Record<string, unknown>>;

/** Where finished lines go (without the trailing newline). */
export type LogSink = (line: string) => void;

/** A structured logger; every line is redacted before it reaches the sink. */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line (e.g. `{ sessionId }`). */
  child(fields: LogFields): Logger;
}

/** Options of createLogger. */
export interface LoggerOptions {
  /**
   * Lines below this level are dropped. Default 'info'. A string from the environment is accepted;
   * an unknown name falls back to 'info' and says so in the first line.
   */
  readonly level?: LogLevel | (string & {});
  /** 'json': one JSON object per line (machine-read); 'text': "time LEVEL message key=value". Default 'json'. */
  readonly format?: 'json' | 'text';
  /** Default: process.stderr. */
  readonly sink?: LogSink;
  /** Default: the process-wide SECRET_REDACTOR that resolveSecret registers into. */
  readonly redactor?: SecretRedactor;
  /** Default: the system clock. */
  readonly now?: () => Date;
}

const LEVEL_RANK: Readonly<Record<LogLevel, number>> = { debug: 10, info: 20, warn: 30, error: 40 };
const REDACTED = '***';
const MAX_FIELD_DEPTH = 4;
const MAX_STRING_CHARS = 4096;
const MAX_ARRAY_ITEMS = 32;
const MAX_OBJECT_KEYS = 32;

/**
 * Secrets shorter than this are redacted only where they stand as a whole token (not touching a letter
 * or a digit): replacing every "ab" inside other words would shred the log, and show where the secret is.
 */
export const MIN_SUBSTRING_SECRET_CHARS = 4;

/** A secret's occurrences as a whole token: not preceded or followed by a letter or a digit. */
function wholeTokenPattern(secret: string): RegExp {
  const escaped = secret.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(?<![\\p{L}\\p{N}])${escaped}(?![\\p{L}\\p{N}])`, 'gu');
}

/**
 * The set of secret values that must never be logged; `redact` replaces each occurrence with "***".
 * Longer secrets are replaced first, so a secret containing another one disappears entirely. A secret
 * shorter than MIN_SUBSTRING_SECRET_CHARS is replaced only as a whole token.
 */
export class SecretRedactor {
  private readonly secrets = new Set<string>();
  private ordered: { readonly secret: string; readonly token: RegExp | null }[] = [];

  /** Registers a secret value (empty strings are ignored: they would match everywhere). */
  add(secret: string): void {
    if (secret.length === 0 || this.secrets.has(secret)) return;
    this.secrets.add(secret);
    this.ordered = [...this.secrets]
      .sort((left, right) => right.length - left.length)
      .map((value) => ({ secret: value, token: value.length < MIN_SUBSTRING_SECRET_CHARS ? wholeTokenPattern(value) : null }));
  }

  /** Registers a multi-line secret (a private key): the whole text and each substantial line. */
  addMultiline(secret: string): void {
    this.add(secret);
    for (const line of secret.split(/\r?\n/)) {
      const trimmed = line.trim();
      // Short lines ("-----END ...", blank) are not secret and would shred unrelated log text.
      if (trimmed.length >= 16 && !trimmed.startsWith('-----')) this.add(trimmed);
    }
  }

  /** Number of registered secrets (for tests and diagnostics; never the values). */
  get size(): number {
    return this.secrets.size;
  }

  /** Returns `text` with every registered secret replaced by "***". */
  redact(text: string): string {
    let result = text;
    for (const { secret, token } of this.ordered) {
      if (!result.includes(secret)) continue;
      result = token === null ? result.split(secret).join(REDACTED) : result.replace(token, REDACTED);
    }
    return result;
  }
}

/** The process-wide redactor: resolved secrets are registered here, and every logger uses it by default. */
export const SECRET_REDACTOR = new SecretRedactor();

function truncate(text: string): string {
  return text.length > MAX_STRING_CHARS ? `${text.slice(0, MAX_STRING_CHARS)}… (${text.length} chars)` : text;
}

/** Turns any value into plain JSON data with every string redacted; bytes are summarized, never dumped. */
function sanitize(value: unknown, redactor: SecretRedactor, depth: number, seen: Set<object>): unknown {
  if (value === null || value === undefined) return value ?? null;
  switch (typeof value) {
    case 'string':
      return redactor.redact(truncate(value));
    case 'number':
    case 'boolean':
      return value;
    case 'bigint':
      return value.toString();
    case 'symbol':
      return redactor.redact(value.toString());
    case 'function':
      return '[function]';
    default:
      break;
  }
  const object = value;
  if (ArrayBuffer.isView(object)) return `[${object.byteLength} bytes]`;
  if (object instanceof ArrayBuffer) return `[${object.byteLength} bytes]`;
  if (seen.has(object)) return '[circular]';
  if (depth >= MAX_FIELD_DEPTH) return '[nested too deep]';
  seen.add(object);
  try {
    if (object instanceof Error) {
      const code = (object as { code?: unknown }).code;
      return {
        name: object.name,
        message: redactor.redact(truncate(object.message)),
        ...(typeof code === 'string' ? { code } : {}),
      };
    }
    if (object instanceof Date) return object.toISOString();
    if (Array.isArray(object)) {
      const items = object.slice(0, MAX_ARRAY_ITEMS).map((item: unknown) => sanitize(item, redactor, depth + 1, seen));
      if (object.length > MAX_ARRAY_ITEMS) items.push(`… ${object.length - MAX_ARRAY_ITEMS} more`);
      return items;
    }
    const result: Record<string, unknown> = {};
    const entries = Object.entries(object);
    for (const [key, item] of entries.slice(0, MAX_OBJECT_KEYS)) {
      result[redactor.redact(key)] = sanitize(item, redactor, depth + 1, seen);
    }
    if (entries.length > MAX_OBJECT_KEYS) result['…'] = `${entries.length - MAX_OBJECT_KEYS} more keys`;
    return result;
  } finally {
    seen.delete(object);
  }
}

function formatTextValue(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value) ?? 'null';
}

function defaultSink(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** Creates a logger; see LoggerOptions for the defaults. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = parseLogLevel(options.level ?? 'info');
  const minimumRank = LEVEL_RANK[level ?? 'info'];
  const format = options.format ?? 'json';
  const sink = options.sink ?? defaultSink;
  const redactor = options.redactor ?? SECRET_REDACTOR;
  const now = options.now ?? (() => new Date());

  function write(level: LogLevel, message: string, baseFields: LogFields, fields: LogFields | undefined): void {
    if (LEVEL_RANK[level] < minimumRank) return;
    const merged = sanitize({ ...baseFields, ...fields }, redactor, 0, new Set()) as Record<string, unknown>;
    const time = now().toISOString();
    const cleanMessage = redactor.redact(truncate(message));
    let line: string;
    if (format === 'json') {
      line = JSON.stringify({ time, level, message: cleanMessage, ...merged });
    } else {
      const pairs = Object.entries(merged).map(([key, value]) => `${key}=${formatTextValue(value)}`);
      line = [time, level.toUpperCase(), cleanMessage, ...pairs].join(' ');
    }
    // A second pass over the finished line catches a secret split across the serialization. Then
    // control characters are escaped (with JSON's escapes: a JSON line still decodes to the same
    // values): a server's or a profile's text must not drive the terminal that shows the log.
    line = escapeControl(redactor.redact(line));
    try {
      sink(line);
    } catch {
      // A broken sink (closed stderr) must never take the back end down with it.
    }
  }

  function make(baseFields: LogFields): Logger {
    return {
      debug: (message, fields) => write('debug', message, baseFields, fields),
      info: (message, fields) => write('info', message, baseFields, fields),
      warn: (message, fields) => write('warn', message, baseFields, fields),
      error: (message, fields) => write('error', message, baseFields, fields),
      child: (fields) => make({ ...baseFields, ...fields }),
    };
  }

  const logger = make({});
  if (level === undefined) logger.warn('unknown log level; using "info"', { level: options.level, known: Object.keys(LEVEL_RANK) });
  return logger;
}

/** Parses a level name (e.g. from RETROVISOR_LOG_LEVEL); unknown names give undefined. */
export function parseLogLevel(value: string | undefined): LogLevel | undefined {
  return value !== undefined && Object.prototype.hasOwnProperty.call(LEVEL_RANK, value) ? (value as LogLevel) : undefined;
}

/** A message for any thrown value, for logs and user-facing errors. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
