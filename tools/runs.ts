/**
 * start_run and run_status: long work never blocks a tool call. start_run checks the input table, creates
 * the run (graph/run.ts: run directory under the root's runs folder, durable checkpoints) and returns its id
 * at once while the engine runs in the background of this process; run_status reads the run's progress
 * (run.json, plus the live registry's last node and diagnostics) and can wait a bounded time for the next
 * change, reporting progress meanwhile.
 */
import { join } from "node:path";
import { z } from "zod";
import { SynthgraphError } from "../data/errors.ts";
import { engineFor } from "../graph/registry.ts";
import { realLoader } from "../graph/run.ts";
import { resolveRoleConfigs } from "../models/spec.ts";
import { ENGINES, RunConfigSchema } from "../state/config.ts";
import { newRunId, readRunFile } from "../state/run-dir.ts";
import { plain, type ToolSpec } from "./context.ts";

const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const MAX_WAIT_SECONDS = 60;

export const StartRunInput = z.object({
  data: z
    .string()
    .min(1)
    .max(4096)
    .describe("real table to imitate: CSV, TSV or JSON Lines (relative to the root)"),
  rows: z.number().int().min(1).max(1_000_000).describe("number of synthetic rows to generate"),
  out: z.string().min(1).max(4096).describe("output CSV path (relative to the root); overwritten"),
  engine: z
    .enum(ENGINES)
    .default("synthia")
    .describe(
      "synthia: LLM rows refined by a discriminator (small/medium tables); mallm-gan: very small tables, readable generation process; llmsynthor: large outputs, rows sampled by code",
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
    "Starts generating a synthetic table in the background and returns a run id at once (a run takes minutes to hours). Poll run_status with the id; the run is durable (checkpoints in its run directory) and writes the output CSV when done.",
  input: StartRunInput,
  output: StartRunOutput,
  async run(i, ctx) {
    engineFor(i.engine);
    const input = ctx.guard.readable(i.data, "data");
    const out = ctx.guard.writable(i.out, "out");
    const metadata = i.metadata ? ctx.guard.readable(i.metadata, "metadata") : undefined;
    const models = i.model ? resolveRoleConfigs({ flags: { model: i.model } }) : ctx.models;
    const config = RunConfigSchema.parse({
      input,
      out,
      rows: i.rows,
      engine: i.engine,
      models,
      seed: i.seed,
      ...(i.target ? { target: i.target } : {}),
      ...(metadata ? { metadata } : {}),
      ...(i.max_iterations === undefined ? {} : { maxIterations: i.max_iterations }),
      ...(i.probe_rows === undefined ? {} : { probeRows: i.probe_rows }),
      ...(i.batch_rows === undefined ? {} : { batchRows: i.batch_rows }),
      ...(i.examples === undefined ? {} : { examples: i.examples }),
    });
    // Bad input (unreadable table, unknown target) is this call's error, before any run exists.
    const real = realLoader(config);
    await real();
    const id = newRunId();
    const dir = join(ctx.runsDir, id);
    ctx.runs.start(id, dir, config, { real, env: ctx.env, redact: ctx.redact });
    return {
      run_id: id,
      run_dir: dir,
      engine: config.engine,
      status: "running" as const,
      rows_requested: config.rows,
      out,
      next: `call run_status with run_id "${id}" (wait_seconds up to ${MAX_WAIT_SECONDS} to wait for progress)`,
    };
  },
};

export const RunStatusInput = z.object({
  run_id: z.string().regex(RUN_ID, "a run id as start_run returned it").describe("id from start_run"),
  wait_seconds: z
    .number()
    .min(0)
    .max(MAX_WAIT_SECONDS)
    .default(0)
    .describe(
      `wait up to this long for the run to finish, reporting progress (0 = answer now; at most ${MAX_WAIT_SECONDS})`,
    ),
});

export const RunStatusOutput = z.object({
  run_id: z.string(),
  run_dir: z.string(),
  engine: z.string(),
  status: z.enum(["running", "done", "failed"]),
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
  output: z.string().nullable().describe("output CSV once done"),
  error: z.string().nullable(),
});

export const runStatusSpec: ToolSpec<typeof RunStatusInput, typeof RunStatusOutput> = {
  name: "run_status",
  description:
    "Reports a run's status (running, done, failed), progress (iterations, rows done of rows requested), the latest diagnostics and iteration record, and the output path when done. With wait_seconds it waits (bounded) for the run to finish, sending progress notifications.",
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
    return status(i.run_id, ctx);
  },
};

async function status(id: string, ctx: Parameters<typeof runStatusSpec.run>[1]) {
  const live = ctx.runs.get(id);
  const dir = live?.dir ?? join(ctx.runsDir, id);
  const file = await readRunFile(dir).catch(() => undefined);
  if (!live && !file) {
    throw new SynthgraphError(`no run ${id} under ${ctx.runsDir}`, {
      hint: "pass the run_id start_run returned",
      exitCode: 2,
    });
  }
  const statusOf = live?.status ?? file?.status ?? "running";
  return plain<z.output<typeof RunStatusOutput>>({
    run_id: id,
    run_dir: dir,
    engine: live?.engine ?? file?.engine ?? "",
    status: statusOf,
    live: live?.status === "running",
    progress: live
      ? { iterations: live.iterations, rows_done: live.rowsDone, rows_requested: live.rowsRequested }
      : file?.progress,
    last_node: live?.lastNode ?? null,
    diagnostics: live?.diagnostics ?? null,
    last_iteration: live?.lastIteration ?? null,
    output: statusOf === "done" ? (file?.config.out ?? null) : null,
    error: live?.error ?? (file?.error ? ctx.redact(file.error.message) : null),
  });
}
