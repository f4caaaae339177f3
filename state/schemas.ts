/** zod schemas for the small JSON values kept in graph state and artifacts. */
import { z } from "zod";
import type { AccountingSnapshot, UsageTotals } from "../models/accounting.ts";

const UsageTotalsSchema: z.ZodType<UsageTotals> = z.object({
  calls: z.number(),
  failed_calls: z.number(),
  prompt_tokens: z.number(),
  completion_tokens: z.number(),
  estimated: z.boolean(),
  latency_ms: z.number(),
});

export const AccountingSnapshotSchema: z.ZodType<AccountingSnapshot> = z.object({
  calls: z.number(),
  failed_calls: z.number(),
  prompt_tokens: z.number(),
  completion_tokens: z.number(),
  estimated: z.boolean(),
  latency_ms: z.number(),
  by_role: z.record(z.string(), UsageTotalsSchema),
});

const scores = z.record(z.string(), z.number());
/** stats/analyzer.ts Diagnostics (the SYNTHIA analyzer vector S): per-column scores plus a few means. */
export const DiagnosticsSchema = z.object({
  ks: scores,
  cs: scores,
  js: scores,
  kl: scores,
  range_coverage: scores,
  category_coverage: scores,
  correlation_similarity: z.number(),
  similarity: z.number(),
  coverage: z.number(),
  divergence: z.number(),
  rows: z.number(),
  missing: z.number(),
});

export const VerdictSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("Real") }),
  z.object({ type: z.literal("Synthetic"), feedback: z.string() }),
]);

/** One refinement iteration as reported in SUMMARY.json. */
export const IterationRecordSchema = z.object({
  iteration: z.number().int(),
  /** Feedback F_t the probe's prompt was built from (the prompt is U(M, X_sub, feedback)). */
  feedback_in: z.array(z.string()),
  probe: z.string(),
  requested: z.number().int(),
  valid: z.number().int(),
  invalid: z.number().int(),
  scores: z.object({
    similarity: z.number(),
    coverage: z.number(),
    divergence: z.number(),
    correlation_similarity: z.number(),
  }),
  verdict: z.enum(["Real", "Synthetic"]),
  /** Discriminator feedback (Synthetic) or the guard's reasons (overruled Real). */
  feedback: z.string().optional(),
  /** A "Real" verdict the statistical guard overruled. */
  overruled: z.boolean(),
  guard_reasons: z.array(z.string()),
});
export type IterationRecord = z.infer<typeof IterationRecordSchema>;
