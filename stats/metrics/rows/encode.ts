/**
 * Row encodings for the row-level metrics (docs/metrics.md §3.0): tables become row-major Float64Array
 * matrices (numerical block first, then one-hot blocks, each block in the fitting table's schema order).
 * Columns of the other tables are matched to the fitting table by name; `id` columns are left out
 * because an identifier never matches between tables and would only add a constant to every distance.
 */
import { isNumeric } from "../../../data/build.ts";
import type { CodedColumn, Column, NumericColumn, Table } from "../../../data/types.ts";
import { compareCodePoints, recode, sortedUnionLevels, usedLevels } from "../../primitives/categories.ts";

/** A row-major matrix: entry (i, j) is data[i·cols + j]. */
export interface Matrix {
  readonly data: Float64Array;
  readonly rows: number;
  readonly cols: number;
}

/** One-hot layout of a categorical column fitted on one table: sorted levels, then missing if it occurred. */
export interface OneHotSpec {
  readonly levels: readonly string[];
  readonly missing: boolean;
}

/** Numerical and categorical columns of a table that take part in row-level metrics, in schema order. */
export interface RowColumns {
  readonly numeric: readonly NumericColumn[];
  readonly coded: readonly CodedColumn[];
}

export function rowColumns(t: Table): RowColumns {
  const numeric: NumericColumn[] = [];
  const coded: CodedColumn[] = [];
  for (const c of t.columns) {
    if (isNumeric(c)) numeric.push(c);
    else if (c.kind !== "id") coded.push(c);
  }
  return { numeric, coded };
}

/** The column of `t` named like `like`, with the same numeric/coded kind. */
export function matchColumn<C extends Column>(t: Table, like: C): C {
  const c = t.columns.find((x) => x.name === like.name);
  if (!c) throw new Error(`row-level metrics: column "${like.name}" is missing from one of the tables`);
  if (isNumeric(c) !== isNumeric(like)) {
    throw new Error(
      `row-level metrics: column "${like.name}" is numeric in one table and categorical in another`,
    );
  }
  return c as C;
}

// mean = Σx/n over non-missing values, summed in row order (numpy mean over axis 0 of a C-ordered frame).
export function columnMean(values: Float64Array): number {
  let s = 0;
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isNaN(v)) {
      s += v;
      n++;
    }
  }
  return n === 0 ? Number.NaN : s / n;
}

/** [min, max] over non-missing values ([NaN, NaN] when there are none). */
export function columnRange(values: Float64Array): [number, number] {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo > hi ? [Number.NaN, Number.NaN] : [lo, hi];
}

// categories_ = sorted distinct non-missing values by code point, NaN last if seen (sklearn OneHotEncoder).
export function oneHotSpec(fit: CodedColumn): OneHotSpec {
  let missing = false;
  for (let i = 0; i < fit.codes.length; i++) {
    if (fit.codes[i] < 0) {
      missing = true;
      break;
    }
  }
  return { levels: usedLevels(fit).sort(compareCodePoints), missing };
}

export function oneHotWidth(spec: OneHotSpec): number {
  return spec.levels.length + (spec.missing ? 1 : 0);
}

/**
 * Writes the one-hot block of `col` into row-major `out` at column `offset` (row stride `stride`).
 * Missing goes to the last slot when the spec has one; unseen categories (and missing without a slot)
 * leave the block all zero (sklearn handle_unknown="ignore"). `out` must be zero there beforehand.
 */
export function writeOneHot(
  col: CodedColumn,
  spec: OneHotSpec,
  out: Float64Array,
  stride: number,
  offset: number,
): void {
  const codes = recode(col, spec.levels);
  const missingSlot = spec.missing ? spec.levels.length : -1;
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i];
    const slot = c >= 0 ? c : c === -1 ? missingSlot : -1;
    if (slot >= 0) out[i * stride + offset + slot] = 1;
  }
}

/** Numerical block then one-hot blocks, fitted on `fit` (missing → fit mean, fit categories). ENC-SDM. */
export function encodeNumericOneHot(fit: Table, tables: readonly Table[]): Matrix[] {
  const { numeric, coded } = rowColumns(fit);
  const means = numeric.map((c) => {
    const m = columnMean(c.values);
    return Number.isNaN(m) ? 0 : m; // an all-missing fit column carries no information; 0 keeps distances finite
  });
  const specs = coded.map(oneHotSpec);
  const cols = numeric.length + specs.reduce((s, sp) => s + oneHotWidth(sp), 0);
  return tables.map((t) => {
    const data = new Float64Array(t.nRows * cols);
    numeric.forEach((fc, j) => {
      const v = matchColumn(t, fc).values;
      const m = means[j];
      for (let i = 0; i < t.nRows; i++) data[i * cols + j] = Number.isNaN(v[i]) ? m : v[i];
    });
    let offset = numeric.length;
    coded.forEach((fc, k) => {
      writeOneHot(matchColumn(t, fc), specs[k], data, cols, offset);
      offset += oneHotWidth(specs[k]);
    });
    return { data, rows: t.nRows, cols };
  });
}

// ENC-TABSYN: numerical x/(max−min of train, 1 if 0) after train-mean imputation; one-hot over train categories.
export function encodeTabsyn(train: Table, tables: readonly Table[]): Matrix[] {
  const { numeric } = rowColumns(train);
  const scale = numeric.map((c) => {
    const [lo, hi] = columnRange(c.values);
    const r = hi - lo;
    return r === 0 || Number.isNaN(r) ? 1 : r;
  });
  const out = encodeNumericOneHot(train, tables);
  for (const m of out) {
    for (let i = 0; i < m.rows; i++)
      for (let j = 0; j < scale.length; j++) m.data[i * m.cols + j] /= scale[j];
  }
  return out;
}

// ENC-OH-MINMAX: x' = (x − min_R)/range_R per encoded column, range_R < 10·eps → 1 (sklearn MinMaxScaler).
export function encodeOhMinmax(real: Table, tables: readonly Table[]): Matrix[] {
  const [fit, ...rest] = encodeNumericOneHot(real, [real, ...tables]);
  const { cols } = fit;
  const lo = new Float64Array(cols).fill(Number.POSITIVE_INFINITY);
  const hi = new Float64Array(cols).fill(Number.NEGATIVE_INFINITY);
  for (let i = 0; i < fit.rows; i++) {
    for (let j = 0; j < cols; j++) {
      const v = fit.data[i * cols + j];
      if (v < lo[j]) lo[j] = v;
      if (v > hi[j]) hi[j] = v;
    }
  }
  const range = new Float64Array(cols);
  for (let j = 0; j < cols; j++) {
    if (fit.rows === 0) lo[j] = 0;
    const r = hi[j] - lo[j];
    range[j] = fit.rows === 0 || r < 10 * Number.EPSILON ? 1 : r;
  }
  for (const m of [fit, ...rest]) {
    for (let i = 0; i < m.rows; i++) {
      for (let j = 0; j < cols; j++) m.data[i * cols + j] = (m.data[i * cols + j] - lo[j]) / range[j];
    }
  }
  return rest;
}

/** ENC-MIX (DCR §3.1): scaled numerical block plus categorical codes over the union of levels (-1 = missing). */
export interface MixEncoding {
  readonly num: Matrix;
  /** Row-major Int32 codes, `catCols` per row; equal codes = equal labels, missing is the label -1. */
  readonly cat: Int32Array;
  readonly catCols: number;
}

// ENC-MIX: numerical x/σ_j (σ_j = 1 "raw", or real max − min with 0 → 1 "minmax_real"), missing → real mean.
export function encodeMix(
  real: Table,
  tables: readonly Table[],
  scaling: "raw" | "minmax_real",
): MixEncoding[] {
  const { numeric, coded } = rowColumns(real);
  const means = numeric.map((c) => {
    const m = columnMean(c.values);
    return Number.isNaN(m) ? 0 : m;
  });
  const sigma = numeric.map((c) => {
    if (scaling === "raw") return 1;
    const [lo, hi] = columnRange(c.values);
    const r = hi - lo;
    return r === 0 || Number.isNaN(r) ? 1 : r;
  });
  const levels = coded.map((fc) => sortedUnionLevels(fc, ...tables.map((t) => matchColumn(t, fc))));
  const nNum = numeric.length;
  const nCat = coded.length;
  return tables.map((t) => {
    const num = new Float64Array(t.nRows * nNum);
    numeric.forEach((fc, j) => {
      const v = matchColumn(t, fc).values;
      for (let i = 0; i < t.nRows; i++) num[i * nNum + j] = (Number.isNaN(v[i]) ? means[j] : v[i]) / sigma[j];
    });
    const cat = new Int32Array(t.nRows * nCat);
    coded.forEach((fc, k) => {
      const codes = recode(matchColumn(t, fc), levels[k]);
      for (let i = 0; i < t.nRows; i++) cat[i * nCat + k] = codes[i];
    });
    return { num: { data: num, rows: t.nRows, cols: nNum }, cat, catCols: nCat };
  });
}

// SynLLM NNDR encoding: numerical raw with missing → the table's OWN mean; categorical → rank in the
// sorted union of real and synthetic levels, missing → K (schema order, no scaling).
export function encodeSynllm(real: Table, synthetic: Table): [Matrix, Matrix] {
  const cols = [...real.columns].filter((c) => c.kind !== "id");
  const d = cols.length;
  const levels = cols.map((c) => (isNumeric(c) ? [] : sortedUnionLevels(c, matchColumn(synthetic, c))));
  const enc = (t: Table): Matrix => {
    const data = new Float64Array(t.nRows * d);
    cols.forEach((fc, j) => {
      const c = matchColumn(t, fc);
      if (isNumeric(c)) {
        const m0 = columnMean(c.values);
        const m = Number.isNaN(m0) ? 0 : m0;
        for (let i = 0; i < t.nRows; i++) data[i * d + j] = Number.isNaN(c.values[i]) ? m : c.values[i];
      } else {
        const codes = recode(c, levels[j]);
        const k = levels[j].length;
        for (let i = 0; i < t.nRows; i++) data[i * d + j] = codes[i] < 0 ? k : codes[i];
      }
    });
    return { data, rows: t.nRows, cols: d };
  };
  return [enc(real), enc(synthetic)];
}
