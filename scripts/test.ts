// `npm test`: typecheck, lint, build, start the shared real-component lab ONCE (Xvnc servers, QEMU
// VMs, sshd, a libvirt L0 — in parallel), then run every test file in one Node test-runner invocation.
// Usage: npm test [-- --only unit|lab|e2e] [-- FILE...]   Runs in Node (through tsx).

import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { describeLab, startLab, type Lab } from '../tests/lab/lab';

const root = resolve(import.meta.dirname, '..');
const { values, positionals } = parseArgs({
  args: process.argv.slice(2),
  allowPositionals: true,
  options: { only: { type: 'string' }, 'skip-checks': { type: 'boolean', default: false } },
});

/**
 * The longest one test file may run before the runner fails it (`--test-timeout`). Node 20's runner
 * applies that flag to each file's process as a whole, not to the tests inside it: the bound must fit
 * the slowest legitimate file, tests/e2e/remediation-libvirt.test.ts, whose suites allow 14 min in all.
 * Each suite still sets its own `{ timeout }` for its tests, so a hang fails within that suite's bound.
 */
const TEST_FILE_TIMEOUT_MS = 15 * 60_000;

/** The shared lab every end-to-end test file uses (tests needing to kill a server start their own). */
const SHARED_LAB_SPEC = { xvnc: [{}, {}, { password: 'retro-pw' }], vms: 3, sshd: true, l0: { domains: 3 } } as const;

function findTests(folder: string): string[] {
  const full = join(root, folder);
  let entries: string[];
  try {
    entries = readdirSync(full);
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    const path = join(full, entry);
    if (statSync(path).isDirectory()) return findTests(relative(root, path));
    return entry.endsWith('.test.ts') ? [relative(root, path)] : [];
  });
}

function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return new Promise((resolveExit) => {
    const child = spawn(command, args, { cwd: root, stdio: 'inherit', env });
    child.on('exit', (code, signal) => resolveExit(code ?? (signal ? 1 : 0)));
    child.on('error', () => resolveExit(1));
  });
}

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const only = values.only;
const selected =
  positionals.length > 0
    ? positionals
    : [
        ...(only === undefined || only === 'unit' ? findTests('tests/unit') : []),
        ...(only === undefined || only === 'lab' ? findTests('tests/lab') : []),
        ...(only === undefined || only === 'e2e' ? findTests('tests/e2e') : []),
      ];
const needsLab = selected.some((file) => file.startsWith('tests/e2e'));

let failed = false;
if (!values['skip-checks'] && only === undefined && positionals.length === 0) {
  console.error('» typecheck and lint');
  const [typecheck, lint] = await Promise.all([run(npm, ['run', '--silent', 'typecheck']), run(npm, ['run', '--silent', 'lint'])]);
  if (typecheck !== 0) console.error('✗ typecheck failed (see above)');
  if (lint !== 0) console.error('✗ lint failed (see above)');
  failed = typecheck !== 0 || lint !== 0;
}

console.error('» build');
if ((await run(process.execPath, ['scripts/build.mjs'])) !== 0) {
  console.error('✗ build failed');
  process.exit(1);
}

const labFolder = join(root, '.lab', 'run');
mkdirSync(labFolder, { recursive: true });
const labFile = join(labFolder, `lab-${process.pid}.json`);
const dataFolder = join(labFolder, `data-${process.pid}`);
let lab: Lab | null = null;
if (needsLab) {
  console.error(
    `» starting the shared lab (${SHARED_LAB_SPEC.xvnc.length} Xvnc, ${SHARED_LAB_SPEC.vms} QEMU VMs, sshd, an L0 with ${SHARED_LAB_SPEC.l0.domains} libvirt domains)…`,
  );
  const started = Date.now();
  try {
    lab = await startLab({ xvnc: [...SHARED_LAB_SPEC.xvnc], vms: SHARED_LAB_SPEC.vms, sshd: SHARED_LAB_SPEC.sshd, l0: { ...SHARED_LAB_SPEC.l0 } });
    writeFileSync(labFile, JSON.stringify(describeLab(lab), null, 2));
    console.error(`  lab ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } catch (error) {
    // The lab tests then fail, each with this message (it names the install command): never skipped.
    const message = error instanceof Error ? error.message : String(error);
    console.error(`✗ the lab could not start: ${message}`);
    writeFileSync(labFile, JSON.stringify({ error: message }));
  }
}

const stopLab = async (): Promise<void> => {
  await lab?.stop().catch(() => undefined);
  rmSync(labFile, { force: true });
};
process.once('SIGINT', () => void stopLab().then(() => process.exit(130)));
process.once('SIGTERM', () => void stopLab().then(() => process.exit(143)));

console.error(`» ${selected.length} test files`);
const status = await run(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=1', `--test-timeout=${TEST_FILE_TIMEOUT_MS}`, '--test-reporter=spec', ...selected],
  // Divergence evidence of every app the tests start goes to a scratch folder, not the user's data folder.
  { ...process.env, RETROVISOR_LAB_FILE: labFile, RETROVISOR_DATA_DIR: process.env.RETROVISOR_DATA_DIR ?? dataFolder },
);
await stopLab();
rmSync(dataFolder, { recursive: true, force: true });
process.exit(status !== 0 || failed ? 1 : 0);
