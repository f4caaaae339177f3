/**
 * Very high-cardinality categoricals (a zip code, a free-text field read as categories): their pair, model and
 * row-level metrics run on the K − 1 most frequent levels of the real table plus one "other" level, so that an
 * evaluation stays bounded in time and memory (a 10,000-level column one-hot encoded over 60,000 rows is a
 * 4.8 GB matrix, and a logistic regression on 10,000 features does not finish). Column shapes keep every level.
 *
 * Definition: for a categorical column with more than K distinct levels in the real table, let T be its K − 1
 * most frequent real levels (ties: the earlier level in the real table's level order). Every table's column is
 * recoded by level text: a level in T keeps its text, any other level (in real, synthetic or holdout) becomes
 * OTHER_LEVEL; missing stays missing. K = MAX_LEVELS by default. Columns with at most K levels are unchanged,
 * so no evaluation of a table without such a column changes.
 */
import type { CodedColumn, Column, Table } from "../../data/types.ts";

/** The most levels a categorical column keeps in pair, model and row-level metrics (docs/metrics.md §6). */
export const MAX_LEVELS = 100;

/** The level every dropped level becomes (made unique against the kept ones). */
export const OTHER_LEVEL = "(other)";

export interface CappedColumn {
  readonly column: string;
  /** Distinct levels in the real table. */
  readonly levels: number;
  /** Levels kept as they are (the most frequent real ones); the rest are "other". */
  readonly kept: number;
  /** The text of the "other" level. */
  readonly other: string;
  /** Share of the non-missing real / synthetic rows whose level became "other". */
  readonly other_share_real: number;
  readonly other_share_synthetic: number;
}

/** The K − 1 most frequent levels (by code) of a coded column, ties to the lower code. */
function topCodes(col: CodedColumn, keep: number): Set<number> {
  const counts = new Float64Array(col.levels.length);
  for (let i = 0; i < col.codes.length; i++) if (col.codes[i] >= 0) counts[col.codes[i]]++;
  const order = Array.from(counts.keys())
    .filter((k) => counts[k] > 0)
    .sort((a, b) => counts[b] - counts[a] || a - b);
  return new Set(order.slice(0, keep));
}

/** Distinct levels that occur in a coded column. */
function occurringLevels(col: CodedColumn): number {
  const seen = new Uint8Array(col.levels.length);
  let n = 0;
  for (let i = 0; i < col.codes.length; i++) {
    const c = col.codes[i];
    if (c >= 0 && seen[c] === 0) {
      seen[c] = 1;
      n++;
    }
  }
  return n;
}

/** `col` recoded onto `levels` (kept texts, then the other level): any text not kept becomes the last level. */
function recodeOnto(
  col: CodedColumn,
  index: ReadonlyMap<string, number>,
  levels: readonly string[],
): {
  column: CodedColumn;
  other: number;
  present: number;
} {
  const otherCode = levels.length - 1;
  const map = new Int32Array(col.levels.length);
  col.levels.forEach((l, k) => {
    map[k] = index.get(l) ?? otherCode;
  });
  const codes = new Int32Array(col.codes.length);
  let other = 0;
  let present = 0;
  for (let i = 0; i < codes.length; i++) {
    const c = col.codes[i];
    if (c < 0) {
      codes[i] = -1;
      continue;
    }
    codes[i] = map[c];
    present++;
    if (codes[i] === otherCode) other++;
  }
  return { column: { kind: col.kind, name: col.name, codes, levels }, other, present };
}

/**
 * The tables with every categorical column of more than `maxLevels` real levels reduced to its top
 * `maxLevels − 1` real levels plus "other" (same columns, same order, by name in every table), and what was
 * reduced. Tables are returned as they are when no column needs it.
 */
export function capLevels(
  real: Table,
  others: readonly Table[],
  maxLevels: number = MAX_LEVELS,
): { real: Table; others: Table[]; capped: CappedColumn[] } {
  if (maxLevels < 2) throw new Error(`capLevels: maxLevels must be at least 2, got ${maxLevels}`);
  const capped: CappedColumn[] = [];
  const realCols: Column[] = [...real.columns];
  const otherCols: Column[][] = others.map((t) => [...t.columns]);
  real.columns.forEach((rc, j) => {
    if (rc.kind !== "categorical") return;
    const levels = occurringLevels(rc);
    if (levels <= maxLevels) return;
    const top = [...topCodes(rc, maxLevels - 1)].sort((a, b) => a - b);
    const kept = top.map((k) => rc.levels[k]);
    let other = OTHER_LEVEL;
    while (kept.includes(other)) other = `(${other})`;
    const newLevels = [...kept, other];
    const index = new Map(kept.map((l, k) => [l, k] as const));
    const r = recodeOnto(rc, index, newLevels);
    realCols[j] = r.column;
    let synthShare = Number.NaN;
    others.forEach((t, o) => {
      const c = t.columns.find((x) => x.name === rc.name);
      if (c === undefined || c.kind !== "categorical") return;
      const k = t.columns.indexOf(c);
      const s = recodeOnto(c, index, newLevels);
      otherCols[o][k] = s.column;
      if (o === 0) synthShare = s.present === 0 ? Number.NaN : s.other / s.present;
    });
    capped.push({
      column: rc.name,
      levels,
      kept: kept.length,
      other,
      other_share_real: r.present === 0 ? Number.NaN : r.other / r.present,
      other_share_synthetic: synthShare,
    });
  });
  if (capped.length === 0) return { real, others: [...others], capped };
  return {
    real: { nRows: real.nRows, columns: realCols },
    others: others.map((t, o) => ({ nRows: t.nRows, columns: otherCols[o] })),
    capped,
  };
}
