// Reads a `retrovisor run --script STEPS.json` file and validates it (common/input/input-script.ts),
// so a bad script is refused with every problem listed before anything starts. Runs in Node.

import { readFile } from 'node:fs/promises';
import { parseInputScript, type InputScriptStep } from '../common/input/input-script';
import { describeJsonSyntaxError } from '../common/json-syntax';

/** Largest script file read (a script is steps, not data). */
export const MAX_SCRIPT_FILE_BYTES = 4 * 1024 * 1024;

/** Thrown for an unreadable or invalid script; the message lists what to fix. */
export class InputScriptFileError extends Error {
  override readonly name = 'InputScriptFileError';
}

/** Reads and checks a script file; resolves with its steps. */
export async function loadInputScriptFile(filePath: string): Promise<InputScriptStep[]> {
  let text: string;
  try {
    const bytes = await readFile(filePath);
    if (bytes.length > MAX_SCRIPT_FILE_BYTES) throw new InputScriptFileError(`${filePath} is ${bytes.length} bytes; a script is at most ${MAX_SCRIPT_FILE_BYTES}`);
    text = bytes.toString('utf8').replace(/^\uFEFF/, '');
  } catch (error) {
    if (error instanceof InputScriptFileError) throw error;
    throw new InputScriptFileError(`cannot read the script ${filePath}: ${error instanceof Error ? error.message : String(error)} — check the path`);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    // Not JSON.parse's message: it quotes the file's bytes, and the path given may be any file.
    throw new InputScriptFileError(`${filePath} is not JSON: ${describeJsonSyntaxError(text)}`);
  }
  const result = parseInputScript(document);
  if (!result.ok) throw new InputScriptFileError(`${filePath} is not a usable script:\n${result.problems.map((problem) => `  ${problem}`).join('\n')}`);
  return result.steps;
}
