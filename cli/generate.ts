/**
 * `synthgraph generate`, `synthgraph resume` and `synthgraph runs`: durable SYNTHIA runs from the command line.
 * Progress goes to stderr; the final summary (and SUMMARY.json with --json) describes the iterations, the usage,
 * the privacy guard and the evaluation of the output against the input.
 */
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { z } from "zod";
import { SynthgraphError } from "../data/errors.ts";
import { metadataToJson } from "../data/metadata.ts";
import { readTable } from "../data/read.ts";
import { type EngineStateBase, engineFor } from "../graph/engines.ts";
import { concurrencyOf, type RunResult, realLoader, resumeRun, startRun } from "../graph/run.ts";
import { embeddedDefault } from "../models/embedded.ts";
import type { Env } from "../models/factory.ts";
import { parseRoleAssignments, resolveRoleConfigs } from "../models/spec.ts";
import { type EngineName, ENGINES, type RunConfig, RunConfigSchema } from "../state/config.ts";
import { ArtifactStore } from "../state/artifacts.ts";
import { DEFAULT_RUNS_ROOT, listRuns, newRunId, readRunFile, runPaths } from "../state/run-dir.ts";
import { DISCRIMINATOR_KINDS } from "../stats/discriminators.ts";
import { evaluateTables, toJson } from "../stats/evaluate.ts";
import type { CommandModule } from "./commands.ts";
import { type EngineProgress, ProgressPrinter, type ProgressSink, synthiaProgress } from "./progress.ts";
import { llmsynthorProgress } from "./progress-llmsynthor.ts";
import { mallmProgress } from "./progress-mallm.ts";

const int = (flag: string, min: number) =>
  z.coerce
    .number({ error: `${flag} must be a number` })
    .int(`${flag} must be an integer`)
    .min(min, `${flag} must be at least ${min}`);

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

export const GenerateOptionsSchema = z.object({
  data: z.string().min(1),
  rows: int("--rows", 1),
  out: z.string().min(1),
  engine: z.enum(ENGINES, { error: `--engine must be one of ${ENGINES.join(", ")}` }).default("synthia"),
  model: z.string().optional(),
  roleModel: z.array(z.string()).default([]),
  temperature: z.array(z.string()).default([]),
  modelConfig: z.string().optional(),
  seed: int("--seed", -2147483648).default(0),
  maxIterations: int("--max-iterations", 1).default(6),
  probeRows: int("--probe-rows", 1).default(50),
  examples: int("--examples", 0).default(20),
  batchRows: int("--batch-rows", 1).default(25),
  concurrency: int("--concurrency", 1).optional(),
  metadata: z.string().optional(),
  target: z.string().optional(),
  json: z.string().optional(),
  runDir: z.string().optional(),
  guard: z.boolean().default(true),
  privacyGuard: z.boolean().default(true),
  describeColumns: z.boolean().default(false),
  quiet: z.boolean().default(false),
  // llmsynthor
  iterations: int("--iterations", 1).optional(),
  tolerance: z.coerce
    .number({ error: "--tolerance must be a number" })
    .min(0, "--tolerance must be in [0, 1]")
    .max(1, "--tolerance must be in [0, 1]")
    .optional(),
  joints: int("--joints", 1).optional(),
  proposals: int("--proposals", 1).optional(),
  reinferGroups: z.boolean().default(false),
  mainBins: int("--main-bins", 1).optional(),
  subBins: int("--sub-bins", 1).optional(),
  // mallm-gan
  epochs: int("--epochs", 1).optional(),
  frozenEpochs: int("--frozen-epochs", 0).optional(),
  mallmBatch: int("--mallm-batch", 1).optional(),
  examplesPerCall: int("--examples-per-call", 1).optional(),
  topK: int("--top-k", 1).optional(),
  storeThreshold: z.coerce
    .number({ error: "--store-threshold must be a number" })
    .min(0, "--store-threshold must be in [0, 1]")
    .max(1, "--store-threshold must be in [0, 1]")
    .optional(),
  causalOrder: z.boolean().default(false),
  context: z.string().optional(),
  discriminator: z
    .enum(DISCRIMINATOR_KINDS, { error: "--discriminator must be sgd, logistic or forest" })
    .optional(),
});
export type GenerateOptions = z.input<typeof GenerateOptionsSchema>;

export interface CliIo {
  stdout: ProgressSink;
  stderr: ProgressSink;
  env: Env;
}

const defaultIo = (): CliIo => ({ stdout: process.stdout, stderr: process.stderr, env: process.env });

function parseOptions<T>(schema: z.ZodType<T>, raw: unknown): T {
  const r = schema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new SynthgraphError(issue.message, { hint: "see `synthgraph generate --help`", exitCode: 2 });
  }
  return r.data;
}

/** The run config from CLI options (paths made absolute; model configs resolved once, stored in run.json). */
export function runConfigFromOptions(o: z.output<typeof GenerateOptionsSchema>): RunConfig {
  const models = resolveRoleConfigs({
    ...(o.modelConfig ? { configFile: o.modelConfig } : {}),
    flags: {
      ...(o.model ? { model: o.model } : {}),
      roleModels: parseRoleAssignments(o.roleModel, (v) => v, "--role-model"),
      temperatures: parseRoleAssignments(o.temperature, Number, "--temperature"),
    },
  });
  return RunConfigSchema.parse({
    input: resolve(o.data),
    rows: o.rows,
    out: resolve(o.out),
    engine: o.engine,
    models,
    seed: o.seed,
    maxIterations: o.maxIterations,
    probeRows: o.probeRows,
    examples: o.examples,
    batchRows: o.batchRows,
    ...(o.concurrency === undefined ? {} : { concurrency: o.concurrency }),
    guard: o.guard,
    privacyGuard: o.privacyGuard,
    describeColumns: o.describeColumns,
    ...(o.target ? { target: o.target } : {}),
    ...(o.metadata ? { metadata: resolve(o.metadata) } : {}),
    ...(o.json ? { summary: resolve(o.json) } : {}),
    llmsynthor: {
      ...optional("iterations", o.iterations),
      ...optional("tolerance", o.tolerance),
      ...optional("nJoints", o.joints),
      ...optional("nProposals", o.proposals),
      reinferGroups: o.reinferGroups,
      ...optional("mainBins", o.mainBins),
      ...optional("subBins", o.subBins),
    },
    mallm: {
      ...optional("epochs", o.epochs),
      ...optional("frozenEpochs", o.frozenEpochs),
      ...optional("batchSize", o.mallmBatch),
      ...optional("examplesPerCall", o.examplesPerCall),
      ...optional("topK", o.topK),
      ...optional("storeThreshold", o.storeThreshold),
      causalOrder: o.causalOrder,
      ...optional("context", o.context),
      ...optional("discriminator", o.discriminator),
    },
  });
}

/** SUMMARY.json: the fields every engine has, then the engine's own trajectory (graph/engines.ts summary). */
export interface CommonSummary {
  rows: number;
  run_dir: string;
  run_id: string;
  engine: string;
  output: string;
  stopped_because: string | null;
  usage: {
    calls: number;
    failed_calls: number;
    prompt_tokens: number;
    completion_tokens: number;
    estimated: boolean;
    by_role: Record<string, unknown>;
  };
  privacy: { guard: boolean; exact_copies_removed: number };
  invalid_rows_dropped: number;
  evaluate: { summary: unknown; quality_report: unknown };
}
export type GenerateSummary = CommonSummary & Record<string, unknown>;

/** SUMMARY.json of a finished run: the state's record plus the evaluation of the output against the input. */
export async function buildSummary(result: RunResult<EngineStateBase>): Promise<GenerateSummary> {
  const { state, run } = result;
  const config = run.config;
  const engine = engineFor(config.engine);
  const real = await realLoader(config)();
  const synthetic = await readTable(config.out, { metadata: metadataToJson(real.metadata) });
  const ev = evaluateTables(real.table, synthetic.table, undefined, {
    seed: config.seed,
    skip_random_forest: true,
    ...((config.target ?? real.metadata.target) ? { target: config.target ?? real.metadata.target } : {}),
  });
  const u = state.usage;
  const extras = await engine.summary({
    state,
    config,
    store: new ArtifactStore(runPaths(result.dir).artifacts),
  });
  return {
    rows: synthetic.table.nRows,
    run_dir: result.dir,
    run_id: run.id,
    engine: config.engine,
    output: config.out,
    stopped_because: engine.stoppedBecause(state),
    ...extras,
    usage: {
      calls: u.calls,
      failed_calls: u.failed_calls,
      prompt_tokens: u.prompt_tokens,
      completion_tokens: u.completion_tokens,
      estimated: u.estimated,
      by_role: u.by_role,
    },
    privacy: { guard: config.privacyGuard, exact_copies_removed: state.exactCopiesRemoved },
    invalid_rows_dropped: state.invalidRows,
    evaluate: { summary: ev.summary, quality_report: ev.quality_report },
  };
}

function formatDone(s: GenerateSummary): string {
  const e = s.evaluate.summary as {
    quality_overall?: number;
    worst_columns?: Array<{ column: string; score: number }>;
  };
  const q =
    typeof e.quality_overall === "number" && Number.isFinite(e.quality_overall)
      ? e.quality_overall.toFixed(3)
      : "n/a";
  return [
    `done: ${s.rows} rows in ${s.output}`,
    `  iterations ${Array.isArray(s.iterations) ? s.iterations.length : 0} (${s.stopped_because ?? "n/a"}); quality ${q}; exact copies removed ${s.privacy.exact_copies_removed}; invalid rows dropped ${s.invalid_rows_dropped}`,
    `  usage: ${s.usage.calls} calls, ${s.usage.prompt_tokens} prompt + ${s.usage.completion_tokens} completion tokens${s.usage.estimated ? " (partly estimated)" : ""}`,
    `  run directory: ${s.run_dir}`,
    "",
  ].join("\n");
}

async function finish(result: RunResult<EngineStateBase>, io: CliIo): Promise<GenerateSummary> {
  const summary = await buildSummary(result);
  const path = result.run.config.summary;
  if (path) await writeFile(path, `${toJson(summary)}\n`);
  io.stdout.write(formatDone(summary));
  return summary;
}

/** Each engine's part of the progress (the detail of the loaded line, the lines of its own nodes). */
const ENGINE_PROGRESS: Record<EngineName, (config: RunConfig) => EngineProgress> = {
  synthia: (c) => synthiaProgress(c.maxIterations),
  llmsynthor: () => llmsynthorProgress,
  "mallm-gan": () => mallmProgress,
};

function printer(
  config: RunConfig,
  io: CliIo,
  quiet: boolean,
): ((e: Parameters<ProgressPrinter["handle"]>[0]) => void) | undefined {
  if (quiet) return undefined;
  const p = new ProgressPrinter(io.stderr, ENGINE_PROGRESS[config.engine](config));
  return (e) => p.handle(e);
}

/** Keeps the run directory on failure and says how to continue. */
function withResumeHint(err: unknown, dir: string): unknown {
  // Only a run that got as far as its run directory can be resumed (bad input fails before that).
  if (err instanceof SynthgraphError && existsSync(join(dir, "run.json"))) {
    const hint = [err.hint, `then continue with \`synthgraph resume ${dir}\``].filter(Boolean).join("; ");
    return Object.assign(err, { hint });
  }
  return err;
}

/** `generate` action: creates the run directory, runs, writes OUT.csv (+ SUMMARY.json). */
export async function runGenerate(raw: GenerateOptions, io: CliIo = defaultIo()): Promise<GenerateSummary> {
  const o = parseOptions(GenerateOptionsSchema, raw);
  const base = runConfigFromOptions(o);
  const embedded = await embeddedDefault(base.models, io.env);
  const config = embedded ? { ...base, models: embedded.models } : base;
  if (embedded && !o.quiet) io.stderr.write(`synthgraph: ${embedded.note}\n`);
  const dir = resolve(o.runDir ?? join(DEFAULT_RUNS_ROOT, newRunId()));
  // Bad input fails here, before anything is printed about a run or a run directory exists.
  const real = realLoader(config);
  await real();
  if (!o.quiet) {
    io.stderr.write(
      `synthgraph: run ${dir}\n  ${config.rows} rows from ${config.input} with ${engineFor(config.engine).describe(config, concurrencyOf(config))}\n`,
    );
  }
  let result: RunResult<EngineStateBase>;
  try {
    result = await startRun(dir, config, {
      real,
      env: io.env,
      ...optional("onEvent", printer(config, io, o.quiet)),
    });
  } catch (err) {
    throw withResumeHint(err, dir);
  }
  return finish(result, io);
}

const ResumeOptionsSchema = z.object({ dir: z.string().min(1), quiet: z.boolean().default(false) });

/** `resume` action: continues the run in DIR from its last checkpoint. */
export async function runResume(
  raw: z.input<typeof ResumeOptionsSchema>,
  io: CliIo = defaultIo(),
): Promise<GenerateSummary> {
  const o = parseOptions(ResumeOptionsSchema, raw);
  const dir = resolve(o.dir);
  if (!o.quiet) io.stderr.write(`synthgraph: resuming ${dir}\n`);
  let result: RunResult<EngineStateBase>;
  try {
    const run = await readRunFile(dir);
    result = await resumeRun(dir, { env: io.env, ...optional("onEvent", printer(run.config, io, o.quiet)) });
  } catch (err) {
    throw withResumeHint(err, dir);
  }
  return finish(result, io);
}

function optional<K extends string, V>(key: K, v: V | undefined): Partial<Record<K, V>> {
  return v === undefined ? {} : ({ [key]: v } as Record<K, V>);
}

export interface RunRow {
  id: string;
  engine: string;
  status: string;
  rows_done: number;
  rows_requested: number;
  iterations: number;
  updated: string;
  dir: string;
  error?: string;
}

/** `runs` action: the runs under ROOT, newest first. */
export async function runRuns(
  raw: { root?: string; json?: boolean },
  io: CliIo = defaultIo(),
): Promise<RunRow[]> {
  const root = resolve(raw.root ?? DEFAULT_RUNS_ROOT);
  const rows: RunRow[] = (await listRuns(root)).map(({ dir, run }) => ({
    id: run.id,
    engine: run.engine,
    status: run.status,
    rows_done: run.progress.rows_done,
    rows_requested: run.progress.rows_requested,
    iterations: run.progress.iterations,
    updated: run.updated,
    dir,
    ...(run.error ? { error: run.error.message } : {}),
  }));
  if (raw.json) {
    io.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return rows;
  }
  if (rows.length === 0) {
    io.stdout.write(`no runs under ${root}\n`);
    return rows;
  }
  const head = ["id", "engine", "status", "rows", "iterations", "updated"];
  const table = rows.map((r) => [
    r.id,
    r.engine,
    r.status,
    `${r.rows_done}/${r.rows_requested}`,
    String(r.iterations),
    r.updated,
  ]);
  const widths = head.map((h, j) => Math.max(h.length, ...table.map((t) => t[j].length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, j) => c.padEnd(widths[j]))
      .join("  ")
      .trimEnd();
  io.stdout.write(`${[line(head), ...table.map(line)].join("\n")}\n`);
  return rows;
}

export const generateCommand: CommandModule = {
  register(program: Command): void {
    program
      .command("generate")
      .description(
        "generate a synthetic table from a real one (--engine synthia: LLM rows refined by a discriminator; llmsynthor: LLM proposals sampled by code, for large N)",
      )
      .argument("<data>", "real table, CSV or JSON Lines")
      .requiredOption("--rows <n>", "number of synthetic rows")
      .requiredOption("--out <file>", "output CSV")
      .option("--engine <name>", `engine: ${ENGINES.join(", ")} (default synthia)`, "synthia")
      .option("--model <spec>", "model for every role, e.g. ollama:llama3.1:8b or openai:gpt-4o")
      .option(
        "--role-model <role=spec>",
        "model for one role (generator, discriminator, metadata); repeatable",
        collect,
        [],
      )
      .option("--temperature <role=t>", "temperature for one role; repeatable", collect, [])
      .option("--model-config <file>", "model config JSON (default + per-role settings)")
      .option("--seed <n>", "seed of every random choice (default 0)")
      .option("--max-iterations <k>", "refinement iterations at most (default 6)")
      .option("--probe-rows <p>", "rows generated per refinement iteration (default 50)")
      .option("--examples <k>", "stratified real rows shown to the generator (default 20)")
      .option("--batch-rows <b>", "rows per final generator call (default 25)")
      .option("--concurrency <c>", "parallel final generator calls (default: the endpoint's limit)")
      .option("--metadata <file>", "SDV-style metadata JSON (types, descriptions, target)")
      .option("--target <column>", "target column (stratification, utility metrics)")
      .option("--json <file>", "write SUMMARY.json")
      .option("--run-dir <dir>", "run directory (default ./runs/<timestamp>-<id>)")
      .option("--no-guard", 'let a "Real" verdict end the loop even when the statistics disagree')
      .option("--no-privacy-guard", "keep synthetic rows that exactly copy a real row")
      .option("--describe-columns", "ask the metadata agent for column descriptions (yours win)")
      .option("--quiet", "no progress on stderr")
      .option("--iterations <t>", "llmsynthor: iterations T (default min(10, rows / 20))")
      .option(
        "--tolerance <x>",
        "llmsynthor: stop when the pool's mean TVD is below x (default 0.02; 0 = never)",
      )
      .option("--joints <n>", "llmsynthor: joint variable groups the copula agent names (default 3)")
      .option("--proposals <n>", "llmsynthor: proposals per iteration (default 5)")
      .option("--reinfer-groups", "llmsynthor: re-infer the joint groups every iteration (default: once)")
      .option("--main-bins <b>", "llmsynthor: quantile bins per numeric column (default 6)")
      .option("--sub-bins <b>", "llmsynthor: sub-bins of the worst bin (default 8)")
      .option("--epochs <e>", "mallm-gan: learning epochs (default 5/4/3/2 for 100/200/400/800 real rows)")
      .option("--frozen-epochs <e>", "mallm-gan: epochs with the discriminator frozen (default 1)")
      .option("--mallm-batch <b>", "mallm-gan: real rows per batch of the loop (default 50)")
      .option(
        "--examples-per-call <k>",
        "mallm-gan: real examples in and rows out per generator call (default 5)",
      )
      .option("--top-k <k>", "mallm-gan: (theta, score) pairs shown to the optimizer (default 3)")
      .option(
        "--store-threshold <x>",
        "mallm-gan: share of valid rows for a batch's theta to be stored (default 0.8)",
      )
      .option("--causal-order", "mallm-gan: order columns causes-first in examples and output")
      .option("--context <text>", "mallm-gan: context of data collection for theta")
      .option(
        "--discriminator <kind>",
        "mallm-gan: sgd (the paper's incremental logistic regression, default), logistic (refitted to convergence on all rows seen) or forest (random forest on a bounded sample)",
      )
      .action(async (data: string, opts: Record<string, unknown>) => {
        await runGenerate({ ...opts, data } as GenerateOptions);
      });
  },
};

export const resumeCommand: CommandModule = {
  register(program: Command): void {
    program
      .command("resume")
      .description("continue a run from its last checkpoint (nothing accepted is lost or duplicated)")
      .argument("<dir>", "run directory")
      .option("--quiet", "no progress on stderr")
      .action(async (dir: string, opts: { quiet?: boolean }) => {
        await runResume({ dir, quiet: opts.quiet === true });
      });
  },
};

export const runsCommand: CommandModule = {
  register(program: Command): void {
    program
      .command("runs")
      .description("list generation runs and their state")
      .option("--root <dir>", `directory holding the runs (default ./${DEFAULT_RUNS_ROOT})`)
      .option("--json", "JSON output")
      .action(async (opts: { root?: string; json?: boolean }) => {
        await runRuns(opts);
      });
  },
};
