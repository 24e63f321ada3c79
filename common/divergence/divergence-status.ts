// The one-line summary of the divergence report the toolbar and `retrovisor run` print. Pure.

import { type Divergence, type DivergenceState } from './divergence-engine';

/**
 * "all agree", "2 regions disagree — r2 is the outlier", "no majority: r1, r2 disagree",
 * "desktop size differs — r3 is the outlier (800×600; others 1024×768)"; several divergences are
 * joined with "; ". `nameOf` maps a replica id to what the user calls it (default: the id).
 */
export function describeDivergenceState(state: DivergenceState, nameOf: (replicaId: string) => string = (replicaId) => replicaId): string {
  if (state.divergences.length === 0) return 'all agree';
  return state.divergences.map((divergence) => describeDivergence(divergence, nameOf)).join('; ');
}

/** One divergence in words (see describeDivergenceState). */
export function describeDivergence(divergence: Divergence, nameOf: (replicaId: string) => string = (replicaId) => replicaId): string {
  const names = divergence.outliers.map(nameOf).join(', ');
  if (divergence.kind === 'size') {
    const sizeOf = (replicaId: string): string => {
      const size = divergence.sizes.find((entry) => entry.replicaId === replicaId);
      return size === undefined ? '?' : `${size.widthPx}×${size.heightPx}`;
    };
    if (divergence.noMajority) return `desktop sizes differ, no majority: ${divergence.outliers.map((id) => `${nameOf(id)} ${sizeOf(id)}`).join(', ')}`;
    const outlierSizes = [...new Set(divergence.outliers.map(sizeOf))].join(', ');
    const majoritySize = divergence.agreeing[0] === undefined ? '?' : sizeOf(divergence.agreeing[0]);
    return `desktop size differs — ${names} ${isAre(divergence.outliers.length)} the ${outlierWord(divergence.outliers.length)} (${outlierSizes}; others ${majoritySize})`;
  }
  if (divergence.noMajority) return `no majority: ${names} disagree`;
  const count = divergence.regions.length;
  const regions = count === 1 ? '1 region disagrees' : `${count} regions disagree`;
  return `${regions} — ${names} ${isAre(divergence.outliers.length)} the ${outlierWord(divergence.outliers.length)}`;
}

function isAre(count: number): string {
  return count === 1 ? 'is' : 'are';
}

function outlierWord(count: number): string {
  return count === 1 ? 'outlier' : 'outliers';
}
