/**
 * SynLLM's generator call (docs/papers.md, SynLLM: "LLM inference" and "post-processing"): one mini-batch of k
 * records from the system message and a prompt, parsed and validated against the metadata exactly as every
 * engine's generator is (agents/generator.ts rowItemValidator: decode, then data/validate.ts), then held to
 * the hard rules (rules.ts): a row breaking one is rejected and counted under that rule. The reply is
 * untrusted: nothing leaves this function unvalidated.
 */
import { z } from "zod";
import { rowItemValidator } from "../../agents/generator.ts";
import { decodeCsvLines, numericBoundsFor, type RowEncoding, rowsJsonSchema } from "../../data/compact.ts";
import { rowColumns } from "../../data/schema.ts";
import type { Metadata, Row } from "../../data/types.ts";
import type { Accounting } from "../../models/accounting.ts";
import type { Endpoint } from "../../models/factory.ts";
import { callStructured, callText, StructuredOutputError } from "../../models/structured.ts";
import type { ReplyFormat } from "./config.ts";
import { synllmSystem } from "./prompts.ts";

/** Reasons kept per batch: the artifact stays small when a model produces garbage. */
const MAX_REASONS = 20;

export interface SynllmBatch {
  requested: number;
  /** Valid rows that break no hard rule, capped at the request. */
  rows: Row[];
  /** Rows the validator dropped (schema, ranges, categories). */
  invalid: number;
  /** Valid rows rejected by a hard rule, per rule (canonical text). */
  rejected: Record<string, number>;
  reasons: string[];
}

const RowsReply = z.object({ rows: z.array(z.unknown()) });

export async function generateSynllmBatch(a: {
  endpoint: Endpoint;
  accounting: Accounting;
  seed: number;
  metadata: Metadata;
  prompt: string;
  nRows: number;
  format: ReplyFormat;
  encoding: RowEncoding;
  /** The first hard rule a row breaks, or null (rules.ts ruleFilter). */
  breaks: (row: Row) => string | null;
  /**
   * Metadata of the provider-side row schema only (default `metadata`): a condition's narrowed metadata
   * (conditions.ts). Rows are still validated against `metadata`; the condition is checked by graph/finalize.ts.
   */
  schemaMetadata?: Metadata;
}): Promise<SynllmBatch> {
  const messages = [
    { role: "system" as const, content: synllmSystem(a.nRows, a.format) },
    { role: "user" as const, content: a.prompt },
  ];
  const valid: { rows: Row[]; invalid: number; reasons: string[] } =
    a.format === "json" ? await jsonRows(a, messages) : await csvRows(a, messages);
  const rows: Row[] = [];
  const rejected: Record<string, number> = {};
  for (const row of valid.rows) {
    const rule = a.breaks(row);
    if (rule === null) rows.push(row);
    else rejected[rule] = (rejected[rule] ?? 0) + 1;
  }
  return {
    requested: a.nRows,
    rows: rows.slice(0, a.nRows),
    invalid: valid.invalid,
    rejected,
    reasons: valid.reasons.slice(0, MAX_REASONS),
  };
}

type Messages = Array<{ role: "system" | "user"; content: string }>;
type Args = Parameters<typeof generateSynllmBatch>[0];

async function jsonRows(
  a: Args,
  messages: Messages,
): Promise<{ rows: Row[]; invalid: number; reasons: string[] }> {
  const schemaMeta = a.schemaMetadata ?? a.metadata;
  const rowMeta: Metadata = { ...schemaMeta, columns: rowColumns(schemaMeta) };
  try {
    const r = await callStructured({
      role: "generator",
      endpoint: a.endpoint,
      messages,
      schema: RowsReply,
      jsonSchema: rowsJsonSchema(rowMeta, a.nRows, a.encoding, {
        numericBounds: numericBoundsFor(a.endpoint.provider),
      }),
      schemaName: "rows",
      itemsKey: "rows",
      itemValidator: rowItemValidator(a.metadata),
      seed: a.seed,
      accounting: a.accounting,
    });
    return { rows: r.value.rows as Row[], invalid: r.report.dropped, reasons: r.report.reasons };
  } catch (err) {
    // Unusable after the re-asks: a batch of 0 rows (the run-wide budget stops a run where this persists).
    if (!(err instanceof StructuredOutputError)) throw err;
    return { rows: [], invalid: a.nRows, reasons: err.reasons };
  }
}

/** The templates' CSV lines: one free-text reply, decoded line by line, each line validated like a JSON row. */
async function csvRows(
  a: Args,
  messages: Messages,
): Promise<{ rows: Row[]; invalid: number; reasons: string[] }> {
  const rowMeta: Metadata = { ...a.metadata, columns: rowColumns(a.metadata) };
  const reply = await callText({
    role: "generator",
    endpoint: a.endpoint,
    messages,
    seed: a.seed,
    accounting: a.accounting,
  });
  const decoded = decodeCsvLines(rowMeta, reply.text);
  const check = rowItemValidator(a.metadata);
  const rows: Row[] = [];
  const reasons: string[] = [...decoded.problems];
  let invalid = 0;
  decoded.items.forEach((item, i) => {
    if (item.problems.length > 0) {
      invalid++;
      reasons.push(`line ${i + 1}: ${item.problems.join("; ")}`);
      return;
    }
    const v = check(rowMeta.columns.map((c) => item.row[c.name] ?? null));
    if (v.ok) rows.push(v.value as Row);
    else {
      invalid++;
      reasons.push(`line ${i + 1}: ${v.reason ?? "invalid"}`);
    }
  });
  // Lines missing from a short reply count as invalid, as a short JSON reply's would.
  if (decoded.items.length < a.nRows) invalid += a.nRows - decoded.items.length;
  return { rows, invalid, reasons };
}
