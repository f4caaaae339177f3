/**
 * SYNTHIA's settings of RunConfig. Its knobs (maxIterations, probeRows, examples, guard, guardOptions,
 * describeColumns) are top-level fields of RunConfig, kept there so run.json keeps its shape; the statistical
 * guard's thresholds are a block of their own.
 */
import { z } from "zod";

/** Partial statistical-guard thresholds (analyzer.ts GuardOptions); absent keys use DEFAULT_GUARD. */
export const GuardConfigSchema = z.object({
  minSimilarity: z.number().min(0).max(1).optional(),
  minCoverage: z.number().min(0).max(1).optional(),
  maxDivergence: z.number().min(0).max(1).optional(),
});
