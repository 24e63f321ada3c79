// The demo tour's report: the event log (JSON lines), one PNG per step, an index.html listing the
// steps with their screenshots and outcome, and the summary printed at the end. Runs in Node.

import { appendFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** How a step ended. */
export type StepStatus = 'passed' | 'failed' | 'not run';

/** One step's outcome, as the report shows it. */
export interface StepResult {
  readonly id: string;
  readonly title: string;
  readonly description: string;
  readonly status: StepStatus;
  /** What the step saw, one line each. */
  readonly notes: readonly string[];
  /** Why it failed or did not run. */
  readonly error: string | null;
  readonly durationMs: number;
  /** The screenshot's file name inside the report folder, or null when none could be taken. */
  readonly screenshot: string | null;
}

/** The report folder being written: events as they happen, the rest at the end. */
export class TourReport {
  private readonly eventsPath: string;

  /** Empties `folder` (a previous tour's report) and opens its event log. */
  constructor(readonly folder: string) {
    rmSync(folder, { recursive: true, force: true });
    mkdirSync(folder, { recursive: true });
    this.eventsPath = join(folder, 'events.jsonl');
    writeFileSync(this.eventsPath, '');
  }

  /** Appends one event (a JSON line with its time and source). */
  event(source: string, fields: Readonly<Record<string, unknown>>): void {
    appendFileSync(this.eventsPath, `${JSON.stringify({ time: new Date().toISOString(), source, ...fields })}\n`);
  }

  /** The file name of step `index`'s screenshot. */
  screenshotName(index: number, id: string): string {
    return `${String(index + 1).padStart(2, '0')}-${id}.png`;
  }

  /** Writes index.html and results.json; returns the index's path. */
  finish(results: readonly StepResult[], info: { readonly version: string; readonly startedAt: Date }): string {
    writeFileSync(join(this.folder, 'results.json'), `${JSON.stringify({ version: info.version, startedAt: info.startedAt.toISOString(), steps: results }, null, 2)}\n`);
    const indexPath = join(this.folder, 'index.html');
    writeFileSync(indexPath, renderIndex(results, info));
    return indexPath;
  }
}

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ESCAPES[char] ?? char);
}

const STATUS_MARK: Readonly<Record<StepStatus, string>> = { passed: '✓', failed: '✗', 'not run': '–' };

/** The report's index.html: self-contained (inline style, relative image links), every value escaped. */
export function renderIndex(results: readonly StepResult[], info: { readonly version: string; readonly startedAt: Date }): string {
  const passed = results.filter((result) => result.status === 'passed').length;
  const verdict = passed === results.length ? 'every step passed' : `${results.length - passed} of ${results.length} steps did not pass`;
  const steps = results
    .map((result, index) => {
      const notes = result.notes.map((note) => `<li>${escapeHtml(note)}</li>`).join('');
      return `
    <section class="step ${result.status.replace(' ', '-')}" id="${escapeHtml(result.id)}">
      <header>
        <span class="mark">${STATUS_MARK[result.status]}</span>
        <h2>${index + 1}. ${escapeHtml(result.title)}</h2>
        <span class="meta">${escapeHtml(result.id)} · ${result.status} · ${(result.durationMs / 1000).toFixed(1)} s</span>
      </header>
      <p class="description">${escapeHtml(result.description)}</p>
      ${result.error === null ? '' : `<p class="error">${escapeHtml(result.error)}</p>`}
      ${notes === '' ? '' : `<ul class="notes">${notes}</ul>`}
      ${result.screenshot === null ? '<p class="no-shot">No screenshot.</p>' : `<a href="${escapeHtml(result.screenshot)}"><img src="${escapeHtml(result.screenshot)}" alt="${escapeHtml(`The app after: ${result.title}`)}" loading="lazy"></a>`}
    </section>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>RetroVisor demo tour: ${escapeHtml(verdict)}</title>
<style>
  body { margin: 0; padding: 32px; background: #0d1016; color: #e6e9ef; font: 14px/1.5 system-ui, sans-serif; }
  main { max-width: 1180px; margin: 0 auto; }
  a { color: #7aa7ff; }
  h1 { margin: 0 0 4px; font-size: 24px; }
  .summary { margin: 0 0 28px; color: #8d97a8; }
  .summary strong { color: ${passed === results.length ? '#3fcf8e' : '#f2607a'}; }
  .step { margin: 0 0 28px; padding: 18px 20px 20px; border-radius: 10px; background: #151a23; border: 1px solid #262e3b; }
  .step header { display: flex; align-items: baseline; gap: 12px; }
  .step h2 { margin: 0; font-size: 16px; flex: 1; }
  .mark { font-size: 18px; font-weight: 700; }
  .passed .mark { color: #3fcf8e; }
  .failed { border-color: rgba(242, 96, 122, 0.55); }
  .failed .mark, .not-run .mark { color: #f2607a; }
  .meta { color: #5d6778; font-size: 12px; }
  .description { margin: 6px 0 0; color: #8d97a8; }
  .error { margin: 10px 0 0; padding: 8px 12px; border-radius: 6px; background: rgba(242, 96, 122, 0.1); color: #ff9fb0; white-space: pre-wrap; }
  .notes { margin: 10px 0 0; padding-left: 20px; color: #c3c9d4; }
  img { display: block; width: 100%; margin-top: 14px; border-radius: 6px; border: 1px solid #262e3b; }
  .no-shot { color: #5d6778; }
</style>
</head>
<body>
<main>
  <h1>RetroVisor demo tour</h1>
  <p class="summary">RetroVisor ${escapeHtml(info.version)}, ${escapeHtml(info.startedAt.toISOString())}: <strong>${escapeHtml(verdict)}</strong> (${passed} of ${results.length} passed). The event log is <a href="events.jsonl">events.jsonl</a>.</p>
${steps}
</main>
</body>
</html>
`;
}

/** The summary printed at the end of the tour. */
export function formatSummary(results: readonly StepResult[], indexPath: string, workingDirectory: string): string {
  const passed = results.filter((result) => result.status === 'passed').length;
  const idWidth = Math.max(...results.map((result) => result.id.length));
  const lines = [`RetroVisor demo tour: ${passed} of ${results.length} steps passed`];
  for (const result of results) {
    lines.push(`  ${STATUS_MARK[result.status]} ${result.id.padEnd(idWidth)}  ${result.title} (${(result.durationMs / 1000).toFixed(1)} s)`);
    if (result.error !== null) lines.push(`      ${result.error.split('\n').join('\n      ')}`);
  }
  lines.push(`Report: ${relative(workingDirectory, indexPath) || indexPath}`);
  return lines.join('\n');
}
