// The start screen: the saved profiles (the library, first), the built-in demo lab, open a profile
// (file picker, drop anywhere, or its path typed in), or quick-connect to a list of VNC endpoints; a
// failed profile's problems are listed below. The profile editor takes its place while open. Runs in the renderer.

import { useCallback, useState, type ChangeEvent, type FormEvent, type ReactElement } from 'react';
import { useAppController } from '../app-context';
import { useProfileDrop } from '../hooks/use-profile-drop';
import { dropChoice } from '../library/drop-choice';
import { describeFailedSave } from '../library/library-controller';
import { useAppStore } from '../store';
import { DemoLabCard } from './demo-lab-card';
import { BrandMark, FileIcon } from './icons';
import { ProfileEditor } from './profile-editor';
import { importSourcesOf, ProfileLibrary } from './profile-library';
import { ProfileProblems } from './profile-problems';
import { QuickConnectForm } from './quick-connect-form';

/** Shown while no session is open. */
export function StartScreen(): ReactElement {
  const controller = useAppController();
  const opening = useAppStore((state) => state.opening);
  const version = useAppStore((state) => state.version);
  const shell = useAppStore((state) => state.shell);
  const editing = useAppStore((state) => state.editing);
  const openFile = useCallback((file: File) => void controller.openProfileFile(file), [controller]);
  // Outside the library section, one profile file opens (as it always did); other tools' files are imported.
  const onDropFiles = useCallback(
    (files: readonly File[]) => {
      const [first] = files;
      if (first !== undefined && dropChoice(files.map((file) => file.name)) === 'open') {
        openFile(first);
        return;
      }
      void (async () => {
        const { sources, problems } = await importSourcesOf(files);
        const result = sources.length === 0 ? null : await controller.library.importSources(sources);
        const failed = result === null ? [] : result.kind === 'unreadable' ? result.problems.map((problem) => `${problem.source}: ${problem.message}`) : result.kind === 'saved' ? [] : [describeFailedSave(result)];
        for (const problem of [...problems, ...failed]) controller.pushNotice({ level: 'error', message: `Not imported: ${problem}` });
      })();
    },
    [controller, openFile],
  );
  const dropTarget = useProfileDrop(editing === null, onDropFiles);

  const onFileChosen = (event: ChangeEvent<HTMLInputElement>): void => {
    const file = event.target.files?.[0];
    // Cleared so that choosing the same file again (after fixing it) fires another change.
    event.target.value = '';
    if (file) openFile(file);
  };

  if (editing !== null) {
    return (
      <main className="start-screen">
        <div className="start-content editor-content">
          <ProfileEditor key={editing.id ?? 'new'} profileId={editing.id} />
        </div>
      </main>
    );
  }

  return (
    <main className="start-screen">
      <div className="start-content">
        <header className="start-hero">
          <BrandMark size={56} />
          <div>
            <h1>RetroVisor</h1>
            <p className="start-tagline">One window onto a virtual machine replicated across several hypervisors.</p>
          </div>
        </header>

        <ProfileLibrary />

        <DemoLabCard />

        <div className="start-cards">
          <section className="card" aria-labelledby="open-profile-title">
            <h2 id="open-profile-title" className="card-title">
              <FileIcon size={18} /> Open a profile
            </h2>
            <p className="card-text">A JSON file naming each replica, its VNC endpoint and how to reach it.</p>
            {/* The demo lab, the primary action, has its own card above; this one is secondary. */}
            <div className="start-actions">
              <label className={`button file-button${opening ? ' disabled' : ''}`}>
                <input
                  type="file"
                  accept=".json,application/json"
                  className="visually-hidden"
                  data-testid="open-profile-input"
                  disabled={opening}
                  onChange={onFileChosen}
                />
                <FileIcon size={15} />
                Open profile…
              </label>
            </div>
            <div className="drop-hint" aria-hidden="true">
              or drop a profile file anywhere in this window (on Saved profiles: to import it)
            </div>
            <OpenByPathForm />
          </section>

          <section className="card" aria-labelledby="quick-connect-title">
            <h2 id="quick-connect-title" className="card-title">
              Quick connect
            </h2>
            <p className="card-text">Watch a few VNC servers side by side without writing a profile.</p>
            <QuickConnectForm />
          </section>
        </div>

        <ProfileProblems />
      </div>

      <footer className="start-footer">
        {version !== null ? `RetroVisor ${version}` : 'RetroVisor'}
        {shell !== null ? ` · ${shell === 'electron' ? 'desktop app' : 'browser shell'}` : ''}
      </footer>

      {dropTarget === 'window' ? (
        <div className="drop-overlay" role="presentation">
          <div className="drop-overlay-box">
            <FileIcon size={36} />
            <p>Drop a profile to open it (or connection files to import them)</p>
          </div>
        </div>
      ) : null}
    </main>
  );
}

/**
 * "Open by path": the back end reads the file itself, so files the profile names relative to its own
 * folder are found (a picked or dropped file reaches a browser without its folder).
 */
function OpenByPathForm(): ReactElement {
  const controller = useAppController();
  const opening = useAppStore((state) => state.opening);
  const [path, setPath] = useState('');
  const submit = (event: FormEvent): void => {
    event.preventDefault();
    if (path.trim() !== '') void controller.openProfilePath(path.trim());
  };
  return (
    <form className="open-by-path" onSubmit={submit}>
      <label className="field-label" htmlFor="open-profile-path">
        Open by path <span className="field-optional">on the machine running RetroVisor</span>
      </label>
      <div className="open-by-path-row">
        <input
          id="open-profile-path"
          className="input mono"
          data-testid="open-profile-path"
          spellCheck={false}
          autoCapitalize="off"
          autoComplete="off"
          placeholder="/home/me/profiles/payments.json"
          value={path}
          onChange={(event) => setPath(event.target.value)}
        />
        <button type="submit" className="button" data-testid="open-profile-path-submit" disabled={opening || path.trim() === ''}>
          Open
        </button>
      </div>
    </form>
  );
}
