/**
 * `synthgraph generate`, `synthgraph resume` and `synthgraph runs`: durable SYNTHIA runs from the command line.
 * Progress goes to stderr; the final summary (and SUMMARY.json with --json) describes the iterations, the usage,
 * the privacy guard and the evaluation of the output against the input.
 */
import { readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import type { Command } from "commander";
import { z } from "zod";
import { SynthgraphError } from "../data/errors.ts";
import { metadataToJson } from "../data/metadata.ts";
import { readTable } from "../data/read.ts";
import { translateCondition } from "../agents/constraint.ts";
import {
  type ConditionPlan,
  type ConditionRequest,
  conditionsSummary,
  parseConditionsFile,
  planConditions,
  type TranslateCondition,
} from "../graph/conditions.ts";
import { type EngineStateBase, optional } from "../graph/engine.ts";
import { endpointFor } from "../graph/runtime.ts";
import { ENGINE_LIST, engineFor } from "../graph/registry.ts";
import { concurrencyOf, type RunResult, realLoader, resumeRun, startRun } from "../graph/run.ts";
import { ensureRunDir, withRunStore } from "../graph/run-store.ts";
import { embeddedDefault } from "../models/embedded.ts";
import type { Env } from "../models/factory.ts";
import {
  parseRoleAssignments,
  ROLES,
  resolveRoleConfigs,
  type Role,
  type SamplingSettings,
} from "../models/spec.ts";
import { ENGINES, type RunConfig, RunConfigSchema } from "../state/config.ts";
import { writeFileAtomic } from "../state/atomic.ts";
import { storeUrlOf } from "../state/postgres.ts";
import { DEFAULT_RUNS_ROOT, listRuns, newRunId, readRunFile } from "../state/run-dir.ts";
import { evaluateTables, toJson } from "../stats/metrics/evaluate.ts";
import type { CommandModule } from "./commands.ts";
import { noteRunDir, withRunHint } from "./errors.ts";
import { MAX_ROWS } from "./limits.ts";
import { smallModelDefaults } from "./local-defaults.ts";
import { cliDecimal, DECIMAL_FLAG, cliInt as int } from "./options.ts";
import { printPaused } from "./pause.ts";
import {
  anyOf,
  checkOutputs,
  htmlReportOfOurs,
  jsonWithKeys,
  type NamedPath,
  recordedInRuns,
} from "./output-safety.ts";
import { checkModelAddresses } from "./preflight.ts";
import { ProgressPrinter, type ProgressSink } from "./progress.ts";

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

/** The options of `generate` every engine shares (each engine's own come from its `cli`, graph/registry.ts). */
const CommonOptionsSchema = z.object({
  data: z.string().min(1),
  rows: int("--rows", 1)
    .max(MAX_ROWS, `--rows must be at most ${MAX_ROWS.toLocaleString("en-US")} (docs/robustness.md)`)
    .optional(),
  where: z.string().min(1, "--where must not be empty").optional(),
  condition: z.string().min(1, "--condition must not be empty").optional(),
  conditions: z.string().min(1).optional(),
  out: z.string().min(1),
  engine: z.enum(ENGINES, { error: `--engine must be one of ${ENGINES.join(", ")}` }).default("synthia"),
  model: z.string().optional(),
  roleModel: z.array(z.string()).default([]),
  temperature: z.array(z.string()).default([]),
  topP: z.array(z.string()).default([]),
  sampleTopK: z.array(z.string()).default([]),
  repeatPenalty: z.array(z.string()).default([]),
  maxTokens: z.array(z.string()).default([]),
  modelConfig: z.string().optional(),
  numCtx: int("--num-ctx", 256).optional(),
  force: z.boolean().default(false),
  seed: int("--seed", -2147483648).default(0),
  batchRows: int("--batch-rows", 1).default(25),
  concurrency: int("--concurrency", 1).optional(),
  metadata: z.string().optional(),
  target: z.string().optional(),
  decimal: cliDecimal,
  json: z.string().optional(),
  runDir: z.string().optional(),
  privacyGuard: z.boolean().default(true),
  quiet: z.boolean().default(false),
  pause: z.boolean().default(false),
  report: z.string().optional(),
  store: z.string().optional(),
  workers: z.boolean().default(false),
  endpoint: z.array(z.url({ error: "--endpoint must be a URL (http://host:port)" })).default([]),
});

/** The raw options of `generate`: the common ones typed; an engine's own are checked by its schema. */
export type GenerateOptions = z.input<typeof CommonOptionsSchema> & Record<string, unknown>;
export type ParsedGenerateOptions = z.output<typeof CommonOptionsSchema> & Record<string, unknown>;

/**
 * The common options, then every registered engine's (in registry order). Typed as the common options plus
 * string keys: the engines' fields are typed where they are read, by each engine's own schema.
 */
export const GenerateOptionsSchema = CommonOptionsSchema.extend(
  Object.assign({}, ...ENGINE_LIST.map((e) => e.cli.schema.shape)) as z.ZodRawShape,
) as unknown as z.ZodType<ParsedGenerateOptions, GenerateOptions>;

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

/** `--top-p generator=0.9` etc. as per-role sampling settings (each value checked by RoleConfigSchema). */
function samplingFlags(o: ParsedGenerateOptions): Partial<Record<Role, SamplingSettings>> {
  const out: Partial<Record<Role, SamplingSettings>> = {};
  const put = (flag: string, values: string[], key: keyof SamplingSettings): void => {
    for (const [role, v] of Object.entries(parseRoleAssignments(values, Number, flag)) as [Role, number][]) {
      if (!Number.isFinite(v)) throw new SynthgraphError(`${flag} ${role}= needs a number`, { exitCode: 2 });
      out[role] = { ...out[role], [key]: v };
    }
  };
  put("--top-p", o.topP, "topP");
  put("--sample-top-k", o.sampleTopK, "topK");
  put("--repeat-penalty", o.repeatPenalty, "repeatPenalty");
  put("--max-tokens", o.maxTokens, "maxTokens");
  return out;
}

/**
 * The run config from CLI options (paths made absolute; model configs resolved once, stored in run.json): the
 * common fields, then each engine's part (its toConfig of its own fields, read through its own schema).
 */
export function runConfigFromOptions(
  o: ParsedGenerateOptions,
  plan?: Pick<ConditionPlan, "rows" | "conditions">,
): RunConfig {
  const rows = plan?.rows ?? o.rows;
  if (rows === undefined) {
    throw new SynthgraphError("--rows is required", {
      hint: "e.g. --rows 1000 (with --conditions FILE.json the file's groups give the rows)",
      exitCode: 2,
    });
  }
  const models = resolveRoleConfigs({
    ...(o.modelConfig ? { configFile: o.modelConfig } : {}),
    flags: {
      ...(o.model ? { model: o.model } : {}),
      ...(o.endpoint.length > 0 ? { baseUrls: o.endpoint } : {}),
      ...(o.numCtx === undefined ? {} : { numCtx: o.numCtx }),
      roleModels: parseRoleAssignments(o.roleModel, (v) => v, "--role-model"),
      temperatures: parseRoleAssignments(o.temperature, Number, "--temperature"),
      sampling: samplingFlags(o),
    },
    ...(engineFor(o.engine).sampling ? { engineDefaults: engineFor(o.engine).sampling } : {}),
  });
  const engineParts = ENGINE_LIST.map((e) => e.cli.toConfig(e.cli.schema.parse(o)));
  return RunConfigSchema.parse({
    input: resolve(o.data),
    rows,
    ...(plan?.conditions ? { conditions: plan.conditions } : {}),
    out: resolve(o.out),
    engine: o.engine,
    models,
    seed: o.seed,
    batchRows: o.batchRows,
    ...(o.concurrency === undefined ? {} : { concurrency: o.concurrency }),
    privacyGuard: o.privacyGuard,
    ...(o.target ? { target: o.target } : {}),
    ...(o.decimal ? { decimal: o.decimal } : {}),
    ...(o.metadata ? { metadata: resolve(o.metadata) } : {}),
    ...(o.json ? { summary: resolve(o.json) } : {}),
    ...Object.assign({}, ...engineParts),
  });
}

/** SUMMARY.json: the fields every engine has, then the engine's own trajectory (its registry entry's summary). */
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
export async function buildSummary(
  result: RunResult<EngineStateBase>,
  storeUrl?: string,
): Promise<GenerateSummary> {
  const { state, run } = result;
  const config = run.config;
  const engine = engineFor(config.engine);
  const real = await realLoader(config)();
  const synthetic = await readTable(config.out, {
    metadata: metadataToJson(real.metadata),
    ...(config.decimal ? { decimal: config.decimal } : {}),
  });
  const ev = evaluateTables(real.table, synthetic.table, undefined, {
    seed: config.seed,
    skip_random_forest: true,
    ...((config.target ?? real.metadata.target) ? { target: config.target ?? real.metadata.target } : {}),
  });
  const u = state.usage;
  // The run's artifacts where they live: its directory, or its PostgreSQL store (graph/run-store.ts).
  const { extras, conditions } = await withRunStore(result.dir, run, storeUrl, async (store) => {
    const extras = await engine.summary({
      state,
      config,
      store,
      tables: { real: real.table, synthetic: synthetic.table },
    });
    // An engine that does not generate through the shared final batches (LLMSynthor) gives its own per group.
    const conditions =
      config.conditions === undefined || "conditions" in extras
        ? {}
        : { conditions: await conditionsSummary(config, store) };
    return { extras, conditions };
  });
  return {
    rows: synthetic.table.nRows,
    run_dir: result.dir,
    run_id: run.id,
    engine: config.engine,
    output: config.out,
    stopped_because: engine.stoppedBecause(state),
    ...extras,
    ...conditions,
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
    // Steering actions applied at pause points, with their time (state/steering.ts).
    steering: (state as { steering?: unknown[] }).steering ?? [],
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
  // A conditional run's groups (the engines' `conditions` summary): what each holds and what the code dropped.
  const groups = Array.isArray(s.conditions)
    ? (s.conditions as Array<{ where?: unknown; rows?: unknown; unmet?: unknown }>)
    : [];
  const groupLines = groups.map(
    (g, k) =>
      `  condition${groups.length > 1 ? ` group ${k + 1}` : ""}: ${String(g.rows)} rows where ${String(g.where)}; ${String(g.unmet)} valid rows that missed it were dropped`,
  );
  return [
    `done: ${s.rows} rows in ${s.output}`,
    ...groupLines,
    `  iterations ${Array.isArray(s.iterations) ? s.iterations.length : 0} (${s.stopped_because ?? "n/a"}); quality ${q}; exact copies removed ${s.privacy.exact_copies_removed}; invalid rows dropped ${s.invalid_rows_dropped}`,
    `  usage: ${s.usage.calls} calls, ${s.usage.prompt_tokens} prompt + ${s.usage.completion_tokens} completion tokens${s.usage.estimated ? " (partly estimated)" : ""}`,
    `  run directory: ${s.run_dir}`,
    "",
  ].join("\n");
}

/** A run that stopped at a pause point: what the CLI returns instead of a summary. */
export interface PausedRun {
  paused: true;
  run_dir: string;
  pause: RunResult["pause"];
}

export async function finish(
  result: RunResult<EngineStateBase>,
  io: CliIo,
  storeUrl?: string,
): Promise<GenerateSummary | PausedRun> {
  if (result.status === "paused") return printPaused(result, io);
  const summary = await buildSummary(result, storeUrl);
  const path = result.run.config.summary;
  if (path) await writeFileAtomic(path, `${toJson(summary)}\n`);
  io.stdout.write(formatDone(summary));
  return summary;
}

function printer(
  config: RunConfig,
  io: CliIo,
  quiet: boolean,
): ((e: Parameters<ProgressPrinter["handle"]>[0]) => void) | undefined {
  if (quiet) return undefined;
  const p = new ProgressPrinter(io.stderr, engineFor(config.engine).progress(config));
  return (e) => p.handle(e);
}

/** The conditions the options ask for (the file read and checked here). */
async function conditionRequest(o: ParsedGenerateOptions): Promise<ConditionRequest> {
  const req: ConditionRequest = {
    ...(o.rows === undefined ? {} : { rows: o.rows }),
    ...(o.where === undefined ? {} : { where: o.where }),
    ...(o.condition === undefined ? {} : { condition: o.condition }),
  };
  if (o.conditions === undefined) return req;
  const path = resolve(o.conditions);
  const text = await readFile(path, "utf8").catch((e: unknown) => {
    throw new SynthgraphError(`cannot read the conditions file ${path}: ${(e as Error).message}`, {
      hint: 'write a JSON array such as [{"where": "stroke == 1", "rows": 300}]',
      exitCode: 2,
    });
  });
  return { ...req, file: { path, entries: parseConditionsFile(text, path) } };
}

/** --condition's words through the constraint agent (role "constraint"), re-asked on parse errors. */
function constraintTranslator(config: RunConfig, io: CliIo): TranslateCondition {
  return async (words) => {
    const t = await translateCondition({
      endpoint: endpointFor({ config, env: io.env }, "constraint"),
      metadata: (await realLoader(config)()).metadata,
      request: words,
    });
    return { where: t.where, rows: t.rows };
  };
}

/** `generate` action: creates the run directory, runs, writes OUT.csv (+ SUMMARY.json). */
export async function runGenerate(
  raw: GenerateOptions,
  io: CliIo = defaultIo(),
): Promise<GenerateSummary | PausedRun> {
  let o = parseOptions(GenerateOptionsSchema, raw);
  const conditional = o.where !== undefined || o.condition !== undefined || o.conditions !== undefined;
  // Conditions are planned against the real table before the run's config exists (they set its rows); an
  // unconditional run builds its config exactly as before.
  const configOf = (opts: ParsedGenerateOptions): RunConfig =>
    conditional ? runConfigFromOptions(opts, { rows: opts.rows ?? 1 }) : runConfigFromOptions(opts);
  let base = configOf(o);
  // No model configured and none answering: a cached local GGUF model, said on stderr (models/embedded.ts).
  const embedded = await embeddedDefault(base.models, io.env);
  // A small in-process model: the engine's small-model defaults for the options not given (cli/local-defaults.ts).
  const small = smallModelDefaults(engineFor(o.engine), embedded?.models ?? base.models, raw);
  if (small) {
    o = parseOptions(GenerateOptionsSchema, { ...raw, ...small.values });
    base = configOf(o);
  }
  const storeUrl = storeUrlOf(o.store, io.env);
  if (o.workers && storeUrl === undefined) {
    throw new SynthgraphError("--workers needs a PostgreSQL store (the job queue lives there)", {
      hint: "pass --store postgres://… (or set SYNTHGRAPH_DATABASE_URL) and start `synthgraph worker --store …` processes",
      exitCode: 2,
    });
  }
  // The store's kind is recorded in run.json, never its URL (it may hold a password).
  const where = {
    ...(storeUrl === undefined ? {} : { store: "postgres" as const }),
    ...(o.workers ? { workers: true } : {}),
  };
  let config = { ...(embedded ? { ...base, models: embedded.models } : base), ...where };
  const notes = [embedded?.note, small?.note].filter((n) => n !== undefined);
  if (notes.length > 0 && !o.quiet) io.stderr.write(`synthgraph: ${notes.join("; ")}\n`);
  const dir = resolve(o.runDir ?? join(DEFAULT_RUNS_ROOT, newRunId()));
  // Before any work: no output may replace an input or a file synthgraph did not write, every output folder
  // must be writable, and the model servers must be addresses fetch will connect to.
  await checkOutputs({
    inputs: [
      ...runInputs(config),
      // Read before the run starts (it sets the run's rows), so it is an input like the table.
      ...(o.conditions === undefined ? [] : [{ flag: "--conditions", path: o.conditions }]),
    ],
    outputs: [
      ...runOutputs(config, [dirname(dir), DEFAULT_RUNS_ROOT]),
      ...(o.report === undefined ? [] : [{ flag: "--report", path: o.report, owned: htmlReportOfOurs() }]),
    ],
    runDir: dir,
    force: o.force,
  });
  checkModelAddresses(config, io.env);
  noteRunDir(dir);
  // Bad input fails here, before anything is printed about a run or a run directory exists.
  let real = realLoader(config);
  const loaded = await real();
  // Every decision reading made (number formats, stray tokens read as missing, ...) is printed, even --quiet.
  for (const note of loaded.notes ?? []) io.stderr.write(`synthgraph: note: ${note}\n`);
  // Whether the constraint model read a condition in words (an engine with no model of its own still used one).
  let translated = false;
  if (conditional) {
    // Every condition is parsed, translated and checked for feasibility before any generator call (exit 2).
    const translate = constraintTranslator(config, io);
    const plan = await planConditions(await conditionRequest(o), loaded, async (words) => {
      translated = true;
      return translate(words);
    });
    const planned = runConfigFromOptions(o, plan);
    config = { ...(embedded ? { ...planned, models: embedded.models } : planned), ...where };
    real = realLoader(config);
    await real();
    for (const line of plan.lines) io.stderr.write(`${line}\n`);
  }
  if (!o.quiet) {
    const engine = engineFor(config.engine);
    // An engine with no model roles never builds a model client: say so first, and that model flags are moot.
    const modelFlags = o.model !== undefined || o.roleModel.length > 0 || o.modelConfig !== undefined;
    const noModel =
      engine.models.length === 0
        ? translated
          ? " (no model needed to sample; the constraint model read the condition's words)"
          : ` (no model needed${modelFlags ? `: ${config.engine} ignores --model, --role-model and --model-config` : ""})`
        : "";
    io.stderr.write(
      `synthgraph: run ${dir}${noModel}\n  ${config.rows} rows from ${config.input} with ${engine.describe(config, concurrencyOf(config))}\n`,
    );
  }
  let result: RunResult<EngineStateBase>;
  try {
    result = await startRun(dir, config, {
      real,
      env: io.env,
      pauseEvery: o.pause,
      onWarning: warnTo(io),
      ...optional("storeUrl", storeUrl),
      ...optional("onEvent", printer(config, io, o.quiet)),
    });
  } catch (err) {
    throw withRunHint(err, dir);
  }
  const done = await finish(result, io, storeUrl);
  if (o.report && !("paused" in done)) await reportAfterRun(done, result.run.config, resolve(o.report), io);
  return done;
}

/** `generate --report PATH`: the HTML report of the output against the input, with the run's iterations. */
async function reportAfterRun(s: GenerateSummary, c: RunConfig, path: string, io: CliIo): Promise<void> {
  const { writeRunReport } = await import("./report.ts");
  await writeRunReport(
    {
      input: c.input,
      out: c.out,
      target: c.target,
      metadata: c.metadata,
      seed: c.seed,
      summary: s,
      ...(c.decimal ? { decimal: c.decimal } : {}),
    },
    path,
    io,
  );
}

/** Recoveries are printed even with --quiet: the user should know what was redone. */
const warnTo =
  (io: CliIo) =>
  (message: string): void => {
    io.stderr.write(`synthgraph: warning: ${message}\n`);
  };

/** The files a run reads (each must exist; none may be written). */
function runInputs(config: RunConfig): NamedPath[] {
  return [
    { flag: "the input table", path: config.input },
    ...(config.metadata ? [{ flag: "--metadata", path: config.metadata }] : []),
  ];
}

/** The files a run writes; an existing one is replaced only when a run under `roots` recorded it as its own. */
function runOutputs(config: RunConfig, roots: string[]) {
  const owned = anyOf(recordedInRuns(roots), jsonWithKeys(["run_dir", "run_id", "engine", "output"]));
  return [
    { flag: "--out", path: config.out, owned: recordedInRuns(roots) },
    ...(config.summary ? [{ flag: "--json", path: config.summary, owned }] : []),
  ];
}

const ResumeOptionsSchema = z.object({
  dir: z.string().min(1),
  quiet: z.boolean().default(false),
  store: z.string().optional(),
});

/** `resume` action: continues the run in DIR from its last checkpoint. */
export async function runResume(
  raw: z.input<typeof ResumeOptionsSchema>,
  io: CliIo = defaultIo(),
): Promise<GenerateSummary | PausedRun | undefined> {
  const o = parseOptions(ResumeOptionsSchema, raw);
  const dir = resolve(o.dir);
  noteRunDir(dir);
  const storeUrl = storeUrlOf(o.store, io.env);
  // A Postgres-backed run unknown on this machine: its run directory is recreated from the runs table.
  await ensureRunDir(dir, storeUrl);
  const run = await readRunFile(dir);
  if (run.status === "done") {
    io.stdout.write(`already complete: ${run.progress.rows_done} rows in ${run.config.out}\n`);
    return undefined;
  }
  // The run's own outputs may be replaced (force); its folders must still exist and be writable.
  await checkOutputs({ inputs: runInputs(run.config), outputs: runOutputs(run.config, []), force: true });
  checkModelAddresses(run.config, io.env);
  if (!o.quiet) io.stderr.write(`synthgraph: resuming ${dir}\n`);
  let result: RunResult<EngineStateBase>;
  try {
    result = await resumeRun(dir, {
      env: io.env,
      onWarning: warnTo(io),
      ...optional("storeUrl", storeUrl),
      ...optional("onEvent", printer(run.config, io, o.quiet)),
    });
  } catch (err) {
    throw withRunHint(err, dir);
  }
  return finish(result, io, storeUrl);
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
    const generate = program
      .command("generate")
      .description(
        "generate a synthetic table from a real one (--engine synthia: LLM rows refined by an LLM discriminator; mallm-gan: a data-generation process refined against a classifier, for small tables; llmsynthor: LLM proposals sampled by code, for large N; synllm: one-pass prompts with rule checks; copula, bayesnet: classical synthesizers, no model needed)",
      )
      .argument("<data>", "real table, CSV or JSON Lines")
      .option("--rows <n>", "number of synthetic rows (with --conditions: the groups' sum, optional)")
      .option(
        "--where <expr>",
        "generate only rows satisfying a condition, e.g. 'age > 60 and smoking_status == \"smokes\"' (docs/predicates.md)",
      )
      .option(
        "--condition <words>",
        'the condition in plain words, e.g. "smokers over 60" (translated by the constraint model, printed back)',
      )
      .option(
        "--conditions <file>",
        'JSON list of groups, e.g. [{"where": "stroke == 1", "rows": 300}, {"condition": "no stroke", "rows": 300}]',
      )
      .requiredOption("--out <file>", "output CSV")
      .option("--engine <name>", `engine: ${ENGINES.join(", ")} (default synthia)`, "synthia")
      .option("--model <spec>", "model for every role, e.g. ollama:llama3.1:8b or openai:gpt-4o")
      .option("--role-model <role=spec>", `model for one role (${ROLES.join(", ")}); repeatable`, collect, [])
      .option("--temperature <role=t>", "temperature for one role; repeatable", collect, [])
      .option("--top-p <role=p>", "nucleus sampling top-p for one role; repeatable", collect, [])
      .option(
        "--sample-top-k <role=k>",
        "top-k sampling for one role (Ollama, OpenAI-compatible servers; api.openai.com has none); repeatable",
        collect,
        [],
      )
      .option(
        "--repeat-penalty <role=x>",
        "repetition penalty for one role (Ollama, OpenAI-compatible servers); repeatable",
        collect,
        [],
      )
      .option("--max-tokens <role=n>", "max new tokens of one reply for one role; repeatable", collect, [])
      .option("--model-config <file>", "model config JSON (default + per-role settings)")
      .option("--num-ctx <tokens>", "Ollama context window of every role (num_ctx; default 8192)")
      .option("--force", "replace --out / --json / --report even when synthgraph did not write them")
      .option("--seed <n>", "seed of every random choice (default 0)")
      .option(
        "--batch-rows <b>",
        "rows per final generator call (default 25; synthia: 10 with an in-process llamacpp model)",
      )
      .option("--concurrency <c>", "parallel final generator calls (default: the endpoint's limit)")
      .option("--metadata <file>", "SDV-style metadata JSON (types, descriptions, target)")
      .option("--target <column>", "target column (stratification, utility metrics)")
      .option(DECIMAL_FLAG.flags, DECIMAL_FLAG.description)
      .option("--json <file>", "write SUMMARY.json")
      .option("--run-dir <dir>", "run directory (default ./runs/<timestamp>-<id>)")
      .option("--no-privacy-guard", "keep synthetic rows that exactly copy a real row")
      .option(
        "--store <url>",
        "keep checkpoints and artifacts in PostgreSQL (postgres://…; default: SYNTHGRAPH_DATABASE_URL, else the run directory)",
      )
      .option(
        "--endpoint <url>",
        "one server of a pool serving the model (every role); repeat for each server: calls spread over them with failover",
        collect,
        [],
      )
      .option("--workers", "final batches are generated by `synthgraph worker` processes (needs --store)")
      .option("--quiet", "no progress on stderr")
      .option(
        "--report <file>",
        "also write the HTML report (iterations, usage, plots) at the end of the run",
      )
      .option(
        "--pause",
        "pause at every pause point (exit 0, run paused): steer it with `synthgraph steer DIR`",
      )
      .action(async (data: string, opts: Record<string, unknown>) => {
        await runGenerate({ ...opts, data } as GenerateOptions);
      });
    // Each engine's options under its own heading of --help.
    for (const e of ENGINE_LIST) {
      generate.optionsGroup(`${e.name} options:`);
      for (const o of e.cli.options) generate.option(o.flags, o.description);
    }
  },
};

export const resumeCommand: CommandModule = {
  register(program: Command): void {
    program
      .command("resume")
      .description("continue a run from its last checkpoint (nothing accepted is lost or duplicated)")
      .argument(
        "<dir>",
        "run directory (with --store: any path ending in the run id, recreated from the database)",
      )
      .option("--quiet", "no progress on stderr")
      .option("--store <url>", "PostgreSQL URL of a Postgres-backed run (default: SYNTHGRAPH_DATABASE_URL)")
      .action(async (dir: string, opts: { quiet?: boolean; store?: string }) => {
        await runResume({ dir, quiet: opts.quiet === true, ...optional("store", opts.store) });
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
