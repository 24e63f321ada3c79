// Divergence detection on the composite (issue 5): a canvas above #composite, framebuffer-sized and
// scaled by CSS exactly like it, painting every disagreeing region in translucent red. Runs in the
// renderer; the regions come from the store (they change only on engine events).

import { useEffect, useMemo, useRef, type ReactElement } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { PixelRect } from '../../common/divergence';
import { useAppStore } from '../store';

/** The overlay's fill and outline (translucent red: the screen stays readable underneath). */
const REGION_FILL = 'rgba(255, 32, 32, 0.38)';
const REGION_OUTLINE = 'rgba(255, 32, 32, 0.95)';

/** Which framebuffer the overlay covers (the reference replica's size). */
export interface DivergenceOverlayProps {
  readonly width: number;
  readonly height: number;
}

/** The red regions over the composite; `data-regions` holds them as JSON (tests read it). */
export function DivergenceOverlay({ width, height }: DivergenceOverlayProps): ReactElement {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  // Size divergences are told in the toolbar and thumbnails: painting the whole desktop red says nothing.
  const regions = useAppStore(useShallow((state) => state.divergences.filter((divergence) => divergence.kind === 'pixels').flatMap((divergence) => divergence.regions)));
  const json = useMemo(() => JSON.stringify(regions.map((region: PixelRect) => ({ x: region.x, y: region.y, width: region.width, height: region.height }))), [regions]);

  useEffect(() => {
    const canvas = canvasRef.current;
    const context = canvas?.getContext('2d') ?? null;
    if (canvas === null || context === null) return;
    context.clearRect(0, 0, canvas.width, canvas.height);
    context.fillStyle = REGION_FILL;
    context.strokeStyle = REGION_OUTLINE;
    context.lineWidth = 1;
    for (const region of regions) {
      context.fillRect(region.x, region.y, region.width, region.height);
      context.strokeRect(region.x + 0.5, region.y + 0.5, Math.max(0, region.width - 1), Math.max(0, region.height - 1));
    }
  }, [regions, width, height]);

  return <canvas ref={canvasRef} className="divergence-overlay" data-testid="divergence-overlay" data-regions={json} width={width} height={height} aria-hidden="true" />;
}
