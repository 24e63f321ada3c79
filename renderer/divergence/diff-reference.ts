// Which replica the diff view compares replica k against when the user has not chosen: one of the
// agreeing majority where k is an outlier, none where there is no majority (the user picks), else the
// composite's reference. Runs in the renderer, DOM-free: tested in plain Node.

import type { Divergence } from '../../common/divergence';

/** The default reference, and why (the view says it). */
export interface DiffReferenceChoice {
  readonly referenceId: string | null;
  /**
   * 'majority': a replica of the majority k disagrees with; 'no-majority': k is flagged where no strict
   * majority exists, the user must pick; 'composite': the composite's reference; 'other': the first
   * other connected replica; 'alone': no other replica is connected.
   */
  readonly reason: 'majority' | 'no-majority' | 'composite' | 'other' | 'alone';
}

/**
 * The reference for comparing `subjectId`, from the current divergences, the connected replicas
 * (profile order) and the composite's reference.
 */
export function defaultDiffReference(
  subjectId: string,
  divergences: readonly Divergence[],
  connectedIds: readonly string[],
  compositeReferenceId: string | null,
): DiffReferenceChoice {
  const connectedOthers = connectedIds.filter((id) => id !== subjectId);
  const asOutlier = divergences.filter((divergence) => divergence.outliers.includes(subjectId));
  for (const divergence of asOutlier) {
    if (divergence.noMajority) continue;
    const candidates = divergence.agreeing.filter((id) => connectedOthers.includes(id));
    if (candidates.length === 0) continue;
    const preferred = compositeReferenceId !== null && candidates.includes(compositeReferenceId) ? compositeReferenceId : (candidates[0] as string);
    return { referenceId: preferred, reason: 'majority' };
  }
  if (asOutlier.length > 0 && asOutlier.every((divergence) => divergence.noMajority)) return { referenceId: null, reason: 'no-majority' };
  if (compositeReferenceId !== null && connectedOthers.includes(compositeReferenceId)) return { referenceId: compositeReferenceId, reason: 'composite' };
  const first = connectedOthers[0];
  return first === undefined ? { referenceId: null, reason: 'alone' } : { referenceId: first, reason: 'other' };
}
