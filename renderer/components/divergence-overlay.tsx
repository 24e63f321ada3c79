// Divergence detection on the composite: a canvas above #composite, framebuffer-sized and
// scaled by CSS exactly like it, painting every disagreeing region in translucent red and the
// profile's ignore regions as a faint hatched outline; with nothing to paint it holds no bitmap and
// is not drawn. Runs in the renderer; the regions come from the store (they change only on engine
// events or when a session opens).

import { useEffect, useMemo, useRef, type ReactElement } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { PixelRect } from '../../common/divergence';
import type { IgnoreRegion } from '../../common/profile';
import { useAppStore } from '../store';

/** The overlay's fill and outline (translucent red: the screen stays readable underneath). */
const REGION_FILL = 'rgba(255, 32, 32, 0.38)';
const REGION_OUTLINE = 'rgba(255, 32, 32, 0.95)';
/** Ignore regions: grey, dashed and hatched, faint enough not to hide what is under them. */
const IGNORED_OUTLINE = 'rgba(150, 160, 175, 0.85)';
const IGNORED_HATCH = 'rgba(150, 160, 175, 0.35)';
const IGNORED_LABEL = 'rgba(200, 208, 220, 0.95)';
const HATCH_SPACING_PX = 8;
const LABEL_FONT = '10px sans-serif';
const NO_IGNORE_REGIONS: readonly IgnoreRegion[] = [];

/** Which framebuffer the overlay covers (the reference replica's size). */
export interface DivergenceOverlayProps {
  readonly width: number;
  readonly height: number;
}

function paintIgnoreRegion(context: CanvasRenderingContext2D, region: IgnoreRegion): void {
  context.save();
  context.beginPath();
  context.rect(region.x, region.y, region.width, region.height);
  context.clip();
  context.strokeStyle = IGNORED_HATCH;
  context.lineWidth = 1;
  context.beginPath();
  // Diagonals every HATCH_SPACING_PX, clipped to the region.
  for (let offset = -region.height; offset < region.width; offset += HATCH_SPACING_PX) {
    context.moveTo(region.x + offset, region.y + region.height);
    context.lineTo(region.x + offset + region.height, region.y);
  }
  context.stroke();
  context.restore();
  context.save();
  context.strokeStyle = IGNORED_OUTLINE;
  context.setLineDash([4, 3]);
  context.strokeRect(region.x + 0.5, region.y + 0.5, Math.max(0, region.width - 1), Math.max(0, region.height - 1));
  context.restore();
  if (region.label !== undefined) {
    context.font = LABEL_FONT;
    context.fillStyle = IGNORED_LABEL;
    context.textBaseline = 'top';
    context.fillText(`${region.label} (ignored)`, region.x + 2, region.y + 2, Math.max(8, region.width - 4));
  }
}

/**
 * The red regions over the composite; `data-regions` holds them as JSON (tests read it), and
 * `data-ignore-regions` the profile's ignore regions, which are outlined and hatched.
 */
export function DivergenceOverlay({ width, height }: DivergenceOverlayProps): ReactElement {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  // Size divergences are told in the toolbar and thumbnails: painting the whole desktop red says nothing.
  const regions = useAppStore(useShallow((state) => state.divergences.filter((divergence) => divergence.kind === 'pixels').flatMap((divergence) => divergence.regions)));
  const ignored = useAppStore((state) => state.session?.divergence?.ignoreRegions ?? NO_IGNORE_REGIONS);
  const json = useMemo(() => JSON.stringify(regions.map((region: PixelRect) => ({ x: region.x, y: region.y, width: region.width, height: region.height }))), [regions]);
  const ignoredJson = useMemo(() => JSON.stringify(ignored), [ignored]);

  // Whether the bitmap holds paint: a framebuffer-sized bitmap is only kept while it shows something.
  const painted = useRef(false);
  const empty = regions.length === 0 && ignored.length === 0;

  useEffect(() => {
    const canvas = canvasRef.current;
    if (canvas === null) return;
    if (empty) {
      // Setting the size (even to the same value) drops the bitmap; nothing is allocated until the next paint.
      if (painted.current) canvas.width = width;
      painted.current = false;
      return;
    }
    const context = canvas.getContext('2d');
    if (context === null) return;
    painted.current = true;
    context.clearRect(0, 0, canvas.width, canvas.height);
    for (const region of ignored) paintIgnoreRegion(context, region);
    context.fillStyle = REGION_FILL;
    context.strokeStyle = REGION_OUTLINE;
    context.lineWidth = 1;
    for (const region of regions) {
      context.fillRect(region.x, region.y, region.width, region.height);
      context.strokeRect(region.x + 0.5, region.y + 0.5, Math.max(0, region.width - 1), Math.max(0, region.height - 1));
    }
  }, [regions, ignored, empty, width, height]);

  return (
    <canvas
      ref={canvasRef}
      className="divergence-overlay"
      data-testid="divergence-overlay"
      data-regions={json}
      data-ignore-regions={ignoredJson}
      width={width}
      height={height}
      style={empty ? { visibility: 'hidden' } : undefined}
      aria-hidden="true"
    />
  );
}
