/**
 * Two-sample Kolmogorov–Smirnov test (scipy.stats.ks_2samp, two-sided), on sorted typed arrays: the statistic
 * from one merge pass, the exact p-value by the lattice-path "inside" recursion, the asymptotic one by kstwo.
 * Hand-written: @stdlib/stats-kstest is one-sample and superlinear; nothing installed has it.
 */
import { roundHalfEven } from "../../../data/cells.ts";
import { dropNaN, sortedCopy } from "../../primitives/binning.ts";
import { kstwoSf } from "../../primitives/kolmogorov.ts";

export type KsMethod = "auto" | "exact" | "asymp";

export interface KsStatistic {
  /** D as scipy's exact mode reports it: h/L with L = lcm(n, m) (NaN if n·m is too large for exact integers). */
  readonly exact: number;
  /** D as scipy's asymptotic mode reports it: max |i/n − j/m| in floating point. */
  readonly float: number;
  /** h = D·L, the integer lattice distance (−1 if n·m ≥ 2^53). */
  readonly h: number;
  readonly n: number;
  readonly m: number;
}

export interface KsResult {
  readonly statistic: number;
  readonly pvalue: number;
  /** Asymptotic p-value kstwo.sf(D, round(nm/(n+m))), whatever method was used for `pvalue`. */
  readonly pvalueAsymp: number;
  readonly method: "exact" | "asymp";
}

/** scipy's threshold: "auto" is exact iff max(n, m) ≤ MAX_AUTO_N. */
export const KS_MAX_AUTO_N = 10000;

export function gcd(a: number, b: number): number {
  while (b !== 0) {
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
}

/**
 * D = max_x |F_a(x) − F_b(x)| over the pooled sample (scipy.stats.ks_2samp) by merging two ascending NaN-free
 * arrays; exact as the integer h = max |#a≤x·m − #b≤x·n|/g, so D = h/lcm(n, m).
 */
export function ksStatisticSorted(a: Float64Array, b: Float64Array): KsStatistic {
  const n = a.length;
  const m = b.length;
  if (n === 0 || m === 0) return { exact: Number.NaN, float: Number.NaN, h: -1, n, m };
  const intOk = n * m < Number.MAX_SAFE_INTEGER;
  let i = 0;
  let j = 0;
  let hmax = 0;
  let maxS = 0; // max(F_a − F_b)
  let minS = 0; // min(F_a − F_b)
  while (i < n || j < m) {
    // Next pooled value; consume every copy of it from both samples (CDFs count values ≤ x).
    const x = j >= m || (i < n && a[i] <= b[j]) ? a[i] : b[j];
    while (i < n && a[i] <= x) i++;
    while (j < m && b[j] <= x) j++;
    const diff = i / n - j / m;
    if (diff > maxS) maxS = diff;
    if (diff < minS) minS = diff;
    if (intOk) {
      const hd = Math.abs(i * m - j * n);
      if (hd > hmax) hmax = hd;
    }
  }
  const g = gcd(n, m);
  const negMin = Math.min(Math.max(-minS, 0), 1);
  const float = Math.max(negMin, maxS);
  if (!intOk) return { exact: Number.NaN, float, h: -1, n, m };
  const h = hmax / g;
  return { exact: h / ((n / g) * m), float, h, n, m };
}

/**
 * Exact two-sided p-value P(D_{n,m} ≥ h/lcm(n,m)) = 1 − P(path stays strictly inside |i/n − j/m| < h/L),
 * by Hodges' inside recursion written for 1 − p in probability space (scipy _compute_outer_prob_inside_method;
 * Viehmann 2021). O(n·m) time, O(min(n, m)) memory. Clipped to [0, 1].
 */
export function ksExactPvalue(n1: number, n2: number, h: number): number {
  if (h <= 0) return 1;
  let m = n1;
  let n = n2;
  if (m < n) {
    m = n2;
    n = n1;
  }
  const g = gcd(m, n);
  const mg = m / g;
  const ng = n / g;
  let minj = 0;
  let maxj = Math.min(Math.ceil(h / mg), n + 1);
  let curlen = maxj - minj;
  const lenA = Math.min(2 * maxj + 2, n + 1);
  const A = new Float64Array(lenA).fill(1);
  A.fill(0, minj, maxj);
  for (let i = 1; i <= m; i++) {
    const lastminj = minj;
    const lastlen = curlen;
    minj = Math.min(Math.max(Math.floor((ng * i - h) / mg) + 1, 0), n);
    maxj = Math.min(Math.ceil((ng * i + h) / mg), n + 1);
    if (maxj <= minj) return 1;
    let val = minj === 0 ? 0 : 1;
    const off = minj - lastminj;
    for (let jj = 0; jj < maxj - minj; jj++) {
      const j = jj + minj;
      val = (A[jj + off] * i + val * j) / (i + j);
      A[jj] = val;
    }
    curlen = maxj - minj;
    if (lastlen > curlen) A.fill(1, maxj - minj, maxj - minj + (lastlen - curlen));
  }
  const p = A[maxj - minj - 1];
  return Math.min(Math.max(p, 0), 1);
}

/** Asymptotic two-sided p-value: kstwo.sf(D, round(n·m/(n+m))) (scipy ks_2samp mode="asymp"). */
export function ksAsymptoticPvalue(n: number, m: number, d: number): number {
  const big = Math.max(n, m);
  const small = Math.min(n, m);
  const en = (big * small) / (big + small);
  const p = kstwoSf(roundHalfEven(en), d);
  return Math.min(Math.max(p, 0), 1);
}

/** Two-sided two-sample KS on ascending NaN-free arrays (scipy.stats.ks_2samp). */
export function ksTwoSampleSorted(a: Float64Array, b: Float64Array, method: KsMethod = "auto"): KsResult {
  const s = ksStatisticSorted(a, b);
  if (s.n === 0 || s.m === 0) {
    return { statistic: Number.NaN, pvalue: Number.NaN, pvalueAsymp: Number.NaN, method: "asymp" };
  }
  const pvalueAsymp = ksAsymptoticPvalue(s.n, s.m, s.float);
  let useExact = method === "exact" || (method === "auto" && Math.max(s.n, s.m) <= KS_MAX_AUTO_N);
  // scipy switches exact → asymp when lcm(n, m) would overflow int32.
  const g = gcd(s.n, s.m);
  if (useExact && (s.h < 0 || s.n / g >= 2147483647 / (s.m / g))) useExact = false;
  if (useExact) {
    return { statistic: s.exact, pvalue: ksExactPvalue(s.n, s.m, s.h), pvalueAsymp, method: "exact" };
  }
  return { statistic: s.float, pvalue: pvalueAsymp, pvalueAsymp, method: "asymp" };
}

/** Two-sided two-sample KS (scipy.stats.ks_2samp); NaN = missing and is dropped from each sample. */
export function ksTwoSample(a: Float64Array, b: Float64Array, method: KsMethod = "auto"): KsResult {
  return ksTwoSampleSorted(sortedCopy(dropNaN(a)), sortedCopy(dropNaN(b)), method);
}

/** numpy.round(x, decimals) = rint(x·10^d)/10^d, ties to even, into a new array (order-preserving). */
export function roundDecimals(values: Float64Array, decimals: number): Float64Array {
  const f = 10 ** decimals;
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = roundHalfEven(values[i] * f) / f;
  return out;
}

/**
 * SDMetrics KSComplement: 1 − D on values rounded to `decimals` (D as ks_2samp "auto" reports it), on ascending
 * NaN-free arrays. NaN if either sample is empty.
 */
export function ksComplementSorted(a: Float64Array, b: Float64Array, decimals = 14): number {
  if (a.length === 0 || b.length === 0) return Number.NaN;
  // Rounding is monotone, so the rounded arrays stay sorted.
  const s = ksStatisticSorted(roundDecimals(a, decimals), roundDecimals(b, decimals));
  const exact = Math.max(s.n, s.m) <= KS_MAX_AUTO_N && s.h >= 0;
  return 1 - (exact ? s.exact : s.float);
}
