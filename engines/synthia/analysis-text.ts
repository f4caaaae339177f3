/**
 * The analyzer's text summary in the format of SYNTHIA appendix A.3 ("Dataset Statistics: ... KS Test Results
 * for continuous data columns [...] is {...} ... Overall Divergence Score: ..."), numbers to 2 decimals.
 * Column names come from the data, so they are written as escaped Python-style string literals: a name can
 * neither break a line nor close a prompt block. Templates only: every number comes from engines/synthia/analyzer.ts.
 */
import type { Metadata, Table } from "../../data/types.ts";
import { type Diagnostics, numericMeans } from "./analyzer.ts";

/** The A.3 text for diagnostics `d` of `synthetic` against `real`, extended with KL and coverage lines. */
export function renderAnalysis(d: Diagnostics, meta: Metadata, real: Table, synthetic: Table): string {
  const kinds = new Map(meta.columns.map((c) => [c.name, c.sdtype] as const));
  const statNames = real.columns.filter((c) => c.kind !== "id").map((c) => c.name);
  const isContinuous = (name: string): boolean => {
    const t = kinds.get(name) ?? real.columns.find((c) => c.name === name)?.kind;
    return t === "numerical" || t === "datetime";
  };
  const continuous = statNames.filter(isContinuous);
  const categorical = statNames.filter((n) => !isContinuous(n));
  const synMeans = numericMeans(synthetic);
  const realMeans = numericMeans(real);

  const lines: string[] = [
    "Dataset Statistics:",
    "-----",
    `Count: ${d.rows} rows`,
    `Columns: ${statNames.length}`,
    `Missing values: ${d.missing}`,
  ];
  for (const name of continuous) {
    if (kinds.get(name) === "datetime") continue;
    lines.push(`Mean ${pyStr(name)}: ${num(synMeans[name])} (real: ${num(realMeans[name])})`);
  }
  const block = (title: string, names: readonly string[], values: Record<string, number>): void => {
    const shown = names.filter((n) => n in values);
    if (shown.length === 0) return;
    lines.push("", `${title} ${pyList(shown)} is`, pyDict(shown, values));
  };
  block("KS Test Results for continuous data columns", continuous, d.ks);
  block("CS Test Results for categorical data columns", categorical, d.cs);
  block("JS Divergence for categorical columns", categorical, d.js);
  block("JS Divergence for continuous columns", continuous, d.js);
  block("KL Divergence for categorical columns", categorical, d.kl);
  block("KL Divergence for continuous columns", continuous, d.kl);
  block("Range Coverage for continuous columns", continuous, d.range_coverage);
  block("Category Coverage for categorical columns", categorical, d.category_coverage);
  lines.push(
    "",
    `Overall Correlation Similarity Score: ${num(d.correlation_similarity)}`,
    `Overall Coverage Score: ${num(d.coverage)}`,
    `Overall Similarity Score: ${num(d.similarity)}`,
    `Overall Divergence Score: ${num(d.divergence)}`,
  );
  return lines.join("\n");
}

/** 2 decimals; Python's spellings for the undefined values. */
function num(x: number | undefined): string {
  if (x === undefined || Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  const s = x.toFixed(2);
  return s === "-0.00" ? "0.00" : s;
}

/** A Python-repr-like single-quoted literal; control characters escaped and "</" written "<\/". */
export function pyStr(s: string): string {
  const body = s
    .replace(/\\/g, "\\\\")
    .replace(/'/g, "\\'")
    .replace(/[\p{Cc}\u2028\u2029]/gu, (c) => {
      const code = c.charCodeAt(0);
      if (c === "\n") return "\\n";
      if (c === "\r") return "\\r";
      if (c === "\t") return "\\t";
      return code <= 0xff
        ? `\\x${code.toString(16).padStart(2, "0")}`
        : `\\u${code.toString(16).padStart(4, "0")}`;
    })
    .replace(/<\//g, "<\\/");
  return `'${body}'`;
}

function pyList(names: readonly string[]): string {
  return `[${names.map(pyStr).join(", ")}]`;
}

function pyDict(names: readonly string[], values: Record<string, number>): string {
  return `{${names.map((n) => `${pyStr(n)}: ${num(values[n])}`).join(", ")}}`;
}
