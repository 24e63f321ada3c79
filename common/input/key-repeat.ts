// Who repeats a held key: RetroVisor (the default) or each server on its own timer. A server that
// autorepeats (an X server does, after ~660 ms) counts the repeats of a held key from its own clock,
// so a key-up that reaches one replica a few milliseconds later than another can leave that replica
// with one character more: a divergence of our making. In 'retrovisor' mode every key but the
// modifiers is sent as a tap (press, then release at once) for the press and for each of the
// browser's repeats, and the user's release is swallowed: servers never see such a key held, and
// every replica gets exactly the repeats the user saw. Modifiers (Shift, Control, Alt, Meta, Super,
// AltGr…) stay held while the user holds them, since other keys are chorded with them. Pure.

/** 'retrovisor': keys are tapped, repeats come from the user's own keyboard; 'server': keys are held and each server repeats. */
export type KeyRepeatMode = 'retrovisor' | 'server';

/** The default: identical repeats on every replica. */
export const DEFAULT_KEY_REPEAT_MODE: KeyRepeatMode = 'retrovisor';

/** One key event to send. */
export interface KeyStroke {
  readonly keysym: number;
  readonly code: string | null;
  readonly down: boolean;
}

/**
 * Keys that are held on the servers as long as the user holds them: Shift, Control, Meta, Alt, Super
 * and Hyper (0xffe1–0xffee; Caps_Lock and Shift_Lock excepted: a lock toggles on its press), AltGr
 * (ISO_Level3_Shift, 0xfe03), ISO_Level5_Shift (0xfe11) and Mode_switch (ISO_Group_Shift, 0xff7e).
 * The ISO latches and locks are taps: they act on press and release alike.
 */
export function isHeldModifier(keysym: number): boolean {
  if (keysym >= 0xffe1 && keysym <= 0xffee) return keysym !== 0xffe5 && keysym !== 0xffe6;
  return keysym === 0xfe03 || keysym === 0xfe11 || keysym === 0xff7e;
}

/** A key's identity while pressed: its physical code, else its keysym (as the fan-out keys held keys). */
function identity(keysym: number, code: string | null): string {
  return code ?? `keysym:${keysym}`;
}

/** Turns captured key events into what the servers receive under the current repeat mode. */
export class KeyRepeatPolicy {
  /** Keys whose press went out as a tap: their release is swallowed. */
  private readonly tapped = new Set<string>();

  constructor(private mode: KeyRepeatMode = DEFAULT_KEY_REPEAT_MODE) {}

  get currentMode(): KeyRepeatMode {
    return this.mode;
  }

  /** Switches modes; keys pressed before keep the treatment they had until released. */
  setMode(mode: KeyRepeatMode): void {
    this.mode = mode;
  }

  /** The strokes to send for one captured event (a repeat is a press without a release before it). */
  strokes(keysym: number, code: string | null, down: boolean): KeyStroke[] {
    const key = identity(keysym, code);
    if (down) {
      if (this.mode === 'server' || isHeldModifier(keysym)) return [{ keysym, code, down: true }];
      this.tapped.add(key);
      return [
        { keysym, code, down: true },
        { keysym, code, down: false },
      ];
    }
    if (this.tapped.delete(key)) return [];
    return [{ keysym, code, down: false }];
  }

  /** Forgets taps (focus lost, capture disposed): what was tapped is already released everywhere. */
  reset(): void {
    this.tapped.clear();
  }
}
