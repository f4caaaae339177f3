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
export function inferColumnSpec(name: string, cells: readonly Cell[]): ColumnSpec {
  const s = summarize(cells);
  const complete = s.nonMissing === cells.length;
  if (s.nonMissing === 0) return { sdtype: "numerical", integer: false };
  if (s.booleanPair >= 0) return { sdtype: "boolean" };
  if (s.allNumeric && !s.anyLeadingZero) {
    if (isIdLikeName(name) && s.allInteger && s.unique && complete) return { sdtype: "id" };
    return { sdtype: "numerical", integer: s.allInteger };
  }
  if (s.allDatetime) return { sdtype: "datetime", datetimeFormat: s.anyTime ? "datetime" : "date" };
  if (s.unique && complete && (isIdLikeName(name) || cells.length >= MIN_ROWS_FOR_TEXT_ID))
    return { sdtype: "id" };
  return { sdtype: "categorical" };
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
        values: numbersFromCells(name, cells, spec.integer === true, origin),
      };
    case "datetime":
      return { kind: "datetime", name, values: datetimesFromCells(name, cells, origin) };
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
): Float64Array {
  const out = new Float64Array(cells.length);
  for (let i = 0; i < cells.length; i++) {
    const c = cells[i];
    if (c === null) {
      out[i] = Number.NaN;
      continue;
    }
    const x = parseDecimal(c);
    if (Number.isNaN(x)) throw cellError(name, c, i, "is not a number, but the column is numerical", origin);
    if (integer && !Number.isInteger(x)) {
      throw cellError(name, c, i, "is not an integer, but the metadata declares an integer column", origin);
    }
    out[i] = x;
  }
  return out;
}

function datetimesFromCells(name: string, cells: readonly Cell[], origin: CellOrigin): Float64Array {
  const out = new Float64Array(cells.length);
  for (let i = 0; i < cells.length; i++) {
    const c = cells[i];
    const d = c === null ? undefined : parseIsoDatetime(c);
    if (c !== null && d === undefined) {
      throw cellError(
        name,
        c,
        i,
        "is not an ISO date (YYYY-MM-DD) or date-time (YYYY-MM-DDTHH:MM:SS)",
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
