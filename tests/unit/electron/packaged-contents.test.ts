// `npm run dist` with a stand-in Electron and no reachable download host: it packs the unpacked app,
// says which targets it skipped and why, and app.asar holds exactly what the packed app runs (checked
// both ways). The package's .desktop entry, file types and icon sizes are checked in the build
// configuration. No real Electron binary is needed (none can be fetched here).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';

const root = resolve(import.meta.dirname, '../../..');
const require = createRequire(import.meta.url);
const asar = require('@electron/asar') as { listPackage(file: string, options?: object): string[] };
const yaml = require('js-yaml') as { load(text: string): unknown };

/** The marker Electron puts before its fuse wire; electron-builder refuses a binary without one. */
const FUSE_SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';
/** A host that never resolves (RFC 6761): electron-builder's tool downloads count as unreachable. */
const UNREACHABLE_MIRROR = 'https://retrovisor-offline.invalid/';
/** What the Electron main process requires at run time: the packages its bundle leaves to require(). */
function runtimeModules(): string[] {
  const bundle = readFileSync(join(root, 'dist', 'electron', 'main.cjs'), 'utf8');
  const names = [...bundle.matchAll(/\brequire\("([^"]+)"\)/g)].map((match) => match[1]!);
  return [...new Set(names.filter((name) => !name.startsWith('node:') && name !== 'electron'))].sort();
}
/** Optional native parts left out on purpose (built for Node's ABI; ssh2 runs without them). */
const LEFT_OUT_NATIVE = new Set(['cpu-features', 'buildcheck', 'nan']);
const ICON_SIZES_PX = [16, 32, 48, 64, 128, 256, 512];

function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<{ status: number; stdout: string; output: string }> {
  return new Promise((resolveRun) => {
    const child = spawn(command, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', (error) => resolveRun({ status: 1, stdout, output: `${output}\n${error.message}` }));
    child.on('exit', (code) => resolveRun({ status: code ?? 1, stdout, output }));
  });
}

interface PackageJson {
  readonly dependencies?: Record<string, string>;
  readonly optionalDependencies?: Record<string, string>;
  readonly devDependencies?: Record<string, string>;
}

function readPackageJson(folder: string): PackageJson {
  return JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')) as PackageJson;
}

/** The installed packages `names` need at run time, transitively (optional ones only when installed). */
function runtimeClosure(names: readonly string[]): Set<string> {
  const found = new Set<string>();
  const pending = [...names];
  while (pending.length > 0) {
    const name = pending.pop()!;
    if (found.has(name) || LEFT_OUT_NATIVE.has(name)) continue;
    const folder = join(root, 'node_modules', name);
    if (!existsSync(join(folder, 'package.json'))) continue;
    found.add(name);
    const manifest = readPackageJson(folder);
    pending.push(...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.optionalDependencies ?? {}));
  }
  return found;
}

/** The top-level package of a path inside node_modules ("/node_modules/@img/x/y" → "@img/x"). */
function packageOf(path: string): string | null {
  const parts = path.split('/');
  if (parts[1] !== 'node_modules' || parts.length < 3) return null;
  if (parts[2]!.startsWith('@')) return parts.length < 4 ? null : `${parts[2]}/${parts[3]}`;
  return parts[2]!;
}

/** A PNG's width and height, from its IHDR chunk. */
function pngSize(file: string): { width: number; height: number } {
  const bytes = readFileSync(file);
  assert.equal(bytes.subarray(1, 4).toString('latin1'), 'PNG', `${file} is not a PNG`);
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

describe('npm run dist, offline, with a stand-in Electron', { timeout: 240_000 }, () => {
  const scratch = mkdtempSync(join(tmpdir(), 'retrovisor-dist-'));
  const output = join(scratch, 'release');
  let result: { status: number; stdout: string; output: string };
  let entries: string[];
  let runtime: string[];
  after(() => rmSync(scratch, { recursive: true, force: true }));

  before(async () => {
    const electronDist = join(scratch, 'electron-dist');
    mkdirSync(electronDist, { recursive: true });
    const standIn = Buffer.concat([Buffer.from('#!/bin/sh\n# stand-in for the Electron binary\n# '), Buffer.from(FUSE_SENTINEL), Buffer.from([1, 8]), Buffer.from('10110001\n')]);
    writeFileSync(join(electronDist, 'electron'), standIn, { mode: 0o755 });
    result = await run(process.execPath, ['--import', 'tsx', join(root, 'scripts', 'dist.ts'), '--if-stale', `-c.directories.output=${output}`], {
      ...process.env,
      ELECTRON_OVERRIDE_DIST_PATH: electronDist,
      ELECTRON_BUILDER_BINARIES_MIRROR: UNREACHABLE_MIRROR,
    });
    assert.equal(result.status, 0, `npm run dist failed:\n${result.output}`);
    runtime = runtimeModules();
    assert.deepEqual(runtime, ['sharp', 'ssh2', 'ws'], 'the main bundle\'s external packages (update the allow-list reasoning in electron-builder.yml when they change)');
    entries = asar.listPackage(join(output, 'linux-unpacked', 'resources', 'app.asar'), { isPack: false });
  });

  it('builds the unpacked app and says which targets it skipped and why', () => {
    assert.ok(existsSync(join(output, 'linux-unpacked', 'retrovisor')), 'the packed executable');
    assert.match(result.stdout, /^\s+dir\s+built/m);
    for (const target of ['AppImage', 'deb', 'tar.gz']) {
      assert.match(result.stdout, new RegExp(`^\\s+${target.replace('.', '\\.')}\\s+skipped: .*retrovisor-offline\\.invalid: (ENOTFOUND|EAI_AGAIN)`, 'm'));
    }
  });

  it('packs the Electron main process, its preload, the renderer, package.json and the runtime dependencies', () => {
    const required = ['/dist/electron/main.cjs', '/dist/electron/preload.cjs', '/package.json', ...runtime.map((name) => `/node_modules/${name}/package.json`)];
    for (const file of readdirSync(join(root, 'dist', 'renderer'))) {
      if (!file.endsWith('.map')) required.push(`/dist/renderer/${file}`);
    }
    assert.ok(required.some((path) => path.endsWith('/app.js')), 'the renderer bundle is among the required files');
    const missing = required.filter((path) => !entries.includes(path));
    assert.deepEqual(missing, [], 'files the packed app needs');
    const packed = readFileSync(join(output, 'linux-unpacked', 'resources', 'app.asar'));
    assert.ok(packed.includes(Buffer.from('"main": "dist/electron/main.cjs"')), 'package.json points Electron at the main bundle');
  });

  it('packs nothing else: no sources, tests, docs, scripts, source maps, CLI, dev tools or bundled packages', () => {
    const forbiddenTop = ['/tests', '/docs', '/scripts', '/common', '/main', '/electron', '/renderer', '/assets', '/bin', '/release', '/.lab', '/.ci', '/dist/main', '/dist/icons'];
    const outsideNodeModules = entries.filter((path) => !path.startsWith('/node_modules'));
    assert.deepEqual(
      outsideNodeModules.filter((path) => forbiddenTop.some((top) => path === top || path.startsWith(`${top}/`))),
      [],
      'folders that are not the built app',
    );
    const allowedOutside = /^\/(package\.json|dist|dist\/(electron|renderer|assets)(\/.*)?)$/;
    assert.deepEqual(outsideNodeModules.filter((path) => !allowedOutside.test(path)), [], 'only dist/electron, dist/renderer, dist/assets and package.json');
    assert.deepEqual(entries.filter((path) => /\.(ts|mts|cts|map)$/.test(path)), [], 'no TypeScript sources, type declarations or source maps');

    const allowedPackages = runtimeClosure(runtime);
    const packages = new Set(entries.map(packageOf).filter((name): name is string => name !== null));
    assert.deepEqual([...packages].filter((name) => !allowedPackages.has(name)).sort(), [], 'packages no runtime module needs');
    const project = readPackageJson(root);
    assert.deepEqual(Object.keys(project.devDependencies ?? {}).filter((name) => packages.has(name)), [], 'no devDependency');
    for (const bundled of ['react', 'react-dom', 'zustand', '@novnc/novnc', 'playwright-core']) assert.ok(!packages.has(bundled), `${bundled} is not packed`);
  });
});

describe('the package configuration (electron-builder.yml)', { timeout: 30_000 }, () => {
  interface Config {
    readonly appId: string;
    readonly extraMetadata: { readonly desktopName: string };
    readonly fileAssociations: readonly { readonly ext: string; readonly mimeType: string }[];
    readonly protocols: readonly { readonly schemes: readonly string[] }[];
    readonly linux: { readonly icon: string; readonly executableName: string; readonly desktop: { readonly entry: Record<string, string> } };
  }
  const config = yaml.load(readFileSync(join(root, 'electron-builder.yml'), 'utf8')) as Config;

  it('has the app id and a .desktop entry: name, comment, categories, window class and the MIME types it opens', () => {
    assert.equal(config.appId, 'org.retrovisor.app');
    const entry = config.linux.desktop.entry;
    assert.equal(entry.Name, 'RetroVisor');
    assert.ok((entry.Comment ?? '').length > 0, 'a comment');
    assert.equal(entry.Categories, 'Network;RemoteAccess;');
    // Electron's window class comes from desktopName: the entry must name the same class.
    assert.equal(entry.StartupWMClass, config.extraMetadata.desktopName.replace(/\.desktop$/, ''));
    assert.equal(config.linux.executableName, 'retrovisor');
    const mimeTypes = [...config.fileAssociations.map((association) => association.mimeType), ...config.protocols.flatMap((protocol) => protocol.schemes.map((scheme) => `x-scheme-handler/${scheme}`))];
    for (const type of ['application/x-retrovisor-profile+json', 'application/x-virt-viewer', 'application/x-remmina', 'application/x-tigervnc', 'x-scheme-handler/vnc']) {
      assert.ok(mimeTypes.includes(type), `MimeType lists ${type}`);
    }
    assert.deepEqual(config.fileAssociations.map((association) => association.ext).sort(), ['remmina', 'retrovisor.json', 'tigervnc', 'vv']);
  });

  it('takes its icons from a folder the build fills at 16, 32, 48, 64, 128, 256 and 512 px', async () => {
    const built = await run(process.execPath, [join(root, 'scripts', 'build.mjs'), '--if-stale'], process.env);
    assert.equal(built.status, 0, built.output);
    const folder = join(root, config.linux.icon);
    const files = readdirSync(folder).filter((file) => file.endsWith('.png'));
    assert.deepEqual(files.map((file) => Number(file.split('x')[0])).sort((a, b) => a - b), ICON_SIZES_PX);
    for (const size of ICON_SIZES_PX) assert.deepEqual(pngSize(join(folder, `${size}x${size}.png`)), { width: size, height: size });
  });
});
