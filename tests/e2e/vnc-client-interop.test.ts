// Interoperability with a VNC client nobody here wrote: Debian's vncsnapshot (TightVNC's RFB 3.3
// code) authenticates to a password-protected demo replica and captures the screen the guest shows.
// Its output is JPEG (lossy), so the picture is compared with the guest's pixels within a tolerance
// that a different screen is shown to exceed. Runs in Node with real processes.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { startDemoLab, type DemoLab } from '../../main/demo/demo-lab';
import { findExecutable } from '../lab/vm-assets';

const run = promisify(execFile);

const PASSWORD = 'interop!';
const SIZE = { width: 640, height: 400 };
/** A pixel is "off" when one of its channels is further than this from the guest's (JPEG noise is far below). */
const PIXEL_TOLERANCE = 48;
/** At most this share of the pixels may be off: JPEG blurs sharp edges (text, the banner's border). */
const OFF_PIXEL_SHARE = 0.01;
/** The mean absolute channel difference a faithful capture stays under. */
const MEAN_TOLERANCE = 4;
const VNC_DISPLAY_PORT_BASE = 5900;

/** The packages that provide the clients this test runs (also in scripts/install-lab-deps.sh). */
const INSTALL_COMMAND = 'apt-get install -y --no-install-recommends vncsnapshot tigervnc-tools';

function requireTool(name: string): string {
  const found = findExecutable(name);
  if (found === undefined) throw new Error(`${name} not found: run \`npm run lab:install\` (or: ${INSTALL_COMMAND})`);
  return found;
}

interface Closeness {
  readonly meanDifference: number;
  readonly offShare: number;
}

/** How close an RGB picture is to an RGBA screen of the same size. */
function closeness(rgb: Uint8Array, rgba: Uint8Array): Closeness {
  const pixels = rgba.length / 4;
  let total = 0;
  let off = 0;
  for (let pixel = 0; pixel < pixels; pixel++) {
    let worst = 0;
    for (let channel = 0; channel < 3; channel++) {
      const difference = Math.abs((rgb[pixel * 3 + channel] ?? 0) - (rgba[pixel * 4 + channel] ?? 0));
      total += difference;
      worst = Math.max(worst, difference);
    }
    if (worst > PIXEL_TOLERANCE) off++;
  }
  return { meanDifference: total / (pixels * 3), offShare: off / pixels };
}

/** The password file VNC viewers read: `vncpasswd -f` DES-obfuscates the password given on stdin. */
function obfuscatedPassword(vncpasswd: string, password: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = execFile(vncpasswd, ['-f'], { encoding: 'buffer', timeout: 10_000 }, (error, stdout) => {
      if (error === null) resolve(stdout);
      else reject(new Error(`vncpasswd -f failed: ${error.message}`));
    });
    child.stdin?.end(`${password}\n`);
  });
}

function faithful(value: Closeness): boolean {
  return value.meanDifference < MEAN_TOLERANCE && value.offShare < OFF_PIXEL_SHARE;
}

describe('a Debian VNC client (vncsnapshot) on a demo replica with a password', { timeout: 60_000 }, () => {
  let vncsnapshot = '';
  let folder = '';
  let lab: DemoLab;
  let display = 0;
  let bootScreen = new Uint8Array(0);

  before(async () => {
    vncsnapshot = requireTool('vncsnapshot');
    const vncpasswd = requireTool('vncpasswd');
    folder = await mkdtemp(path.join(os.tmpdir(), 'retrovisor-interop-'));
    lab = await startDemoLab({ replicas: 1, size: SIZE, password: PASSWORD, cursorBlinkMs: 0 });
    const port = lab.replicas[0]?.port ?? 0;
    assert.ok(port > VNC_DISPLAY_PORT_BASE, `vncsnapshot names servers by display (port - 5900): port ${port} is too low`);
    display = port - VNC_DISPLAY_PORT_BASE;
    await writeFile(path.join(folder, 'passwd'), await obfuscatedPassword(vncpasswd, PASSWORD), { mode: 0o600 });
    await writeFile(path.join(folder, 'wrong-passwd'), await obfuscatedPassword(vncpasswd, 'not-it'), { mode: 0o600 });

    // A screen worth recognising: text typed into the guest, a stroke on its canvas and a banner.
    const guest = lab.replica('r1').guest;
    assert.ok(guest);
    bootScreen = guest.pixels.slice();
    await lab.setFault('r1', { kind: 'inject', text: 'vncsnapshot reads this screen\n' });
    const box = guest.canvasRect;
    guest.pointerEvent(box.x + 20, box.y + 20, 1);
    guest.pointerEvent(box.x + box.width - 20, box.y + box.height - 20, 1);
    guest.pointerEvent(box.x + box.width - 20, box.y + box.height - 20, 0);
    await lab.setFault('r1', { kind: 'banner', text: 'SEEN BY A DEBIAN VNC CLIENT' });
  });

  after(async () => {
    await lab?.stop();
    if (folder !== '') await rm(folder, { recursive: true, force: true });
  });

  it('authenticates with the password and captures the screen the guest shows', async () => {
    const picture = path.join(folder, 'snapshot.jpg');
    await run(vncsnapshot, ['-quiet', '-passwd', path.join(folder, 'passwd'), '-quality', '100', '-nocursor', `127.0.0.1:${display}`, picture], {
      timeout: 20_000,
    });
    const { data, info } = await sharp(picture).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([info.width, info.height, info.channels], [SIZE.width, SIZE.height, 3], 'the whole 640x400 screen');
    const guest = lab.replica('r1').guest;
    assert.ok(guest);
    const captured = new Uint8Array(data);
    const shown = closeness(captured, guest.pixels);
    assert.ok(faithful(shown), `the capture differs from the guest: ${JSON.stringify(shown)}`);
    // The tolerance is not so loose that any screen would pass: the boot screen (no text, stroke or banner) does not.
    const other = closeness(captured, bootScreen);
    assert.ok(!faithful(other), `the capture also passes as the boot screen (${JSON.stringify(other)}): the comparison proves nothing`);
  });

  it('is refused with a wrong password', async () => {
    const picture = path.join(folder, 'refused.jpg');
    await assert.rejects(
      run(vncsnapshot, ['-passwd', path.join(folder, 'wrong-passwd'), `127.0.0.1:${display}`, picture], { timeout: 20_000 }),
      (error: unknown) => {
        const { stdout, stderr } = error as { stdout?: unknown; stderr?: unknown };
        const output = [stdout, stderr].map((stream) => (typeof stream === 'string' ? stream : '')).join('');
        assert.match(output, /authentication failed/i);
        return true;
      },
    );
  });
});
