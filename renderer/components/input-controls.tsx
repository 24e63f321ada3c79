// Input broadcast controls: the broadcast on/off toggle, the special-keys menu (with the clipboard
// actions and the key-repeat choice), the journal export (toolbar), the "Broadcasting to N of M" badge above the composite and
// each thumbnail's include/exclude toggle. Runs in the renderer.

import { useCallback, useEffect, useId, useRef, useState, type ReactElement } from 'react';
import { SPECIAL_KEY_CHORDS } from '../../common/input/keysym-names';
import { RELEASE_CHORD_TEXT } from '../../common/input/release-chord';
import { useAppController } from '../app-context';
import { useFocusTrap } from '../hooks/use-focus-trap';
import { useAppStore } from '../store';
import { DownloadIcon } from './icons';

/** Gives the keyboard back to the composite after a toolbar action (typing continues where it was). */
function refocusComposite(): void {
  document.getElementById('composite')?.focus({ preventScroll: true });
}

/** Starts a download of `text` as a file (the browser shell and Electron both allow blob downloads). */
function download(fileName: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'application/x-ndjson' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** The toolbar group: broadcast toggle, special keys, journal export. */
export function BroadcastControls(): ReactElement {
  const controller = useAppController();
  const workspace = controller.workspace;
  const enabled = useAppStore((state) => state.broadcastEnabled);
  const pushNotice = useAppStore((state) => state.pushNotice);
  const [clipboardOpen, setClipboardOpen] = useState(false);

  const exportJournal = async (): Promise<void> => {
    if (workspace === null) return;
    try {
      const exported = await workspace.broadcast.exportJournal();
      download(`retrovisor-input-${workspace.info.name.replace(/[^\w.-]+/g, '_')}.jsonl`, exported.jsonLines);
      pushNotice({
        level: 'info',
        message: `Exported ${exported.entries} input events${exported.dropped > 0 ? ` (${exported.dropped} older ones were dropped: the journal is bounded)` : ''}.`,
      });
    } catch (error) {
      pushNotice({ level: 'error', message: `The input journal could not be exported: ${error instanceof Error ? error.message : String(error)}` });
    }
  };

  return (
    <div className="broadcast-controls" role="group" aria-label="Input">
      <button
        type="button"
        className={`button ${enabled ? 'broadcast-on' : 'ghost'}`}
        data-testid="broadcast-toggle"
        aria-pressed={enabled}
        title={enabled ? 'Input goes to every included replica. Click to send input to the reference replica only.' : 'Input goes to the reference replica only. Click to broadcast to every included replica.'}
        onClick={() => workspace?.setBroadcastEnabled(!enabled)}
      >
        <span className="broadcast-dot" aria-hidden="true" />
        {enabled ? 'Broadcast on' : 'Broadcast off'}
      </button>
      <SpecialKeysMenu onClipboard={() => setClipboardOpen(true)} />
      <button type="button" className="button ghost" data-testid="export-journal" title="Download every input sent in this session as JSON lines" onClick={() => void exportJournal()}>
        <DownloadIcon size={15} />
        <span className="toolbar-label">Export input</span>
      </button>
      {clipboardOpen ? <ClipboardDialog onClose={() => setClipboardOpen(false)} /> : null}
    </div>
  );
}

/** The special-keys menu: chords every target receives alike, and the clipboard dialog. */
function SpecialKeysMenu({ onClipboard }: { readonly onClipboard: () => void }): ReactElement {
  const workspace = useAppController().workspace;
  const keyRepeat = useAppStore((state) => state.keyRepeat);
  const [open, setOpen] = useState(false);
  const menuRef = useRef<HTMLDivElement>(null);
  const menuId = useId();

  useEffect(() => {
    if (!open) return undefined;
    const close = (event: Event): void => {
      if (event instanceof KeyboardEvent && event.key !== 'Escape') return;
      if (event instanceof MouseEvent && menuRef.current?.contains(event.target as Node)) return;
      setOpen(false);
    };
    document.addEventListener('mousedown', close);
    document.addEventListener('keydown', close);
    return () => {
      document.removeEventListener('mousedown', close);
      document.removeEventListener('keydown', close);
    };
  }, [open]);

  const send = (chord: string): void => {
    setOpen(false);
    workspace?.broadcast.sendChord(chord);
    refocusComposite();
  };

  return (
    <div className="menu-anchor" ref={menuRef}>
      <button
        type="button"
        className="button ghost"
        data-testid="special-keys"
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={menuId}
        onClick={() => setOpen(!open)}
      >
        Keys ▾
      </button>
      {open ? (
        <div className="menu" role="menu" id={menuId} aria-label="Special keys">
          {SPECIAL_KEY_CHORDS.map((entry) => (
            <button key={entry.id} type="button" role="menuitem" className="menu-item" data-testid={`special-key-${entry.id}`} onClick={() => send(entry.chord)}>
              {entry.label}
            </button>
          ))}
          <div className="menu-separator" role="separator" />
          <button
            type="button"
            role="menuitem"
            className="menu-item"
            data-testid="clipboard-open"
            onClick={() => {
              setOpen(false);
              onClipboard();
            }}
          >
            Paste or type text…
          </button>
          <div className="menu-separator" role="separator" />
          <button
            type="button"
            role="menuitemcheckbox"
            aria-checked={keyRepeat === 'server'}
            className="menu-item"
            data-testid="key-repeat-server"
            title={
              keyRepeat === 'server'
                ? 'Held keys are held on the servers and each server repeats them on its own timer: replicas can end up with different repeat counts. Click to let RetroVisor send the repeats.'
                : 'Keys are sent as taps and repeats come from your keyboard: every replica gets exactly the same characters. Click to hold keys on the servers instead (for programs that need a key held).'
            }
            onClick={() => {
              setOpen(false);
              workspace?.setKeyRepeat(keyRepeat === 'server' ? 'retrovisor' : 'server');
              refocusComposite();
            }}
          >
            {keyRepeat === 'server' ? '✓ ' : ''}Hold keys on the servers
          </button>
        </div>
      ) : null}
    </div>
  );
}

/** Sends text to every target: as a clipboard (ClientCutText) or typed key by key (servers without clipboard support). */
function ClipboardDialog({ onClose }: { readonly onClose: () => void }): ReactElement {
  const workspace = useAppController().workspace;
  const dialogRef = useRef<HTMLDivElement>(null);
  const [text, setText] = useState('');
  const ids = useId();
  const close = useCallback(() => {
    onClose();
    refocusComposite();
  }, [onClose]);
  useFocusTrap(dialogRef, close);

  useEffect(() => {
    // Prefilled from the local clipboard where the browser allows it (Electron, or a granted permission).
    let cancelled = false;
    navigator.clipboard?.readText().then(
      (clipboard) => {
        if (!cancelled) setText((current) => (current === '' ? clipboard : current));
      },
      () => undefined,
    );
    return () => {
      cancelled = true;
    };
  }, []);

  const act = (how: 'paste' | 'type'): void => {
    if (how === 'paste') workspace?.broadcast.paste(text);
    else workspace?.broadcast.typeText(text);
    close();
  };

  return (
    <div className="modal-backdrop">
      <div ref={dialogRef} className="modal" role="dialog" aria-modal="true" aria-labelledby={`${ids}-title`}>
        <h2 id={`${ids}-title`} className="modal-title">
          Send text to the replicas
        </h2>
        <p className="modal-text">Every replica receiving input gets it. “Type” sends key strokes, for servers without clipboard support.</p>
        <textarea className="input clipboard-text" data-testid="clipboard-text" rows={5} value={text} onChange={(event) => setText(event.target.value)} />
        <div className="modal-actions">
          <button type="button" className="button ghost" onClick={close}>
            Cancel
          </button>
          <button type="button" className="button" data-testid="clipboard-type" disabled={text === ''} onClick={() => act('type')}>
            Type as keystrokes
          </button>
          <button type="button" className="button primary" data-testid="clipboard-send" disabled={text === ''} onClick={() => act('paste')}>
            Set clipboard
          </button>
        </div>
      </div>
    </div>
  );
}

/** Above the composite: who receives input, impossible to miss while broadcasting, and how the keyboard is taken and given back. */
export function BroadcastBadge(): ReactElement | null {
  const enabled = useAppStore((state) => state.broadcastEnabled);
  const targets = useAppStore((state) => state.inputTargets.length);
  const total = useAppStore((state) => state.replicaIds.length);
  const soloLabel = useAppStore((state) => (state.inputTargets[0] === undefined ? null : (state.replicas[state.inputTargets[0]]?.label ?? null)));
  const focused = useAppStore((state) => state.compositeFocused);
  const captured = useAppStore((state) => state.compositeCaptured);
  const text = enabled ? `Broadcasting to ${targets} of ${total}` : soloLabel !== null ? `Input to ${soloLabel} only` : 'No replica receives input';
  const keyboard = captured ? ` · ${RELEASE_CHORD_TEXT} to release the keyboard` : focused ? ' · Enter or click to type' : ' · click the screen to type';
  return (
    <div
      className={`broadcast-badge ${enabled ? 'broadcast-badge-on' : 'broadcast-badge-off'}`}
      data-testid="broadcast-badge"
      data-targets={targets}
      data-focused={focused}
      data-captured={captured}
      role="status"
      title={`${text}${keyboard}`}
    >
      {text}
      {keyboard}
    </div>
  );
}

/** A thumbnail's "receives broadcast input" switch. */
export function IncludeToggle({ replicaId }: { readonly replicaId: string }): ReactElement {
  const workspace = useAppController().workspace;
  const excluded = useAppStore((state) => state.excludedIds[replicaId] === true);
  const label = useAppStore((state) => state.replicas[replicaId]?.label ?? replicaId);
  return (
    <button
      type="button"
      className={`include-toggle${excluded ? ' include-toggle-off' : ''}`}
      data-testid="broadcast-include"
      aria-pressed={!excluded}
      aria-label={excluded ? `Include ${label} in broadcast` : `Exclude ${label} from broadcast`}
      title={excluded ? 'Excluded: receives no input. Click to include it.' : 'Receives broadcast input. Click to exclude it.'}
      onClick={() => workspace?.setIncluded(replicaId, excluded)}
    >
      {excluded ? 'Excluded' : 'Input'}
    </button>
  );
}
