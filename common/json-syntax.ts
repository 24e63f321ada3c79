// Where a JSON text stops being JSON, in words and as line and column, never quoting the text itself:
// JSON.parse's messages quote the bytes around the error, and the file may be anything (a secret, a key).
// Pure.

/** The first syntax error of a JSON text: what is wrong and where (line and column count from 1). */
export interface JsonSyntaxError {
  readonly problem: string;
  /** Offset in UTF-16 units from the start of the text. */
  readonly offset: number;
  readonly line: number;
  readonly column: number;
}

/** Deeper nesting is reported as an error here (JSON.parse accepts it, but no profile or script nests this deep). */
const MAX_DEPTH = 1000;
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const ESCAPABLE = '"\\/bfnrtu';
const HEX = /^[0-9A-Fa-f]{4}$/;

class SyntaxFailure extends Error {
  constructor(
    readonly offset: number,
    readonly problem: string,
  ) {
    super(problem);
  }
}

/** Scans `text` as JSON (RFC 8259); returns its first syntax error, or null when it is valid JSON. */
export function findJsonSyntaxError(text: string): JsonSyntaxError | null {
  let index = 0;
  const fail = (problem: string, offset = index): never => {
    throw new SyntaxFailure(offset, index >= text.length && offset >= text.length ? 'unexpected end of the text' : problem);
  };
  const skipWhitespace = (): void => {
    while (index < text.length && ' \t\n\r'.includes(text.charAt(index))) index += 1;
  };

  const readString = (): void => {
    const start = index;
    index += 1;
    for (;;) {
      if (index >= text.length) fail('a string is not closed', start);
      const code = text.charCodeAt(index);
      if (code === 0x22) {
        index += 1;
        return;
      }
      if (code === 0x5c) {
        const escaped = text.charAt(index + 1);
        if (escaped === '' || !ESCAPABLE.includes(escaped)) fail('an invalid escape in a string');
        if (escaped === 'u' && !HEX.test(text.slice(index + 2, index + 6))) fail('an invalid \\u escape in a string');
        index += escaped === 'u' ? 6 : 2;
        continue;
      }
      if (code < 0x20) fail('a control character (a line break?) inside a string');
      index += 1;
    }
  };

  const readValue = (depth: number): void => {
    skipWhitespace();
    if (index >= text.length) fail('unexpected end of the text');
    if (depth > MAX_DEPTH) fail(`nested more than ${MAX_DEPTH} levels deep`);
    const character = text.charAt(index);
    if (character === '{' || character === '[') {
      const closing = character === '{' ? '}' : ']';
      index += 1;
      skipWhitespace();
      if (text.charAt(index) === closing) {
        index += 1;
        return;
      }
      for (;;) {
        if (closing === '}') {
          skipWhitespace();
          if (text.charAt(index) !== '"') fail('expected a property name in double quotes');
          readString();
          skipWhitespace();
          if (text.charAt(index) !== ':') fail('expected ":" after a property name');
          index += 1;
        }
        readValue(depth + 1);
        skipWhitespace();
        if (text.charAt(index) === ',') {
          index += 1;
          continue;
        }
        if (text.charAt(index) === closing) {
          index += 1;
          return;
        }
        fail(`expected "," or "${closing}"`);
      }
    }
    if (character === '"') {
      readString();
      return;
    }
    if (character === '-' || (character >= '0' && character <= '9')) {
      NUMBER.lastIndex = index;
      const match = NUMBER.exec(text);
      if (match === null) fail('an invalid number');
      index += (match as RegExpExecArray)[0].length;
      return;
    }
    for (const literal of ['true', 'false', 'null']) {
      if (text.startsWith(literal, index)) {
        index += literal.length;
        return;
      }
    }
    fail('unexpected character (a value is a string in double quotes, a number, true, false, null, an object or an array)');
  };

  try {
    readValue(0);
    skipWhitespace();
    if (index < text.length) fail('unexpected text after the end of the JSON value');
    return null;
  } catch (error) {
    if (!(error instanceof SyntaxFailure)) throw error;
    const before = text.slice(0, error.offset);
    const lineStart = before.lastIndexOf('\n') + 1;
    return { problem: error.problem, offset: error.offset, line: before.split('\n').length, column: error.offset - lineStart + 1 };
  }
}

/** JSON.parse's failure in words without the text's bytes: "unexpected character at line 3, column 7". */
export function describeJsonSyntaxError(text: string): string {
  const error = findJsonSyntaxError(text);
  if (error === null) return 'the JSON parser refused it';
  return `${error.problem} at line ${error.line}, column ${error.column}`;
}
