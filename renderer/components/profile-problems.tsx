// The problems of a profile that failed to open, one per line with its JSON path (as the CLI prints
// them). Runs in the renderer.

import type { ReactElement } from 'react';
import { useAppStore } from '../store';
import { AlertIcon, CloseIcon } from './icons';

/** Shows the last open failure's problems, if any. */
export function ProfileProblems(): ReactElement | null {
  const problems = useAppStore((state) => state.problems);
  const source = useAppStore((state) => state.problemsSource);
  const clearProblems = useAppStore((state) => state.clearProblems);
  if (problems.length === 0) return null;
  const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
  return (
    <section className="problems" role="alert" aria-labelledby="problems-title">
      <header className="problems-header">
        <AlertIcon size={18} className="problems-icon" />
        <h2 id="problems-title">
          {source ?? 'The profile'} could not be opened <span className="problems-count">{count}</span>
        </h2>
        <button type="button" className="icon-button" aria-label="Dismiss the problems" onClick={clearProblems}>
          <CloseIcon size={14} />
        </button>
      </header>
      <ul className="problems-list" data-testid="profile-problems">
        {problems.map((problem, index) => (
          <li key={`${problem.path}#${index}`}>
            <code className="problem-path">{problem.path}</code>
            <span className="problem-separator">: </span>
            <span className="problem-message">{problem.message}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}
