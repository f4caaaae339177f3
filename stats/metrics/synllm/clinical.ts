/**
 * SynLLM's clinical-consistency score (docs/papers.md, SynLLM "Evaluation": group-wise mean differences and
 * regression-slope deviations relative to the real data, aggregated, lower is better), for the paper's
 * relations whose columns exist (names matched ignoring case and punctuation):
 *   HbA1c by diabetes status     Δ = mean(HbA1c | diabetes = 1) − mean(HbA1c | diabetes = 0)
 *   glucose by diabetes status   the same for blood glucose
 *   glucose by stroke outcome    the same for average glucose and stroke
 *   hypertension–stroke          the same for stroke (0/1) by hypertension: the gap in stroke rates
 *   age gradient of stroke       least-squares slope of stroke (0/1) on age
 * Each relation's gap |stat_real − stat_synthetic| is divided by the real standard deviation of the measured
 * column (for the slope: sd(stroke)/sd(age), the slope of a one-sd change), so relations in different units
 * average; the score is the mean gap over the relations found (null when none is).
 */
import { isNumeric } from "../../../data/build.ts";
import type { Column, Table } from "../../../data/types.ts";

export interface ClinicalRelation {
  relation: string;
  real: number;
  synthetic: number;
  /** |real − synthetic| in units of the real sd (see the header). */
  gap: number;
}

export interface ClinicalConsistency {
  relations: ClinicalRelation[];
  /** Mean gap (lower is better); null when no relation's columns exist. */
  score: number | null;
}

type Relation =
  | { kind: "mean-gap"; name: string; value: string[]; group: string[] }
  | { kind: "slope"; name: string; y: string[]; x: string[] };

const RELATIONS: Relation[] = [
  { kind: "mean-gap", name: "HbA1c by diabetes", value: ["hba1c_level", "hba1c"], group: ["diabetes"] },
  {
    kind: "mean-gap",
    name: "glucose by diabetes",
    value: ["blood_glucose_level", "glucose"],
    group: ["diabetes"],
  },
  { kind: "mean-gap", name: "glucose by stroke", value: ["avg_glucose_level", "glucose"], group: ["stroke"] },
  { kind: "mean-gap", name: "stroke by hypertension", value: ["stroke"], group: ["hypertension"] },
  { kind: "slope", name: "stroke on age", y: ["stroke"], x: ["age"] },
];

const key = (s: string): string => s.toLowerCase().replace(/[^a-z0-9]/g, "");

function find(t: Table, names: readonly string[]): Column | undefined {
  for (const n of names) {
    const c = t.columns.find((x) => key(x.name) === key(n));
    if (c) return c;
  }
  return undefined;
}

/** Values as numbers: numeric as is, boolean as 0/1, other coded columns not usable (NaN). */
function numbers(c: Column): Float64Array {
  if (isNumeric(c)) return c.values;
  const t = c.levels.indexOf("true");
  return Float64Array.from(c.codes, (k) => (c.kind !== "boolean" || k < 0 ? Number.NaN : k === t ? 1 : 0));
}

// Δ = mean(v | g = 1) − mean(v | g = 0) over rows where both are present.
export function groupMeanGap(v: Float64Array, g: Float64Array): number {
  let s1 = 0;
  let n1 = 0;
  let s0 = 0;
  let n0 = 0;
  for (let i = 0; i < v.length; i++) {
    if (Number.isNaN(v[i])) continue;
    if (g[i] === 1) {
      s1 += v[i];
      n1++;
    } else if (g[i] === 0) {
      s0 += v[i];
      n0++;
    }
  }
  return n1 > 0 && n0 > 0 ? s1 / n1 - s0 / n0 : Number.NaN;
}

// b = Σ(x − x̄)(y − ȳ) / Σ(x − x̄)² over rows where both are present.
export function olsSlope(y: Float64Array, x: Float64Array): number {
  let n = 0;
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < y.length; i++) {
    if (Number.isNaN(x[i]) || Number.isNaN(y[i])) continue;
    n++;
    sx += x[i];
    sy += y[i];
  }
  const mx = sx / n;
  const my = sy / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < y.length; i++) {
    if (Number.isNaN(x[i]) || Number.isNaN(y[i])) continue;
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
  }
  return sxx > 0 ? sxy / sxx : Number.NaN;
}

function sd(x: Float64Array): number {
  const v = x.filter((a) => !Number.isNaN(a));
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  return Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1));
}

export function clinicalConsistency(real: Table, synthetic: Table): ClinicalConsistency {
  const relations: ClinicalRelation[] = [];
  for (const r of RELATIONS) {
    const [a, b] = r.kind === "mean-gap" ? [r.value, r.group] : [r.y, r.x];
    const ra = find(real, a);
    const rb = find(real, b);
    const sa = find(synthetic, a);
    const sb = find(synthetic, b);
    if (!ra || !rb || !sa || !sb || ra === rb) continue;
    const stat = r.kind === "mean-gap" ? groupMeanGap : olsSlope;
    const rv = stat(numbers(ra), numbers(rb));
    const sv = stat(numbers(sa), numbers(sb));
    const unit = r.kind === "mean-gap" ? sd(numbers(ra)) : sd(numbers(ra)) / sd(numbers(rb));
    if (!Number.isFinite(rv) || !(unit > 0)) continue;
    relations.push({ relation: r.name, real: rv, synthetic: sv, gap: Math.abs(rv - sv) / unit });
  }
  const found = relations.filter((r) => Number.isFinite(r.gap));
  return {
    relations,
    score: found.length > 0 ? found.reduce((s, r) => s + r.gap, 0) / found.length : null,
  };
}
