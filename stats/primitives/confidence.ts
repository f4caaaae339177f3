/**
 * Approximate 95% confidence intervals for metrics computed on a seeded subsample (stats/metrics/sampling.ts).
 * z = 1.959963984540054, the standard normal's 0.975 quantile.
 * - Proportion p̂ = k/n: Wilson score interval, (p̂ + z²/2n ± z·sqrt(p̂(1−p̂)/n + z²/4n²)) / (1 + z²/n)
 *   (Wilson 1927; Brown, Cai & DasGupta 2001 recommend it over the Wald interval).
 * - Mean: x̄ ± z·s/√n with s the sample standard deviation (ddof 1); normal approximation (CLT).
 * - Median: the order statistics x_(l), x_(u) with l = ⌊n/2 − z·√n/2⌋, u = ⌈n/2 + z·√n/2⌉ (1-based, clamped),
 *   the distribution-free binomial interval under its normal approximation (Conover, Practical
 *   Nonparametric Statistics, §3.2).
 * - ROC AUC A with n1 positives and n0 negatives: A ± z·SE, SE² = (A(1−A) + (n1−1)(Q1−A²) + (n0−1)(Q2−A²))/(n1·n0),
 *   Q1 = A/(2−A), Q2 = 2A²/(1+A) (Hanley & McNeil 1982), clamped to [0, 1].
 * Intervals are [lo, hi]; NaN bounds when n is too small (n = 0, or n < 2 for a mean).
 */

export const Z95 = 1.959963984540054;

export type Interval = [number, number];

/** Wilson score interval of a proportion k/n. */
export function wilsonInterval(k: number, n: number, z = Z95): Interval {
  if (n <= 0) return [Number.NaN, Number.NaN];
  const p = k / n;
  const z2 = z * z;
  const centre = p + z2 / (2 * n);
  const half = z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  const d = 1 + z2 / n;
  return [Math.max(0, (centre - half) / d), Math.min(1, (centre + half) / d)];
}

/** Normal-approximation interval of the mean of `x` (sample standard deviation, ddof 1). */
export function meanInterval(x: ArrayLike<number>, z = Z95): Interval {
  const n = x.length;
  if (n < 2) return [Number.NaN, Number.NaN];
  let s = 0;
  for (let i = 0; i < n; i++) s += x[i];
  const m = s / n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (x[i] - m) * (x[i] - m);
  const half = z * Math.sqrt(ss / (n - 1) / n);
  return [m - half, m + half];
}

/** Distribution-free interval of the median of `x` from two order statistics. */
export function medianInterval(x: ArrayLike<number>, z = Z95): Interval {
  const n = x.length;
  if (n === 0) return [Number.NaN, Number.NaN];
  const sorted = Float64Array.from(x).sort();
  const half = (z * Math.sqrt(n)) / 2;
  const l = Math.max(1, Math.floor(n / 2 - half));
  const u = Math.min(n, Math.ceil(n / 2 + half));
  return [sorted[l - 1], sorted[u - 1]];
}

/** Hanley–McNeil interval of a ROC AUC from n1 positives and n0 negatives. */
export function aucInterval(auc: number, n1: number, n0: number, z = Z95): Interval {
  if (n1 <= 0 || n0 <= 0 || !Number.isFinite(auc)) return [Number.NaN, Number.NaN];
  const q1 = auc / (2 - auc);
  const q2 = (2 * auc * auc) / (1 + auc);
  const a2 = auc * auc;
  const v = (auc * (1 - auc) + (n1 - 1) * (q1 - a2) + (n0 - 1) * (q2 - a2)) / (n1 * n0);
  const half = z * Math.sqrt(Math.max(0, v));
  return [Math.max(0, auc - half), Math.min(1, auc + half)];
}
