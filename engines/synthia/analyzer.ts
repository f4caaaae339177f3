/**
 * SYNTHIA's statistical analyzer S (paper §3.3, appendix A.3): per-column KS / χ² / JS / KL and coverage
 * between a real table and a synthetic probe batch, their aggregates, the statistical guard that overrules a
 * "Real" verdict the numbers contradict, the stratified subsample X_sub, and the exact-copy privacy mask.
 * Pure functions over typed tables; the per-column numbers are the docs/metrics.md kernels (stats/metrics/column/shapes.ts).
 */
import { isNumeric } from "../../data/build.ts";
import type { CodedColumn, Column, NumericColumn, Table } from "../../data/types.ts";
import { dropNaN, quantileSorted, sortedCopy } from "../../stats/primitives/binning.ts";
import { alignTable, statColumns } from "../../stats/metrics/evaluate.ts";
import { correlationSimilarity } from "../../stats/metrics/pairs/pairs.ts";
import { nanMean } from "../../stats/metrics/table/quality.ts";
import { createRng } from "../../stats/primitives/rng.ts";
import {
  alignCategories,
  binnedCounts,
  categoryCoverageCounts,
  csTestCounts,
  DEFAULT_SHAPE_PARAMS,
  jensenShannonCounts,
  klDivergenceCounts,
  ksComplementSorted,
  rangeCoverage,
  tvComplementCounts,
} from "../../stats/metrics/column/shapes.ts";

/**
 * The analyzer vector S (appendix A.3). Per-column records hold a column only where the score is defined:
 * a column with no real values is left out everywhere, range_coverage leaves out a constant real column
 * (docs/metrics.md §1.12), and kl leaves out a column the synthetic side never fills. A column the synthetic
 * side never fills gets the worst score elsewhere (ks 0, cs 0, js 1, coverage 0), so the guard sees it.
 * Aggregates are NaN only when nothing was measurable (e.g. no pair of numeric columns).
 */
export interface Diagnostics {
  /** KSComplement per numerical/datetime column (1 = same distribution). */
  ks: Record<string, number>;
  /** CSTest p-value per categorical/boolean column (SDMetrics, on proportions). */
  cs: Record<string, number>;
  /** Jensen–Shannon distance, base 2, per column (10 equal-width real bins for numeric columns). */
  js: Record<string, number>;
  /** KL(real‖synthetic) in nats per column (same bins; pseudo-count 1e-6). */
  kl: Record<string, number>;
  /** SYNTHIA range coverage per numerical/datetime column. */
  range_coverage: Record<string, number>;
  /** Share of real categories present in the synthetic data, per categorical/boolean column. */
  category_coverage: Record<string, number>;
  /** Mean CorrelationSimilarity over pairs of numerical/datetime columns (NaN pairs skipped). */
  correlation_similarity: number;
  /** Mean over columns of KSComplement (numeric) or TVComplement (coded): SDMetrics' Column Shapes score. */
  similarity: number;
  /** Mean of every range and category coverage value. */
  coverage: number;
  /** Mean JS distance over columns (0 = same). */
  divergence: number;
  /** Synthetic rows. */
  rows: number;
  /** Missing cells of the synthetic table over the analysed (non-id) columns. */
  missing: number;
}

const P = DEFAULT_SHAPE_PARAMS;

/** S(X̃, X): the analyzer vector of a synthetic table against the real one; id columns are ignored. */
export function analyze(real: Table, synthetic: Table): Diagnostics {
  const names = statColumns(real);
  const r = alignTable(real, names, "real");
  const s = alignTable(synthetic, names, "synthetic");
  const d: Diagnostics = {
    ks: {},
    cs: {},
    js: {},
    kl: {},
    range_coverage: {},
    category_coverage: {},
    correlation_similarity: Number.NaN,
    similarity: Number.NaN,
    coverage: Number.NaN,
    divergence: Number.NaN,
    rows: synthetic.nRows,
    missing: 0,
  };
  // TVComplement per column feeds `similarity` only (CSTest p-values are on proportions and flat near 1).
  const shapeScores: number[] = [];
  for (let j = 0; j < r.columns.length; j++) {
    const rc = r.columns[j];
    const sc = s.columns[j];
    if (isNumeric(rc) && isNumeric(sc)) {
      d.missing += countMissingNumeric(sc.values);
      const score = numericDiagnostics(rc, sc, d);
      if (score !== undefined) shapeScores.push(score);
    } else if (!isNumeric(rc) && !isNumeric(sc)) {
      d.missing += countMissingCoded(sc.codes);
      const score = codedDiagnostics(rc, sc, d);
      if (score !== undefined) shapeScores.push(score);
    } else {
      throw new Error(`column "${rc.name}" is ${rc.kind} in real but ${sc.kind} in synthetic`);
    }
  }
  d.similarity = nanMean(shapeScores);
  d.coverage = nanMean([...Object.values(d.range_coverage), ...Object.values(d.category_coverage)]);
  d.divergence = nanMean(Object.values(d.js));
  d.correlation_similarity = meanCorrelationSimilarity(r, s);
  return d;
}

function countMissingNumeric(v: Float64Array): number {
  let n = 0;
  for (let i = 0; i < v.length; i++) if (v[i] !== v[i]) n++;
  return n;
}

function countMissingCoded(c: Int32Array): number {
  let n = 0;
  for (let i = 0; i < c.length; i++) if (c[i] < 0) n++;
  return n;
}

// Fills the numeric entries of `d`; returns the column's KSComplement, or undefined without real values.
function numericDiagnostics(rc: NumericColumn, sc: NumericColumn, d: Diagnostics): number | undefined {
  const r = sortedCopy(dropNaN(rc.values));
  const s = sortedCopy(dropNaN(sc.values));
  const name = rc.name;
  if (r.length === 0) return undefined;
  if (s.length === 0) {
    d.ks[name] = 0;
    d.js[name] = 1;
    if (r[r.length - 1] > r[0]) d.range_coverage[name] = 0;
    return 0;
  }
  const ks = ksComplementSorted(r, s, P.ksRoundDecimals);
  const bins = binnedCounts(r, s, P.bins);
  d.ks[name] = ks;
  d.js[name] = jensenShannonCounts(bins.real, bins.synthetic).distanceBase2;
  d.kl[name] = klDivergenceCounts(bins.real, bins.synthetic, P.klPseudoCount);
  const range = rangeCoverage(r[0], r[r.length - 1], s[0], s[s.length - 1]);
  if (range !== null) d.range_coverage[name] = range.synthia;
  return ks;
}

// Fills the coded entries of `d`; returns the column's TVComplement, or undefined without real values.
function codedDiagnostics(rc: CodedColumn, sc: CodedColumn, d: Diagnostics): number | undefined {
  const al = alignCategories(rc, sc);
  const name = rc.name;
  if (al.nReal === 0) return undefined;
  let synthetic = 0;
  for (let k = 0; k < al.synthetic.length; k++) synthetic += al.synthetic[k];
  if (synthetic === 0) {
    d.cs[name] = 0;
    d.js[name] = 1;
    d.category_coverage[name] = 0;
    return 0;
  }
  d.cs[name] = csTestCounts(al.real, al.synthetic).pvalue;
  d.js[name] = jensenShannonCounts(al.real, al.synthetic).distanceBase2;
  d.kl[name] = klDivergenceCounts(al.real, al.synthetic, P.klPseudoCount);
  d.category_coverage[name] = categoryCoverageCounts(al.real, al.synthetic);
  return tvComplementCounts(al.real, al.synthetic);
}

// mean over numeric column pairs of 1 − |ρ_R − ρ_S|/2 (SDMetrics CorrelationSimilarity), NaN pairs skipped.
function meanCorrelationSimilarity(real: Table, synthetic: Table): number {
  const scores: number[] = [];
  const n = real.columns.length;
  for (let a = 0; a < n; a++) {
    const ra = real.columns[a];
    const sa = synthetic.columns[a];
    if (!isNumeric(ra) || !isNumeric(sa)) continue;
    for (let b = a + 1; b < n; b++) {
      const rb = real.columns[b];
      const sb = synthetic.columns[b];
      if (!isNumeric(rb) || !isNumeric(sb)) continue;
      scores.push(correlationSimilarity(ra.values, rb.values, sa.values, sb.values).score);
    }
  }
  return nanMean(scores);
}

/** Mean of each numeric column's non-missing values (the "Mean Age: 47.2" lines of A.3); NaN when empty. */
export function numericMeans(table: Table): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of table.columns) {
    if (!isNumeric(c)) continue;
    let sum = 0;
    let n = 0;
    for (let i = 0; i < c.values.length; i++) {
      const v = c.values[i];
      if (v === v) {
        sum += v;
        n++;
      }
    }
    out[c.name] = n === 0 ? Number.NaN : sum / n;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Statistical guard

export interface GuardOptions {
  /** Lowest acceptable KSComplement of any numeric column, and of the overall similarity. */
  minSimilarity: number;
  /** Lowest acceptable coverage of any column, and of the overall coverage. */
  minCoverage: number;
  /** Highest acceptable JS distance (base 2) of any column, and of the overall divergence. */
  maxDivergence: number;
}

/**
 * Loose on purpose: the guard only vetoes data that is clearly not real, on probe batches of a few dozen
 * rows. KSComplement < 0.5 means D > 0.5, beyond the two-sample KS critical value at p = 0.001
 * (1.95·sqrt((n+m)/nm) ≈ 0.46 for n = 20 synthetic rows against m = 200 real ones); sampling noise alone
 * puts the binned JS distance of 20 rows near 0.4; a 20-row sample of the real data covers well over 0.3 of
 * its ranges and categories.
 */
export const DEFAULT_GUARD: GuardOptions = { minSimilarity: 0.5, minCoverage: 0.3, maxDivergence: 0.6 };

/**
 * Reasons the synthetic batch is clearly not real yet (empty = no objection), used to overrule a "Real"
 * verdict. Rule: object when the batch has no rows, or when any of these falls on the wrong side of its
 * threshold: a numeric column's KSComplement or the overall similarity (< minSimilarity), a column's range
 * or category coverage or the overall coverage (< minCoverage), a column's JS distance or the overall
 * divergence (> maxDivergence). NaN scores (undefined metrics) never object.
 */
export function statisticalGuard(d: Diagnostics, o: GuardOptions = DEFAULT_GUARD): string[] {
  if (d.rows === 0) return ["the synthetic batch has no rows"];
  const reasons: string[] = [];
  const below = (x: number, min: number): boolean => x < min;
  const above = (x: number, max: number): boolean => x > max;
  for (const [col, v] of Object.entries(d.ks)) {
    if (below(v, o.minSimilarity)) reasons.push(`${col}: KS complement ${fmt(v)} < ${fmt(o.minSimilarity)}`);
  }
  for (const [col, v] of Object.entries(d.js)) {
    if (above(v, o.maxDivergence)) reasons.push(`${col}: JS distance ${fmt(v)} > ${fmt(o.maxDivergence)}`);
  }
  for (const [col, v] of Object.entries(d.range_coverage)) {
    if (below(v, o.minCoverage)) reasons.push(`${col}: range coverage ${fmt(v)} < ${fmt(o.minCoverage)}`);
  }
  for (const [col, v] of Object.entries(d.category_coverage)) {
    if (below(v, o.minCoverage)) reasons.push(`${col}: category coverage ${fmt(v)} < ${fmt(o.minCoverage)}`);
  }
  if (below(d.similarity, o.minSimilarity))
    reasons.push(`overall similarity ${fmt(d.similarity)} < ${fmt(o.minSimilarity)}`);
  if (below(d.coverage, o.minCoverage))
    reasons.push(`overall coverage ${fmt(d.coverage)} < ${fmt(o.minCoverage)}`);
  if (above(d.divergence, o.maxDivergence))
    reasons.push(`overall divergence ${fmt(d.divergence)} > ${fmt(o.maxDivergence)}`);
  return reasons;
}

function fmt(x: number): string {
  return x.toFixed(2);
}

// ---------------------------------------------------------------------------------------------------------
// Stratified subsample X_sub

/** Strata of a numeric strata column: its quantile bins (quintiles); missing is a stratum of its own. */
const NUMERIC_STRATA = 5;

/**
 * k row indices (ascending) drawn without replacement, allocated to strata in proportion to their size by
 * largest remainders (Hamilton), then moved so every stratum has at least one row when k ≥ #strata. The
 * strata column is `strataColumn`, else the first categorical column, else none (simple random sample).
 * Missing values form their own stratum. Seeded (stats/primitives/rng.ts): the same inputs give the same rows.
 */
export function stratifiedSample(
  table: Table,
  k: number,
  strataColumn: string | undefined,
  seed: number,
): Int32Array {
  const n = table.nRows;
  const want = Math.max(0, Math.min(Math.floor(k), n));
  const col =
    strataColumn === undefined
      ? table.columns.find((c) => c.kind === "categorical")
      : table.columns.find((c) => c.name === strataColumn);
  if (strataColumn !== undefined && col === undefined) {
    throw new Error(
      `no strata column "${strataColumn}"; columns are: ${table.columns.map((c) => c.name).join(", ")}`,
    );
  }
  const { strata, count } =
    col === undefined ? { strata: new Int32Array(n), count: n > 0 ? 1 : 0 } : strataOf(col);
  const sizes = new Float64Array(count);
  for (let i = 0; i < n; i++) sizes[strata[i]]++;
  const alloc = allocate(sizes, want);
  // Rows grouped by stratum (counting sort keeps row order inside a stratum).
  const start = new Int32Array(count + 1);
  for (let h = 0; h < count; h++) start[h + 1] = start[h] + sizes[h];
  const grouped = new Int32Array(n);
  const fill = start.slice(0, count);
  for (let i = 0; i < n; i++) grouped[fill[strata[i]]++] = i;
  const rng = createRng(seed);
  const out = new Int32Array(want);
  let o = 0;
  for (let h = 0; h < count; h++) {
    // Partial Fisher–Yates: the first alloc[h] slots of the stratum become a uniform sample.
    const lo = start[h];
    const size = start[h + 1] - lo;
    for (let t = 0; t < alloc[h]; t++) {
      const j = lo + t + rng.int(size - t);
      const tmp = grouped[lo + t];
      grouped[lo + t] = grouped[j];
      grouped[j] = tmp;
      out[o++] = grouped[lo + t];
    }
  }
  return out.sort();
}

// Stratum index per row: codes (missing last) or numeric quantile bins (missing last), compacted to 0..count-1.
function strataOf(col: Column): { strata: Int32Array; count: number } {
  const n = isNumeric(col) ? col.values.length : col.codes.length;
  const raw = new Int32Array(n);
  let levels: number;
  if (isNumeric(col)) {
    const sorted = sortedCopy(dropNaN(col.values));
    const edges = new Float64Array(NUMERIC_STRATA - 1);
    for (let q = 1; q < NUMERIC_STRATA; q++) edges[q - 1] = quantileSorted(sorted, q / NUMERIC_STRATA);
    levels = NUMERIC_STRATA + 1;
    for (let i = 0; i < n; i++) {
      const v = col.values[i];
      if (v !== v) {
        raw[i] = NUMERIC_STRATA;
        continue;
      }
      let b = 0;
      while (b < edges.length && v > edges[b]) b++;
      raw[i] = b;
    }
  } else {
    levels = col.levels.length + 1;
    for (let i = 0; i < n; i++) raw[i] = col.codes[i] < 0 ? col.levels.length : col.codes[i];
  }
  const remap = new Int32Array(levels).fill(-1);
  let count = 0;
  for (let i = 0; i < n; i++) if (remap[raw[i]] < 0) remap[raw[i]] = count++;
  for (let i = 0; i < n; i++) raw[i] = remap[raw[i]];
  return { strata: raw, count };
}

// Hamilton apportionment of k over stratum sizes, then at least one per stratum when k allows.
function allocate(sizes: Float64Array, k: number): Int32Array {
  const H = sizes.length;
  let N = 0;
  for (let h = 0; h < H; h++) N += sizes[h];
  const alloc = new Int32Array(H);
  if (N === 0 || k === 0) return alloc;
  const quota = new Float64Array(H);
  let given = 0;
  for (let h = 0; h < H; h++) {
    quota[h] = (k * sizes[h]) / N;
    alloc[h] = Math.floor(quota[h]);
    given += alloc[h];
  }
  // Largest fractional remainders first; ties go to the earlier stratum.
  const order = Array.from({ length: H }, (_, h) => h).sort(
    (a, b) => quota[b] - alloc[b] - (quota[a] - alloc[a]) || a - b,
  );
  for (let t = 0; given < k; t++, given++) alloc[order[t % H]]++;
  if (k >= H) {
    for (let h = 0; h < H; h++) {
      if (alloc[h] > 0) continue;
      // Take the row from the stratum most over its quota that keeps at least 2.
      let donor = -1;
      for (let g = 0; g < H; g++) {
        if (alloc[g] < 2) continue;
        if (donor < 0 || alloc[g] - quota[g] > alloc[donor] - quota[donor]) donor = g;
      }
      if (donor < 0) break;
      alloc[donor]--;
      alloc[h]++;
    }
  }
  return alloc;
}
