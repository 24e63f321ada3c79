// The narrow view of one VNC connection that the replica session controller drives. The noVNC-backed
// implementation lives in novnc-client.ts (browser only); tests use a fake. Types only.

import type { BroadcastInput } from '../../common/input/input-events';
import type { DamageRect } from './damage';
import type { ReplicaChannel } from './replica-channel';

/** Credentials a server asked for ("password", and for some security types "username"/"target"). */
export interface VncCredentials {
  readonly username?: string;
  readonly password?: string;
  readonly target?: string;
}

/** What a VNC client reports; every callback belongs to the client that was created with it. */
export interface VncClientEvents {
  /** The RFB handshake finished: the framebuffer size is known. */
  onConnect(): void;
  /** The connection ended (after a failure, `onFailure` came first). */
  onDisconnect(clean: boolean): void;
  onCredentialsRequired(types: readonly string[]): void;
  /** The server refused the credentials or the security negotiation. */
  onSecurityFailure(status: number, reason: string | null): void;
  /** The server changed the desktop size (after connect: DesktopSize / ExtendedDesktopSize). */
  onDesktopResize(width: number, height: number): void;
  /** One FramebufferUpdate reached the visible canvas: these rectangles changed. */
  onFramebufferUpdate(rects: readonly DamageRect[]): void;
  /**
   * The client gave up, with noVNC's technical details; `fatal` when retrying cannot help (the
   * server announced a desktop larger than RetroVisor accepts).
   */
  onFailure(details: string, fatal: boolean): void;
}

/** One live VNC connection (one RFB over one channel). */
export interface VncClient {
  /** The visible canvas: always framebuffer-sized, holding the real pixels (scaled only by CSS). */
  readonly canvas: HTMLCanvasElement;
  /** The current framebuffer size (0×0 before the server announced it). */
  readonly width: number;
  readonly height: number;
  sendCredentials(credentials: VncCredentials): void;
  /**
   * Whether input can be sent now (the RFB handshake is done and the connection is open). Every
   * send below checks it and returns false, sending nothing, when it is not.
   */
  readonly acceptsInput: boolean;
  /** The back-end stream this connection runs over (openReplicaStream's id): the input channel names it. */
  readonly streamId: string;
  /**
   * While the RFB handshake runs, what it waits for, in words ("waiting for the server's security
   * types"); null once it is over. A handshake timeout's reason says it.
   */
  readonly handshakeStage?: string | null;
  /**
   * The RFB bytes that deliver `input` to this server, encoded once for it, or null (nothing to
   * send) when it does not accept input now or the input has no form for it. A key: a QEMU extended
   * key event (scancode) when the server offers them and the code has one, else a KeyEvent. A
   * pointer: a PointerEvent clamped to the desktop. A clipboard: an extended-clipboard notify where
   * offered (the text is kept for the server's request), else ClientCutText in Latin-1.
   */
  encodeInput(input: BroadcastInput): Uint8Array | null;
  /** Writes encoded input onto this connection's own stream (per-stream delivery, without the input channel). */
  writeOwnStream(bytes: Uint8Array): void;
  /** Reads the whole framebuffer (for comparisons; 6–40 ms on big desktops). */
  getImageData(): ImageData;
  /** Ends the connection; no callback fires afterwards. */
  disconnect(): void;
}

/**
 * Creates a client that renders into `host` (it appends its own screen element) and talks over
 * `channel`; the caller starts the channel afterwards.
 */
export type VncClientFactory = (host: HTMLElement, channel: ReplicaChannel, events: VncClientEvents) => VncClient;

/** A keyboard capture on one element: browser key events become keysym + physical code. */
export interface KeyboardCapture {
  /** Releases every key the capture saw pressed (reported through its callback as key-ups). */
  releaseAll(): void;
  /** Stops taking key events (they reach the page again: Tab moves focus), releasing held keys first. */
  pause(): void;
  /** Takes key events again (after pause). */
  resume(): void;
  /** Stops capturing (releasing first). */
  dispose(): void;
}

/** Starts capturing keys on `target` (which must be focusable); `onKey` gets every press and release. */
export type KeyboardCaptureFactory = (target: HTMLElement, onKey: (keysym: number, code: string, down: boolean) => void) => KeyboardCapture;
