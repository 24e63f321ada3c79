// The slice of the DOM WebSocket the browser shell's transports use, so tests can hand in a fake.
// Types and the readyState numbers only.

/** The DOM WebSocket's readyState while connecting. */
export const SOCKET_CONNECTING = 0;
/** The DOM WebSocket's readyState once open. */
export const SOCKET_OPEN = 1;

/** What RetroVisor uses of a WebSocket. */
export interface WebSocketLike {
  binaryType: BinaryType;
  readonly readyState: number;
  readonly bufferedAmount: number;
  onopen: ((event: Event) => void) | null;
  onmessage: ((event: MessageEvent) => void) | null;
  onclose: ((event: CloseEvent) => void) | null;
  onerror: ((event: Event) => void) | null;
  send(data: string | ArrayBufferView<ArrayBuffer> | ArrayBuffer): void;
  close(code?: number, reason?: string): void;
}

/** Opens a socket; the real one is `(url) => new WebSocket(url)`. */
export type SocketFactory = (url: string) => WebSocketLike;
