/**
 * MALLM-GAN's block of RunConfig (`config.mallm`, stored in run.json). Defaults are the official code's:
 * batch 50, k = 5 examples and 5 rows per generator call, top-3 pairs, store at 80% valid, 20% held out, one
 * frozen epoch; epochs absent = 5/4/3/2 for N = 100/200/400/800 real rows (score.ts mallmSchedule).
 */
import { z } from "zod";
import { DISCRIMINATOR_KINDS } from "./classifiers.ts";

export const MallmOptionsSchema = z.object({
  epochs: z.number().int().positive().optional(),
  frozenEpochs: z.number().int().min(0).default(1),
  batchSize: z.number().int().positive().default(50),
  /**
   * k: real examples in, and rows out, per generator call ("batches in a batch"). 1 by default: the paper's
   * ablation finds one example per call best (more examples raise copying); the official code uses 5.
   */
  examplesPerCall: z.number().int().positive().default(1),
  /**
   * Stop the loop after this many batches, at most (absent: the whole schedule). A cap for small local models,
   * whose every batch takes minutes; the final theta is chosen from the epoch the loop ended in.
   */
  maxBatches: z.number().int().positive().optional(),
  topK: z.number().int().positive().default(3),
  storeThreshold: z.number().min(0).max(1).default(0.8),
  testFraction: z.number().gt(0).lt(1).default(0.2),
  /** Order columns causes-first in the examples and the output (the official JSON-DAG variant). */
  causalOrder: z.boolean().default(false),
  /** Context of data collection for theta (default: a sentence from the metadata). */
  context: z.string().optional(),
  /** Quantile bins of numerical columns for the initial structure learning. */
  structureBins: z.number().int().min(2).default(5),
  /** z-standardise numerical discriminator features (the official code feeds raw numbers). */
  standardize: z.boolean().default(true),
  /** sgd: the paper's incremental logistic regression; logistic / forest: refitted on the rows seen (classifiers.ts). */
  discriminator: z.enum(DISCRIMINATOR_KINDS).default("sgd"),
});
export type MallmOptions = z.output<typeof MallmOptionsSchema>;
