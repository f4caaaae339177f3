/**
 * Dates written in more than one format in one column ("2020-01-15", "15/01/2020", "3 Feb 2020"): which format
 * each cell has, whether the column can be read as dates without guessing, and the note saying how it is read
 * (docs/robustness.md, "Reading dates written in several formats").
 *
 * Formats recognised (dates only; date-times only in ISO form, data/cells.ts parseIsoDatetime):
 * - ISO `YYYY-MM-DD` (and ISO date-times);
 * - year first with `/` or `.`: `2020/01/15`;
 * - numbers with the year last, separated by `/`, `.` or `-`: `15/01/2020` (day first) or `01/15/2020` (month
 *   first). The order is settled only by a cell whose first number is above 12 (day first) or whose second is
 *   (month first); a column where no cell settles it, or where cells settle it both ways, is not read as dates;
 * - English month names: `3 Feb 2020`, `3-Feb-2020`, `Feb 3, 2020`, `February 3 2020`.
 */
import { parseIsoDatetime } from "./cells.ts";
import type { Cell } from "./infer.ts";

/** For numeric dates with the year last: day first (15/01/2020) or month first (01/15/2020). */
export type DateOrder = "dmy" | "mdy";

/** The strftime formats a metadata file may give to choose the order of numeric dates (docs/metadata.md). */
export const DATE_ORDER_FORMATS: Readonly<Record<DateOrder, string>> = { dmy: "%d/%m/%Y", mdy: "%m/%d/%Y" };

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"] as const;
const MONTH_NAMES = [
  "january",
  "february",
  "march",
  "april",
  "may",
  "june",
  "july",
  "august",
  "september",
  "october",
  "november",
  "december",
];

const YMD_RE = /^(\d{4})([/.])(\d{1,2})\2(\d{1,2})$/;
const NUMERIC_RE = /^(\d{1,2})([/.-])(\d{1,2})\2(\d{4})$/;
const DAY_MONTH_NAME_RE = /^(\d{1,2})[ -]([A-Za-z]{3,9})\.?[ -](\d{4})$/;
const MONTH_NAME_DAY_RE = /^([A-Za-z]{3,9})\.? (\d{1,2}),? (\d{4})$/;

/** One cell's reading: its format's label, and for numeric dates with the year last, the two numbers. */
interface DateCell {
  /** e.g. "YYYY-MM-DD", "YYYY/MM/DD", "DD Mon YYYY"; numeric year-last dates: "NN/NN/YYYY" (order unknown). */
  readonly label: string;
  /** Epoch ms UTC; undefined for a numeric year-last date until its order is known. */
  readonly ms?: number;
  readonly hasTime?: boolean;
  /** Numeric year-last dates: the first and second numbers, the separator and the year. */
  readonly numeric?: { a: number; b: number; sep: string; year: number };
}

function monthOf(word: string): number | undefined {
  const w = word.toLowerCase();
  const k = w.length === 3 ? MONTHS.indexOf(w as (typeof MONTHS)[number]) : MONTH_NAMES.indexOf(w);
  // "Sept" is common enough to accept.
  if (k < 0 && w === "sept") return 9;
  return k < 0 ? undefined : k + 1;
}

/** Epoch ms of a calendar date, undefined when it does not exist (2021-02-30). */
function utcDate(y: number, m: number, d: number): number | undefined {
  if (m < 1 || m > 12 || d < 1) return undefined;
  const ms = Date.UTC(y, m - 1, d);
  return new Date(ms).getUTCDate() === d ? ms : undefined;
}

/** The format of a date cell, or undefined when the cell is not a date in a recognised format. */
function readDateCell(cell: string): DateCell | undefined {
  const s = cell.trim();
  const iso = parseIsoDatetime(s);
  if (iso)
    return { label: iso.hasTime ? "YYYY-MM-DD HH:MM" : "YYYY-MM-DD", ms: iso.ms, hasTime: iso.hasTime };
  let m = YMD_RE.exec(s);
  if (m) {
    const ms = utcDate(Number(m[1]), Number(m[3]), Number(m[4]));
    return ms === undefined ? undefined : { label: `YYYY${m[2]}MM${m[2]}DD`, ms };
  }
  m = NUMERIC_RE.exec(s);
  if (m) {
    const a = Number(m[1]);
    const b = Number(m[3]);
    const year = Number(m[4]);
    // A date under at least one order: otherwise not a date at all (45/45/2020).
    if (utcDate(year, b, a) === undefined && utcDate(year, a, b) === undefined) return undefined;
    return { label: `NN${m[2]}NN${m[2]}YYYY`, numeric: { a, b, sep: m[2], year } };
  }
  m = DAY_MONTH_NAME_RE.exec(s);
  if (m) {
    const month = monthOf(m[2]);
    const ms = month === undefined ? undefined : utcDate(Number(m[3]), month, Number(m[1]));
    return ms === undefined ? undefined : { label: "DD Mon YYYY", ms };
  }
  m = MONTH_NAME_DAY_RE.exec(s);
  if (m) {
    const month = monthOf(m[1]);
    const ms = month === undefined ? undefined : utcDate(Number(m[3]), month, Number(m[2]));
    return ms === undefined ? undefined : { label: "Mon DD, YYYY", ms };
  }
  return undefined;
}

/** The label of a numeric year-last format once its order is known: DD/MM/YYYY or MM/DD/YYYY. */
function orderedLabel(sep: string, order: DateOrder): string {
  return order === "dmy" ? `DD${sep}MM${sep}YYYY` : `MM${sep}DD${sep}YYYY`;
}

/**
 * A date cell in any recognised format as epoch ms UTC; numeric year-last dates need `order` unless only one
 * order gives a date (15/01/2020). Undefined when the cell is not a date (or its order is unknown).
 */
export function parseDateAnyFormat(
  cell: string,
  order: DateOrder | undefined,
): { ms: number; hasTime: boolean } | undefined {
  const d = readDateCell(cell);
  if (d === undefined) return undefined;
  if (d.numeric === undefined)
    return d.ms === undefined ? undefined : { ms: d.ms, hasTime: d.hasTime === true };
  const { a, b, year } = d.numeric;
  const dmy = utcDate(year, b, a);
  const mdy = utcDate(year, a, b);
  const ms =
    order === "dmy"
      ? dmy
      : order === "mdy"
        ? mdy
        : dmy === undefined
          ? mdy
          : mdy === undefined
            ? dmy
            : undefined;
  return ms === undefined ? undefined : { ms, hasTime: false };
}

/** What inference found in a column whose cells are all dates, in at least two formats. */
export interface MixedDates {
  /** Readable as dates: the order of numeric year-last dates, "none" when the column has none of them. */
  readonly order: DateOrder | "none" | undefined;
  /** Whether any cell has a time of day (ISO date-times). */
  readonly anyTime: boolean;
  /** The note naming the formats with counts and an example each, and how the column is read. */
  readonly note: string;
}

/**
 * Dates in more than one format (every non-missing cell a date, at least two formats): undefined for any other
 * column. `order` is undefined when numeric year-last dates cannot be read without guessing (no cell settles
 * the order, or cells settle it both ways); the column is then read as text and the note says how to declare
 * the order. A column in one format is left to the other rules (ISO: datetime; anything else: text).
 */
export function inferMixedDates(name: string, cells: readonly Cell[]): MixedDates | undefined {
  const formats = new Map<string, { count: number; example: string }>();
  let dayFirst: string | undefined;
  let monthFirst: string | undefined;
  let anyTime = false;
  let any = false;
  for (const c of cells) {
    if (c === null) continue;
    const d = readDateCell(c);
    if (d === undefined) return undefined;
    any = true;
    if (d.hasTime) anyTime = true;
    const f = formats.get(d.label);
    if (f) f.count++;
    else formats.set(d.label, { count: 1, example: c.trim() });
    if (d.numeric) {
      if (d.numeric.a > 12) dayFirst ??= c.trim();
      if (d.numeric.b > 12) monthFirst ??= c.trim();
    }
  }
  if (!any || formats.size < 2) return undefined;
  const numeric = [...formats.keys()].some((l) => l.startsWith("NN"));
  const order: DateOrder | "none" | undefined = !numeric
    ? "none"
    : dayFirst !== undefined && monthFirst === undefined
      ? "dmy"
      : monthFirst !== undefined && dayFirst === undefined
        ? "mdy"
        : undefined;
  const label = (l: string): string =>
    l.startsWith("NN") && (order === "dmy" || order === "mdy") ? orderedLabel(l[2], order) : l;
  const list = [...formats.entries()]
    .sort((x, y) => y[1].count - x[1].count)
    .map(
      ([l, f]) =>
        `${label(l)} (${f.count} cell${f.count === 1 ? "" : "s"}, e.g. ${JSON.stringify(f.example)})`,
    )
    .join(", ");
  const head = `column "${name}" has dates in ${formats.size} formats: ${list}`;
  const keepText = `declare "${name}" in the metadata as {"sdtype": "categorical"} to keep the text as it is`;
  const declare = `to read it as dates, declare "${name}" in the metadata as {"sdtype": "datetime", "datetime_format": "${DATE_ORDER_FORMATS.dmy}"} (day first) or "${DATE_ORDER_FORMATS.mdy}" (month first)`;
  if (order === undefined) {
    const why =
      dayFirst !== undefined && monthFirst !== undefined
        ? `some dates put the day first (${JSON.stringify(dayFirst)}) and others the month first (${JSON.stringify(monthFirst)})`
        : "no date with the year last settles whether the day or the month comes first (e.g. 03/04/2020)";
    return {
      order,
      anyTime,
      note: `${head}; ${why}, so the column is read as text (categorical); ${declare}`,
    };
  }
  const how =
    order === "none"
      ? ""
      : order === "dmy"
        ? ` (day first, as ${JSON.stringify(dayFirst)} shows)`
        : ` (month first, as ${JSON.stringify(monthFirst)} shows)`;
  const iso = anyTime ? "YYYY-MM-DDTHH:MM:SSZ" : "YYYY-MM-DD";
  return {
    order,
    anyTime,
    note: `${head}; read as dates${how}, each cell converted, and written as ${iso} in generated tables; ${keepText}`,
  };
}
