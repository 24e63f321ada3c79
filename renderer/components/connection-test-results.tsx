// What a "Test" button of the profile editor found: each step with its outcome and detail, read out
// as it arrives (aria-live). Runs in the renderer.

import type { ReactElement } from 'react';
import type { ConnectionTestReport, TestStepOutcome } from '../../common/connection-test';

/** A Test as the editor holds it: running, done with a report, or failed to run at all. */
export interface TestRun {
  readonly running: boolean;
  readonly report?: ConnectionTestReport;
  readonly error?: string;
}

const OUTCOME_MARKS: Readonly<Record<TestStepOutcome, string>> = { passed: '✓', failed: '✗', warning: '!', skipped: '–' };
const OUTCOME_WORDS: Readonly<Record<TestStepOutcome, string>> = { passed: 'passed', failed: 'failed', warning: 'warning', skipped: 'not run' };

/** The steps of one Test (or "Testing…"), for a replica or an L0. */
export function ConnectionTestResults({ run, testId }: { readonly run: TestRun | undefined; readonly testId: string }): ReactElement {
  return (
    <div className="test-results" aria-live="polite" data-testid={testId} data-state={run === undefined ? 'none' : run.running ? 'running' : run.error !== undefined ? 'error' : run.report?.ok === true ? 'ok' : 'failed'}>
      {run?.running === true ? (
        <p className="test-running">
          <span className="spinner spinner-small" aria-hidden="true" /> Testing…
        </p>
      ) : null}
      {run?.running !== true && run?.error !== undefined ? <p className="test-error">The test could not run: {run.error}</p> : null}
      {run?.running !== true && run?.report !== undefined ? (
        <ul className="test-steps">
          {run.report.steps.map((step) => (
            <li key={step.id} className={`test-step test-${step.outcome}`} data-testid="test-step" data-step-id={step.id} data-outcome={step.outcome}>
              <span className="test-mark" aria-hidden="true">
                {OUTCOME_MARKS[step.outcome]}
              </span>
              <span className="test-title">
                {step.title} <span className="visually-hidden">({OUTCOME_WORDS[step.outcome]})</span>
              </span>
              <span className="test-detail">{step.detail}</span>
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
