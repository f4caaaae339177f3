/**
 * Column type inference from text cells, and conversion of text cells into typed columns once the type is
 * known. The rules are documented in docs/metadata.md ("How column types are inferred").
 */
import { codedColumn } from "./build.ts";
import {
  BOOLEAN_PAIRS,
  booleanPairOf,
  type DatetimeFormat,
  hasLeadingZero,
  parseBoolean,
  parseDecimal,
  parseIsoDatetime,
  partnerLabel,
} from "./cells.ts";
import { type DateOrder, DATE_ORDER_FORMATS, inferMixedDates, parseDateAnyFormat } from "./dates.ts";
import { DataError } from "./errors.ts";
import type { BooleanLabels, Column, SdType } from "./types.ts";

/** A text cell after missing-marker detection: null = missing. */
export type Cell = string | null;

/** What a column is, before statistics: the part of metadata that decides how cells are parsed. */
export interface ColumnSpec {
  readonly sdtype: SdType;
  /** numerical only. */
  readonly integer?: boolean;
  /** datetime only. */
  readonly datetimeFormat?: DatetimeFormat;
  /** numerical only: how numbers are written when not plain (inferred when unambiguous; docs/robustness.md). */
  readonly numberFormat?: NumberFormat;
  /** numerical only: cells that are not numbers are read as missing (a few stray tokens, reported). */
  readonly strayAsMissing?: boolean;
  /**
   * datetime only: cells may be dates in any format data/dates.ts recognises, not only ISO; `order` reads numeric
   * dates with the year last (15/01/2020) day first or month first (inferred when settled, or declared).
   */
  readonly mixedDates?: { readonly order?: DateOrder };
  /** What inference decided that the user should know (printed by `generate` and `evaluate`). */
  readonly notes?: readonly string[];
}

/** "thousands": 16,884.92 (comma groups thousands); "decimal-comma": 27,9 (comma is the decimal mark). */
export type NumberFormat = "thousands" | "decimal-comma";

/** A numeric column may hold at most this share of stray non-numeric cells (and at most MAX_STRAY_LEVELS kinds). */
export const MAX_STRAY_SHARE = 0.05;
export const MAX_STRAY_LEVELS = 3;

const THOUSANDS_RE = /^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$/;
const DECIMAL_COMMA_RE = /^[+-]?\d+,\d+$/;
/** Ambiguous alone: "1,234" is 1234 with a thousands comma or 1.234 with a decimal comma. */
const AMBIGUOUS_COMMA_RE = /^[+-]?\d{1,3},\d{3}$/;

/** "1.234,5": dots grouping thousands before a decimal comma (unambiguous, read under decimal-comma only). */
const DOT_GROUPS_DECIMAL_COMMA_RE = /^[+-]?\d{1,3}(\.\d{3})+,\d+$/;

/**
 * The number a cell holds under a number format (NaN when it is not one). Under "decimal-comma" a comma is the
 * decimal mark ("27,9", "1,234" = 1.234, "1.234,5" = 1234.5) and a cell without a comma reads as a plain number
 * ("27.9": the form synthgraph writes, so its own output reads back under `--decimal ,`).
 */
export function parseNumberAs(cell: string, format: NumberFormat | undefined): number {
  if (format === undefined) return parseDecimal(cell);
  const s = cell.trim();
  if (format === "thousands") return THOUSANDS_RE.test(s) ? Number(s.replace(/,/g, "")) : parseDecimal(s);
  if (DECIMAL_COMMA_RE.test(s)) return Number(s.replace(",", "."));
  if (DOT_GROUPS_DECIMAL_COMMA_RE.test(s)) return Number(s.replace(/\./g, "").replace(",", "."));
  return s.includes(",") ? Number.NaN : parseDecimal(s);
}

/**
 * Numbers written with commas, when every non-missing cell reads one way and some cell rules the other out:
 * thousands when a cell has two comma groups or a comma group and a decimal point ("16,884.92"); decimal
 * comma when a comma is followed by other than three digits ("27,9"). Undefined: plain, ambiguous, or not numbers.
 */
export function inferNumberFormat(cells: readonly Cell[]): NumberFormat | undefined {
  let thousands = true;
  let decimalComma = true;
  let anyComma = false;
  let thousandsProof = false;
  let decimalProof = false;
  for (const c of cells) {
    if (c === null) continue;
    const s = c.trim();
    if (!s.includes(",")) {
      if (Number.isNaN(parseDecimal(s))) return undefined;
      if (s.includes(".")) decimalComma = false;
      continue;
    }
    anyComma = true;
    if (THOUSANDS_RE.test(s)) {
      if (!AMBIGUOUS_COMMA_RE.test(s)) thousandsProof = true;
      if (!DECIMAL_COMMA_RE.test(s)) decimalComma = false;
    } else thousands = false;
    if (DECIMAL_COMMA_RE.test(s)) {
      if (!AMBIGUOUS_COMMA_RE.test(s)) decimalProof = true;
    } else decimalComma = false;
    if (!thousands && !decimalComma) return undefined;
  }
  if (!anyComma) return undefined;
  if (thousands && (thousandsProof || !decimalComma)) return "thousands";
  if (decimalComma && (decimalProof || !thousands)) return "decimal-comma";
  return undefined;
}

/** Unique non-numeric text columns with fewer rows than this stay categorical (too little evidence). */
export const MIN_ROWS_FOR_TEXT_ID = 20;

/** "id", "ID", "user_id", "user-id", "user id", "userId", "UserID" (docs/metadata.md). */
export function isIdLikeName(name: string): boolean {
  return /^id$/i.test(name) || /[_\-. ]id$/i.test(name) || /[a-z](?:Id|ID)$/.test(name);
}

interface CellSummary {
  nonMissing: number;
  allNumeric: boolean;
  allInteger: boolean;
  anyLeadingZero: boolean;
  booleanPair: number; // -1 none seen yet, -2 mixed or not boolean
  allDatetime: boolean;
  anyTime: boolean;
  unique: boolean;
}

/** One pass over the cells collecting every fact the type rules need. */
function summarize(cells: readonly Cell[]): CellSummary {
  const s: CellSummary = {
    nonMissing: 0,
    allNumeric: true,
    allInteger: true,
    anyLeadingZero: false,
    booleanPair: -1,
    allDatetime: true,
    anyTime: false,
    unique: true,
  };
  const seen = new Set<string>();
  for (let i = 0; i < cells.length; i++) {
    const c = cells[i];
    if (c === null) continue;
    s.nonMissing++;
    if (s.unique) {
      if (seen.has(c)) {
        s.unique = false;
        seen.clear();
      } else seen.add(c);
    }
    if (s.allNumeric) {
      const x = parseDecimal(c);
      if (Number.isNaN(x)) s.allNumeric = false;
      else {
        if (!Number.isInteger(x)) s.allInteger = false;
        if (!s.anyLeadingZero && hasLeadingZero(c)) s.anyLeadingZero = true;
      }
    }
    if (s.booleanPair !== -2) {
      const p = booleanPairOf(c);
      s.booleanPair = p === -1 || (s.booleanPair !== -1 && s.booleanPair !== p) ? -2 : p;
    }
    if (s.allDatetime) {
      const d = parseIsoDatetime(c);
      if (d === undefined) s.allDatetime = false;
      else if (d.hasTime) s.anyTime = true;
    }
  }
  return s;
}

/**
 * Infers a column's type from its cells. Order: all missing → numerical (float, like pandas);
 * one boolean vocabulary → boolean; decimal numbers without leading zeros → numerical (or id when the name
 * is id-like and the values are unique integers); ISO dates → datetime; unique text without missing values →
 * id (with an id-like name, or at least MIN_ROWS_FOR_TEXT_ID rows); anything else → categorical.
 */
export function inferColumnSpec(name: string, cells: readonly Cell[], opts: InferOptions = {}): ColumnSpec {
  const s = summarize(cells);
  const complete = s.nonMissing === cells.length;
  if (s.nonMissing === 0) return { sdtype: "numerical", integer: false };
  if (s.booleanPair >= 0) return { sdtype: "boolean" };
  if (s.allNumeric && !s.anyLeadingZero) {
    if (isIdLikeName(name) && s.allInteger && s.unique && complete) return { sdtype: "id" };
    return { sdtype: "numerical", integer: s.allInteger };
  }
  if (!s.allNumeric) {
    const special = numericDespiteText(name, cells, opts.decimal);
    if (special) return special;
  }
  if (s.allDatetime) return { sdtype: "datetime", datetimeFormat: s.anyTime ? "datetime" : "date" };
  const mixed = inferMixedDates(name, cells);
  if (mixed !== undefined && mixed.order !== undefined) {
    return {
      sdtype: "datetime",
      datetimeFormat: mixed.anyTime ? "datetime" : "date",
      mixedDates: mixed.order === "none" ? {} : { order: mixed.order },
      notes: [mixed.note],
    };
  }
  // Dates whose order cannot be settled stay text, with the note saying so (never an id: they are dates).
  if (mixed !== undefined) return { sdtype: "categorical", notes: [mixed.note] };
  if (s.unique && complete && (isIdLikeName(name) || cells.length >= MIN_ROWS_FOR_TEXT_ID))
    return { sdtype: "id" };
  return { sdtype: "categorical" };
}

/** The decimal marks a user may state for a whole file (`--decimal`, the tools' `decimal`, RunConfig.decimal). */
export const DECIMAL_MARKS = [",", "."] as const;
/** The decimal mark the user states for a whole file (`--decimal`); undefined: inferred per column. */
export type DecimalMark = (typeof DECIMAL_MARKS)[number];

/** Reading choices the user makes for a whole file. */
export interface InferOptions {
  /**
   * ",": a comma in a number is the decimal mark in every column, whatever inference would decide
   * (parseNumberAs); ".": a comma is never read as the decimal mark (thousands separators are still inferred).
   */
  readonly decimal?: DecimalMark;
}

/**
 * A column of numbers that plain parsing rejects: written with commas (inferNumberFormat), or with a few stray
 * tokens ("n/a", "?", "unknown": at most MAX_STRAY_SHARE of the cells and MAX_STRAY_LEVELS distinct ones),
 * read as missing. Each decision carries a note naming the column, examples, and how to override it.
 */
function numericDespiteText(
  name: string,
  cells: readonly Cell[],
  decimal: DecimalMark | undefined,
): ColumnSpec | undefined {
  const forceDecimalComma = decimal === ",";
  const override = `declare "${name}" in the metadata (sdtype categorical) to read it as text`;
  const nonMissing = cells.filter((c): c is string => c !== null);
  const leadingZero = (list: readonly string[]): boolean => list.some((c) => hasLeadingZero(c));
  // `--decimal ,` decides for every column; otherwise only a column that can be read one way only, and
  // `--decimal .` rules the decimal-comma reading out.
  const inferred = forceDecimalComma ? undefined : inferNumberFormat(cells);
  const format: NumberFormat | undefined = forceDecimalComma
    ? nonMissing.every((c) => !Number.isNaN(parseNumberAs(c, "decimal-comma"))) && !leadingZero(nonMissing)
      ? "decimal-comma"
      : undefined
    : decimal === "." && inferred === "decimal-comma"
      ? undefined
      : inferred;
  if (format !== undefined) {
    const values = nonMissing.map((c) => parseNumberAs(c, format));
    const example = nonMissing.find((c) => c.includes(",")) ?? nonMissing[0];
    const how = format === "thousands" ? "a thousands separator" : "the decimal mark";
    const why = forceDecimalComma ? " (--decimal ,)" : "";
    return {
      sdtype: "numerical",
      integer: values.every((x) => Number.isInteger(x)),
      numberFormat: format,
      notes: [
        `column "${name}" is read as numbers with "," as ${how}${why} (e.g. ${JSON.stringify(example)} = ${parseNumberAs(example, format)}); ${override}`,
      ],
    };
  }
  const strayFormat: NumberFormat | undefined = forceDecimalComma ? "decimal-comma" : undefined;
  const stray = new Map<string, number>();
  const numbers: number[] = [];
  for (const c of nonMissing) {
    const x = parseNumberAs(c, strayFormat);
    if (Number.isNaN(x)) stray.set(c, (stray.get(c) ?? 0) + 1);
    else numbers.push(x);
  }
  const strayCount = nonMissing.length - numbers.length;
  if (
    numbers.length === 0 ||
    stray.size > MAX_STRAY_LEVELS ||
    strayCount > MAX_STRAY_SHARE * nonMissing.length ||
    leadingZero(nonMissing.filter((c) => !stray.has(c)))
  ) {
    return undefined;
  }
  const examples = [...stray.keys()].map((t) => JSON.stringify(t)).join(", ");
  return {
    sdtype: "numerical",
    integer: numbers.every((x) => Number.isInteger(x)),
    ...(strayFormat === undefined ? {} : { numberFormat: strayFormat }),
    strayAsMissing: true,
    notes: [
      `column "${name}" is numeric except ${strayCount} cell(s) holding ${examples}: those cells are read as missing; ${override}, or list the tokens as missing markers`,
    ],
  };
}

/**
 * How boolean cells spell true and false: the most frequent text of each (ties: the first seen). A value
 * that never occurs takes its partner's vocabulary and case ("Yes" → "No"). Undefined when no cell reads
 * as a boolean (all missing).
 */
export function booleanLabelsOf(cells: readonly Cell[]): BooleanLabels | undefined {
  // Spelling → [count, value]; a Map keeps first-seen order for the ties.
  const spellings = new Map<string, [number, boolean]>();
  for (const c of cells) {
    if (c === null) continue;
    const seen = spellings.get(c);
    if (seen) seen[0]++;
    else {
      const b = parseBoolean(c, true);
      if (b !== undefined) spellings.set(c, [1, b]);
    }
  }
  let t: string | undefined;
  let f: string | undefined;
  let tCount = 0;
  let fCount = 0;
  for (const [text, [count, value]] of spellings) {
    if (value && count > tCount) [t, tCount] = [text, count];
    if (!value && count > fCount) [f, fCount] = [text, count];
  }
  if (t !== undefined && f !== undefined) return { true: t, false: f };
  if (t !== undefined) return { true: t, false: partnerLabel(t, true) };
  if (f !== undefined) return { true: partnerLabel(f, false), false: f };
  return undefined;
}

/** Where cells come from, for error messages: the file and the spreadsheet row of cell 0. */
export interface CellOrigin {
  readonly file?: string;
  readonly firstRow: number;
}

/** Converts text cells into a typed column of the given type; a cell that does not fit is a DataError. */
export function columnFromCells(
  name: string,
  cells: readonly Cell[],
  spec: ColumnSpec,
  origin: CellOrigin,
): Column {
  switch (spec.sdtype) {
    case "numerical":
      return {
        kind: "numerical",
        name,
        values: numbersFromCells(name, cells, spec.integer === true, origin, spec),
      };
    case "datetime":
      return { kind: "datetime", name, values: datetimesFromCells(name, cells, origin, spec.mixedDates) };
    case "boolean":
      return codedColumn(name, booleansFromCells(name, cells, origin), "boolean");
    case "categorical":
    case "id":
      return codedColumn(name, cells, spec.sdtype);
  }
}

function numbersFromCells(
  name: string,
  cells: readonly Cell[],
  integer: boolean,
  origin: CellOrigin,
  spec: ColumnSpec = { sdtype: "numerical" },
): Float64Array {
  const out = new Float64Array(cells.length);
  for (let i = 0; i < cells.length; i++) {
    const c = cells[i];
    if (c === null) {
      out[i] = Number.NaN;
      continue;
    }
    const x = parseNumberAs(c, spec.numberFormat);
    if (Number.isNaN(x)) {
      if (spec.strayAsMissing) {
        out[i] = Number.NaN;
        continue;
      }
      throw cellError(name, c, i, "is not a number, but the column is numerical", origin);
    }
    if (integer && !Number.isInteger(x)) {
      throw cellError(name, c, i, "is not an integer, but the metadata declares an integer column", origin);
    }
    out[i] = x;
  }
  return out;
}

function datetimesFromCells(
  name: string,
  cells: readonly Cell[],
  origin: CellOrigin,
  mixed: ColumnSpec["mixedDates"],
): Float64Array {
  const out = new Float64Array(cells.length);
  for (let i = 0; i < cells.length; i++) {
    const c = cells[i];
    const d = c === null ? undefined : mixed ? parseDateAnyFormat(c, mixed.order) : parseIsoDatetime(c);
    if (c !== null && d === undefined) {
      throw cellError(
        name,
        c,
        i,
        mixed
          ? `is not a date in a format synthgraph reads (YYYY-MM-DD, YYYY/MM/DD, ${mixed.order === "mdy" ? "MM/DD/YYYY" : mixed.order === "dmy" ? "DD/MM/YYYY" : "DD/MM/YYYY or MM/DD/YYYY when the order is declared"}, 3 Feb 2020, Feb 3, 2020)`
          : `is not an ISO date (YYYY-MM-DD) or date-time (YYYY-MM-DDTHH:MM:SS); dates in other formats are read with "datetime_format": "${DATE_ORDER_FORMATS.dmy}" or "${DATE_ORDER_FORMATS.mdy}" in the metadata`,
        origin,
      );
    }
    out[i] = d === undefined ? Number.NaN : d.ms;
  }
  return out;
}

function booleansFromCells(name: string, cells: readonly Cell[], origin: CellOrigin): Array<string | null> {
  const out = new Array<string | null>(cells.length);
  for (let i = 0; i < cells.length; i++) {
    const c = cells[i];
    const b = c === null ? undefined : parseBoolean(c, true);
    if (c !== null && b === undefined) {
      const words = BOOLEAN_PAIRS.map((p) => p.join("/")).join(", ");
      throw cellError(name, c, i, `is not a boolean (expected ${words} or 1/0)`, origin);
    }
    out[i] = b === undefined ? null : String(b);
  }
  return out;
}

function cellError(name: string, cell: string, index: number, what: string, origin: CellOrigin): DataError {
  return new DataError(`${JSON.stringify(cell)} ${what}`, {
    file: origin.file,
    row: origin.firstRow + index,
    column: name,
    hint: "fix the value, mark it missing (empty cell), or change the column's sdtype in the metadata",
  });
}
