// The profile editor, in place of the start screen's content: name, replicas, L0 hosts, divergence
// and remediation settings, with the validator's problems beside the field at fault, a "Test" per
// replica and per L0 (host keys trusted on first use, a changed key refused), and save with conflict
// handling. Keyboard: Enter in a field or Ctrl+S saves, Escape closes (asking if changes would be lost).
// Runs in the renderer.

import { useCallback, useEffect, useId, useMemo, useRef, useState, type FormEvent, type ReactElement, type ReactNode } from 'react';
import type { PresentedHostKey } from '../../common/connection-test';
import type { KeyringStatus, SaveProfileResult } from '../../common/contract';
import { MAX_REPLICAS, validateProfile, type ProfileProblem } from '../../common/profile';
import { REMEDIATION_MODES, REMEDIATION_RUNGS } from '../../common/remediation/remediation-settings';
import { useAppController } from '../app-context';
import { useFocusTrap } from '../hooks/use-focus-trap';
import {
  canAddReplica,
  documentFromForm,
  emptyForm,
  emptyIgnoreRegion,
  emptyL0,
  emptyReplica,
  formFieldPaths,
  formFromDocument,
  problemsByField,
  type DivergenceForm,
  type L0Form,
  type ProfileForm,
  type RemediationForm,
  type ReplicaForm,
  type SecretField,
  type SecretKind,
} from '../library/profile-form';
import { useAppStore } from '../store';
import { ConfirmDialog } from './confirm-dialog';
import { ConnectionTestResults, type TestRun } from './connection-test-results';
import { AlertIcon, KeyIcon } from './icons';

/** What the editor has loaded: a new profile, or a saved one at a revision. */
type Loaded = { readonly state: 'loading' } | { readonly state: 'failed'; readonly error: string } | { readonly state: 'ready' };

/** Fingerprints as OpenSSH prints them, found in a failed host-key step's detail. */
const FINGERPRINT_PATTERN = /SHA256:[A-Za-z0-9+/]{43}/g;

/** Gives `next` the row keys of `previous` where the rows line up (a reload after a save keeps test results). */
function keepRowKeys(next: ProfileForm, previous: ProfileForm): ProfileForm {
  return {
    ...next,
    replicas: next.replicas.map((replica, index) => ({ ...replica, key: previous.replicas[index]?.key ?? replica.key })),
    l0: next.l0.map((host, index) => ({ ...host, key: previous.l0[index]?.key ?? host.key })),
  };
}

/** The editor of one profile (`profileId`), or of a new one (null). */
export function ProfileEditor({ profileId }: { readonly profileId: string | null }): ReactElement {
  const controller = useAppController();
  const keyring = useAppStore((state) => state.keyring);
  const [loaded, setLoaded] = useState<Loaded>(profileId === null ? { state: 'ready' } : { state: 'loading' });
  const [form, setForm] = useState<ProfileForm>(emptyForm);
  const [saved, setSaved] = useState<{ readonly id: string; readonly revision: number } | null>(null);
  const [baseline, setBaseline] = useState<string>(() => JSON.stringify(documentFromForm(emptyForm()).document));
  const [touched, setTouched] = useState<ReadonlySet<string>>(new Set());
  const [submitted, setSubmitted] = useState(false);
  const [serverProblems, setServerProblems] = useState<readonly ProfileProblem[]>([]);
  const [notices, setNotices] = useState<readonly string[]>([]);
  const [status, setStatus] = useState('');
  const [saving, setSaving] = useState(false);
  const [conflict, setConflict] = useState<Extract<SaveProfileResult, { kind: 'conflict' }> | null>(null);
  const [missing, setMissing] = useState<string | null>(null);
  const [confirmDiscard, setConfirmDiscard] = useState(false);
  const [tests, setTests] = useState<Readonly<Record<string, TestRun>>>({});
  const [trust, setTrust] = useState<{ readonly l0Key: string; readonly keys: readonly PresentedHostKey[] } | null>(null);
  const [replaceKey, setReplaceKey] = useState<{ readonly l0Key: string; readonly fingerprints: readonly string[] } | null>(null);
  const formRef = useRef<ProfileForm>(form);
  formRef.current = form;

  const applyLoaded = useCallback(
    async (id: string, keepKeysOf: ProfileForm | null): Promise<boolean> => {
      const answer = await controller.library.get(id);
      if (!answer.ok) {
        setLoaded({ state: 'failed', error: answer.error });
        return false;
      }
      const next = formFromDocument(answer.document);
      const shown = keepKeysOf === null ? next : keepRowKeys(next, keepKeysOf);
      setForm(shown);
      setBaseline(JSON.stringify(documentFromForm(shown).document));
      setSaved({ id: answer.id, revision: answer.revision });
      setNotices(answer.notices);
      setLoaded({ state: 'ready' });
      return true;
    },
    [controller],
  );

  useEffect(() => {
    void controller.library.loadKeyringStatus();
    if (profileId !== null) {
      applyLoaded(profileId, null).catch((error: unknown) => setLoaded({ state: 'failed', error: messageOf(error) }));
    }
  }, [controller, profileId, applyLoaded]);

  const built = useMemo(() => documentFromForm(form), [form]);
  const dirty = JSON.stringify(built.document) !== baseline;
  const problems = useMemo(() => {
    const validation = validateProfile(built.document);
    return [...built.problems, ...(validation.ok ? [] : validation.problems), ...serverProblems];
  }, [built, serverProblems]);
  const placed = useMemo(() => problemsByField(problems, formFieldPaths(form)), [problems, form]);
  const messagesFor = useCallback(
    (path: string): readonly string[] => (submitted || touched.has(path) ? (placed.byField.get(path) ?? []) : []),
    [placed, submitted, touched],
  );

  /** Changes the form; `path` is the field's JSON path (its messages show from now on). */
  const update = useCallback((path: string, change: (form: ProfileForm) => ProfileForm) => {
    setForm((current) => change(current));
    setTouched((current) => (current.has(path) ? current : new Set([...current, path])));
    setServerProblems([]);
    setStatus('');
  }, []);

  const close = (): void => {
    if (dirty) setConfirmDiscard(true);
    else controller.library.closeEditor();
  };

  const save = async (asCopy = false): Promise<void> => {
    if (saving) return;
    setSubmitted(true);
    const current = documentFromForm(formRef.current);
    const validation = validateProfile(current.document);
    if (current.problems.length > 0 || !validation.ok) {
      setStatus('Not saved: fix the problems marked below.');
      return;
    }
    setSaving(true);
    setStatus('Saving…');
    try {
      const document = asCopy ? { ...current.document, name: `${formRef.current.name} (copy)` } : current.document;
      const target = !asCopy && saved !== null ? { id: saved.id, expectedRevision: saved.revision } : undefined;
      const result = await controller.library.save(document, target);
      setConflict(result.kind === 'conflict' ? result : null);
      setMissing(result.kind === 'missing' ? result.message : null);
      switch (result.kind) {
        case 'saved':
          await applyLoaded(result.id, formRef.current);
          setNotices(result.notices);
          setSubmitted(false);
          setTouched(new Set());
          setStatus(`Saved (revision ${result.revision}).`);
          break;
        case 'invalid':
          setServerProblems(result.problems);
          setStatus('Not saved: fix the problems marked below.');
          break;
        case 'conflict':
          setStatus('Not saved: this profile was changed elsewhere.');
          break;
        case 'missing':
          setStatus('Not saved: this profile is no longer in the library.');
          break;
      }
    } catch (error) {
      setStatus(`Not saved: ${messageOf(error)}`);
    } finally {
      setSaving(false);
    }
  };

  const reloadTheirs = async (): Promise<void> => {
    if (saved === null) return;
    setConflict(null);
    setSubmitted(false);
    setTouched(new Set());
    if (await applyLoaded(saved.id, formRef.current)) setStatus('Reloaded the saved version; your changes were dropped.');
  };

  const runTest = async (rowKey: string, run: (draft: Record<string, unknown>) => Promise<TestRun['report']>, draftForm: ProfileForm): Promise<TestRun['report']> => {
    setTests((current) => ({ ...current, [rowKey]: { running: true } }));
    try {
      const report = await run(documentFromForm(draftForm).document);
      setTests((current) => ({ ...current, [rowKey]: report === undefined ? { running: false } : { running: false, report } }));
      return report;
    } catch (error) {
      setTests((current) => ({ ...current, [rowKey]: { running: false, error: messageOf(error) } }));
      return undefined;
    }
  };

  const testReplica = (replica: ReplicaForm): void => {
    void runTest(replica.key, (draft) => controller.library.testReplica(draft, replica.id), formRef.current);
  };

  const testL0 = async (host: L0Form, draftForm: ProfileForm = formRef.current): Promise<void> => {
    const report = await runTest(host.key, (draft) => controller.library.testL0(draft, host.name), draftForm);
    if (report?.unpinnedHostKeys !== undefined && report.unpinnedHostKeys.length > 0) setTrust({ l0Key: host.key, keys: report.unpinnedHostKeys });
  };

  /** Pins `fingerprint` on the L0 of `l0Key` and, for a key just trusted, tests it again. */
  const pinHostKey = (l0Key: string, fingerprint: string, retest: boolean): void => {
    const index = formRef.current.l0.findIndex((host) => host.key === l0Key);
    const host = formRef.current.l0[index];
    if (host === undefined) return;
    const next: ProfileForm = { ...formRef.current, l0: formRef.current.l0.map((entry) => (entry.key === l0Key ? { ...entry, hostKey: fingerprint } : entry)) };
    formRef.current = next;
    update(`$.l0.${host.name}.ssh.hostKey`, () => next);
    if (retest) void testL0({ ...host, hostKey: fingerprint }, next);
  };

  // Listened for on the document: focus may be nowhere in particular (a removed row's button had it).
  const onKeyDown = (event: globalThis.KeyboardEvent): void => {
    if (event.defaultPrevented) return;
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === 's') {
      event.preventDefault();
      void save();
    } else if (event.key === 'Escape' && !confirmDiscard && trust === null && replaceKey === null) {
      event.preventDefault();
      close();
    }
  };

  const keyHandler = useRef(onKeyDown);
  keyHandler.current = onKeyDown;
  useEffect(() => {
    const listener = (event: globalThis.KeyboardEvent): void => keyHandler.current(event);
    document.addEventListener('keydown', listener);
    return () => document.removeEventListener('keydown', listener);
  }, []);

  const onSubmit = (event: FormEvent): void => {
    event.preventDefault();
    void save();
  };

  if (loaded.state !== 'ready') {
    return (
      <section className="card editor" data-testid="profile-editor">
        {loaded.state === 'loading' ? <p className="card-text">Loading the profile…</p> : <p className="card-text">The profile could not be read: {loaded.error}</p>}
        <button type="button" className="button" onClick={() => controller.library.closeEditor()}>
          Back to the start screen
        </button>
      </section>
    );
  }

  const trustHost = trust === null ? undefined : form.l0.find((host) => host.key === trust.l0Key);
  const replaceHost = replaceKey === null ? undefined : form.l0.find((host) => host.key === replaceKey.l0Key);
  const unplacedShown = submitted ? placed.unplaced : [];
  return (
    <section className="card editor" aria-labelledby="editor-title" data-testid="profile-editor">
      <header className="editor-header">
        <h1 id="editor-title" className="editor-title">
          {saved === null ? 'New profile' : `Edit “${form.name || 'unnamed'}”`}
        </h1>
        <span className="field-hint">Enter or Ctrl+S saves · Escape goes back</span>
      </header>

      <form onSubmit={onSubmit} noValidate aria-describedby="editor-status">
        {unplacedShown.length > 0 ? (
          <div className="editor-problems" role="alert" data-testid="editor-problems">
            <AlertIcon size={15} /> Problems not shown beside a field:
            <ul>
              {unplacedShown.map((problem, index) => (
                <li key={`${problem.path}#${index}`}>
                  <code>{problem.path}</code>: {problem.message}
                </li>
              ))}
            </ul>
          </div>
        ) : null}

        <TextField label="Name" path="$.name" testId="editor-name" value={form.name} messages={messagesFor('$.name')} autoFocus onChange={(name) => update('$.name', (current) => ({ ...current, name }))} />

        <fieldset className="editor-section">
          <legend>Replicas</legend>
          <p className="field-hint">
            1 to {MAX_REPLICAS} VNC servers showing the same VM (comparing screens needs at least 2). The first is the reference.
          </p>
          <Messages messages={messagesFor('$.replicas')} />
          {form.replicas.map((replica, index) => (
            <ReplicaEditor
              key={replica.key}
              index={index}
              replica={replica}
              form={form}
              keyring={keyring}
              messagesFor={messagesFor}
              update={update}
              test={tests[replica.key]}
              onTest={() => testReplica(replica)}
            />
          ))}
          <button
            type="button"
            className="button small"
            data-testid="editor-add-replica"
            disabled={!canAddReplica(form)}
            onClick={() => update('$.replicas', (current) => ({ ...current, replicas: [...current.replicas, emptyReplica(current.replicas)] }))}
          >
            Add a replica
          </button>
        </fieldset>

        <fieldset className="editor-section">
          <legend>L0 hosts</legend>
          <p className="field-hint">The hypervisors that run the replicas, reached over SSH (for tunnels and remediation with virsh).</p>
          <Messages messages={messagesFor('$.l0')} />
          {form.l0.map((host, index) => (
            <L0Editor
              key={host.key}
              index={index}
              host={host}
              keyring={keyring}
              messagesFor={messagesFor}
              update={update}
              test={tests[host.key]}
              onTest={() => void testL0(host)}
              onReplaceKey={(fingerprints) => setReplaceKey({ l0Key: host.key, fingerprints })}
            />
          ))}
          <button type="button" className="button small" data-testid="editor-add-l0" onClick={() => update('$.l0', (current) => ({ ...current, l0: [...current.l0, emptyL0(current.l0)] }))}>
            Add an L0 host
          </button>
        </fieldset>

        <DivergenceEditor divergence={form.divergence} messagesFor={messagesFor} update={update} />
        <RemediationEditor remediation={form.remediation} messagesFor={messagesFor} update={update} />

        {notices.length > 0 ? (
          <ul className="editor-notices" data-testid="editor-notices">
            {notices.map((notice) => (
              <li key={notice}>{notice}</li>
            ))}
          </ul>
        ) : null}

        {conflict !== null ? (
          <div className="editor-problems" role="alert" data-testid="editor-conflict">
            <AlertIcon size={15} /> Someone else saved this profile since you opened it (now revision {conflict.currentRevision}
            {conflict.updatedAt === undefined ? '' : `, ${conflict.updatedAt}`}). What differs: {conflict.differences.join(', ') || 'nothing visible'}.
            <div className="editor-actions">
              <button type="button" className="button" data-testid="editor-conflict-reload" onClick={() => void reloadTheirs()}>
                Reload (lose my changes)
              </button>
              <button type="button" className="button" data-testid="editor-conflict-copy" onClick={() => void save(true)}>
                Save mine as a copy
              </button>
            </div>
          </div>
        ) : null}
        {missing !== null ? (
          <div className="editor-problems" role="alert" data-testid="editor-missing">
            <AlertIcon size={15} /> {missing}
            <div className="editor-actions">
              <button type="button" className="button" onClick={() => void save(true)}>
                Save mine as a new profile
              </button>
            </div>
          </div>
        ) : null}

        <div className="editor-actions editor-footer">
          <p id="editor-status" className="editor-status" role="status" aria-live="polite" data-testid="editor-status">
            {status}
          </p>
          <button type="button" className="button ghost" data-testid="editor-close" onClick={close}>
            {dirty ? 'Cancel' : 'Back'}
          </button>
          <button type="submit" className="button primary" data-testid="editor-save" disabled={saving}>
            {saving ? 'Saving…' : 'Save'}
          </button>
        </div>
      </form>

      {confirmDiscard ? (
        <ConfirmDialog
          title="Discard your changes?"
          text="This profile has changes that are not saved. Going back drops them."
          confirmLabel="Discard"
          testId="editor-discard"
          onConfirm={() => {
            setConfirmDiscard(false);
            controller.library.closeEditor();
          }}
          onCancel={() => setConfirmDiscard(false)}
        />
      ) : null}
      {trust !== null && trustHost !== undefined ? (
        <TrustHostKeyDialog
          host={trustHost}
          keys={trust.keys}
          onTrust={(fingerprint) => {
            setTrust(null);
            pinHostKey(trust.l0Key, fingerprint, true);
          }}
          onCancel={() => setTrust(null)}
        />
      ) : null}
      {replaceKey !== null && replaceHost !== undefined ? (
        <ReplaceHostKeyDialog
          host={replaceHost}
          fingerprints={replaceKey.fingerprints}
          onReplace={(fingerprint) => {
            setReplaceKey(null);
            pinHostKey(replaceKey.l0Key, fingerprint, false);
          }}
          onCancel={() => setReplaceKey(null)}
        />
      ) : null}
    </section>
  );
}

type Update = (path: string, change: (form: ProfileForm) => ProfileForm) => void;
type MessagesFor = (path: string) => readonly string[];

/** The validator's messages for one field, beside it. */
function Messages({ messages, id }: { readonly messages: readonly string[]; readonly id?: string }): ReactElement | null {
  if (messages.length === 0) return null;
  return (
    <ul className="field-problems" id={id} data-testid="field-problems">
      {messages.map((message) => (
        <li key={message}>{message}</li>
      ))}
    </ul>
  );
}

interface TextFieldProps {
  readonly label: string;
  readonly path: string;
  readonly testId: string;
  readonly value: string;
  readonly messages: readonly string[];
  readonly onChange: (value: string) => void;
  readonly placeholder?: string;
  readonly hint?: ReactNode;
  readonly optional?: boolean;
  readonly mono?: boolean;
  readonly type?: 'text' | 'password';
  readonly autoFocus?: boolean;
  readonly inputMode?: 'numeric';
}

/** A labelled text input with its problems beside it (linked by aria-describedby). */
function TextField({ label, path, testId, value, messages, onChange, placeholder, hint, optional = false, mono = false, type = 'text', autoFocus = false, inputMode }: TextFieldProps): ReactElement {
  const id = useId();
  const invalid = messages.length > 0;
  return (
    <div className={`editor-field${invalid ? ' invalid' : ''}`} data-path={path}>
      <label className="field-label" htmlFor={id}>
        {label}
        {optional ? <span className="field-optional">optional</span> : null}
      </label>
      <input
        id={id}
        type={type}
        className={`input${mono ? ' mono' : ''}`}
        data-testid={testId}
        value={value}
        placeholder={placeholder}
        spellCheck={false}
        autoCapitalize="off"
        autoComplete={type === 'password' ? 'new-password' : 'off'}
        autoFocus={autoFocus}
        inputMode={inputMode}
        aria-invalid={invalid}
        aria-describedby={invalid ? `${id}-problems` : undefined}
        onChange={(event) => onChange(event.target.value)}
      />
      {hint !== undefined ? <div className="field-hint">{hint}</div> : null}
      <Messages messages={messages} id={`${id}-problems`} />
    </div>
  );
}

/** Beside a typed secret: whether saving keeps it (the keyring) or drops it (asked at connect time). */
function KeyringNote({ keyring, testId }: { readonly keyring: KeyringStatus | null; readonly testId: string }): ReactElement {
  if (keyring === null) return <div className="field-hint">Checking the keyring…</div>;
  return keyring.available ? (
    <div className="field-hint keyring-ok" data-testid={testId}>
      <KeyIcon size={12} /> Saved in the keyring when you save.
    </div>
  ) : (
    <div className="field-hint keyring-missing" role="note" data-testid={testId}>
      No keyring on this machine ({keyring.reason}): the password will not be saved; you will be asked at connect time. {keyring.hint}
    </div>
  );
}

const SECRET_KIND_LABELS: Readonly<Record<SecretKind, string>> = {
  none: 'None (ask when needed)',
  typed: 'Typed here',
  env: 'Environment variable',
  file: 'File (first line)',
  keyring: 'Saved in the keyring',
};

/** A secret field: how it is given, and the value (hidden when typed). */
function SecretEditor(props: {
  readonly label: string;
  readonly path: string;
  readonly testId: string;
  readonly secret: SecretField;
  readonly keyring: KeyringStatus | null;
  readonly messages: readonly string[];
  readonly onChange: (secret: SecretField) => void;
}): ReactElement {
  const { label, path, testId, secret, keyring, messages, onChange } = props;
  const id = useId();
  // "Saved in the keyring" is offered only for a secret that is there already (the save puts typed ones there).
  const kinds: SecretKind[] = secret.kind === 'keyring' ? ['none', 'keyring', 'typed', 'env', 'file'] : ['none', 'typed', 'env', 'file'];
  return (
    <div className={`editor-field editor-secret${messages.length > 0 ? ' invalid' : ''}`} data-path={path}>
      <label className="field-label" htmlFor={`${id}-kind`}>
        {label}
      </label>
      <div className="editor-secret-row">
        <select id={`${id}-kind`} className="input" data-testid={`${testId}-kind`} value={secret.kind} onChange={(event) => onChange({ kind: event.target.value as SecretKind, value: '' })}>
          {kinds.map((kind) => (
            <option key={kind} value={kind}>
              {SECRET_KIND_LABELS[kind]}
            </option>
          ))}
        </select>
        {secret.kind === 'typed' || secret.kind === 'env' || secret.kind === 'file' ? (
          <input
            className={`input${secret.kind === 'typed' ? '' : ' mono'}`}
            type={secret.kind === 'typed' ? 'password' : 'text'}
            aria-label={`${label}: ${SECRET_KIND_LABELS[secret.kind]}`}
            data-testid={`${testId}-value`}
            autoComplete={secret.kind === 'typed' ? 'new-password' : 'off'}
            spellCheck={false}
            placeholder={secret.kind === 'env' ? 'VNC_PASSWORD' : secret.kind === 'file' ? '/run/secrets/vnc-r1' : ''}
            value={secret.value}
            onChange={(event) => onChange({ kind: secret.kind, value: event.target.value })}
          />
        ) : null}
      </div>
      {secret.kind === 'typed' ? <KeyringNote keyring={keyring} testId={`${testId}-keyring-note`} /> : null}
      {secret.kind === 'keyring' ? (
        <div className="field-hint keyring-ok" data-testid={`${testId}-keyring-note`}>
          <KeyIcon size={12} /> Saved in the keyring. Choose “Typed here” to change it.
        </div>
      ) : null}
      <Messages messages={messages} />
    </div>
  );
}

/** Replaces the replica at `index`. */
function withReplica(form: ProfileForm, index: number, change: (replica: ReplicaForm) => ReplicaForm): ProfileForm {
  return { ...form, replicas: form.replicas.map((replica, at) => (at === index ? change(replica) : replica)) };
}

/** One replica: its fields, order, removal and its Test. */
function ReplicaEditor(props: {
  readonly index: number;
  readonly replica: ReplicaForm;
  readonly form: ProfileForm;
  readonly keyring: KeyringStatus | null;
  readonly messagesFor: MessagesFor;
  readonly update: Update;
  readonly test: TestRun | undefined;
  readonly onTest: () => void;
}): ReactElement {
  const { index, replica, form, keyring, messagesFor, update, test, onTest } = props;
  const base = `$.replicas[${index}]`;
  const prefix = `replica-${index}`;
  const set = (suffix: string, change: (replica: ReplicaForm) => ReplicaForm): void => update(base + suffix, (current) => withReplica(current, index, change));
  const move = (offset: number): void =>
    update('$.replicas', (current) => {
      const replicas = [...current.replicas];
      const [moved] = replicas.splice(index, 1);
      if (moved !== undefined) replicas.splice(index + offset, 0, moved);
      return { ...current, replicas };
    });
  const l0Id = useId();
  return (
    <fieldset className="editor-row" data-testid={prefix} aria-label={`Replica ${index + 1}: ${replica.id}`}>
      <legend>
        Replica {index + 1}
        {index === 0 ? <span className="field-optional">the reference</span> : null}
      </legend>
      <Messages messages={messagesFor(base)} />
      <div className="editor-grid">
        <TextField label="Id" path={`${base}.id`} testId={`${prefix}-id`} value={replica.id} mono messages={messagesFor(`${base}.id`)} onChange={(id) => set('.id', (entry) => ({ ...entry, id }))} />
        <TextField label="Label" path={`${base}.label`} testId={`${prefix}-label`} value={replica.label} optional placeholder={replica.id} messages={messagesFor(`${base}.label`)} onChange={(label) => set('.label', (entry) => ({ ...entry, label }))} />
        <TextField label="VNC host" path={`${base}.vnc.host`} testId={`${prefix}-host`} value={replica.host} mono placeholder="127.0.0.1" messages={messagesFor(`${base}.vnc.host`)} onChange={(host) => set('.vnc.host', (entry) => ({ ...entry, host }))} />
        <TextField label="VNC port" path={`${base}.vnc.port`} testId={`${prefix}-port`} value={replica.port} mono inputMode="numeric" placeholder="5901" messages={messagesFor(`${base}.vnc.port`)} onChange={(port) => set('.vnc.port', (entry) => ({ ...entry, port }))} />
      </div>
      <SecretEditor label="VNC password" path={`${base}.vnc.password`} testId={`${prefix}-password`} secret={replica.password} keyring={keyring} messages={messagesFor(`${base}.vnc.password`)} onChange={(password) => set('.vnc.password', (entry) => ({ ...entry, password }))} />
      <div className="editor-grid">
        <div className="editor-field" data-path={`${base}.l0`}>
          <label className="field-label" htmlFor={l0Id}>
            L0 host <span className="field-optional">optional</span>
          </label>
          <select id={l0Id} className="input" data-testid={`${prefix}-l0`} value={replica.l0} onChange={(event) => set('.l0', (entry) => ({ ...entry, l0: event.target.value }))}>
            <option value="">None</option>
            {form.l0.map((host) => (
              <option key={host.key} value={host.name}>
                {host.name}
              </option>
            ))}
            {replica.l0 !== '' && !form.l0.some((host) => host.name === replica.l0) ? <option value={replica.l0}>{replica.l0} (not defined)</option> : null}
          </select>
          <Messages messages={messagesFor(`${base}.l0`)} />
        </div>
        <TextField label="Domain" path={`${base}.domain`} testId={`${prefix}-domain`} value={replica.domain} mono optional hint="its libvirt domain on the L0" messages={messagesFor(`${base}.domain`)} onChange={(domain) => set('.domain', (entry) => ({ ...entry, domain }))} />
      </div>
      <label className="checkbox">
        <input type="checkbox" data-testid={`${prefix}-tunnel`} checked={replica.tunnel} onChange={(event) => set('.vnc.tunnel', (entry) => ({ ...entry, tunnel: event.target.checked }))} />
        Tunnelled through the L0 over SSH (the host is then as seen from the L0)
      </label>
      <Messages messages={messagesFor(`${base}.vnc.tunnel`)} />
      <div className="editor-actions">
        <button type="button" className="button small" data-testid={`${prefix}-test`} disabled={test?.running === true} onClick={onTest}>
          {test?.running === true ? 'Testing…' : 'Test'}
        </button>
        <button type="button" className="button ghost small" aria-label={`Move replica ${replica.id} up`} disabled={index === 0} onClick={() => move(-1)}>
          Move up
        </button>
        <button type="button" className="button ghost small" aria-label={`Move replica ${replica.id} down`} disabled={index === form.replicas.length - 1} onClick={() => move(1)}>
          Move down
        </button>
        <button
          type="button"
          className="button ghost small danger"
          data-testid={`${prefix}-remove`}
          aria-label={`Remove replica ${replica.id}`}
          disabled={form.replicas.length <= 1}
          onClick={() => update('$.replicas', (current) => ({ ...current, replicas: current.replicas.filter((_, at) => at !== index) }))}
        >
          Remove
        </button>
      </div>
      <ConnectionTestResults run={test} testId={`${prefix}-test-results`} />
    </fieldset>
  );
}

/** One L0 host: its SSH access, its Test, and the alert for a changed host key. */
function L0Editor(props: {
  readonly index: number;
  readonly host: L0Form;
  readonly keyring: KeyringStatus | null;
  readonly messagesFor: MessagesFor;
  readonly update: Update;
  readonly test: TestRun | undefined;
  readonly onTest: () => void;
  readonly onReplaceKey: (fingerprints: readonly string[]) => void;
}): ReactElement {
  const { index, host, keyring, messagesFor, update, test, onTest, onReplaceKey } = props;
  const base = `$.l0.${host.name}`;
  const prefix = `l0-${index}`;
  const set = (suffix: string, change: (host: L0Form) => L0Form): void =>
    update(base + suffix, (current) => ({ ...current, l0: current.l0.map((entry) => (entry.key === host.key ? change(entry) : entry)) }));
  const rename = (name: string): void =>
    update(`$.l0.${name}`, (current) => ({
      ...current,
      l0: current.l0.map((entry) => (entry.key === host.key ? { ...entry, name } : entry)),
      // Replicas that named this L0 follow the rename.
      replicas: current.replicas.map((replica) => (replica.l0 === host.name ? { ...replica, l0: name } : replica)),
    }));
  const changedKey = test?.report?.steps.find((step) => step.id === 'host-key' && step.outcome === 'failed');
  return (
    <fieldset className="editor-row" data-testid={prefix} aria-label={`L0 host ${host.name}`}>
      <legend>L0 host {host.name}</legend>
      <Messages messages={messagesFor(base)} />
      <TextField label="Name" path={base} testId={`${prefix}-name`} value={host.name} mono messages={[]} onChange={rename} />
      {host.simulated ? (
        <p className="field-hint">The built-in demo lab&apos;s simulated L0: nothing to set.</p>
      ) : (
        <>
          <div className="editor-grid">
            <TextField label="SSH host" path={`${base}.ssh.host`} testId={`${prefix}-host`} value={host.host} mono messages={messagesFor(`${base}.ssh.host`)} onChange={(value) => set('.ssh.host', (entry) => ({ ...entry, host: value }))} />
            <TextField label="SSH port" path={`${base}.ssh.port`} testId={`${prefix}-port`} value={host.port} mono optional inputMode="numeric" placeholder="22" messages={messagesFor(`${base}.ssh.port`)} onChange={(value) => set('.ssh.port', (entry) => ({ ...entry, port: value }))} />
            <TextField label="SSH user" path={`${base}.ssh.user`} testId={`${prefix}-user`} value={host.user} mono messages={messagesFor(`${base}.ssh.user`)} onChange={(value) => set('.ssh.user', (entry) => ({ ...entry, user: value }))} />
            <TextField label="Key file" path={`${base}.ssh.identityFile`} testId={`${prefix}-identity`} value={host.identityFile} mono optional placeholder="~/.ssh/id_ed25519" messages={messagesFor(`${base}.ssh.identityFile`)} onChange={(value) => set('.ssh.identityFile', (entry) => ({ ...entry, identityFile: value }))} />
          </div>
          <SecretEditor label="Key passphrase" path={`${base}.ssh.passphrase`} testId={`${prefix}-passphrase`} secret={host.passphrase} keyring={keyring} messages={messagesFor(`${base}.ssh.passphrase`)} onChange={(passphrase) => set('.ssh.passphrase', (entry) => ({ ...entry, passphrase }))} />
          <TextField
            label="Pinned host key"
            path={`${base}.ssh.hostKey`}
            testId={`${prefix}-host-key`}
            value={host.hostKey}
            mono
            placeholder="SHA256:… (Test fills it in on first contact, once you trust it)"
            messages={messagesFor(`${base}.ssh.hostKey`)}
            onChange={(value) => set('.ssh.hostKey', (entry) => ({ ...entry, hostKey: value }))}
          />
          <TextField label="libvirt URI" path={`${base}.uri`} testId={`${prefix}-uri`} value={host.uri} mono optional placeholder="qemu:///system" messages={messagesFor(`${base}.uri`)} onChange={(value) => set('.uri', (entry) => ({ ...entry, uri: value }))} />
        </>
      )}
      {changedKey !== undefined ? (
        <div className="editor-alert" role="alert" data-testid={`${prefix}-host-key-changed`}>
          <AlertIcon size={16} />
          <div>
            <strong>The host key of {host.name} does not match the pinned one.</strong> Either the L0 was reinstalled or its keys replaced — or someone is between you and it. Nothing
            else was tried. Check the key on the L0 itself (<code>ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub</code>) before replacing the pin.
            <div className="editor-actions">
              <button type="button" className="button small danger" data-testid={`${prefix}-replace-key`} onClick={() => onReplaceKey(changedKey.detail.match(FINGERPRINT_PATTERN) ?? [])}>
                Replace the pinned key…
              </button>
            </div>
          </div>
        </div>
      ) : null}
      <div className="editor-actions">
        <button type="button" className="button small" data-testid={`${prefix}-test`} disabled={test?.running === true || host.simulated} onClick={onTest}>
          {test?.running === true ? 'Testing…' : 'Test'}
        </button>
        <button
          type="button"
          className="button ghost small danger"
          data-testid={`${prefix}-remove`}
          aria-label={`Remove L0 host ${host.name}`}
          onClick={() => update('$.l0', (current) => ({ ...current, l0: current.l0.filter((entry) => entry.key !== host.key) }))}
        >
          Remove
        </button>
      </div>
      <ConnectionTestResults run={test} testId={`${prefix}-test-results`} />
    </fieldset>
  );
}

/** The divergence settings (an "Advanced" section, closed by default). */
function DivergenceEditor({ divergence, messagesFor, update }: { readonly divergence: DivergenceForm; readonly messagesFor: MessagesFor; readonly update: Update }): ReactElement {
  const set = (path: string, change: (divergence: DivergenceForm) => DivergenceForm): void => update(path, (current) => ({ ...current, divergence: change(current.divergence) }));
  return (
    <details className="editor-section editor-advanced" data-testid="editor-divergence">
      <summary>Advanced: divergence detection</summary>
      <Messages messages={messagesFor('$.divergence')} />
      <label className="checkbox">
        <input type="checkbox" checked={divergence.enabled} onChange={(event) => set('$.divergence.enabled', (entry) => ({ ...entry, enabled: event.target.checked }))} />
        Compare the replicas&apos; screens
      </label>
      <label className="checkbox">
        <input type="checkbox" checked={divergence.toleranceEnabled} onChange={(event) => set('$.divergence.tolerance', (entry) => ({ ...entry, toleranceEnabled: event.target.checked }))} />
        Allow small differences (a lossy server&apos;s noise); unticked: pixels must be equal
      </label>
      <Messages messages={messagesFor('$.divergence.tolerance')} />
      <div className="editor-grid">
        {divergence.toleranceEnabled ? (
          <>
            <TextField label="Max channel difference" path="$.divergence.tolerance.maxChannelDelta" testId="divergence-max-channel-delta" value={divergence.maxChannelDelta} mono hint="0–255" messages={messagesFor('$.divergence.tolerance.maxChannelDelta')} onChange={(value) => set('$.divergence.tolerance.maxChannelDelta', (entry) => ({ ...entry, maxChannelDelta: value }))} />
            <TextField label="Differing pixels per tile" path="$.divergence.tolerance.maxDifferingPixelsPerTile" testId="divergence-max-differing" value={divergence.maxDifferingPixelsPerTile} mono optional hint="0–255, default 0" messages={messagesFor('$.divergence.tolerance.maxDifferingPixelsPerTile')} onChange={(value) => set('$.divergence.tolerance.maxDifferingPixelsPerTile', (entry) => ({ ...entry, maxDifferingPixelsPerTile: value }))} />
          </>
        ) : null}
        <TextField label="Settle (ms)" path="$.divergence.settleMs" testId="divergence-settle" value={divergence.settleMs} mono optional placeholder="400" hint="50–10000" messages={messagesFor('$.divergence.settleMs')} onChange={(value) => set('$.divergence.settleMs', (entry) => ({ ...entry, settleMs: value }))} />
        <TextField label="Confirm (ms)" path="$.divergence.confirmMs" testId="divergence-confirm" value={divergence.confirmMs} mono optional placeholder="600" hint="0–60000" messages={messagesFor('$.divergence.confirmMs')} onChange={(value) => set('$.divergence.confirmMs', (entry) => ({ ...entry, confirmMs: value }))} />
      </div>
      <h3 className="editor-subtitle">Ignored regions</h3>
      <Messages messages={messagesFor('$.divergence.ignoreRegions')} />
      {divergence.ignoreRegions.map((region, index) => {
        const path = `$.divergence.ignoreRegions[${index}]`;
        const setRegion = (key: 'x' | 'y' | 'width' | 'height' | 'label', value: string): void =>
          set(path, (entry) => ({ ...entry, ignoreRegions: entry.ignoreRegions.map((item, at) => (at === index ? { ...item, [key]: value } : item)) }));
        return (
          <div key={region.key} className="editor-region">
            {(['x', 'y', 'width', 'height', 'label'] as const).map((key) => (
              <label key={key} className="editor-region-field">
                <span>{key}</span>
                <input className="input mono" value={region[key]} spellCheck={false} onChange={(event) => setRegion(key, event.target.value)} />
              </label>
            ))}
            <button type="button" className="button ghost small danger" aria-label={`Remove ignored region ${index + 1}`} onClick={() => set(path, (entry) => ({ ...entry, ignoreRegions: entry.ignoreRegions.filter((_, at) => at !== index) }))}>
              Remove
            </button>
            <Messages messages={messagesFor(path)} />
          </div>
        );
      })}
      <button type="button" className="button small" onClick={() => set('$.divergence.ignoreRegions', (entry) => ({ ...entry, ignoreRegions: [...entry.ignoreRegions, emptyIgnoreRegion()] }))}>
        Add an ignored region
      </button>
    </details>
  );
}

/** The remediation settings (an "Advanced" section, closed by default). */
function RemediationEditor({ remediation, messagesFor, update }: { readonly remediation: RemediationForm; readonly messagesFor: MessagesFor; readonly update: Update }): ReactElement {
  const modeId = useId();
  const set = (path: string, key: keyof RemediationForm, value: string): void => update(path, (current) => ({ ...current, remediation: { ...current.remediation, [key]: value } }));
  const field = (label: string, key: keyof RemediationForm, path: string, placeholder: string, hint: string): ReactElement => (
    <TextField label={label} path={path} testId={`remediation-${key}`} value={remediation[key]} mono optional placeholder={placeholder} hint={hint} messages={messagesFor(path)} onChange={(value) => set(path, key, value)} />
  );
  return (
    <details className="editor-section editor-advanced" data-testid="editor-remediation">
      <summary>Advanced: remediation</summary>
      <Messages messages={messagesFor('$.remediation')} />
      <div className="editor-field">
        <label className="field-label" htmlFor={modeId}>
          Mode
        </label>
        <select id={modeId} className="input" data-testid="remediation-mode" value={remediation.mode} onChange={(event) => set('$.remediation.mode', 'mode', event.target.value)}>
          {REMEDIATION_MODES.map((mode) => (
            <option key={mode} value={mode}>
              {mode === 'observe' ? 'observe — say what it would do' : mode === 'confirm' ? 'confirm — ask before acting' : 'auto — act within the guards'}
            </option>
          ))}
        </select>
        <Messages messages={messagesFor('$.remediation.mode')} />
      </div>
      <div className="editor-grid">
        {field('Outlier for (ms)', 'outlierMs', '$.remediation.outlierMs', '3000', '500–600000')}
        {field('Ladder', 'ladder', '$.remediation.ladder', 'revert-replay, restart-replay', `1–4 of ${REMEDIATION_RUNGS.join(', ')}`)}
        {field('Rung timeout (ms)', 'rungTimeoutMs', '$.remediation.rungTimeoutMs', '60000', '5000–1800000')}
        {field('Checkpoint every (ms)', 'checkpointEveryMs', '$.remediation.checkpoint.everyMs', '0', '0, or 10000–86400000')}
        {field('Checkpoints kept', 'checkpointKeep', '$.remediation.checkpoint.keep', '3', '1–20')}
        {field('Remediations per hour', 'maxRemediationsPerHour', '$.remediation.maxRemediationsPerHour', '3', '1–20')}
        {field('Backoff (ms)', 'backoffMs', '$.remediation.backoffMs', '30000', '1000–3600000')}
      </div>
    </details>
  );
}

/** First contact with an L0: the keys it presented, each with its type and SHA256 fingerprint; "Trust this key?". */
function TrustHostKeyDialog({ host, keys, onTrust, onCancel }: { readonly host: L0Form; readonly keys: readonly PresentedHostKey[]; readonly onTrust: (fingerprint: string) => void; readonly onCancel: () => void }): ReactElement {
  const ref = useRef<HTMLDivElement>(null);
  const ids = useId();
  useFocusTrap(ref, onCancel);
  return (
    <div className="modal-backdrop">
      <div ref={ref} className="modal" role="alertdialog" aria-modal="true" aria-labelledby={`${ids}-title`} aria-describedby={`${ids}-text`} data-testid="trust-host-key-dialog">
        <h2 id={`${ids}-title`} className="modal-title">
          Trust this key?
        </h2>
        <p id={`${ids}-text`} className="modal-text">
          First contact with {host.name} ({host.host}:{host.port || '22'}): no host key is pinned yet. It presented {keys.length === 1 ? 'this key' : 'these keys'}. Compare with{' '}
          <code>ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub</code> on the L0 before you trust it; the profile then pins it and refuses any other.
        </p>
        <ul className="host-key-list">
          {keys.map((key, index) => (
            <li key={key.fingerprint}>
              <span className="host-key-type">{key.type}</span> <code data-testid="trust-host-key-fingerprint">{key.fingerprint}</code>
              <button type="button" className="button small primary" data-testid={`trust-host-key-${index}`} onClick={() => onTrust(key.fingerprint)}>
                Trust this {key.type} key
              </button>
            </li>
          ))}
        </ul>
        <div className="modal-actions">
          <button type="button" className="button ghost" data-testid="trust-host-key-cancel" autoFocus onClick={onCancel}>
            Don&apos;t trust
          </button>
        </div>
      </div>
    </div>
  );
}

/** The explicit, separate action after a changed host key: pin a new fingerprint, shown in full. */
function ReplaceHostKeyDialog({ host, fingerprints, onReplace, onCancel }: { readonly host: L0Form; readonly fingerprints: readonly string[]; readonly onReplace: (fingerprint: string) => void; readonly onCancel: () => void }): ReactElement {
  const ref = useRef<HTMLDivElement>(null);
  const ids = useId();
  useFocusTrap(ref, onCancel);
  const presented = fingerprints.filter((fingerprint) => fingerprint !== host.hostKey);
  return (
    <div className="modal-backdrop">
      <div ref={ref} className="modal" role="alertdialog" aria-modal="true" aria-labelledby={`${ids}-title`} data-testid="replace-host-key-dialog">
        <h2 id={`${ids}-title`} className="modal-title">
          Replace the pinned key of {host.name}?
        </h2>
        <p className="modal-text">
          Pinned now: <code>{host.hostKey}</code>. Replace it only once you have checked the new key on the L0 itself.
        </p>
        {presented.length === 0 ? <p className="modal-text">The test did not name the key the L0 presents: type the new fingerprint into the “Pinned host key” field.</p> : null}
        <ul className="host-key-list">
          {presented.map((fingerprint, index) => (
            <li key={fingerprint}>
              <code>{fingerprint}</code>
              <button type="button" className="button small danger" data-testid={`replace-host-key-${index}`} onClick={() => onReplace(fingerprint)}>
                Pin this key
              </button>
            </li>
          ))}
        </ul>
        <div className="modal-actions">
          <button type="button" className="button ghost" data-testid="replace-host-key-cancel" autoFocus onClick={onCancel}>
            Keep the pinned key
          </button>
        </div>
      </div>
    </div>
  );
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
