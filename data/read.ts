/**
 * Reads CSV / TSV and JSON Lines into a typed columnar Table plus its Metadata. Text is decoded as strict
 * UTF-8, cells are trimmed (quoted cells keep their spaces), missing markers become missing values, column
 * types are inferred (data/infer.ts) unless the metadata declares them. Rules: docs/metadata.md.
 */
import { readFile } from "node:fs/promises";
import { extname } from "node:path";
import { CsvError, parse } from "csv-parse/sync";
import { isNumeric, recodeColumn, tableOf } from "./build.ts";
import { DEFAULT_MISSING_MARKERS, missingMatcher } from "./cells.ts";
import { DataError } from "./errors.ts";
import {
  booleanLabelsOf,
  type Cell,
  type ColumnSpec,
  columnFromCells,
  type DecimalMark,
  type InferOptions,
  inferColumnSpec,
} from "./infer.ts";
import {
  type ColumnOverride,
  checkTarget,
  deriveMetadata,
  type MetadataOverrides,
  overrideFromSpec,
  resolveOverrides,
  specFromOverride,
} from "./metadata.ts";
import type { BooleanLabels, Column, Metadata, Table } from "./types.ts";
import { cellsOf, type DictColumn, type DictColumns, readPlainCsv } from "./columnar.ts";

export type TableFormat = "csv" | "tsv" | "jsonl";

export interface ReadOptions {
  /** User metadata (SDV JSON, parsed); wins over inference. */
  readonly metadata?: MetadataOverrides;
  /** Target column; must exist. Wins over metadata.target. */
  readonly target?: string;
  /** Cells read as missing (trimmed, case-insensitive); default DEFAULT_MISSING_MARKERS. */
  readonly missingMarkers?: readonly string[];
  /** Where `metadata` came from, for error messages (default "the metadata"; e.g. "the real table (real.csv)"). */
  readonly metadataSource?: string;
  /** Overrides the format chosen from the file extension. */
  readonly format?: TableFormat;
  /** `--decimal`: the decimal mark of every column's numbers (data/infer.ts InferOptions); default inferred. */
  readonly decimal?: DecimalMark;
}

export interface ReadResult {
  /** Coded columns' levels are in the metadata's order (most frequent first); booleans are ["false", "true"]. */
  readonly table: Table;
  readonly metadata: Metadata;
  readonly warnings: string[];
}

/** Raw text cells of a file, column-major, before typing. */
interface RawColumns {
  readonly names: string[];
  readonly cells: Cell[][];
  /** Spreadsheet row of the first data record (2 under a CSV header, 1 for JSON Lines). */
  readonly firstRow: number;
}

/** Reads a CSV (.csv, .tsv, .tab) or JSON Lines (.jsonl, .ndjson) file. */
export async function readTable(path: string, opts: ReadOptions = {}): Promise<ReadResult> {
  const format = opts.format ?? formatOfPath(path);
  if (format !== "jsonl") {
    const plain = readPlainCsvTable(path, { ...opts, source: path, format });
    if (plain !== undefined) return plain;
  }
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new DataError(`cannot read the file: ${(e as Error).message}`, { file: path });
  }
  return parseTable(bytes, { ...opts, source: path, format });
}

/** The format implied by a file name (CSV unless the extension says otherwise). */
export function formatOfPath(path: string): TableFormat {
  const ext = extname(path).toLowerCase();
  if (ext === ".jsonl" || ext === ".ndjson") return "jsonl";
  if (ext === ".tsv" || ext === ".tab") return "tsv";
  return "csv";
}

/** Reads a table from text or bytes (bytes must be UTF-8). `source` names it in errors. */
export function parseTable(
  input: string | Uint8Array,
  opts: ReadOptions & { source?: string } = {},
): ReadResult {
  const file = opts.source;
  const text = typeof input === "string" ? stripBom(input) : decodeUtf8(input, file);
  if (text.trim().length === 0) {
    throw new DataError("the file is empty", {
      file,
      hint: "pass a CSV with a header row and at least one data row",
    });
  }
  const isMissing = missingMatcher(opts.missingMarkers ?? DEFAULT_MISSING_MARKERS);
  const format = opts.format ?? "csv";
  const raw =
    format === "jsonl" ? jsonlColumns(text, isMissing, file) : csvColumns(text, format, isMissing, file);
  return typedTable(
    {
      names: raw.names,
      firstRow: raw.firstRow,
      cells: (j) => raw.cells[j],
      column: (j, spec) =>
        columnFromCells(raw.names[j], raw.cells[j], spec, { file, firstRow: raw.firstRow }),
    },
    opts,
  );
}

/** Text columns before typing, one column at a time (the plain CSV reader rebuilds cells per call). */
interface CellSource {
  readonly names: string[];
  /** Spreadsheet row of the first data record (2 under a CSV header, 1 for JSON Lines). */
  readonly firstRow: number;
  cells(j: number): readonly Cell[];
  /** Column j converted to `spec` (data/infer.ts columnFromCells semantics); `cells` is cells(j). */
  column(j: number, spec: ColumnSpec, cells: readonly Cell[]): Column;
}

/** Types the columns (declared or inferred), derives the metadata and orders coded levels as it lists them. */
function typedTable(src: CellSource, opts: ReadOptions & { source?: string }): ReadResult {
  const file = opts.source;
  const warnings: string[] = [];
  const names = src.names;
  checkColumnNames(names, warnings, file);
  const overrides = resolveOverrides(opts.metadata, names, file, opts.metadataSource);
  if (opts.target !== undefined) checkTarget(opts.target, names, file);
  const specs: ColumnSpec[] = [];
  const columns: Column[] = [];
  const labels: Array<BooleanLabels | undefined> = [];
  const empty: boolean[] = [];
  for (let j = 0; j < names.length; j++) {
    const cells = src.cells(j);
    const o = overrides.get(names[j]);
    const spec = columnSpec(names[j], cells, o, opts.decimal === undefined ? {} : { decimal: opts.decimal });
    specs.push(spec);
    columns.push(src.column(j, spec, cells));
    labels.push(spec.sdtype === "boolean" ? (o?.boolean_labels ?? booleanLabelsOf(cells)) : undefined);
    empty.push(cells.every((c) => c === null));
  }
  warnings.push(...allMissingWarnings(names, empty, overrides));
  for (const spec of specs) warnings.push(...(spec.notes ?? []));
  const typed = tableOf(columns);
  const metadata = deriveMetadata(
    typed,
    mergedOverrides(opts.metadata, names, specs, labels, overrides),
    opts.target,
  );
  return { table: inMetadataLevelOrder(typed, metadata), metadata, warnings };
}

/**
 * A plain CSV file (data/columnar.ts) read in chunks into dictionary-coded columns and typed per column; the
 * same result as parseTable on the file's text. Undefined when the file needs the general parser.
 */
function readPlainCsvTable(path: string, opts: ReadOptions & { source?: string }): ReadResult | undefined {
  const isMissing = missingMatcher(opts.missingMarkers ?? DEFAULT_MISSING_MARKERS);
  const format = opts.format ?? "csv";
  let raw: DictColumns | undefined;
  try {
    raw = readPlainCsv(path, isMissing, (header) => delimiterOf(header, format));
  } catch (e) {
    throw new DataError(`cannot read the file: ${(e as Error).message}`, { file: opts.source });
  }
  if (raw === undefined) return undefined;
  const origin = { file: opts.source, firstRow: 2 };
  return typedTable(
    {
      names: raw.names,
      firstRow: 2,
      cells: (j) => cellsOf(raw.columns[j], raw.nRows),
      column: (j, spec, cells) => {
        const col = dictColumn(raw.names[j], raw.columns[j], spec, cells, origin);
        // The raw codes are not needed once typed: release them before the next column's arrays.
        raw.columns[j] = RELEASED;
        return col;
      },
    },
    opts,
  );
}

const RELEASED: DictColumn = { dict: [], codes: new Int32Array(0) };

/**
 * columnFromCells over the distinct texts, expanded through the row codes: each text is parsed once. Cell
 * conversion is per cell and coded levels come in first-appearance order, which the dictionary (itself in
 * first-appearance order) keeps. A text that does not convert is re-done on the cells for the row's number.
 */
function dictColumn(
  name: string,
  c: DictColumn,
  spec: ColumnSpec,
  cells: readonly Cell[],
  origin: { file?: string; firstRow: number },
): Column {
  let byText: Column;
  try {
    byText = columnFromCells(name, c.dict, spec, origin);
  } catch {
    return columnFromCells(name, cells, spec, origin);
  }
  const n = c.codes.length;
  if (isNumeric(byText)) {
    const values = new Float64Array(n);
    for (let i = 0; i < n; i++) values[i] = c.codes[i] < 0 ? Number.NaN : byText.values[c.codes[i]];
    return { kind: byText.kind, name, values };
  }
  const codes = new Int32Array(n);
  for (let i = 0; i < n; i++) codes[i] = c.codes[i] < 0 ? -1 : byText.codes[c.codes[i]];
  return { kind: byText.kind, name, codes, levels: byText.levels };
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** Strict UTF-8 decoding (BOM dropped); invalid bytes are a DataError naming the byte offset and line. */
export function decodeUtf8(bytes: Uint8Array, file?: string): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    const offset = firstInvalidUtf8(bytes);
    let line = 1;
    for (let i = 0; i < offset; i++) if (bytes[i] === 0x0a) line++;
    const byte = bytes[offset]?.toString(16).toUpperCase().padStart(2, "0") ?? "end of file";
    throw new DataError(
      `the file is not valid UTF-8: byte 0x${byte} at byte offset ${offset} (line ${line})`,
      {
        file,
        row: line,
        hint: 're-encode the file as UTF-8, e.g. `iconv -f latin1 -t utf-8 in.csv > out.csv`, or save it as "CSV UTF-8" from a spreadsheet',
      },
    );
  }
}

/** Offset of the first byte that breaks UTF-8 (RFC 3629 table 3-7); only called once decoding failed. */
function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i];
    let n = 0;
    let lo = 0x80;
    let hi = 0xbf;
    if (c < 0x80) n = 0;
    else if (c >= 0xc2 && c <= 0xdf) n = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      if (c === 0xe0) lo = 0xa0;
      if (c === 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      if (c === 0xf0) lo = 0x90;
      if (c === 0xf4) hi = 0x8f;
    } else return i;
    for (let k = 1; k <= n; k++) {
      const d = b[i + k];
      if (d === undefined || d < (k === 1 ? lo : 0x80) || d > (k === 1 ? hi : 0xbf)) return i;
    }
    i += n + 1;
  }
  return b.length;
}

/** Delimiter: tab for TSV; for CSV a comma unless the header has none but has a semicolon or tab. */
function delimiterOf(text: string, format: TableFormat): string {
  if (format === "tsv") return "\t";
  const end = text.search(/\r|\n/);
  const header = end < 0 ? text : text.slice(0, end);
  if (header.includes(",")) return ",";
  if (header.includes(";")) return ";";
  if (header.includes("\t")) return "\t";
  return ",";
}

function csvColumns(
  text: string,
  format: TableFormat,
  isMissing: (s: string) => boolean,
  file?: string,
): RawColumns {
  const records = parseCsvRecords(text, delimiterOf(text, format), file);
  const names = records[0];
  if (records.length < 2) {
    throw new DataError("the file has a header row but no data rows", {
      file,
      hint: "synthgraph learns from the data rows; add at least one",
    });
  }
  const cells: Cell[][] = names.map(() => new Array<Cell>(records.length - 1));
  for (let r = 1; r < records.length; r++) {
    const rec = records[r];
    for (let j = 0; j < rec.length; j++) cells[j][r - 1] = isMissing(rec[j]) ? null : rec[j];
  }
  return { names, cells, firstRow: 2 };
}

function parseCsvRecords(text: string, delimiter: string, file?: string): string[][] {
  try {
    return parse(text, {
      delimiter,
      trim: true,
      skip_empty_lines: true,
      relax_quotes: true,
      record_delimiter: ["\r\n", "\n", "\r"],
    }) as string[][];
  } catch (e) {
    throw csvDataError(e, file);
  }
}

function csvDataError(e: unknown, file?: string): unknown {
  if (!(e instanceof CsvError)) return e;
  const at = e as CsvError & { lines?: number; records?: number; record?: unknown[] };
  const row = typeof at.records === "number" ? at.records + 1 : undefined;
  if (e.code === "CSV_RECORD_INCONSISTENT_FIELDS_LENGTH") {
    // csv-parse's message reads "Invalid Record Length: expect 3, got 7 on line 7".
    const expected = /expect (\d+)/.exec(e.message)?.[1] ?? "?";
    const found = at.record?.length ?? /got (\d+)/.exec(e.message)?.[1] ?? "?";
    return new DataError(
      `line ${at.lines}: expected ${expected} fields (as in the header) but found ${found}`,
      {
        file,
        row,
        hint: "quote fields that contain the delimiter, and check for missing or extra fields on that line",
      },
    );
  }
  return new DataError(`cannot parse the CSV: ${e.message}`, {
    file,
    row,
    hint: 'check the quoting near that line: a field that contains a quote must be quoted and its quotes doubled ("")',
  });
}

function jsonlColumns(text: string, isMissing: (s: string) => boolean, file?: string): RawColumns {
  const index = new Map<string, number>();
  const names: string[] = [];
  const cells: Cell[][] = [];
  const lines = text.split(/\r\n|\n|\r/);
  let nRows = 0;
  for (let ln = 0; ln < lines.length; ln++) {
    if (lines[ln].trim().length === 0) continue;
    const obj = parseJsonLine(lines[ln], ln + 1, file);
    for (const [key, value] of Object.entries(obj)) {
      let j = index.get(key);
      if (j === undefined) {
        j = names.length;
        index.set(key, j);
        names.push(key);
        cells.push(new Array<Cell>(nRows).fill(null));
      }
      cells[j][nRows] = jsonCell(value, key, ln + 1, isMissing, file);
    }
    nRows++;
    for (const col of cells) if (col.length < nRows) col.push(null);
  }
  return { names, cells, firstRow: 1 };
}

function parseJsonLine(line: string, lineNo: number, file?: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (e) {
    throw new DataError(`line ${lineNo} is not valid JSON: ${(e as Error).message}`, {
      file,
      row: lineNo,
      hint: "JSON Lines holds one JSON object per line",
    });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new DataError(`line ${lineNo} is not a JSON object`, {
      file,
      row: lineNo,
      hint: "JSON Lines holds one JSON object per line",
    });
  }
  return value as Record<string, unknown>;
}

function jsonCell(
  value: unknown,
  key: string,
  lineNo: number,
  isMissing: (s: string) => boolean,
  file?: string,
): Cell {
  if (value === null) return null;
  if (typeof value === "string") return isMissing(value) ? null : value.trim();
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  throw new DataError("nested objects and arrays are not supported", { file, row: lineNo, column: key });
}

function checkColumnNames(names: string[], warnings: string[], file?: string): void {
  for (let j = 0; j < names.length; j++) {
    if (names[j].length === 0) {
      names[j] = `column_${j + 1}`;
      warnings.push(`column ${j + 1} has no name in the header; it is called "${names[j]}"`);
    }
  }
  const seen = new Set<string>();
  const duplicates = new Set<string>();
  for (const n of names) (seen.has(n) ? duplicates : seen).add(n);
  if (duplicates.size > 0) {
    throw new DataError(`duplicate column names: ${[...duplicates].map((n) => `"${n}"`).join(", ")}`, {
      file,
      row: 1,
      hint: "give every column a unique name in the header",
    });
  }
}

/** The user's declaration where given, inference for the rest (e.g. integer-ness of a declared numerical). */
function columnSpec(
  name: string,
  cells: readonly Cell[],
  o: ColumnOverride | undefined,
  inferOpts: InferOptions,
): ColumnSpec {
  if (o === undefined) return inferColumnSpec(name, cells, inferOpts);
  const declared = specFromOverride(o);
  const inferred = inferColumnSpec(name, cells, inferOpts);
  const sameType = inferred.sdtype === declared.sdtype;
  return {
    sdtype: declared.sdtype,
    integer: declared.integer ?? (sameType ? inferred.integer : undefined),
    datetimeFormat: declared.datetimeFormat ?? (sameType ? inferred.datetimeFormat : undefined),
    // A declared order of numeric dates wins; a declared datetime column reads mixed formats as inferred.
    ...(declared.mixedDates !== undefined
      ? { mixedDates: declared.mixedDates }
      : sameType && inferred.mixedDates !== undefined
        ? { mixedDates: inferred.mixedDates }
        : {}),
    // A declared numerical column still reads "16,884.92" or stray tokens as inferred (with the same notes).
    ...(sameType
      ? {
          numberFormat: inferred.numberFormat,
          strayAsMissing: inferred.strayAsMissing,
          notes: inferred.notes,
        }
      : {}),
  };
}

function allMissingWarnings(
  names: readonly string[],
  empty: readonly boolean[],
  overrides: Map<string, ColumnOverride>,
): string[] {
  const out: string[] = [];
  names.forEach((name, j) => {
    if (!empty[j]) return;
    const declared = overrides.get(name)?.sdtype;
    out.push(
      `column "${name}" has no values (every cell is missing); it is read as ${declared ?? "numerical"} with all values missing. Drop it, or declare its sdtype in the metadata`,
    );
  });
  return out;
}

/**
 * The final specs as overrides for deriveMetadata (so it sees e.g. the inferred date format), with
 * descriptions, declared decimals, and boolean spellings (declared, else as the cells spell them).
 */
function mergedOverrides(
  user: MetadataOverrides | undefined,
  names: readonly string[],
  specs: readonly ColumnSpec[],
  booleanLabels: ReadonlyArray<BooleanLabels | undefined>,
  effective: Map<string, ColumnOverride>,
): MetadataOverrides {
  const columns: Record<string, ColumnOverride> = {};
  names.forEach((name, j) => {
    const declared = effective.get(name);
    const labels = booleanLabels[j];
    columns[name] = {
      ...overrideFromSpec(specs[j], declared?.description),
      ...(specs[j].sdtype === "numerical" && declared?.decimals !== undefined
        ? { decimals: declared.decimals }
        : {}),
      ...(labels === undefined ? {} : { boolean_labels: labels }),
    };
  });
  return { columns, ...(user?.target === undefined ? {} : { target: user.target }) };
}

/** The table with coded columns' levels reordered as the metadata lists them (codes comparable across tables). */
function inMetadataLevelOrder(table: Table, meta: Metadata): Table {
  const columns: Column[] = table.columns.map((c, j) => {
    const levels = meta.columns[j].levels;
    if (c.kind !== "categorical" || levels === undefined) return c;
    return recodeColumn(
      c,
      levels.map((l) => l.value),
    );
  });
  return tableOf(columns);
}
