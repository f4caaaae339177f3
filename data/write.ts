/**
 * Writes a typed table as CSV: numbers in their shortest round-trip form ("40", "0.1"), missing as empty
 * cells, datetimes in the column's ISO form, booleans as the real data spelled them (ColumnMeta.booleanLabels,
 * else true/false), RFC 4180 quoting by csv-stringify. Numbers are not rounded here: generators round them
 * to the column's decimals where the values are made (engines/llmsynthor/sampler.ts, data/validate.ts).
 */
import { writeFile } from "node:fs/promises";
import { stringify } from "csv-stringify/sync";
import { isNumeric } from "./build.ts";
import { DEFAULT_BOOLEAN_LABELS, formatIsoDatetime } from "./cells.ts";
import type { Column, ColumnMeta, Metadata, Table } from "./types.ts";

export interface WriteOptions {
  /**
   * Guard against spreadsheet formula injection (OWASP "CSV Injection"): a text cell or header starting
   * with = + - @ TAB CR is prefixed by a single quote. Numbers are never touched. Default false.
   */
  readonly formulaGuard?: boolean;
}

type CsvCell = string | number | null;

/** The table as CSV text with a header row and "\n" line ends. */
export function tableToCsv(table: Table, metadata: Metadata, opts: WriteOptions = {}): string {
  const byName = new Map(metadata.columns.map((c) => [c.name, c]));
  const cellOf = table.columns.map((c) => cellReader(c, byName.get(c.name)));
  const records: CsvCell[][] = new Array(table.nRows);
  for (let i = 0; i < table.nRows; i++) {
    const rec = new Array<CsvCell>(cellOf.length);
    for (let j = 0; j < cellOf.length; j++) rec[j] = cellOf[j](i);
    records[i] = rec;
  }
  return stringify(records, {
    header: true,
    columns: table.columns.map((c) => c.name),
    // csv-stringify's guard skips number-typed fields, so negative numbers stay numbers.
    escape_formulas: opts.formulaGuard === true,
    // Readers trim unquoted cells, so text with outer whitespace is quoted to survive a round trip.
    quoted_match: [/^\s|\s$/],
    record_delimiter: "unix",
  });
}

/** Writes the table to a CSV file (UTF-8, no BOM). */
export async function writeCsv(
  path: string,
  table: Table,
  metadata: Metadata,
  opts: WriteOptions = {},
): Promise<void> {
  await writeFile(path, tableToCsv(table, metadata, opts), "utf8");
}

/** Cell i of a column as csv-stringify input: numbers stay numbers (csv-stringify writes String(x)). */
function cellReader(col: Column, meta: ColumnMeta | undefined): (i: number) => CsvCell {
  if (isNumeric(col)) {
    const v = col.values;
    const format = meta?.datetimeFormat ?? "datetime";
    if (col.kind === "datetime") return (i) => (v[i] === v[i] ? formatIsoDatetime(v[i], format) : null);
    return (i) => (v[i] === v[i] ? v[i] : null);
  }
  const { codes } = col;
  // Boolean levels are "false"/"true" in memory; they are written in the real data's spelling.
  const levels = col.kind === "boolean" ? col.levels.map((l) => booleanText(l, meta)) : col.levels;
  return (i) => (codes[i] < 0 ? null : levels[codes[i]]);
}

function booleanText(level: string, meta: ColumnMeta | undefined): string {
  const labels = meta?.booleanLabels ?? DEFAULT_BOOLEAN_LABELS;
  if (level === "true") return labels.true;
  if (level === "false") return labels.false;
  return level;
}
