// Reads the page's snapshots (ImageBitmaps of damaged regions) back as RGBA pixels in the comparison
// worker. Where the runtime has WebCodecs, each snapshot is copied by `VideoFrame.copyTo` into a
// buffer kept for the next snapshot: no allocation per read. The fallback draws the snapshot on an
// OffscreenCanvas and calls getImageData, which allocates a new array per read; a worker's garbage
// collector frees those only after tens of MiB have piled up (a scrolling screen on 8 replicas kept
// 50–70 MiB of dead read-backs alive).
//
// The reader hands pixels over in the byte order its engine holds (`order`): the worker's engine holds
// BGRA, the order Chromium keeps canvas snapshots in, so copyTo copies them without converting each
// pixel (0.2 ms for 1920×1080 against 1.6 ms to RGBA); what the canvas fallback reads (RGBA) has its
// red and blue swapped in place when the order is BGRA.
//
// Where the engine offers it (`destination`: the kernels' memory), copyTo writes straight into the
// engine's own staging memory, where the write compares the snapshot with the framebuffer: no copy
// of the pixels between the read-back and the comparison.
//
// copyTo is asynchronous: `prepare(message)` copies a 'frame' message's snapshots before the message
// is handed to the comparison core, whose `read` then returns the copies synchronously. The caller
// runs prepare and the core one message at a time, in order.

import { swapRedAndBlue, type PixelOrder } from '../../common/divergence/pixel-order';

/** The part of an ImageBitmap this module uses. */
export interface SnapshotBitmap {
  readonly width: number;
  readonly height: number;
}

/** A VideoFrame made from a snapshot: copied into `destination` in the reader's order, then closed. */
export interface SnapshotFrame {
  copyTo(destination: Uint8ClampedArray, options: { readonly format: 'RGBA' | 'BGRA'; readonly colorSpace: 'srgb' }): Promise<unknown>;
  close(): void;
}

export interface SnapshotReaderOptions {
  /** The byte order `read` returns pixels in: the order of the engine they are written into. */
  readonly order: PixelOrder;
  /** Whether a value is a snapshot (the worker: `instanceof ImageBitmap`). */
  readonly isBitmap: (value: unknown) => value is SnapshotBitmap;
  /** A VideoFrame of the snapshot, or null where the runtime has no WebCodecs. */
  readonly frameOf: ((bitmap: SnapshotBitmap) => SnapshotFrame) | null;
  /** The fallback: the snapshot drawn and read with getImageData (a new array, RGBA). */
  readonly readByCanvas: (bitmap: SnapshotBitmap) => Uint8ClampedArray;
  /** Told once when copyTo fails and the reader falls back to the canvas for good. */
  readonly warn?: (message: string) => void;
  /**
   * Memory of the engine's for `bytes` bytes, where the snapshots of one message are copied one
   * after the other, or null for the reader's own buffers. Asked once per message, and again by
   * `read` (a view given earlier may have been detached since), for the same size: the bytes stay
   * where they were.
   */
  readonly destination?: (bytes: number) => Uint8ClampedArray | null;
}

/** How snapshots are being read: by VideoFrame.copyTo into kept buffers, or by getImageData. */
export type SnapshotReadback = 'videoframe' | 'canvas';

export class SnapshotReader {
  /** One kept buffer per snapshot position in a message, grown to the largest seen. */
  private readonly buffers: Uint8ClampedArray[] = [];
  /** The copies made by `prepare` for the message being handled: a buffer of the reader's, or the engine's slot. */
  private readonly copies = new Map<SnapshotBitmap, Uint8ClampedArray | { readonly offset: number; readonly bytes: number; readonly total: number }>();
  /** Views of the engine's memory handed out by `read` (never to be freed or detached). */
  private readonly staged = new WeakSet<Uint8ClampedArray>();
  private frameOf: ((bitmap: SnapshotBitmap) => SnapshotFrame) | null;

  constructor(private readonly options: SnapshotReaderOptions) {
    this.frameOf = options.frameOf;
  }

  get readback(): SnapshotReadback {
    return this.frameOf === null ? 'canvas' : 'videoframe';
  }

  /** Copies the snapshots of a 'frame' message (anything else: nothing to do). Never throws. */
  async prepare(message: unknown): Promise<void> {
    this.copies.clear();
    if (this.frameOf === null || typeof message !== 'object' || message === null) return;
    const { type, bitmaps } = message as { type?: unknown; bitmaps?: unknown };
    if (type !== 'frame' || !Array.isArray(bitmaps)) return;
    // Where each snapshot goes in the engine's memory: one after the other, 16-byte aligned.
    const places: { readonly item: SnapshotBitmap; readonly index: number; readonly bytes: number; readonly offset: number }[] = [];
    let total = 0;
    for (const [index, item] of (bitmaps as unknown[]).entries()) {
      if (!this.options.isBitmap(item)) continue;
      const bytes = item.width * item.height * 4;
      if (!(bytes > 0)) continue;
      places.push({ item, index, bytes, offset: total });
      total += Math.ceil(bytes / 16) * 16;
    }
    let staging: Uint8ClampedArray | null = null;
    try {
      if (places.length > 0) staging = this.options.destination?.(total) ?? null;
    } catch {
      // The engine could not make room (its memory cannot grow that far): the reader's own buffers.
    }
    for (const { item, index, bytes, offset } of places) {
      if (this.frameOf === null) break;
      let frame: SnapshotFrame | null = null;
      let target: Uint8ClampedArray | null = null;
      try {
        target = staging?.subarray(offset, offset + bytes) ?? null;
        if (target === null) {
          let buffer = this.buffers[index];
          if (buffer === undefined || buffer.length < bytes) {
            buffer = new Uint8ClampedArray(bytes);
            this.buffers[index] = buffer;
          }
          target = buffer.subarray(0, bytes);
        }
      } catch {
        // No memory for a copy this large: `read` gets it from the canvas, or the core reports why not.
        continue;
      }
      try {
        frame = this.frameOf(item);
        await frame.copyTo(target, { format: this.options.order === 'bgra' ? 'BGRA' : 'RGBA', colorSpace: 'srgb' });
        this.copies.set(item, staging === null ? target : { offset, bytes, total });
      } catch (error) {
        // A runtime whose copyTo cannot give this format fails every time: read by canvas from now on.
        this.frameOf = null;
        this.options.warn?.(`snapshots are read with getImageData from now on: VideoFrame.copyTo failed (${error instanceof Error ? error.message : String(error)})`);
      } finally {
        frame?.close();
      }
    }
  }

  /** The pixels of a snapshot, in `order`: the copy `prepare` made, or a new array read by canvas. */
  read(bitmap: SnapshotBitmap): Uint8ClampedArray {
    const copy = this.copies.get(bitmap);
    if (copy === undefined) {
      const pixels = this.options.readByCanvas(bitmap);
      if (this.options.order === 'bgra') swapRedAndBlue(pixels);
      return pixels;
    }
    this.copies.delete(bitmap);
    if (copy instanceof Uint8ClampedArray) return copy;
    const memory = this.options.destination?.(copy.total) ?? null;
    if (memory === null) throw new Error('the engine no longer offers the memory the snapshot was copied into');
    const view = memory.subarray(copy.offset, copy.offset + copy.bytes);
    this.staged.add(view);
    return view;
  }

  /** Whether `pixels` is one of the kept buffers or a view of the engine's memory (never to be freed or detached). */
  owns(pixels: Uint8ClampedArray): boolean {
    return this.staged.has(pixels) || this.buffers.some((buffer) => buffer.buffer === pixels.buffer);
  }
}
