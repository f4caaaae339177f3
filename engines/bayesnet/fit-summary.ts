/**
 * What the Bayesian-network engine reports about its fit (SUMMARY.json `fit`, the progress line): the DAG's
 * edges, each node's parents and state count, and the free parameters of the CPTs as stored (Σ over stored
 * parent configurations of r − 1, plus r − 1 for each node's back-off marginal).
 */
import { z } from "zod";
import type { BayesNetModel } from "./model.ts";

export const BayesnetFitSummarySchema = z.object({
  bins: z.number().int(),
  pseudo_count: z.number(),
  edges: z.array(z.tuple([z.string(), z.string()])),
  nodes: z.array(
    z.object({
      column: z.string(),
      states: z.number().int(),
      parents: z.array(z.string()),
      parent_configurations_seen: z.number().int(),
    }),
  ),
  parameters: z.number().int(),
});
export type BayesnetFitSummary = z.infer<typeof BayesnetFitSummarySchema>;

export function bayesnetFitSummary(model: BayesNetModel): BayesnetFitSummary {
  let parameters = 0;
  const nodes: BayesnetFitSummary["nodes"] = [];
  for (const c of model.columns) {
    if (c.kind === "id") continue;
    const cpt = model.cpts[c.name];
    const r = c.states.length;
    const seen = Object.keys(cpt.rows).length;
    parameters += (seen + 1) * (r - 1);
    nodes.push({ column: c.name, states: r, parents: cpt.parents, parent_configurations_seen: seen });
  }
  return {
    bins: model.bins,
    pseudo_count: model.pseudoCount,
    edges: model.dag.edges,
    nodes,
    parameters,
  };
}
