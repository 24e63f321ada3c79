// The keyboard release chord of the composite: Ctrl+Alt pressed together and released with no other
// key in between (as virt-viewer and VMware do) gives the keyboard back to the page. Chords that
// continue (Ctrl+Alt+Del, Ctrl+Alt+F2) never trigger it; AltGr (key "AltGraph") is not Alt. The
// presses and releases still reach the servers, balanced. A transition table over the detector's
// states; pure.

/** What the user sees in the badge and the docs. */
export const RELEASE_CHORD_TEXT = 'Ctrl+Alt';

/** One key event as the browser reports it (KeyboardEvent.code, .key, and down or up). */
export interface ChordKeyEvent {
  readonly code: string;
  readonly key: string;
  readonly down: boolean;
}

/** idle: no Ctrl/Alt held; pending: one of them held; armed: both held, nothing else; spoiled: another key came in. */
export type ReleaseChordState = 'idle' | 'pending' | 'armed' | 'spoiled';

type KeyKind = 'control' | 'alt' | 'other';
type Transition = 'press-chord-key-one-kind' | 'press-chord-key-both-kinds' | 'press-other' | 'release-chord-key-some-held' | 'release-chord-key-none-held';

/** Where each event takes each state (absent: the state stays). */
const TRANSITIONS: Readonly<Record<ReleaseChordState, Partial<Record<Transition, ReleaseChordState>>>> = {
  idle: { 'press-chord-key-one-kind': 'pending', 'press-chord-key-both-kinds': 'armed' },
  pending: { 'press-chord-key-both-kinds': 'armed', 'press-other': 'spoiled', 'release-chord-key-none-held': 'idle' },
  armed: { 'press-other': 'spoiled', 'release-chord-key-none-held': 'idle' },
  spoiled: { 'release-chord-key-none-held': 'idle' },
};

function kindOf(event: ChordKeyEvent): KeyKind {
  if (event.code === 'ControlLeft' || event.code === 'ControlRight') return 'control';
  // Right Alt is AltGr on many layouts (key "AltGraph"): typing a character with it is not a release.
  if ((event.code === 'AltLeft' || event.code === 'AltRight') && event.key === 'Alt') return 'alt';
  return 'other';
}

/** Watches key events; `onKey` says when the release chord has just been completed. */
export class ReleaseChordDetector {
  private current: ReleaseChordState = 'idle';
  /** The Ctrl/Alt keys held now, by code, with their kind. */
  private readonly held = new Map<string, KeyKind>();

  get state(): ReleaseChordState {
    return this.current;
  }

  /** Feeds one event; true when it completes the chord (the last of Ctrl and Alt released, nothing else pressed). */
  onKey(event: ChordKeyEvent): boolean {
    const kind = kindOf(event);
    let transition: Transition | null = null;
    if (kind === 'other') {
      if (event.down) transition = 'press-other';
    } else if (event.down) {
      this.held.set(event.code, kind);
      const kinds = new Set(this.held.values());
      transition = kinds.has('control') && kinds.has('alt') ? 'press-chord-key-both-kinds' : 'press-chord-key-one-kind';
    } else if (this.held.delete(event.code)) {
      transition = this.held.size === 0 ? 'release-chord-key-none-held' : 'release-chord-key-some-held';
    }
    if (transition === null) return false;
    const before = this.current;
    this.current = TRANSITIONS[before][transition] ?? before;
    return before === 'armed' && transition === 'release-chord-key-none-held';
  }

  /** Forgets everything (the composite lost the keyboard: the browser will not report the releases). */
  reset(): void {
    this.current = 'idle';
    this.held.clear();
  }
}
