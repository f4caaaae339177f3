/**
 * `synthgraph report`: the self-contained HTML report (report/build.ts) of a synthetic table against its real
 * table, optionally restricted to the rows satisfying a condition (`--where`, the predicate language of
 * data/predicate: conditional fidelity, with the matching row counts on the page); and the report at the end
 * of `generate --report PATH`, which adds the run's iterations and usage.
 */
import type { Command } from "commander";
import { z } from "zod";
import { takeTableRows } from "../data/build.ts";
import { DataError, SynthgraphError } from "../data/errors.ts";
import { metadataToJson, readMetadataFile } from "../data/metadata.ts";
import { describePredicate, parsePredicate, predicateMask } from "../data/predicate/index.ts";
import { readTable } from "../data/read.ts";
import type { DecimalMark } from "../data/infer.ts";
import type { Table } from "../data/types.ts";
import { buildReport, type RunTrace, runTraceSchema } from "../report/build.ts";
import { type EvaluateParams, evaluateTables } from "../stats/metrics/evaluate.ts";
import { writeFileAtomic } from "../state/atomic.ts";
import type { CommandModule } from "./commands.ts";
import { cliDecimal, DECIMAL_FLAG } from "./options.ts";
import { checkOutputs, evaluationInputs, htmlReportOfOurs } from "./output-safety.ts";

const optionsSchema = z.object({
  real: z.string().min(1),
  synthetic: z.string().min(1),
  holdout: z.string().optional(),
  target: z.string().optional(),
  where: z.string().min(1).optional(),
  metadata: z.string().optional(),
  out: z.string().min(1),
  title: z.string().optional(),
  seed: z.coerce.number().int().default(0),
  randomForest: z.boolean().default(true),
  force: z.boolean().optional(),
  decimal: cliDecimal,
});
export type ReportCliOptions = z.input<typeof optionsSchema>;

/** Rows kept by `--where` in each table: `kept` of `rows`. */
export interface ConditionCounts {
  expression: string;
  description: string;
  real: { kept: number; rows: number };
  synthetic: { kept: number; rows: number };
  holdout: { kept: number; rows: number } | null;
}

export interface ReportOutcome {
  path: string;
  bytes: number;
  figures: number;
  condition: ConditionCounts | null;
}

interface Sink {
  write(s: string): unknown;
}

function keep(table: Table, mask: Uint8Array): Table {
  const rows: number[] = [];
  for (let i = 0; i < mask.length; i++) if (mask[i] === 1) rows.push(i);
  return rows.length === table.nRows ? table : takeTableRows(table, rows);
}

/** Reads the tables (types inferred on real, imposed on the others), applies --where, evaluates, writes the page. */
export async function runReport(
  raw: ReportCliOptions,
  io: { stdout: Sink } = process,
): Promise<ReportOutcome> {
  const opts = optionsSchema.parse(raw);
  // Before reading anything: every input exists, and --out neither replaces an input nor a file we did not write.
  await checkOutputs({
    inputs: evaluationInputs(opts),
    outputs: [{ flag: "--out", path: opts.out, owned: htmlReportOfOurs() }],
    force: opts.force === true,
  });
  const overrides = opts.metadata ? await readMetadataFile(opts.metadata) : undefined;
  const decimal = opts.decimal ? { decimal: opts.decimal } : {};
  const real = await readTable(opts.real, { metadata: overrides, target: opts.target, ...decimal });
  const same = {
    metadata: metadataToJson(real.metadata),
    metadataSource: `the real table (${opts.real})`,
    ...decimal,
  };
  const synthetic = await readTable(opts.synthetic, same);
  const holdout = opts.holdout ? await readTable(opts.holdout, same) : undefined;
  let tables = { real: real.table, synthetic: synthetic.table, holdout: holdout?.table };
  let condition: ConditionCounts | null = null;
  if (opts.where) {
    const pred = parsePredicate(opts.where, real.metadata);
    const masked = {
      real: keep(tables.real, predicateMask(pred, tables.real)),
      synthetic: keep(tables.synthetic, predicateMask(pred, tables.synthetic)),
      holdout: tables.holdout ? keep(tables.holdout, predicateMask(pred, tables.holdout)) : undefined,
    };
    condition = {
      expression: opts.where,
      description: describePredicate(pred),
      real: { kept: masked.real.nRows, rows: tables.real.nRows },
      synthetic: { kept: masked.synthetic.nRows, rows: tables.synthetic.nRows },
      holdout:
        tables.holdout && masked.holdout ? { kept: masked.holdout.nRows, rows: tables.holdout.nRows } : null,
    };
    for (const label of ["real", "synthetic"] as const) {
      if (masked[label].nRows < 2)
        throw new DataError(
          `--where keeps ${masked[label].nRows} of ${tables[label].nRows} ${label} rows: too few to compare (need 2)`,
          {
            file: label === "real" ? opts.real : opts.synthetic,
            hint: `widen the condition "${opts.where}"`,
          },
        );
    }
    tables = masked;
  }
  const params: Partial<EvaluateParams> = {
    seed: opts.seed,
    skip_random_forest: !opts.randomForest,
    ...(opts.target ? { target: opts.target } : {}),
  };
  const evaluation = evaluateTables(tables.real, tables.synthetic, tables.holdout, params);
  evaluation.summary.notes.unshift(
    ...(condition ? [conditionNote(condition)] : []),
    ...real.warnings,
    ...synthetic.warnings,
    ...(holdout?.warnings ?? []),
  );
  const html = await buildReport({
    real: tables.real,
    synthetic: tables.synthetic,
    ...(tables.holdout ? { holdout: tables.holdout } : {}),
    metadata: real.metadata,
    ...(opts.target ? { target: opts.target } : {}),
    evaluation,
    title: opts.title ?? (condition ? `Synthetic data report where ${opts.where}` : undefined),
    seed: opts.seed,
  });
  return writeReport(opts.out, html, condition, io);
}

export function conditionNote(c: ConditionCounts): string {
  const part = (label: string, x: { kept: number; rows: number }): string =>
    `${label} ${x.kept} of ${x.rows} rows`;
  return `condition ${c.expression} (${c.description}): ${[
    part("real", c.real),
    part("synthetic", c.synthetic),
    ...(c.holdout ? [part("holdout", c.holdout)] : []),
  ].join(", ")}; every metric on this page is computed on these rows only`;
}

async function writeReport(
  path: string,
  html: string,
  condition: ConditionCounts | null,
  io: { stdout: Sink },
): Promise<ReportOutcome> {
  await writeFileAtomic(path, html);
  const out: ReportOutcome = {
    path,
    bytes: Buffer.byteLength(html),
    figures: (html.match(/<figure /g) ?? []).length,
    condition,
  };
  if (condition) io.stdout.write(`${conditionNote(condition)}\n`);
  io.stdout.write(`wrote ${path} (${(out.bytes / 1024).toFixed(0)} KB, ${out.figures} plots)\n`);
  return out;
}

const numberOrNull = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

/** Numeric leaves of a record, one level of nesting flattened as "outer.inner". */
function numericScores(
  rec: Record<string, unknown>,
  skip: ReadonlySet<string>,
): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const [k, v] of Object.entries(rec)) {
    if (skip.has(k)) continue;
    if (typeof v === "number") out[k] = numberOrNull(v);
    else if (v && typeof v === "object" && !Array.isArray(v))
      for (const [k2, v2] of Object.entries(v as Record<string, unknown>))
        if (typeof v2 === "number") out[`${k}.${k2}`] = numberOrNull(v2);
  }
  return out;
}

/**
 * A run's trace for the report from its SUMMARY.json fields, whatever the engine: SYNTHIA and LLMSynthor
 * list `iterations`, MALLM-GAN its `theta_trajectory` (steps). The numbers of each entry become its scores.
 */
export function runTraceFromSummary(summary: Record<string, unknown>): RunTrace {
  const list = Array.isArray(summary.iterations)
    ? summary.iterations
    : Array.isArray(summary.theta_trajectory)
      ? summary.theta_trajectory
      : [];
  const skip = new Set(["iteration", "step", "epoch", "batch", "usage"]);
  const iterations = list
    .filter((e): e is Record<string, unknown> => !!e && typeof e === "object")
    .map((e, k) => {
      const scores =
        e.scores && typeof e.scores === "object"
          ? numericScores(e.scores as Record<string, unknown>, skip)
          : numericScores(e, skip);
      const verdict = typeof e.verdict === "string" ? e.verdict : undefined;
      const feedback =
        typeof e.feedback === "string" ? e.feedback : typeof e.task === "string" ? e.task : undefined;
      return {
        iteration:
          typeof e.iteration === "number" ? e.iteration : typeof e.step === "number" ? e.step : k + 1,
        scores,
        ...(verdict ? { verdict } : {}),
        ...(feedback ? { feedback } : {}),
      };
    });
  return runTraceSchema.parse({ iterations, ...(summary.usage ? { usage: summary.usage } : {}) });
}

/** What `generate --report` needs of a finished run. */
export interface RunForReport {
  input: string;
  out: string;
  target?: string;
  metadata?: string;
  seed: number;
  summary: Record<string, unknown>;
  /** The run's `--decimal` (state/config.ts). */
  decimal?: DecimalMark;
}

/** The report at the end of `generate --report PATH`: output against input, with the run's trace. */
export async function writeRunReport(
  run: RunForReport,
  path: string,
  io: { stdout: Sink } = process,
): Promise<ReportOutcome> {
  const overrides = run.metadata ? await readMetadataFile(run.metadata) : undefined;
  const decimal = run.decimal ? { decimal: run.decimal } : {};
  const real = await readTable(run.input, { metadata: overrides, target: run.target, ...decimal });
  const synthetic = await readTable(run.out, {
    metadata: metadataToJson(real.metadata),
    metadataSource: `the real table (${run.input})`,
    ...decimal,
  });
  const target = run.target ?? real.metadata.target;
  const evaluation = evaluateTables(real.table, synthetic.table, undefined, {
    seed: run.seed,
    skip_random_forest: true,
    ...(target ? { target } : {}),
  });
  let trace: RunTrace;
  try {
    trace = runTraceFromSummary(run.summary);
  } catch (e) {
    throw new SynthgraphError(`cannot read the run's iterations for the report: ${(e as Error).message}`, {
      hint: "the run finished and its output is written; build the report with `synthgraph report`",
    });
  }
  const html = await buildReport({
    real: real.table,
    synthetic: synthetic.table,
    metadata: real.metadata,
    ...(target ? { target } : {}),
    evaluation,
    run: trace,
    title: `Synthetic data report: ${run.out}`,
    seed: run.seed,
  });
  return writeReport(path, html, null, io);
}

export const reportCommand: CommandModule = {
  register(program: Command): void {
    program
      .command("report")
      .description(
        "write a self-contained HTML report (plots, verdicts, utility, privacy) of a synthetic table",
      )
      .requiredOption("--real <file>", "real (training) table, CSV or JSON Lines")
      .requiredOption("--synthetic <file>", "synthetic table with the same columns")
      .requiredOption("--out <file>", "HTML file to write")
      .option("--holdout <file>", "real rows not used for training (DCR histograms, TSTR/TRTR)")
      .option("--target <column>", "target column for utility (TSTR/TRTR)")
      .option(
        "--where <condition>",
        "only rows satisfying a condition, e.g. 'age > 60 and sex == \"Female\"'",
      )
      .option("--metadata <file>", "SDV-style metadata JSON overriding inferred column types")
      .option(DECIMAL_FLAG.flags, DECIMAL_FLAG.description)
      .option("--title <text>", "page heading")
      .option("--seed <n>", "seed for folds, subsampling and the random forest (default 0)")
      .option("--no-random-forest", "skip the random-forest utility metrics")
      .option("--force", "replace the --out file even when synthgraph did not write it")
      .action(async (raw: Record<string, unknown>) => {
        await runReport(raw as ReportCliOptions);
      });
  },
};
