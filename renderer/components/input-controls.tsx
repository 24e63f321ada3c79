// Input broadcast controls: the broadcast on/off toggle, the special-keys menu (a WAI-ARIA menu
// button; Ctrl+Alt+Del and Ctrl+Alt+Backspace ask first; with the clipboard actions and the
// key-repeat choice), the journal export (toolbar), the "Broadcasting to N of M" badge above the composite and
// each thumbnail's include/exclude toggle. Runs in the renderer.

import { useCallback, useEffect, useId, useRef, useState, type KeyboardEvent as ReactKeyboardEvent, type ReactElement } from 'react';
import { SPECIAL_KEY_CHORDS } from '../../common/input/keysym-names';
import { useShallow } from 'zustand/react/shallow';
import { useAppController } from '../app-context';
import { useFocusTrap } from '../hooks/use-focus-trap';
import { useAppStore } from '../store';
import { broadcastBadgeText } from '../workspace/session-status';
import { ConfirmDialog } from './confirm-dialog';

/** Chords that restart or log out what runs on a replica: the Keys menu asks before sending them to all. */
const CONFIRMED_CHORD_IDS: ReadonlySet<string> = new Set(['ctrl-alt-del', 'ctrl-alt-backspace']);

/** The question asked before sending `label` to the replicas receiving input. */
export function systemKeyQuestion(label: string, targetLabels: readonly string[]): string {
  if (targetLabels.length === 1) return `Send ${label} to ${targetLabels[0]}?`;
  return `Send ${label} to all ${targetLabels.length} replicas?`;
}

/** The menu's items, in order (menuitem, menuitemcheckbox). */
function menuItems(menu: HTMLElement | null): HTMLElement[] {
  return Array.from(menu?.querySelectorAll<HTMLElement>('[role="menuitem"], [role="menuitemcheckbox"]') ?? []);
}
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
  const controller = useAppController();
  const workspace = controller.workspace;
  const keyRepeat = useAppStore((state) => state.keyRepeat);
  const confirmSystemKeys = useAppStore((state) => state.preferences?.confirmSystemKeys ?? true);
  const targetLabels = useAppStore(useShallow((state) => state.inputTargets.map((id) => state.replicas[id]?.label ?? id)));
  const [open, setOpen] = useState(false);
  /** A chord waiting for the user's "Send" (Ctrl+Alt+Del, Ctrl+Alt+Backspace). */
  const [asking, setAsking] = useState<{ readonly label: string; readonly chord: string } | null>(null);
  const menuRef = useRef<HTMLDivElement>(null);
  const buttonRef = useRef<HTMLButtonElement>(null);
  /** Which item gets the focus when the menu opens: the first (click, Enter, Down) or the last (Up). */
  const focusOnOpen = useRef<'first' | 'last'>('first');
  const menuId = useId();

  useEffect(() => {
    if (!open) return;
    const items = menuItems(menuRef.current);
    (focusOnOpen.current === 'first' ? items[0] : items[items.length - 1])?.focus();
  }, [open]);

  /** Closes the menu and gives the focus back to its button (Escape). */
  const closeToButton = (): void => {
    setOpen(false);
    buttonRef.current?.focus();
  };

  const onButtonKeyDown = (event: ReactKeyboardEvent<HTMLButtonElement>): void => {
    if (event.key !== 'ArrowDown' && event.key !== 'ArrowUp') return;
    event.preventDefault();
    focusOnOpen.current = event.key === 'ArrowDown' ? 'first' : 'last';
    setOpen(true);
  };

  const onMenuKeyDown = (event: ReactKeyboardEvent<HTMLDivElement>): void => {
    const items = menuItems(menuRef.current);
    const index = items.indexOf(document.activeElement as HTMLElement);
    const focusAt = (next: number): void => items[(next + items.length) % items.length]?.focus();
    switch (event.key) {
      case 'ArrowDown':
        focusAt(index + 1);
        break;
      case 'ArrowUp':
        focusAt(index < 0 ? -1 : index - 1);
        break;
      case 'Home':
        focusAt(0);
        break;
      case 'End':
        focusAt(-1);
        break;
      case 'Escape':
        closeToButton();
        break;
      case 'Tab':
        // Tab leaves the menu for the next control, as from any menu button.
        setOpen(false);
        return;
      default:
        return;
    }
    event.preventDefault();
    event.stopPropagation();
  };

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
  const choose = (entry: { readonly id: string; readonly label: string; readonly chord: string }): void => {
    if (!CONFIRMED_CHORD_IDS.has(entry.id) || !confirmSystemKeys || targetLabels.length === 0) {
      send(entry.chord);
      return;
    }
    setOpen(false);
    setAsking({ label: entry.label, chord: entry.chord });
  };

  return (
    <div className="menu-anchor" ref={menuRef}>
      <button
        ref={buttonRef}
        type="button"
        className="button ghost"
        data-testid="special-keys"
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={menuId}
        onKeyDown={onButtonKeyDown}
        onClick={() => {
          focusOnOpen.current = 'first';
          setOpen(!open);
        }}
      >
        Keys ▾
      </button>
      {open ? (
        <div className="menu" role="menu" id={menuId} aria-label="Special keys" onKeyDown={onMenuKeyDown}>
          {SPECIAL_KEY_CHORDS.map((entry) => (
            <button key={entry.id} type="button" role="menuitem" tabIndex={-1} className="menu-item" data-testid={`special-key-${entry.id}`} onClick={() => choose(entry)}>
              {entry.label}
            </button>
          ))}
          <div className="menu-separator" role="separator" />
          <button
            type="button"
            role="menuitem"
            tabIndex={-1}
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
            tabIndex={-1}
            aria-checked={confirmSystemKeys}
            className="menu-item"
            data-testid="confirm-system-keys"
            title="Ask before sending Ctrl+Alt+Del or Ctrl+Alt+Backspace to every replica receiving input"
            onClick={() => {
              setOpen(false);
              void controller.setConfirmSystemKeys(!confirmSystemKeys);
              refocusComposite();
            }}
          >
            {confirmSystemKeys ? '✓ ' : ''}Ask before Ctrl+Alt+Del
          </button>
          <button
            type="button"
            role="menuitemcheckbox"
            tabIndex={-1}
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
      {asking !== null ? (
        <ConfirmDialog
          title={systemKeyQuestion(asking.label, targetLabels)}
          text={`Every replica receiving input gets ${asking.label} at once: it may restart a guest or end its graphical session.`}
          confirmLabel="Send"
          testId="system-key-confirm"
          offerDontAskAgain
          onConfirm={(dontAskAgain) => {
            setAsking(null);
            if (dontAskAgain) void controller.setConfirmSystemKeys(false);
            send(asking.chord);
          }}
          onCancel={() => {
            setAsking(null);
            buttonRef.current?.focus();
          }}
        />
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
  const connected = useAppStore((state) => state.replicaIds.filter((id) => state.replicas[id]?.stateName === 'connected').length);
  const soloLabel = useAppStore((state) => (state.inputTargets[0] === undefined ? null : (state.replicas[state.inputTargets[0]]?.label ?? null)));
  const focused = useAppStore((state) => state.compositeFocused);
  const captured = useAppStore((state) => state.compositeCaptured);
  const text = broadcastBadgeText({ enabled, targets, total, connected, soloLabel, focused, captured });
  return (
    <div
      className={`broadcast-badge ${enabled && targets > 0 ? 'broadcast-badge-on' : 'broadcast-badge-off'}`}
      data-testid="broadcast-badge"
      data-targets={targets}
      data-focused={focused}
      data-captured={captured}
      role="status"
      title={text}
    >
      {text}
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
