// End to end on the built-in demo lab (mode "confirm"): the manager takes a checkpoint once every
// replica agrees; text typed afterwards goes into the journal; a banner painted on r2 makes it the
// outlier; the manager asks first, shows the evidence, and only once "Run" is pressed reverts r2 to
// the checkpoint through the simulated L0 and replays the journal into it, after which the three
// replicas agree pixel for pixel and later typing reaches all of them. Runs in Node with real processes.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { AuditEntry } from '../../common/contract';
import { eventually, launchBrowser, openDemoLabPage, readCanvas, startApp, thumbnailCanvas, typeLikeAPerson, type RunningApp } from './support/app';
import { compareFramebuffers } from '../lab/components';

const REPLICAS = ['r1', 'r2', 'r3'];

/** The demo session's audit log, as the back end writes it. */
function readAudit(dataDir: string): AuditEntry[] {
  try {
    return readFileSync(path.join(dataDir, 'Demo-lab', 'audit.jsonl'), 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as AuditEntry);
  } catch {
    return [];
  }
}

async function replicasIdentical(page: Page): Promise<string | null> {
  const [first, ...others] = await Promise.all(REPLICAS.map((id) => readCanvas(page, thumbnailCanvas(id))));
  for (const [index, other] of others.entries()) {
    const comparison = compareFramebuffers(first!, other);
    if (!comparison.identical) return `r1 and ${REPLICAS[index + 1]} differ: ${JSON.stringify(comparison)}`;
  }
  return null;
}

describe('the remediation manager on the demo lab', { timeout: 240_000 }, () => {
  let app: RunningApp;
  let browser: Browser;
  let page: Page;
  let dataDir = '';

  before(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'retrovisor-remediation-demo-'));
    [app, browser] = await Promise.all([startApp({ env: { RETROVISOR_DATA_DIR: dataDir } }), launchBrowser()]);
    page = await openDemoLabPage(browser, app, REPLICAS);
  });

  after(async () => {
    await browser?.close();
    await app?.stop();
    if (dataDir !== '') await rm(dataDir, { recursive: true, force: true });
  });

  it('takes a checkpoint on every replica once they all agree', async () => {
    const taken = await eventually(async () => readAudit(dataDir).some((entry) => entry.kind === 'checkpoint' && entry.outcome === 'succeeded'), 30_000);
    assert.ok(taken, `no checkpoint succeeded; audit:\n${JSON.stringify(readAudit(dataDir), null, 1)}\n${app.stderr().slice(-3000)}`);
    const snapshots = readAudit(dataDir).filter((entry) => entry.kind === 'command' && entry.argv?.[1] === 'snapshot-create-as');
    assert.equal(snapshots.length, 3, 'one snapshot per replica');
    assert.ok(snapshots.every((entry) => entry.outcome === 'succeeded' && /^retrovisor-demo-lab-\d+$/.test(entry.argv?.[3] ?? '')));
    await page.getByTestId('remediation-panel').waitFor();
    await page.locator('[data-testid^="checkpoint-retrovisor-demo-lab-"]').first().waitFor({ timeout: 10_000 });
  });

  it('asks before it acts, then reverts r2, replays the journal into it, and all three agree again', async () => {
    await page.focus('#composite');
    await typeLikeAPerson(page, 'typed after the checkpoint');
    assert.ok(await eventually(async () => (await replicasIdentical(page)) === null, 15_000), 'the replicas agree after typing');

    await page.locator('[data-testid="demo-replica-tab"][data-demo-replica-id="r2"]').click();
    await page.getByTestId('demo-banner-input').fill('HACKED');
    await page.getByTestId('demo-banner-apply').click();

    const confirm = page.getByTestId('remediation-confirm');
    await confirm.waitFor({ timeout: 30_000 });
    assert.match((await confirm.textContent()) ?? '', /r2|Demo 2/);
    assert.match((await confirm.textContent()) ?? '', /revert/i);
    // Confirm mode runs nothing before the user says so.
    assert.equal(readAudit(dataDir).filter((entry) => entry.kind === 'command' && entry.argv?.[1] === 'snapshot-revert').length, 0);
    // The question is docked over the screen, not over the side panels: the demo panel's controls stay
    // usable, also with the timeline open beside them.
    await page.getByTestId('timeline-toggle').click();
    await page.getByTestId('timeline').waitFor();
    const covered = await page.evaluate(() =>
      Array.from(document.querySelectorAll<HTMLElement>('[data-testid="demo-panel"] button, [data-testid="demo-panel"] input'))
        .filter((control) => control.offsetParent !== null)
        .filter((control) => {
          const box = control.getBoundingClientRect();
          const atCentre = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
          return atCentre !== null && atCentre !== control && !control.contains(atCentre) && atCentre.closest('[data-testid="remediation-confirm"]') !== null;
        })
        .map((control) => control.dataset.testid ?? control.textContent?.trim() ?? control.tagName),
    );
    await page.getByTestId('timeline-toggle').click();
    assert.deepEqual(covered, [], 'demo panel controls under the confirmation card');
    await page.getByTestId('remediation-confirm-run').click();

    const succeeded = await eventually(
      async () => readAudit(dataDir).some((entry) => entry.kind === 'remediation' && entry.replicaId === 'r2' && entry.action === 'revert-replay' && entry.outcome === 'succeeded'),
      90_000,
    );
    assert.ok(succeeded, `revert-replay did not succeed; audit:\n${JSON.stringify(readAudit(dataDir).slice(-15), null, 1)}`);
    const reverts = readAudit(dataDir).filter((entry) => entry.kind === 'command' && entry.argv?.[1] === 'snapshot-revert');
    assert.deepEqual(reverts.map((entry) => entry.argv?.[2]), ['r2'], 'one revert, of r2 alone');
    let last: string | null = null;
    assert.ok(
      await eventually(async () => {
        last = await replicasIdentical(page);
        return last === null;
      }, 20_000),
      `after the remediation: ${last}`,
    );
    await page.locator('[data-testid="remediation-replica-r2"][data-state="healthy"]').waitFor({ timeout: 10_000 });
  });

  it("a replica's actions menu tells its domain's state and takes a checkpoint on every replica", async () => {
    await page.getByTestId('replica-actions-r1').click();
    await page.getByTestId('replica-action-domain-state').click();
    await page.locator('.toast-message', { hasText: 'r1: domain r1 on demo is running' }).waitFor({ timeout: 10_000 });
    const before = readAudit(dataDir).filter((entry) => entry.kind === 'checkpoint' && entry.action === 'take' && entry.outcome === 'succeeded').length;
    await page.getByTestId('replica-actions-r3').click();
    await page.getByTestId('replica-action-checkpoint').click();
    await page.locator('.toast-message', { hasText: /taken at input #\d+/ }).first().waitFor({ timeout: 20_000 });
    const after = readAudit(dataDir).filter((entry) => entry.kind === 'checkpoint' && entry.action === 'take' && entry.outcome === 'succeeded').length;
    assert.equal(after, before + 1, 'one more complete checkpoint');
  });

  it('sends what is typed after the remediation to every replica', async () => {
    await page.focus('#composite');
    await typeLikeAPerson(page, ' and after');
    let last: string | null = null;
    assert.ok(
      await eventually(async () => {
        last = await replicasIdentical(page);
        return last === null;
      }, 15_000),
      `after typing: ${last}`,
    );
  });
});
