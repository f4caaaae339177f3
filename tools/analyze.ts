/**
 * The SYNTHIA statistical analyzer as a typed LangChain tool ("analyze_synthetic_table") and as plain
 * functions the graph node uses: the diagnostics vector S (engines/synthia/analyzer.ts) and its A.3 text summary
 * (engines/synthia/analysis-text.ts) of a synthetic table against the real one.
 */
import { tool } from "@langchain/core/tools";
import { z } from "zod";
import type { DecimalMark } from "../data/infer.ts";
import { type ColumnOverride, type MetadataOverrides, readMetadataFile } from "../data/metadata.ts";
import { readTable } from "../data/read.ts";
import type { Metadata, Table } from "../data/types.ts";
import { renderAnalysis } from "../engines/synthia/analysis-text.ts";
import { analyze, type Diagnostics } from "../engines/synthia/analyzer.ts";
import { toJson } from "../stats/metrics/evaluate.ts";
import { decimalField } from "./context.ts";

export interface AnalysisResult {
  diagnostics: Diagnostics;
  /** The appendix A.3 text. */
  summary: string;
}

/** S and its A.3 summary for tables already in memory (the graph's analyze node). */
export function analyzeTables(real: Table, synthetic: Table, metadata: Metadata): AnalysisResult {
  const diagnostics = analyze(real, synthetic);
  return { diagnostics, summary: renderAnalysis(diagnostics, metadata, real, synthetic) };
}

/**
 * The synthetic file is read with the real table's column types (sdtypes and datetime formats only, so a
 * fractional value in an integer column is analysed rather than refused); id columns may be absent from it.
 */
export function syntheticOverrides(meta: Metadata): MetadataOverrides {
  const columns: Record<string, ColumnOverride> = {};
  for (const c of meta.columns) {
    if (c.sdtype === "id") continue;
    columns[c.name] =
      c.sdtype === "datetime"
        ? {
            sdtype: "datetime",
            datetime_format: c.datetimeFormat === "date" ? "%Y-%m-%d" : "%Y-%m-%dT%H:%M:%SZ",
          }
        : { sdtype: c.sdtype };
  }
  return { columns };
}

/**
 * Reads the real and synthetic tables (CSV/TSV/JSONL; optional SDV metadata JSON for the real one) and analyzes
 * them; `decimal` is the decimal mark of both tables' numbers (`--decimal`; default inferred per column).
 */
export async function analyzeFiles(
  realPath: string,
  syntheticPath: string,
  metadataPath?: string,
  options: { decimal?: DecimalMark } = {},
): Promise<AnalysisResult> {
  const overrides = metadataPath === undefined ? undefined : await readMetadataFile(metadataPath);
  const decimal = options.decimal === undefined ? {} : { decimal: options.decimal };
  const real = await readTable(realPath, {
    ...(overrides === undefined ? {} : { metadata: overrides }),
    ...decimal,
  });
  const synthetic = await readTable(syntheticPath, {
    metadata: syntheticOverrides(real.metadata),
    ...decimal,
  });
  return analyzeTables(real.table, synthetic.table, real.metadata);
}

export const AnalyzeToolInput = z.object({
  real: z.string().min(1).describe("path of the real table (CSV, TSV or JSON Lines)"),
  synthetic: z.string().min(1).describe("path of the synthetic table, same columns as the real one"),
  metadata: z
    .string()
    .min(1)
    .optional()
    .describe("path of an SDV single-table metadata JSON for the real table"),
  decimal: decimalField("the tables'"),
});

/**
 * LangChain tool: input {real, synthetic, metadata?, decimal?} (file paths; the decimal mark "," or "."); output
 * the JSON string {"diagnostics": S, "summary": "<A.3 text>"} with undefined numbers as null.
 */
export const analyzeTool = tool(
  async (input: z.output<typeof AnalyzeToolInput>): Promise<string> =>
    toJson(
      await analyzeFiles(
        input.real,
        input.synthetic,
        input.metadata,
        input.decimal ? { decimal: input.decimal } : {},
      ),
      0,
    ),
  {
    name: "analyze_synthetic_table",
    description:
      "Compares a synthetic table with the real table it imitates (SYNTHIA statistical analyzer): per-column KS complement, chi-squared p-value, JS distance, KL divergence, range and category coverage, and overall correlation similarity, similarity, coverage and divergence scores, plus a text summary.",
    schema: AnalyzeToolInput,
  },
);
