// Temporary folders a test file makes (profiles, scripts, data folders), removed when the test
// file's process exits, so that runs of the suite leave nothing behind in the system's temporary
// folder. A folder is still there while the test runs, for the app under test to read and write.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];

function removeAll(): void {
  for (const folder of made.splice(0)) rmSync(folder, { recursive: true, force: true });
}

/** A new empty folder in the temporary folder, named `retrovisor-<prefix>-XXXXXX`, removed at exit. */
export function scratchFolder(prefix: string): string {
  const folder = mkdtempSync(join(tmpdir(), `retrovisor-${prefix}-`));
  if (made.length === 0) process.once('exit', removeAll);
  made.push(folder);
  return folder;
}
