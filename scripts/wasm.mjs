// Assembles the comparison kernels' WebAssembly text (common/divergence/wasm/compare-kernels.wat)
// into module bytes with wabt, in Node: used by the build (scripts/build.mjs), the tests and the
// benchmarks, so that no compiled .wasm is ever committed.

import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Where the kernels' source lives. */
export const COMPARE_KERNELS_WAT = join(root, 'common', 'divergence', 'wasm', 'compare-kernels.wat');

/** The compare kernels as WebAssembly module bytes (SIMD), assembled from their .wat source. */
export async function compileCompareKernelsWasm() {
  const { default: loadWabt } = await import('wabt');
  const wabt = await loadWabt();
  const text = await readFile(COMPARE_KERNELS_WAT, 'utf8');
  let parsed;
  try {
    parsed = wabt.parseWat('compare-kernels.wat', text, { simd: true });
  } catch (error) {
    // wabt's own stack points into its minified source: the message is what matters.
    throw new Error(`${COMPARE_KERNELS_WAT}: ${error instanceof Error ? error.message : String(error)}`);
  }
  try {
    parsed.resolveNames();
    parsed.validate();
    const { buffer } = parsed.toBinary({});
    return new Uint8Array(buffer);
  } finally {
    parsed.destroy();
  }
}

/**
 * An esbuild plugin resolving `retrovisor-wasm:compare-kernels` to the kernels' bytes (loader
 * 'binary': the default export is a Uint8Array). Assembles the .wat once, when created. TypeScript
 * knows the module from renderer/wasm-modules.d.ts.
 */
export async function wasmModulesEsbuildPlugin() {
  const compareKernels = await compileCompareKernelsWasm();
  return {
    name: 'retrovisor-wasm',
    setup(pluginBuild) {
      pluginBuild.onResolve({ filter: /^retrovisor-wasm:compare-kernels$/ }, (args) => ({ path: args.path, namespace: 'retrovisor-wasm' }));
      pluginBuild.onLoad({ filter: /.*/, namespace: 'retrovisor-wasm' }, () => ({ contents: compareKernels, loader: 'binary' }));
    },
  };
}
