/**
 * Inverse of the regularized lower incomplete gamma P(a, x) in x: the gamma distribution's PPF
 * (scipy.special.gammaincinv, cephes igami.c). Newton's method on P with the density x^(a−1)e^(−x)/Γ(a) as
 * derivative, kept inside a bisection bracket [lo, hi] that is first grown by doubling until P(a, hi) >= p;
 * so it always converges. Tests compare with scipy.
 */
import { gammainc, lgam } from "./special.ts";

/** Gamma(a, 1) density. */
export function gammaPdf(a: number, x: number): number {
  if (x <= 0) return a === 1 && x === 0 ? 1 : 0;
  return Math.exp((a - 1) * Math.log(x) - x - lgam(a));
}

/** The x >= 0 with P(a, x) = p, for a > 0 and p in [0, 1]. */
export function gammaincinv(a: number, p: number): number {
  if (!(a > 0) || !(p >= 0 && p <= 1)) return Number.NaN;
  if (p === 0) return 0;
  if (p === 1) return Number.POSITIVE_INFINITY;
  let lo = 0;
  let hi = Math.max(a, 1);
  while (gammainc(a, hi) < p) {
    lo = hi;
    hi *= 2;
  }
  let x = 0.5 * (lo + hi);
  for (let it = 0; it < 200; it++) {
    const f = gammainc(a, x) - p;
    if (f === 0) return x;
    if (f < 0) lo = x;
    else hi = x;
    const dens = gammaPdf(a, x);
    let next = dens > 0 ? x - f / dens : Number.NaN;
    if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
    if (Math.abs(next - x) <= 1e-15 * Math.max(x, 1e-300) || hi - lo <= 1e-300) return next;
    x = next;
  }
  return x;
}
