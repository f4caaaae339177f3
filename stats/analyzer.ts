/**
 * SYNTHIA's statistical analyzer S (paper §3.3, appendix A.3): per-column KS / χ² / JS / KL and coverage
 * between a real table and a synthetic probe batch, their aggregates, the statistical guard that overrules a
 * "Real" verdict the numbers contradict, the stratified subsample X_sub, and the exact-copy privacy mask.
 * Pure functions over typed tables; the per-column numbers are the metrics.md kernels (stats/shapes.ts).
 */
import { isNumeric } from "../data/build.ts";
import type { CodedColumn, Column, NumericColumn, Table } from "../data/types.ts";
import { dropNaN, quantileSorted, sortedCopy } from "./binning.ts";
import { alignTable, statColumns } from "./evaluate.ts";
import { correlationSimilarity } from "./pairs.ts";
import { nanMean } from "./quality.ts";
import { createRng } from "./rng.ts";
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
} from "./shapes.ts";

/**
 * The analyzer vector S (appendix A.3). Per-column records hold a column only where the score is defined:
 * a column with no real values is left out everywhere, range_coverage leaves out a constant real column
 * (metrics.md §1.12), and kl leaves out a column the synthetic side never fills. A column the synthetic
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
 * Missing values form their own stratum. Seeded (stats/rng.ts): the same inputs give the same rows.
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

// ---------------------------------------------------------------------------------------------------------
// Exact copies (privacy guard)

/**
 * 1 where a synthetic row equals some real row in every non-id column of the real table (numbers equal,
 * categories equal as strings, missing equals missing); ids are ignored because a copied record with a
 * fresh id is still a copy. Hash set over the real rows, then one probe per synthetic row: O(n + m).
 */
export function exactCopyMask(real: Table, synthetic: Table): Uint8Array {
  const names = statColumns(real);
  const r = alignTable(real, names, "real");
  const s = alignTable(synthetic, names, "synthetic");
  const k = r.columns.length;
  const mask = new Uint8Array(s.nRows);
  if (r.nRows === 0 || s.nRows === 0) return mask;
  // Synthetic category codes mapped into the real column's code space (−2 = a category real never has).
  const synCodes: Array<Int32Array | Float64Array> = new Array(k);
  const realCodes: Array<Int32Array | Float64Array> = new Array(k);
  for (let j = 0; j < k; j++) {
    const rc = r.columns[j];
    const sc = s.columns[j];
    if (isNumeric(rc) && isNumeric(sc)) {
      realCodes[j] = rc.values;
      synCodes[j] = sc.values;
    } else if (!isNumeric(rc) && !isNumeric(sc)) {
      realCodes[j] = rc.codes;
      synCodes[j] = mapCodes(sc, rc.levels);
    } else {
      throw new Error(`column "${rc.name}" is ${rc.kind} in real but ${sc.kind} in synthetic`);
    }
  }
  // Open addressing with linear probing; slot holds real row + 1 (0 = empty).
  let cap = 1;
  while (cap < 2 * r.nRows) cap <<= 1;
  const slots = new Int32Array(cap);
  const hashes = new Uint32Array(cap);
  const m = cap - 1;
  for (let i = 0; i < r.nRows; i++) {
    const h = rowHash(realCodes, i);
    let p = h & m;
    let dup = false;
    while (slots[p] !== 0) {
      if (hashes[p] === h && rowsEqual(realCodes, slots[p] - 1, realCodes, i)) {
        dup = true;
        break;
      }
      p = (p + 1) & m;
    }
    if (dup) continue;
    slots[p] = i + 1;
    hashes[p] = h;
  }
  next: for (let i = 0; i < s.nRows; i++) {
    for (let j = 0; j < k; j++) {
      if (synCodes[j] instanceof Int32Array && synCodes[j][i] === -2) continue next;
    }
    const h = rowHash(synCodes, i);
    let p = h & m;
    while (slots[p] !== 0) {
      if (hashes[p] === h && rowsEqual(realCodes, slots[p] - 1, synCodes, i)) {
        mask[i] = 1;
        break;
      }
      p = (p + 1) & m;
    }
  }
  return mask;
}

function mapCodes(col: CodedColumn, realLevels: readonly string[]): Int32Array {
  const index = new Map<string, number>();
  for (let i = 0; i < realLevels.length; i++) index.set(realLevels[i], i);
  const map = new Int32Array(col.levels.length);
  for (let c = 0; c < col.levels.length; c++) map[c] = index.get(col.levels[c]) ?? -2;
  const out = new Int32Array(col.codes.length);
  for (let i = 0; i < out.length; i++) out[i] = col.codes[i] < 0 ? -1 : map[col.codes[i]];
  return out;
}

// Scratch view for hashing a double's bits without allocating per value.
const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);

// FNV-1a-style mix of 32-bit words with a murmur3 finaliser; −0 hashes as 0 and every NaN alike.
function rowHash(cols: ReadonlyArray<Int32Array | Float64Array>, i: number): number {
  let h = 0x811c9dc5;
  for (let j = 0; j < cols.length; j++) {
    const c = cols[j];
    if (c instanceof Int32Array) {
      h = Math.imul(h ^ c[i], 0x01000193);
    } else {
      const v = c[i];
      F64[0] = v !== v ? Number.NaN : v === 0 ? 0 : v;
      h = Math.imul(h ^ U32[0], 0x01000193);
      h = Math.imul(h ^ U32[1], 0x01000193);
    }
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function rowsEqual(
  a: ReadonlyArray<Int32Array | Float64Array>,
  i: number,
  b: ReadonlyArray<Int32Array | Float64Array>,
  j: number,
): boolean {
  for (let c = 0; c < a.length; c++) {
    const x = a[c][i];
    const y = b[c][j];
    if (x !== y && !(x !== x && y !== y)) return false;
  }
  return true;
}
