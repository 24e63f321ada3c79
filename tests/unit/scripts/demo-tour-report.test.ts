// The demo tour's report in plain Node: the folder it writes (events, index.html, results.json),
// every shown value escaped, failures and steps that did not run visible, and the printed summary.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { TourReport, escapeHtml, formatSummary, type StepResult } from '../../../scripts/demo-tour/report';

const parent = mkdtempSync(path.join(os.tmpdir(), 'retrovisor-tour-report-'));

after(() => rmSync(parent, { recursive: true, force: true }));

const RESULTS: StepResult[] = [
  { id: 'open-demo-lab', title: 'One click opens the demo lab', description: 'Clicks it.', status: 'passed', notes: ['Connected: r1, r2, r3.'], error: null, durationMs: 1200, screenshot: '02-open-demo-lab.png' },
  { id: 'type', title: 'Typing <reaches> every replica', description: 'Types "x".', status: 'failed', notes: [], error: 'it did not reach r2 & r3', durationMs: 5100, screenshot: '03-type.png' },
  { id: 'l0-start', title: 'The L0 brings r2 back', description: 'Starts r2.', status: 'not run', notes: [], error: 'not run: it needs fault-crash, which did not pass', durationMs: 0, screenshot: null },
];

describe('demo tour report', { timeout: 60_000 }, () => {
  it('escapes everything it shows', () => {
    assert.equal(escapeHtml(`<img src=x onerror="alert('1')">&`), '&lt;img src=x onerror=&quot;alert(&#39;1&#39;)&quot;&gt;&amp;');
  });

  it('writes the event log, results.json and an index listing each step with its screenshot and outcome', () => {
    const folder = path.join(parent, 'demo-report');
    writeFileSync(path.join(parent, 'stale.txt'), 'kept: outside the report');
    const report = new TourReport(folder);
    report.event('tour', { type: 'start' });
    report.event('replica', { replicaId: 'r1', state: 'connected' });
    assert.equal(report.screenshotName(1, 'open-demo-lab'), '02-open-demo-lab.png');
    const indexPath = report.finish(RESULTS, { version: '9.9.9', startedAt: new Date('2026-01-02T03:04:05Z') });

    const events = readFileSync(path.join(folder, 'events.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.deepEqual(
      events.map((event) => [event.source, event.type ?? event.state]),
      [
        ['tour', 'start'],
        ['replica', 'connected'],
      ],
    );
    assert.ok(typeof events[0]?.time === 'string');

    const html = readFileSync(indexPath, 'utf8');
    assert.match(html, /<title>RetroVisor demo tour: 2 of 3 steps did not pass<\/title>/);
    assert.match(html, /<img src="02-open-demo-lab.png"/);
    assert.match(html, /Typing &lt;reaches&gt; every replica/);
    assert.match(html, /it did not reach r2 &amp; r3/);
    assert.match(html, /class="step not-run"[\s\S]*No screenshot\./);
    assert.doesNotMatch(html, /<reaches>/);
    const saved = JSON.parse(readFileSync(path.join(folder, 'results.json'), 'utf8')) as { steps: StepResult[] };
    assert.deepEqual(
      saved.steps.map((step) => step.status),
      ['passed', 'failed', 'not run'],
    );

    // A second tour starts from an empty folder.
    new TourReport(folder);
    assert.equal(existsSync(indexPath), false);
    assert.equal(existsSync(path.join(parent, 'stale.txt')), true);
  });

  it('prints a summary with each step, why it failed and where the report is', () => {
    const summary = formatSummary(RESULTS, path.join(parent, 'demo-report', 'index.html'), parent);
    assert.equal(
      summary,
      [
        'RetroVisor demo tour: 1 of 3 steps passed',
        '  ✓ open-demo-lab  One click opens the demo lab (1.2 s)',
        '  ✗ type           Typing <reaches> every replica (5.1 s)',
        '      it did not reach r2 & r3',
        '  – l0-start       The L0 brings r2 back (0.0 s)',
        '      not run: it needs fault-crash, which did not pass',
        `Report: ${path.join('demo-report', 'index.html')}`,
      ].join('\n'),
    );
  });
});
