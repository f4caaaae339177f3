/**
 * CDF distances between two 1-D samples (scipy.stats.wasserstein_distance / energy_distance), computed exactly
 * by one merge pass over ascending arrays: Σ over pooled gaps of |F_a − F_b|^p·Δ. No per-element objects.
 * Hand-written: no installed library computes 1-D Wasserstein/energy distances on typed arrays.
 */
import { dropNaN, sortedCopy } from "../../primitives/binning.ts";

export interface CdfDistances {
  /** W1 = ∫|F_a − F_b| dx. */
  readonly wasserstein: number;
  /** E = sqrt(2·∫(F_a − F_b)² dx). */
  readonly energy: number;
}

/**
 * W1 = Σ_k |F_a(z_k) − F_b(z_k)|·(z_{k+1} − z_k) and E = sqrt(2·Σ_k (F_a − F_b)²·Δ_k) over the pooled distinct
 * values z_k (scipy.stats._stats_py._cdf_distance, p = 1 and p = 2). Inputs ascending, NaN-free, non-empty.
 */
export function cdfDistancesSorted(a: Float64Array, b: Float64Array): CdfDistances {
  const n = a.length;
  const m = b.length;
  if (n === 0 || m === 0) return { wasserstein: Number.NaN, energy: Number.NaN };
  let i = 0;
  let j = 0;
  // Neumaier-compensated sums: 2e6 gaps would otherwise lose ~1e-10 relative.
  let w = 0;
  let wc = 0;
  let e = 0;
  let ec = 0;
  let x = Math.min(a[0], b[0]);
  while (i < n && a[i] <= x) i++;
  while (j < m && b[j] <= x) j++;
  while (i < n || j < m) {
    const y = j >= m || (i < n && a[i] <= b[j]) ? a[i] : b[j];
    const gap = y - x;
    const diff = i / n - j / m;
    const tw = Math.abs(diff) * gap;
    const te = diff * diff * gap;
    let t = w + tw;
    wc += Math.abs(w) >= Math.abs(tw) ? w - t + tw : tw - t + w;
    w = t;
    t = e + te;
    ec += Math.abs(e) >= Math.abs(te) ? e - t + te : te - t + e;
    e = t;
    while (i < n && a[i] <= y) i++;
    while (j < m && b[j] <= y) j++;
    x = y;
  }
  return { wasserstein: w + wc, energy: Math.SQRT2 * Math.sqrt(e + ec) };
}

/** Wasserstein-1 distance (scipy.stats.wasserstein_distance); NaN = missing and is dropped. */
export function wasserstein1(a: Float64Array, b: Float64Array): number {
  return cdfDistancesSorted(sortedCopy(dropNaN(a)), sortedCopy(dropNaN(b))).wasserstein;
}

/** Energy distance sqrt(2·∫(F_a − F_b)²) (scipy.stats.energy_distance); NaN = missing and is dropped. */
export function energyDistance(a: Float64Array, b: Float64Array): number {
  return cdfDistancesSorted(sortedCopy(dropNaN(a)), sortedCopy(dropNaN(b))).energy;
}
