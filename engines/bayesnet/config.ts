/**
 * The Bayesian-network engine's block of RunConfig (`config.bayesnet`, stored in run.json). Defaults are
 * fit.ts's: 5 quantile bins per numeric column (stats/structure's discretisation), at most 3 parents per node,
 * a Dirichlet prior of imaginary sample size 1 (BDeu; 0 = maximum likelihood, PrivBayes without noise), no
 * restarts of the hill climbing; rows drawn and stored in chunks of 5000.
 */
import { z } from "zod";

export const BayesnetEngineOptionsSchema = z.object({
  bins: z.number().int().min(1).default(5),
  maxParents: z.number().int().min(0).default(3),
  pseudoCount: z.number().min(0).default(1),
  restarts: z.number().int().min(0).default(0),
  /** Rows per sampled chunk. */
  chunkRows: z.number().int().positive().default(5000),
});
export type BayesnetEngineOptions = z.output<typeof BayesnetEngineOptionsSchema>;
