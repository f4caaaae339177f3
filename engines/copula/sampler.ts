/**
 * The copula's part of the shared code-sampling graph (graph/code-sampling-graph.ts): the fit (fit.ts, seeded
 * on the copula's fit stream, marginals from `config.copula.distribution`), its summary, and the draw
 * (sample-under.ts: sampleCopula, or rejection under a condition). No model call.
 */
import type { CodeSampler } from "../../graph/code-sampling-graph.ts";
import { deriveSeed, SEED_STREAMS } from "../../state/seeds.ts";
import { fitCopula } from "./fit.ts";
import { type CopulaFitSummary, copulaFitSummary } from "./fit-summary.ts";
import { type CopulaModel, copulaModelSchema } from "./model.ts";
import { sampleUnder } from "./sample-under.ts";

/** The fitted model (engines/copula/model.ts), stored once per run. */
export const COPULA_MODEL_KEY = "copula/model";

export const copulaSampler: CodeSampler<CopulaModel, CopulaFitSummary> = {
  engine: "copula",
  modelKey: COPULA_MODEL_KEY,
  modelSchema: copulaModelSchema,
  stream: SEED_STREAMS.copula.sample,
  chunkRows: (config) => config.copula.chunkRows,
  fit: (real, config) =>
    fitCopula(real.table, real.metadata, {
      distribution: config.copula.distribution,
      seed: deriveSeed(config.seed, SEED_STREAMS.copula.fit, 0),
    }),
  summarize: copulaFitSummary,
  draw: (model, n, seed, condition, metadata, onDrawn) =>
    sampleUnder(model, n, seed, condition, metadata, { onDrawn }),
};
