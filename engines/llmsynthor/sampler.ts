/**
 * Draws the rows of validated LLMSynthor proposals (LLMSynthor paper, §3.4 and appendix E: "values can be sampled
 * uniformly"; docs/papers.md) into a columnar table shaped by the metadata: columns in metadata order, coded columns with the
 * metadata's level order (booleans "false", "true"), so the table lines up with the real one.
 *
 * - category: fixed; missing: NaN / code −1; range: uniform in [min, max] — over the integers for integer
 *   columns, over the multiples of 10^−decimals for float columns with learned decimals (so values are written
 *   as the real data writes them), over whole days for date columns, over whole milliseconds for date-times;
 * - marginal (a variable the proposal left out): per row, missing with the real missing share, else a level
 *   with the real level frequencies, or for numbers uniform over the real range;
 * - id columns get consecutive ids `idStart`, `idStart + 1`, … (so pools from several iterations stay unique).
 * Each proposal draws from its own stream (rng.fork(index)), so its rows do not depend on the others; rows are
 * then shuffled (another stream) so the proposals do not sit in blocks.
 */
import { roundTo } from "../../data/cells.ts";
import type { CodedColumn, Column, ColumnMeta, Metadata, NumericColumn, Table } from "../../data/types.ts";
import { gridOf, levelsOf, type Proposal, type ProposalPart } from "./proposals.ts";
import { createRng, permutation, type Rng } from "../../stats/primitives/rng.ts";

export interface SampleOptions {
  /** Shuffle the rows (default true). */
  shuffle?: boolean;
  /** First id of id columns (default 1). */
  idStart?: number;
}

// x ~ U[lo, hi] on the grid g (g = 0: continuous): lo' + g·⌊U·(n)⌋ with n grid points, else lo + U·(hi − lo).
function drawRange(rng: Rng, lo: number, hi: number, g: number): number {
  if (g > 0) {
    const a = Math.ceil(lo / g);
    const b = Math.floor(hi / g);
    if (a > b) return Math.round((lo + hi) / 2 / g) * g;
    return (a + rng.int(b - a + 1)) * g;
  }
  return hi > lo ? lo + rng.next() * (hi - lo) : lo;
}

// Beyond 2^52 grid points a draw of k is no finer than a continuous draw; rounding that is enough.
const MAX_GRID_INDEX = 2 ** 52;

/** Real range and decimal grid (f = 10^d) of a float column with learned decimals. */
interface DecimalGrid {
  readonly d: number;
  readonly f: number;
  readonly realLo: number;
  readonly realHi: number;
}

// x = k/10^d, k ~ U{⌈lo·10^d⌉ … ⌊hi·10^d⌋}; none inside → the grid point nearest the midpoint; then clamped to the real range.
function drawDecimal(rng: Rng, lo: number, hi: number, grid: DecimalGrid): number {
  const { d, f, realLo, realHi } = grid;
  let x: number;
  if (Math.max(Math.abs(lo), Math.abs(hi)) * f >= MAX_GRID_INDEX) x = roundTo(drawRange(rng, lo, hi, 0), d);
  else {
    // k/f is the double nearest the decimal k·10^−d, so compare it, not k, with the bounds.
    let a = Math.round(lo * f);
    if (a / f < lo) a++;
    let b = Math.round(hi * f);
    if (b / f > hi) b--;
    x = a <= b ? (a + rng.int(b - a + 1)) / f : roundTo((lo + hi) / 2, d);
  }
  // The real min and max have at most d decimals, so clamping keeps x on the grid.
  return x < realLo ? realLo : x > realHi ? realHi : x;
}

/** Cumulative level shares with missing first: [P(missing), P(missing)+p₀, …]; the last entry is 1. */
function marginalCdf(c: ColumnMeta, levels: readonly string[]): Float64Array {
  const counts = new Float64Array(levels.length);
  let total = 0;
  for (const l of c.levels ?? []) {
    const k = levels.indexOf(l.value);
    if (k >= 0) {
      counts[k] += l.count;
      total += l.count;
    }
  }
  const miss = total > 0 ? c.missingRate : 1;
  const cdf = new Float64Array(levels.length + 1);
  cdf[0] = miss;
  for (let k = 0; k < levels.length; k++)
    cdf[k + 1] = cdf[k] + (total > 0 ? ((1 - miss) * counts[k]) / total : 0);
  cdf[levels.length] = 1;
  return cdf;
}

function fillCoded(
  codes: Int32Array,
  from: number,
  n: number,
  part: ProposalPart,
  c: ColumnMeta,
  levels: readonly string[],
  rng: Rng,
): void {
  if (part.kind === "category") {
    const k = levels.indexOf(part.value);
    if (k < 0)
      throw new Error(
        `column "${c.name}" has no level ${JSON.stringify(part.value)}: validate proposals first`,
      );
    codes.fill(k, from, from + n);
  } else if (part.kind === "missing") {
    codes.fill(-1, from, from + n);
  } else if (part.kind === "marginal") {
    const cdf = marginalCdf(c, levels);
    for (let i = from; i < from + n; i++) {
      const u = rng.next();
      let k = 0;
      while (k < cdf.length - 1 && u >= cdf[k]) k++;
      codes[i] = k - 1;
    }
  } else {
    throw new Error(`column "${c.name}" is categorical but the proposal gives a range`);
  }
}

/** How a numeric column draws from [lo, hi]: on its decimal grid for floats with learned decimals. */
function drawer(c: ColumnMeta, g: number): (rng: Rng, lo: number, hi: number) => number {
  const d = c.decimals;
  if (c.sdtype !== "numerical" || g > 0 || d === undefined) return (rng, lo, hi) => drawRange(rng, lo, hi, g);
  const grid: DecimalGrid = { d, f: 10 ** d, realLo: c.min ?? -Infinity, realHi: c.max ?? Infinity };
  return (rng, lo, hi) => drawDecimal(rng, lo, hi, grid);
}

function fillNumeric(
  values: Float64Array,
  from: number,
  n: number,
  part: ProposalPart,
  c: ColumnMeta,
  rng: Rng,
): void {
  const g = gridOf(c);
  const draw = drawer(c, g);
  if (part.kind === "range") {
    for (let i = from; i < from + n; i++) values[i] = draw(rng, part.min, part.max);
  } else if (part.kind === "missing") {
    values.fill(Number.NaN, from, from + n);
  } else if (part.kind === "marginal") {
    const lo = c.min;
    const hi = c.max;
    for (let i = from; i < from + n; i++) {
      values[i] =
        lo === undefined || hi === undefined || rng.next() < c.missingRate ? Number.NaN : draw(rng, lo, hi);
    }
  } else {
    throw new Error(`column "${c.name}" is numeric but the proposal gives a category`);
  }
}

/** The rows of every proposal (count each), as a table in the metadata's column and level order. */
export function sampleProposals(
  proposals: readonly Proposal[],
  metadata: Metadata,
  seed: number,
  opts: SampleOptions = {},
): Table {
  let n = 0;
  for (const p of proposals) {
    if (!Number.isInteger(p.count) || p.count < 0)
      throw new RangeError(`proposal count must be an integer ≥ 0, got ${p.count}`);
    n += p.count;
  }
  const root = createRng(seed);
  const cols = metadata.columns;
  const levels = cols.map((c) => levelsOf(c));
  const numeric = cols.map((c) =>
    c.sdtype === "numerical" || c.sdtype === "datetime" ? new Float64Array(n) : null,
  );
  const coded = cols.map((_, j) => (numeric[j] === null ? new Int32Array(n) : null));
  let from = 0;
  proposals.forEach((p, pi) => {
    const rng = root.fork(pi);
    cols.forEach((c, j) => {
      if (c.sdtype === "id") return;
      const part = p.parts[c.name];
      if (part === undefined)
        throw new Error(`proposal ${pi} has no part for column "${c.name}": validate proposals first`);
      const num = numeric[j];
      const cod = coded[j];
      if (num) fillNumeric(num, from, p.count, part, c, rng);
      else if (cod) fillCoded(cod, from, p.count, part, c, levels[j], rng);
    });
    from += p.count;
  });
  const order = opts.shuffle === false ? null : permutation(n, root.fork(proposals.length));
  const idStart = opts.idStart ?? 1;
  const columns: Column[] = cols.map((c, j) => {
    const num = numeric[j];
    if (num) {
      const values = order ? num.map((_, i) => num[order[i]]) : num;
      const kind: NumericColumn["kind"] = c.sdtype === "datetime" ? "datetime" : "numerical";
      return { kind, name: c.name, values };
    }
    const cod = coded[j] as Int32Array;
    if (c.sdtype === "id") {
      const ids = new Array<string>(n);
      for (let i = 0; i < n; i++) {
        ids[i] = String(idStart + i);
        cod[i] = i;
      }
      return { kind: "id", name: c.name, codes: cod, levels: ids } satisfies CodedColumn;
    }
    const codes = order ? cod.map((_, i) => cod[order[i]]) : cod;
    const kind: CodedColumn["kind"] = c.sdtype === "boolean" ? "boolean" : "categorical";
    return { kind, name: c.name, codes, levels: levels[j] };
  });
  return { nRows: n, columns };
}
