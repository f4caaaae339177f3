/**
 * The constraint agent: the user's words ("300 smokers over 60") → a condition in the predicate language
 * (data/predicate/) and an optional row count, through the one structured-output path. The reply's
 * condition is parsed and checked against the metadata inside the reply schema, so a condition that does not
 * parse, names an unknown column or an unknown category value is re-asked with the parser's messages and
 * their "did you mean" suggestions (callStructured's bounded re-ask). The caller prints the canonical text
 * back before generating, records it in the run, and checks feasibility (data/predicate/feasibility.ts):
 * an infeasible request is the user's to fix (exit 2), not the model's to retry.
 */
import { z } from "zod";
import type { Predicate } from "../data/predicate/ast.ts";
import { PredicateError } from "../data/predicate/errors.ts";
import { parsePredicate } from "../data/predicate/parse.ts";
import type { Metadata } from "../data/types.ts";
import type { Accounting, CallUsage } from "../models/accounting.ts";
import type { Endpoint } from "../models/factory.ts";
import { callStructured, schemaToJsonSchema } from "../models/structured.ts";
import { buildConstraintPrompt, CONSTRAINT_SYSTEM } from "../prompts/constraint.ts";

export interface ConstraintAgentInput {
  endpoint: Endpoint;
  metadata: Metadata;
  /** The user's words. */
  request: string;
  accounting?: Accounting;
  signal?: AbortSignal;
  /** Follow-up requests after an unusable translation (default 2). */
  maxReasks?: number;
}

export interface ConstraintTranslation {
  readonly predicate: Predicate;
  /** The canonical text of the predicate (what to print back and record). */
  readonly where: string;
  /** Rows the request asks for, or null when it names no number. */
  readonly rows: number | null;
  /** Model replies used (1 + re-asks). */
  readonly attempts: number;
  readonly usage: CallUsage;
  /** Why earlier replies were rejected, "attempt N: ...". */
  readonly reasons: readonly string[];
}

/** What the model writes (also the provider-side JSON Schema). */
export const ConstraintReply = z.object({
  where: z.string().describe("the condition in the condition language"),
  rows: z.number().int().positive().nullable().describe("rows asked for, or null"),
});

/** The reply schema with the condition checked against `metadata` (problems become re-ask messages). */
export function constraintReplySchema(metadata: Metadata): z.ZodType<z.output<typeof ConstraintReply>> {
  return ConstraintReply.superRefine((reply, ctx) => {
    try {
      parsePredicate(reply.where, metadata);
    } catch (e) {
      if (!(e instanceof PredicateError)) throw e;
      for (const p of e.problems) {
        ctx.addIssue({
          code: "custom",
          path: ["where"],
          message: p.hint === undefined ? p.message : `${p.message} (${p.hint})`,
        });
      }
    }
  });
}

/** Translates the request; throws StructuredOutputError (exit 3) when no reply parses after the re-asks. */
export async function translateCondition(i: ConstraintAgentInput): Promise<ConstraintTranslation> {
  const result = await callStructured({
    role: "constraint",
    endpoint: i.endpoint,
    messages: [
      { role: "system", content: CONSTRAINT_SYSTEM },
      { role: "user", content: buildConstraintPrompt({ metadata: i.metadata, request: i.request }) },
    ],
    schema: constraintReplySchema(i.metadata),
    jsonSchema: schemaToJsonSchema(ConstraintReply),
    schemaName: "condition",
    ...(i.maxReasks === undefined ? {} : { maxReasks: i.maxReasks }),
    ...(i.accounting ? { accounting: i.accounting } : {}),
    ...(i.signal ? { signal: i.signal } : {}),
  });
  const predicate = parsePredicate(result.value.where, i.metadata);
  return {
    predicate,
    where: predicate.toString(),
    rows: result.value.rows,
    attempts: result.attempts,
    usage: result.usage,
    reasons: result.report.reasons,
  };
}
