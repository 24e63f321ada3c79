// Reading fields of a parsed JSON document with one message per problem at its JSON path: the
// helpers every validator of user-written JSON shares (profiles, their remediation settings), so
// every message of one profile reads alike. Pure.

/** A value of a parsed JSON document, not yet checked. */
export type Json = unknown;

/** Where problems go (a validator's collector). */
export interface ProblemSink {
  add(path: string, message: string): void;
}

/** A JSON object (not null, not an array). */
export function isObject(value: Json): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A short description of a value for a message ("the string \"x\"", "number 7", "an array"). */
export function describe(value: Json): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.slice(0, 40))}`;
  return `${typeof value} ${JSON.stringify(value)}`.slice(0, 60);
}

/** One problem per key of `value` not in `allowed`. */
export function checkUnknownKeys(value: Record<string, Json>, allowed: readonly string[], path: string, problems: ProblemSink): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) problems.add(`${path}.${key}`, `unknown field; expected one of: ${allowed.join(', ')}`);
  }
}

/** An integer from `min` to `max`, else a problem naming `what` it should be. */
export function readInteger(value: Json, path: string, problems: ProblemSink, min: number, max: number, what: string): number | undefined {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    problems.add(path, `must be ${what}, an integer from ${min} to ${max}, found ${describe(value)}`);
    return undefined;
  }
  return value;
}
