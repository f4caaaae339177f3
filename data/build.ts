/**
 * Builds typed columns from raw cell values once their semantic type is known. Shared by the CSV/JSONL
 * readers, the fixture loader and the LLM-row path so that every table is coded the same way.
 */
import type { CodedColumn, Column, NumericColumn, SdType, Table } from "./types.ts";

export type RawCell = string | number | boolean | null | undefined;

/** A numeric column from numbers (NaN, null or undefined = missing). */
export function numericColumn(
  name: string,
  values: ArrayLike<number | null | undefined>,
  kind: "numerical" | "datetime" = "numerical",
): NumericColumn {
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    out[i] = v === null || v === undefined ? Number.NaN : v;
  }
  return { kind, name, values: out };
}

/**
 * A coded column from strings (null/undefined = missing). Levels are in first-appearance order.
 * Booleans always get levels ["false", "true"] so codes mean the same thing in every table.
 */
export function codedColumn(
  name: string,
  values: ArrayLike<RawCell>,
  kind: "categorical" | "boolean" | "id" = "categorical",
  fixedLevels?: readonly string[],
): CodedColumn {
  const levels: string[] = fixedLevels ? [...fixedLevels] : kind === "boolean" ? ["false", "true"] : [];
  const index = new Map<string, number>();
  levels.forEach((l, i) => index.set(l, i));
  const codes = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined) {
      codes[i] = -1;
      continue;
    }
    const key = String(v);
    let code = index.get(key);
    if (code === undefined) {
      code = levels.length;
      levels.push(key);
      index.set(key, code);
    }
    codes[i] = code;
  }
  return { kind, name, codes, levels };
}

/** A column of the given semantic type from raw cells that are already parsed (numbers for numeric types). */
export function columnOf(name: string, sdtype: SdType, values: ArrayLike<RawCell>): Column {
  if (sdtype === "numerical" || sdtype === "datetime") {
    const nums = new Float64Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      nums[i] = typeof v === "number" ? v : Number.NaN;
    }
    return { kind: sdtype, name, values: nums };
  }
  return codedColumn(name, values, sdtype);
}

/** A table from columns, checking that all have the same length. */
export function tableOf(columns: readonly Column[]): Table {
  const nRows = columns.length === 0 ? 0 : columnLength(columns[0]);
  for (const c of columns) {
    if (columnLength(c) !== nRows) {
      throw new Error(`column "${c.name}" has ${columnLength(c)} values, expected ${nRows}`);
    }
  }
  return { nRows, columns };
}

export function columnLength(c: Column): number {
  return isNumeric(c) ? c.values.length : c.codes.length;
}

/** Finds a column by name or throws an error that lists the available columns. */
export function getColumn(table: Table, name: string): Column {
  const c = table.columns.find((col) => col.name === name);
  if (!c) {
    throw new Error(`no column "${name}"; columns are: ${table.columns.map((x) => x.name).join(", ")}`);
  }
  return c;
}

export function isNumeric(c: Column): c is NumericColumn {
  return c.kind === "numerical" || c.kind === "datetime";
}

/**
 * The same column coded against `levels`, in that order; values absent from `levels` are appended in the
 * column's own level order (so no value is lost) and unused entries of `levels` are kept.
 */
export function recodeColumn(col: CodedColumn, levels: readonly string[]): CodedColumn {
  const out = [...levels];
  const index = new Map<string, number>();
  for (let k = 0; k < out.length; k++) index.set(out[k], k);
  const map = new Int32Array(col.levels.length);
  for (let k = 0; k < col.levels.length; k++) {
    let code = index.get(col.levels[k]);
    if (code === undefined) {
      code = out.length;
      out.push(col.levels[k]);
      index.set(col.levels[k], code);
    }
    map[k] = code;
  }
  const codes = new Int32Array(col.codes.length);
  for (let i = 0; i < codes.length; i++) codes[i] = col.codes[i] < 0 ? -1 : map[col.codes[i]];
  return { kind: col.kind, name: col.name, codes, levels: out };
}

/** The rows `rows` of a table (in that order, repeats allowed), every column copied into fresh typed arrays. */
export function takeTableRows(t: Table, rows: ArrayLike<number>): Table {
  const n = rows.length;
  const columns = t.columns.map((c): Column => {
    if (isNumeric(c)) {
      const values = new Float64Array(n);
      for (let k = 0; k < n; k++) values[k] = c.values[rows[k]];
      return { kind: c.kind, name: c.name, values };
    }
    const codes = new Int32Array(n);
    for (let k = 0; k < n; k++) codes[k] = c.codes[rows[k]];
    return { kind: c.kind, name: c.name, codes, levels: c.levels };
  });
  return { nRows: n, columns };
}
