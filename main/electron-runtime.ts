// Tells whether the Electron runtime binary is installed (npm installs electron ≥ 42 without it and
// it is fetched on first launch, which fails offline). Runs in Node; never imports electron itself.

import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export type ElectronRuntime =
  | { readonly available: true; readonly executable: string }
  | { readonly available: false; readonly reason: string };

/** Locates the Electron executable the `electron` npm package would run, without triggering its download. */
export function findElectronRuntime(env: NodeJS.ProcessEnv = process.env): ElectronRuntime {
  let packageFolder: string;
  try {
    packageFolder = dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  } catch {
    return { available: false, reason: 'the electron package is not installed (run `npm install`)' };
  }
  const pathFile = join(packageFolder, 'path.txt');
  const relativeExecutable = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : 'electron';
  const distFolder = env.ELECTRON_OVERRIDE_DIST_PATH ?? join(packageFolder, 'dist');
  const executable = join(distFolder, relativeExecutable);
  if (!existsSync(executable)) {
    return {
      available: false,
      reason: `its runtime ${executable} is missing (Electron downloads it on first launch, which needs network access; ELECTRON_OVERRIDE_DIST_PATH can point at an unpacked Electron)`,
    };
  }
  return { available: true, executable };
}
