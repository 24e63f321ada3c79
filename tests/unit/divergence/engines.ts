// The two ways the divergence engine runs, for tests that must hold on both: JavaScript (the
// reference) and the WebAssembly SIMD kernels, assembled here from their .wat source.

import { type DivergenceOptions } from '../../../common/divergence';
import { compileCompareKernels, type CompareKernels } from '../../../common/divergence/compare-kernels';
import { compileCompareKernelsWasm } from '../../../scripts/wasm.mjs';

/** One way of running the engine: its name (in test titles) and the options that select it. */
export interface EngineVariant {
  readonly name: 'js' | 'simd';
  readonly options: DivergenceOptions;
}

const compiled = compileCompareKernels(await compileCompareKernelsWasm());
if (compiled === null) throw new Error(`this Node (${process.versions.node}, V8 ${process.versions.v8}) has no WebAssembly SIMD: the kernels cannot be tested; use Node 20 or newer`);

/** The compiled kernels (Node 20 always has WebAssembly SIMD). */
export const KERNELS: CompareKernels = compiled;

/** Both engines: every suite that takes a variant runs on each. */
export const ENGINE_VARIANTS: readonly EngineVariant[] = [
  { name: 'js', options: {} },
  { name: 'simd', options: { kernels: KERNELS } },
];
