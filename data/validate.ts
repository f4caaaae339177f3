/**
 * Validates and coerces one LLM-produced row against the real data's metadata. Coercions that only change
 * the JSON type ("53" -> 53, "yes" -> true, " Male " -> "Male") are silent; changes of meaning are listed
 * in `repairs` (case-fixed categories and column names, rounding to the real decimals, new categories, null in a column that
 * had no missing values, keys that name no column, which are dropped). Everything else is rejected with one
 * precise reason per column; a missing column rejects the row (no value is invented).
 * Checkers are built once per metadata; validating a row allocates only the row, repairs and errors.
 */
import {
  DEFAULT_MISSING_MARKERS,
  formatIsoDatetime,
  formatNumber,
  missingMatcher,
  parseBoolean,
  parseDecimal,
  parseIsoDatetime,
  roundTo,
} from "./cells.ts";
import type { ColumnMeta, Metadata, Row, RowValue } from "./types.ts";

export interface RowValidatorOptions {
  /** Reject numbers and datetimes outside the real [min, max] (default true). */
  readonly enforceMinMax?: boolean;
  /**
   * Keep the real rounding (default true): reject non-integers in integer columns, and round values of float
   * columns with more decimals than the real column (ColumnMeta.decimals), reported as repairs. When false,
   * non-integers are rounded and reported, and float values are kept as given.
   */
  readonly enforceRounding?: boolean;
  /** Accept categories the real data does not have, reported as repairs (default false). */
  readonly allowNewCategories?: boolean;
  /** Strings read as missing (trimmed, case-insensitive); default DEFAULT_MISSING_MARKERS. */
  readonly missingMarkers?: readonly string[];
}

export interface RowError {
  readonly column: string;
  readonly value: unknown;
  /** The whole message, e.g. `age: 212 is above the real maximum 90` or `missing column "sex"`. */
  readonly reason: string;
}

export type RowValidation =
  | { readonly ok: true; readonly row: Row; readonly repairs: string[] }
  | { readonly ok: false; readonly errors: RowError[] };

export type RowValidator = (input: unknown) => RowValidation;

/** Per-call scratch: a checker sets `error` to reject, pushes to `repairs` to report. */
interface CheckContext {
  error: string | undefined;
  repairs: string[];
}

type Check = (value: unknown, ctx: CheckContext) => RowValue;

interface Settings {
  readonly enforceMinMax: boolean;
  readonly enforceRounding: boolean;
  readonly allowNewCategories: boolean;
  readonly isMissing: (s: string) => boolean;
}

/** Repair note for a key that names no column: the key is dropped, the row kept (also data/compact.ts). */
export function droppedColumnNote(key: string): string {
  return `dropped unknown column "${key}"`;
}

/** Repair note for a key read as the column it loosely names (also data/compact.ts). */
export function aliasedColumnNote(key: string, column: string): string {
  return `column "${key}" read as "${column}"`;
}

/** A validator for rows of the table described by `meta` (id columns may be absent: they become null). */
export function createRowValidator(meta: Metadata, opts: RowValidatorOptions = {}): RowValidator {
  const settings: Settings = {
    enforceMinMax: opts.enforceMinMax ?? true,
    enforceRounding: opts.enforceRounding ?? true,
    allowNewCategories: opts.allowNewCategories ?? false,
    isMissing: missingMatcher(opts.missingMarkers ?? DEFAULT_MISSING_MARKERS),
  };
  const columns = meta.columns;
  const checks = columns.map((c) => checkerFor(c, settings));
  const known = new Set(columns.map((c) => c.name));
  const byFoldedName = foldedIndex(columns.map((c) => c.name));

  return (input) => {
    if (typeof input !== "object" || input === null || Array.isArray(input)) {
      return {
        ok: false,
        errors: [{ column: "", value: input, reason: `the row is not a JSON object: ${describe(input)}` }],
      };
    }
    const obj = input as Record<string, unknown>;
    const errors: RowError[] = [];
    const ctx: CheckContext = { error: undefined, repairs: [] };
    const aliases = unknownKeys(obj, known, byFoldedName, ctx.repairs);
    const row: Row = {};
    for (let j = 0; j < columns.length; j++) {
      const name = columns[j].name;
      const key = Object.hasOwn(obj, name) ? name : aliases?.get(name);
      if (key === undefined) {
        if (columns[j].sdtype === "id") row[name] = null;
        else errors.push({ column: name, value: undefined, reason: `missing column "${name}"` });
        continue;
      }
      ctx.error = undefined;
      const value = checks[j](obj[key], ctx);
      if (ctx.error === undefined) row[name] = value;
      else errors.push({ column: name, value: obj[key], reason: ctx.error });
    }
    return errors.length > 0 ? { ok: false, errors } : { ok: true, row, repairs: ctx.repairs };
  };
}

/** Keys that are no column: case-insensitive matches become aliases, the rest are dropped (both reported). */
function unknownKeys(
  obj: Record<string, unknown>,
  known: ReadonlySet<string>,
  byFoldedName: ReadonlyMap<string, string | null>,
  repairs: string[],
): Map<string, string> | undefined {
  let aliases: Map<string, string> | undefined;
  for (const key of Object.keys(obj)) {
    if (known.has(key)) continue;
    const target = byFoldedName.get(key.trim().toLowerCase());
    if (target && !Object.hasOwn(obj, target) && !aliases?.has(target)) {
      aliases ??= new Map();
      aliases.set(target, key);
      repairs.push(aliasedColumnNote(key, target));
    } else repairs.push(droppedColumnNote(key));
  }
  return aliases;
}

/** Lower-cased name -> the one name it folds from, or null when several fold to it (ambiguous). */
function foldedIndex(names: readonly string[]): Map<string, string | null> {
  const out = new Map<string, string | null>();
  for (const n of names) {
    const f = n.trim().toLowerCase();
    out.set(f, out.has(f) ? null : n);
  }
  return out;
}

function checkerFor(col: ColumnMeta, s: Settings): Check {
  const onMissing = missingReporter(col);
  const check = valueChecker(col, s, onMissing);
  return (value, ctx) => {
    if (value === null || value === undefined || (typeof value === "number" && Number.isNaN(value))) {
      return onMissing(ctx);
    }
    return check(value, ctx);
  };
}

/** Missing is allowed everywhere, but reported where the real column never was. */
function missingReporter(col: ColumnMeta): (ctx: CheckContext) => null {
  const note = `${col.name}: missing, but the real column has no missing values`;
  return (ctx) => {
    if (col.missingRate === 0 && col.sdtype !== "id") ctx.repairs.push(note);
    return null;
  };
}

function valueChecker(col: ColumnMeta, s: Settings, onMissing: (ctx: CheckContext) => null): Check {
  switch (col.sdtype) {
    case "numerical":
      return numberChecker(col, s, onMissing);
    case "categorical":
      return categoryChecker(col, s, onMissing);
    case "boolean":
      return booleanChecker(col, s, onMissing);
    case "datetime":
      return datetimeChecker(col, s, onMissing);
    case "id":
      return idChecker(col, s);
  }
}

function numberChecker(col: ColumnMeta, s: Settings, onMissing: (ctx: CheckContext) => null): Check {
  const { name, min, max } = col;
  const integer = col.integer === true;
  const checkRange = s.enforceMinMax;
  const decimals = !integer && s.enforceRounding ? col.decimals : undefined;
  return (value, ctx) => {
    let x: number;
    if (typeof value === "number") x = value;
    else if (typeof value === "string") {
      if (s.isMissing(value)) return onMissing(ctx);
      x = parseDecimal(value);
    } else x = Number.NaN;
    if (!Number.isFinite(x)) {
      ctx.error = `${name}: ${describe(value)} is not a number`;
      return null;
    }
    if (integer && !Number.isInteger(x)) {
      if (s.enforceRounding) {
        ctx.error = `${name}: ${formatNumber(x)} is not an integer`;
        return null;
      }
      const rounded = Math.round(x);
      ctx.repairs.push(`${name}: ${formatNumber(x)} rounded to ${formatNumber(rounded)}`);
      x = rounded;
    } else if (decimals !== undefined) {
      const rounded = roundTo(x, decimals);
      if (rounded !== x) {
        ctx.repairs.push(
          `${name}: ${formatNumber(x)} rounded to ${formatNumber(rounded)} (${decimals} decimal${decimals === 1 ? "" : "s"}, as in the real data)`,
        );
        x = rounded;
      }
    }
    if (checkRange && min !== undefined && x < min) {
      ctx.error = `${name}: ${formatNumber(x)} is below the real minimum ${formatNumber(min)}`;
    } else if (checkRange && max !== undefined && x > max) {
      ctx.error = `${name}: ${formatNumber(x)} is above the real maximum ${formatNumber(max)}`;
    }
    return x;
  };
}

function categoryChecker(col: ColumnMeta, s: Settings, onMissing: (ctx: CheckContext) => null): Check {
  const { name } = col;
  const levels = (col.levels ?? []).map((l) => l.value);
  const exact = new Set(levels);
  const folded = foldedIndex(levels);
  const count = `${levels.length} categor${levels.length === 1 ? "y" : "ies"}`;
  return (value, ctx) => {
    const text = categoryText(value);
    if (text === undefined) {
      ctx.error = `${name}: ${describe(value)} is not a category`;
      return null;
    }
    if (exact.has(text)) return text;
    const trimmed = text.trim();
    if (exact.has(trimmed)) return trimmed;
    const match = folded.get(trimmed.toLowerCase());
    if (match) {
      ctx.repairs.push(`${name}: ${JSON.stringify(text)} read as ${JSON.stringify(match)}`);
      return match;
    }
    if (match === null) {
      ctx.error = `${name}: ${JSON.stringify(text)} matches several categories when case is ignored`;
      return null;
    }
    if (s.isMissing(trimmed)) return onMissing(ctx);
    if (s.allowNewCategories) {
      ctx.repairs.push(`${name}: new category ${JSON.stringify(trimmed)}`);
      return trimmed;
    }
    ctx.error = `${name}: ${JSON.stringify(text)} is not one of ${count}`;
    return null;
  };
}

function categoryText(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if ((typeof value === "number" && Number.isFinite(value)) || typeof value === "boolean")
    return String(value);
  return undefined;
}

function booleanChecker(col: ColumnMeta, s: Settings, onMissing: (ctx: CheckContext) => null): Check {
  const { name } = col;
  return (value, ctx) => {
    if (typeof value === "boolean") return value;
    if (value === 1 || value === 0) return value === 1;
    if (typeof value === "string") {
      const b = parseBoolean(value, true);
      if (b !== undefined) return b;
      if (s.isMissing(value)) return onMissing(ctx);
    }
    ctx.error = `${name}: ${describe(value)} is not true or false`;
    return null;
  };
}

function datetimeChecker(col: ColumnMeta, s: Settings, onMissing: (ctx: CheckContext) => null): Check {
  const { name, min, max } = col;
  const format = col.datetimeFormat ?? "datetime";
  const shape = format === "date" ? "an ISO date (YYYY-MM-DD)" : "an ISO date-time (YYYY-MM-DDTHH:MM:SSZ)";
  return (value, ctx) => {
    if (typeof value !== "string") {
      ctx.error = `${name}: ${describe(value)} is not ${shape}`;
      return null;
    }
    const d = parseIsoDatetime(value);
    if (d === undefined) {
      if (s.isMissing(value)) return onMissing(ctx);
      ctx.error = `${name}: ${JSON.stringify(value)} is not ${shape}`;
      return null;
    }
    if (format === "date" && d.ms % 86_400_000 !== 0) {
      ctx.error = `${name}: ${JSON.stringify(value)} has a time of day, but the column holds dates`;
      return null;
    }
    const text = formatIsoDatetime(d.ms, format);
    if (s.enforceMinMax && min !== undefined && d.ms < min) {
      ctx.error = `${name}: ${text} is before the real minimum ${formatIsoDatetime(min, format)}`;
    } else if (s.enforceMinMax && max !== undefined && d.ms > max) {
      ctx.error = `${name}: ${text} is after the real maximum ${formatIsoDatetime(max, format)}`;
    }
    return text;
  };
}

function idChecker(col: ColumnMeta, s: Settings): Check {
  return (value, ctx) => {
    const text = categoryText(value);
    if (text === undefined) {
      ctx.error = `${col.name}: ${describe(value)} is not an identifier`;
      return null;
    }
    const trimmed = text.trim();
    return s.isMissing(trimmed) ? null : trimmed;
  };
}

function describe(value: unknown): string {
  if (value === undefined) return "undefined";
  if (typeof value === "string" || typeof value === "boolean" || value === null) return JSON.stringify(value);
  if (typeof value === "number") return formatNumber(value);
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : typeof value;
}
