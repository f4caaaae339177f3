/**
 * SDMetrics single-table QualityReport aggregates (docs/metrics.md §2.7).
 */

export interface QualityReport {
  column_shapes: number;
  column_pair_trends: number;
  overall: number;
}

// mean of the non-NaN entries; NaN when there are none (pandas Series.mean, skipna).
export function nanMean(xs: readonly number[]): number {
  let sum = 0;
  let n = 0;
  for (const x of xs) {
    if (Number.isNaN(x)) continue;
    sum += x;
    n++;
  }
  return n === 0 ? Number.NaN : sum / n;
}

// Shapes = mean KS/TV complement, Pair Trends = mean pair score, Overall = mean of both, NaN skipped (SDMetrics).
export function qualityReport(
  columnShapeScores: readonly number[],
  pairScores: readonly number[],
): QualityReport {
  const column_shapes = nanMean(columnShapeScores);
  const column_pair_trends = nanMean(pairScores);
  return { column_shapes, column_pair_trends, overall: nanMean([column_shapes, column_pair_trends]) };
}
