/**
 * SynLLM's block of RunConfig (`config.synllm`, stored in run.json). Defaults are the paper's (docs/papers.md,
 * SynLLM): mini-batches of 20 records per call, at most 5 example rows in SEEDEx, categories seen fewer than 5
 * times merged into "Other", Pearson correlations kept when |ρ| > 0.15. The rule-demotion share (0.5 %) is this
 * project's: the paper discards rows breaking "hard clinical rules" without saying how a rule earns that status.
 */
import { z } from "zod";

export const PROMPT_TYPES = ["seedex", "featdesc", "statguide", "clinrule"] as const;
export type PromptType = (typeof PROMPT_TYPES)[number];

/**
 * How the model writes records. "json" (default): the system message's JSON records, inside the
 * `{"rows": [...]}` object the provider's structured output enforces (so each record's keys, types and
 * categories are checked by the provider's grammar before our validator sees them). "csv": the appendix
 * templates' CSV lines (header, then one record per line), free text decoded and validated the same way.
 */
export const REPLY_FORMATS = ["json", "csv"] as const;
export type ReplyFormat = (typeof REPLY_FORMATS)[number];

export const SynllmOptionsSchema = z.object({
  /** CLINRULE by default: no real row in the prompt and the paper's best quality–privacy balance (§IV-C). */
  promptType: z.enum(PROMPT_TYPES).default("clinrule"),
  /** Records per call (appendix B: mini-batches of 20). */
  batchRows: z.number().int().positive().default(20),
  /** Real example rows in SEEDEx (Table I: "n example records", §III-C: at most 5). */
  examples: z.number().int().min(1).max(5).default(5),
  /**
   * Also show the SEEDEx examples in FEATDESC and STATGUIDE, as the appendix's instances do. Off by default:
   * §III-C says FEATDESC *replaces* the examples, and every row shown is a row that can leak.
   */
  appendixExamples: z.boolean().default(false),
  replyFormat: z.enum(REPLY_FORMATS).default("json"),
  /** Rules file (absolute path): one predicate per line, `#` comments. */
  rules: z.string().optional(),
  /** Infer range and impossible-category-pair rules from the real data. */
  inferRules: z.boolean().default(true),
  /** A rule broken by more than this share of real rows is demoted to soft (counted, not enforced). */
  maxRuleBreak: z.number().min(0).max(1).default(0.005),
  /** Categories seen fewer times are merged into "Other" in the prompt (§III-C). */
  rareCount: z.number().int().min(1).default(5),
  /** Pearson correlations with |ρ| above this are named in the prompt (§III-C). */
  minCorrelation: z.number().min(0).max(1).default(0.15),
  /**
   * Conditional runs: state each group's condition in the prompt, built from the group's region (narrowed
   * metadata and row schema, the region's profile and examples; conditions.ts). false leaves only the code's
   * check of every row, to measure what conditioning at the source saves (bench/conditions.bench.ts).
   */
  sourceConditioning: z.boolean().default(true),
});
export type SynllmOptions = z.output<typeof SynllmOptionsSchema>;
