// Connects a DivergenceMonitor to the comparison worker (dist/renderer/comparison-worker.js): posts
// its requests with the pixel buffers transferred, hands back what the worker posts, and reports a
// worker that cannot start, crashes or falls silent. Runs in the renderer's page (DOM: Worker).

import type { ComparisonRequest } from '../../common/comparison-protocol';
import type { ComparisonLinkFactory } from './divergence-monitor';

/** The worker's script, next to the page's own bundle (both shells serve dist/renderer/). */
export const COMPARISON_WORKER_FILE = 'comparison-worker.js';
/** The worker's name (shown in DevTools, and how the e2e tests find it). */
export const COMPARISON_WORKER_NAME = 'retrovisor-comparison';
/**
 * A started worker reports after every tick (every 100 ms); one silent this long is taken for dead
 * (a crashed worker fires no event). Long enough for a tick over 8 full screens on a loaded machine.
 */
export const WORKER_SILENCE_MS = 10_000;
/** How often the silence is checked. */
const SILENCE_CHECK_MS = 1_000;

/** Runs the comparison in a dedicated worker loaded from `url` (default: next to this bundle). */
export function workerComparison(url: URL = new URL(COMPARISON_WORKER_FILE, import.meta.url)): ComparisonLinkFactory {
  return (receive, fail) => {
    const worker = new Worker(url, { name: COMPARISON_WORKER_NAME });
    let started = false;
    let failed = false;
    let lastHeardMs = performance.now();
    const stop = (): void => {
      clearInterval(watchdog);
      worker.onmessage = null;
      worker.onerror = null;
      worker.onmessageerror = null;
      worker.terminate();
    };
    const failOnce = (reason: string): void => {
      if (failed) return;
      failed = true;
      stop();
      fail(reason);
    };
    const watchdog = setInterval(() => {
      if (started && performance.now() - lastHeardMs > WORKER_SILENCE_MS) failOnce(`the comparison worker has not answered for ${WORKER_SILENCE_MS / 1000} s`);
    }, SILENCE_CHECK_MS);
    worker.onmessage = (event: MessageEvent) => {
      lastHeardMs = performance.now();
      receive(event.data);
    };
    worker.onerror = (event: ErrorEvent) => {
      // The script could not load (missing file, CSP) or threw outside its handlers: it is unusable.
      event.preventDefault();
      failOnce(`the comparison worker failed: ${event.message || 'it could not be loaded'}`);
    };
    worker.onmessageerror = () => receive({ type: 'problem', problem: 'a message from the comparison worker could not be deserialized' });
    return {
      readsBitmaps: true,
      send: (request: ComparisonRequest, transfer: readonly Transferable[]) => {
        if (failed) return;
        if (request.type === 'start') {
          started = true;
          lastHeardMs = performance.now();
        }
        worker.postMessage(request, [...transfer]);
      },
      close: () => {
        if (failed) return;
        failed = true;
        stop();
      },
    };
  };
}
