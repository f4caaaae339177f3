/**
 * LLMSynthor's block of RunConfig (`config.llmsynthor`, stored in run.json; choices documented in state.ts).
 * `iterations` is T; absent, T = min(10, ⌊N / 20⌋) (at least 1), so each iteration proposes about N / T rows.
 */
import { z } from "zod";

export const LlmsynthorOptionsSchema = z.object({
  iterations: z.number().int().positive().optional(),
  /** Stop early once the mean TVD over the marginals and joint groups of the pool is below this (0 = never). */
  tolerance: z.number().min(0).max(1).default(0.02),
  /** n_joints: joint groups the copula agent names (paper: 3). */
  nJoints: z.number().int().positive().default(3),
  /** n_proposals per iteration (paper: 5). */
  nProposals: z.number().int().positive().default(5),
  /** Re-infer the joint groups every iteration (Algorithm 1 line 2) instead of once before the loop. */
  reinferGroups: z.boolean().default(false),
  /** Quantile main bins and uniform sub-bins of the discrepancy tables (paper: 6 and 8). */
  mainBins: z.number().int().positive().default(6),
  subBins: z.number().int().positive().default(8),
  /**
   * Which main bin gets the sub-bins: the largest real − synthetic gap (the paper's: the pool only grows, so only
   * under-filled bins can be fixed) or the largest absolute gap.
   */
  split: z.enum(["positive", "absolute"]).default("positive"),
  /** A variable a proposal leaves out: drawn from the real marginal, or the proposal is dropped. */
  missingVariable: z.enum(["marginal", "drop"]).default("marginal"),
  /**
   * Conditional runs: restrict the proposer (narrowed metadata, the condition in its prompt) and the sampler
   * (region ranges and marginals) to each group's region (default). false leaves only the code's check of every
   * drawn row, to measure what conditioning at the source saves (bench/conditions.bench.ts).
   */
  sourceConditioning: z.boolean().default(true),
});
export type LlmsynthorOptions = z.output<typeof LlmsynthorOptionsSchema>;
