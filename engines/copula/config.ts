/**
 * The copula engine's block of RunConfig (`config.copula`, stored in run.json). Defaults: every numeric
 * column's family chosen by the smallest KS statistic ("auto", marginals.ts says why not SDV's "beta"), rows
 * drawn and stored in chunks of 5000 (a chunk is one checkpointed step: a kill loses at most one chunk's work).
 */
import { z } from "zod";
import { familyChoiceSchema } from "./marginals.ts";

export const CopulaEngineOptionsSchema = z.object({
  /** Family of every numeric marginal (SDV default_distribution) or "auto". */
  distribution: familyChoiceSchema.default("auto"),
  /** Rows per sampled chunk. */
  chunkRows: z.number().int().positive().default(5000),
});
export type CopulaEngineOptions = z.output<typeof CopulaEngineOptionsSchema>;
