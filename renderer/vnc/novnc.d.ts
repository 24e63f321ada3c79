// Local type declarations for the parts of noVNC 1.7 the renderer uses (@types/novnc__novnc is
// stale). Underscored members are noVNC internals that RetroVisor wraps on purpose (see NOVNC.md).

declare module '@novnc/novnc' {
  /** What RFB.messages write a message into: noVNC's send queue, or anything with the same methods. */
  export interface NovncSendQueue {
    sQpush8(value: number): void;
    sQpush16(value: number): void;
    sQpush32(value: number): void;
    sQpushBytes(bytes: Uint8Array): void;
    /** Ends a message: noVNC's queue sends what it holds. */
    flush(): void;
  }

  /** The send/receive queue noVNC keeps over its transport (core/websock.js). */
  export interface NovncWebsock extends NovncSendQueue {
    /** Receive-queue read index and fill level: equal means "nothing left to parse". */
    _rQi: number;
    _rQlen: number;
    /** The receive queue and its size (4 MiB at attach; grown by noVNC when a message needs more). */
    _rQ: Uint8Array;
    _rQbufferSize: number;
    /** The handlers noVNC registered; 'message' parses the receive queue (RFB._handleMessage). */
    readonly _eventHandlers: { readonly message: () => void };
    on(event: 'message', handler: () => void): void;
  }

  /** The framebuffer drawing layer (core/display.js). */
  export interface NovncDisplay {
    readonly width: number;
    readonly height: number;
    /** Queued drawing actions (only used by image-based encodings, which RetroVisor never asks for). */
    readonly _renderQ: readonly unknown[];
    /** Grows the damage bounding box; called by every drawing primitive. */
    _damage(x: number, y: number, width: number, height: number): void;
    /** Copies the damaged region to the visible canvas; once per FramebufferUpdate (queued while images decode). */
    flip(fromQueue?: boolean): void;
    /** Sets the framebuffer size (ServerInit, DesktopSize): resizes the drawing canvas, keeping its pixels. */
    resize(width: number, height: number): void;
    /** The visible canvas (RFB's `_canvas`) and its context. */
    readonly _target: HTMLCanvasElement;
    readonly _targetCtx: CanvasRenderingContext2D;
    /** The hidden canvas every primitive draws into, and its context (flip copies it to the target). */
    _backbuffer: HTMLCanvasElement;
    _drawCtx: CanvasRenderingContext2D;
    /** The damage bounding box since the last flip (reset to left/top 65535, right/bottom 0). */
    readonly _damageBounds: { left: number; top: number; right: number; bottom: number };
    /** The part of the framebuffer shown on the target (all of it without clipViewport). */
    readonly _viewportLoc: { x: number; y: number; w: number; h: number };
    _fbWidth: number;
    _fbHeight: number;
    /** The last fill style set (reset when the canvas is resized, which resets the context). */
    _prevDrawStyle: string;
    readonly _scale: number;
    /** Sets the target's CSS size to the viewport times `factor`. */
    _rescale(factor: number): void;
    /** CopyRect: copies a rectangle of the framebuffer to another place (queued behind decoding images). */
    copyImage(oldX: number, oldY: number, newX: number, newY: number, width: number, height: number, fromQueue?: boolean): void;
    /** Queues a drawing action behind an image still decoding. */
    _renderQPush(
      action: { readonly type: 'flip' } | { readonly type: 'copy'; readonly oldX: number; readonly oldY: number; readonly x: number; readonly y: number; readonly width: number; readonly height: number },
    ): void;
  }

  export interface RfbCredentials {
    username?: string;
    password?: string;
    target?: string;
  }

  export interface RfbOptions {
    shared?: boolean;
    credentials?: RfbCredentials;
    repeaterID?: string;
    wsProtocols?: string[];
  }

  export interface RfbEventDetails {
    connect: Record<string, never>;
    disconnect: { clean: boolean };
    credentialsrequired: { types: string[] };
    securityfailure: { status: number; reason?: string };
    serververification: { type: string; publickey: Uint8Array };
    clipboard: { text: string };
    bell: Record<string, never>;
    desktopname: { name: string };
    capabilities: { capabilities: { power: boolean } };
    clippingviewport: boolean;
  }

  /** What noVNC accepts instead of a URL: a WebSocket or RTCDataChannel look-alike. */
  export interface RfbRawChannel {
    send(data: Uint8Array): void;
    close(): void;
    binaryType: string;
    readonly protocol: string;
    readonly readyState: number | string;
    // noVNC assigns these itself; the channel only has to have them (`never`: any event shape fits).
    onopen: ((event: never) => void) | null;
    onmessage: ((event: { data: ArrayBuffer }) => void) | null;
    onerror: ((event: never) => void) | null;
    onclose?: ((event: never) => void) | null;
  }

  export interface RfbMessages {
    clientEncodings(sock: NovncWebsock, encodings: number[]): void;
    // Input messages (core/rfb.js RFB.messages): each writes one message and flushes it.
    keyEvent(sock: NovncSendQueue, keysym: number, down: 0 | 1): void;
    QEMUExtendedKeyEvent(sock: NovncSendQueue, keysym: number, down: boolean, xtScancode: number): void;
    pointerEvent(sock: NovncSendQueue, x: number, y: number, buttonMask: number): void;
    clientCutText(sock: NovncSendQueue, latin1: Uint8Array): void;
    extendedClipboardNotify(sock: NovncSendQueue, formats: number[]): void;
  }

  export default class RFB {
    constructor(target: HTMLElement, urlOrChannel: string | RfbRawChannel, options?: RfbOptions);

    viewOnly: boolean;
    focusOnClick: boolean;
    clipViewport: boolean;
    dragViewport: boolean;
    scaleViewport: boolean;
    resizeSession: boolean;
    showDotCursor: boolean;
    background: string;
    qualityLevel: number;
    compressionLevel: number;
    readonly capabilities: { power: boolean };

    disconnect(): void;
    sendCredentials(credentials: RfbCredentials): void;
    sendKey(keysym: number, code: string | null, down?: boolean): void;
    focus(options?: FocusOptions): void;
    blur(): void;
    getImageData(): ImageData;

    addEventListener<K extends keyof RfbEventDetails>(type: K, listener: (event: CustomEvent<RfbEventDetails[K]>) => void): void;
    removeEventListener<K extends keyof RfbEventDetails>(type: K, listener: (event: CustomEvent<RfbEventDetails[K]>) => void): void;

    // Internals RetroVisor wraps per instance (noVNC has no public hook for them).
    /** The visible canvas: framebuffer-sized (clipViewport off), scaled only through CSS. */
    readonly _canvas: HTMLCanvasElement;
    readonly _display: NovncDisplay;
    readonly _sock: NovncWebsock;
    readonly _fbWidth: number;
    readonly _fbHeight: number;
    /** 'connecting' | 'connected' | 'disconnecting' | 'disconnected'. */
    readonly _rfbConnectionState: string;
    /** The server announced QEMU extended key events (scancodes). */
    readonly _qemuExtKeyEventSupported: boolean;
    /** Extended clipboard capabilities the server announced, by format/action bit. */
    readonly _clipboardServerCapabilitiesFormats: Readonly<Record<number, boolean>>;
    readonly _clipboardServerCapabilitiesActions: Readonly<Record<number, boolean>>;
    /** The text noVNC provides when an extended-clipboard server asks for it. */
    _clipboardText: string | null;
    /** Applies a server-announced desktop size (ServerInit, DesktopSize, ExtendedDesktopSize). */
    _resize(width: number, height: number): void;
    /** Logs `details` and drops the connection (the 'disconnect' event carries only {clean:false}). */
    _fail(details: string): boolean;
    /** The handshake step while connecting: 'ProtocolVersion', 'Security', 'Authentication', ... */
    readonly _rfbInitState: string;
    /** The FramebufferUpdate being parsed: the current rectangle's header (encoding signed, null between rectangles). */
    readonly _FBU: { readonly x: number; readonly y: number; readonly width: number; readonly height: number; readonly encoding: number | null };
    /** The pixel decoders by encoding number; a rectangle whose encoding has none fails the session. */
    readonly _decoders: Record<number, unknown>;
    /**
     * Decodes the current rectangle of a pixel encoding (every encoding that is not a pseudo-encoding
     * noVNC handles itself); false while it waits for more bytes (called again with the same header).
     */
    _handleDataRect(): boolean;
    /**
     * Handles the current rectangle of a FramebufferUpdate, pseudo-encodings included (header parsed);
     * false while it must wait (more bytes, or a flush), called again with the same header.
     */
    _handleRect(): boolean;
    /** While true, the message loop stops before the next message; noVNC sets it around a display flush. */
    _flushing: boolean;

    static messages: RfbMessages;
  }
}

declare module 'novnc-pako-inflate' {
  /** pako's inflate on a z_stream (noVNC's vendor/pako/lib/zlib/inflate.js): a zlib status, negative on an error. */
  export function inflate(strm: { input: Uint8Array | null; next_in: number; avail_in: number; output: Uint8Array | null; next_out: number; avail_out: number }, flush: number): number;
}

declare module 'novnc-core/util/logging.js' {
  /** 'debug' | 'info' | 'warn' | 'error' | 'none'. */
  export function initLogging(level: 'debug' | 'info' | 'warn' | 'error' | 'none'): void;
}

declare module 'novnc-core/input/keyboard.js' {
  /** noVNC's keyboard handler: browser key events → keysym + physical code (AltGr, dead keys, repeats). */
  export default class Keyboard {
    constructor(target: EventTarget);
    onkeyevent: (keysym: number, code: string, down: boolean, numlock: boolean | null, capslock: boolean | null) => void;
    /** Starts listening (keydown/keyup on the target, blur on window). */
    grab(): void;
    /** Stops listening, releasing every key it saw pressed (through onkeyevent). */
    ungrab(): void;
  }
}

declare module 'novnc-core/input/xtscancodes.js' {
  /** DOM KeyboardEvent.code → XT (AT set 1) scancode, 0xe0-prefixed for extended keys. */
  const XtScancode: Readonly<Record<string, number | undefined>>;
  export default XtScancode;
}
