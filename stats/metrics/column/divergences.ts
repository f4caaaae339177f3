/**
 * Distribution comparisons over aligned count vectors (categories or histogram bins): KL, Jensen–Shannon,
 * Hellinger, and SDMetrics' TVComplement / CSTest frequencies. Plus the helpers that build those count vectors
 * from columns (open-ended real-edge bins; categories aligned by string value).
 */
import type { CodedColumn } from "../../../data/types.ts";
import { digitize, histogramBinEdges } from "../../primitives/binning.ts";
import { chi2Sf } from "../../primitives/special.ts";

/** SDMetrics' count given to a synthetic-only category in the real Counter ("regularization to prevent NaN"). */
export const SDMETRICS_REGULARIZATION = 1e-6;

// x·ln(x/y) with rel_entr's conventions: 0 when x = 0, +∞ when y = 0 < x (scipy.special.rel_entr).
function relEntr(x: number, y: number): number {
  if (x > 0 && y > 0) return x * Math.log(x / y);
  if (x === 0 && y >= 0) return 0;
  return Number.POSITIVE_INFINITY;
}

function sum(v: Float64Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i];
  return s;
}

/**
 * KL(p‖q) = Σ_c p_c ln(p_c/q_c) with p = (R+ε)/Σ(R+ε), q = (S+ε)/Σ(S+ε), in nats
 * (scipy.stats.entropy(R + ε, S + ε); docs/metrics.md §1.5).
 */
export function klDivergenceCounts(real: Float64Array, synthetic: Float64Array, pseudoCount: number): number {
  const K = real.length;
  if (K === 0 || !(sum(real) > 0) || !(sum(synthetic) > 0)) return Number.NaN;
  let sp = 0;
  let sq = 0;
  for (let c = 0; c < K; c++) {
    sp += real[c] + pseudoCount;
    sq += synthetic[c] + pseudoCount;
  }
  let kl = 0;
  for (let c = 0; c < K; c++) kl += relEntr((real[c] + pseudoCount) / sp, (synthetic[c] + pseudoCount) / sq);
  return kl;
}

export interface JensenShannon {
  /** sqrt(JSD/ln 2), in [0, 1] (canonical). */
  readonly distanceBase2: number;
  /** sqrt(JSD) with natural logs (scipy.spatial.distance.jensenshannon default). */
  readonly distanceE: number;
  /** JSD/ln 2 = distanceBase2². */
  readonly divergenceBase2: number;
}

/**
 * JSD = ½KL(p‖M) + ½KL(q‖M), M = (p+q)/2, p = R/ΣR, q = S/ΣS (scipy.spatial.distance.jensenshannon).
 */
export function jensenShannonCounts(real: Float64Array, synthetic: Float64Array): JensenShannon {
  const K = real.length;
  const sp = sum(real);
  const sq = sum(synthetic);
  if (K === 0 || !(sp > 0) || !(sq > 0)) {
    return { distanceBase2: Number.NaN, distanceE: Number.NaN, divergenceBase2: Number.NaN };
  }
  let left = 0;
  let right = 0;
  for (let c = 0; c < K; c++) {
    const p = real[c] / sp;
    const q = synthetic[c] / sq;
    const mid = (p + q) / 2;
    left += relEntr(p, mid);
    right += relEntr(q, mid);
  }
  const js = left + right;
  const div2 = js / Math.LN2 / 2;
  return { distanceBase2: Math.sqrt(div2), distanceE: Math.sqrt(js / 2), divergenceBase2: div2 };
}

/** H = sqrt(½ Σ_c (√p_c − √q_c)²), p = R/ΣR, q = S/ΣS (docs/metrics.md §1.7). */
export function hellingerCounts(real: Float64Array, synthetic: Float64Array): number {
  const sp = sum(real);
  const sq = sum(synthetic);
  if (real.length === 0 || !(sp > 0) || !(sq > 0)) return Number.NaN;
  let s = 0;
  for (let c = 0; c < real.length; c++) {
    const d = Math.sqrt(real[c] / sp) - Math.sqrt(synthetic[c] / sq);
    s += d * d;
  }
  return Math.sqrt(s / 2);
}

/**
 * Counts of `values` (NaN skipped) in `edges.length − 1` bins whose outer edges are treated as −∞/+∞:
 * bin = clamp(digitize(v, edges) − 1, 0, B − 1), i.e. left-closed inner edges (numpy.histogram with ±∞ ends).
 */
export function openEndedBinCounts(values: Float64Array, edges: Float64Array): Float64Array {
  const B = edges.length - 1;
  const counts = new Float64Array(B);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== v) continue;
    let bin = digitize(v, edges) - 1;
    if (bin < 0) bin = 0;
    else if (bin >= B) bin = B - 1;
    counts[bin]++;
  }
  return counts;
}

export interface BinnedCounts {
  /** numpy.histogram_bin_edges(real, bins); the outer two are used as −∞/+∞. */
  readonly edges: Float64Array;
  readonly real: Float64Array;
  readonly synthetic: Float64Array;
}

/** Both samples binned on B equal-width bins of the real non-missing values, open at both ends (§1.5). */
export function binnedCounts(real: Float64Array, synthetic: Float64Array, bins: number): BinnedCounts {
  const edges = histogramBinEdges(real, bins);
  return { edges, real: openEndedBinCounts(real, edges), synthetic: openEndedBinCounts(synthetic, edges) };
}

export interface AlignedCategories {
  /** Union of non-missing categories: real's first-appearance order, then synthetic-only ones in theirs. */
  readonly levels: readonly string[];
  readonly real: Float64Array;
  readonly synthetic: Float64Array;
  /** Number of leading levels that occur in real (the rest are synthetic-only). */
  readonly nReal: number;
}

/** Counts of two coded columns over the union of their category strings, missing dropped (Counter order). */
export function alignCategories(real: CodedColumn, synthetic: CodedColumn): AlignedCategories {
  const index = new Map<string, number>();
  const levels: string[] = [];
  const realMap = new Int32Array(real.levels.length).fill(-1);
  for (let i = 0; i < real.codes.length; i++) {
    const c = real.codes[i];
    if (c < 0 || realMap[c] >= 0) continue;
    const key = real.levels[c];
    let u = index.get(key);
    if (u === undefined) {
      u = levels.length;
      levels.push(key);
      index.set(key, u);
    }
    realMap[c] = u;
  }
  const nReal = levels.length;
  const synMap = new Int32Array(synthetic.levels.length).fill(-1);
  for (let i = 0; i < synthetic.codes.length; i++) {
    const c = synthetic.codes[i];
    if (c < 0 || synMap[c] >= 0) continue;
    const key = synthetic.levels[c];
    let u = index.get(key);
    if (u === undefined) {
      u = levels.length;
      levels.push(key);
      index.set(key, u);
    }
    synMap[c] = u;
  }
  const rc = new Float64Array(levels.length);
  const sc = new Float64Array(levels.length);
  for (let i = 0; i < real.codes.length; i++) if (real.codes[i] >= 0) rc[realMap[real.codes[i]]]++;
  for (let i = 0; i < synthetic.codes.length; i++)
    if (synthetic.codes[i] >= 0) sc[synMap[synthetic.codes[i]]]++;
  return { levels, real: rc, synthetic: sc, nReal };
}

export interface Frequencies {
  /** Synthetic proportions S_c/ΣS. */
  readonly observed: Float64Array;
  /** Regularised real proportions R_c/ΣR, with R_c = 1e-6 for synthetic-only categories. */
  readonly expected: Float64Array;
}

/** SDMetrics get_frequencies: f_obs = S/ΣS, f_exp = R'/ΣR' where R' adds 1e-6 for synthetic-only categories. */
export function sdmetricsFrequencies(real: Float64Array, synthetic: Float64Array): Frequencies {
  const K = real.length;
  const reg = new Float64Array(K);
  for (let c = 0; c < K; c++) reg[c] = real[c] === 0 && synthetic[c] > 0 ? SDMETRICS_REGULARIZATION : real[c];
  const sr = sum(reg);
  const ss = sum(synthetic);
  const observed = new Float64Array(K);
  const expected = new Float64Array(K);
  for (let c = 0; c < K; c++) {
    observed[c] = synthetic[c] / ss;
    expected[c] = reg[c] / sr;
  }
  return { observed, expected };
}

/** SDMetrics TVComplement: 1 − ½ Σ_c |f_obs,c − f_exp,c| (docs/metrics.md §1.3). NaN if either side is empty. */
export function tvComplementCounts(real: Float64Array, synthetic: Float64Array): number {
  if (!(sum(real) > 0) || !(sum(synthetic) > 0)) return Number.NaN;
  const f = sdmetricsFrequencies(real, synthetic);
  let tv = 0;
  for (let c = 0; c < real.length; c++) tv += Math.abs(f.observed[c] - f.expected[c]);
  return 1 - 0.5 * tv;
}

export interface ChiSquare {
  readonly statistic: number;
  readonly pvalue: number;
}

/**
 * SDMetrics CSTest: χ² = Σ_c (f_obs − f_exp)²/f_exp on proportions, p = χ²_{K−1}.sf(χ²)
 * (scipy.stats.chisquare); one category overall gives p = 1, χ² = 0 (docs/metrics.md §1.4).
 */
export function csTestCounts(real: Float64Array, synthetic: Float64Array): ChiSquare {
  if (!(sum(real) > 0) || !(sum(synthetic) > 0)) return { statistic: Number.NaN, pvalue: Number.NaN };
  const K = real.length;
  if (K === 1) return { statistic: 0, pvalue: 1 };
  const f = sdmetricsFrequencies(real, synthetic);
  let stat = 0;
  for (let c = 0; c < K; c++) {
    const d = f.observed[c] - f.expected[c];
    stat += (d * d) / f.expected[c];
  }
  return { statistic: stat, pvalue: chi2Sf(K - 1, stat) };
}

/** CategoryCoverage: |real categories present in synthetic| / |real categories| (SDMetrics, docs/metrics.md §1.13). */
export function categoryCoverageCounts(real: Float64Array, synthetic: Float64Array): number {
  let nr = 0;
  let both = 0;
  for (let c = 0; c < real.length; c++) {
    if (real[c] > 0) {
      nr++;
      if (synthetic[c] > 0) both++;
    }
  }
  return nr === 0 ? Number.NaN : both / nr;
}

export interface RangeCoverage {
  /** 1 − max((ã−a)/(b−a), 0) − max((b−b̃)/(b−a), 0), clipped below at 0 (SDMetrics RangeCoverage). */
  readonly sdmetrics: number;
  /** (min(b, b̃) − max(a, ã))/(b − a), clipped below at 0 (SYNTHIA). */
  readonly synthia: number;
}

/** Range coverage of the real range [a, b] by the synthetic range (§1.12); null when real is constant or empty. */
export function rangeCoverage(
  realMin: number,
  realMax: number,
  synMin: number,
  synMax: number,
): RangeCoverage | null {
  const span = realMax - realMin;
  if (!(span > 0) || Number.isNaN(synMin) || Number.isNaN(synMax)) return null;
  const normMin = Math.max((synMin - realMin) / span, 0);
  const normMax = Math.max((realMax - synMax) / span, 0);
  const sdmetrics = Math.max(1 - (normMin + normMax), 0);
  const synthia = Math.max((Math.min(realMax, synMax) - Math.max(realMin, synMin)) / span, 0);
  return { sdmetrics, synthia };
}
