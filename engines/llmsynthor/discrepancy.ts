/**
 * LLMSynthor's attributable discrepancy (LLMSynthor paper, Algorithm 1 and appendix C.1; docs/papers.md): frequency tables of the
 * real and synthetic data on one shared discretisation, and the directed difference real − synthetic per cell.
 *
 * Choices where the paper is silent or vague (what its users would expect):
 * - Main bins are numpy linear quantiles of the REAL non-missing values at linspace(0, 1, B+1) (pandas qcut);
 *   repeated quantiles (ties) are merged, so a column may get fewer than B bins; a constant column gets one
 *   bin [c, c]. Bins are [lo, hi) except the last, which is [lo, hi].
 * - Values outside the real range cannot fall into a real quantile bin: they get their own cells below the
 *   real minimum and above the real maximum, so the LLM is told that synthetic went out of range.
 * - Missing is a cell of its own (categorical and numeric); proportions are over all rows of each table, so
 *   every table sums to 1. An empty table has all proportions 0.
 * - The sub-bin split: the paper's rule (default `splitBy: "positive"`) splits the main bin with the largest
 *   real − synthetic, i.e. the most under-generated one: the pool only grows, so only an under-filled bin can
 *   be fixed by new proposals. `splitBy: "absolute"` splits the largest |real − synthetic| instead (also an
 *   over-filled bin). Only bins with hi > lo can be split; no split when no bin qualifies. Sub-bin proportions are over the whole table,
 *   so they sum to the parent's proportion (the paper's normalisation). TVD is over the main cells; the
 *   sub-bins refine attribution, they do not change the score, so scores stay comparable across iterations.
 * - Joint tables bin numeric columns with the main bins only (sub-bins would multiply the cell count).
 * - The paper calls the marginal discrepancy both "TVD" and "maximum absolute difference": both are reported.
 * - id columns are skipped by marginalDiscrepancy (every value is its own category).
 */
import { getColumn, isNumeric } from "../../data/build.ts";
import type { CodedColumn, Column, NumericColumn, Table } from "../../data/types.ts";
import { digitize, dropNaN, linspace01, quantileSorted, sortedCopy } from "../../stats/primitives/binning.ts";
import { recode, sortedUnionLevels } from "../../stats/primitives/categories.ts";

export const MISSING_LABEL = "(missing)";

/** What one column contributes to a cell: a category, a numeric range (null bound = unbounded), or missing. */
export type CellPart =
  | { kind: "category"; value: string }
  | { kind: "range"; lo: number | null; hi: number | null; loClosed: boolean; hiClosed: boolean }
  | { kind: "missing" };

export interface DiscrepancyCell {
  columns: string[];
  labels: string[];
  parts: CellPart[];
  /** Proportion of real rows in the cell. */
  real: number;
  /** Proportion of synthetic rows in the cell. */
  synthetic: number;
  /** real − synthetic: positive = synthetic has too few rows here. */
  diff: number;
}

export interface SubBinSplit {
  /** The main bin that was split. */
  parent: DiscrepancyCell;
  /** Its uniform sub-bins, worst first; their proportions sum to the parent's. */
  cells: DiscrepancyCell[];
}

export interface MarginalDiscrepancy {
  column: string;
  kind: "numeric" | "categorical";
  /** ½ Σ |diff| over the main cells. */
  tvd: number;
  maxAbsDiff: number;
  /** Cells observed in either table, worst (largest |diff|) first. */
  cells: DiscrepancyCell[];
  /** numeric only: distinct real quantile edges. */
  edges?: number[];
  /** numeric only: the sub-bin refinement of the worst main bin. */
  split?: SubBinSplit;
}

export interface JointDiscrepancy {
  columns: string[];
  tvd: number;
  maxAbsDiff: number;
  cells: DiscrepancyCell[];
}

export interface DiscrepancyOptions {
  /** Quantile main bins per numeric column (paper default 6). */
  mainBins?: number;
  /** Uniform sub-bins of the split main bin (paper default 8). */
  subBins?: number;
  /** Which main bin to split: largest real − synthetic (default, the paper's) or largest |diff|. */
  splitBy?: "absolute" | "positive";
}

const DEFAULTS = { mainBins: 6, subBins: 8, splitBy: "positive" } as const;

/** Distinct numpy linear quantiles of the non-missing values at linspace(0, 1, bins+1); empty if no values. */
export function quantileEdges(values: Float64Array, bins: number = DEFAULTS.mainBins): Float64Array {
  const sorted = sortedCopy(dropNaN(values));
  if (sorted.length === 0) return new Float64Array(0);
  const qs = linspace01(bins + 1);
  const out: number[] = [];
  for (let k = 0; k < qs.length; k++) {
    const q = quantileSorted(sorted, qs[k]);
    if (out.length === 0 || q > out[out.length - 1]) out.push(q);
  }
  return Float64Array.from(out);
}

/** numpy.linspace(lo, hi, parts + 1): lo + j·step, with the last edge exactly hi. */
export function uniformEdges(lo: number, hi: number, parts: number): Float64Array {
  const edges = new Float64Array(parts + 1);
  const step = (hi - lo) / parts;
  for (let j = 0; j < parts; j++) edges[j] = lo + j * step;
  edges[parts] = hi;
  return edges;
}

/**
 * Cell index of a numeric value on distinct edges E (length L ≥ 1): 0 = below E[0], 1..B = main bins
 * (B = max(L−1, 1)), B+1 = above E[L−1], B+2 = missing.
 */
export function numericCell(v: number, edges: Float64Array): number {
  const l = edges.length;
  const b = Math.max(l - 1, 1);
  if (Number.isNaN(v)) return b + 2;
  if (l === 0) return 1;
  if (v < edges[0]) return 0;
  if (v > edges[l - 1]) return b + 1;
  if (v === edges[l - 1]) return b;
  return digitize(v, edges);
}

/** A column discretised identically in both tables. */
interface Discretised {
  readonly name: string;
  readonly kind: "numeric" | "categorical";
  readonly size: number;
  readonly real: Int32Array;
  readonly synthetic: Int32Array;
  readonly parts: CellPart[];
  readonly labels: string[];
  /** numeric only: the column kind (for label formatting) and its distinct real quantile edges. */
  readonly numericKind?: NumericColumn["kind"];
  readonly edges?: Float64Array;
}

function discretiseNumeric(real: NumericColumn, synthetic: NumericColumn, mainBins: number): Discretised {
  const edges = quantileEdges(real.values, mainBins);
  const l = edges.length;
  const b = Math.max(l - 1, 1);
  const fmt = edgeFormatter(real.kind, edges);
  const parts: CellPart[] = [];
  const labels: string[] = [];
  const range = (
    lo: number | null,
    hi: number | null,
    loClosed: boolean,
    hiClosed: boolean,
    label: string,
  ) => {
    parts.push({ kind: "range", lo, hi, loClosed, hiClosed });
    labels.push(label);
  };
  if (l === 0) {
    // No real values: one unbounded bin, with empty below/above cells to keep numericCell's layout.
    range(null, null, false, false, "(-inf, +inf)");
    range(null, null, false, false, "(-inf, +inf)");
    range(null, null, false, false, "(-inf, +inf)");
  } else {
    range(null, edges[0], false, false, `(-inf, ${fmt(edges[0])})`);
    if (l === 1) range(edges[0], edges[0], true, true, `[${fmt(edges[0])}, ${fmt(edges[0])}]`);
    for (let k = 0; k < l - 1; k++) {
      const last = k === l - 2;
      range(edges[k], edges[k + 1], true, last, `[${fmt(edges[k])}, ${fmt(edges[k + 1])}${last ? "]" : ")"}`);
    }
    range(edges[l - 1], null, false, false, `(${fmt(edges[l - 1])}, +inf)`);
  }
  parts.push({ kind: "missing" });
  labels.push(MISSING_LABEL);
  const code = (v: Float64Array): Int32Array => {
    const out = new Int32Array(v.length);
    for (let i = 0; i < v.length; i++) out[i] = numericCell(v[i], edges);
    return out;
  };
  return {
    name: real.name,
    kind: "numeric",
    size: b + 3,
    real: code(real.values),
    synthetic: code(synthetic.values),
    parts,
    labels,
    numericKind: real.kind,
    edges,
  };
}

function discretiseCoded(real: CodedColumn, synthetic: CodedColumn): Discretised {
  const levels = sortedUnionLevels(real, synthetic);
  const k = levels.length;
  const fix = (codes: Int32Array): Int32Array => {
    for (let i = 0; i < codes.length; i++) if (codes[i] < 0) codes[i] = k;
    return codes;
  };
  const parts: CellPart[] = levels.map((value) => ({ kind: "category", value }));
  parts.push({ kind: "missing" });
  return {
    name: real.name,
    kind: "categorical",
    size: k + 1,
    real: fix(recode(real, levels)),
    synthetic: fix(recode(synthetic, levels)),
    parts,
    labels: [...levels, MISSING_LABEL],
  };
}

function discretise(real: Column, synthetic: Column, mainBins: number): Discretised {
  if (isNumeric(real) && isNumeric(synthetic)) return discretiseNumeric(real, synthetic, mainBins);
  if (!isNumeric(real) && !isNumeric(synthetic)) return discretiseCoded(real, synthetic);
  throw new Error(`column "${real.name}" is ${real.kind} in real but ${synthetic.kind} in synthetic`);
}

function counts(codes: Int32Array, size: number): Float64Array {
  const out = new Float64Array(size);
  for (let i = 0; i < codes.length; i++) out[codes[i]]++;
  return out;
}

function proportion(count: number, n: number): number {
  return n === 0 ? 0 : count / n;
}

/** Worst first: largest |diff|; ties keep table order (Array.prototype.sort is stable). */
function rank(cells: DiscrepancyCell[]): DiscrepancyCell[] {
  return cells.sort((a, b) => Math.abs(b.diff) - Math.abs(a.diff));
}

// TVD = ½ Σ_c |p_R(c) − p_S(c)|, max = max_c |p_R(c) − p_S(c)| (LLMSynthor appendix C.1).
function summarise(cells: readonly DiscrepancyCell[]): { tvd: number; maxAbsDiff: number } {
  let sum = 0;
  let max = 0;
  for (const c of cells) {
    const d = Math.abs(c.diff);
    sum += d;
    if (d > max) max = d;
  }
  return { tvd: sum / 2, maxAbsDiff: max };
}

function cell(columns: string[], labels: string[], parts: CellPart[], real: number, synthetic: number) {
  return { columns, labels, parts, real, synthetic, diff: real - synthetic };
}

function splitBin(
  d: Discretised,
  realValues: Float64Array,
  synValues: Float64Array,
  main: DiscrepancyCell[],
  nr: number,
  ns: number,
  subBins: number,
  splitBy: "absolute" | "positive",
): SubBinSplit | undefined {
  let best = -1;
  let bestScore = 0;
  for (let k = 1; k < d.size - 2; k++) {
    const part = d.parts[k];
    if (part.kind !== "range" || part.lo === null || part.hi === null || !(part.hi > part.lo)) continue;
    const diff = main[k].diff;
    const score = splitBy === "absolute" ? Math.abs(diff) : diff;
    if (score > bestScore) {
      bestScore = score;
      best = k;
    }
  }
  if (best < 0) return undefined;
  const parent = d.parts[best];
  if (parent.kind !== "range" || parent.lo === null || parent.hi === null) return undefined;
  const sub = uniformEdges(parent.lo, parent.hi, subBins);
  const fmt = edgeFormatter(d.numericKind ?? "numerical", sub);
  const countSub = (values: Float64Array, codes: Int32Array): Float64Array => {
    const out = new Float64Array(subBins);
    for (let i = 0; i < values.length; i++) {
      if (codes[i] !== best) continue;
      const j = Math.min(Math.max(digitize(values[i], sub) - 1, 0), subBins - 1);
      out[j]++;
    }
    return out;
  };
  const cr = countSub(realValues, d.real);
  const cs = countSub(synValues, d.synthetic);
  const cells: DiscrepancyCell[] = [];
  for (let j = 0; j < subBins; j++) {
    if (cr[j] === 0 && cs[j] === 0) continue;
    const hiClosed = j === subBins - 1 && parent.hiClosed;
    cells.push(
      cell(
        [d.name],
        [`[${fmt(sub[j])}, ${fmt(sub[j + 1])}${hiClosed ? "]" : ")"}`],
        [{ kind: "range", lo: sub[j], hi: sub[j + 1], loClosed: true, hiClosed }],
        proportion(cr[j], nr),
        proportion(cs[j], ns),
      ),
    );
  }
  return { parent: main[best], cells: rank(cells) };
}

function marginalOf(
  real: Column,
  synthetic: Column,
  nr: number,
  ns: number,
  o: Required<DiscrepancyOptions>,
) {
  const d = discretise(real, synthetic, o.mainBins);
  const cr = counts(d.real, d.size);
  const cs = counts(d.synthetic, d.size);
  const main: DiscrepancyCell[] = [];
  for (let k = 0; k < d.size; k++) {
    main.push(cell([d.name], [d.labels[k]], [d.parts[k]], proportion(cr[k], nr), proportion(cs[k], ns)));
  }
  const out: MarginalDiscrepancy = {
    column: d.name,
    kind: d.kind,
    ...summarise(main),
    cells: [],
  };
  if (isNumeric(real) && isNumeric(synthetic) && d.edges) {
    out.edges = Array.from(d.edges);
    const split = splitBin(d, real.values, synthetic.values, main, nr, ns, o.subBins, o.splitBy);
    if (split) out.split = split;
  }
  out.cells = rank(main.filter((_, k) => cr[k] > 0 || cs[k] > 0));
  return out;
}

function options(opts: DiscrepancyOptions | undefined): Required<DiscrepancyOptions> {
  const o = { ...DEFAULTS, ...opts };
  if (!Number.isInteger(o.mainBins) || o.mainBins < 1)
    throw new RangeError(`mainBins must be ≥ 1, got ${o.mainBins}`);
  if (!Number.isInteger(o.subBins) || o.subBins < 1)
    throw new RangeError(`subBins must be ≥ 1, got ${o.subBins}`);
  return o;
}

/** Per column of real (schema order, id columns skipped): TVD and the ranked real − synthetic cells. */
export function marginalDiscrepancy(
  real: Table,
  synthetic: Table,
  opts?: DiscrepancyOptions,
): MarginalDiscrepancy[] {
  const o = options(opts);
  return real.columns
    .filter((c) => c.kind !== "id")
    .map((c) => marginalOf(c, getColumn(synthetic, c.name), real.nRows, synthetic.nRows, o));
}

/** Joint contingency table over a group of 2+ columns (numeric on real quantile main bins), ranked cells. */
export function jointDiscrepancy(
  real: Table,
  synthetic: Table,
  group: readonly string[],
  opts?: DiscrepancyOptions,
): JointDiscrepancy {
  const o = options(opts);
  if (group.length < 2 || new Set(group).size !== group.length) {
    throw new RangeError(`a joint group needs 2 or more distinct columns, got [${group.join(", ")}]`);
  }
  const ds = group.map((name) => discretise(getColumn(real, name), getColumn(synthetic, name), o.mainBins));
  let cellsTotal = 1;
  for (const d of ds) cellsTotal *= d.size;
  if (cellsTotal > Number.MAX_SAFE_INTEGER) {
    throw new RangeError(`joint table over [${group.join(", ")}] has too many cells (${cellsTotal})`);
  }
  // Mixed-radix key, first column most significant, so ascending keys follow each column's cell order.
  const keyOf = (which: "real" | "synthetic", i: number): number => {
    let key = 0;
    for (const d of ds) key = key * d.size + d[which][i];
    return key;
  };
  const table = new Map<number, [number, number]>();
  for (let i = 0; i < real.nRows; i++) {
    const key = keyOf("real", i);
    const e = table.get(key);
    if (e) e[0]++;
    else table.set(key, [1, 0]);
  }
  for (let i = 0; i < synthetic.nRows; i++) {
    const key = keyOf("synthetic", i);
    const e = table.get(key);
    if (e) e[1]++;
    else table.set(key, [0, 1]);
  }
  const columns = [...group];
  const cells: DiscrepancyCell[] = [];
  for (const key of [...table.keys()].sort((a, b) => a - b)) {
    const [cr, cs] = table.get(key) ?? [0, 0];
    const idx = new Array<number>(ds.length);
    let rest = key;
    for (let j = ds.length - 1; j >= 0; j--) {
      idx[j] = rest % ds[j].size;
      rest = Math.floor(rest / ds[j].size);
    }
    cells.push(
      cell(
        columns,
        idx.map((k, j) => ds[j].labels[k]),
        idx.map((k, j) => ds[j].parts[k]),
        proportion(cr, real.nRows),
        proportion(cs, synthetic.nRows),
      ),
    );
  }
  return { columns, ...summarise(cells), cells: rank(cells) };
}

/**
 * A formatter for the edges of one column: integers as-is, other numbers with the fewest significant digits
 * (3..15) that keep adjacent edges distinct; datetimes (epoch ms) as ISO dates, with time only when needed.
 */
export function edgeFormatter(kind: NumericColumn["kind"], edges: Float64Array): (x: number) => string {
  if (kind === "datetime") {
    let dateOnly = true;
    for (let i = 0; i < edges.length; i++) if (edges[i] % 86_400_000 !== 0) dateOnly = false;
    return (x) => {
      const iso = new Date(x).toISOString();
      return dateOnly ? iso.slice(0, 10) : iso.replace(".000Z", "Z");
    };
  }
  for (let digits = 3; digits < 15; digits++) {
    let distinct = true;
    for (let i = 1; i < edges.length && distinct; i++) {
      if (
        edges[i] !== edges[i - 1] &&
        formatNumber(edges[i], digits) === formatNumber(edges[i - 1], digits)
      ) {
        distinct = false;
      }
    }
    if (distinct) return (x) => formatNumber(x, digits);
  }
  return (x) => String(x);
}

/** x rounded to `digits` significant digits, shortest decimal form ("12.5", "0.00123", "1200"). */
export function formatNumber(x: number, digits: number): string {
  if (Number.isInteger(x)) return String(x);
  return String(Number(x.toPrecision(digits)));
}
