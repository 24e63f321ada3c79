// The noVNC-backed VncClient: one RFB per connection attempt, made lossless, guarded against hostile
// desktop sizes and rectangles, tapped for damage, and given input by the broadcast (RFB messages encoded by noVNC's
// own encoders for this server, sent through the input channel or onto the instance's socket: no
// noVNC input handlers, no per-instance pointer throttle). Runs in the browser only (noVNC needs `window`).

import RFB, { type NovncDisplay, type NovncWebsock } from '@novnc/novnc';
import Keyboard from 'novnc-core/input/keyboard.js';
import XtScancode from 'novnc-core/input/xtscancodes.js';
import { initLogging } from 'novnc-core/util/logging.js';
import { inflate as pakoInflate } from 'novnc-pako-inflate';
import { benchProbe } from '../divergence/bench-probe';
import { copyWithinCanvas } from './canvas-copy';
import { DamageCollector } from './damage';
import { paceDecoding } from './decode-pacer';
import { bufferZrleInflation, type ZrleDecoderLike } from './zrle-inflator';
import { desktopSizeProblem, rectangleBoundsProblem } from './desktop-size-limit';
import { losslessEncodings, unacceptedEncodingProblem, UNOFFERED_DECODER_ENCODINGS } from './encoding-policy';
import type { BroadcastInput } from '../../common/input/input-events';
import { RfbMessageCapture } from './rfb-message-capture';
import type { KeyboardCaptureFactory, VncClient, VncClientEvents, VncClientFactory, VncCredentials } from './vnc-client';

let noVncPrepared = false;
/** Where every client's input is encoded (synchronously, then taken): one buffer for the page. */
const capture = new RfbMessageCapture();

/**
 * The receive queue a connection starts with. noVNC allocates 4 MiB per connection and grows the queue
 * (doubling, or to 8× what is pending) only when a message does not fit: starting smaller, a queue
 * reaches at most the size the 4 MiB one would have grown to, and a replica sending small updates keeps
 * 512 KiB instead of 4 MiB.
 */
const RECEIVE_QUEUE_BYTES = 512 * 1024;

/** The ZRLE encoding number (RFC 6143). */
const ZRLE_ENCODING = 16;

/** Extended clipboard: the text format bit and the "notify" action bit (core/rfb.js). */
const EXTENDED_CLIPBOARD_TEXT = 1;
const EXTENDED_CLIPBOARD_NOTIFY = 1 << 27;
/** ClientCutText is Latin-1; other characters become "?" (as noVNC does). */
const LATIN1_REPLACEMENT = 0x3f;

/** noVNC failures that another attempt would meet again: not a VNC server, or no common security type. */
const UNRECOVERABLE_FAILURE = /^(Invalid server version|Unsupported security types|Unsupported auth scheme|No supported sub-auth types)/;

/** What the handshake waits for, by noVNC's `_rfbInitState`, in words for a timeout's reason. */
const HANDSHAKE_WAITS_FOR: Readonly<Record<string, string>> = {
  ProtocolVersion: "the server's RFB version",
  Security: "the server's security types",
  Authentication: 'the authentication to finish',
  SecurityResult: "the server's security result",
  SecurityReason: "the server's failure reason",
  ClientInitialisation: "the server's ServerInit",
  ServerInitialisation: "the server's ServerInit",
};

/**
 * Once per page: quiet noVNC's logging and wrap `RFB.messages.clientEncodings` so that no session
 * ever offers the server a lossy encoding (the SetEncodings message is filtered on its way out).
 */
export function prepareNoVnc(): void {
  if (noVncPrepared) return;
  noVncPrepared = true;
  initLogging('warn');
  const messages = RFB.messages;
  const sendEncodings = messages.clientEncodings.bind(messages);
  messages.clientEncodings = (sock, encodings) => sendEncodings(sock, losslessEncodings(encodings));
}

/** Creates one RFB session over `channel`, rendering into `host`, with RetroVisor's options and guards. */
export const createNoVncClient: VncClientFactory = (host, channel, events) => {
  prepareNoVnc();
  let live = true;
  const rfb = new RFB(host, channel, { shared: true });

  // Input never comes from noVNC's own handlers: the broadcast captures once on the composite and
  // writes RFB input messages itself (sendKey/sendPointer/sendClipboard below).
  rfb.viewOnly = true;
  rfb.focusOnClick = false;
  rfb.resizeSession = false;
  // Nothing shows noVNC's canvas itself (the thumbnail and the composite are drawn from it): no
  // scaling to a container, and the whole framebuffer is the viewport (drawIntoOneCanvas relies on it).
  rfb.scaleViewport = false;
  rfb.clipViewport = false;
  rfb.showDotCursor = false;
  rfb.background = 'transparent';

  drawIntoOneCanvas(rfb._display);
  shrinkReceiveQueue(rfb._sock);
  const refuse = reportFailures(rfb, events, () => live);
  guardDesktopSize(rfb, events, refuse, () => live);
  guardRectangles(rfb, refuse);
  // ZRLE (what RetroVisor asks for first) inflates ahead instead of one pako call per byte.
  const zrle = rfb._decoders[ZRLE_ENCODING] as ZrleDecoderLike | undefined;
  if (zrle !== undefined) bufferZrleInflation(zrle, pakoInflate);
  // A burst of screen data is decoded over several tasks, with the user's input and the composite's
  // frames between them; the channel holds further bytes meanwhile.
  paceDecoding(rfb, channel);
  // RA2ne asks the application to verify the server's key; RetroVisor has no such check, so the
  // handshake waits there until the session's handshake timeout ends it (the reason says so).
  let serverVerificationPending = false;
  rfb.addEventListener('serververification', () => {
    serverVerificationPending = true;
  });
  // Bench only (off in normal use): times noVNC's receive handler apart from what the damage tap feeds.
  const probe = benchProbe()?.client() ?? null;
  tapDamage(rfb, probe === null ? events : { onFramebufferUpdate: probe.wrapUpdate((rects) => events.onFramebufferUpdate(rects)) }, () => live);
  if (probe !== null) rfb._sock.on('message', probe.wrapReceive(rfb._sock._eventHandlers.message));

  rfb.addEventListener('connect', () => {
    if (live) events.onConnect();
  });
  rfb.addEventListener('disconnect', (event) => {
    if (!live) return;
    live = false;
    events.onDisconnect(event.detail.clean);
  });
  rfb.addEventListener('credentialsrequired', (event) => {
    if (live) events.onCredentialsRequired(event.detail.types);
  });
  rfb.addEventListener('securityfailure', (event) => {
    if (live) events.onSecurityFailure(event.detail.status, event.detail.reason ?? null);
  });

  const acceptsInput = (): boolean => live && rfb._rfbConnectionState === 'connected';

  const client: VncClient = {
    get acceptsInput() {
      return acceptsInput();
    },
    streamId: channel.streamId,
    get handshakeStage() {
      if (rfb._rfbConnectionState !== 'connecting') return null;
      if (serverVerificationPending) return "waiting for a verification of the server's RA2ne key, which RetroVisor does not do";
      return `waiting for ${HANDSHAKE_WAITS_FOR[rfb._rfbInitState] ?? 'the server'}`;
    },
    encodeInput(input: BroadcastInput): Uint8Array | null {
      if (!acceptsInput()) return null;
      switch (input.kind) {
        case 'key': {
          const scancode = input.code === null ? undefined : XtScancode[input.code];
          if (rfb._qemuExtKeyEventSupported && scancode !== undefined) {
            RFB.messages.QEMUExtendedKeyEvent(capture, input.keysym, input.down, scancode);
          } else if (input.keysym !== 0) {
            RFB.messages.keyEvent(capture, input.keysym, input.down ? 1 : 0);
          } else {
            return null;
          }
          break;
        }
        case 'pointer': {
          const x = Math.max(0, Math.min(rfb._fbWidth - 1, Math.round(input.x)));
          const y = Math.max(0, Math.min(rfb._fbHeight - 1, Math.round(input.y)));
          RFB.messages.pointerEvent(capture, x, y, input.buttonMask & 0x7f);
          break;
        }
        case 'clipboard':
          if (rfb._clipboardServerCapabilitiesFormats[EXTENDED_CLIPBOARD_TEXT] === true && rfb._clipboardServerCapabilitiesActions[EXTENDED_CLIPBOARD_NOTIFY] === true) {
            // The server asks for the text next; noVNC answers from _clipboardText on its own stream.
            rfb._clipboardText = input.text;
            RFB.messages.extendedClipboardNotify(capture, [EXTENDED_CLIPBOARD_TEXT]);
          } else {
            RFB.messages.clientCutText(capture, Uint8Array.from([...input.text], (character) => {
              const codePoint = character.codePointAt(0) ?? LATIN1_REPLACEMENT;
              return codePoint > 0xff ? LATIN1_REPLACEMENT : codePoint;
            }));
          }
          break;
      }
      return capture.take();
    },
    writeOwnStream(bytes: Uint8Array): void {
      if (!acceptsInput()) return;
      rfb._sock.sQpushBytes(bytes);
      rfb._sock.flush();
    },
    get canvas() {
      return rfb._canvas;
    },
    get width() {
      return rfb._fbWidth;
    },
    get height() {
      return rfb._fbHeight;
    },
    sendCredentials(credentials: VncCredentials): void {
      if (live) rfb.sendCredentials({ ...credentials });
    },
    getImageData(): ImageData {
      return rfb.getImageData();
    },
    disconnect(): void {
      if (!live) return;
      live = false;
      rfb.disconnect();
    },
  };
  return client;
};

/**
 * Captures keys on `target` with noVNC's own Keyboard class (keysym + physical code, AltGr, key
 * repeat, the release of every held key when the window loses focus).
 */
export const captureNoVncKeyboard: KeyboardCaptureFactory = (target, onKey) => {
  prepareNoVnc();
  const keyboard = new Keyboard(target);
  keyboard.onkeyevent = (keysym, code, down) => onKey(keysym, code, down);
  keyboard.grab();
  let grabbed = true;
  return {
    releaseAll(): void {
      // ungrab() reports a release for every key it holds; grab() listens again at once.
      keyboard.ungrab();
      if (grabbed) keyboard.grab();
    },
    pause(): void {
      if (!grabbed) return;
      grabbed = false;
      keyboard.ungrab();
    },
    resume(): void {
      if (grabbed) return;
      grabbed = true;
      keyboard.grab();
    },
    dispose(): void {
      grabbed = false;
      keyboard.ungrab();
    },
  };
};

/**
 * Wraps this instance's `_fail` so every noVNC failure reaches the session, and returns how a guard
 * refuses what the server sent: a fatal failure (another attempt would meet it again, so the session
 * waits for "Retry now") that also drops everything the server queued after it, unparsed.
 */
function reportFailures(rfb: RFB, events: VncClientEvents, isLive: () => boolean): (problem: string) => void {
  const fail = rfb._fail.bind(rfb);
  rfb._fail = (details: string): boolean => {
    if (isLive()) events.onFailure(details, UNRECOVERABLE_FAILURE.test(details));
    return fail(details);
  };
  return (problem) => {
    if (isLive()) events.onFailure(problem, true);
    fail(problem);
    rfb._sock._rQi = rfb._sock._rQlen;
  };
}

/**
 * Wraps this instance's `_resize` (every server-announced size goes through it) so that a desktop
 * larger than RetroVisor accepts fails this session alone, before any canvas is allocated.
 */
function guardDesktopSize(rfb: RFB, events: VncClientEvents, refuse: (problem: string) => void, isLive: () => boolean): void {
  const resize = rfb._resize.bind(rfb);
  let connected = false;
  rfb.addEventListener('connect', () => {
    connected = true;
  });
  rfb._resize = (width: number, height: number): void => {
    const problem = desktopSizeProblem(width, height);
    if (problem !== null) {
      refuse(problem);
      return;
    }
    const changed = width !== rfb._fbWidth || height !== rfb._fbHeight;
    resize(width, height);
    // ServerInit's size is reported by onConnect; later ones are desktop resizes.
    if (connected && changed && isLive()) events.onDesktopResize(width, height);
  };
}

/**
 * Refuses, before any decoder sees it, a pixel rectangle outside the framebuffer (noVNC does not
 * check; its Zlib and Tight decoders allocate width×height×4 bytes first) or in an encoding
 * RetroVisor never offers (those decoders are removed from this instance).
 *
 * Why here: `_handleDataRect` is where noVNC 1.7 hands every rectangle that is not one of its
 * pseudo-encodings (cursor, DesktopSize, LastRect, ... whose x/y/width/height mean other things) to a
 * decoder, with the header parsed and the framebuffer size current (a DesktopSize earlier in the same
 * update has been applied). Finding rectangle headers in the byte stream instead (in the channel)
 * would mean a second parser knowing every encoding's length rules, kept in step with noVNC's.
 */
function guardRectangles(rfb: RFB, refuse: (problem: string) => void): void {
  for (const encoding of UNOFFERED_DECODER_ENCODINGS) delete rfb._decoders[encoding];
  const handleDataRect = rfb._handleDataRect.bind(rfb);
  rfb._handleDataRect = (): boolean => {
    // Called again with the same header while a decoder waits for bytes: the check is cheap.
    const rect = rfb._FBU;
    const encoding = rect.encoding ?? 0;
    const problem = rfb._decoders[encoding] === undefined ? unacceptedEncodingProblem(encoding) : rectangleBoundsProblem(rect, rfb._fbWidth, rfb._fbHeight);
    if (problem === null) return handleDataRect();
    refuse(problem);
    return false;
  };
}

/** Replaces the 4 MiB receive queue noVNC allocated at attach (still empty) by a RECEIVE_QUEUE_BYTES one. */
function shrinkReceiveQueue(sock: NovncWebsock): void {
  if (sock._rQlen !== sock._rQi || sock._rQbufferSize <= RECEIVE_QUEUE_BYTES) return;
  sock._rQbufferSize = RECEIVE_QUEUE_BYTES;
  sock._rQ = new Uint8Array(RECEIVE_QUEUE_BYTES);
  sock._rQi = 0;
  sock._rQlen = 0;
}

/**
 * Makes this instance's display draw straight into its visible canvas, so each replica's frame exists
 * once in the page instead of twice (noVNC keeps a hidden backbuffer of the framebuffer's size and
 * copies each update's damage into the visible canvas on `flip`). Safe because RetroVisor never clips
 * the viewport (the canvas is always the whole framebuffer) and never paints noVNC's canvas on screen
 * itself: what the user sees is copied from it on damage (composite, thumbnail) after a flip, and the
 * comparison reads it at the flip. `flip` keeps its place in the render queue and still ends an update
 * for the damage tap; a resize keeps the pixels and reports the whole screen as damaged, as noVNC does;
 * a CopyRect copies within the canvas without drawing it onto itself (copyWithinCanvas).
 * Must run before tapDamage (which wraps the `flip` installed here).
 */
function drawIntoOneCanvas(display: NovncDisplay): void {
  const canvas = display._target;
  const context = display._targetCtx;
  display._backbuffer = canvas;
  display._drawCtx = context;
  display.flip = (fromQueue?: boolean): void => {
    if (display._renderQ.length !== 0 && fromQueue !== true) {
      display._renderQPush({ type: 'flip' });
      return;
    }
    // The primitives drew into the visible canvas already: only the damage is forgotten.
    const bounds = display._damageBounds;
    bounds.left = bounds.top = 65535;
    bounds.right = bounds.bottom = 0;
  };
  display.copyImage = (oldX: number, oldY: number, newX: number, newY: number, width: number, height: number, fromQueue?: boolean): void => {
    if (display._renderQ.length !== 0 && fromQueue !== true) {
      display._renderQPush({ type: 'copy', oldX, oldY, x: newX, y: newY, width, height });
      return;
    }
    copyWithinCanvas(context, { x: oldX, y: oldY, width, height }, newX, newY);
    display._damage(newX, newY, width, height);
  };
  display.resize = (width: number, height: number): void => {
    display._prevDrawStyle = '';
    display._fbWidth = width;
    display._fbHeight = height;
    if (canvas.width === width && canvas.height === height) return;
    // Changing a canvas's size clears it: the pixels that still fit are put back, as noVNC does.
    // (A server may announce a zero width or height: nothing is kept then, and getImageData would throw.)
    const keptWidth = Math.min(canvas.width, width);
    const keptHeight = Math.min(canvas.height, height);
    const saved = keptWidth > 0 && keptHeight > 0 ? context.getImageData(0, 0, keptWidth, keptHeight) : null;
    canvas.width = width;
    canvas.height = height;
    if (saved !== null) context.putImageData(saved, 0, 0);
    const viewport = display._viewportLoc;
    viewport.x = 0;
    viewport.y = 0;
    viewport.w = width;
    viewport.h = height;
    display._rescale(display._scale);
    display._damage(0, 0, width, height);
    display.flip();
  };
}

/**
 * Wraps this instance's display `_damage` and `flip` (NOVNC.md): every drawing primitive reports its
 * rectangle, and a flip that reaches the visible canvas ends one framebuffer update.
 */
function tapDamage(rfb: RFB, events: Pick<VncClientEvents, 'onFramebufferUpdate'>, isLive: () => boolean): void {
  const display = rfb._display;
  const damage = display._damage.bind(display);
  const flip = display.flip.bind(display);
  const collector = new DamageCollector();
  display._damage = (x: number, y: number, width: number, height: number): void => {
    collector.add({ x, y, width, height });
    damage(x, y, width, height);
  };
  display.flip = (fromQueue?: boolean): void => {
    // With drawing still queued (image decodes) noVNC only queues the flip; the real one comes later.
    const deferred = display._renderQ.length !== 0 && fromQueue !== true;
    flip(fromQueue);
    if (deferred || collector.isEmpty) return;
    const rects = collector.take(display.width, display.height);
    if (rects.length > 0 && isLive()) events.onFramebufferUpdate(rects);
  };
}
