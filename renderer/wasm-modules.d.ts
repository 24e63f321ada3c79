// WebAssembly modules the build assembles and bundles as bytes (see scripts/build.mjs): the
// renderer imports them like files, and compiles them itself.

declare module 'retrovisor-wasm:compare-kernels' {
  /** The divergence engine's SIMD kernels (common/divergence/wasm/compare-kernels.wat), for compileCompareKernels. */
  const bytes: Uint8Array;
  export default bytes;
}
