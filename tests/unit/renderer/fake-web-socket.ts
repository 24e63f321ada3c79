// A scriptable stand-in for the DOM WebSocket, for the browser shell's transport tests. Plain Node.

import type { WebSocketLike } from '../../../renderer/backend/web-socket-like';

/** Records what the code under test sends; the test plays the server's side. */
export class FakeWebSocket implements WebSocketLike {
  binaryType: BinaryType = 'blob';
  readyState = 0;
  bufferedAmount = 0;
  onopen: ((event: Event) => void) | null = null;
  onmessage: ((event: MessageEvent) => void) | null = null;
  onclose: ((event: CloseEvent) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;
  readonly sent: (string | Uint8Array)[] = [];
  closeCalls = 0;

  constructor(readonly url: string) {}

  send(data: string | ArrayBufferView<ArrayBuffer> | ArrayBuffer): void {
    if (typeof data === 'string') this.sent.push(data);
    else if (data instanceof ArrayBuffer) this.sent.push(new Uint8Array(data.slice(0)));
    else this.sent.push(new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)));
  }

  close(): void {
    this.closeCalls += 1;
    this.readyState = 2;
  }

  // The server's side.
  open(): void {
    this.readyState = 1;
    this.onopen?.({ type: 'open' } as Event);
  }

  receive(data: string | ArrayBuffer): void {
    this.onmessage?.({ data } as MessageEvent);
  }

  drop(code = 1006, reason = ''): void {
    this.readyState = 3;
    this.onclose?.({ code, reason } as CloseEvent);
  }

  /** The text frames sent, parsed. */
  sentControls(): unknown[] {
    return this.sent.filter((frame): frame is string => typeof frame === 'string').map((frame) => JSON.parse(frame) as unknown);
  }
}
