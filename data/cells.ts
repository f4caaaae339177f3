/**
 * Parsing and formatting of single cells: missing markers, numbers, booleans and ISO dates. Shared by the
 * readers, type inference, the CSV writer and the row validator so that a value means the same everywhere.
 */
import { type BooleanLabels, MAX_DECIMALS } from "./types.ts";

/** Cells read as missing, compared after trimming and lower-casing (docs/metadata.md, "Missing values"). */
export const DEFAULT_MISSING_MARKERS: readonly string[] = ["", "na", "n/a", "nan", "null", "none", "?"];

const DEFAULT_MISSING_SET = new Set(DEFAULT_MISSING_MARKERS);

/** A predicate for missing cells from a marker list (trimmed, case-insensitive). */
export function missingMatcher(
  markers: readonly string[] = DEFAULT_MISSING_MARKERS,
): (cell: string) => boolean {
  const set =
    markers === DEFAULT_MISSING_MARKERS ? DEFAULT_MISSING_SET : new Set(markers.map(normalizeMarker));
  let longest = 0;
  for (const m of set) longest = Math.max(longest, m.length);
  return (cell) => {
    if (cell.length === 0) return set.has("");
    // Cheap length test first: almost every cell is longer than every marker plus padding.
    if (cell.length > longest + 8) return false;
    return set.has(normalizeMarker(cell));
  };
}

export const isMissingMarker: (cell: string) => boolean = missingMatcher();

function normalizeMarker(s: string): string {
  return s.trim().toLowerCase();
}

const NUMBER_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A decimal number (optional sign, fraction and exponent; no hex, no thousands separators), else NaN. */
export function parseDecimal(cell: string): number {
  const s = cell.trim();
  if (!NUMBER_RE.test(s)) return Number.NaN;
  const x = Number(s);
  return Number.isFinite(x) ? x : Number.NaN;
}

/** True for numeric-looking text with a leading zero such as "007" (codes, not quantities). */
export function hasLeadingZero(cell: string): boolean {
  const s = cell.trim();
  const i = s[0] === "+" || s[0] === "-" ? 1 : 0;
  return s.length > i + 1 && s[i] === "0" && s.charCodeAt(i + 1) >= 48 && s.charCodeAt(i + 1) <= 57;
}

/** numpy round/rint: nearest integer, ties to even. */
export function roundHalfEven(y: number): number {
  const r = Math.round(y);
  return r - y === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Shortest text that reads back as the same double ("40", "0.1", "1e-7"); missing (NaN) is "". */
export function formatNumber(x: number): string {
  return Number.isNaN(x) ? "" : String(x);
}

// Above 2^52 every double is a whole number, so x·10^d has no fraction left to round.
const EXACT_WHOLE = 2 ** 52;

// x rounded to d decimals = rint(x·10^d)/10^d, ties to even (numpy.round); the division gives the double nearest the decimal.
export function roundTo(x: number, decimals: number): number {
  const f = 10 ** decimals;
  const y = x * f;
  if (!Number.isFinite(y) || Math.abs(y) >= EXACT_WHOLE) return x;
  return roundHalfEven(y) / f;
}

/**
 * Decimals a value needs: the least d ≤ MAX_DECIMALS with roundTo(x, d) = x, i.e. the fraction digits of its
 * shortest text ("2.5" → 1, "1e-7" → 7), MAX_DECIMALS if none; `from` skips the d already known too few.
 */
export function decimalsOf(x: number, from = 0): number {
  let d = from;
  while (d < MAX_DECIMALS && roundTo(x, d) !== x) d++;
  return d;
}

/** The boolean vocabularies: a column is boolean when all its values come from one pair. */
export const BOOLEAN_PAIRS: ReadonlyArray<readonly [string, string]> = [
  ["true", "false"],
  ["yes", "no"],
  ["t", "f"],
  ["y", "n"],
];

const BOOLEAN_WORDS = new Map<string, { value: boolean; pair: number }>();
BOOLEAN_PAIRS.forEach(([t, f], pair) => {
  BOOLEAN_WORDS.set(t, { value: true, pair });
  BOOLEAN_WORDS.set(f, { value: false, pair });
});

/** Which vocabulary pair a cell belongs to (index into BOOLEAN_PAIRS), or -1. */
export function booleanPairOf(cell: string): number {
  if (cell.length > 7) return -1;
  return BOOLEAN_WORDS.get(cell.trim().toLowerCase())?.pair ?? -1;
}

/**
 * A boolean from text in any vocabulary pair (case-insensitive), or from "0"/"1" when `allowDigits`
 * (only when the user declared the column boolean); undefined if not a boolean.
 */
export function parseBoolean(cell: string, allowDigits: boolean): boolean | undefined {
  const s = cell.trim().toLowerCase();
  const word = BOOLEAN_WORDS.get(s);
  if (word) return word.value;
  if (allowDigits) {
    const x = parseDecimal(s);
    if (x === 1) return true;
    if (x === 0) return false;
  }
  return undefined;
}

/** The labels true/false: what a boolean column without learned labels is written as. */
export const DEFAULT_BOOLEAN_LABELS: BooleanLabels = { true: "true", false: "false" };

/**
 * The other value's spelling in the same vocabulary and case: "Yes" → "No", "TRUE" → "FALSE", "y" → "n",
 * "1" → "0". `label` must read as `value` (parseBoolean with digits).
 */
export function partnerLabel(label: string, value: boolean): string {
  const pair = booleanPairOf(label);
  if (pair < 0) return value ? "0" : "1";
  const word = BOOLEAN_PAIRS[pair][value ? 1 : 0];
  if (label === label.toUpperCase()) return word.toUpperCase();
  if (label[0] === label[0].toUpperCase()) return word[0].toUpperCase() + word.slice(1);
  return word;
}

export type DatetimeFormat = "date" | "datetime";

export interface ParsedDatetime {
  /** Epoch milliseconds, UTC. */
  readonly ms: number;
  /** Whether the text carried a time part. */
  readonly hasTime: boolean;
}

const ISO_RE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

/**
 * An ISO 8601 date (YYYY-MM-DD) or date-time (YYYY-MM-DD[T ]HH:MM[:SS[.fff]][Z|±HH:MM]) as epoch ms UTC;
 * a time without offset is read as UTC. Impossible dates (2021-02-30) give undefined.
 */
export function parseIsoDatetime(cell: string): ParsedDatetime | undefined {
  const m = ISO_RE.exec(cell.trim());
  if (!m) return undefined;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) return undefined;
  if (m[4] === undefined) return { ms: Date.UTC(y, mo - 1, d), hasTime: false };
  const h = Number(m[4]);
  const mi = Number(m[5]);
  const s = m[6] === undefined ? 0 : Number(m[6]);
  if (h > 23 || mi > 59 || s > 59) return undefined;
  const frac = m[7] === undefined ? 0 : Math.round(Number(m[7]) * 1000);
  const utc = Date.UTC(y, mo - 1, d, h, mi, s, frac);
  return { ms: utc - offsetMinutes(m[8]) * 60_000, hasTime: true };
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function offsetMinutes(zone: string | undefined): number {
  if (zone === undefined || zone.toUpperCase() === "Z") return 0;
  const sign = zone[0] === "-" ? -1 : 1;
  const digits = zone.slice(1).replace(":", "");
  const hours = Number(digits.slice(0, 2));
  const minutes = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
  return sign * (hours * 60 + minutes);
}

/** ISO text for epoch ms: "YYYY-MM-DD" for dates, "YYYY-MM-DDTHH:MM:SS[.fff]Z" for date-times; NaN is "". */
export function formatIsoDatetime(ms: number, format: DatetimeFormat): string {
  if (Number.isNaN(ms)) return "";
  const iso = new Date(ms).toISOString();
  if (format === "date") return iso.slice(0, iso.indexOf("T"));
  return iso.endsWith(".000Z") ? `${iso.slice(0, -5)}Z` : iso;
}

/** Whether epoch ms fall exactly on a UTC midnight (a date without time). */
export function isUtcMidnight(ms: number): boolean {
  return ms % 86_400_000 === 0;
}
