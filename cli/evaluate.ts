/**
 * `synthgraph evaluate`: fidelity, utility and privacy of a synthetic table against the real one, as the
 * metric fixtures' tree (`--json`) or a short readable summary.
 */
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { z } from "zod";
import { takeTableRows } from "../data/build.ts";
import { DataError, SynthgraphError } from "../data/errors.ts";
import type { Predicate } from "../data/predicate/ast.ts";
import { predicateMask } from "../data/predicate/compile.ts";
import { parsePredicate } from "../data/predicate/parse.ts";
import type { Table } from "../data/types.ts";
import { metadataToJson, readMetadataFile } from "../data/metadata.ts";
import { readTable } from "../data/read.ts";
import {
  type EvaluateParams,
  type EvaluateResult,
  evaluateTables,
  toJson,
} from "../stats/metrics/evaluate.ts";
import type { FigureVerdict } from "../stats/metrics/verdicts.ts";
import { writeFileAtomic } from "../state/atomic.ts";
import type { CommandModule } from "./commands.ts";
import { cliDecimal, DECIMAL_FLAG } from "./options.ts";
import { checkOutputs, evaluationInputs, jsonWithKeys } from "./output-safety.ts";

/** `--params` file: any of the fixtures' `params` keys plus target and positive label; unknown keys ignored. */
export const evaluateParamsSchema = z.object({
  bins: z.number().int().min(1).optional(),
  kl_pseudo_count: z.number().positive().optional(),
  ks_round_decimals: z.number().int().min(0).max(20).optional(),
  alpha_beta_steps: z.number().int().min(2).optional(),
  detection_folds: z
    .array(z.array(z.number().int().min(0)))
    .min(2)
    .optional(),
  target: z.string().min(1).optional(),
  positive_label: z.union([z.string(), z.number(), z.boolean()]).transform(String).optional(),
  seed: z.number().int().optional(),
  tree_depth: z.number().int().min(1).optional(),
  scale_threshold: z.number().int().min(1).optional(),
  row_level_sample: z.number().int().min(2).optional(),
  model_sample: z.number().int().min(2).optional(),
  max_levels: z.number().int().min(2).optional(),
});

/** Extra score sets `--suite` adds to the evaluation (each a key of the JSON and lines of the summary). */
export const EVALUATE_SUITES = ["synllm"] as const;

const optionsSchema = z.object({
  real: z.string().min(1),
  synthetic: z.string().min(1),
  holdout: z.string().optional(),
  target: z.string().optional(),
  metadata: z.string().optional(),
  params: z.string().optional(),
  json: z.string().optional(),
  seed: z.coerce.number().int().optional(),
  randomForest: z.boolean().default(true),
  where: z.string().min(1, "--where must not be empty").optional(),
  force: z.boolean().optional(),
  suite: z
    .enum(EVALUATE_SUITES, { error: `--suite must be one of ${EVALUATE_SUITES.join(", ")}` })
    .optional(),
  decimal: cliDecimal,
});
type EvaluateCliOptions = z.infer<typeof optionsSchema>;

export async function readParamsFile(path: string): Promise<z.infer<typeof evaluateParamsSchema>> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, "utf8"));
  } catch (e) {
    throw new DataError(`cannot read the params file as JSON: ${(e as Error).message}`, {
      file: path,
      hint: 'pass a JSON object such as {"bins": 10, "target": "income"}',
    });
  }
  const parsed = evaluateParamsSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new DataError(`invalid params: ${issue.path.join(".") || "(root)"}: ${issue.message}`, {
      file: path,
      hint: "keys: bins, kl_pseudo_count, ks_round_decimals, alpha_beta_steps, detection_folds, target, positive_label, seed, tree_depth, scale_threshold, row_level_sample, model_sample, max_levels",
    });
  }
  return parsed.data;
}

/** The note that carries the canonical condition of a conditional evaluation (tools/tables.ts reads it back). */
export const CONDITION_NOTE = "condition: ";

/** Reads the three files (types inferred on real, imposed on the others) and evaluates. */
export async function runEvaluate(opts: EvaluateCliOptions): Promise<EvaluateResult> {
  // Before reading anything: every input exists, and --json neither replaces an input nor a file we did not write.
  await checkOutputs({
    inputs: evaluationInputs(opts),
    outputs: opts.json
      ? [
          {
            flag: "--json",
            path: opts.json,
            owned: jsonWithKeys(["summary", "quality_report", "column_shapes"]),
          },
        ]
      : [],
    force: opts.force === true,
  });
  const params = opts.params ? await readParamsFile(opts.params) : {};
  const target = opts.target ?? params.target;
  // The SynLLM suite's utility is its core (TSTR/TRTS): without a target the suite is refused before any work.
  if (opts.suite === "synllm" && target === undefined)
    throw new SynthgraphError(
      "--suite synllm needs --target COLUMN (the binary column TSTR and TRTS predict)",
      {
        hint: "e.g. synthgraph evaluate --real R.csv --synthetic S.csv --suite synllm --target diabetes [--holdout H.csv]",
        exitCode: 2,
      },
    );
  const overrides = opts.metadata ? await readMetadataFile(opts.metadata) : undefined;
  const decimal = opts.decimal ? { decimal: opts.decimal } : {};
  const real = await readTable(opts.real, { metadata: overrides, target, ...decimal });
  const sameTypes = {
    metadata: metadataToJson(real.metadata),
    metadataSource: `the real table (${opts.real})`,
    ...decimal,
  };
  let synthetic = await readTable(opts.synthetic, sameTypes);
  let holdout = opts.holdout ? await readTable(opts.holdout, sameTypes) : undefined;
  let realTable = real.table;
  const conditionNotes: string[] = [];
  if (opts.where !== undefined) {
    // Conditional fidelity: the synthetic rows that satisfy the condition against the real rows that do.
    const pred = parsePredicate(opts.where, real.metadata);
    const part = (t: Table, what: string): Table => {
      const sub = satisfying(pred, t);
      conditionNotes.push(`${what}: ${sub.nRows} of ${t.nRows} rows satisfy it`);
      if (sub.nRows < 2) {
        throw new SynthgraphError(
          `only ${sub.nRows} ${what} row(s) satisfy ${pred.toString()}: too few to compare`,
          {
            hint: "widen the condition, or generate rows for it with `synthgraph generate --where`",
            exitCode: 2,
          },
        );
      }
      return sub;
    };
    conditionNotes.push(`${CONDITION_NOTE}${pred.toString()}`);
    realTable = part(real.table, "real");
    synthetic = { ...synthetic, table: part(synthetic.table, "synthetic") };
    if (holdout) holdout = { ...holdout, table: part(holdout.table, "holdout") };
  }
  const p: Partial<EvaluateParams> = {
    ...params,
    target,
    seed: opts.seed ?? params.seed ?? 0,
    skip_random_forest: !opts.randomForest,
    ...(opts.suite === "synllm" ? { synllm_suite: true } : {}),
  };
  const result = evaluateTables(realTable, synthetic.table, holdout?.table, p);
  result.summary.notes.unshift(
    ...conditionNotes,
    ...real.warnings,
    ...synthetic.warnings,
    ...(holdout?.warnings ?? []),
  );
  return result;
}

/** The rows of `t` that satisfy `pred`, in order. */
function satisfying(pred: Predicate, t: Table): Table {
  const mask = predicateMask(pred, t);
  const idx: number[] = [];
  for (let i = 0; i < mask.length; i++) if (mask[i] === 1) idx.push(i);
  return takeTableRows(t, idx);
}

function fmt(x: number | null | undefined, digits = 3): string {
  return x === null || x === undefined || !Number.isFinite(x) ? "n/a" : x.toFixed(digits);
}

/** A column is listed as weak only under this shape score (1 = identical distributions). */
export const WEAK_COLUMN_SCORE = 0.8;

function weakest(worst: ReadonlyArray<{ column: string; score: number }>): string {
  const weak = worst.filter((w) => Number.isFinite(w.score) && w.score < WEAK_COLUMN_SCORE);
  return weak.length === 0
    ? `weak columns: none (every column shape scores at least ${WEAK_COLUMN_SCORE.toFixed(2)})`
    : `weak columns (shape score below ${WEAK_COLUMN_SCORE.toFixed(2)}): ${weak.map((w) => `${w.column} ${fmt(w.score)}`).join(", ")}`;
}

/** The DCR share a synthetic table independent of the training rows has: train / (train + holdout). */
function dcrExpected(rows: { real: number; holdout: number | null }): string {
  if (rows.holdout === null) return " (needs --holdout)";
  const expected = rows.real / (rows.real + rows.holdout);
  return ` (expected ${expected.toFixed(3)} = ${rows.real}/(${rows.real}+${rows.holdout}) when no real row is memorised; higher = closer to the training rows)`;
}

/** "good: <words> (<rule>)": a figure's verdict as the summary prints it (stats/metrics/verdicts.ts). */
function reading(v: FigureVerdict | undefined, what?: string): string {
  if (v === undefined) return "";
  const value = what === undefined ? "" : `${what} ${fmt(v.value)}; `;
  const range = v.range === null ? "" : `range ${v.range[0]} to ${v.range[1]}, `;
  return `${value}${range}${v.better} is better → ${v.level}: ${v.words} [${v.rule}]`;
}

/** The readable summary printed without --json: each figure with its range, direction and verdict. */
export function formatSummary(r: EvaluateResult): string {
  const s = r.summary;
  const v = (figure: FigureVerdict["figure"], what?: string): string =>
    reading(
      s.verdicts.find((x) => x.figure === figure),
      what,
    );
  const copies = (s.exact_copies ?? 0) > 0;
  const lines = [
    `rows: real ${s.rows.real}, synthetic ${s.rows.synthetic}${s.rows.holdout === null ? "" : `, holdout ${s.rows.holdout}`}; columns: ${s.columns}`,
    `fidelity  quality ${fmt(s.quality_overall)} (${v("quality")})`,
    `          column shapes ${fmt(s.column_shapes)} (${v("column_shapes")})`,
    `          pair trends ${fmt(s.column_pair_trends)} (${v("column_pair_trends")})`,
    `          detection ${fmt(s.detection)} = the worse of logistic ${fmt(s.logistic_detection)} and random forest ${fmt(s.forest_detection)}; 1 = cannot tell them apart (${v("detection")})`,
    `          C2ST gap ${fmt(s.verdicts.find((x) => x.figure === "c2st_gap")?.value)} = the larger of logistic ${fmt(s.c2st_gap)} and random forest ${fmt(s.forest_c2st_gap)}; 0 = no better than a coin (${v("c2st_gap")})`,
    `          ${weakest(s.worst_columns)}`,
    `privacy   exact copies of real rows: ${s.exact_copies ?? "n/a"}, median DCR (min-max) ${fmt(s.dcr_minmax_median)}, DCR share ${fmt(s.dcr_share)}${dcrExpected(s.rows)}`,
    `          (${v("privacy", copies ? "exact copies" : "DCR share − expected")})`,
    `utility   TSTR accuracy ${fmt(s.tstr_accuracy)} vs TRTR ${fmt(s.trtr_accuracy)} (${v("utility", "TRTR − TSTR")})`,
  ];
  const u = r.utility_protocols;
  if (u)
    lines.push(
      `          best-of MLE (${u.metric}; ${u.classifiers.join(", ")}): TSTR ${fmt(u.tstr.score)} (${u.tstr.model ?? "n/a"}) vs TRTR ${fmt(u.trtr.score)} (${u.trtr.model ?? "n/a"})`,
    );
  const g = r.regression_utility;
  if (g)
    lines.push(
      `utility   regression on ${g.target}, best R² (${g.regressors.join(", ")}): TSTR ${fmt(g.best_r2.tstr)} vs TRTR ${fmt(g.best_r2.trtr)}, TRTS ${fmt(g.best_r2.trts)}`,
    );
  if (r.alpha_beta && !("error" in r.alpha_beta))
    lines.push(
      `fidelity  α-precision ${fmt(r.alpha_beta.alpha_precision)}, β-recall ${fmt(r.alpha_beta.beta_recall)}, authenticity ${fmt(r.alpha_beta.authenticity)}`,
    );
  if (r.synllm) lines.push(...synllmLines(r.synllm));
  for (const n of new Set(s.notes)) lines.push(`note: ${n}`);
  return `${lines.join("\n")}\n`;
}

type Scores = { accuracy: number; f1_macro: number; auc: number };
const scoresText = (x: Scores): string =>
  `accuracy ${fmt(x.accuracy)}, macro-F1 ${fmt(x.f1_macro)}, AUC ${fmt(x.auc)}`;

/** The `--suite synllm` block of the summary (docs/synllm.md "Scores in evaluate"). */
export function synllmLines(x: NonNullable<EvaluateResult["synllm"]>): string[] {
  if ("error" in x) return [`synllm    error: ${x.error}`];
  const lines = [
    `synllm    quality ${fmt(x.quality)}, privacy ${fmt(x.privacy)}, harmonic ${fmt(x.harmonic)} (2QP/(Q+P); each normalised to [0, 1], 1 = best)`,
    `          NNDR synthetic-to-real ${fmt(x.nndr_synthetic_to_real)} (the paper's; ≥ 1 = as far from real rows as real rows from each other), synllm_ratio ${fmt(x.synllm_ratio)} (the authors' code: synthetic spacing over real spacing, not a privacy score)`,
    `          identifiability ${fmt(x.identifiability)} (share of synthetic rows copying a real row; 0 = best)`,
  ];
  const u = x.utility;
  if (u) {
    const on = u.tstr_test === "holdout" ? "holdout" : "the real rows; no --holdout";
    for (const [name, model] of [
      ["tree (depth 5)", "tree"],
      ["forest (50 trees)", "forest"],
    ] as const) {
      lines.push(`          ${u.target}, ${name}:`);
      lines.push(`            TSTR (tested on ${on}) ${scoresText(u.tstr[model])}`);
      lines.push(`            TRTS ${scoresText(u.trts[model])}`);
      if (u.trtr) lines.push(`            TRTR (real baseline) ${scoresText(u.trtr[model])}`);
    }
  }
  const c = x.clinical_consistency;
  if (c.score !== null)
    lines.push(
      `          clinical consistency ${fmt(c.score)} (mean gap in real sd units, 0 = best): ${c.relations.map((r) => `${r.relation} ${fmt(r.gap)}`).join(", ")}`,
    );
  return lines;
}

export const evaluateCommand: CommandModule = {
  register(program: Command): void {
    program
      .command("evaluate")
      .description("measure fidelity, utility and privacy of a synthetic table against the real one")
      .requiredOption("--real <file>", "real (training) table, CSV or JSON Lines")
      .requiredOption("--synthetic <file>", "synthetic table with the same columns")
      .option("--holdout <file>", "real rows not used for training (DCR share, TSTR test set)")
      .option("--target <column>", "target column for utility metrics (TSTR/TRTR)")
      .option(
        "--metadata <file>",
        "SDV-style metadata JSON overriding inferred column types (docs/metadata.md)",
      )
      .option(
        "--params <file>",
        "JSON with metric parameters: bins, kl_pseudo_count, detection_folds, positive_label, ...",
      )
      .option(DECIMAL_FLAG.flags, DECIMAL_FLAG.description)
      .option("--json <file>", "write the full result tree as JSON")
      .option("--seed <n>", "seed for folds, subsampling and the random forest (default 0)")
      .option(
        "--where <expr>",
        "compare only the rows satisfying a condition (synthetic against real; counts shown), e.g. 'age > 60'",
      )
      .option("--force", "replace the --json file even when synthgraph did not write it")
      .option("--no-random-forest", "skip the (informational) random-forest utility metric")
      .option(
        "--suite <name>",
        "also compute a paper's score set: synllm (quality/privacy/harmonic, NNDR, TSTR/TRTS; needs --target)",
      )
      .action(async (raw: Record<string, unknown>) => {
        const opts = optionsSchema.parse(raw);
        const result = await runEvaluate(opts);
        if (opts.json) {
          await writeFileAtomic(opts.json, `${toJson(result)}\n`);
          process.stdout.write(`wrote ${opts.json}\n`);
        }
        process.stdout.write(formatSummary(result));
      });
  },
};
