#!/usr/bin/env node
// The `retrovisor` command. Builds dist/ first when it is missing or older than the sources,
// then hands over to the bundled CLI (dist/main/cli.js).
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const build = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs'), '--if-stale'], { stdio: ['ignore', 'ignore', 'inherit'] });
if (build.status !== 0) {
  process.stderr.write('retrovisor: the build failed (see above); run `npm install` then `npm run build`\n');
  process.exit(1);
}
const { main } = await import(pathToFileURL(join(root, 'dist', 'main', 'cli.js')).href);
// Exit explicitly: a half-open SSH or socket handle must not keep a finished command alive.
process.exit(await main(process.argv.slice(2)));
