// One build for the three runtimes: the renderer (browser ESM), the back end + CLI (Node ESM) and
// the Electron main process + preload (CommonJS, as Electron's sandboxed preload requires).
// Usage: node scripts/build.mjs [--if-stale]   (--if-stale: skip when dist/ is newer than every source)

import { build } from 'esbuild';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { wasmModulesEsbuildPlugin } from './wasm.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const SOURCE_FOLDERS = ['common', 'main', 'electron', 'renderer', 'assets'];
const STAMP = join(dist, '.build-stamp');
/** The package's icon sizes (freedesktop hicolor sizes a launcher asks for). */
const PACKAGE_ICON_SIZES_PX = [16, 32, 48, 64, 128, 256, 512];

function newestMtimeMs(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtimeMs(join(path, entry)));
  return newest;
}

function isStale() {
  if (!existsSync(STAMP)) return true;
  const built = statSync(STAMP).mtimeMs;
  const inputs = [...SOURCE_FOLDERS.map((folder) => join(root, folder)), join(root, 'package.json'), join(root, 'scripts', 'build.mjs'), join(root, 'scripts', 'wasm.mjs')];
  return inputs.some((input) => existsSync(input) && newestMtimeMs(input) > built);
}

if (process.argv.includes('--if-stale') && !isStale()) process.exit(0);

const started = Date.now();
rmSync(dist, { recursive: true, force: true });
mkdirSync(join(dist, 'renderer'), { recursive: true });

// noVNC exports only core/rfb.js; the keyboard and keysym modules need an alias to its core/ folder.
const novncCore = join(root, 'node_modules', '@novnc', 'novnc', 'core');
// noVNC's bundled pako inflate (the ZRLE inflator drives it directly: renderer/vnc/zrle-inflator.ts).
const novncPakoInflate = join(root, 'node_modules', '@novnc', 'novnc', 'vendor', 'pako', 'lib', 'zlib', 'inflate.js');
const nodeExternals = ['electron', 'ssh2', 'ws', 'sharp', 'playwright-core', 'cpu-features'];

// The comparison kernels: WebAssembly text assembled now, bundled as bytes wherever
// `import bytes from 'retrovisor-wasm:compare-kernels'` appears (see scripts/wasm.mjs).
const wasmModulesPlugin = await wasmModulesEsbuildPlugin();

await Promise.all([
  build({
    entryPoints: { app: join(root, 'renderer', 'index.tsx') },
    outdir: join(dist, 'renderer'),
    bundle: true,
    // noVNC's core/util/browser.js uses top-level await: ESM only.
    format: 'esm',
    target: 'es2022',
    platform: 'browser',
    sourcemap: true,
    minify: false,
    alias: { 'novnc-core': novncCore, 'novnc-pako-inflate': novncPakoInflate },
    loader: { '.png': 'file', '.svg': 'file' },
    plugins: [wasmModulesPlugin],
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'warning',
  }),
  build({
    entryPoints: { 'comparison-worker': join(root, 'renderer', 'divergence', 'comparison-worker.ts') },
    outdir: join(dist, 'renderer'),
    bundle: true,
    // The comparison worker, its own bundle (dist/renderer/comparison-worker.js) loaded by the page
    // with new Worker(): the engine runs off the page's main thread. A classic script (no module worker needed).
    format: 'iife',
    target: 'es2022',
    platform: 'browser',
    sourcemap: true,
    minify: false,
    plugins: [wasmModulesPlugin],
    logLevel: 'warning',
  }),
  build({
    entryPoints: { cli: join(root, 'main', 'cli.ts') },
    outdir: join(dist, 'main'),
    bundle: true,
    format: 'esm',
    target: 'node20',
    platform: 'node',
    sourcemap: true,
    external: nodeExternals,
    banner: { js: "import { createRequire as __rvCreateRequire } from 'node:module'; const require = __rvCreateRequire(import.meta.url);" },
    logLevel: 'warning',
  }),
  build({
    entryPoints: { main: join(root, 'electron', 'main.ts') },
    outdir: join(dist, 'electron'),
    outExtension: { '.js': '.cjs' },
    bundle: true,
    format: 'cjs',
    target: 'node20',
    platform: 'node',
    sourcemap: true,
    external: nodeExternals,
    logLevel: 'warning',
  }),
  build({
    entryPoints: { preload: join(root, 'electron', 'preload', 'preload.ts') },
    outdir: join(dist, 'electron'),
    outExtension: { '.js': '.cjs' },
    bundle: true,
    format: 'cjs',
    target: 'es2022',
    platform: 'node',
    external: ['electron'],
    logLevel: 'warning',
  }),
]);

cpSync(join(root, 'renderer', 'index.html'), join(dist, 'renderer', 'index.html'));
cpSync(join(root, 'renderer', 'styles.css'), join(dist, 'renderer', 'styles.css'));
cpSync(join(root, 'assets'), join(dist, 'assets'), { recursive: true });
// Raster icons (window, package, tray) are rendered from the SVG sources, not committed: the SVG is the
// one source, and sharp renders it the same way on every build. dist/icons holds the package's icon
// set (electron-builder's linux.icon folder of NxN.png files); it is not packed into app.asar.
const { default: sharp } = await import('sharp');
await sharp(join(root, 'assets', 'icon.svg')).resize(512, 512).png().toFile(join(dist, 'assets', 'icon.png'));
mkdirSync(join(dist, 'icons'), { recursive: true });
await Promise.all(
  PACKAGE_ICON_SIZES_PX.map((size) =>
    sharp(join(root, 'assets', 'icon.svg')).resize(size, size).png().toFile(join(dist, 'icons', `${size}x${size}.png`)),
  ),
);
writeFileSync(STAMP, new Date().toISOString());
console.error(`built dist/ in ${Date.now() - started} ms`);
