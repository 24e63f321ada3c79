// `npm run fuzz`: a long run of the stream fuzzer (tests/e2e/fuzz-streams.test.ts) with many cases per
// recording, outside `npm test` and its per-file time bound. Builds if stale, gives the app a scratch
// data folder, and passes RETROVISOR_FUZZ_SEED / RETROVISOR_FUZZ_CASES / RETROVISOR_FUZZ_ONLY through.
// Usage: [RETROVISOR_FUZZ_CASES=5000] [RETROVISOR_FUZZ_SEED=N] npm run fuzz   Runs in Node (through tsx).

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
/** Cases per recording when RETROVISOR_FUZZ_CASES is not given: about 20 minutes on 2 cores. */
const DEFAULT_LONG_RUN_CASES = '3000';

function run(args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolveExit) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: 'inherit', env });
    child.on('exit', (code, signal) => resolveExit(code ?? (signal ? 1 : 0)));
    child.on('error', () => resolveExit(1));
  });
}

if ((await run(['scripts/build.mjs', '--if-stale'], process.env)) !== 0) {
  console.error('✗ build failed');
  process.exit(1);
}
const dataFolder = mkdtempSync(join(tmpdir(), 'retrovisor-fuzz-data-'));
const env: NodeJS.ProcessEnv = { ...process.env, RETROVISOR_DATA_DIR: dataFolder, RETROVISOR_FUZZ_CASES: process.env.RETROVISOR_FUZZ_CASES ?? DEFAULT_LONG_RUN_CASES };
console.error(`» fuzzing with ${env.RETROVISOR_FUZZ_ONLY ? `the one case ${env.RETROVISOR_FUZZ_ONLY}` : `${env.RETROVISOR_FUZZ_CASES} cases per recording, seed ${env.RETROVISOR_FUZZ_SEED ?? 'default'}`}`);
const status = await run(['--import', 'tsx', '--test', '--test-reporter=spec', 'tests/e2e/fuzz-streams.test.ts'], env);
rmSync(dataFolder, { recursive: true, force: true });
process.exit(status);
