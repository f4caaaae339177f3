/**
 * The Bayesian network's part of the shared code-sampling graph (graph/code-sampling-graph.ts): the fit
 * (fit.ts: DAG by hill climbing and CPTs, seeded on the network's fit stream, options from `config.bayesnet`),
 * its summary, and the draw (sample-under.ts: ancestral sampling, under a condition by evidence and
 * rejection). No model call.
 */
import type { CodeSampler } from "../../graph/code-sampling-graph.ts";
import { deriveSeed, SEED_STREAMS } from "../../state/seeds.ts";
import { fitBayesNet } from "./fit.ts";
import { type BayesnetFitSummary, bayesnetFitSummary } from "./fit-summary.ts";
import { type BayesNetModel, bayesNetModelSchema } from "./model.ts";
import { sampleUnder } from "./sample-under.ts";

/** The fitted network (engines/bayesnet/model.ts), stored once per run. */
export const BAYESNET_MODEL_KEY = "bayesnet/model";

export const bayesnetSampler: CodeSampler<BayesNetModel, BayesnetFitSummary> = {
  engine: "bayesnet",
  modelKey: BAYESNET_MODEL_KEY,
  modelSchema: bayesNetModelSchema,
  stream: SEED_STREAMS.bayesnet.sample,
  chunkRows: (config) => config.bayesnet.chunkRows,
  fit: (real, config) => {
    const o = config.bayesnet;
    return fitBayesNet(real.table, real.metadata, {
      bins: o.bins,
      maxParents: o.maxParents,
      pseudoCount: o.pseudoCount,
      restarts: o.restarts,
      seed: deriveSeed(config.seed, SEED_STREAMS.bayesnet.fit, 0),
    });
  },
  summarize: bayesnetFitSummary,
  draw: (model, n, seed, condition, metadata, onDrawn) =>
    sampleUnder(model, n, seed, condition, metadata, { onDrawn }),
};
