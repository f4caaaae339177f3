/**
 * HTML text helpers for the report. Every cell value and column name is untrusted: it goes through `escapeHtml`
 * before it reaches the page (the SVG writer of vega escapes the text it draws on its own).
 */

/**
 * The tag that marks a page as synthgraph's report: `generate --report` and `report --out` replace an existing
 * file without --force only when it carries it (cli/output-safety.ts).
 */
export const GENERATOR_META = '<meta name="generator" content="synthgraph">';

const ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Text safe inside an element or a quoted attribute. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]);
}

/** A number for people: n/a when undefined or not finite, else fixed digits (integers as they are). */
export function fmt(x: number | null | undefined, digits = 3): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return "n/a";
  return Number.isInteger(x) ? String(x) : x.toFixed(digits);
}

/** A share in [0, 1] as a percentage with one decimal. */
export function pct(x: number | null | undefined): string {
  return x === null || x === undefined || !Number.isFinite(x) ? "n/a" : `${(100 * x).toFixed(1)}%`;
}

export type Cell = string | number | null | undefined;

/** A table of numbers or text; every header and cell escaped, numbers formatted with `fmt`. */
export function htmlTable(
  headers: readonly string[],
  rows: readonly (readonly Cell[])[],
  caption?: string,
): string {
  const cell = (v: Cell): string => (typeof v === "number" ? fmt(v, 4) : escapeHtml(v ?? ""));
  const head = headers.map((h) => `<th scope="col">${escapeHtml(h)}</th>`).join("");
  const body = rows.map((r) => `<tr>${r.map((v) => `<td>${cell(v)}</td>`).join("")}</tr>`).join("\n");
  const cap = caption === undefined ? "" : `<caption>${escapeHtml(caption)}</caption>`;
  return `<table>${cap}<thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}
