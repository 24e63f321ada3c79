// Drives the real app for end-to-end tests: starts `retrovisor serve` as a child process (the
// browser shell, exactly as a user would), opens it in headless Chromium through playwright-core,
// and reads replica pixels out of the page. Runs in Node.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import assert from 'node:assert/strict';
import { chromium, type Browser, type Page } from 'playwright-core';
import { charKey } from '../../../common/input/text-keystrokes';
import { headlessChromiumFlags } from '../../../main/chromium';
import { compareFramebuffers, readFramebuffer, type Framebuffer, type VncTarget } from '../../lab/components';
import { scratchFolder } from './scratch';

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..', '..');
export const CLI = join(REPO_ROOT, 'bin', 'retrovisor.mjs');
export const CHROMIUM_PATH = process.env.RETROVISOR_CHROMIUM ?? '/usr/bin/chromium';

export interface RunningApp {
  readonly url: string;
  readonly port: number;
  readonly process: ChildProcess;
  /** Everything the app wrote to stderr so far (for failure messages). */
  stderr(): string;
  stop(): Promise<void>;
}

/** Writes a profile document to a temporary file and returns its path. */
export function writeProfile(document: unknown): string {
  const folder = scratchFolder('profile');
  const path = join(folder, 'profile.json');
  writeFileSync(path, JSON.stringify(document, null, 2));
  return path;
}

/**
 * Starts `retrovisor serve` (with `extraArgs`, e.g. --demo; in `cwd`, default the checkout) and
 * resolves with the URL it prints (secret included).
 */
export async function startApp(options: { profilePath?: string; env?: NodeJS.ProcessEnv; extraArgs?: readonly string[]; cwd?: string } = {}): Promise<RunningApp> {
  const args = [CLI, 'serve', ...(options.profilePath ? ['--profile', options.profilePath] : []), ...(options.extraArgs ?? [])];
  const child = spawn(process.execPath, args, { cwd: options.cwd ?? REPO_ROOT, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`retrovisor serve printed no URL within 30 s; stderr:\n${stderr}`)), 30_000);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /running at (http:\/\/127\.0\.0\.1:\d+\/[^/\s]+\/)/.exec(stdout);
      if (match?.[1]) {
        clearTimeout(timer);
        resolveUrl(match[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`retrovisor serve exited with ${code}; stderr:\n${stderr}`));
    });
  });
  return {
    url,
    port: Number(new URL(url).port),
    process: child,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolveExit) => child.once('exit', resolveExit));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Launches headless Chromium the way this machine needs it (playwright gives it a fresh profile; no sandbox only as root). */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium not found at ${CHROMIUM_PATH}: run \`npm run lab:install\` (or: apt-get install -y chromium)`);
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: [...headlessChromiumFlags()] });
}

/**
 * Waits until the thumbnail of `replicaId` shows one of `states` (its data-state attribute); on
 * timeout the error says what it showed instead.
 */
export async function waitForReplicaState(page: Page, replicaId: string, states: string | readonly string[], timeoutMs = 30_000): Promise<void> {
  const wanted = typeof states === 'string' ? [states] : states;
  const selector = `[data-replica-id="${replicaId}"]:is(${wanted.map((state) => `[data-state="${state}"]`).join(',')})`;
  try {
    await page.waitForSelector(selector, { timeout: timeoutMs, state: 'attached' });
  } catch {
    const shown = await page
      .evaluate((id: string) => {
        const element = document.querySelector(`[data-replica-id="${id}"]`);
        return element ? `${element.getAttribute('data-state')}: ${(element.textContent ?? '').slice(0, 300)}` : 'no such thumbnail';
      }, replicaId)
      .catch((error: unknown) => `unreadable (${String(error)})`);
    throw new Error(`${replicaId} did not reach ${wanted.join(' or ')} within ${timeoutMs} ms; it shows ${shown}`);
  }
}

/** Reads a canvas's pixels (RGBA) from the page: a replica's thumbnail canvas or the composite. */
export async function readCanvas(page: Page, selector: string): Promise<Framebuffer> {
  const result = await page.evaluate((canvasSelector: string) => {
    const canvas = document.querySelector(canvasSelector);
    if (!(canvas instanceof HTMLCanvasElement)) throw new Error(`no canvas at ${canvasSelector}`);
    const context = canvas.getContext('2d');
    if (!context) throw new Error('no 2d context');
    const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
    let binary = '';
    for (let offset = 0; offset < data.length; offset += 0x8000) {
      binary += String.fromCharCode(...data.subarray(offset, offset + 0x8000));
    }
    return { width: canvas.width, height: canvas.height, base64: btoa(binary) };
  }, selector);
  return { width: result.width, height: result.height, rgba: new Uint8Array(Buffer.from(result.base64, 'base64')) };
}

/**
 * The selector of a replica's framebuffer canvas: noVNC's own, full resolution, kept hidden in its
 * thumbnail (which shows a small copy, `[data-testid="thumbnail-canvas"]`).
 */
export function thumbnailCanvas(replicaId: string): string {
  return `[data-replica-id="${replicaId}"] .replica-host canvas`;
}

/** Polls `probe` until it returns true or the time runs out; returns the last detail for messages. */
export async function eventually(probe: () => Promise<boolean>, timeoutMs: number, intervalMs = 250): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolveWait) => setTimeout(resolveWait, intervalMs));
  }
}

/** Opens the app in a new page of `browser` (page errors go to the test's log). */
export async function openAppPage(browser: Browser, app: RunningApp, viewport = { width: 1600, height: 1000 }): Promise<Page> {
  const page = await browser.newPage({ viewport });
  page.on('pageerror', (error) => console.error('page error:', error.message));
  await page.goto(app.url);
  return page;
}

/**
 * Opens the app, clicks "Open the demo lab" and waits until every one of `replicaIds` is connected.
 * Callbacks evaluated in the page may name inner functions: tsx (esbuild keepNames) wraps those in
 * __name(), which the page defines as the identity.
 */
export async function openDemoLabPage(browser: Browser, app: RunningApp, replicaIds: readonly string[], viewport = { width: 1600, height: 1000 }): Promise<Page> {
  const page = await browser.newPage({ viewport });
  page.on('pageerror', (error) => console.error('page error:', error.message));
  await page.addInitScript('globalThis.__name = (fn) => fn;');
  await page.goto(app.url);
  await page.getByTestId('open-demo-lab').click({ timeout: 15_000 });
  for (const id of replicaIds) {
    await waitForReplicaState(page, id, 'connected', 30_000).catch((error: unknown) => {
      throw new Error(`${id} did not connect: ${String(error)}\napp stderr:\n${app.stderr()}`);
    });
  }
  return page;
}

/** Types text on the focused page like a person on a US keyboard: Shift pressed around shifted characters. */
export async function typeLikeAPerson(page: Page, text: string, options: { readonly keysPerSecond?: number } = {}): Promise<void> {
  // A person's pace, when asked for: a software-emulated guest on a loaded machine drops keys that
  // come faster than it reads them (its PS/2 queue is short), which no real typist would cause.
  const gapMs = options.keysPerSecond === undefined ? 0 : 1000 / options.keysPerSecond;
  for (const character of text) {
    if (character === '\n') await page.keyboard.press('Enter');
    else {
      const key = charKey(character);
      assert.ok(key.code !== null, `no US key types ${JSON.stringify(character)}`);
      await page.keyboard.press(key.shift ? `Shift+${key.code}` : key.code);
    }
    if (gapMs > 0) await page.waitForTimeout(gapMs);
  }
}

/** What `retrovisor …` printed and how it exited. */
export interface CliResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout's lines parsed as JSON (read it only for --json runs: a line that is not JSON throws). */
  readonly events: Record<string, unknown>[];
}

/** Runs the CLI from the checkout (killed after `timeoutMs`); `env` is added to this process's environment. */
export function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 90_000): Promise<CliResult> {
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (status) => {
      clearTimeout(timer);
      resolveRun({
        status,
        stdout,
        stderr,
        get events() {
          return stdout
            .split('\n')
            .filter((line) => line.trim().length > 0)
            .map((line) => {
              try {
                return JSON.parse(line) as Record<string, unknown>;
              } catch {
                throw new Error(`stdout line is not JSON: ${line}`);
              }
            });
        },
      });
    });
  });
}

/** How two framebuffers differ, in words, for an assertion message. */
export function describeFramebufferDifference(shown: Framebuffer, server: Framebuffer): string {
  const comparison = compareFramebuffers(shown, server);
  return `shown ${shown.width}x${shown.height}, server ${server.width}x${server.height}, ${comparison.differingPixels} pixels differ in ${JSON.stringify(comparison.box)}`;
}

/**
 * Polls the canvas at `selector` and `target`'s framebuffer until they are identical, pixel for pixel;
 * fails with `what` and the last difference after `timeoutMs`.
 */
export async function assertCanvasShowsServer(page: Page, selector: string, target: VncTarget, what: string, timeoutMs = 15_000): Promise<void> {
  let last = '';
  const same = await eventually(async () => {
    const [shown, server] = await Promise.all([readCanvas(page, selector), readFramebuffer(target)]);
    last = describeFramebufferDifference(shown, server);
    return compareFramebuffers(shown, server).identical;
  }, timeoutMs);
  assert.ok(same, `${what}: ${last}`);
}
