// The browser shell's app window with a fake Chromium (a shell script that records its argv and
// environment): the launch secret reaches neither, the hand-off page is private and short-lived, and a
// window that cannot start is a failure with what to do, not a closed window. Plain Node (Linux).

import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { classifyWindowExit, createWindowHandoff, describeWindowFailure, handoffPageHtml, openAppWindow, runtimeFolder } from '../../../main/app-window';
import { createLogger } from '../../../main/logger';
import { waitForFile } from '../support/wait-for-file';

const SECRET = 'S3cr3t-launch-token_0123456789abcdefghijklmnop';
const SHELL_URL = `http://127.0.0.1:4321/${SECRET}/`;
const ROOT_REFUSAL = '[1:1:1203/142258.364361:ERROR:content/browser/zygote_host/zygote_host_impl_linux.cc:103] Running as root without --no-sandbox is not supported. See https://crbug.com/638180.';

const scratch = mkdtempSync(join(tmpdir(), 'retrovisor-window-test-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A fake Chromium: writes its argv (one per line) and environment to files, then runs `body`. */
function fakeChromium(name: string, body: string): { executable: string; argvFile: string; environFile: string } {
  const argvFile = join(scratch, `${name}.argv`);
  const environFile = join(scratch, `${name}.environ`);
  const executable = join(scratch, `${name}.sh`);
  writeFileSync(executable, `#!/bin/sh\nprintf '%s\\n' "$@" > '${argvFile}.part'\nenv > '${environFile}'\nmv '${argvFile}.part' '${argvFile}'\n${body}\n`);
  chmodSync(executable, 0o755);
  return { executable, argvFile, environFile };
}

/** A stand-in for the browser shell: its URL, and a way to say the page was served. */
function fakeShell(): { url: string; onPageServed(listener: () => void): () => void; servePage(): void } {
  const listeners = new Set<() => void>();
  return {
    url: SHELL_URL,
    onPageServed(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    servePage: () => listeners.forEach((listener) => listener()),
  };
}

const quietLogger = createLogger({ sink: () => undefined });

describe('the hand-off page', { timeout: 10_000 }, () => {
  it('is a 0600 file in a fresh 0700 folder, and its file URL carries no secret', () => {
    const handoff = createWindowHandoff(SHELL_URL, scratch);
    try {
      assert.equal(statSync(handoff.folder).mode & 0o777, 0o700);
      const page = fileURLToPath(handoff.pageUrl);
      assert.equal(statSync(page).mode & 0o777, 0o600);
      assert.ok(!handoff.pageUrl.includes(SECRET) && !handoff.profileFolder.includes(SECRET));
      assert.ok(readFileSync(page, 'utf8').includes(`location.replace(${JSON.stringify(SHELL_URL)})`));
      handoff.removePage();
      assert.equal(existsSync(page), false);
      handoff.removeAll();
      assert.equal(existsSync(handoff.folder), false);
    } finally {
      handoff.removeAll();
    }
  });

  it('keeps any URL inside its script', () => {
    assert.ok(!handoffPageHtml('http://x/</script><script>alert(1)</script>').includes('</script><script>alert'));
  });

  it("goes in the user's private runtime folder when there is one, else the temporary folder", () => {
    const uid = process.geteuid?.();
    const privateFolder = mkdtempSync(join(scratch, 'runtime-'));
    chmodSync(privateFolder, 0o700);
    assert.equal(runtimeFolder({ XDG_RUNTIME_DIR: privateFolder }, uid), privateFolder);
    chmodSync(privateFolder, 0o755);
    assert.equal(runtimeFolder({ XDG_RUNTIME_DIR: privateFolder }, uid), tmpdir(), 'a folder others can read is not private');
    assert.equal(runtimeFolder({ XDG_RUNTIME_DIR: privateFolder }, (uid ?? 0) + 1), tmpdir(), "another user's folder");
    assert.equal(runtimeFolder({ XDG_RUNTIME_DIR: join(scratch, 'absent') }, uid), tmpdir());
    assert.equal(runtimeFolder({}, uid), tmpdir());
  });
});

describe("a window's end", { timeout: 10_000 }, () => {
  it('status 0 is the user closing it; a status, a signal or the sandbox refusal is a failure', () => {
    assert.deepEqual(classifyWindowExit({ code: 0, signal: null, output: 'some chatter\n' }), { kind: 'closed' });
    const refused = classifyWindowExit({ code: 1, signal: null, output: `${ROOT_REFUSAL}\n` });
    assert.equal(refused.kind, 'failed');
    assert.ok(refused.kind === 'failed' && refused.advice?.includes('run RetroVisor as a regular user'));
    assert.equal(classifyWindowExit({ code: 0, signal: null, output: ROOT_REFUSAL }).kind, 'failed', 'the refusal fails whatever the status');
    const crashed = classifyWindowExit({ code: null, signal: 'SIGSEGV', output: '' });
    assert.deepEqual(crashed, { kind: 'failed', reason: 'the browser was killed by SIGSEGV', advice: null });
  });

  it("reports Chromium's last line without the secret or control characters", () => {
    const outcome = classifyWindowExit({ code: 21, signal: null, output: `first\nopening ${SHELL_URL} failed \u001b[31m\n\n` }, SECRET);
    assert.equal(outcome.kind, 'failed');
    if (outcome.kind !== 'failed') return;
    assert.ok(!outcome.reason.includes(SECRET) && !outcome.reason.includes('\u001b'), outcome.reason);
    assert.match(outcome.reason, /^the browser exited with status 21: opening http:\/\/127\.0\.0\.1:4321\/\*\*\*\/ failed/);
    assert.match(describeWindowFailure(outcome), /the app window failed: .*\n {2}RetroVisor keeps serving: open the address above in a browser; Ctrl\+C stops RetroVisor\./);
  });
});

describe('openAppWindow with a fake Chromium', { timeout: 20_000 }, () => {
  it('opens the hand-off page: no secret in argv or environment; the page goes once the app page is served', async () => {
    const fake = fakeChromium('stays', 'exec sleep 60');
    const shell = fakeShell();
    const window = await openAppWindow({ executable: fake.executable, shell, noSandbox: null, logger: quietLogger, parentFolder: scratch });
    try {
      await waitForFile(fake.argvFile, 10_000);
      const argv = readFileSync(fake.argvFile, 'utf8').split('\n');
      const app = argv.find((argument) => argument.startsWith('--app=')) ?? '';
      assert.ok(app.startsWith('--app=file://'), `argv: ${argv.join(' ')}`);
      assert.ok(!argv.join(' ').includes(SECRET), 'the secret is not in argv');
      assert.ok(!argv.includes('--no-sandbox'), 'no --no-sandbox without a reason');
      assert.ok(argv.includes('--js-flags=--max-semi-space-size=4'), `the renderer's young generation is capped: ${argv.join(' ')}`);
      assert.ok(!readFileSync(fake.environFile, 'utf8').includes(SECRET), 'the secret is not in the environment');
      const page = fileURLToPath(app.slice('--app='.length));
      assert.ok(readFileSync(page, 'utf8').includes(SHELL_URL), 'the page hands the URL over');
      shell.servePage();
      assert.equal(existsSync(page), false, 'the page is deleted once the app page was served');
    } finally {
      await window.close();
    }
    assert.equal(existsSync(window.folder), false, 'closing deletes the folder and the browser profile');
  });

  it('passes --no-sandbox when told to', async () => {
    const fake = fakeChromium('no-sandbox', 'exit 0');
    const window = await openAppWindow({ executable: fake.executable, shell: fakeShell(), noSandbox: 'root', logger: quietLogger, parentFolder: scratch });
    assert.deepEqual(await window.outcome, { kind: 'closed' });
    await window.close();
    assert.ok(readFileSync(fake.argvFile, 'utf8').split('\n').includes('--no-sandbox'));
  });

  it("reports a window that refuses to start, with what to do, and deletes the page at once", async () => {
    const fake = fakeChromium('refuses', `echo '${ROOT_REFUSAL}' >&2\nexit 1`);
    const window = await openAppWindow({ executable: fake.executable, shell: fakeShell(), noSandbox: null, logger: quietLogger, parentFolder: scratch });
    const outcome = await window.outcome;
    assert.equal(outcome.kind, 'failed');
    assert.ok(outcome.kind === 'failed' && /exited with status 1: .*Running as root without --no-sandbox/.test(outcome.reason), JSON.stringify(outcome));
    assert.ok(outcome.kind === 'failed' && outcome.advice?.includes('RETROVISOR_CHROMIUM_NO_SANDBOX=1'));
    assert.equal(existsSync(join(window.folder, 'open.html')), false);
    await window.close();
    assert.equal(existsSync(window.folder), false);
  });

  it('reports a browser that cannot be executed', async () => {
    const window = await openAppWindow({ executable: join(scratch, 'no-such-browser'), shell: fakeShell(), noSandbox: null, logger: quietLogger, parentFolder: scratch });
    const outcome = await window.outcome;
    assert.ok(outcome.kind === 'failed' && outcome.reason.startsWith('the browser could not be started: '), JSON.stringify(outcome));
    await window.close();
  });
});

