// `retrovisor serve --open` (what `retrovisor start` falls back to): the app window's Chromium and
// every process it starts carry the launch secret in no argv and no environment (read from /proc,
// with the real Chromium); a window that fails at once is reported and the shell keeps serving; a
// window closed by the user quits. Fake browsers are shell scripts set through RETROVISOR_CHROMIUM.

import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { waitForFile } from '../unit/support/wait-for-file';
import { CHROMIUM_PATH, startApp } from './support/app';

const IS_ROOT = process.geteuid?.() === 0;
const scratch = mkdtempSync(join(tmpdir(), 'retrovisor-app-window-e2e-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A fake (or wrapping) browser: records its argv, one argument a line, then runs `body`. */
function browserScript(name: string, body: string): { executable: string; argvFile: string } {
  const argvFile = join(scratch, `${name}.argv`);
  const executable = join(scratch, `${name}.sh`);
  writeFileSync(executable, `#!/bin/sh\nprintf '%s\\n' "$@" > '${argvFile}.part'\nmv '${argvFile}.part' '${argvFile}'\n${body}\n`);
  chmodSync(executable, 0o755);
  return { executable, argvFile };
}

/** The environment for `serve --open` with this browser (a display is claimed: the fakes need none). */
function windowEnv(executable: string): NodeJS.ProcessEnv {
  return { RETROVISOR_CHROMIUM: executable, DISPLAY: process.env.DISPLAY ?? ':99', RETROVISOR_LOG: 'info' };
}

/** Resolves with the first match of `pattern` in what `stream` writes from now on (plus `already`). */
function waitForOutput(stream: Readable, pattern: RegExp, timeoutMs: number, already: () => string): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let seen = already();
    const check = (): void => {
      const match = pattern.exec(seen);
      if (match) {
        clearTimeout(timer);
        stream.off('data', onData);
        resolve(match);
      }
    };
    const onData = (chunk: Buffer): void => {
      seen += chunk.toString();
      check();
    };
    const timer = setTimeout(() => {
      stream.off('data', onData);
      reject(new Error(`no ${String(pattern)} within ${timeoutMs} ms; output:\n${seen.slice(-3000)}`));
    }, timeoutMs);
    stream.on('data', onData);
    check();
  });
}

/** The recorded argv, and the window's private folder (the parent of its --user-data-dir). */
function recordedLaunch(argvFile: string): { argv: string[]; folder: string } {
  const argv = readFileSync(argvFile, 'utf8').split('\n').filter(Boolean);
  const profile = argv.find((argument) => argument.startsWith('--user-data-dir='));
  assert.ok(profile, `no --user-data-dir in ${argv.join(' ')}`);
  return { argv, folder: dirname(profile.slice('--user-data-dir='.length)) };
}

/** Every process's pid, parent pid, argv and (when readable) environment, from /proc. */
function processTable(): { pid: number; ppid: number; cmdline: string; environ: string | null }[] {
  const table: { pid: number; ppid: number; cmdline: string; environ: string | null }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      let environ: string | null = null;
      try {
        environ = readFileSync(`/proc/${entry}/environ`, 'utf8');
      } catch (error) {
        // Another user's process: not readable, and not one RetroVisor started. Any other error is
        // a process that ended between reading its argv and its environment (a short-lived
        // Chromium helper): thrown on, to be skipped like one that ended earlier.
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'EACCES' && code !== 'EPERM') throw error;
      }
      table.push({ pid: Number(entry), ppid, cmdline, environ });
    } catch {
      // The process ended while being read.
    }
  }
  return table;
}

/** `root` and every process below it. */
function descendantsOf(root: number, table: ReturnType<typeof processTable>): Set<number> {
  const found = new Set([root]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const entry of table) {
      if (!found.has(entry.pid) && found.has(entry.ppid)) {
        found.add(entry.pid);
        grew = true;
      }
    }
  }
  return found;
}

const secretOf = (url: string): string => new URL(url).pathname.split('/')[1] ?? '';

describe('the app window of the browser shell', { timeout: 120_000 }, () => {
  it('with the real Chromium: the secret is in no process argv and no environment of what RetroVisor started', { timeout: 90_000 }, async () => {
    assert.ok(existsSync(CHROMIUM_PATH), `Chromium not found at ${CHROMIUM_PATH}: apt-get install -y chromium`);
    // The real browser, headless so no display is needed; every flag RetroVisor gives it is kept.
    const browser = browserScript('real', `exec '${CHROMIUM_PATH}' --headless=new --disable-gpu "$@"`);
    const app = await startApp({ extraArgs: ['--open'], env: windowEnv(browser.executable) });
    const secret = secretOf(app.url);
    try {
      await waitForFile(browser.argvFile, 30_000, 'the browser was not started');
      const launch = recordedLaunch(browser.argvFile);
      assert.ok(!launch.argv.join('\n').includes(secret), `the secret is in the browser's argv: ${launch.argv.join(' ')}`);
      assert.equal(launch.argv.includes('--no-sandbox'), IS_ROOT, 'no sandbox exactly when running as root');
      // The shell served the app's page to the window: it followed the hand-off, which is gone.
      await waitForOutput(app.process.stderr!, /hand-off page is deleted: the window opened RetroVisor/, 60_000, () => app.stderr());
      assert.equal(existsSync(join(launch.folder, 'open.html')), false);

      const table = processTable();
      const started = descendantsOf(app.process.pid!, table);
      const chromiumChildren = table.filter((entry) => started.has(entry.pid) && entry.cmdline.includes('--type=renderer'));
      assert.ok(chromiumChildren.length > 0, 'the window runs renderer processes (they are checked too)');
      for (const entry of table) {
        assert.ok(!entry.cmdline.includes(secret), `the secret is in the argv of pid ${entry.pid}: ${entry.cmdline.replaceAll('\0', ' ').slice(0, 300)}`);
        if (!started.has(entry.pid)) continue;
        assert.ok(entry.environ !== null, `the environment of pid ${entry.pid}, started by RetroVisor, is readable`);
        assert.ok(!entry.environ.includes(secret), `the secret is in the environment of pid ${entry.pid}`);
      }
      await app.stop();
      assert.equal(existsSync(launch.folder), false, "the window's folder (browser profile) is deleted on exit");
    } finally {
      await app.stop();
    }
  });

  it('reports a window that fails at once (Chromium refusing root) and keeps serving its URL', { timeout: 60_000 }, async () => {
    const refusal = 'Running as root without --no-sandbox is not supported. See https://crbug.com/638180.';
    const browser = browserScript('refuses', `echo '[1:1:ERROR:zygote_host_impl_linux.cc(103)] ${refusal}' >&2\nexit 1`);
    const app = await startApp({ extraArgs: ['--open'], env: windowEnv(browser.executable) });
    const exited = new Promise<number | null>((resolve) => app.process.once('exit', resolve));
    try {
      const report = await Promise.race([
        waitForOutput(app.process.stderr!, /the app window failed: [^\n]*\n(.*)\n.*keeps serving/, 30_000, () => app.stderr()),
        exited.then((status) => Promise.reject(new Error(`RetroVisor quit (status ${status}) instead of reporting the window; stderr:\n${app.stderr()}`))),
      ]);
      assert.match(report[0], /exited with status 1: .*Running as root without --no-sandbox/);
      assert.match(report[1] ?? '', /run RetroVisor as a regular user, or set RETROVISOR_CHROMIUM_NO_SANDBOX=1/);
      const launch = recordedLaunch(browser.argvFile);
      assert.ok(!launch.argv.join('\n').includes(secretOf(app.url)), 'the secret is not in the argv');
      assert.equal(existsSync(join(launch.folder, 'open.html')), false, 'the hand-off page is deleted with the window gone');
      assert.equal(app.process.exitCode, null, 'RetroVisor still runs');
      const page = await fetch(app.url);
      assert.equal(page.status, 200, 'its URL still answers');
      await app.stop();
      assert.equal(await exited, 0, 'Ctrl+C (SIGTERM) stops it normally');
      assert.equal(existsSync(launch.folder), false);
    } finally {
      await app.stop();
    }
  });

  it('quits when the user closes the window, which was opened without the secret in argv', { timeout: 60_000 }, async () => {
    const browser = browserScript('closed', 'exit 0');
    const app = await startApp({ extraArgs: ['--open'], env: windowEnv(browser.executable) });
    try {
      const status = app.process.exitCode ?? (await new Promise<number | null>((resolve) => app.process.once('exit', resolve)));
      assert.equal(status, 0, app.stderr());
      const launch = recordedLaunch(browser.argvFile);
      const appArgument = launch.argv.find((argument) => argument.startsWith('--app='));
      assert.match(appArgument ?? '', /^--app=file:\/\/\/.*\/open\.html$/);
      assert.ok(!launch.argv.join('\n').includes(secretOf(app.url)), 'the secret is not in the argv');
      assert.equal(existsSync(launch.folder), false, "the window's folder is deleted");
    } finally {
      await app.stop();
    }
  });
});
