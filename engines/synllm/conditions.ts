/**
 * SynLLM conditioned at the source (docs/conditions.md; the run's groups come from graph/conditions.ts). For a
 * final batch of group g, every prompt type states the condition and is built from the group's region:
 *
 * - the metadata is the narrowed one (levels restricted, ranges tightened), which also narrows the provider-side
 *   row schema (enums, the `{"rows": [...]}` JSON Schema);
 * - the profile (FEATDESC's ranges, STATGUIDE's and CLINRULE's statistics and correlations) is that of the real
 *   rows satisfying the condition, or of the whole table when none does, then held to the narrowed ranges and
 *   levels (shares renormalised over the allowed levels);
 * - SEEDEx's examples (and FEATDESC / STATGUIDE's with appendixExamples) are real rows that satisfy it, when
 *   there are any; CLINRULE still shows none;
 * - the rows are then checked by code in graph/finalize.ts (splitBySatisfaction), as for every engine.
 *
 * `sourceConditioning: false` (config.ts) builds the unconditional prompt and schema for every group, leaving
 * only the code's check: what bench/conditions.bench.ts compares.
 */
import { takeTableRows } from "../../data/build.ts";
import { describePredicate } from "../../data/predicate/describe.ts";
import type { Metadata } from "../../data/types.ts";
import { type RunCondition, satisfyingRealRows } from "../../graph/conditions.ts";
import type { RealData } from "../../graph/runtime.ts";
import type { PromptType } from "./config.ts";
import { OTHER_LEVEL, profileTable, type TableProfile } from "./profile.ts";

/** The condition as a SynLLM prompt states it (the first line's wording is shared with SYNTHIA's). */
export function synllmConditionLines(c: RunCondition, type: PromptType, examplesShown: number): string[] {
  const shown =
    type === "seedex"
      ? examplesShown > 0
        ? "The example records all satisfy it."
        : "No real record satisfies it, so the examples show the table's general patterns only: follow the condition where they differ."
      : "The features and their ranges and categories above are already restricted to it.";
  return [
    "",
    "Condition (every record must satisfy it):",
    `Every row you write must satisfy: ${c.where}`,
    `In words: ${describePredicate(c.predicate)}.`,
    shown,
    "Records that do not satisfy the condition are discarded.",
  ];
}

/** The profile held to the narrowed metadata: numeric ranges clamped, levels outside the region dropped. */
export function narrowProfile(p: TableProfile, narrowed: Metadata): TableProfile {
  const meta = new Map(narrowed.columns.map((c) => [c.name, c]));
  const columns = p.columns.map((c) => {
    const m = meta.get(c.name);
    if (m === undefined) return c;
    if (c.kind === "numeric") {
      const lo = m.min ?? c.min;
      const hi = m.max ?? c.max;
      const min = Math.min(Math.max(c.min, lo), hi);
      const max = Math.max(Math.min(c.max, hi), lo);
      return { ...c, min, max };
    }
    const allowed = c.boolean ? null : new Set((m.levels ?? []).map((l) => l.value));
    if (allowed === null) return c;
    // "Other" stands for merged rare levels: kept only when the region allows some level the profile does not name.
    const named = new Set(c.levels.map((l) => l.value));
    const otherAllowed = [...allowed].some((v) => !named.has(v));
    const kept = c.levels.filter((l) => allowed.has(l.value) || (l.value === OTHER_LEVEL && otherAllowed));
    const total = kept.reduce((s, l) => s + l.share, 0);
    const levels =
      kept.length > 0 && total > 0
        ? kept.map((l) => ({ ...l, share: l.share / total }))
        : [...allowed].map((value) => ({ value, share: 1 / allowed.size }));
    return { ...c, levels };
  });
  return { ...p, columns };
}

/** The profile of group g's region (module header). */
export function regionProfile(
  c: RunCondition,
  real: RealData,
  opts: { rareCount: number; minCorrelation: number },
): TableProfile {
  const idx = satisfyingRealRows(c, real.table);
  const table = idx.length > 0 ? takeTableRows(real.table, idx) : real.table;
  return narrowProfile(profileTable(table, c.narrowed.metadata, opts), c.narrowed.metadata);
}
