// Captures the user's input on the composite canvas, once: keys through noVNC's Keyboard (injected as
// a KeyboardCapture), pointer moves/buttons/drags and the wheel with coordinates mapped from the
// canvas's CSS box to framebuffer pixels, and clipboard pastes. Keys pass the key-repeat policy
// (tapped by default, so no server autorepeats on its own clock). Everything goes to the fan-out;
// focus loss releases every held key and button. While it captures the keyboard every key goes to the
// replicas (Tab and Escape too); Ctrl+Alt gives the keyboard back to the page, and a click or Enter on
// the screen captures it again. Runs in the renderer (DOM events).

import { KeyRepeatPolicy, type KeyRepeatMode } from '../../common/input/key-repeat';
import { ReleaseChordDetector } from '../../common/input/release-chord';
import { WheelAccumulator } from '../../common/input/wheel-steps';
import type { KeyboardCapture, KeyboardCaptureFactory } from '../vnc/vnc-client';
import type { BroadcastController } from './broadcast-controller';

/** DOM MouseEvent.buttons bits → RFB mask bits (DOM: 1 left, 2 right, 4 middle; RFB: 1 left, 2 middle, 4 right). */
export function rfbButtonMask(domButtons: number): number {
  return (domButtons & 1) | ((domButtons & 4) >> 1) | ((domButtons & 2) << 1);
}

/** A point in the canvas's CSS box mapped to its bitmap (framebuffer) pixels, clamped to the bitmap. */
export function toFramebuffer(
  clientX: number,
  clientY: number,
  box: { left: number; top: number; width: number; height: number },
  bitmap: { width: number; height: number },
): { x: number; y: number } {
  const scaleX = box.width > 0 ? bitmap.width / box.width : 1;
  const scaleY = box.height > 0 ? bitmap.height / box.height : 1;
  const x = Math.floor((clientX - box.left) * scaleX);
  const y = Math.floor((clientY - box.top) * scaleY);
  return { x: Math.max(0, Math.min(bitmap.width - 1, x)), y: Math.max(0, Math.min(bitmap.height - 1, y)) };
}

/** What the capture tells the UI. */
export interface CompositeInputListener {
  /** The composite gained or lost keyboard focus (the UI shows whether typing goes to the replicas). */
  onFocusChange(focused: boolean): void;
  /** The composite started or stopped capturing the keyboard (the badge names the release chord). */
  onCaptureChange(captured: boolean): void;
  /** Where the keyboard goes when the user releases it with the chord (null: it just leaves the screen). */
  releaseTarget(): HTMLElement | null;
}

/** Input capture on one composite canvas; dispose() when the canvas goes. */
export class CompositeInput {
  private readonly keyboard: KeyboardCapture;
  /** Who repeats held keys (see common/input/key-repeat.ts): what noVNC captures goes through it. */
  private readonly keyRepeat: KeyRepeatPolicy;
  private readonly wheel = new WheelAccumulator();
  private buttonMask = 0;
  /**
   * Where the last pointer event put the pointer. Wheel events carry whole CSS pixels (pointer events
   * carry fractions), which can land on the neighbouring framebuffer pixel: the wheel turns here.
   */
  private lastPoint: { x: number; y: number } | null = null;
  private readonly removers: Array<() => void> = [];
  /** Keys go to the replicas (true) or to the page (false: focused by Tab, or released with Ctrl+Alt). */
  private captured = false;
  private readonly releaseChord = new ReleaseChordDetector();
  /** A Tab is being pressed: focus arriving now comes from keyboard navigation, which must not trap it. */
  private tabbing = false;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly broadcast: BroadcastController,
    captureKeyboard: KeyboardCaptureFactory,
    private readonly listener: CompositeInputListener,
    keyRepeatMode?: KeyRepeatMode,
  ) {
    canvas.tabIndex = 0;
    this.keyRepeat = new KeyRepeatPolicy(keyRepeatMode);
    this.keyboard = captureKeyboard(canvas, (keysym, code, down) => {
      for (const stroke of this.keyRepeat.strokes(keysym, code, down)) broadcast.fanout.key(stroke.keysym, stroke.code, stroke.down);
    });
    // Not captured until the canvas is clicked or focused: keys reach the page meanwhile.
    this.keyboard.pause();
    this.listen(canvas, 'keydown', (event) => this.onKey(event, true));
    this.listen(canvas, 'keyup', (event) => this.onKey(event, false));
    const onWindowKey = (event: KeyboardEvent): void => {
      if (event.key === 'Tab') this.tabbing = event.type === 'keydown';
    };
    // A Tab whose release the page never sees (the window lost focus meanwhile) ends there too.
    const onWindowBlur = (): void => {
      this.tabbing = false;
    };
    window.addEventListener('keydown', onWindowKey, true);
    window.addEventListener('keyup', onWindowKey, true);
    window.addEventListener('blur', onWindowBlur);
    this.removers.push(() => {
      window.removeEventListener('keydown', onWindowKey, true);
      window.removeEventListener('keyup', onWindowKey, true);
      window.removeEventListener('blur', onWindowBlur);
    });
    this.listen(canvas, 'pointerdown', (event) => this.onPointer(event, true));
    this.listen(canvas, 'pointermove', (event) => this.onPointer(event, false));
    this.listen(canvas, 'pointerup', (event) => this.onPointer(event, false));
    this.listen(canvas, 'pointercancel', () => this.releaseEverything());
    this.listen(canvas, 'wheel', (event) => this.onWheel(event), { passive: false });
    this.listen(canvas, 'contextmenu', (event) => event.preventDefault());
    this.listen(canvas, 'paste', (event) => this.onPaste(event));
    this.listen(canvas, 'pointerleave', () => {
      this.lastPoint = null;
    });
    this.listen(canvas, 'focus', () => {
      listener.onFocusChange(true);
      // Tabbing onto the screen only focuses it (Enter captures); a click or a programmatic focus
      // (a toolbar action handing the keyboard back) captures at once.
      if (!this.tabbing) this.setCaptured(true);
    });
    this.listen(canvas, 'blur', () => {
      this.setCaptured(false);
      this.releaseEverything();
      listener.onFocusChange(false);
    });
    // The page going away (reload, window closed) must not leave keys down on the servers.
    const onPageHide = (): void => this.releaseEverything();
    window.addEventListener('pagehide', onPageHide);
    this.removers.push(() => window.removeEventListener('pagehide', onPageHide));
  }

  /** Who repeats held keys from now on ('retrovisor': keys are tapped; 'server': held, each server repeats). */
  setKeyRepeatMode(mode: KeyRepeatMode): void {
    this.keyRepeat.setMode(mode);
  }

  /** Stops capturing; whatever is held is released first. */
  dispose(): void {
    this.releaseEverything();
    this.keyboard.dispose();
    for (const remove of this.removers.splice(0)) remove();
    if (this.captured) {
      this.captured = false;
      this.listener.onCaptureChange(false);
    }
  }

  private setCaptured(captured: boolean): void {
    if (captured === this.captured) return;
    this.captured = captured;
    this.releaseChord.reset();
    // Pausing releases every key noVNC holds (their releases reach the replicas): nothing stays stuck.
    if (captured) this.keyboard.resume();
    else this.keyboard.pause();
    this.listener.onCaptureChange(captured);
  }

  /** The release chord while captured; Enter captures while the screen is only focused. */
  private onKey(event: KeyboardEvent, down: boolean): void {
    if (!this.captured) {
      if (down && event.key === 'Enter' && !event.repeat) {
        event.preventDefault();
        this.setCaptured(true);
      }
      return;
    }
    if (!this.releaseChord.onKey({ code: event.code, key: event.key, down })) return;
    this.setCaptured(false);
    this.releaseEverything();
    // The keyboard goes to the page's next control: Tab navigation works from there.
    const target = this.listener.releaseTarget();
    if (target !== null) target.focus();
  }

  private listen<K extends keyof HTMLElementEventMap>(
    target: HTMLElement,
    type: K,
    handler: (event: HTMLElementEventMap[K]) => void,
    options?: AddEventListenerOptions,
  ): void {
    const wrapped = handler as EventListener;
    target.addEventListener(type, wrapped, options);
    this.removers.push(() => target.removeEventListener(type, wrapped, options));
  }

  private position(event: MouseEvent): { x: number; y: number } | null {
    if (this.canvas.width === 0 || this.canvas.height === 0) return null;
    return toFramebuffer(event.clientX, event.clientY, this.canvas.getBoundingClientRect(), this.canvas);
  }

  private onPointer(event: PointerEvent, isDown: boolean): void {
    if (isDown) {
      // Keys follow the pointer: a click on the composite gives it the keyboard.
      this.canvas.focus({ preventScroll: true });
      this.setCaptured(true);
      try {
        // Drags that leave the canvas keep reporting to it; a pointer the browser no longer knows cannot be captured.
        this.canvas.setPointerCapture(event.pointerId);
      } catch {
        // Capture is a convenience: the press itself still goes out below.
      }
    }
    const point = this.position(event);
    if (point === null) return;
    event.preventDefault();
    this.lastPoint = point;
    const mask = rfbButtonMask(event.buttons);
    if (mask === this.buttonMask) {
      this.broadcast.fanout.pointerMove(point.x, point.y);
      return;
    }
    this.buttonMask = mask;
    this.broadcast.fanout.pointerState(point.x, point.y, mask);
  }

  private onWheel(event: WheelEvent): void {
    event.preventDefault();
    const point = this.lastPoint ?? this.position(event);
    if (point === null) return;
    const mode = event.deltaMode === 1 || event.deltaMode === 2 ? event.deltaMode : 0;
    const { dx, dy } = this.wheel.add(event.deltaX, event.deltaY, mode);
    if (dx !== 0 || dy !== 0) this.broadcast.fanout.wheel(point.x, point.y, dx, dy);
  }

  private onPaste(event: ClipboardEvent): void {
    const text = event.clipboardData?.getData('text/plain') ?? '';
    event.preventDefault();
    if (text !== '') this.broadcast.paste(text);
  }

  private releaseEverything(): void {
    this.keyboard.releaseAll();
    this.keyRepeat.reset();
    this.buttonMask = 0;
    this.wheel.reset();
    this.broadcast.releaseAll();
  }
}
