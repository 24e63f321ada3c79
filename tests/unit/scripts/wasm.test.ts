// scripts/wasm.mjs: the kernels' .wat assembles with SIMD, and the esbuild plugin bundles exactly
// those bytes for `import bytes from 'retrovisor-wasm:compare-kernels'` (what the renderer imports).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { build } from 'esbuild';
import { compileCompareKernelsWasm, wasmModulesEsbuildPlugin } from '../../../scripts/wasm.mjs';

describe('WebAssembly build step', { timeout: 60_000 }, () => {
  it('bundles the assembled kernels as the module\'s default export', async () => {
    const expected = await compileCompareKernelsWasm();
    assert.ok(WebAssembly.validate(expected), 'the assembled module validates (SIMD)');
    const result = await build({
      stdin: { contents: "import bytes from 'retrovisor-wasm:compare-kernels'; export default bytes;", resolveDir: process.cwd(), loader: 'ts' },
      bundle: true,
      write: false,
      format: 'esm',
      // As the renderer is built: es2022 decodes the bytes with esbuild's own helper (a newer target
      // would use Uint8Array.fromBase64, which Node 20 lacks).
      target: 'es2022',
      platform: 'browser',
      logLevel: 'silent',
      plugins: [await wasmModulesEsbuildPlugin()],
    });
    const code = result.outputFiles[0]!.text;
    const bundled = ((await import(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`)) as { default: Uint8Array }).default;
    assert.ok(bundled instanceof Uint8Array);
    assert.deepEqual([...bundled], [...expected]);
  });
});
