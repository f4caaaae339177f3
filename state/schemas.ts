/** zod schemas for the small JSON values kept in graph state and artifacts. */
import { z } from "zod";
import type { AccountingSnapshot, UsageTotals } from "../models/accounting.ts";
import type { Diagnostics } from "../engines/synthia/analyzer.ts";

/** One usage total as SUMMARY.json and run artifacts store it. */
export const usageTotalsObject = z.object({
  calls: z.number(),
  failed_calls: z.number(),
  prompt_tokens: z.number(),
  completion_tokens: z.number(),
  estimated: z.boolean(),
  latency_ms: z.number(),
});
const UsageTotalsSchema: z.ZodType<UsageTotals> = usageTotalsObject;

export const AccountingSnapshotSchema: z.ZodType<AccountingSnapshot> = usageTotalsObject.extend({
  by_role: z.record(z.string(), UsageTotalsSchema),
});

/** Checkpoints are JSON, so NaN comes back as null: numbers here accept null, and `reviveDiagnostics` restores NaN. */
const num = z.number().nullable();
const scores = z.record(z.string(), num);
/** engines/synthia/analyzer.ts Diagnostics (the SYNTHIA analyzer vector S): per-column scores plus a few means. */
export const DiagnosticsSchema = z.object({
  ks: scores,
  cs: scores,
  js: scores,
  kl: scores,
  range_coverage: scores,
  category_coverage: scores,
  correlation_similarity: num,
  similarity: num,
  coverage: num,
  divergence: num,
  rows: num,
  missing: num,
});
export type StoredDiagnostics = z.infer<typeof DiagnosticsSchema>;

const nanOf = (x: number | null): number => (x === null ? Number.NaN : x);
const recordOf = (r: Record<string, number | null>): Record<string, number> =>
  Object.fromEntries(Object.entries(r).map(([k, v]) => [k, nanOf(v)]));

const nullOf = (x: number): number | null => (Number.isFinite(x) ? x : null);
const storedOf = (r: Record<string, number>): Record<string, number | null> =>
  Object.fromEntries(Object.entries(r).map(([k, v]) => [k, nullOf(v)]));

/** Diagnostics as kept in state: NaN (undefined metric) as null, as JSON would write it anyway. */
export function storeDiagnostics(d: Diagnostics): StoredDiagnostics {
  return {
    ks: storedOf(d.ks),
    cs: storedOf(d.cs),
    js: storedOf(d.js),
    kl: storedOf(d.kl),
    range_coverage: storedOf(d.range_coverage),
    category_coverage: storedOf(d.category_coverage),
    correlation_similarity: nullOf(d.correlation_similarity),
    similarity: nullOf(d.similarity),
    coverage: nullOf(d.coverage),
    divergence: nullOf(d.divergence),
    rows: nullOf(d.rows),
    missing: nullOf(d.missing),
  };
}

/** Diagnostics read back from a checkpoint, with null turned back into NaN. */
export function reviveDiagnostics(d: StoredDiagnostics): Diagnostics {
  return {
    ks: recordOf(d.ks),
    cs: recordOf(d.cs),
    js: recordOf(d.js),
    kl: recordOf(d.kl),
    range_coverage: recordOf(d.range_coverage),
    category_coverage: recordOf(d.category_coverage),
    correlation_similarity: nanOf(d.correlation_similarity),
    similarity: nanOf(d.similarity),
    coverage: nanOf(d.coverage),
    divergence: nanOf(d.divergence),
    rows: nanOf(d.rows),
    missing: nanOf(d.missing),
  };
}

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
  /** null = not computed (no valid rows) or undefined (e.g. no numeric pairs). */
  scores: z.object({
    similarity: num,
    coverage: num,
    divergence: num,
    correlation_similarity: num,
  }),
  verdict: z.enum(["Real", "Synthetic"]),
  /** Discriminator feedback (Synthetic) or the guard's reasons (overruled Real). */
  feedback: z.string().optional(),
  /** A "Real" verdict the statistical guard overruled. */
  overruled: z.boolean(),
  guard_reasons: z.array(z.string()),
});
export type IterationRecord = z.infer<typeof IterationRecordSchema>;
