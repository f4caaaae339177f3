/**
 * What the copula engine reports about its fit (SUMMARY.json `fit`, the progress line): the marginal family
 * chosen per numeric column with its parameters, the categories per coded column, and the strongest
 * correlations of the normal scores. Small whatever N: one entry per column, ten pairs.
 */
import { z } from "zod";
import type { CopulaModel } from "./model.ts";

export const CopulaFitSummarySchema = z.object({
  marginals: z.array(
    z.object({
      column: z.string(),
      kind: z.string(),
      /** Numeric columns: the family and its scipy parameters; coded: "categories". */
      family: z.string(),
      params: z.record(z.string(), z.number()),
      missing_rate: z.number(),
    }),
  ),
  categorical: z.array(z.object({ column: z.string(), categories: z.number().int() })),
  strongest_correlations: z.array(z.object({ a: z.string(), b: z.string(), r: z.number() })),
});
export type CopulaFitSummary = z.infer<typeof CopulaFitSummarySchema>;

export function copulaFitSummary(model: CopulaModel, pairs = 10): CopulaFitSummary {
  const marginals: CopulaFitSummary["marginals"] = [];
  const categorical: CopulaFitSummary["categorical"] = [];
  const modelled: string[] = [];
  for (const c of model.columns) {
    if (c.kind === "id") continue;
    modelled.push(c.name);
    if ("marginal" in c) {
      const { family, ...params } = c.marginal;
      marginals.push({ column: c.name, kind: c.kind, family, params, missing_rate: c.missingRate });
    } else categorical.push({ column: c.name, categories: c.categories.length });
  }
  const d = modelled.length;
  const all: CopulaFitSummary["strongest_correlations"] = [];
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < i; j++) all.push({ a: modelled[j], b: modelled[i], r: model.correlation[i * d + j] });
  }
  all.sort((x, y) => Math.abs(y.r) - Math.abs(x.r));
  return { marginals, categorical, strongest_correlations: all.slice(0, pairs) };
}

/** "beta 3, norm 2" from the chosen families, most used first. */
export function familyCounts(s: Pick<CopulaFitSummary, "marginals">): string {
  const counts = new Map<string, number>();
  for (const m of s.marginals) counts.set(m.family, (counts.get(m.family) ?? 0) + 1);
  return [...counts]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([f, n]) => `${f} ${n}`)
    .join(", ");
}
