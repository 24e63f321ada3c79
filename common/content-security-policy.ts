// The Content-Security-Policy of the renderer, the same in both shells: scripts (the comparison
// worker's too), styles and sockets come from the app's own origin only. Pure data.

/** CSP header value for every page the app serves. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  // 'wasm-unsafe-eval' lets the page and the worker compile WebAssembly (the comparison's SIMD
  // kernels, bundled with the app's own scripts); it allows no JavaScript eval.
  "script-src 'self' 'wasm-unsafe-eval'",
  // The comparison worker (dist/renderer/comparison-worker.js); never a blob: or data: worker.
  "worker-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
