/**
 * ENC-SDM (docs/metrics.md §3.0): the SDMetrics HyperTransformer encoding used by detection and TSTR.
 * Fitted on one table, applied to any table with the same column names. Built on the one-hot pieces of
 * stats/metrics/rows/encode.ts so every encoding orders and fills categories the same way.
 */
import { getColumn, isNumeric } from "../../data/build.ts";
import type { Table } from "../../data/types.ts";
import { columnMean, type OneHotSpec, oneHotSpec, oneHotWidth, writeOneHot } from "../metrics/rows/encode.ts";
import type { Dense } from "../primitives/matrix.ts";

export interface SdmEncoder {
  /** numerical and datetime columns: name and the fitting table's mean (fills missing values). */
  readonly numeric: ReadonlyArray<{ readonly name: string; readonly mean: number }>;
  /** categorical and boolean columns: name and one-hot spec (sorted levels, missing slot if it occurs). */
  readonly oneHot: ReadonlyArray<{ readonly name: string; readonly spec: OneHotSpec }>;
  /** Encoded width: numerical block, then one one-hot block per coded column. */
  readonly width: number;
}

/**
 * Fits ENC-SDM on `table`: numerical mean (0 if a column is all missing), one-hot levels in code-point order
 * with missing last when it occurs. `id` columns and the `exclude`d columns are dropped (as SDMetrics does).
 */
export function fitSdmEncoder(table: Table, exclude: readonly string[] = []): SdmEncoder {
  const numeric: Array<{ name: string; mean: number }> = [];
  const oneHot: Array<{ name: string; spec: OneHotSpec }> = [];
  for (const col of table.columns) {
    if (exclude.includes(col.name) || col.kind === "id") continue;
    if (isNumeric(col)) {
      const m = columnMean(col.values);
      numeric.push({ name: col.name, mean: Number.isNaN(m) ? 0 : m });
    } else {
      oneHot.push({ name: col.name, spec: oneHotSpec(col) });
    }
  }
  const width = oneHot.reduce((w, b) => w + oneHotWidth(b.spec), numeric.length);
  return { numeric, oneHot, width };
}

/** Encodes `table` with a fitted encoder; categories unseen at fit time (or unseen missing) give all-zero blocks. */
export function transformSdm(enc: SdmEncoder, table: Table): Dense {
  const n = table.nRows;
  const d = enc.width;
  const data = new Float64Array(n * d);
  let j = 0;
  for (const { name, mean } of enc.numeric) {
    const col = getColumn(table, name);
    if (!isNumeric(col))
      throw new Error(`column "${name}" is ${col.kind} here but numeric where the encoder was fitted`);
    for (let i = 0; i < n; i++) {
      const v = col.values[i];
      data[i * d + j] = Number.isNaN(v) ? mean : v;
    }
    j++;
  }
  for (const { name, spec } of enc.oneHot) {
    const col = getColumn(table, name);
    if (isNumeric(col))
      throw new Error(`column "${name}" is ${col.kind} here but categorical where the encoder was fitted`);
    writeOneHot(col, spec, data, d, j);
    j += oneHotWidth(spec);
  }
  return { nRows: n, nCols: d, data };
}
