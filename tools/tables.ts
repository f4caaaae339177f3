/**
 * Tools over tables on disk: evaluate (fidelity, utility, privacy of a synthetic table), analyze (SYNTHIA's
 * analyzer diagnostics), infer_metadata (column types, ranges and categories) and structure (a causal DAG).
 * Each reuses the function its CLI command runs, on paths checked by the context's path guard.
 */
import { z } from "zod";
import { metadataToJson, readMetadataFile } from "../data/metadata.ts";
import { readTable } from "../data/read.ts";
import { CONDITION_NOTE, EVALUATE_SUITES, runEvaluate } from "../cli/evaluate.ts";
import { runStructure } from "../cli/structure.ts";
import { analyzeFiles } from "./analyze.ts";
import { decimalField, plain, type ToolSpec } from "./context.ts";

const path = (what: string) =>
  z.string().min(1).max(4096).describe(`${what} (relative to the server's root, or absolute inside it)`);
const score = z.number().nullable();
const scores = z.record(z.string(), z.number().nullable());

// ---- evaluate ----

export const EvaluateInput = z.object({
  real: path("real (training) table: CSV, TSV or JSON Lines"),
  synthetic: path("synthetic table with the same columns as the real one"),
  holdout: path("real rows NOT used to make the synthetic table (enables DCR share and TSTR)").optional(),
  target: z.string().min(1).optional().describe("target column for utility metrics (TSTR/TRTR)"),
  metadata: path("SDV metadata JSON overriding the inferred column types").optional(),
  seed: z.number().int().optional().describe("seed of folds and subsampling (default 0)"),
  random_forest: z
    .boolean()
    .default(false)
    .describe("also run the (slow, informational) random-forest utility metric"),
  detail: z
    .boolean()
    .default(false)
    .describe("include the full result tree (per-column and per-pair metrics); large for wide tables"),
  condition: z
    .string()
    .min(1)
    .max(2000)
    .optional()
    .describe(
      'conditional fidelity: compare only the rows satisfying this condition in every table (predicate language, e.g. age > 60 and sex == "Female"), as `synthgraph evaluate --where` does',
    ),
  suite: z
    .enum(EVALUATE_SUITES)
    .optional()
    .describe(
      "an extra score set: synllm = the SynLLM paper's quality, privacy and their harmonic mean, NNDR, identifiability, TSTR/TRTS with a tree and a forest (needs target, a binary column), clinical consistency",
    ),
  decimal: decimalField("the tables'"),
});

const EvaluateSummarySchema = z.object({
  rows: z.object({ real: z.number(), synthetic: z.number(), holdout: z.number().nullable() }),
  columns: z.number(),
  quality_overall: score.describe("SDMetrics quality score, 1 = identical distributions"),
  column_shapes: score,
  column_pair_trends: score,
  logistic_detection: score.describe("1 = a logistic regression cannot tell synthetic from real"),
  forest_detection: score.describe("1 = a random forest cannot tell synthetic from real"),
  detection: score.describe("the worse of logistic_detection and forest_detection"),
  c2st_gap: score,
  forest_c2st_gap: score,
  dcr_minmax_median: score,
  exact_copies: score.describe("synthetic rows that copy a real row exactly"),
  dcr_share: score,
  tstr_accuracy: score,
  trtr_accuracy: score,
  worst_columns: z.array(z.object({ column: z.string(), score: score })),
  verdicts: z
    .array(
      z.object({
        figure: z.string(),
        value: score,
        range: z.tuple([z.number(), z.number()]).nullable(),
        better: z.enum(["higher", "lower"]),
        level: z.enum(["good", "fair", "poor", "n/a"]),
        rule: z.string(),
        words: z.string(),
      }),
    )
    .describe("each headline figure read against stated thresholds, in plain words"),
  notes: z.array(z.string()),
});

export const EvaluateOutput = z.object({
  condition: z
    .string()
    .nullable()
    .describe("the condition in canonical form (summary.rows then counts the rows satisfying it)"),
  summary: EvaluateSummarySchema,
  quality_report: z.record(z.string(), z.unknown()),
  detail: z.record(z.string(), z.unknown()).optional(),
  synllm: z.record(z.string(), z.unknown()).optional(),
});

export const evaluateSpec: ToolSpec<typeof EvaluateInput, typeof EvaluateOutput> = {
  name: "evaluate",
  description:
    "Measures how good a synthetic table is against the real table it imitates: fidelity (SDMetrics quality score, column shapes, pair trends, logistic detection), privacy (exact copies, distance to closest record; DCR share needs a holdout) and utility (train-on-synthetic/test-on-real accuracy; needs a target). With condition, only the rows satisfying it are compared (the fidelity of a subgroup, e.g. the rows of a conditional sample). Returns a summary with the weakest columns; set detail for every per-column metric. Takes seconds on tables of thousands of rows.",
  input: EvaluateInput,
  output: EvaluateOutput,
  async run(i, ctx) {
    const result = await runEvaluate({
      real: ctx.guard.readable(i.real, "real"),
      synthetic: ctx.guard.readable(i.synthetic, "synthetic"),
      ...(i.holdout ? { holdout: ctx.guard.readable(i.holdout, "holdout") } : {}),
      ...(i.target ? { target: i.target } : {}),
      ...(i.metadata ? { metadata: ctx.guard.readable(i.metadata, "metadata") } : {}),
      ...(i.seed === undefined ? {} : { seed: i.seed }),
      randomForest: i.random_forest,
      ...(i.condition ? { where: i.condition } : {}),
      ...(i.suite ? { suite: i.suite } : {}),
      ...(i.decimal ? { decimal: i.decimal } : {}),
    });
    const { summary, quality_report, synllm, ...rest } = plain<Record<string, unknown>>(result);
    return EvaluateOutput.parse({
      condition: conditionOf(result.summary.notes),
      summary,
      quality_report,
      ...(i.detail ? { detail: rest } : {}),
      ...(synllm === undefined ? {} : { synllm }),
    });
  },
};

/** The canonical condition runEvaluate put first in the notes (null without one). */
function conditionOf(notes: readonly string[]): string | null {
  const note = notes.find((n) => n.startsWith(CONDITION_NOTE));
  return note === undefined ? null : note.slice(CONDITION_NOTE.length);
}

// ---- analyze ----

export const AnalyzeInput = z.object({
  real: path("real table: CSV, TSV or JSON Lines"),
  synthetic: path("synthetic table with the same columns"),
  metadata: path("SDV metadata JSON for the real table").optional(),
  decimal: decimalField("the tables'"),
});

export const AnalyzeOutput = z.object({
  diagnostics: z.object({
    ks: scores.describe("KS complement per numerical column (1 = same distribution)"),
    cs: scores.describe("chi-squared p-value per categorical column"),
    js: scores.describe("Jensen-Shannon distance per column (0 = same)"),
    kl: scores.describe("KL(real||synthetic) per column, nats"),
    range_coverage: scores,
    category_coverage: scores,
    correlation_similarity: score,
    similarity: score,
    coverage: score,
    divergence: score,
    rows: score,
    missing: score,
  }),
  summary: z.string().describe("the analyzer's text summary, as SYNTHIA's discriminator reads it"),
});

export const analyzeSpec: ToolSpec<typeof AnalyzeInput, typeof AnalyzeOutput> = {
  name: "analyze",
  description:
    "SYNTHIA's statistical analyzer: per-column KS complement, chi-squared p-value, JS distance, KL divergence, range and category coverage of a synthetic table against the real one, overall similarity, coverage, divergence and correlation similarity, and a short text summary of what is off. Fast; use it between generation attempts.",
  input: AnalyzeInput,
  output: AnalyzeOutput,
  async run(i, ctx) {
    const r = await analyzeFiles(
      ctx.guard.readable(i.real, "real"),
      ctx.guard.readable(i.synthetic, "synthetic"),
      i.metadata ? ctx.guard.readable(i.metadata, "metadata") : undefined,
      i.decimal ? { decimal: i.decimal } : {},
    );
    return AnalyzeOutput.parse(plain(r));
  },
};

// ---- infer_metadata ----

export const InferMetadataInput = z.object({
  data: path("table to describe: CSV, TSV or JSON Lines"),
  metadata: path("SDV metadata JSON whose column types win over inference").optional(),
  target: z.string().min(1).optional().describe("target column (must exist)"),
  decimal: decimalField("the table's"),
});

export const InferMetadataOutput = z.object({
  rows: z.number().int(),
  columns: z.array(
    z.object({
      name: z.string(),
      sdtype: z.string().describe("numerical, categorical, boolean, datetime or id"),
      integer: z.boolean().optional(),
      min: z.number().optional(),
      max: z.number().optional(),
      categories: z.number().int().optional().describe("number of distinct categories"),
      missing_rate: z.number(),
    }),
  ),
  target: z.string().nullable(),
  metadata: z
    .record(z.string(), z.unknown())
    .describe("SDV single-table metadata JSON; edit and pass it back as a metadata file"),
  warnings: z.array(z.string()),
});

export const inferMetadataSpec: ToolSpec<typeof InferMetadataInput, typeof InferMetadataOutput> = {
  name: "infer_metadata",
  description:
    "Reads a table and infers each column's type (numerical integer/float, categorical, boolean, datetime, id), range, number of categories and missing rate, as synthgraph will treat it. Returns SDV-style metadata JSON too. Use it first to check the table is read as intended.",
  input: InferMetadataInput,
  output: InferMetadataOutput,
  async run(i, ctx) {
    const overrides = i.metadata
      ? await readMetadataFile(ctx.guard.readable(i.metadata, "metadata"))
      : undefined;
    const r = await readTable(ctx.guard.readable(i.data, "data"), {
      ...(overrides ? { metadata: overrides } : {}),
      ...(i.target ? { target: i.target } : {}),
      ...(i.decimal ? { decimal: i.decimal } : {}),
    });
    const m = r.metadata;
    return InferMetadataOutput.parse(
      plain({
        rows: r.table.nRows,
        columns: m.columns.map((c) => ({
          name: c.name,
          sdtype: c.sdtype,
          ...(c.integer === undefined ? {} : { integer: c.integer }),
          ...(c.min === undefined ? {} : { min: c.min }),
          ...(c.max === undefined ? {} : { max: c.max }),
          ...(c.levels === undefined ? {} : { categories: c.levels.length }),
          missing_rate: c.missingRate,
        })),
        target: m.target ?? null,
        metadata: metadataToJson(m),
        warnings: r.warnings,
      }),
    );
  },
};

// ---- structure ----

export const StructureInput = z.object({
  data: path("table: CSV, TSV or JSON Lines"),
  metadata: path("SDV metadata JSON overriding inferred column types").optional(),
  bins: z.number().int().min(2).max(100).default(5).describe("quantile bins of numerical columns"),
  max_parents: z.number().int().min(0).max(50).optional().describe("most parents per column"),
  restarts: z.number().int().min(0).max(50).default(0).describe("random restarts after the first climb"),
  seed: z.number().int().default(0),
  decimal: decimalField("the table's"),
});

export const StructureOutput = z.object({
  nodes: z.array(z.string()),
  edges: z.array(z.tuple([z.string(), z.string()])).describe("[cause, effect] pairs"),
  parents: z.record(z.string(), z.array(z.string())),
  score: z.number().describe("total BIC, natural log, higher is better"),
  rows: z.number().int(),
  seconds: z.number(),
  warnings: z.array(z.string()),
});

export const structureSpec: ToolSpec<typeof StructureInput, typeof StructureOutput> = {
  name: "structure",
  description:
    "Learns a causal DAG over a table's columns by BIC hill climbing (MALLM-GAN's initial causal structure): edges cause -> effect and each column's parents. Under a second for tens of columns and tens of thousands of rows.",
  input: StructureInput,
  output: StructureOutput,
  async run(i, ctx) {
    const r = await runStructure({
      data: ctx.guard.readable(i.data, "data"),
      ...(i.metadata ? { metadata: ctx.guard.readable(i.metadata, "metadata") } : {}),
      bins: i.bins,
      ...(i.max_parents === undefined ? {} : { maxParents: i.max_parents }),
      restarts: i.restarts,
      seed: i.seed,
      ...(i.decimal ? { decimal: i.decimal } : {}),
    });
    return StructureOutput.parse(plain(r));
  },
};
