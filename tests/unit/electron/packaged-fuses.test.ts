// electron-builder.yml packs a binary with the fuses docs/security.md lists: the project's own config is
// packed (`dir` target, offline) around a stand-in Electron holding a fuse wire in Electron's defaults,
// and the packed binary's wire is read back. No real Electron binary is needed (none can be fetched here).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';

const root = resolve(import.meta.dirname, '../../..');

/** The marker Electron puts before its fuse wire (from @electron/fuses). */
const FUSE_SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';
/** Fuse wire version 1, in the order of @electron/fuses' FuseV1Options. */
const FUSE_NAMES = [
  'runAsNode',
  'enableCookieEncryption',
  'enableNodeOptionsEnvironmentVariable',
  'enableNodeCliInspectArguments',
  'enableEmbeddedAsarIntegrityValidation',
  'onlyLoadAppFromAsar',
  'loadBrowserProcessSpecificV8Snapshot',
  'grantFileProtocolExtraPrivileges',
] as const;
/** Electron's own defaults ('1' on, '0' off): what a binary nobody configured ships with. */
const ELECTRON_DEFAULT_WIRE = '10110001';

function readFuseWire(binaryPath: string): Record<string, boolean> {
  const binary = readFileSync(binaryPath);
  const at = binary.indexOf(FUSE_SENTINEL);
  assert.notEqual(at, -1, `no fuse wire in ${binaryPath}`);
  const version = binary[at + FUSE_SENTINEL.length];
  const length = binary[at + FUSE_SENTINEL.length + 1]!;
  assert.equal(version, 1, 'fuse wire version');
  const wire = binary.subarray(at + FUSE_SENTINEL.length + 2, at + FUSE_SENTINEL.length + 2 + length).toString('latin1');
  return Object.fromEntries(FUSE_NAMES.map((name, index) => [name, wire[index] === '1']));
}

function run(command: string, args: readonly string[]): Promise<{ status: number; output: string }> {
  return new Promise((resolveRun) => {
    const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', (error) => resolveRun({ status: 1, output: `${output}\n${error.message}` }));
    child.on('exit', (code) => resolveRun({ status: code ?? 1, output }));
  });
}

describe('the packed Electron binary', { timeout: 180_000 }, () => {
  const scratch = mkdtempSync(join(tmpdir(), 'retrovisor-fuses-'));
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it('has every fuse set as electron-builder.yml says: no Node mode, no NODE_OPTIONS, no inspector, app.asar only', async () => {
    const electronDist = join(scratch, 'electron-dist');
    const output = join(scratch, 'release');
    const standIn = Buffer.concat([
      Buffer.from('#!/bin/sh\n# stand-in for the Electron binary: only its fuse wire matters here\n# '),
      Buffer.from(FUSE_SENTINEL),
      Buffer.from([1, FUSE_NAMES.length]),
      Buffer.from(ELECTRON_DEFAULT_WIRE),
      Buffer.from('\n'),
    ]);
    mkdirSync(electronDist, { recursive: true });
    writeFileSync(join(electronDist, 'electron'), standIn, { mode: 0o755 });

    const packed = await run(process.execPath, [
      join(root, 'node_modules/electron-builder/cli.js'),
      '--config',
      'electron-builder.yml',
      '--dir',
      `-c.electronDist=${electronDist}`,
      `-c.directories.output=${output}`,
    ]);
    assert.equal(packed.status, 0, `electron-builder failed:\n${packed.output}`);

    const fuses = readFuseWire(join(output, 'linux-unpacked', 'retrovisor'));
    assert.deepEqual(fuses, {
      runAsNode: false,
      enableCookieEncryption: true,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      loadBrowserProcessSpecificV8Snapshot: false,
      grantFileProtocolExtraPrivileges: false,
    });
  });
});
