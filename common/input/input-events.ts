// The vocabulary of input broadcast: what one captured input is (a key, a pointer state, a clipboard
// text), what the fan-out hands each replica, and what the journal keeps. Pure types and constants.

/** One RFB-level input, as sent to a VNC server. */
export type BroadcastInput =
  | {
      readonly kind: 'key';
      /** X keysym (0 = NoSymbol: only the scancode matters). */
      readonly keysym: number;
      /** Physical key as a DOM `KeyboardEvent.code` ("KeyA", "ShiftLeft"), or null when unknown. */
      readonly code: string | null;
      readonly down: boolean;
    }
  | {
      readonly kind: 'pointer';
      /** Framebuffer coordinates (pixels of the replica's desktop, not CSS pixels). */
      readonly x: number;
      readonly y: number;
      /** RFB button mask: bit 0 left, 1 middle, 2 right, 3/4 wheel up/down, 5/6 wheel left/right. */
      readonly buttonMask: number;
    }
  | { readonly kind: 'clipboard'; readonly text: string };

/** Who caused an input: the user on the composite, a script, or RetroVisor releasing held keys/buttons. */
export type InputOrigin = 'user' | 'script' | 'release';

/** The input one replica receives for one dispatch (a pointer's mask may differ for a replica that joined mid-drag). */
export interface ReplicaDelivery {
  readonly replicaId: string;
  readonly input: BroadcastInput;
}

/** One broadcast step: a sequence number, a timestamp and, in order, what each target replica gets. */
export interface InputDispatch {
  /** 1, 2, 3… per workspace, never reused. */
  readonly seq: number;
  /** Wall-clock milliseconds (the injected clock's now()). */
  readonly timeMs: number;
  readonly origin: InputOrigin;
  /** The input as captured. */
  readonly input: BroadcastInput;
  /** One entry per target replica, in replica order; never empty. */
  readonly deliveries: readonly ReplicaDelivery[];
}

/** What the input journal keeps of a dispatch. */
export interface InputJournalEntry {
  readonly seq: number;
  readonly timeMs: number;
  readonly origin: InputOrigin;
  readonly input: BroadcastInput;
  /** The replicas that received it. */
  readonly targets: readonly string[];
}

/** RFB pointer-mask bits. */
export const BUTTON_BITS = {
  left: 1 << 0,
  middle: 1 << 1,
  right: 1 << 2,
  wheelUp: 1 << 3,
  wheelDown: 1 << 4,
  wheelLeft: 1 << 5,
  wheelRight: 1 << 6,
} as const;

/** Every bit a PointerEvent message carries (the eighth bit is the extended-pointer marker). */
export const BUTTON_MASK_ALL = 0x7f;

/** The mask bit of VNC button 1..7 (1 left, 2 middle, 3 right, 4/5 wheel up/down, 6/7 wheel left/right). */
export function buttonBit(button: number): number {
  if (!Number.isInteger(button) || button < 1 || button > 7) throw new RangeError(`a VNC button is 1 to 7, not ${button}`);
  return 1 << (button - 1);
}

/** The journal's view of a dispatch. */
export function journalEntryOf(dispatch: InputDispatch): InputJournalEntry {
  return {
    seq: dispatch.seq,
    timeMs: dispatch.timeMs,
    origin: dispatch.origin,
    input: dispatch.input,
    targets: dispatch.deliveries.map((delivery) => delivery.replicaId),
  };
}
