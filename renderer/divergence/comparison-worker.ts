// The comparison worker's entry point (built as its own bundle, dist/renderer/comparison-worker.js):
// runs in a dedicated Web Worker, off the page's main thread, and hands every posted message to a
// ComparisonCore whose clock is converted to the page's time line with performance.timeOrigin.

import { ComparisonCore, onPageTimeline, type ComparisonClock } from './comparison-core';

/** The part of a dedicated worker's global scope used here (the renderer is typed with the DOM lib). */
interface WorkerScope {
  onmessage: ((event: MessageEvent) => void) | null;
  onmessageerror: ((event: MessageEvent) => void) | null;
  postMessage(message: unknown): void;
}

const scope = globalThis as unknown as WorkerScope;

/** The worker's timers, its time read on the page's clock (the two performance.now() start at different origins). */
function pageClock(pageTimeOriginMs: number): ComparisonClock {
  return {
    now: onPageTimeline(() => performance.now(), performance.timeOrigin, pageTimeOriginMs),
    setInterval: (callback, intervalMs) => setInterval(callback, intervalMs),
    clearInterval: (handle) => clearInterval(handle as ReturnType<typeof setInterval>),
    setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
    clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  };
}

const core = new ComparisonCore({
  post: (report) => scope.postMessage(report),
  // Problems are posted to the page, which logs them.
  clockFor: pageClock,
});

scope.onmessage = (event) => core.handle(event.data);
scope.onmessageerror = () => core.handle({ type: 'unreadable message' });
