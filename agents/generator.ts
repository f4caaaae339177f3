/**
 * The SYNTHIA generator G (paper §3.3, Algorithm 1 line 6): one model call that turns the prompt P_t into a
 * batch of rows. The model is asked for compact rows (`{"rows": [[...], ...]}`, data/compact.ts) through the
 * provider's structured output; every row is decoded and validated against the metadata
 * (data/validate.ts), and invalid rows are dropped with their reasons in the report. The model's output is
 * untrusted: nothing leaves this function unvalidated.
 */
import { z } from "zod";
import {
  decodeCompactRows,
  indexedToPositional,
  numericBoundsFor,
  type RowEncoding,
  rowEncodingFor,
  rowsJsonSchema,
} from "../data/compact.ts";
import { rowColumns } from "../data/schema.ts";
import type { Metadata, Row } from "../data/types.ts";
import { createRowValidator, type RowValidatorOptions } from "../data/validate.ts";
import type { Accounting } from "../models/accounting.ts";
import type { Endpoint } from "../models/factory.ts";
import {
  callStructured,
  type ItemVerdict,
  StructuredOutputError,
  type StructuredReport,
} from "../models/structured.ts";
import { GENERATOR_SYSTEM } from "../engines/synthia/prompts.ts";

export interface GeneratorInput {
  endpoint: Endpoint;
  metadata: Metadata;
  /** P_t from engines/synthia/prompts.ts buildGeneratorPrompt. */
  prompt: string;
  nRows: number;
  /** Seed of the retry jitter (the model's own seed is in the endpoint config). */
  seed: number;
  accounting?: Accounting;
  signal?: AbortSignal;
  validator?: RowValidatorOptions;
  /** How rows are written in the reply; default: what the endpoint's provider enforces (rowEncodingFor). */
  encoding?: RowEncoding;
  /**
   * Metadata of the provider-side row schema only (default `metadata`): a condition's narrowed metadata
   * restricts the enums there, while rows are still validated against the real metadata, so a row outside the
   * condition is counted by the condition check, not as invalid.
   */
  schemaMetadata?: Metadata;
}

export interface GeneratorOutput {
  /** Valid rows keyed by every metadata column (id columns null). May be fewer than nRows. */
  rows: Row[];
  report: StructuredReport;
  /** Model replies used (1 + re-asks). */
  attempts: number;
  /** Every reply stayed unusable after the re-asks (rows is empty, report.reasons says why). */
  unusable?: boolean;
}

// Items are checked one by one by the row validator below; the zod side only requires the array.
const RowsReply = z.object({ rows: z.array(z.unknown()) });

/**
 * The generator's per-row check, one item of the reply's "rows": decoded by position or by key
 * (data/compact.ts), then validated against the metadata (data/validate.ts). Shape problems (wrong length,
 * missing column, not a row) and metadata violations reject the row with the reason; what either step changed
 * and kept (keys that name no column dropped, case fixes, ...) is returned as `repairs`.
 */
export function rowItemValidator(meta: Metadata, opts?: RowValidatorOptions): (item: unknown) => ItemVerdict {
  const rowMeta: Metadata = { ...meta, columns: rowColumns(meta) };
  const validate = createRowValidator(meta, opts);
  return (item) => {
    const decoded = decodeCompactRows(rowMeta, [indexedToPositional(item)]).items[0];
    if (decoded === undefined) return { ok: false, reason: "not a row" };
    if (decoded.problems.length > 0) {
      return { ok: false, reason: decoded.problems.map((p) => p.replace(/^row 1:? ?/, "")).join("; ") };
    }
    const v = validate(decoded.row);
    if (!v.ok) return { ok: false, reason: v.errors.map((e) => e.reason).join("; ") };
    const repairs = [...decoded.repairs, ...v.repairs];
    return { ok: true, value: v.row, repaired: repairs.length > 0, repairs };
  };
}

/** One generator call: nRows requested, the valid ones returned. */
export async function generateRows(i: GeneratorInput): Promise<GeneratorOutput> {
  const schemaMeta = i.schemaMetadata ?? i.metadata;
  const rowMeta: Metadata = { ...schemaMeta, columns: rowColumns(schemaMeta) };
  // Each provider gets the row encoding its structured output fully enforces (data/compact.ts RowEncoding).
  // The llamacpp grammar also bounds numbers to the real ranges (rows are still validated below).
  const jsonSchema = rowsJsonSchema(rowMeta, i.nRows, i.encoding ?? rowEncodingFor(i.endpoint.provider), {
    numericBounds: numericBoundsFor(i.endpoint.provider),
  });
  let result: Awaited<ReturnType<typeof callStructured<z.infer<typeof RowsReply>>>>;
  try {
    result = await callStructured({
      role: "generator",
      endpoint: i.endpoint,
      messages: [
        { role: "system", content: GENERATOR_SYSTEM },
        { role: "user", content: i.prompt },
      ],
      schema: RowsReply,
      jsonSchema,
      schemaName: "rows",
      itemsKey: "rows",
      itemValidator: rowItemValidator(i.metadata, i.validator),
      seed: i.seed,
      ...(i.accounting ? { accounting: i.accounting } : {}),
      ...(i.signal ? { signal: i.signal } : {}),
    });
  } catch (err) {
    // Replies that stayed unusable after the re-asks: a batch of 0 rows with the reasons; the engine goes on
    // (the run-wide budget in models/unusable-budget.ts stops it when this keeps happening).
    if (!(err instanceof StructuredOutputError)) throw err;
    const report: StructuredReport = {
      accepted: 0,
      repaired: 0,
      dropped: i.nRows,
      reasons: err.reasons,
      repairs: [],
      itemRepairs: [],
    };
    return { rows: [], report, attempts: err.attempts, unusable: true };
  }
  return { rows: result.value.rows as Row[], report: result.report, attempts: result.attempts };
}
