// `npm run demo`: a scripted, headless tour of RetroVisor on its built-in demo lab. Runs the back end
// and the browser shell in-process, drives the real UI in headless Chromium step by step and writes
// demo-report/ (a PNG per step, events.jsonl, index.html); exits 1 if a step fails. Runs in Node (tsx).

import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium, type Browser } from 'playwright-core';
import { createBackend } from '../main/backend';
import { startBrowserShell } from '../main/browser-shell';
import { CHROMIUM_INSTALL_HINT, headlessChromiumFlags } from '../main/chromium';
import { createLogger } from '../main/logger';
import { TourReport, formatSummary, type StepResult } from './demo-tour/report';
import { TOUR_STEPS, type TourContext } from './demo-tour/steps';

const root = resolve(import.meta.dirname, '..');
const CHROMIUM_PATH = process.env.RETROVISOR_CHROMIUM ?? '/usr/bin/chromium';
const VIEWPORT = { width: 1440, height: 900 };
const EXIT = { passed: 0, failed: 1, badInput: 2 } as const;

function usageError(message: string): never {
  process.stderr.write(`demo tour: ${message}\nUsage: npm run demo [-- --out DIR]\n`);
  process.exit(EXIT.badInput);
}

function withTimeout<T>(work: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${timeoutMs / 1000} s`)), timeoutMs);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args: process.argv.slice(2), options: { out: { type: 'string', default: 'demo-report' } }, strict: true }));
  } catch (error) {
    usageError(error instanceof Error ? error.message : String(error));
  }
  const outFolder = resolve(process.cwd(), values.out);
  const staticRoot = join(root, 'dist', 'renderer');
  if (!existsSync(join(staticRoot, 'app.js'))) usageError('the renderer is not built: run `npm run build` (npm run demo builds it first)');
  if (!existsSync(CHROMIUM_PATH)) usageError(`no Chromium at ${CHROMIUM_PATH}: install it (${CHROMIUM_INSTALL_HINT}) or set RETROVISOR_CHROMIUM`);

  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  const startedAt = new Date();
  const report = new TourReport(outFolder);
  report.event('tour', { type: 'start', version, steps: TOUR_STEPS.map((step) => step.id) });

  const logger = createLogger({
    level: 'info',
    format: 'json',
    sink: (line) => {
      try {
        // The log line's own fields go under "fields": one of them ("source") would shadow the event's.
        const { level, message, time: _time, ...fields } = JSON.parse(line) as Record<string, unknown>;
        report.event('backend', { level, message, ...(Object.keys(fields).length > 0 ? { fields } : {}) });
      } catch {
        report.event('backend', { line });
      }
    },
  });
  const backend = createBackend({ shell: 'browser', headless: false, version, logger });
  const stopReports = backend.onReplicaReport((state) => report.event('replica', { ...state }));
  const stopNotices = backend.onEvent('notice', (notice) => report.event('notice', { ...notice }));
  const shell = await startBrowserShell({ backend, staticRoot, logger });

  let browser: Browser | null = null;
  const results: StepResult[] = [];
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: [...headlessChromiumFlags()] });
    const page = await browser.newPage({ viewport: VIEWPORT });
    page.on('pageerror', (error) => report.event('page', { type: 'error', message: error.message }));
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') report.event('page', { type: message.type(), message: message.text() });
    });

    for (const [index, step] of TOUR_STEPS.entries()) {
      const notes: string[] = [];
      const context: TourContext = {
        page,
        backend,
        url: shell.url,
        note: (text) => {
          notes.push(text);
          report.event('tour', { type: 'note', step: step.id, text });
        },
      };
      const unmet = step.needs.filter((id) => results.find((result) => result.id === id)?.status !== 'passed');
      const started = Date.now();
      let error: string | null = unmet.length > 0 ? `not run: it needs ${unmet.join(', ')}, which did not pass` : null;
      report.event('tour', { type: 'step', step: step.id, title: step.title });
      process.stdout.write(`» ${step.title}\n`);
      if (error === null) {
        try {
          await withTimeout(step.run(context), step.timeoutMs, step.id);
        } catch (failure) {
          error = failure instanceof Error ? failure.message : String(failure);
        }
      }
      let screenshot: string | null = report.screenshotName(index, step.id);
      try {
        // A moment for the last frame to reach the screen before the picture.
        await page.waitForTimeout(300);
        await page.screenshot({ path: join(outFolder, screenshot) });
      } catch (shotError) {
        report.event('tour', { type: 'screenshot-failed', step: step.id, message: shotError instanceof Error ? shotError.message : String(shotError) });
        screenshot = null;
      }
      const status = unmet.length > 0 ? 'not run' : error === null ? 'passed' : 'failed';
      const result: StepResult = { id: step.id, title: step.title, description: step.description, status, notes, error, durationMs: Date.now() - started, screenshot };
      results.push(result);
      report.event('tour', { type: 'result', step: step.id, status, error, durationMs: result.durationMs });
    }
  } catch (error) {
    // The browser itself failed: every step not yet run is reported with why.
    const message = error instanceof Error ? error.message : String(error);
    for (const step of TOUR_STEPS.slice(results.length)) {
      results.push({ id: step.id, title: step.title, description: step.description, status: 'not run', notes: [], error: `the browser failed: ${message}`, durationMs: 0, screenshot: null });
    }
  } finally {
    await browser?.close().catch(() => undefined);
    stopReports();
    stopNotices();
    await shell.close();
    await backend.close();
  }

  const indexPath = report.finish(results, { version, startedAt });
  report.event('tour', { type: 'end', passed: results.filter((result) => result.status === 'passed').length, steps: results.length });
  process.stdout.write(`\n${formatSummary(results, indexPath, process.cwd())}\n`);
  return results.every((result) => result.status === 'passed') ? EXIT.passed : EXIT.failed;
}

process.exit(await main());
