/**
 * The configuration of one generation run, validated with zod and stored in the run directory's run.json so
 * that `synthgraph resume` continues with exactly the same settings. Model configs are the resolved per-role
 * configs of models/spec.ts (never an API key: keys stay in the environment).
 */
import { z } from "zod";
import { ROLES, type RoleConfigMap } from "../models/spec.ts";
import { DISCRIMINATOR_KINDS } from "../engines/mallm/classifiers.ts";

export const ENGINES = ["synthia", "mallm-gan", "llmsynthor"] as const;

/**
 * MALLM-GAN knobs (graph/mallm.ts). Defaults are the official code's: batch 50, k = 5 examples and 5 rows per
 * generator call, top-3 pairs, store at 80% valid, 20% held out, one frozen epoch; epochs absent = 5/4/3/2 for
 * N = 100/200/400/800 real rows (stats/mallm-score.ts mallmSchedule).
 */
export const MallmOptionsSchema = z.object({
  epochs: z.number().int().positive().optional(),
  frozenEpochs: z.number().int().min(0).default(1),
  batchSize: z.number().int().positive().default(50),
  /** k: real examples in, and rows out, per generator call ("batches in a batch"). */
  examplesPerCall: z.number().int().positive().default(5),
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
  /** sgd: the paper's incremental logistic regression; logistic / forest: refitted on the rows seen (stats/discriminators.ts). */
  discriminator: z.enum(DISCRIMINATOR_KINDS).default("sgd"),
});
export type MallmOptions = z.output<typeof MallmOptionsSchema>;
export type EngineName = (typeof ENGINES)[number];

/**
 * LLMSynthor knobs (graph/llmsynthor.ts; choices documented in state/llmsynthor.ts). `iterations` is T; absent,
 * T = min(10, ⌊N / 20⌋) (at least 1), so each iteration proposes about N / T rows.
 */
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
  /** A variable a proposal leaves out: drawn from the real marginal, or the proposal is dropped. */
  missingVariable: z.enum(["marginal", "drop"]).default("marginal"),
});
export type LlmsynthorOptions = z.output<typeof LlmsynthorOptionsSchema>;

const RoleConfigSchema = z.object({
  spec: z.string().min(1),
  temperature: z.number().min(0).max(2),
  baseUrl: z.string().optional(),
  numCtx: z.number().int().positive(),
  timeoutMs: z.number().int().positive(),
  maxConcurrency: z.number().int().positive().optional(),
  seed: z.number().int().optional(),
});

/** Partial statistical-guard thresholds (stats/analyzer.ts GuardOptions); absent keys use DEFAULT_GUARD. */
export const GuardConfigSchema = z.object({
  minSimilarity: z.number().min(0).max(1).optional(),
  minCoverage: z.number().min(0).max(1).optional(),
  maxDivergence: z.number().min(0).max(1).optional(),
});

export const RunConfigSchema = z.object({
  /** Real table (absolute path). */
  input: z.string().min(1),
  /** Requested synthetic rows N. */
  rows: z.number().int().positive(),
  /** Output CSV (absolute path). */
  out: z.string().min(1),
  engine: z.enum(ENGINES).default("synthia"),
  /** Resolved model config per role. */
  models: z.record(z.enum(ROLES), RoleConfigSchema),
  seed: z.number().int().default(0),
  /** SYNTHIA converges in 3–6 iterations (paper A.5). */
  maxIterations: z.number().int().positive().default(6),
  /** Rows generated per refinement iteration. */
  probeRows: z.number().int().positive().default(50),
  /** k: size of the stratified real subsample X_sub shown in the prompt. */
  examples: z.number().int().min(0).default(20),
  /** Rows requested per final generator call. */
  batchRows: z.number().int().positive().default(25),
  /** Parallel final batches; default: the generator endpoint's maxConcurrency. */
  concurrency: z.number().int().positive().optional(),
  /** Statistical guard that can overrule a "Real" verdict (on by default). */
  guard: z.boolean().default(true),
  guardOptions: GuardConfigSchema.default({}),
  /** Privacy guard: drop exact copies of real rows (on by default). */
  privacyGuard: z.boolean().default(true),
  /** Ask the metadata agent for column descriptions (user descriptions win). */
  describeColumns: z.boolean().default(false),
  /** Model calls in a row whose replies stay unusable after their re-asks before the run stops (exit 4). */
  maxUnusableCalls: z.number().int().positive().default(6),
  /** Bound on final rounds before the run fails (each round re-plans the rows still missing). */
  maxRounds: z.number().int().positive().default(20),
  target: z.string().optional(),
  /** SDV metadata JSON (absolute path). */
  metadata: z.string().optional(),
  /** MALLM-GAN knobs (engine "mallm-gan" only). */
  mallm: MallmOptionsSchema.default(() => MallmOptionsSchema.parse({})),
  /** LLMSynthor knobs (engine "llmsynthor" only). */
  llmsynthor: LlmsynthorOptionsSchema.default(() => LlmsynthorOptionsSchema.parse({})),
  /** SUMMARY.json path (absolute), written by the CLI at the end. */
  summary: z.string().optional(),
});

export type RunConfig = z.output<typeof RunConfigSchema>;
export type RunConfigInput = z.input<typeof RunConfigSchema>;

export function parseRunConfig(input: unknown): RunConfig {
  return RunConfigSchema.parse(input);
}

export function roleConfigs(c: RunConfig): RoleConfigMap {
  return c.models as RoleConfigMap;
}
