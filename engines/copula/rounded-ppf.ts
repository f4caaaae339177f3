/**
 * A numeric column's value from its copula uniform u: x = F⁻¹(u) clipped to [min, max] and rounded to the
 * column's grid (SDV enforce_min_max_values, enforce_rounding), either per row or, when the grid is short, by
 * looking u up among the grid's cut points.
 *
 * Grid: index j = round(x·10^d) with value j/10^d (d decimals), or j = round(x/step) with value j·step (a
 * datetime's day or second). Indices run from j_min = j(min) to j_max = j(max). F is increasing, so the
 * rounded value steps from index J to J + 1 where x crosses the midpoint c_J = (J + ½)/10^d (or (J + ½)·step):
 *
 *   j(u) = j_min + #{J ∈ [j_min, j_max) : F(c_J) <= u}.
 *
 * That is the same value as rounding F⁻¹(u), computed with K − 1 CDF evaluations for the whole column instead of
 * one iterative inverse (Newton on the incomplete beta or gamma, ~10 CDF evaluations) per row; it pays when the
 * grid has fewer points K than the column has rows. The two differ only for a u within the inverse's rounding
 * error (~1e−15) of a cut point F(c_J).
 */
import { type Marginal, marginalCdf, marginalPpf } from "./marginals.ts";

/** The rounding of a numeric column: 10^−decimals, or `step` when decimals is null (0 = no rounding). */
export interface RoundingOf {
  readonly min: number;
  readonly max: number;
  readonly step: number;
  readonly decimals: number | null;
}

/** x rounded to the column's grid (decimals first; else a multiple of step; else x). */
export function roundTo(v: number, step: number, decimals: number | null): number {
  if (decimals !== null) {
    const f = 10 ** decimals;
    return Math.round(v * f) / f;
  }
  return step > 0 ? Math.round(v / step) * step : v;
}

/** The column's value at u, per row: F⁻¹(u) clipped to [min, max], then rounded. */
export function roundedPpf(m: Marginal, c: RoundingOf, u: number): number {
  const x = marginalPpf(m, u);
  return roundTo(Math.min(c.max, Math.max(c.min, x)), c.step, c.decimals);
}

/** Cut points F(c_J) and the grid's values: value k is the column's value for the k-th step. */
export interface GridInverse {
  readonly cuts: Float64Array;
  readonly values: Float64Array;
}

/** The grid lookup of a rounded column with at most `maxPoints` grid points, or null (no grid, or too long). */
export function gridInverse(m: Marginal, c: RoundingOf, maxPoints: number): GridInverse | null {
  if (c.decimals === null && !(c.step > 0)) return null;
  const f = c.decimals === null ? 0 : 10 ** c.decimals;
  const index = (x: number): number => (c.decimals !== null ? Math.round(x * f) : Math.round(x / c.step));
  const valueAt = (j: number): number => (c.decimals !== null ? j / f : j * c.step);
  const cutAt = (j: number): number => (c.decimals !== null ? (j + 0.5) / f : (j + 0.5) * c.step);
  const lo = index(c.min);
  const hi = index(c.max);
  const k = hi - lo + 1;
  if (!(k >= 1 && k <= maxPoints)) return null;
  const values: number[] = [];
  const cuts: number[] = [];
  for (let j = lo; j <= hi; j++) {
    if (j > lo) cuts.push(marginalCdf(m, cutAt(j - 1)));
    if (j !== 0) {
      values.push(valueAt(j));
      continue;
    }
    // Index 0 holds −0 for x < 0 (Math.round of a small negative number is −0) and +0 for x >= 0: the cell
    // splits at F(0) when both sides lie within [min, max], so the values are the per-row ones to the bit.
    if (c.min < 0 && c.max >= 0) {
      values.push(-0);
      cuts.push(marginalCdf(m, 0));
      values.push(0);
    } else values.push(c.max < 0 ? -0 : 0);
  }
  return { cuts: Float64Array.from(cuts), values: Float64Array.from(values) };
}

/** The column's value at u from its grid: the value after the last cut point <= u. */
export function gridValue(g: GridInverse, u: number): number {
  let a = 0;
  let b = g.cuts.length;
  while (a < b) {
    const mid = (a + b) >> 1;
    if (g.cuts[mid] <= u) a = mid + 1;
    else b = mid;
  }
  return g.values[a];
}
