// scripts/audit.ts decides from npm audit's JSON: high and critical advisories fail unless
// docs/security.md justifies them by GHSA id; an unreachable audit endpoint is "unavailable", never "clean".

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { auditVerdict, justifiedAdvisories } from '../../../scripts/audit';

/** A report in npm 10's `npm audit --json` shape. */
function report(vulnerabilities: Record<string, { severity: string; via: unknown[] }>): string {
  return JSON.stringify({ auditReportVersion: 2, vulnerabilities, metadata: { vulnerabilities: {} } });
}

function advisory(severity: string, id: string, title = 'Something bad') {
  return { source: 1, name: 'pkg', dependency: 'pkg', title, url: `https://github.com/advisories/${id}`, severity, range: '<1.2.3' };
}

const DOC = `# Security\n\n## Dependency audit\n\nReviewed by hand: GHSA-7777-8888-9999 is fixed in the installed version.\n\nJustified advisories:\n\n| GHSA-c2qf-rxjj-qqgw | ws | only reachable from the network, which the shell never listens on |\n\n## Other\n\nGHSA-2222-3333-4444 is mentioned elsewhere and justifies nothing.\n`;

describe('npm audit verdict', { timeout: 10_000 }, () => {
  it('reads the justified advisories from the "Dependency audit" section\'s table only', () => {
    assert.deepEqual([...justifiedAdvisories(DOC)], ['GHSA-C2QF-RXJJ-QQGW']);
    assert.deepEqual([...justifiedAdvisories('# Security\nno section\n')], []);
  });

  it('fails on an unjustified high or critical advisory and names it', () => {
    const verdict = auditVerdict(report({ sharp: { severity: 'critical', via: [advisory('critical', 'GHSA-9999-8888-7777')] } }), justifiedAdvisories(DOC));
    assert.equal(verdict.kind, 'failing');
    assert.equal(verdict.kind === 'failing' && verdict.unjustified[0]?.advisoryId, 'GHSA-9999-8888-7777');
  });

  it('passes when every high advisory is justified, and lists moderate ones without failing', () => {
    const verdict = auditVerdict(
      report({
        ws: { severity: 'high', via: [advisory('high', 'GHSA-c2qf-rxjj-qqgw')] },
        react: { severity: 'moderate', via: [advisory('moderate', 'GHSA-7777-6666-5555')] },
        // A transitive entry names its cause by package name only: the cause's own entry decides.
        'react-dom': { severity: 'moderate', via: ['react'] },
      }),
      justifiedAdvisories(DOC),
    );
    assert.equal(verdict.kind, 'clean');
    assert.equal(verdict.kind === 'clean' && verdict.justified.length, 1);
    assert.equal(verdict.kind === 'clean' && verdict.belowThreshold.length, 1);
  });

  it('passes a report with no vulnerabilities', () => {
    assert.equal(auditVerdict(report({}), new Set()).kind, 'clean');
  });

  it('reports an unreachable endpoint as unavailable with the registry\'s answer, never as clean', () => {
    const refused = JSON.stringify({
      message: '405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk',
      statusCode: 405,
      error: { summary: '', detail: '' },
    });
    assert.deepEqual(auditVerdict(refused, new Set()), {
      kind: 'unavailable',
      reason: '405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk',
    });
    assert.equal(auditVerdict('', new Set()).kind, 'unavailable');
    assert.equal(auditVerdict(JSON.stringify({ error: { code: 'ENOTFOUND', summary: 'getaddrinfo ENOTFOUND registry.npmjs.org' } }), new Set()).kind, 'unavailable');
  });

  it('the project\'s own docs/security.md has the section the script reads', () => {
    const doc = readFileSync(resolve(import.meta.dirname, '../../../docs/security.md'), 'utf8');
    assert.match(doc, /^## Dependency audit$/m);
    assert.match(doc, /^Justified advisories\b/m);
    // The manual review's GHSA ids are findings checked, not findings accepted.
    assert.ok(!justifiedAdvisories(doc).has('GHSA-652H-XWHF-Q4H6'));
  });
});
