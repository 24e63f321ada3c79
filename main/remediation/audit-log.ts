// The remediation audit log: every decision of the manager (including decisions not to act, and
// why) and every command run on an L0 (argv, exit status, duration, stderr excerpt), appended as JSON
// lines to `<data folder>/<profile>/audit.jsonl` (mode 0600, folder 0700). Runs in Node.

import { constants } from 'node:fs';
import { chmod, mkdir, open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { MAX_AUDIT_ENTRIES_IN_VIEW, type AuditEntry } from '../../common/contract';
import { clipText, escapeControl } from '../../common/terminal-text';
import { folderName } from '../divergence-evidence';
import { errorMessage, type Logger, type SecretRedactor } from '../logger';

/** Longest stderr excerpt or detail text an entry keeps. */
export const MAX_AUDIT_TEXT_CHARS = 500;

// Control characters escaped: a server's or virsh's text must never drive a terminal that shows the log.
function clip(text: string): string {
  return clipText(escapeControl(text), MAX_AUDIT_TEXT_CHARS);
}

/** Where a profile's audit log goes. */
export function auditFilePath(dataRoot: string, profileName: string): string {
  return path.join(dataRoot, folderName(profileName), 'audit.jsonl');
}

/** One session's audit log: a file written in order, and the newest entries kept for the UI. */
export class AuditLog {
  private readonly recent: AuditEntry[] = [];
  private handle: Promise<FileHandle | null> | null = null;
  private writing: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    /** Absolute path of the audit.jsonl file. */
    readonly file: string,
    private readonly logger: Logger,
    private readonly redactor: SecretRedactor,
  ) {}

  /** The newest entries, oldest first (at most MAX_AUDIT_ENTRIES_IN_VIEW). */
  entries(): readonly AuditEntry[] {
    return this.recent;
  }

  /** Appends an entry (texts clipped, control characters escaped, secrets redacted); returns the entry as kept. */
  append(entry: AuditEntry): AuditEntry {
    const clean: AuditEntry = {
      ...entry,
      detail: clip(this.redactor.redact(entry.detail)),
      ...(entry.stderr === undefined ? {} : { stderr: clip(this.redactor.redact(entry.stderr)) }),
      ...(entry.argv === undefined ? {} : { argv: entry.argv.map((argument) => this.redactor.redact(argument)) }),
    };
    this.recent.push(clean);
    if (this.recent.length > MAX_AUDIT_ENTRIES_IN_VIEW) this.recent.splice(0, this.recent.length - MAX_AUDIT_ENTRIES_IN_VIEW);
    if (!this.closed) {
      const line = `${JSON.stringify({ time: new Date(clean.timeMs).toISOString(), ...clean })}\n`;
      this.writing = this.writing.then(() => this.write(line));
    }
    return clean;
  }

  /** Resolves once every entry appended so far is in the file. */
  flushed(): Promise<void> {
    return this.writing;
  }

  /** Writes what is pending and closes the file. */
  async close(): Promise<void> {
    this.closed = true;
    await this.writing;
    const handle = await this.handle;
    this.handle = null;
    await handle?.close().catch(() => undefined);
  }

  private async write(line: string): Promise<void> {
    this.handle ??= this.openFile();
    const handle = await this.handle;
    if (handle === null) return;
    try {
      await handle.appendFile(line);
    } catch (error) {
      this.logger.warn('cannot append to the audit log', { file: this.file, error: errorMessage(error) });
    }
  }

  private async openFile(): Promise<FileHandle | null> {
    try {
      const folder = path.dirname(this.file);
      await mkdir(folder, { recursive: true, mode: 0o700 });
      // mkdir's mode only applies to folders it creates: the divergence evidence may have made this one first.
      await chmod(folder, 0o700);
      // O_NOFOLLOW: a symlink planted where the log goes is refused, not written through.
      const handle = await open(this.file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
      try {
        // Through the handle, not the path: the file opened is the one made private.
        await handle.chmod(0o600);
      } catch (error) {
        await handle.close().catch(() => undefined);
        throw error;
      }
      return handle;
    } catch (error) {
      this.logger.warn('cannot open the audit log: decisions are kept in memory only', { file: this.file, error: errorMessage(error) });
      return null;
    }
  }
}
