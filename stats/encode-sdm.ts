/**
 * ENC-SDM (metrics.md §3.0): the SDMetrics HyperTransformer encoding used by detection and TSTR.
 * Fitted on one table, applied to any table with the same column names.
 */
import { getColumn, isNumeric } from "../data/build.ts";
import type { Table } from "../data/types.ts";
import { compareCodePoints, recode, usedLevels } from "./categories.ts";
import type { Dense } from "./logistic.ts";

export interface SdmEncoder {
  /** numerical and datetime columns: name and the fitting table's mean (fills missing values). */
  readonly numeric: ReadonlyArray<{ readonly name: string; readonly mean: number }>;
  /** categorical and boolean columns: name, sorted levels, and whether missing gets the last one-hot slot. */
  readonly oneHot: ReadonlyArray<{
    readonly name: string;
    readonly levels: readonly string[];
    readonly missing: boolean;
  }>;
  /** Encoded width: numerical block, then one one-hot block per coded column. */
  readonly width: number;
}

/**
 * Fits ENC-SDM on `table`: numerical mean (0 if a column is all missing), one-hot levels in code-point order
 * with missing last when it occurs. `id` columns and the `exclude`d columns are dropped (as SDMetrics does).
 */
export function fitSdmEncoder(table: Table, exclude: readonly string[] = []): SdmEncoder {
  const numeric: Array<{ name: string; mean: number }> = [];
  const oneHot: Array<{ name: string; levels: string[]; missing: boolean }> = [];
  for (const col of table.columns) {
    if (exclude.includes(col.name) || col.kind === "id") continue;
    if (isNumeric(col)) {
      let sum = 0;
      let n = 0;
      for (let i = 0; i < col.values.length; i++) {
        const v = col.values[i];
        if (!Number.isNaN(v)) {
          sum += v;
          n++;
        }
      }
      numeric.push({ name: col.name, mean: n === 0 ? 0 : sum / n });
    } else {
      let missing = false;
      for (let i = 0; i < col.codes.length; i++) if (col.codes[i] < 0) missing = true;
      oneHot.push({ name: col.name, levels: usedLevels(col).sort(compareCodePoints), missing });
    }
  }
  let width = numeric.length;
  for (const b of oneHot) width += b.levels.length + (b.missing ? 1 : 0);
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
  for (const { name, levels, missing } of enc.oneHot) {
    const col = getColumn(table, name);
    if (isNumeric(col))
      throw new Error(`column "${name}" is ${col.kind} here but categorical where the encoder was fitted`);
    const codes = recode(col, levels);
    for (let i = 0; i < n; i++) {
      const c = codes[i];
      if (c >= 0) data[i * d + j + c] = 1;
      else if (c === -1 && missing) data[i * d + j + levels.length] = 1;
    }
    j += levels.length + (missing ? 1 : 0);
  }
  return { nRows: n, nCols: d, data };
}
