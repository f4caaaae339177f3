/**
 * Row-level metrics (docs/metrics.md §3.1–3.5 and MMD §1.11): distance to closest record, TabSyn DCR share,
 * identifiability, NNDR, naive alpha-precision/beta-recall and RBF MMD. Pure functions over typed tables;
 * `rowLevelMetrics` returns the fixture's `row_level` subtree (plain numbers and arrays, NaN = undefined).
 */
import { isNumeric, takeTableRows } from "../../../data/build.ts";
import type { Column, Table } from "../../../data/types.ts";
import { linspace01, quantileSorted } from "../../primitives/binning.ts";
import {
  encodeMix,
  encodeOhMinmax,
  encodeSynllm,
  encodeTabsyn,
  type Matrix,
  matchColumn,
  rowColumns,
} from "./encode.ts";
import { dcrL1, dcrMixed, nearestL2, nearestOtherL2, pairwiseSquaredL2, twoNearestL2 } from "./neighbors.ts";
import { createRng, permutation, type Rng } from "../../primitives/rng.ts";

export interface DcrSummary {
  per_row: number[];
  mean: number;
  median: number;
  min: number;
  frac_zero: number;
}

export interface DcrShare {
  share: number;
  tie_fraction: number;
  share_ties_half: number;
  d_train: number[];
  d_holdout: number[];
}

export interface Identifiability {
  synllm: number;
  exact_match_rate: number;
  n_distinct_matches: number;
}

export interface Nndr {
  synllm_ratio: number;
  classic_mean: number;
  classic_per_row: number[];
}

export interface AlphaBeta {
  alpha_precision: number;
  beta_recall: number;
  authenticity: number;
  alpha_precision_curve: number[];
  beta_recall_curve: number[];
  encoded_dim: number;
}

/** Where the reference raises (n_R ≠ n_S, or a negative score), the metric is this instead of numbers. */
export interface AlphaBetaError {
  error: string;
  encoded_dim: number;
}

export interface Mmd {
  sigma: number;
  mmd2_biased: number;
  mmd2_unbiased: number;
  mmd: number;
}

export interface RowLevel {
  dcr: { raw: DcrSummary; minmax_real: DcrSummary };
  /** Absent when no holdout table is given (see `_notes`). */
  dcr_share_tabsyn?: DcrShare;
  identifiability: Identifiability;
  nndr: Nndr;
  alpha_beta_naive: AlphaBeta | AlphaBetaError;
  mmd_rbf: Mmd;
  /** Informational (not a metric): omitted parts and subsampling, if any. */
  _notes: string[];
}

export interface RowLevelParams {
  /** Number of alpha levels (linspace(0, 1, steps)); the references use 30. */
  alphaBetaSteps: number;
  /** Above this many rows a table is subsampled without replacement (row order kept). Default 50,000. */
  maxRows?: number;
  /** MMD stores all (n+m)(n+m−1)/2 pair distances for its median: each side is capped here. Default 2,000. */
  mmdMaxRows?: number;
  /** Seed of the subsampling RNG (stats/primitives/rng.ts); streams: real 0, synthetic 1, holdout 2, MMD 3/4. Default 0. */
  seed?: number;
}

export const DEFAULT_MAX_ROWS = 50_000;
export const DEFAULT_MMD_MAX_ROWS = 2_000;

/** All row-level metrics of the fixture `row_level` subtree. Real is the training table. */
export function rowLevelMetrics(
  real: Table,
  synthetic: Table,
  holdout: Table | undefined,
  p: RowLevelParams,
): RowLevel {
  const maxRows = p.maxRows ?? DEFAULT_MAX_ROWS;
  const mmdMaxRows = p.mmdMaxRows ?? DEFAULT_MMD_MAX_ROWS;
  const seed = p.seed ?? 0;
  if (!Number.isInteger(p.alphaBetaSteps) || p.alphaBetaSteps < 2) {
    throw new RangeError(`alphaBetaSteps must be an integer ≥ 2, got ${p.alphaBetaSteps}`);
  }
  if (!Number.isInteger(maxRows) || maxRows < 2 || !Number.isInteger(mmdMaxRows) || mmdMaxRows < 2) {
    throw new RangeError("maxRows and mmdMaxRows must be integers ≥ 2");
  }
  const { numeric, coded } = rowColumns(real);
  if (numeric.length + coded.length === 0) {
    throw new Error("row-level metrics need at least one numerical or categorical column");
  }
  if (real.nRows === 0 || synthetic.nRows === 0) {
    throw new Error("row-level metrics need at least one real and one synthetic row");
  }
  const notes: string[] = [];
  const rng = createRng(seed);
  const R = subsampleRows(real, maxRows, rng.fork(0), "real", notes);
  const S = subsampleRows(synthetic, maxRows, rng.fork(1), "synthetic", notes);
  const H =
    holdout === undefined ? undefined : subsampleRows(holdout, maxRows, rng.fork(2), "holdout", notes);

  const [mixRawR, mixRawS] = encodeMix(R, [R, S], "raw");
  const [mixMmR, mixMmS] = encodeMix(R, [R, S], "minmax_real");
  const [ohR, ohS] = encodeOhMinmax(R, [R, S]);

  let share: DcrShare | undefined;
  if (H === undefined) notes.push("dcr_share_tabsyn omitted: no holdout table");
  else {
    const [tS, tR, tH] = encodeTabsyn(R, [S, R, H]);
    share = dcrShare(tS, tR, tH);
  }

  let alphaBeta: AlphaBeta | AlphaBetaError;
  if (real.nRows !== synthetic.nRows) {
    alphaBeta = { error: "real and synthetic must have the same number of rows", encoded_dim: ohR.cols };
  } else {
    alphaBeta = alphaBetaNaive(ohR, ohS, p.alphaBetaSteps);
  }

  const mmdR = subsampleRows(R, mmdMaxRows, rng.fork(3), "real (MMD)", notes);
  const mmdS = subsampleRows(S, mmdMaxRows, rng.fork(4), "synthetic (MMD)", notes);
  const [mR, mS] = mmdR === R && mmdS === S ? [ohR, ohS] : encodeOhMinmax(R, [mmdR, mmdS]);

  const [snR, snS] = encodeSynllm(R, S);
  const classic = classicNndr(ohS, ohR);
  return {
    dcr: { raw: dcrMix(mixRawS, mixRawR), minmax_real: dcrMix(mixMmS, mixMmR) },
    ...(share === undefined ? {} : { dcr_share_tabsyn: share }),
    identifiability: identifiability(R, S),
    nndr: {
      synllm_ratio: synllmNndr(snR, snS),
      classic_mean: mean(classic),
      classic_per_row: Array.from(classic),
    },
    alpha_beta_naive: alphaBeta,
    mmd_rbf: mmdRbf(mR, mS),
    _notes: notes,
  };
}

/** The table itself when it has at most `maxRows` rows, else a seeded subsample in original row order. */
export function subsampleRows(t: Table, maxRows: number, rng: Rng, label: string, notes: string[]): Table {
  if (t.nRows <= maxRows) return t;
  const idx = permutation(t.nRows, rng).subarray(0, maxRows).sort();
  notes.push(`${label}: subsampled ${maxRows} of ${t.nRows} rows`);
  return takeTableRows(t, idx);
}

type MixEnc = ReturnType<typeof encodeMix>[number];

// DCR(s) = min_r Σ_num |s_j/σ_j − r_j/σ_j| + Σ_cat 1[s_j ≠ r_j] (MALLM-GAN, docs/metrics.md §3.1).
function dcrMix(s: MixEnc, r: MixEnc): DcrSummary {
  const d = dcrMixed(s.num.data, r.num.data, s.num.cols, s.cat, r.cat, s.catCols, s.num.rows, r.num.rows);
  let min = Number.POSITIVE_INFINITY;
  let zeros = 0;
  for (let i = 0; i < d.length; i++) {
    if (d[i] < min) min = d[i];
    if (d[i] === 0) zeros++;
  }
  return { per_row: Array.from(d), mean: mean(d), median: median(d), min, frac_zero: zeros / d.length };
}

// share = #{d_T < d_H}/n_S with L1 on ENC-TABSYN; ties → holdout (TabSyn eval_dcr.py, docs/metrics.md §3.2).
export function dcrShare(S: Matrix, T: Matrix, H: Matrix): DcrShare {
  const dT = dcrL1(S.data, T.data, S.cols);
  const dH = dcrL1(S.data, H.data, S.cols);
  let closer = 0;
  let ties = 0;
  for (let i = 0; i < dT.length; i++) {
    if (dT[i] < dH[i]) closer++;
    else if (dT[i] === dH[i]) ties++;
  }
  const n = dT.length;
  return {
    share: closer / n,
    tie_fraction: ties / n,
    share_ties_half: (closer + 0.5 * ties) / n,
    d_train: Array.from(dT),
    d_holdout: Array.from(dH),
  };
}

// synllm = |distinct synthetic rows found in real|/n_S; exact_match_rate = #{s ∈ real}/n_S (SynLLM, §3.3).
export function identifiability(real: Table, synthetic: Table): Identifiability {
  const cols = real.columns.filter((c) => c.kind !== "id");
  const realKeys = new Set(rowKeys(real, cols));
  const matched = new Set<string>();
  let hits = 0;
  for (const k of rowKeys(
    synthetic,
    cols.map((c) => matchColumn(synthetic, c)),
  )) {
    if (realKeys.has(k)) {
      hits++;
      matched.add(k);
    }
  }
  const n = synthetic.nRows;
  return { synllm: matched.size / n, exact_match_rate: hits / n, n_distinct_matches: matched.size };
}

/** One string per row: numbers by value (−0 = 0, NaN = NaN), labels by string, missing label = null. */
function rowKeys(t: Table, cols: readonly Column[]): string[] {
  const keys: string[] = [];
  const cells: Array<string | null> = new Array(cols.length);
  for (let i = 0; i < t.nRows; i++) {
    for (let j = 0; j < cols.length; j++) {
      const c = cols[j];
      if (isNumeric(c)) cells[j] = String(c.values[i]);
      else cells[j] = c.codes[i] < 0 ? null : c.levels[c.codes[i]];
    }
    keys.push(JSON.stringify(cells));
  }
  return keys;
}

// ratio = mean_s min_{s'≠s} ‖s − s'‖ / mean_r min_{r'≠r} ‖r − r'‖ (SynLLM _calculate_privacy_metrics, §3.4).
export function synllmNndr(real: Matrix, synthetic: Matrix): number {
  return mean(nearestOtherL2(synthetic.data, synthetic.cols)) / mean(nearestOtherL2(real.data, real.cols));
}

// NNDR_s = d1/d2 over the two nearest real rows (0 when d1 = 0) (privacy-literature NNDR, §3.4).
export function classicNndr(synthetic: Matrix, real: Matrix): Float64Array {
  const [d1, d2] = twoNearestL2(synthetic.data, real.data, real.cols);
  const out = new Float64Array(d1.length);
  for (let i = 0; i < d1.length; i++) out[i] = d1[i] === 0 ? 0 : d1[i] / d2[i];
  return out;
}

// P_k = mean[ρ(y) ≤ Radii_k], C_k = mean[rs ≤ rr]·[q ≤ QRadii_k], score = 1 − Σ|α−curve|/Σα (synthcity naive).
export function alphaBetaNaive(real: Matrix, synthetic: Matrix, steps: number): AlphaBeta | AlphaBetaError {
  const d = real.cols;
  const n = real.rows;
  if (n !== synthetic.rows)
    return { error: "real and synthetic must have the same number of rows", encoded_dim: d };
  const alphas = linspace01(steps);
  const cR = columnMeans(real);
  const cS = columnMeans(synthetic);
  const realToCenter = distancesTo(real, cR);
  const synthToCenter = distancesTo(synthetic, cR);
  const radii = quantiles(realToCenter, alphas);
  const rr = nearestOtherL2(real.data, d);
  const { dist: rs, index: j } = nearestL2(real.data, synthetic.data, d);
  const q = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const o = j[i] * d;
    let s = 0;
    for (let k = 0; k < d; k++) {
      const t = synthetic.data[o + k] - cS[k];
      s += t * t;
    }
    q[i] = Math.sqrt(s);
  }
  const qRadii = quantiles(q, alphas);
  const precision = new Array<number>(steps);
  const recall = new Array<number>(steps);
  let sumAlpha = 0;
  let devP = 0;
  let devC = 0;
  for (let k = 0; k < steps; k++) {
    let cp = 0;
    for (let i = 0; i < synthetic.rows; i++) if (synthToCenter[i] <= radii[k]) cp++;
    let cc = 0;
    for (let i = 0; i < n; i++) if (rs[i] <= rr[i] && q[i] <= qRadii[k]) cc++;
    precision[k] = cp / synthetic.rows;
    recall[k] = cc / n;
    sumAlpha += alphas[k];
    devP += Math.abs(alphas[k] - precision[k]);
    devC += Math.abs(alphas[k] - recall[k]);
  }
  let auth = 0;
  for (let i = 0; i < n; i++) if (rr[j[i]] < rs[i]) auth++;
  const alphaPrecision = 1 - devP / sumAlpha;
  const betaRecall = 1 - devC / sumAlpha;
  if (alphaPrecision < 0 || betaRecall < 0) {
    return { error: "negative value detected for alpha precision or beta recall", encoded_dim: d };
  }
  return {
    alpha_precision: alphaPrecision,
    beta_recall: betaRecall,
    authenticity: auth / n,
    alpha_precision_curve: precision,
    beta_recall_curve: recall,
    encoded_dim: d,
  };
}

// σ = median pairwise ‖z_a − z_b‖ of real ∪ synthetic (1 if 0); k = exp(−‖x−y‖²/(2σ²)) (Gretton et al. 2012).
export function mmdRbf(real: Matrix, synthetic: Matrix): Mmd {
  const d = real.cols;
  const n = real.rows;
  const m = synthetic.rows;
  const N = n + m;
  const pooled = new Float64Array(N * d);
  pooled.set(real.data.subarray(0, n * d), 0);
  pooled.set(synthetic.data.subarray(0, m * d), n * d);
  const nPairs = (N * (N - 1)) / 2;
  // Median of squared sums, then the root: sqrt is monotone, so order statistics commute with it.
  const sq = pairwiseSquaredL2(pooled, d);
  let sigma = Number.NaN;
  if (nPairs > 0) {
    // Select on a copy: `sq` keeps pair order for the kernel sums below (one distance pass instead of two).
    const order = sq.slice();
    const hi = nPairs >> 1;
    const upper = Math.sqrt(selectKth(order, hi));
    if (nPairs % 2 === 1) sigma = upper;
    else {
      let lowerSq = order[0];
      for (let i = 1; i < hi; i++) if (order[i] > lowerSq) lowerSq = order[i];
      sigma = (Math.sqrt(lowerSq) + upper) / 2;
    }
  }
  if (sigma === 0) sigma = 1;
  const inv = 1 / (2 * sigma * sigma);
  let sRR = 0;
  let sSS = 0;
  let sRS = 0;
  let p = 0;
  for (let a = 0; a < N; a++) {
    for (let b = a + 1; b < N; b++) {
      const k = Math.exp(-sq[p++] * inv);
      if (b < n) sRR += k;
      else if (a >= n) sSS += k;
      else sRS += k;
    }
  }
  const meanRS = sRS / (n * m);
  const biased = (n + 2 * sRR) / (n * n) + (m + 2 * sSS) / (m * m) - 2 * meanRS;
  const unbiased = (2 * sRR) / (n * (n - 1)) + (2 * sSS) / (m * (m - 1)) - 2 * meanRS;
  return { sigma, mmd2_biased: biased, mmd2_unbiased: unbiased, mmd: Math.sqrt(Math.max(biased, 0)) };
}

/** k-th smallest (0-based) of `a`, partially reordering it in place (Hoare quickselect, median-of-3 pivot). */
export function selectKth(a: Float64Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (hi > lo) {
    const mid = (lo + hi) >>> 1;
    // Median of three as pivot guards against sorted input.
    const x = Math.min(a[lo], a[mid]);
    const y = Math.max(a[lo], a[mid]);
    const z = a[hi];
    const pivot = Math.min(Math.max(z, x), y);
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k];
  }
  return a[k];
}

// mean = Σx/n summed in order.
function mean(x: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  return s / x.length;
}

// median = middle of the sorted values, (a + b)/2 for an even count (numpy.median).
function median(x: Float64Array): number {
  const n = x.length;
  if (n === 0) return Number.NaN;
  const s = Float64Array.from(x).sort();
  return n % 2 === 1 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

// c_j = Σ_i x_ij / n, summed over rows in order (numpy mean over axis 0).
function columnMeans(x: Matrix): Float64Array {
  const c = new Float64Array(x.cols);
  for (let i = 0; i < x.rows; i++) for (let j = 0; j < x.cols; j++) c[j] += x.data[i * x.cols + j];
  for (let j = 0; j < x.cols; j++) c[j] /= x.rows;
  return c;
}

// ‖x_i − c‖ = sqrt(Σ_j (x_ij − c_j)²) per row.
function distancesTo(x: Matrix, c: Float64Array): Float64Array {
  const out = new Float64Array(x.rows);
  for (let i = 0; i < x.rows; i++) {
    let s = 0;
    for (let j = 0; j < x.cols; j++) {
      const t = x.data[i * x.cols + j] - c[j];
      s += t * t;
    }
    out[i] = Math.sqrt(s);
  }
  return out;
}

// numpy.quantile(x, q, method="linear") at each q.
function quantiles(x: Float64Array, qs: Float64Array): Float64Array {
  const sorted = Float64Array.from(x).sort();
  const out = new Float64Array(qs.length);
  for (let k = 0; k < qs.length; k++) out[k] = quantileSorted(sorted, qs[k]);
  return out;
}
