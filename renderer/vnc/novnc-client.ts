// The noVNC-backed VncClient: one RFB per connection attempt, made lossless, guarded against hostile
// desktop sizes and tapped for damage. Runs in the browser only (noVNC needs `window`).

import RFB from '@novnc/novnc';
import { initLogging } from 'novnc-core/util/logging.js';
import { DamageCollector } from './damage';
import { desktopSizeProblem } from './desktop-size-limit';
import { losslessEncodings } from './encoding-policy';
import type { VncClient, VncClientEvents, VncClientFactory, VncCredentials } from './vnc-client';

let noVncPrepared = false;

/** noVNC failures that another attempt would meet again: not a VNC server, or no common security type. */
const UNRECOVERABLE_FAILURE = /^(Invalid server version|Unsupported security types|Unsupported auth scheme|No supported sub-auth types)/;

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

  // Input broadcast (a later issue) goes through one capture on the composite, never a replica.
  rfb.viewOnly = true;
  rfb.focusOnClick = false;
  rfb.resizeSession = false;
  rfb.scaleViewport = true;
  rfb.clipViewport = false;
  rfb.showDotCursor = false;
  rfb.background = 'transparent';

  guardDesktopSize(rfb, events, () => live);
  tapDamage(rfb, events, () => live);

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

  const client: VncClient = {
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
 * Wraps this instance's `_resize` (every server-announced size goes through it) so that a desktop
 * larger than RetroVisor accepts fails this session alone, before any canvas is allocated.
 */
function guardDesktopSize(rfb: RFB, events: VncClientEvents, isLive: () => boolean): void {
  const resize = rfb._resize.bind(rfb);
  const fail = rfb._fail.bind(rfb);
  let connected = false;
  rfb.addEventListener('connect', () => {
    connected = true;
  });
  rfb._fail = (details: string): boolean => {
    if (isLive()) events.onFailure(details, UNRECOVERABLE_FAILURE.test(details));
    return fail(details);
  };
  rfb._resize = (width: number, height: number): void => {
    const problem = desktopSizeProblem(width, height);
    if (problem !== null) {
      if (isLive()) events.onFailure(problem, true);
      fail(problem);
      // Drop whatever the server queued after the request: nothing more of it gets parsed.
      rfb._sock._rQi = rfb._sock._rQlen;
      return;
    }
    const changed = width !== rfb._fbWidth || height !== rfb._fbHeight;
    resize(width, height);
    // ServerInit's size is reported by onConnect; later ones are desktop resizes.
    if (connected && changed && isLive()) events.onDesktopResize(width, height);
  };
}

/**
 * Wraps this instance's display `_damage` and `flip` (NOVNC.md): every drawing primitive reports its
 * rectangle, and a flip that reaches the visible canvas ends one framebuffer update.
 */
function tapDamage(rfb: RFB, events: VncClientEvents, isLive: () => boolean): void {
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
