/**
 * SynLLM's rule engine (docs/papers.md, SynLLM: post-processing "discard rows breaking hard clinical rules";
 * appendix D.2 "a rule engine ... records that violate hard constraints are flagged or discarded"), on the
 * predicate language (docs/predicates.md). Rules come from a file (one predicate per line, `#` comments,
 * implications as `implies(A, B)` or `not A or B`) and from the real data:
 *   ranges      `min <= x <= max` for every numerical and datetime column (`is_missing(x) or ...` when x has
 *               missing values);
 *   impossible  `not (a == "u" and b == "v")` for two discrete columns (categorical, boolean, or integer
 *   pairs       with at most MAX_DISCRETE_LEVELS values) whose levels u, v never occur together although
 *               independence expects at least MIN_EXPECTED_PAIR rows, E = n·p(u)·p(v) (the χ² rule of thumb:
 *               below 5 expected rows an empty cell is no evidence).
 * Calibration: every rule is counted on the real table before use. A rule is broken by a row where it is
 * false; a row where it is unknown (a tested value missing, docs/predicates.md "Missing values") is no
 * evidence either way and breaks nothing. A rule broken by more than `maxShare` of the real rows (default
 * 0.5 %) is demoted to soft: reported, counted on the output, never enforced (the real data itself breaks it,
 * so enforcing it would push the synthetic table away from the real one). Example (diabetes.csv):
 * implies(HbA1c_level > 6.5, diabetes == 1) holds its premise in 12,435 rows and is broken by 7,857 of them.
 */
import { readFileSync } from "node:fs";
import { formatIsoDatetime, formatNumber } from "../../data/cells.ts";
import { isNumeric } from "../../data/build.ts";
import { SynthgraphError } from "../../data/errors.ts";
import {
  compileRowCheck,
  countMatches,
  describePredicate,
  parsePredicate,
  Predicate,
  PredicateError,
} from "../../data/predicate/index.ts";
import type { Column, Metadata, Row, Table } from "../../data/types.ts";

/** Expected co-occurrences under independence below which an unseen pair is not made a rule. */
export const MIN_EXPECTED_PAIR = 5;
/** Integer columns with at most this many distinct values take part in the impossible-pair search. */
export const MAX_DISCRETE_LEVELS = 10;
/** Most impossible-pair rules inferred (highest expected count first): the prompt stays readable. */
export const MAX_PAIR_RULES = 40;

export type RuleSource = "file" | "range" | "pair";

export interface RuleSpec {
  text: string;
  source: RuleSource;
}

export interface CalibratedRule {
  /** Canonical text (docs/predicates.md "Canonical form"). */
  text: string;
  source: RuleSource;
  /** Plain English, for prompts. */
  english: string;
  /** Real rows where the rule is false. */
  broken: number;
  /** Real rows where an implication's premise holds (null for other rules). */
  premise: number | null;
  /** broken / real rows. */
  share: number;
  hard: boolean;
}

/** Rules of a rules file: one predicate per line; blank lines and `#` comments (whole or trailing) skipped. */
export function readRulesFile(path: string, metadata: Metadata): RuleSpec[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new SynthgraphError(`cannot read the rules file ${path}: ${(e as Error).message}`, {
      hint: "--rules takes a text file with one condition per line",
      exitCode: 2,
    });
  }
  return parseRules(text, metadata, path);
}

export function parseRules(text: string, metadata: Metadata, where = "rules"): RuleSpec[] {
  const out: RuleSpec[] = [];
  const errors: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = stripComment(raw).trim();
    if (line === "") return;
    try {
      out.push({ text: parsePredicate(line, metadata).toString(), source: "file" });
    } catch (e) {
      if (!(e instanceof PredicateError)) throw e;
      errors.push(`${where} line ${i + 1}: ${e.problems.map((p) => p.message).join("; ")}`);
    }
  });
  if (errors.length > 0)
    throw new SynthgraphError(`${errors.length} rule(s) do not parse:\n  ${errors.join("\n  ")}`, {
      hint: 'each line is one condition of docs/predicates.md, e.g. implies(pregnant == true, sex == "Female")',
      exitCode: 2,
    });
  return out;
}

/** A `#` outside quotes and backticks starts a comment. */
function stripComment(line: string): string {
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quote !== null) {
      if (ch === "\\" && quote !== "`") i++;
      else if (ch === quote) quote = null;
    } else if (ch === '"' || ch === "'" || ch === "`") quote = ch;
    else if (ch === "#") return line.slice(0, i);
  }
  return line;
}

/** Range rules and impossible-pair rules of the real table (module header). */
export function inferRules(table: Table, metadata: Metadata): RuleSpec[] {
  const out: RuleSpec[] = [];
  for (const m of metadata.columns) {
    if ((m.sdtype !== "numerical" && m.sdtype !== "datetime") || m.min === undefined || m.max === undefined)
      continue;
    const fmt = (x: number): string =>
      m.sdtype === "datetime"
        ? JSON.stringify(formatIsoDatetime(x, m.datetimeFormat ?? "datetime"))
        : formatNumber(x);
    const name = columnRef(m.name);
    const range = `${fmt(m.min)} <= ${name} <= ${fmt(m.max)}`;
    const text = m.missingRate > 0 ? `is_missing(${name}) or ${range}` : range;
    out.push({ text: parsePredicate(text, metadata).toString(), source: "range" });
  }
  out.push(...impossiblePairs(table, metadata));
  return out;
}

interface Discrete {
  name: string;
  /** Literal of each level in the predicate language. */
  literals: string[];
  codes: Int32Array;
  counts: Float64Array;
}

function discreteColumns(table: Table, metadata: Metadata): Discrete[] {
  const out: Discrete[] = [];
  for (const c of table.columns) {
    const m = metadata.columns.find((x) => x.name === c.name);
    if (m === undefined) continue;
    const d = discreteOf(c, m.sdtype, m.integer === true);
    if (d) out.push(d);
  }
  return out;
}

function discreteOf(c: Column, sdtype: string, integer: boolean): Discrete | undefined {
  if (isNumeric(c)) {
    if (sdtype !== "numerical" || !integer) return undefined;
    const values = [...new Set(Array.from(c.values).filter((v) => !Number.isNaN(v)))].sort((a, b) => a - b);
    if (values.length > MAX_DISCRETE_LEVELS || values.length < 2) return undefined;
    const index = new Map(values.map((v, k) => [v, k]));
    const codes = new Int32Array(c.values.length);
    for (let i = 0; i < codes.length; i++)
      codes[i] = Number.isNaN(c.values[i]) ? -1 : (index.get(c.values[i]) ?? -1);
    return {
      name: c.name,
      literals: values.map(formatNumber),
      codes,
      counts: countCodes(codes, values.length),
    };
  }
  if (c.kind === "id") return undefined;
  const literals = c.levels.map((l) => (c.kind === "boolean" ? l : JSON.stringify(l)));
  return { name: c.name, literals, codes: c.codes, counts: countCodes(c.codes, c.levels.length) };
}

function countCodes(codes: Int32Array, k: number): Float64Array {
  const counts = new Float64Array(k);
  for (let i = 0; i < codes.length; i++) if (codes[i] >= 0) counts[codes[i]]++;
  return counts;
}

function impossiblePairs(table: Table, metadata: Metadata): RuleSpec[] {
  const cols = discreteColumns(table, metadata);
  const n = table.nRows;
  const found: Array<{ text: string; expected: number }> = [];
  for (let a = 0; a < cols.length; a++) {
    for (let b = a + 1; b < cols.length; b++) {
      const A = cols[a];
      const B = cols[b];
      const kb = B.counts.length;
      const joint = new Float64Array(A.counts.length * kb);
      for (let i = 0; i < n; i++) {
        const u = A.codes[i];
        const v = B.codes[i];
        if (u >= 0 && v >= 0) joint[u * kb + v]++;
      }
      for (let u = 0; u < A.counts.length; u++) {
        for (let v = 0; v < kb; v++) {
          const expected = (A.counts[u] * B.counts[v]) / n;
          if (joint[u * kb + v] > 0 || expected < MIN_EXPECTED_PAIR) continue;
          const text = `not (${columnRef(A.name)} == ${A.literals[u]} and ${columnRef(B.name)} == ${B.literals[v]})`;
          found.push({ text, expected });
        }
      }
    }
  }
  found.sort((x, y) => y.expected - x.expected);
  return found
    .slice(0, MAX_PAIR_RULES)
    .map((f) => ({ text: parsePredicate(f.text, metadata).toString(), source: "pair" as const }));
}

/** A column name as the predicate language writes it (backticks when not a plain identifier). */
function columnRef(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && !RESERVED.has(name)
    ? name
    : `\`${name.replace(/`/g, "``")}\``;
}
const RESERVED = new Set(["and", "or", "not", "xor", "in", "to", "mod", "true", "false", "null", "between"]);

/** Counts every rule on the real table and marks it hard or soft (module header). */
export function calibrateRules(
  specs: readonly RuleSpec[],
  table: Table,
  metadata: Metadata,
  maxShare: number,
): CalibratedRule[] {
  const seen = new Set<string>();
  const out: CalibratedRule[] = [];
  for (const s of specs) {
    if (seen.has(s.text)) continue;
    seen.add(s.text);
    const pred = parsePredicate(s.text, metadata);
    const broken = countMatches(new Predicate({ type: "not", arg: pred.root }), table);
    const premise = pred.root.type === "implies" ? countMatches(new Predicate(pred.root.if), table) : null;
    const share = table.nRows > 0 ? broken / table.nRows : 0;
    out.push({
      text: pred.toString(),
      source: s.source,
      english: describePredicate(pred),
      broken,
      premise,
      share,
      hard: share <= maxShare,
    });
  }
  return out;
}

/** The first hard rule a row breaks (its canonical text), or null. Unknown (missing values) breaks nothing. */
export function ruleFilter(
  rules: readonly CalibratedRule[],
  metadata: Metadata,
): (row: Row) => string | null {
  const checks = rules
    .filter((r) => r.hard)
    .map((r) => {
      const pred = parsePredicate(r.text, metadata);
      return {
        text: r.text,
        isFalse: compileRowCheck(new Predicate({ type: "not", arg: pred.root }), metadata),
      };
    });
  return (row) => {
    for (const c of checks) if (c.isFalse(row)) return c.text;
    return null;
  };
}

/** Real-table rows where each rule is false (for the soft rules' counts on the output). */
export function brokenCount(rule: Pick<CalibratedRule, "text">, table: Table, metadata: Metadata): number {
  const pred = parsePredicate(rule.text, metadata);
  return countMatches(new Predicate({ type: "not", arg: pred.root }), table);
}
