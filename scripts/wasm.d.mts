import type { Plugin } from 'esbuild';

// Types for scripts/wasm.mjs (imported by the tests and benchmarks, which are TypeScript).

/** Where the kernels' source lives. */
export declare const COMPARE_KERNELS_WAT: string;
/** The compare kernels as WebAssembly module bytes (SIMD), assembled from their .wat source. */
export declare function compileCompareKernelsWasm(): Promise<Uint8Array<ArrayBuffer>>;
/** An esbuild plugin resolving `retrovisor-wasm:compare-kernels` to the kernels' bytes (a Uint8Array default export). */
export declare function wasmModulesEsbuildPlugin(): Promise<Plugin>;
