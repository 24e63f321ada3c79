// `npm run audit`: `npm audit --omit=dev` on the runtime dependencies, failing on any high or critical
// advisory that docs/security.md ("Dependency audit") does not justify by its GHSA id. When the
// registry's audit endpoint cannot be reached it says so and exits 0: no verdict is not a pass, and the
// message says where to run it. Runs in Node (through tsx); CI runs it from .ci/run.

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');

/** Severities that fail the audit unless justified. */
const FAILING_SEVERITIES = new Set(['high', 'critical']);

/** One advisory npm audit reports against an installed package. */
export interface AuditFinding {
  readonly packageName: string;
  readonly severity: string;
  readonly title: string;
  /** The GitHub advisory id (GHSA-xxxx-xxxx-xxxx), read from the advisory's URL; null when absent. */
  readonly advisoryId: string | null;
  readonly url: string;
}

/** What one audit run decided. */
export type AuditVerdict =
  | { readonly kind: 'unavailable'; readonly reason: string }
  | { readonly kind: 'clean'; readonly justified: readonly AuditFinding[]; readonly belowThreshold: readonly AuditFinding[] }
  | { readonly kind: 'failing'; readonly unjustified: readonly AuditFinding[]; readonly justified: readonly AuditFinding[] };

const GHSA_PATTERN = /GHSA(?:-[23456789cfghjmpqrvwx]{4}){3}/gi;

/**
 * The advisories docs/security.md justifies: every GHSA id after the "Justified advisories" paragraph
 * of its "Dependency audit" section (ids elsewhere, such as the manual review's table, accept nothing).
 */
export function justifiedAdvisories(securityDoc: string): Set<string> {
  const start = securityDoc.search(/^## Dependency audit\b/m);
  if (start === -1) return new Set();
  const rest = securityDoc.slice(start + 1);
  const end = rest.search(/^## /m);
  const section = end === -1 ? rest : rest.slice(0, end);
  const table = section.search(/^Justified advisories\b/m);
  if (table === -1) return new Set();
  return new Set([...section.slice(table).matchAll(GHSA_PATTERN)].map((match) => match[0].toUpperCase()));
}

/** The direct advisories of `npm audit --json` (npm 7+ format); transitive "via" names are followed by npm itself. */
export function auditFindings(report: unknown): AuditFinding[] {
  if (typeof report !== 'object' || report === null) return [];
  const vulnerabilities = (report as { vulnerabilities?: unknown }).vulnerabilities;
  if (typeof vulnerabilities !== 'object' || vulnerabilities === null) return [];
  const findings: AuditFinding[] = [];
  for (const [packageName, entry] of Object.entries(vulnerabilities as Record<string, unknown>)) {
    const via = (entry as { via?: unknown }).via;
    if (!Array.isArray(via)) continue;
    for (const source of via) {
      if (typeof source !== 'object' || source === null) continue;
      const advisory = source as { severity?: unknown; title?: unknown; url?: unknown };
      const url = typeof advisory.url === 'string' ? advisory.url : '';
      const id = url.match(GHSA_PATTERN)?.[0]?.toUpperCase() ?? null;
      findings.push({
        packageName,
        severity: typeof advisory.severity === 'string' ? advisory.severity : 'unknown',
        title: typeof advisory.title === 'string' ? advisory.title : '(no title)',
        advisoryId: id,
        url,
      });
    }
  }
  return findings;
}

/** Decides from npm audit's JSON output (or its failure) and the justified advisory ids. */
export function auditVerdict(output: string, justified: ReadonlySet<string>): AuditVerdict {
  let report: unknown;
  try {
    report = JSON.parse(output);
  } catch {
    return { kind: 'unavailable', reason: 'npm audit printed no JSON report' };
  }
  if ((report as { vulnerabilities?: unknown } | null)?.vulnerabilities === undefined) {
    // npm's error report: the registry's own answer in `message` (e.g. "405 Method Not Allowed - POST
    // …/advisories/bulk" where only GET is allowed), and `error.summary`, often empty.
    const failed = report as { message?: unknown; error?: { summary?: unknown } } | null;
    const summary = failed?.error?.summary;
    const reason =
      typeof failed?.message === 'string' && failed.message.length > 0
        ? failed.message
        : typeof summary === 'string' && summary.length > 0
          ? summary
          : 'npm audit answered without a vulnerability list';
    return { kind: 'unavailable', reason: reason.split('\n')[0]! };
  }
  const findings = auditFindings(report);
  const failing = findings.filter((finding) => FAILING_SEVERITIES.has(finding.severity));
  const isJustified = (finding: AuditFinding): boolean => finding.advisoryId !== null && justified.has(finding.advisoryId);
  const unjustified = failing.filter((finding) => !isJustified(finding));
  const justifiedFindings = failing.filter(isJustified);
  if (unjustified.length > 0) return { kind: 'failing', unjustified, justified: justifiedFindings };
  return { kind: 'clean', justified: justifiedFindings, belowThreshold: findings.filter((finding) => !FAILING_SEVERITIES.has(finding.severity)) };
}

function describeFinding(finding: AuditFinding): string {
  return `${finding.severity.padEnd(8)} ${finding.packageName}: ${finding.title} (${finding.advisoryId ?? finding.url})`;
}

function runNpmAudit(): Promise<string> {
  return new Promise((resolveRun) => {
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const child = spawn(npm, ['audit', '--omit=dev', '--json'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', () => resolveRun(''));
    // npm audit exits non-zero when it finds anything: the JSON decides, not the status.
    child.on('close', () => resolveRun(output));
  });
}

async function main(): Promise<number> {
  const justified = justifiedAdvisories(readFileSync(resolve(root, 'docs/security.md'), 'utf8'));
  const verdict = auditVerdict(await runNpmAudit(), justified);
  switch (verdict.kind) {
    case 'unavailable':
      console.error(`! npm audit could not run here: ${verdict.reason}.`);
      console.error('  The runtime dependencies were NOT audited. Run `npm run audit` on a machine that reaches');
      console.error('  the npm registry\'s audit endpoint (POST /-/npm/v1/security/advisories/bulk).');
      return 0;
    case 'failing':
      console.error(`✗ npm audit: ${verdict.unjustified.length} high or critical advisory(ies) not justified in docs/security.md:`);
      for (const finding of verdict.unjustified) console.error(`  ${describeFinding(finding)}`);
      console.error('  Update the dependency (npm update PACKAGE), or justify the advisory by its GHSA id under');
      console.error('  "Dependency audit" in docs/security.md (why it cannot be reached from RetroVisor).');
      return 1;
    case 'clean':
      console.error(`✓ npm audit: no unjustified high or critical advisory in the runtime dependencies`);
      for (const finding of verdict.justified) console.error(`  justified: ${describeFinding(finding)}`);
      for (const finding of verdict.belowThreshold) console.error(`  below threshold: ${describeFinding(finding)}`);
      return 0;
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  process.exit(await main());
}
