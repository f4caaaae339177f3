/**
 * Runs an engine's graph durably: SqliteSaver in <run-dir>/checkpoints.sqlite (thread_id = run id), artifacts
 * in <run-dir>/artifacts, status and progress in run.json; or, for a run started with `--store postgres://…`,
 * checkpoints and artifacts in PostgreSQL (graph/run-store.ts; run.json mirrored there). `startRun` creates the
 * run directory and runs; `resumeRun` continues from the last checkpoint with the config stored in run.json.
 *
 * Pausing (graph/pause.ts): a run that stops at an engine's pause point has pending interrupts in its last
 * snapshot (`next` non-empty, `tasks[].interrupts`): it is recorded as "paused", not "failed", and the result
 * says so. Resuming it sends `Command({ resume: { actions } })` with the steering actions still pending
 * (state/steering.ts). Streams "updates" and "custom" and turns them into typed events (RunStreamEvent).
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { Command } from "@langchain/langgraph";
import { SynthgraphError } from "../data/errors.ts";
import { readMetadataFile } from "../data/metadata.ts";
import { longCellNotes } from "../data/compact.ts";
import { readTable } from "../data/read.ts";
import { type AccountingSnapshot, emptySnapshot, mergeSnapshots } from "../models/accounting.ts";
import type { Env } from "../models/factory.ts";
import { DEFAULT_CONCURRENCY, parseModelSpec } from "../models/spec.ts";
import type { RunConfig } from "../state/config.ts";
import { claimRun } from "../state/owner.ts";
import { createRun, type RunFile, readRunFile, runPaths, updateRunFile } from "../state/run-dir.ts";
import type { SynthiaStateT } from "../engines/synthia/state.ts";
import {
  clearPauseRequest,
  pendingActions,
  requestPause,
  setPauseEvery,
  type AppliedSteering,
} from "../state/steering.ts";
import { type PausePoint, PausePointSchema } from "./pause.ts";
import type { EngineStateBase } from "./engine.ts";
import { engineFor } from "./registry.ts";
import type { EngineRuntime, RealData } from "./runtime.ts";
import { UnusableReplyBudget } from "../models/unusable-budget.ts";
import { committedValues, firstFailure } from "./recover.ts";
import { finishStoppedRun, prepareCheckpoint } from "./resume-guard.ts";
import { ensureRunDir, openRunBackend, storeUrlFor } from "./run-store.ts";

/** One node's update as streamed, plus running totals for progress displays. */
export interface RunEvent {
  node: string;
  update: Record<string, unknown>;
  usage: AccountingSnapshot;
  rowsDone: number;
  rowsRequested: number;
}

/** Typed progress of a run (streamRun yields these; RunOptions.onStream receives them). */
export type RunStreamEvent =
  | { type: "started"; dir: string; engine: string; resumed: boolean }
  /** A node's update (every node; `node` names it). */
  | { type: "node"; node: string; usage: AccountingSnapshot; rowsDone: number; rowsRequested: number }
  | { type: "iteration_started"; iteration: number }
  /** An iteration's diagnostics at its pause point (whether or not the run pauses there). */
  | { type: "iteration_finished"; point: PausePoint }
  /** A final batch (or LLMSynthor pool chunk) was added. */
  | { type: "batch_done"; rowsDone: number; rowsRequested: number }
  | { type: "paused"; point: PausePoint | null }
  | { type: "finished"; output: { path: string; rows: number } };

export interface RunOptions {
  /** The input table, when the caller already loaded (and so checked) it with realLoader. */
  real?: () => Promise<RealData>;
  env?: Env;
  onEvent?: (e: RunEvent) => void;
  onStream?: (e: RunStreamEvent) => void;
  /** Recoveries the user should know about (a damaged checkpoint set aside, a damaged artifact redone). */
  onWarning?: (message: string) => void;
  signal?: AbortSignal;
  /** startRun only: pause at every pause point (`generate --pause`). */
  pauseEvery?: boolean;
  /**
   * PostgreSQL URL of a run whose config.store is "postgres" (graph/run-store.ts); default: the environment's
   * SYNTHGRAPH_DATABASE_URL. Never stored: it may hold a password.
   */
  storeUrl?: string;
}

/** S: the state type of the run's engine (the caller knows which engine it started; default SYNTHIA's). */
export interface RunResult<S extends EngineStateBase = SynthiaStateT> {
  dir: string;
  run: RunFile;
  /** done: the output is written; paused: stopped at a pause point (or by the user), resumable. */
  status: "done" | "paused";
  /** The pause point's diagnostics (paused at a pause point); null when stopped by the user mid-step. */
  pause: PausePoint | null;
  state: S;
}

/** The snapshot the runner reads: values, the nodes to run next, and the interrupts pending in them. */
interface Snapshot {
  values: unknown;
  createdAt?: string;
  config?: { configurable?: Record<string, unknown> };
  next: readonly string[];
  tasks: ReadonlyArray<{ interrupts: ReadonlyArray<{ value?: unknown }> }>;
}

/** The compiled graph as the runner uses it (wider than graph/engine.ts EngineApp: streams, interrupts). */
interface PausableApp {
  getState(cfg: { configurable: { thread_id: string } & Record<string, unknown> }): Promise<Snapshot>;
  stream(input: unknown, opts: Record<string, unknown>): Promise<AsyncIterable<unknown>>;
}

/** The pending interrupt's pause point, if the snapshot stopped at one. */
export function pendingPause(snapshot: Pick<Snapshot, "tasks">): PausePoint | null | undefined {
  for (const t of snapshot.tasks) {
    for (const i of t.interrupts) {
      const p = PausePointSchema.safeParse(i.value);
      return p.success ? p.data : null;
    }
  }
  return undefined;
}

/** Generous: each iteration is 4 supersteps, each wave 3; the bound exists only to stop a runaway loop. */
const RECURSION_LIMIT = 100_000;

/** Loads the real table from the config (same overrides and target on every resume). */
export function realLoader(config: RunConfig): () => Promise<RealData> {
  let cached: Promise<RealData> | undefined;
  return () => {
    cached ??= (async () => {
      const bytes = await readFile(config.input).catch((e: unknown) => {
        throw new SynthgraphError(`cannot read ${config.input}: ${(e as Error).message}`, {
          exitCode: 2,
          hint: "check the path of the input table (CSV or JSON Lines)",
        });
      });
      const overrides = config.metadata ? await readMetadataFile(config.metadata) : undefined;
      const { table, metadata, warnings } = await readTable(config.input, {
        ...(overrides ? { metadata: overrides } : {}),
        ...(config.target ? { target: config.target } : {}),
        ...(config.decimal ? { decimal: config.decimal } : {}),
      });
      return {
        table,
        metadata,
        // What prompts will show of long cells is a reading decision too (printed by generate).
        notes: [...warnings, ...longCellNotes(metadata)],
        dataset: {
          path: config.input,
          sha256: createHash("sha256").update(bytes).digest("hex"),
          rows: table.nRows,
          columns: table.columns.map((c) => c.name),
        },
      };
    })();
    return cached;
  };
}

export function concurrencyOf(config: RunConfig): number {
  if (config.concurrency !== undefined) return config.concurrency;
  const gen = config.models.generator;
  // A pool of servers (models/pool.ts): each member's limit, summed.
  const servers = gen.baseUrls?.length ?? 1;
  return (gen.maxConcurrency ?? DEFAULT_CONCURRENCY[parseModelSpec(gen.spec).provider]) * servers;
}

/** Creates the run directory for `config` and runs it to the end. */
export async function startRun<S extends EngineStateBase = SynthiaStateT>(
  dir: string,
  config: RunConfig,
  opts: RunOptions = {},
): Promise<RunResult<S>> {
  engineFor(config.engine);
  // Read and check the input first: a missing or malformed file fails before any run directory exists.
  const real = opts.real ?? realLoader(config);
  await real();
  await createRun(dir, config);
  if (opts.pauseEvery) await setPauseEvery(dir, true);
  return executeRun<S>(dir, opts, real);
}

/** Continues a run from its last checkpoint (or from the start if it died before the first one). */
export async function resumeRun<S extends EngineStateBase = SynthiaStateT>(
  dir: string,
  opts: RunOptions = {},
): Promise<RunResult<S>> {
  // A Postgres-backed run this machine never saw: its run directory is recreated from the runs table.
  await ensureRunDir(dir, storeUrlFor(opts));
  const run = await readRunFile(dir);
  if (run.status === "cancelled") {
    throw new SynthgraphError(`run ${run.id} was cancelled`, {
      hint: "start a new run with `synthgraph generate`",
      exitCode: 2,
    });
  }
  if (run.status === "done") {
    throw new SynthgraphError(
      `run ${run.id} is already done (${run.progress.rows_done} rows in ${run.config.out})`,
      {
        hint: "start a new run with `synthgraph generate`",
        exitCode: 2,
      },
    );
  }
  await updateRunFile(dir, { status: "running" });
  return executeRun<S>(dir, opts);
}

async function executeRun<S extends EngineStateBase>(
  dir: string,
  opts: RunOptions,
  loaded?: () => Promise<RealData>,
): Promise<RunResult<S>> {
  const paths = runPaths(dir);
  const run = await readRunFile(paths.dir);
  const config = run.config;
  const engine = engineFor(config.engine);
  // A run directory's SQLite checkpoint is checked (and a damaged one set aside) before it is opened.
  if (config.store !== "postgres") await prepareCheckpoint(paths, run, opts.onWarning);
  const backend = await openRunBackend(paths, run, storeUrlFor(opts), opts.env ?? process.env);
  const { saver } = backend;
  const runtime: EngineRuntime = {
    config,
    store: backend.store,
    ...(backend.batchQueue ? { batchQueue: backend.batchQueue } : {}),
    real: loaded ?? realLoader(config),
    env: opts.env ?? process.env,
    concurrency: concurrencyOf(config),
    unusable: new UnusableReplyBudget(
      config.maxUnusableCalls,
      `the run is kept: continue it with \`synthgraph resume ${dir}\` once the model behaves`,
    ),
  };
  runtime.store.onDamaged = (path, reason) =>
    opts.onWarning?.(`artifact ${path} is damaged (${reason}): its work is done again`);
  const emit = (e: RunStreamEvent): void => opts.onStream?.(e);
  const release = await claimRun(paths.dir).catch(async (e: unknown) => {
    await backend.close();
    throw e;
  });
  try {
    const app = engine.compile(runtime, saver) as unknown as PausableApp;
    const cfg = { configurable: { thread_id: run.id } };
    const snapshot = await app.getState(cfg);
    const fresh = snapshot.createdAt === undefined;
    if (!fresh) {
      const ref = (snapshot.values as Partial<EngineStateBase>).dataset;
      const real = await runtime.real();
      if (ref && ref.sha256 !== real.dataset.sha256) {
        throw new SynthgraphError(`${config.input} changed since run ${run.id} started`, {
          hint: "restore the original file, or start a new run with `synthgraph generate`",
          exitCode: 2,
        });
      }
    }
    let input: unknown = fresh ? engine.input(paths.dir, config) : null;
    /**
     * The pause point being resumed: its node re-runs from its top and streams its diagnostics again, which
     * were already reported before the pause; that repeat is not reported twice.
     */
    let repeated: PausePoint | null = null;
    if (!fresh && pendingPause(snapshot) !== undefined) {
      repeated = pendingPause(snapshot) ?? null;
      const applied = new Set(
        ((snapshot.values as { steering?: AppliedSteering[] }).steering ?? []).map((r) => r.id),
      );
      const actions = await pendingActions(paths.dir, applied);
      // The pause node re-runs from its top and must interrupt again to receive this value (graph/pause.ts).
      await requestPause(paths.dir);
      input = new Command({ resume: { actions } });
    }
    emit({ type: "started", dir: paths.dir, engine: config.engine, resumed: !fresh });
    let usage = fresh
      ? emptySnapshot()
      : ((snapshot.values as Partial<EngineStateBase>).usage ?? emptySnapshot());
    let rowsDone = fresh ? 0 : ((snapshot.values as Partial<EngineStateBase>).accepted ?? 0);
    let iterations = fresh ? 0 : ((snapshot.values as Partial<EngineStateBase>).iteration ?? 0);
    let rowsRequested = config.rows;
    // A stopped final generation continues from its stored batches, not from LangGraph's replay of the
    // fan-out superstep that failed (graph/recover.ts).
    const recovered = fresh
      ? undefined
      : await finishStoppedRun<S>({
          runtime,
          values: await committedValues(app, snapshot),
          onEvent: opts.onEvent,
          usage,
        });
    if (recovered) {
      // Steering actions the checkpoint holds as applied leave the pending list, as after a streamed run.
      await pendingActions(
        paths.dir,
        new Set(((recovered as { steering?: AppliedSteering[] }).steering ?? []).map((r) => r.id)),
      );
      await clearPauseRequest(paths.dir);
      const rows = recovered.output?.rows ?? config.rows;
      const done = await updateRunFile(paths.dir, {
        // A steering `rows` lives in the state; run.json follows it.
        ...(rows === config.rows ? {} : { config: { ...config, rows } }),
        status: "done",
        progress: { iterations: recovered.iteration, rows_done: rows, rows_requested: rows },
      });
      return { dir: paths.dir, run: done, status: "done", pause: null, state: recovered };
    }
    const stream = await app.stream(input, {
      ...cfg,
      streamMode: ["updates", "custom"],
      recursionLimit: RECURSION_LIMIT,
      // Never 1: LangGraph 1.7.3's runner (pregel/runner.js _executeTasksWithRetry) ends a superstep when no task
      // is executing, so with maxConcurrency 1 only the first Send of a wave ran and the stream ended without an
      // error, leaving final generation to the recovery path. The bound on model calls is the final batches'
      // own (graph/finalize.ts), which holds whatever runs the graph.
      maxConcurrency: Math.max(2, runtime.concurrency),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    for await (const item of stream) {
      const [mode, chunk] = item as [string, unknown];
      if (mode === "custom") {
        const p = PausePointSchema.safeParse(chunk);
        if (!p.success) continue;
        const again =
          repeated !== null && p.data.engine === repeated.engine && p.data.iteration === repeated.iteration;
        repeated = null;
        if (!again) emit({ type: "iteration_finished", point: p.data });
        continue;
      }
      for (const [node, raw] of Object.entries(chunk as Record<string, unknown>)) {
        if (node === "__interrupt__") continue;
        const update = (raw ?? {}) as Record<string, unknown>;
        if (update.usage) usage = mergeSnapshots(usage, update.usage as AccountingSnapshot);
        if (typeof update.accepted === "number") rowsDone += update.accepted;
        if (typeof update.iteration === "number" && update.iteration > iterations) {
          emit({ type: "iteration_started", iteration: update.iteration });
        }
        if (typeof update.iteration === "number") iterations = update.iteration;
        const cfgUpdate = update.config as { rows?: number } | undefined;
        if (typeof cfgUpdate?.rows === "number") rowsRequested = cfgUpdate.rows;
        const done = Math.min(rowsDone, rowsRequested);
        opts.onEvent?.({ node, update, usage, rowsDone: done, rowsRequested });
        emit({ type: "node", node, usage, rowsDone: done, rowsRequested });
        if (typeof update.accepted === "number") emit({ type: "batch_done", rowsDone: done, rowsRequested });
        if (engine.progressNodes.includes(node)) {
          await updateRunFile(paths.dir, {
            progress: { iterations, rows_done: done, rows_requested: rowsRequested },
          });
        }
      }
    }
    const last = await app.getState(cfg);
    // Pending actions the pause node has applied (in the checkpoint now) leave the pending list.
    await pendingActions(
      paths.dir,
      new Set(((last.values as { steering?: AppliedSteering[] }).steering ?? []).map((r) => r.id)),
    );
    const paused = pendingPause(last);
    if (last.next.length > 0 && paused !== undefined) {
      const values = last.values as S;
      const run2 = await updateRunFile(paths.dir, {
        status: "paused",
        progress: {
          iterations: values.iteration,
          rows_done: Math.min(values.accepted, rowsRequested),
          rows_requested: rowsRequested,
        },
      });
      emit({ type: "paused", point: paused });
      return { dir: paths.dir, run: run2, status: "paused", pause: paused, state: values };
    }
    await clearPauseRequest(paths.dir);
    let final = last.values as S;
    if (final.phase !== "done" || final.output === null) {
      // The stream ended early without raising: report what stopped it, or finish from the artifacts.
      const failure = firstFailure(runtime.store);
      if (failure !== undefined) throw failure;
      const values = await committedValues(app, last);
      final = (await finishStoppedRun<S>({ runtime, values, onEvent: opts.onEvent, usage })) ?? final;
    }
    if (final.phase !== "done" || final.output === null) {
      throw new SynthgraphError(`run ${run.id} stopped before writing its output (phase ${final.phase})`, {
        hint: `continue it with \`synthgraph resume ${paths.dir}\``,
      });
    }
    const current = await readRunFile(paths.dir);
    const done = await updateRunFile(paths.dir, {
      // A steering `rows` is applied by the pause node (state); run.json follows it even when the process that
      // recorded the action died before writing run.json.
      ...(current.config.rows === final.output.rows
        ? {}
        : { config: { ...current.config, rows: final.output.rows } }),
      status: "done",
      progress: {
        iterations: final.iteration,
        rows_done: final.output.rows,
        rows_requested: final.output.rows,
      },
    });
    emit({ type: "finished", output: final.output });
    return { dir: paths.dir, run: done, status: "done", pause: null, state: final };
  } catch (err) {
    if (opts.signal?.aborted) {
      // Stopped by the user (a chat's second Ctrl-C): the last finished step is checkpointed; resumable.
      await updateRunFile(paths.dir, { status: "paused" }).catch(() => undefined);
      emit({ type: "paused", point: null });
      throw err;
    }
    const message = err instanceof Error ? err.message : String(err);
    const hint = err instanceof SynthgraphError ? err.hint : undefined;
    await updateRunFile(paths.dir, { status: "failed", error: { message, ...(hint ? { hint } : {}) } }).catch(
      () => undefined,
    );
    throw err;
  } finally {
    await backend.close();
    await release();
  }
}
