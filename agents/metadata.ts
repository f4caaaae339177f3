/**
 * The optional metadata agent (SYNTHIA appendix A.1): asks the model for the A.1 JSON metadata summary of a
 * sample of the table and keeps its column descriptions. Descriptions the user provided (metadata
 * `description`) always win, and when every column has one no model is called. The reply is untrusted:
 * only names that match a column are kept, each description becomes one line of bounded length.
 * Caching is the caller's (the run state stores the result).
 */
import { z } from "zod";
import { encodeRowsCsvLines } from "../data/compact.ts";
import type { Metadata, Row } from "../data/types.ts";
import type { Accounting } from "../models/accounting.ts";
import type { Endpoint } from "../models/factory.ts";
import { callStructured, type ItemVerdict } from "../models/structured.ts";
import { buildMetadataPrompt, MAX_NOTE_CHARS } from "../engines/synthia/prompts.ts";

export interface MetadataAgentInput {
  endpoint: Endpoint;
  metadata: Metadata;
  fileName: string;
  sampleRows: Row[];
  accounting?: Accounting;
  signal?: AbortSignal;
}

const ColumnReply = z.object({
  name: z.string(),
  description: z.string(),
  type: z.string().optional(),
  example_values: z.array(z.unknown()).optional(),
});

// The A.1 fields; only `columns[].name/description` are used.
const MetadataReply = z.object({
  file_name: z.string().optional(),
  num_columns: z.number().optional(),
  num_rows: z.number().optional(),
  target_column: z.string().nullable().optional(),
  columns: z.array(ColumnReply),
});

function looseKey(s: string): string {
  return s.toLowerCase().replace(/[^\p{L}\p{N}]/gu, "");
}

/** Column name -> description for every column that has one (user-provided first, then the model's). */
export async function describeColumns(i: MetadataAgentInput): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const c of i.metadata.columns)
    if (c.description !== undefined && c.description.trim() !== "") out[c.name] = c.description;
  if (i.metadata.columns.every((c) => c.name in out)) return out;

  const exact = new Set(i.metadata.columns.map((c) => c.name));
  const loose = new Map(i.metadata.columns.map((c) => [looseKey(c.name), c.name] as const));
  const columnOf = (name: string): string | undefined => (exact.has(name) ? name : loose.get(looseKey(name)));
  const itemValidator = (item: unknown): ItemVerdict => {
    const c = item as z.output<typeof ColumnReply>;
    const name = columnOf(c.name);
    if (name === undefined) return { ok: false, reason: `"${c.name}" is not a column of the table` };
    const description = c.description.replace(/\s+/g, " ").trim().slice(0, MAX_NOTE_CHARS);
    if (description === "") return { ok: false, reason: `column "${name}" has an empty description` };
    return { ok: true, value: { ...c, name, description }, repaired: name !== c.name };
  };
  const prompt = buildMetadataPrompt({
    fileName: i.fileName,
    sampleCsv: encodeRowsCsvLines(i.metadata, i.sampleRows),
  });
  const result = await callStructured({
    role: "metadata",
    endpoint: i.endpoint,
    messages: [{ role: "user", content: prompt }],
    schema: MetadataReply,
    schemaName: "metadata",
    itemsKey: "columns",
    itemValidator,
    ...(i.accounting ? { accounting: i.accounting } : {}),
    ...(i.signal ? { signal: i.signal } : {}),
  });
  for (const c of result.value.columns) if (!(c.name in out)) out[c.name] = c.description;
  return out;
}
