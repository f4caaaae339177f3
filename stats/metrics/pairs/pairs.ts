/**
 * Column-pair metrics (docs/metrics.md §2.2, §2.4–2.6): CorrelationSimilarity, ContingencySimilarity in both
 * binnings, Cramér's V and mutual information. Categories are compared by string across tables; missing
 * is a level of its own and a numeric column's missing values get their own bin (B+1).
 */
import { getColumn, isNumeric } from "../../../data/build.ts";
import type { CodedColumn, Column, Table } from "../../../data/types.ts";
import { digitize, histogramBinEdges } from "../../primitives/binning.ts";
import { recode, sortedUnionLevels } from "../../primitives/categories.ts";
import { pearsonPairwise } from "./correlation.ts";

/** Codes of one column in both tables on a shared level space 0..size-1. */
export interface PairLevels {
  readonly real: Int32Array;
  readonly synthetic: Int32Array;
  readonly size: number;
}

/** Non-zero cells of a two-way table, ascending by key = a·kb + b. */
export interface CrossTab {
  readonly keys: Float64Array;
  readonly counts: Float64Array;
  readonly total: number;
}

export interface CorrelationSimilarityResult {
  score: number;
  real: number;
  synthetic: number;
  /** Present where SDMetrics raises (a column constant in either table); the numbers are then NaN. */
  error?: string;
}

export interface RealSyntheticDiff {
  real: number;
  synthetic: number;
  abs_diff: number;
}

export interface PairResult {
  contingency_similarity: number;
  cramers_v: RealSyntheticDiff;
  mutual_information: RealSyntheticDiff;
  correlation_similarity?: CorrelationSimilarityResult;
  report_metric: "CorrelationSimilarity" | "ContingencySimilarity";
  report_score: number;
}

/** Dense counting up to this many cells; a Map beyond (high-cardinality categorical pairs). */
const DENSE_CELLS = 1 << 20;

// Codes of `values` digitized on `edges` (numpy.digitize, left-closed; NaN -> edges.length).
function digitizeAll(values: Float64Array, edges: Float64Array): Int32Array {
  const out = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = digitize(values[i], edges);
  return out;
}

function hasFinite(values: Float64Array): boolean {
  for (let i = 0; i < values.length; i++) if (!Number.isNaN(values[i])) return true;
  return false;
}

// Missing (-1) becomes its own level K after recoding onto the sorted union of both tables' levels.
function codedLevels(real: CodedColumn, synthetic: CodedColumn): PairLevels {
  const levels = sortedUnionLevels(real, synthetic);
  const k = levels.length;
  const fix = (codes: Int32Array): Int32Array => {
    for (let i = 0; i < codes.length; i++) if (codes[i] < 0) codes[i] = k;
    return codes;
  };
  return { real: fix(recode(real, levels)), synthetic: fix(recode(synthetic, levels)), size: k + 1 };
}

/**
 * Metric-level discretisation (SDMetrics ContingencySimilarity with continuous_column_names):
 * real histogram edges with ±∞ outer edges, bins 1..B, missing B+1. A real column with no values puts
 * every synthetic value in bin 1 (SDMetrics would raise).
 */
export function metricLevels(real: Column, synthetic: Column, bins: number): PairLevels {
  if (isNumeric(real) && isNumeric(synthetic)) {
    let edges: Float64Array;
    if (hasFinite(real.values)) {
      edges = histogramBinEdges(real.values, bins);
    } else {
      edges = new Float64Array(bins + 1).fill(Number.POSITIVE_INFINITY);
    }
    edges[0] = Number.NEGATIVE_INFINITY;
    edges[bins] = Number.POSITIVE_INFINITY;
    return {
      real: digitizeAll(real.values, edges),
      synthetic: digitizeAll(synthetic.values, edges),
      size: bins + 2,
    };
  }
  return codedLevels(asCoded(real), asCoded(synthetic));
}

/**
 * QualityReport discretisation (ColumnPairTrends): each table binned on its own finite histogram edges with
 * plain digitize, so a column's maximum and its missing values both land in bin B+1 (reference quirk).
 */
export function reportLevels(real: Column, synthetic: Column, bins: number): PairLevels {
  if (isNumeric(real) && isNumeric(synthetic)) {
    const own = (v: Float64Array): Int32Array =>
      hasFinite(v) ? digitizeAll(v, histogramBinEdges(v, bins)) : new Int32Array(v.length).fill(bins + 1);
    return { real: own(real.values), synthetic: own(synthetic.values), size: bins + 2 };
  }
  return codedLevels(asCoded(real), asCoded(synthetic));
}

function asCoded(c: Column): CodedColumn {
  if (isNumeric(c)) throw new Error(`column "${c.name}" is numeric in one table and coded in the other`);
  return c;
}

/** Two-way table of level codes a (0..ka-1) × b (0..kb-1), non-zero cells only. */
export function crossTab(a: Int32Array, b: Int32Array, ka: number, kb: number): CrossTab {
  const n = a.length;
  if (ka * kb <= DENSE_CELLS) {
    // Integer counts (n < 2³¹): an Int32 increment is cheaper than a float one over millions of rows.
    const dense = new Int32Array(ka * kb);
    for (let i = 0; i < n; i++) dense[a[i] * kb + b[i]]++;
    let nz = 0;
    for (let c = 0; c < dense.length; c++) if (dense[c] > 0) nz++;
    const keys = new Float64Array(nz);
    const counts = new Float64Array(nz);
    let j = 0;
    for (let c = 0; c < dense.length; c++) {
      if (dense[c] > 0) {
        keys[j] = c;
        counts[j++] = dense[c];
      }
    }
    return { keys, counts, total: n };
  }
  const map = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const key = a[i] * kb + b[i];
    map.set(key, (map.get(key) ?? 0) + 1);
  }
  const keys = Float64Array.from(map.keys()).sort();
  const counts = new Float64Array(keys.length);
  for (let j = 0; j < keys.length; j++) counts[j] = map.get(keys[j]) ?? 0;
  return { keys, counts, total: n };
}

// 1 − ½ Σ_cells |P_R − P_S| over the union of observed cells (SDMetrics ContingencySimilarity).
export function contingencySimilarity(real: CrossTab, synthetic: CrossTab): number {
  let i = 0;
  let j = 0;
  let tv = 0;
  const nr = real.total;
  const ns = synthetic.total;
  while (i < real.keys.length || j < synthetic.keys.length) {
    const kr = i < real.keys.length ? real.keys[i] : Number.POSITIVE_INFINITY;
    const ks = j < synthetic.keys.length ? synthetic.keys[j] : Number.POSITIVE_INFINITY;
    if (kr === ks) tv += Math.abs(real.counts[i++] / nr - synthetic.counts[j++] / ns);
    else if (kr < ks) tv += real.counts[i++] / nr;
    else tv += synthetic.counts[j++] / ns;
  }
  return 1 - tv / 2;
}

/** Row and column sums of a cross tab over the full level space. */
function margins(t: CrossTab, ka: number, kb: number): { rows: Float64Array; cols: Float64Array } {
  const rows = new Float64Array(ka);
  const cols = new Float64Array(kb);
  for (let j = 0; j < t.keys.length; j++) {
    const a = Math.floor(t.keys[j] / kb);
    rows[a] += t.counts[j];
    cols[t.keys[j] - a * kb] += t.counts[j];
  }
  return { rows, cols };
}

function compactIndex(sums: Float64Array): { index: Int32Array; count: number } {
  const index = new Int32Array(sums.length).fill(-1);
  let count = 0;
  for (let i = 0; i < sums.length; i++) if (sums[i] > 0) index[i] = count++;
  return { index, count };
}

// V = sqrt(χ²/(N·(min(r,c)−1))), Pearson χ² without Yates, observed levels only (scipy association "cramer").
export function cramersV(t: CrossTab, ka: number, kb: number): number {
  const { rows, cols } = margins(t, ka, kb);
  const ri = compactIndex(rows);
  const ci = compactIndex(cols);
  const r = ri.count;
  const c = ci.count;
  const n = t.total;
  if (Math.min(r, c) < 2) return Number.NaN;
  let chi2 = 0;
  if (r * c <= DENSE_CELLS) {
    // Every cell, zeros included, in row-major order as scipy sums the dense table.
    const obs = new Float64Array(r * c);
    for (let j = 0; j < t.keys.length; j++) {
      const a = Math.floor(t.keys[j] / kb);
      obs[ri.index[a] * c + ci.index[t.keys[j] - a * kb]] = t.counts[j];
    }
    const rs = new Float64Array(r);
    const cs = new Float64Array(c);
    for (let a = 0; a < ka; a++) if (ri.index[a] >= 0) rs[ri.index[a]] = rows[a];
    for (let b = 0; b < kb; b++) if (ci.index[b] >= 0) cs[ci.index[b]] = cols[b];
    for (let x = 0; x < r; x++) {
      for (let y = 0; y < c; y++) {
        const e = (rs[x] * cs[y]) / n;
        const d = obs[x * c + y] - e;
        chi2 += (d * d) / e;
      }
    }
  } else {
    // Zero cells contribute e each; Σ_all e = N, so add N − Σ_nonzero e.
    let eNonzero = 0;
    for (let j = 0; j < t.keys.length; j++) {
      const a = Math.floor(t.keys[j] / kb);
      const e = (rows[a] * cols[t.keys[j] - a * kb]) / n;
      const d = t.counts[j] - e;
      chi2 += (d * d) / e;
      eNonzero += e;
    }
    chi2 += n - eNonzero;
  }
  return Math.sqrt(chi2 / n / (Math.min(r, c) - 1));
}

// MI = Σ p_ij ln(p_ij/(p_i p_j)) in nats over non-zero cells (sklearn.metrics.mutual_info_score).
export function mutualInformation(t: CrossTab, ka: number, kb: number): number {
  const { rows, cols } = margins(t, ka, kb);
  if (compactIndex(rows).count === 1 || compactIndex(cols).count === 1) return 0;
  const n = t.total;
  const logN = Math.log(n);
  let mi = 0;
  for (let j = 0; j < t.keys.length; j++) {
    const a = Math.floor(t.keys[j] / kb);
    const o = t.counts[j];
    const p = o / n;
    // sklearn: p·(ln o − ln N) + p·(−ln(r_i c_j) + ln N + ln N), with |term| < eps zeroed.
    const term = p * (Math.log(o) - logN) + p * (-Math.log(rows[a] * cols[t.keys[j] - a * kb]) + logN + logN);
    mi += Math.abs(term) < Number.EPSILON ? 0 : term;
  }
  return Math.max(mi, 0);
}

function nunique(values: Float64Array): number {
  let first = Number.NaN;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isNaN(v)) continue;
    if (Number.isNaN(first)) first = v;
    else if (v !== first) return 2;
  }
  return Number.isNaN(first) ? 0 : 1;
}

// 1 − |ρ_R − ρ_S|/2 with pairwise-deletion Pearson; NaN + error when a column is constant (SDMetrics).
export function correlationSimilarity(
  realA: Float64Array,
  realB: Float64Array,
  synA: Float64Array,
  synB: Float64Array,
): CorrelationSimilarityResult {
  if (nunique(realA) === 1 || nunique(realB) === 1 || nunique(synA) === 1 || nunique(synB) === 1) {
    return {
      score: Number.NaN,
      real: Number.NaN,
      synthetic: Number.NaN,
      error: "ConstantInputError: one or both of the input arrays is constant; the correlation is undefined",
    };
  }
  const real = pearsonPairwise(realA, realB);
  const synthetic = pearsonPairwise(synA, synB);
  return { score: 1 - Math.abs(real - synthetic) / 2, real, synthetic };
}

function realSyntheticDiff(real: number, synthetic: number): RealSyntheticDiff {
  return { real, synthetic, abs_diff: Math.abs(real - synthetic) };
}

/** Columns that take part in pair metrics: everything but id columns (the QualityReport skips ids). */
function pairColumns(real: Table, synthetic: Table): Array<{ real: Column; synthetic: Column }> {
  return real.columns
    .filter((c) => c.kind !== "id")
    .map((c) => {
      const s = getColumn(synthetic, c.name);
      if (isNumeric(c) !== isNumeric(s)) {
        throw new Error(`column "${c.name}" is ${c.kind} in real but ${s.kind} in synthetic`);
      }
      return { real: c, synthetic: s };
    });
}

/** Every column pair's metrics, keyed "a|b" in real's schema order (docs/metrics.md §2.2–2.7). */
export function columnPairs(real: Table, synthetic: Table, p: { bins: number }): Record<string, PairResult> {
  const cols = pairColumns(real, synthetic);
  const metric = cols.map((c) => metricLevels(c.real, c.synthetic, p.bins));
  // Coded columns bin the same way in both; only numeric ones need their report levels.
  const report = cols.map((c, k) =>
    isNumeric(c.real) ? reportLevels(c.real, c.synthetic, p.bins) : metric[k],
  );
  const out: Record<string, PairResult> = {};
  for (let i = 0; i < cols.length; i++) {
    for (let j = i + 1; j < cols.length; j++) {
      const a = metric[i];
      const b = metric[j];
      const tr = crossTab(a.real, b.real, a.size, b.size);
      const ts = crossTab(a.synthetic, b.synthetic, a.size, b.size);
      const result: PairResult = {
        contingency_similarity: contingencySimilarity(tr, ts),
        cramers_v: realSyntheticDiff(cramersV(tr, a.size, b.size), cramersV(ts, a.size, b.size)),
        mutual_information: realSyntheticDiff(
          mutualInformation(tr, a.size, b.size),
          mutualInformation(ts, a.size, b.size),
        ),
        report_metric: "ContingencySimilarity",
        report_score: Number.NaN,
      };
      const ci = cols[i];
      const cj = cols[j];
      if (isNumeric(ci.real) && isNumeric(cj.real) && isNumeric(ci.synthetic) && isNumeric(cj.synthetic)) {
        const cs = correlationSimilarity(
          ci.real.values,
          cj.real.values,
          ci.synthetic.values,
          cj.synthetic.values,
        );
        result.correlation_similarity = cs;
        result.report_metric = "CorrelationSimilarity";
        result.report_score = cs.score;
      } else if (!isNumeric(ci.real) && !isNumeric(cj.real)) {
        // Both coded: the report binning is the metric binning (codedLevels), so are the tables.
        result.report_score = result.contingency_similarity;
      } else {
        const ra = report[i];
        const rb = report[j];
        result.report_score = contingencySimilarity(
          crossTab(ra.real, rb.real, ra.size, rb.size),
          crossTab(ra.synthetic, rb.synthetic, ra.size, rb.size),
        );
      }
      out[`${ci.real.name}|${cj.real.name}`] = result;
    }
  }
  return out;
}
