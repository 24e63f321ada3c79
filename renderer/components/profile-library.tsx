// The start screen's "Saved profiles": the library's profiles (most recently opened first) with
// search, open, edit, duplicate, export and delete (with undo), New profile, and Import… (file
// picker, vnc:// URIs, or files dropped on this section). Runs in the renderer.

import { useCallback, useEffect, useMemo, useRef, useState, type DragEvent, type FormEvent, type ReactElement } from 'react';
import type { ImportProfilesResult, SavedProfileSummary } from '../../common/contract';
import type { ImportInput } from '../../common/profile-import/import-profile';
import { formatImportProblem } from '../../common/profile-import/import-types';
import { MAX_IMPORT_SOURCES } from '../../common/contract';
import { MAX_PROFILE_BYTES } from '../../common/profile';
import { useAppController } from '../app-context';
import { useNow } from '../hooks/use-now';
import { describeFailedSave } from '../library/library-controller';
import { relativeTime } from '../library/relative-time';
import { useAppStore } from '../store';
import { AlertIcon, FileIcon, UndoIcon } from './icons';

/** How long a deleted profile's "Undo" stays offered. */
const UNDO_MS = 10_000;
/** The file types Import… accepts (RetroVisor JSON and other viewers' connection files). */
export const IMPORT_ACCEPT = '.json,.vv,.tigervnc,.remmina,application/json,application/x-virt-viewer';

/** Reads dropped or picked files as import sources; too large a file is a problem, not a source. */
export async function importSourcesOf(files: readonly File[]): Promise<{ sources: ImportInput[]; problems: string[] }> {
  const sources: ImportInput[] = [];
  const problems: string[] = [];
  for (const file of files.slice(0, MAX_IMPORT_SOURCES)) {
    if (file.size > MAX_PROFILE_BYTES) problems.push(`${file.name}: the file is ${file.size} bytes; at most ${MAX_PROFILE_BYTES} are imported`);
    else sources.push({ kind: 'file', name: file.name, text: await file.text() });
  }
  if (files.length > MAX_IMPORT_SOURCES) problems.push(`only the first ${MAX_IMPORT_SOURCES} files were imported`);
  return { sources, problems };
}

/** Problems of an import that saved nothing, one line each. */
function importFailure(result: ImportProfilesResult): string[] {
  if (result.kind === 'saved') return [];
  if (result.kind === 'unreadable') return result.problems.map(formatImportProblem);
  return [describeFailedSave(result)];
}

/** The library section of the start screen. */
export function ProfileLibrary(): ReactElement {
  const controller = useAppController();
  const library = useAppStore((state) => state.library);
  const opening = useAppStore((state) => state.opening);
  const [query, setQuery] = useState('');
  const [deleted, setDeleted] = useState<SavedProfileSummary | null>(null);
  const [importOpen, setImportOpen] = useState(false);
  const [importProblems, setImportProblems] = useState<readonly string[]>([]);
  const [dropping, setDropping] = useState(false);
  const now = useNow(true, 30_000);

  useEffect(() => {
    void controller.library.refresh();
  }, [controller]);

  // "Undo" is offered for a while after a delete, then the row is gone for good (the trash keeps it).
  useEffect(() => {
    if (deleted === null) return undefined;
    const timer = setTimeout(() => setDeleted(null), UNDO_MS);
    return () => clearTimeout(timer);
  }, [deleted]);

  const profiles = useMemo(() => {
    const all = library?.profiles ?? [];
    const wanted = query.trim().toLowerCase();
    return wanted === ''
      ? all
      : all.filter(
          (profile) =>
            profile.name.toLowerCase().includes(wanted) ||
            profile.id.toLowerCase().includes(wanted) ||
            profile.endpoints.some((endpoint) => endpoint.toLowerCase().includes(wanted)),
        );
  }, [library, query]);

  const runImport = useCallback(
    async (sources: ImportInput[], problems: readonly string[], name?: string): Promise<boolean> => {
      if (sources.length === 0) {
        setImportProblems(problems);
        return false;
      }
      try {
        const result = await controller.library.importSources(sources, name);
        setImportProblems([...problems, ...importFailure(result)]);
        return result.kind === 'saved';
      } catch (error) {
        setImportProblems([...problems, error instanceof Error ? error.message : String(error)]);
        return false;
      }
    },
    [controller],
  );

  const importFiles = useCallback(
    async (files: readonly File[]): Promise<void> => {
      const { sources, problems } = await importSourcesOf(files);
      await runImport(sources, problems);
    },
    [runImport],
  );

  const remove = async (profile: SavedProfileSummary): Promise<void> => {
    if (await controller.library.remove(profile.id)) setDeleted(profile);
  };

  const undo = async (): Promise<void> => {
    if (deleted === null) return;
    setDeleted(null);
    await controller.library.restore(deleted.id);
  };

  // Files dropped on this section are imported (the window elsewhere opens a dropped profile): the
  // window's own handler sees the drop too and leaves it alone when it landed here.
  const onDrop = (event: DragEvent<HTMLElement>): void => {
    event.preventDefault();
    setDropping(false);
    const files = Array.from(event.dataTransfer.files);
    if (files.length > 0) void importFiles(files);
  };

  const count = library?.profiles.length ?? 0;
  return (
    <section
      className={`card library${dropping ? ' library-dropping' : ''}`}
      aria-labelledby="library-title"
      data-testid="profile-library"
      data-drop-imports="true"
      onDragOver={(event) => {
        if (!event.dataTransfer.types.includes('Files')) return;
        event.preventDefault();
        setDropping(true);
      }}
      onDragLeave={(event) => {
        if (!event.currentTarget.contains(event.relatedTarget as Node | null)) setDropping(false);
      }}
      onDrop={onDrop}
    >
      <header className="library-header">
        <h2 id="library-title" className="card-title">
          <FileIcon size={18} /> Saved profiles
        </h2>
        <div className="library-buttons">
          <button type="button" className="button primary" data-testid="library-new" onClick={() => controller.library.edit(null)}>
            New profile
          </button>
          <button type="button" className="button" data-testid="library-import-toggle" aria-expanded={importOpen} onClick={() => setImportOpen((open) => !open)}>
            Import…
          </button>
        </div>
      </header>

      {importOpen ? <ImportPanel onFiles={importFiles} onImport={runImport} /> : null}
      {importProblems.length > 0 ? (
        <div className="library-warning" role="alert" data-testid="library-import-problems">
          <AlertIcon size={15} /> Nothing was imported:
          <ul>
            {importProblems.map((problem, index) => (
              <li key={`${index}:${problem}`}>{problem}</li>
            ))}
          </ul>
          <button type="button" className="button ghost small" onClick={() => setImportProblems([])}>
            Dismiss
          </button>
        </div>
      ) : null}

      <SetAsideWarnings />

      {count === 0 ? (
        <p className="card-text" data-testid="library-empty">
          No saved profiles yet — <strong>New profile</strong>, or <strong>Import…</strong> a connection file (or drop one here).
        </p>
      ) : (
        <>
          <label className="visually-hidden" htmlFor="library-search">
            Search saved profiles
          </label>
          <input
            id="library-search"
            type="search"
            className="input library-search"
            data-testid="library-search"
            placeholder={`Search ${count} saved profile${count === 1 ? '' : 's'} by name or address`}
            spellCheck={false}
            autoComplete="off"
            value={query}
            onChange={(event) => setQuery(event.target.value)}
          />
          <ul className="library-list" aria-label="Saved profiles, most recently opened first" data-testid="library-list">
            {profiles.map((profile) => (
              <li key={profile.id} className="library-row" data-testid="library-row" data-profile-id={profile.id} onDoubleClick={() => void controller.openSavedProfile(profile.id, profile.name)}>
                <button
                  type="button"
                  className="library-open"
                  data-testid="library-open"
                  disabled={opening}
                  title="Open (Enter)"
                  onClick={() => void controller.openSavedProfile(profile.id, profile.name)}
                >
                  <span className="library-name" data-testid="library-name">
                    {profile.name}
                  </span>
                  <span className="library-meta">
                    {profile.replicaCount} replica{profile.replicaCount === 1 ? '' : 's'} · opened {relativeTime(profile.lastOpenedAt, now)}
                    {profile.lastState !== null ? ` · ${profile.lastState}` : ''}
                  </span>
                </button>
                <div className="library-actions">
                  <button type="button" className="button ghost small" data-testid="library-edit" aria-label={`Edit ${profile.name}`} onClick={() => controller.library.edit(profile.id)}>
                    Edit
                  </button>
                  <button type="button" className="button ghost small" data-testid="library-duplicate" aria-label={`Duplicate ${profile.name}`} onClick={() => void controller.library.duplicate(profile.id)}>
                    Duplicate
                  </button>
                  <button type="button" className="button ghost small" data-testid="library-export" aria-label={`Export ${profile.name}`} onClick={() => void controller.library.exportToDownload(profile.id)}>
                    Export
                  </button>
                  <button type="button" className="button ghost small danger" data-testid="library-delete" aria-label={`Delete ${profile.name}`} onClick={() => void remove(profile)}>
                    Delete
                  </button>
                </div>
              </li>
            ))}
          </ul>
          {profiles.length === 0 ? <p className="card-text">No saved profile matches “{query}”.</p> : null}
        </>
      )}

      {deleted !== null ? (
        <div className="library-undo" role="status" data-testid="library-undo-bar">
          Deleted “{deleted.name}”.
          <button type="button" className="button small" data-testid="library-undo" onClick={() => void undo()}>
            <UndoIcon size={13} /> Undo
          </button>
        </div>
      ) : null}
      <div className="drop-hint" aria-hidden="true">
        Drop connection files (.vv, .tigervnc, .remmina, RetroVisor .json) here to import them
      </div>
    </section>
  );
}

/** Import…: pick files, or type vnc:// URIs; all of them become one new profile. */
function ImportPanel({ onFiles, onImport }: { readonly onFiles: (files: readonly File[]) => Promise<void>; readonly onImport: (sources: ImportInput[], problems: readonly string[], name?: string) => Promise<boolean> }): ReactElement {
  const [uris, setUris] = useState('');
  const [name, setName] = useState('');
  const inputRef = useRef<HTMLInputElement>(null);
  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    const sources: ImportInput[] = uris
      .split(/\s+/)
      .filter((uri) => uri !== '')
      .map((uri) => ({ kind: 'uri', uri }));
    if (sources.length === 0) return;
    if (await onImport(sources, [], name)) {
      setUris('');
      setName('');
    }
  };
  return (
    <div className="library-import" data-testid="library-import">
      <label className={`button file-button`}>
        <input
          ref={inputRef}
          type="file"
          multiple
          accept={IMPORT_ACCEPT}
          className="visually-hidden"
          data-testid="library-import-files"
          onChange={(event) => {
            const files = Array.from(event.target.files ?? []);
            // Cleared so that choosing the same file again fires another change.
            event.target.value = '';
            if (files.length > 0) void onFiles(files);
          }}
        />
        <FileIcon size={15} /> Choose files…
      </label>
      <span className="field-hint">.vv, .tigervnc, .remmina or RetroVisor .json; several files make one profile</span>
      <form className="library-import-uris" onSubmit={(event) => void submit(event)}>
        <label className="field-label" htmlFor="library-import-uri">
          vnc:// URIs <span className="field-optional">one or more, separated by spaces</span>
        </label>
        <input
          id="library-import-uri"
          className="input mono"
          data-testid="library-import-uri"
          spellCheck={false}
          autoComplete="off"
          placeholder="vnc://192.0.2.40:5905?ConnectionName=Payments%20B"
          value={uris}
          onChange={(event) => setUris(event.target.value)}
        />
        <label className="field-label" htmlFor="library-import-name">
          Profile name <span className="field-optional">optional</span>
        </label>
        <div className="open-by-path-row">
          <input id="library-import-name" className="input" data-testid="library-import-name" autoComplete="off" value={name} onChange={(event) => setName(event.target.value)} />
          <button type="submit" className="button" data-testid="library-import-uri-submit" disabled={uris.trim() === ''}>
            Import
          </button>
        </div>
      </form>
    </div>
  );
}

/** Library files that did not parse or validate (moved aside) or were skipped, with their problems. */
function SetAsideWarnings(): ReactElement | null {
  const library = useAppStore((state) => state.library);
  if (library === null || (library.setAside.length === 0 && library.skipped.length === 0)) return null;
  return (
    <div className="library-warning" role="alert" data-testid="library-set-aside">
      <AlertIcon size={15} /> Some files in the library could not be read:
      <ul>
        {library.setAside.map((file) => (
          <li key={file.movedTo}>
            <code>{file.file}</code> was moved to <code>{file.movedTo}</code>:{' '}
            {file.problems.map((problem) => `${problem.path}: ${problem.message}`).join('; ')}
          </li>
        ))}
        {library.skipped.map((file) => (
          <li key={file.file}>
            <code>{file.file}</code> was skipped: {file.reason}
          </li>
        ))}
      </ul>
    </div>
  );
}
