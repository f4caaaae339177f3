/**
 * Rows (objects) at the LLM boundary <-> columnar tables. Values follow types.ts Row: numbers, booleans,
 * strings for categories and ids, ISO strings for datetimes, null for missing.
 */
import { codedColumn, isNumeric, tableOf } from "./build.ts";
import { formatIsoDatetime, parseDecimal, parseIsoDatetime } from "./cells.ts";
import { DataError } from "./errors.ts";
import type { Column, ColumnMeta, Metadata, Row, RowValue, Table } from "./types.ts";

/** One Row per table row, keys in table column order. */
export function tableToRows(table: Table, metadata: Metadata): Row[] {
  const readers = table.columns.map((c) => rowValueReader(c, metaOf(metadata, c.name)));
  const names = table.columns.map((c) => c.name);
  const rows: Row[] = new Array(table.nRows);
  for (let i = 0; i < table.nRows; i++) {
    const row: Row = {};
    for (let j = 0; j < names.length; j++) row[names[j]] = readers[j](i);
    rows[i] = row;
  }
  return rows;
}

function metaOf(metadata: Metadata, name: string): ColumnMeta | undefined {
  return metadata.columns.find((c) => c.name === name);
}

function rowValueReader(col: Column, meta: ColumnMeta | undefined): (i: number) => RowValue {
  if (isNumeric(col)) {
    const v = col.values;
    if (col.kind === "numerical") return (i) => (v[i] === v[i] ? v[i] : null);
    const format = meta?.datetimeFormat ?? "datetime";
    return (i) => (v[i] === v[i] ? formatIsoDatetime(v[i], format) : null);
  }
  const { codes, levels } = col;
  if (col.kind === "boolean") return (i) => (codes[i] < 0 ? null : levels[codes[i]] === "true");
  return (i) => (codes[i] < 0 ? null : levels[codes[i]]);
}

/**
 * A table from rows, columns in metadata order. Coded columns use the metadata's level order (so codes
 * match the real table read with the same metadata); values outside it (allowed new categories) are
 * appended in first-appearance order. Absent keys are missing. Rows should come from the row validator;
 * a value of the wrong type is a DataError.
 */
export function rowsToTable(rows: readonly Row[], metadata: Metadata): Table {
  return tableOf(metadata.columns.map((m) => columnFromRows(rows, m)));
}

function columnFromRows(rows: readonly Row[], meta: ColumnMeta): Column {
  const name = meta.name;
  switch (meta.sdtype) {
    case "numerical":
    case "datetime": {
      const values = new Float64Array(rows.length);
      const toNumber = meta.sdtype === "numerical" ? numberOf : epochMsOf;
      for (let i = 0; i < rows.length; i++) values[i] = toNumber(rows[i][name] ?? null, meta, i);
      return { kind: meta.sdtype, name, values };
    }
    case "boolean":
      return codedColumn(name, textValues(rows, meta, booleanTextOf), "boolean");
    case "categorical":
      return codedColumn(
        name,
        textValues(rows, meta, String),
        "categorical",
        meta.levels?.map((l) => l.value) ?? [],
      );
    case "id":
      return codedColumn(name, textValues(rows, meta, String), "id");
  }
}

function textValues(
  rows: readonly Row[],
  meta: ColumnMeta,
  toText: (v: string | number | boolean, meta: ColumnMeta, i: number) => string,
): Array<string | null> {
  const out = new Array<string | null>(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const v = rows[i][meta.name];
    out[i] = v === null || v === undefined ? null : toText(v, meta, i);
  }
  return out;
}

function numberOf(v: RowValue, meta: ColumnMeta, i: number): number {
  if (v === null) return Number.NaN;
  const x = typeof v === "number" ? v : typeof v === "string" ? parseDecimal(v) : Number.NaN;
  if (Number.isNaN(x)) throw wrongType(v, meta, i, "a number");
  return x;
}

function epochMsOf(v: RowValue, meta: ColumnMeta, i: number): number {
  if (v === null) return Number.NaN;
  if (typeof v === "number") return v;
  const d = typeof v === "string" ? parseIsoDatetime(v) : undefined;
  if (d === undefined) throw wrongType(v, meta, i, "an ISO date");
  return d.ms;
}

function booleanTextOf(v: string | number | boolean, meta: ColumnMeta, i: number): string {
  if (typeof v === "boolean") return String(v);
  if (v === "true" || v === "false") return v;
  throw wrongType(v, meta, i, "a boolean");
}

function wrongType(v: RowValue, meta: ColumnMeta, i: number, expected: string): DataError {
  return new DataError(`row ${i + 1} holds ${JSON.stringify(v)}, expected ${expected}`, {
    column: meta.name,
    hint: "pass rows through createRowValidator before building a table",
  });
}
