// What the page shows of divergence detection, read the same way by every divergence e2e file:
// the red regions, the toolbar's status line, the replicas flagged as outliers. Runs in Node (playwright).

import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { eventually } from './app';

/** A framebuffer rectangle (as the overlay's data-regions holds them). */
export interface Region {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The bounding box of regions (exclusive right/bottom as width/height). */
export function union(regions: readonly Region[]): Region {
  const left = Math.min(...regions.map((region) => region.x));
  const top = Math.min(...regions.map((region) => region.y));
  const right = Math.max(...regions.map((region) => region.x + region.width));
  const bottom = Math.max(...regions.map((region) => region.y + region.height));
  return { x: left, y: top, width: right - left, height: bottom - top };
}

/** The regions painted red on the composite (the overlay's data-regions). */
export async function regionsShown(page: Page): Promise<Region[]> {
  return JSON.parse((await page.getAttribute('[data-testid="divergence-overlay"]', 'data-regions')) ?? 'null') as Region[];
}

/** The toolbar's one-line divergence status. */
export async function divergenceStatus(page: Page): Promise<string> {
  return (await page.textContent('[data-testid="divergence-status"]')) ?? '';
}

/** The replicas whose thumbnails are flagged as outliers. */
export async function divergentIds(page: Page): Promise<string[]> {
  return page.$$eval('[data-replica-id][data-divergent="true"]', (elements) => elements.map((element) => element.getAttribute('data-replica-id') ?? ''));
}

/**
 * Waits until a divergence is flagged (red regions on the composite and an outlier thumbnail) and
 * returns the red regions; fails with the status line the page showed instead.
 */
export async function waitForFlag(page: Page, timeoutMs: number): Promise<Region[]> {
  let shown: Region[] = [];
  const flagged = await eventually(async () => {
    shown = await regionsShown(page);
    return shown.length > 0 && (await divergentIds(page)).length > 0;
  }, timeoutMs);
  assert.ok(flagged, `nothing was flagged; status: ${await divergenceStatus(page)}`);
  return shown;
}
