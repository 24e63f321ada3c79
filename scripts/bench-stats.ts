// Small statistics the benchmark sections share.

/**
 * The median of `values` (NaN when empty): what a section's rounds are summed up by, so that one
 * round tilted by load from elsewhere on the machine does not move the figure.
 */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
