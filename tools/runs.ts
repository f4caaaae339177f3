/**
 * start_run and run_status: long work never blocks a tool call. start_run checks the input table, creates
 * the run (graph/run.ts: run directory under the root's runs folder, durable checkpoints) and returns its id
 * at once while the engine runs in the background of this process; run_status reads the run's progress
 * (run.json, plus the live registry's last node and diagnostics; the pause point and pending steering actions
 * of a paused run) and can wait a bounded time for the next change, reporting progress meanwhile. The run
 * knobs, the config built from them and the background launch are shared with sample (tools/sample.ts).
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { z } from "zod";
import { SynthgraphError } from "../data/errors.ts";
import { engineFor } from "../graph/registry.ts";
import { realLoader } from "../graph/run.ts";
import { resolveRoleConfigs } from "../models/spec.ts";
import type { RealData } from "../graph/runtime.ts";
import { type ConditionGroup, ENGINES, type RunConfig, RunConfigSchema } from "../state/config.ts";
import { newRunId, RUN_FILE, readRunFile, type RunFile, RunStatusSchema } from "../state/run-dir.ts";
import { readSteeringFile } from "../state/steering.ts";
import { type PausePoint, PausePointSchema } from "../graph/pause.ts";
import { readRunState } from "../graph/steer.ts";
import { decimalField, plain, type ToolContext, type ToolSpec } from "./context.ts";
import type { LiveRun } from "./run-registry.ts";

const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const MAX_WAIT_SECONDS = 60;

/** The run knobs start_run and sample share (model, seed, how to read the table, SYNTHIA's loop sizes). */
export const RunKnobs = {
  engine: z
    .enum(ENGINES)
    .default("synthia")
    .describe(
      "synthia: LLM rows refined by a discriminator (small/medium tables); mallm-gan: very small tables, readable generation process; llmsynthor: large outputs, rows sampled by code; synllm: one pass with rules; copula, bayesnet: offline baselines, no model",
    ),
  model: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .describe("model for every role, e.g. ollama:llama3.1:8b or openai:gpt-4o (default: the server's)"),
  seed: z.number().int().default(0),
  target: z.string().min(1).optional().describe("target column (stratification, utility metrics)"),
  metadata: z.string().min(1).max(4096).optional().describe("SDV metadata JSON for the real table"),
  decimal: decimalField("the real table's"),
  max_iterations: z
    .number()
    .int()
    .min(1)
    .max(100)
    .optional()
    .describe("synthia: refinement iterations at most (6)"),
  probe_rows: z
    .number()
    .int()
    .min(1)
    .max(10_000)
    .optional()
    .describe("synthia: rows per refinement probe (50)"),
  batch_rows: z.number().int().min(1).max(1000).optional().describe("rows per final generator call (25)"),
  examples: z
    .number()
    .int()
    .min(0)
    .max(1000)
    .optional()
    .describe("real example rows shown to the generator (20)"),
};

const RunKnobsSchema = z.object(RunKnobs);
type RunKnobsT = z.output<typeof RunKnobsSchema>;

/**
 * The run's config from tool input: paths through the root's guard, models from `model` or the server's
 * defaults; `conditions` (canonical, already checked) make it a conditional run.
 */
export function runConfigOf(
  i: RunKnobsT & { data: string; out: string },
  ctx: ToolContext,
  size: { rows: number; conditions?: ConditionGroup[] },
): RunConfig {
  engineFor(i.engine);
  const input = ctx.guard.readable(i.data, "data");
  const out = ctx.guard.writable(i.out, "out");
  const metadata = i.metadata ? ctx.guard.readable(i.metadata, "metadata") : undefined;
  const models = i.model ? resolveRoleConfigs({ flags: { model: i.model } }) : ctx.models;
  return RunConfigSchema.parse({
    input,
    out,
    rows: size.rows,
    engine: i.engine,
    models,
    seed: i.seed,
    ...(size.conditions ? { conditions: size.conditions } : {}),
    ...(i.target ? { target: i.target } : {}),
    ...(metadata ? { metadata } : {}),
    ...(i.decimal ? { decimal: i.decimal } : {}),
    ...(i.max_iterations === undefined ? {} : { maxIterations: i.max_iterations }),
    ...(i.probe_rows === undefined ? {} : { probeRows: i.probe_rows }),
    ...(i.batch_rows === undefined ? {} : { batchRows: i.batch_rows }),
    ...(i.examples === undefined ? {} : { examples: i.examples }),
  });
}

/** Starts `config` in the background under the root's runs folder; `real` has already loaded the table. */
export function launchRun(
  ctx: ToolContext,
  config: RunConfig,
  real: () => Promise<RealData>,
  pauseEvery = false,
): { id: string; dir: string } {
  const id = newRunId();
  const dir = join(ctx.runsDir, id);
  ctx.runs.start(id, dir, config, { real, env: ctx.env, redact: ctx.redact, pauseEvery });
  return { id, dir };
}

export const statusHint = (id: string): string =>
  `call run_status with run_id "${id}" (wait_seconds up to ${MAX_WAIT_SECONDS} to wait for progress)`;

export const StartRunInput = z.object({
  data: z
    .string()
    .min(1)
    .max(4096)
    .describe("real table to imitate: CSV, TSV or JSON Lines (relative to the root)"),
  rows: z.number().int().min(1).max(1_000_000).describe("number of synthetic rows to generate"),
  out: z.string().min(1).max(4096).describe("output CSV path (relative to the root); overwritten"),
  ...RunKnobs,
  pause: z
    .boolean()
    .default(false)
    .describe(
      "pause at every pause point (between iterations, before the final generation) so you can read run_status and steer_run; resume_run goes on",
    ),
});

export const StartRunOutput = z.object({
  run_id: z.string(),
  run_dir: z.string(),
  engine: z.enum(ENGINES),
  status: z.literal("running"),
  rows_requested: z.number().int(),
  out: z.string(),
  next: z.string().describe("what to call next"),
});

export const startRunSpec: ToolSpec<typeof StartRunInput, typeof StartRunOutput> = {
  name: "start_run",
  description:
    "Starts generating a synthetic table in the background and returns a run id at once (a run takes minutes to hours). Poll run_status with the id; the run is durable (checkpoints in its run directory) and writes the output CSV when done. With pause: true it stops at each pause point for steer_run / resume_run.",
  input: StartRunInput,
  output: StartRunOutput,
  async run(i, ctx) {
    const config = runConfigOf(i, ctx, { rows: i.rows });
    // Bad input (unreadable table, unknown target) is this call's error, before any run exists.
    const real = realLoader(config);
    await real();
    const { id, dir } = launchRun(ctx, config, real, i.pause);
    return {
      run_id: id,
      run_dir: dir,
      engine: config.engine,
      status: "running" as const,
      rows_requested: config.rows,
      out: config.out,
      next: statusHint(id),
    };
  },
};

export const RunIdField = z
  .string()
  .regex(RUN_ID, "a run id as start_run returned it")
  .describe("id from start_run or sample");

export const RunStatusInput = z.object({
  run_id: RunIdField,
  wait_seconds: z
    .number()
    .min(0)
    .max(MAX_WAIT_SECONDS)
    .default(0)
    .describe(
      `wait up to this long for the run to finish or pause, reporting progress (0 = answer now; at most ${MAX_WAIT_SECONDS})`,
    ),
});

export const RunStatusOutput = z.object({
  run_id: z.string(),
  run_dir: z.string(),
  engine: z.string(),
  status: RunStatusSchema.describe(
    "running; paused (at a pause point: steer_run or resume_run); done; failed (resume_run retries from the last checkpoint); cancelled",
  ),
  live: z.boolean().describe("whether the run is executing in this server process"),
  progress: z.object({
    iterations: z.number().int(),
    rows_done: z.number().int(),
    rows_requested: z.number().int(),
  }),
  last_node: z.string().nullable().describe("graph node that finished last"),
  diagnostics: z
    .record(z.string(), z.number().nullable())
    .nullable()
    .describe("SYNTHIA: similarity, coverage, divergence, correlation similarity of the latest probe"),
  last_iteration: z
    .unknown()
    .describe("the engine's latest iteration record (scores, verdict, feedback ...)"),
  paused_at: PausePointSchema.nullable().describe(
    "when paused at a pause point: the iteration, its scores, a one-sentence summary and what comes next",
  ),
  pending_actions: z
    .number()
    .int()
    .describe("steering actions recorded but not applied yet (they apply when the run resumes)"),
  conditions: z
    .array(z.object({ where: z.string(), rows: z.number().int() }))
    .nullable()
    .describe("a conditional run's groups: each condition (canonical) and its exact row count"),
  output: z.string().nullable().describe("output CSV once done"),
  error: z.string().nullable(),
});

export const runStatusSpec: ToolSpec<typeof RunStatusInput, typeof RunStatusOutput> = {
  name: "run_status",
  description:
    "Reports a run's status (running, paused, done, failed, cancelled), progress (iterations, rows done of rows requested), the latest diagnostics and iteration record, where it paused, and the output path when done. With wait_seconds it waits (bounded) for the run to finish or pause, sending progress notifications.",
  input: RunStatusInput,
  output: RunStatusOutput,
  async run(i, ctx, extra) {
    const deadline = Date.now() + i.wait_seconds * 1000;
    for (;;) {
      const live = ctx.runs.get(i.run_id);
      if (extra.progress && live) {
        await extra.progress({
          progress: live.rowsDone,
          total: live.rowsRequested,
          message: `${live.status}: ${live.rowsDone}/${live.rowsRequested} rows, iteration ${live.iterations}${live.lastNode ? `, after ${live.lastNode}` : ""}`,
        });
      }
      const left = deadline - Date.now();
      if (!live || live.status !== "running" || left <= 0 || extra.signal?.aborted) break;
      await ctx.runs.nextChange(i.run_id, left, extra.signal);
    }
    return runStatus(i.run_id, ctx);
  },
};

/**
 * The run directory of `id` under the root's runs folder (or where this process runs it) and its run.json;
 * a symlink out of the root is refused like any path.
 */
export async function findRun(id: string, ctx: ToolContext): Promise<{ dir: string; file: RunFile }> {
  const given = ctx.runs.get(id)?.dir ?? join(ctx.runsDir, id);
  let real: string;
  try {
    real = ctx.guard.readable(join(given, RUN_FILE), "run_id");
  } catch (err) {
    if (err instanceof SynthgraphError && /outside the root/.test(err.message)) throw err;
    throw new SynthgraphError(`no run ${id} under ${ctx.runsDir}`, {
      hint: "pass the run_id start_run or sample returned",
      exitCode: 2,
    });
  }
  const dir = dirname(real);
  return { dir, file: await readRunFile(dir) };
}

/** The run's status as run_status reports it. */
export async function runStatus(id: string, ctx: ToolContext): Promise<z.output<typeof RunStatusOutput>> {
  const live = ctx.runs.get(id);
  // A run started a moment ago may not have written run.json yet: this process's view is the status then.
  if (live?.status === "running" && !existsSync(join(live.dir, RUN_FILE))) {
    return liveStatus(live, null, 0);
  }
  const { dir, file } = await findRun(id, ctx);
  const steering = await readSteeringFile(dir);
  if (live?.status === "running") return liveStatus(live, file, steering.pending.length);
  // Not executing here: run.json, written by whoever ran it last, is the status.
  let pausedAt: PausePoint | null = null;
  if (file.status === "paused") {
    pausedAt = live?.status === "paused" ? live.pause : ((await readRunState(dir)).pause ?? null);
  }
  return plain<z.output<typeof RunStatusOutput>>({
    run_id: id,
    run_dir: dir,
    engine: file.engine,
    status: file.status,
    live: false,
    progress: file.progress,
    last_node: live?.lastNode ?? null,
    diagnostics: live?.diagnostics ?? null,
    last_iteration: live?.lastIteration ?? null,
    paused_at: pausedAt,
    pending_actions: steering.pending.length,
    conditions: conditionsOf(file),
    output: file.status === "done" ? file.config.out : null,
    error: live?.error ?? (file.error ? ctx.redact(file.error.message) : null),
  });
}

function conditionsOf(file: RunFile | null): Array<{ where: string; rows: number }> | null {
  return file?.config.conditions?.map((g) => ({ where: g.where, rows: g.rows })) ?? null;
}

function liveStatus(live: LiveRun, file: RunFile | null, pending: number): z.output<typeof RunStatusOutput> {
  return plain<z.output<typeof RunStatusOutput>>({
    run_id: live.id,
    run_dir: live.dir,
    engine: live.engine,
    status: "running",
    live: true,
    progress: { iterations: live.iterations, rows_done: live.rowsDone, rows_requested: live.rowsRequested },
    last_node: live.lastNode,
    diagnostics: live.diagnostics,
    last_iteration: live.lastIteration,
    paused_at: null,
    pending_actions: pending,
    conditions: conditionsOf(file),
    output: null,
    error: null,
  });
}
