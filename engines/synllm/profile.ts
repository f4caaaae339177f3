/**
 * SynLLM's schema and statistical extraction (docs/papers.md, SynLLM: "Metadata extraction rules", §III-C):
 *   numerical f   → (μ_f, σ_f, min_f, max_f, quantiles_f), σ the sample standard deviation (n − 1), quantiles
 *                   the quartiles by linear interpolation (numpy's default);
 *   categorical f → the empirical probability mass p_f, after merging every level seen fewer than `rareCount`
 *                   (5) times into "Other" (rare-category disclosure: a level of 3 patients names 3 patients);
 *   pairs (f, g)  → Pearson ρ_fg, kept only when |ρ_fg| > `minCorrelation` (0.15).
 * Pearson needs numbers: it is computed between numerical and boolean (as 0/1) columns, over the rows where
 * both are present; categorical columns of more than two levels have no Pearson correlation and get none.
 * Datetime columns are profiled like numbers (epoch ms) for the range only. Id columns are left out.
 * Only these aggregates leave the real table (except SEEDEx's example rows).
 */
import { isNumeric } from "../../data/build.ts";
import type { Column, Metadata, Table } from "../../data/types.ts";
import { quantileSorted } from "../../stats/primitives/binning.ts";
import { pearsonPairwise } from "../../stats/metrics/pairs/correlation.ts";

export interface NumericProfile {
  kind: "numeric";
  name: string;
  integer: boolean;
  datetime: boolean;
  mean: number;
  sd: number;
  min: number;
  max: number;
  /** Q1, median, Q3. */
  quartiles: [number, number, number];
  missingShare: number;
}

export interface CategoricalProfile {
  kind: "categorical";
  name: string;
  boolean: boolean;
  /** Levels with their share of the present values, most frequent first; rare levels merged into "Other". */
  levels: Array<{ value: string; share: number }>;
  /** Levels merged into "Other" (not named in any prompt). */
  merged: number;
  missingShare: number;
}

export type ColumnProfile = NumericProfile | CategoricalProfile;

export interface Correlation {
  a: string;
  b: string;
  rho: number;
}

export interface TableProfile {
  rows: number;
  columns: ColumnProfile[];
  /** Pairs with |ρ| above the threshold, strongest first. */
  correlations: Correlation[];
}

export const OTHER_LEVEL = "Other";

export function profileTable(
  table: Table,
  metadata: Metadata,
  opts: { rareCount: number; minCorrelation: number },
): TableProfile {
  const columns: ColumnProfile[] = [];
  const numeric: Array<{ name: string; values: Float64Array }> = [];
  for (const c of table.columns) {
    if (c.kind === "id") continue;
    const meta = metadata.columns.find((m) => m.name === c.name);
    if (isNumeric(c)) {
      const p = numericProfile(c.name, c.values, meta?.integer === true, c.kind === "datetime");
      columns.push(p);
      if (c.kind === "numerical") numeric.push({ name: c.name, values: c.values });
    } else {
      columns.push(categoricalProfile(c, opts.rareCount));
      if (c.kind === "boolean") numeric.push({ name: c.name, values: booleanValues(c) });
    }
  }
  const correlations: Correlation[] = [];
  for (let i = 0; i < numeric.length; i++) {
    for (let j = i + 1; j < numeric.length; j++) {
      const rho = pearsonPairwise(numeric[i].values, numeric[j].values);
      if (Number.isFinite(rho) && Math.abs(rho) > opts.minCorrelation)
        correlations.push({ a: numeric[i].name, b: numeric[j].name, rho });
    }
  }
  correlations.sort((x, y) => Math.abs(y.rho) - Math.abs(x.rho));
  return { rows: table.nRows, columns, correlations };
}

function numericProfile(
  name: string,
  values: Float64Array,
  integer: boolean,
  datetime: boolean,
): NumericProfile {
  const present = values.filter((v) => !Number.isNaN(v)).sort();
  const n = present.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += present[i];
  const mean = n > 0 ? sum / n : Number.NaN;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (present[i] - mean) ** 2;
  return {
    kind: "numeric",
    name,
    integer,
    datetime,
    mean,
    sd: n > 1 ? Math.sqrt(ss / (n - 1)) : Number.NaN,
    min: n > 0 ? present[0] : Number.NaN,
    max: n > 0 ? present[n - 1] : Number.NaN,
    quartiles: [quantileSorted(present, 0.25), quantileSorted(present, 0.5), quantileSorted(present, 0.75)],
    missingShare: values.length > 0 ? (values.length - n) / values.length : 0,
  };
}

function categoricalProfile(
  c: Extract<Column, { codes: Int32Array }>,
  rareCount: number,
): CategoricalProfile {
  const counts = new Float64Array(c.levels.length);
  let present = 0;
  for (let i = 0; i < c.codes.length; i++) {
    const k = c.codes[i];
    if (k >= 0) {
      counts[k]++;
      present++;
    }
  }
  const kept: Array<{ value: string; count: number }> = [];
  let other = 0;
  let merged = 0;
  c.levels.forEach((value, k) => {
    if (counts[k] === 0) return;
    if (counts[k] < rareCount) {
      other += counts[k];
      merged++;
    } else kept.push({ value, count: counts[k] });
  });
  if (other > 0) {
    // A real level already called "Other" takes the merged ones in (one "Other" line, never two).
    const existing = kept.find((l) => l.value === OTHER_LEVEL);
    if (existing) existing.count += other;
    else kept.push({ value: OTHER_LEVEL, count: other });
  }
  kept.sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : 1));
  return {
    kind: "categorical",
    name: c.name,
    boolean: c.kind === "boolean",
    levels: kept.map((l) => ({ value: l.value, share: present > 0 ? l.count / present : 0 })),
    merged,
    missingShare: c.codes.length > 0 ? (c.codes.length - present) / c.codes.length : 0,
  };
}

function booleanValues(c: Extract<Column, { codes: Int32Array }>): Float64Array {
  const t = c.levels.indexOf("true");
  const out = new Float64Array(c.codes.length);
  for (let i = 0; i < out.length; i++) out[i] = c.codes[i] < 0 ? Number.NaN : c.codes[i] === t ? 1 : 0;
  return out;
}
