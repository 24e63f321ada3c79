// When Chromium runs without its sandbox (root, or asked for) and what RetroVisor says about it;
// what to do when Chromium's output says its sandbox stopped it. Plain Node.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MEMORY_CHROMIUM_FLAGS, NO_SANDBOX_VARIABLE, RENDERER_JS_FLAGS, headlessChromiumFlags, noSandboxNotice, noSandboxReason, sandboxFailureAdvice, sandboxFlags } from '../../../main/chromium';

describe('the no-sandbox decision', { timeout: 10_000 }, () => {
  it('drops the sandbox for root only, whatever the environment says', () => {
    assert.equal(noSandboxReason(0, {}), 'root');
    assert.equal(noSandboxReason(0, { [NO_SANDBOX_VARIABLE]: '0' }), 'root');
    assert.equal(noSandboxReason(1000, {}), null, 'a regular user keeps the sandbox');
    assert.equal(noSandboxReason(null, {}), null, 'no uid (not POSIX): the sandbox stays');
  });

  it('drops it for a regular user only when RETROVISOR_CHROMIUM_NO_SANDBOX is exactly 1', () => {
    assert.equal(noSandboxReason(1000, { [NO_SANDBOX_VARIABLE]: '1' }), 'asked');
    for (const value of ['', '0', 'true', 'yes', ' 1']) assert.equal(noSandboxReason(1000, { [NO_SANDBOX_VARIABLE]: value }), null, JSON.stringify(value));
  });

  it('passes --no-sandbox only with a reason, headless runs included', () => {
    assert.deepEqual(sandboxFlags(null), []);
    assert.deepEqual(sandboxFlags('root'), ['--no-sandbox']);
    assert.ok(!headlessChromiumFlags(null).includes('--no-sandbox'));
    assert.ok(headlessChromiumFlags('asked').includes('--no-sandbox'));
    assert.ok(headlessChromiumFlags(null).includes('--disable-gpu'));
  });

  it('caps the renderer\'s V8 young generation in headless runs, as the app window and Electron do', () => {
    assert.equal(RENDERER_JS_FLAGS, '--max-semi-space-size=4');
    assert.deepEqual(MEMORY_CHROMIUM_FLAGS, ['--js-flags=--max-semi-space-size=4']);
    for (const reason of [null, 'root', 'asked'] as const) assert.ok(headlessChromiumFlags(reason).includes('--js-flags=--max-semi-space-size=4'), String(reason));
  });

  it('says why the sandbox is off and how to keep it', () => {
    assert.match(noSandboxNotice('root'), /running as root: Chromium runs without its sandbox \(--no-sandbox\).*run RetroVisor as a regular user/);
    assert.match(noSandboxNotice('asked'), /RETROVISOR_CHROMIUM_NO_SANDBOX=1: Chromium runs without its sandbox/);
  });
});

describe('sandboxFailureAdvice', { timeout: 10_000 }, () => {
  it("recognises Chromium's root refusal and a missing sandbox, and nothing else", () => {
    const root = '[9:9:ERROR:zygote_host_impl_linux.cc(103)] Running as root without --no-sandbox is not supported. See https://crbug.com/638180.';
    assert.match(sandboxFailureAdvice(root) ?? '', /run RetroVisor as a regular user, or set RETROVISOR_CHROMIUM_NO_SANDBOX=1/);
    const none = '[9:9:FATAL:zygote_host_impl_linux.cc(128)] No usable sandbox! Update your kernel or see https://chromium.googlesource.com/...';
    assert.match(sandboxFailureAdvice(none) ?? '', /user namespaces.*RETROVISOR_CHROMIUM_NO_SANDBOX=1/);
    assert.equal(sandboxFailureAdvice('Missing X server or $DISPLAY'), null);
  });
});
