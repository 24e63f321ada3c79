// What one RFB client still has to be sent: its damage, queued CopyRects, pending pseudo-rectangles
// (DesktopSize, ExtendedDesktopSize, QEMU key ack), its encodings and pixel format; and the
// FramebufferUpdate built from them. Runs in Node (zlib streams).

import { constants as zlibConstants } from 'node:zlib';
import { type FramebufferEvent, type FramebufferSource } from './framebuffer';
import { intersectRects, Region, splitIntoSubrects, type Rect } from './region';
import { DeflateStream, PixelTranslator, encodeRaw, encodeZrleTiles } from './rfb-encodings';
import {
  DEFAULT_PIXEL_FORMAT,
  DESKTOP_SIZE_REASON,
  DESKTOP_SIZE_STATUS,
  ENCODING,
  encodeExtendedDesktopSize,
  encodeRectHeader,
  encodeUpdateHeader,
  type PixelFormat,
} from './rfb-wire';

// CopyRects queued beyond this are sent as plain damage instead.
const MAX_PENDING_COPIES = 16;
const ZRLE_ZLIB_LEVEL = 6;
// Raw pixels are big and highly compressible: favour speed.
const ZLIB_ZLIB_LEVEL = zlibConstants.Z_BEST_SPEED;
const PIXEL_ENCODINGS: readonly number[] = [ENCODING.Raw, ENCODING.Zlib, ENCODING.Zrle];

interface PendingCopy {
  readonly source: Rect;
  readonly target: Rect;
}

interface ClientEncodings {
  /** Raw, Zlib or ZRLE: the first of these in the client's list (its preference order). */
  readonly pixelEncoding: number;
  readonly copyRect: boolean;
  readonly desktopSize: boolean;
  readonly extendedDesktopSize: boolean;
  readonly qemuKeys: boolean;
}

function clientEncodings(list: readonly number[]): ClientEncodings {
  return {
    pixelEncoding: list.find((encoding) => PIXEL_ENCODINGS.includes(encoding)) ?? ENCODING.Raw,
    copyRect: list.includes(ENCODING.CopyRect),
    desktopSize: list.includes(ENCODING.DesktopSize),
    extendedDesktopSize: list.includes(ENCODING.ExtendedDesktopSize),
    qemuKeys: list.includes(ENCODING.QemuExtendedKeyEvent),
  };
}

/** The per-client update bookkeeping of the demo RFB server. */
export class UpdateState {
  private translator = new PixelTranslator(DEFAULT_PIXEL_FORMAT);
  private encodings: ClientEncodings = clientEncodings([]);
  private readonly damage = new Region();
  private copies: PendingCopy[] = [];
  private requested = false;
  private requestArea: Rect | null = null;
  private resizePending = false;
  private extendedSizeAnnouncePending = false;
  private extendedSizeAnnounced = false;
  private qemuKeysAckPending = false;
  private qemuKeysAcked = false;
  private desktopSizeReplies: number[] = [];
  private zrleStream: DeflateStream | null = null;
  private zlibStream: DeflateStream | null = null;

  /** True while a FramebufferUpdateRequest waits for an answer. */
  get updateRequested(): boolean {
    return this.requested;
  }

  /** True once ExtendedDesktopSize was (or is about to be) announced: SetDesktopSize is then legal. */
  get acceptsSetDesktopSize(): boolean {
    return this.extendedSizeAnnounced || this.extendedSizeAnnouncePending;
  }

  /** SetPixelFormat (already validated). */
  setPixelFormat(format: PixelFormat): void {
    this.translator = new PixelTranslator(format);
  }

  /** SetEncodings: the client's list, in its order of preference. */
  setEncodings(list: readonly number[]): void {
    this.encodings = clientEncodings(list);
    if (this.encodings.extendedDesktopSize && !this.extendedSizeAnnounced) this.extendedSizeAnnouncePending = true;
    if (this.encodings.qemuKeys && !this.qemuKeysAcked) this.qemuKeysAckPending = true;
  }

  /** FramebufferUpdateRequest: a non-incremental one damages the whole requested area. */
  request(incremental: boolean, area: Rect, bounds: Rect): void {
    const clipped = intersectRects(area, bounds);
    if (!incremental && clipped !== null) this.damage.add(clipped);
    // A client that has not seen a resize yet asks in old coordinates: it gets the whole new screen.
    this.requestArea = this.resizePending ? bounds : clipped;
    this.requested = true;
  }

  /** A SetDesktopSize to refuse with `status` in the next update. */
  replyToSetDesktopSize(status: number): void {
    this.desktopSizeReplies.push(status);
  }

  /** Records a change of the source; false when the client cannot follow it (a resize without DesktopSize). */
  onSourceEvent(event: FramebufferEvent, bounds: Rect): boolean {
    switch (event.kind) {
      case 'damage': {
        const area = intersectRects(event.rect, bounds);
        if (area) this.damage.add(area);
        return true;
      }
      case 'copy': {
        const { source, dx, dy } = event;
        const target = { ...source, x: source.x + dx, y: source.y + dy };
        if (!this.encodings.copyRect || this.resizePending || this.copies.length >= MAX_PENDING_COPIES) {
          this.damage.add(target);
          return true;
        }
        // The client copies what it has; where that was stale (pending damage inside the source),
        // the moved pixels are stale too and must be sent again after the copy.
        for (const stale of this.damage.toArray()) {
          const moved = intersectRects(stale, source);
          if (moved) this.damage.add({ ...moved, x: moved.x + dx, y: moved.y + dy });
        }
        this.copies.push({ source, target });
        return true;
      }
      case 'resize':
        if (!this.encodings.desktopSize && !this.encodings.extendedDesktopSize) return false;
        this.damage.clear();
        this.copies = [];
        this.damage.add(bounds);
        this.requestArea = bounds;
        this.resizePending = true;
        return true;
    }
  }

  /** True when an update should be built now. */
  hasWork(): boolean {
    return this.desktopSizeReplies.length > 0 || (this.requested && this.hasContent());
  }

  private hasContent(): boolean {
    if (this.resizePending || this.extendedSizeAnnouncePending || this.qemuKeysAckPending || this.copies.length > 0) return true;
    return this.requestArea !== null && this.damage.intersects(this.requestArea);
  }

  /**
   * Builds the next FramebufferUpdate. The pixels are read synchronously, before the first await,
   * so they are those of this instant; compression then runs on the connection's zlib streams.
   */
  async build(source: FramebufferSource): Promise<Buffer> {
    const { width, height, pixels } = source;
    const parts: Buffer[] = [];
    let rectangles = 0;
    for (const status of this.desktopSizeReplies.splice(0)) {
      parts.push(encodeExtendedDesktopSize(DESKTOP_SIZE_REASON.ThisClient, status, width, height));
      rectangles++;
    }
    if (!this.requested || !this.hasContent()) return Buffer.concat([encodeUpdateHeader(rectangles), ...parts]);
    this.requested = false;
    if (this.resizePending || this.extendedSizeAnnouncePending) {
      if (this.encodings.extendedDesktopSize) {
        parts.push(encodeExtendedDesktopSize(DESKTOP_SIZE_REASON.Server, DESKTOP_SIZE_STATUS.Ok, width, height));
        this.extendedSizeAnnounced = true;
      } else {
        parts.push(encodeRectHeader(0, 0, width, height, ENCODING.DesktopSize));
      }
      rectangles++;
      this.resizePending = false;
      this.extendedSizeAnnouncePending = false;
    }
    if (this.qemuKeysAckPending) {
      parts.push(encodeRectHeader(0, 0, width, height, ENCODING.QemuExtendedKeyEvent));
      rectangles++;
      this.qemuKeysAckPending = false;
      this.qemuKeysAcked = true;
    }
    for (const copy of this.copies.splice(0)) {
      const sourcePosition = Buffer.alloc(4);
      sourcePosition.writeUInt16BE(copy.source.x, 0);
      sourcePosition.writeUInt16BE(copy.source.y, 2);
      parts.push(encodeRectHeader(copy.target.x, copy.target.y, copy.target.width, copy.target.height, ENCODING.CopyRect), sourcePosition);
      rectangles++;
    }
    const rects = this.requestArea === null ? [] : this.damage.takeWithin(this.requestArea).flatMap(splitIntoSubrects);
    const encoding = this.encodings.pixelEncoding;
    const translator = this.translator;
    const payloads = rects.map((rect) =>
      encoding === ENCODING.Zrle ? encodeZrleTiles(pixels, width, rect, translator) : encodeRaw(pixels, width, rect, translator),
    );
    for (const [index, rect] of rects.entries()) {
      const payload = payloads[index] ?? Buffer.alloc(0);
      parts.push(encodeRectHeader(rect.x, rect.y, rect.width, rect.height, encoding));
      if (encoding === ENCODING.Raw) {
        parts.push(payload);
      } else {
        const stream =
          encoding === ENCODING.Zrle
            ? (this.zrleStream ??= new DeflateStream(ZRLE_ZLIB_LEVEL))
            : (this.zlibStream ??= new DeflateStream(ZLIB_ZLIB_LEVEL));
        const compressed = await stream.compress(payload);
        const length = Buffer.alloc(4);
        length.writeUInt32BE(compressed.length, 0);
        parts.push(length, compressed);
      }
      rectangles++;
    }
    return Buffer.concat([encodeUpdateHeader(rectangles), ...parts]);
  }

  /** Releases the zlib streams. */
  close(): void {
    this.zrleStream?.close();
    this.zlibStream?.close();
  }
}
