/**
 * The configuration of one generation run, validated with zod and stored in the run directory's run.json so
 * that `synthgraph resume` continues with exactly the same settings. Model configs are the resolved per-role
 * configs of models/spec.ts (never an API key: keys stay in the environment).
 */
import { z } from "zod";
import { ROLES, type RoleConfigMap } from "../models/spec.ts";
import { BayesnetEngineOptionsSchema } from "../engines/bayesnet/config.ts";
import { CopulaEngineOptionsSchema } from "../engines/copula/config.ts";
import { LlmsynthorOptionsSchema } from "../engines/llmsynthor/config.ts";
import { MallmOptionsSchema } from "../engines/mallm/config.ts";
import { GuardConfigSchema } from "../engines/synthia/config.ts";
import { SynllmOptionsSchema } from "../engines/synllm/config.ts";

export { type BayesnetEngineOptions, BayesnetEngineOptionsSchema } from "../engines/bayesnet/config.ts";
export { type CopulaEngineOptions, CopulaEngineOptionsSchema } from "../engines/copula/config.ts";
export { type LlmsynthorOptions, LlmsynthorOptionsSchema } from "../engines/llmsynthor/config.ts";
export { type MallmOptions, MallmOptionsSchema } from "../engines/mallm/config.ts";
export { GuardConfigSchema } from "../engines/synthia/config.ts";
export { type SynllmOptions, SynllmOptionsSchema } from "../engines/synllm/config.ts";

/**
 * The engines' names. graph/registry.ts must hold one EngineDefinition per name (its type,
 * Record<EngineName, EngineDefinition>, makes a missing one a compile error).
 */
export const ENGINES = ["synthia", "mallm-gan", "llmsynthor", "synllm", "copula", "bayesnet"] as const;
export type EngineName = (typeof ENGINES)[number];

/** One group of a conditional run: rows that all satisfy `where`. */
export const ConditionGroupSchema = z.object({
  /** The condition in canonical predicate syntax (what was printed back before generating). */
  where: z.string().min(1),
  rows: z.number().int().positive(),
  /** The user's words, when the condition came from the constraint agent (--condition). */
  request: z.string().optional(),
});
export const ConditionsSchema = z.array(ConditionGroupSchema).min(1);
export type ConditionGroup = z.infer<typeof ConditionGroupSchema>;

const RoleConfigSchema = z.object({
  spec: z.string().min(1),
  temperature: z.number().min(0).max(2),
  baseUrl: z.string().optional(),
  numCtx: z.number().int().positive(),
  timeoutMs: z.number().int().positive(),
  maxConcurrency: z.number().int().positive().optional(),
  seed: z.number().int().optional(),
  topP: z.number().gt(0).max(1).optional(),
  topK: z.number().int().positive().optional(),
  repeatPenalty: z.number().positive().optional(),
  maxTokens: z.number().int().positive().optional(),
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
  /** SYNTHIA's final generation leaves exact duplicates among synthetic rows out of the output (on by default). */
  dedupe: z.boolean().default(true),
  /** Ask the metadata agent for column descriptions (user descriptions win). */
  describeColumns: z.boolean().default(false),
  /** Model calls in a row whose replies stay unusable after their re-asks before the run stops (exit 4). */
  maxUnusableCalls: z.number().int().positive().default(6),
  /** Bound on final rounds before the run fails (each round re-plans the rows still missing). */
  maxRounds: z.number().int().positive().default(20),
  target: z.string().optional(),
  /** `--decimal`: the decimal mark of the input's numbers (data/infer.ts); absent: inferred per column. */
  decimal: z.enum([",", "."]).optional(),
  /** SDV metadata JSON (absolute path). */
  metadata: z.string().optional(),
  /** MALLM-GAN knobs (engine "mallm-gan" only; engines/mallm/config.ts). */
  mallm: MallmOptionsSchema.default(() => MallmOptionsSchema.parse({})),
  /** LLMSynthor knobs (engine "llmsynthor" only; engines/llmsynthor/config.ts). */
  llmsynthor: LlmsynthorOptionsSchema.default(() => LlmsynthorOptionsSchema.parse({})),
  /** SynLLM knobs (engine "synllm" only; engines/synllm/config.ts). */
  synllm: SynllmOptionsSchema.default(() => SynllmOptionsSchema.parse({})),
  /**
   * Conditional sampling (graph/conditions.ts): groups of rows, each with its condition in canonical predicate
   * syntax (data/predicate/) and its row count; the counts sum to `rows`. Absent: unconditional.
   */
  conditions: ConditionsSchema.optional(),
  /** Gaussian copula knobs (engine "copula" only; engines/copula/config.ts). */
  copula: CopulaEngineOptionsSchema.default(() => CopulaEngineOptionsSchema.parse({})),
  /** Bayesian network knobs (engine "bayesnet" only; engines/bayesnet/config.ts). */
  bayesnet: BayesnetEngineOptionsSchema.default(() => BayesnetEngineOptionsSchema.parse({})),
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
