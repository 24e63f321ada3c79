// Where the browser shell's WebSockets live: the page is served at http://127.0.0.1:PORT/<secret>/
// and everything else sits below the same secret. Pure; the secret stays in these URLs, in memory.

import { BROWSER_SHELL_PATHS } from '../../common/contract';

/** The browser shell's WebSocket addresses, derived from the page's own address. */
export interface BrowserShellEndpoints {
  /** The RPC socket (common/rpc.ts messages as text frames). */
  readonly rpcUrl: string;
  /** The socket of one replica byte stream. */
  streamUrl(streamId: string): string;
  /** The input channel's socket; null when the page asked for per-stream input (`?input=per-stream`). */
  readonly inputUrl: string | null;
}

/**
 * Derives the WebSocket addresses from the page URL; null when the page is not below a secret
 * (e.g. opened from a file), which means this is not the browser shell.
 */
export function browserShellEndpoints(pageUrl: string): BrowserShellEndpoints | null {
  let url: URL;
  try {
    url = new URL(pageUrl);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  const secret = url.pathname.split('/').find((segment) => segment.length > 0);
  if (secret === undefined) return null;
  const base = `${url.protocol === 'https:' ? 'wss:' : 'ws:'}//${url.host}/${secret}`;
  return {
    rpcUrl: `${base}/${BROWSER_SHELL_PATHS.rpc}`,
    streamUrl: (streamId) => `${base}/${BROWSER_SHELL_PATHS.stream}/${encodeURIComponent(streamId)}`,
    inputUrl: url.searchParams.get('input') === 'per-stream' ? null : `${base}/${BROWSER_SHELL_PATHS.input}`,
  };
}
