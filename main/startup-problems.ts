// The command line's profile, when it cannot be opened: its path and every problem printed on the
// terminal (escaped: a profile's text cannot drive it) before the page shows them too. Node-side.

import { formatProblems, type ProfileProblem } from '../common/profile';
import { escapeControl } from '../common/terminal-text';
import type { Backend } from './backend';

/** Problems one per line, every control character escaped (a profile or a file path chooses its text). */
export function terminalProblems(problems: readonly ProfileProblem[]): string {
  return formatProblems(problems.map((problem) => ({ path: escapeControl(problem.path), message: escapeControl(problem.message) })));
}

/**
 * Opens the startup session (`--profile FILE`) now and, when it fails, writes the file's path and its
 * problems to `stderr`. Returns whether it failed (the shell keeps serving: the page shows the same).
 */
export async function printStartupProblems(backend: Backend, profilePath: string, stderr: NodeJS.WritableStream): Promise<boolean> {
  const opened = (await backend.handlers.getStartup()).startupSession;
  if (opened === null || opened.ok) return false;
  const file = escapeControl(opened.source ?? profilePath);
  stderr.write(
    `retrovisor: the profile ${file} could not be opened:\n${terminalProblems(opened.problems)}\n` +
      'retrovisor: the page shows these problems too; fix the file and reload the page, or open another profile there.\n',
  );
  return true;
}
