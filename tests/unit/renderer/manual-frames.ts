// Animation frames run by hand, for the plain-Node tests of the painters that take a FrameScheduler
// (the composite, the thumbnails and their pacer). Test support.

import type { FrameScheduler } from '../../../renderer/workspace/composite-renderer';

/** Keeps the frames asked for; `run` runs those asked so far, as the page's next frame would. */
export class ManualFrames implements FrameScheduler {
  private callbacks = new Map<number, () => void>();
  private next = 1;

  request(callback: () => void): number {
    this.callbacks.set(this.next, callback);
    return this.next++;
  }

  cancel(handle: number): void {
    this.callbacks.delete(handle);
  }

  /** How many frames are asked for and not run yet. */
  get requested(): number {
    return this.callbacks.size;
  }

  /** Runs the frames asked for so far. */
  run(): void {
    const callbacks = [...this.callbacks.values()];
    this.callbacks.clear();
    for (const callback of callbacks) callback();
  }
}
