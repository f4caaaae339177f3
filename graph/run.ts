/**
 * Runs the SYNTHIA graph durably: SqliteSaver in <run-dir>/checkpoints.sqlite (thread_id = run id), artifacts
 * in <run-dir>/artifacts, status and progress in run.json. `startRun` creates the run directory and runs;
 * `resumeRun` continues from the last checkpoint with the config stored in run.json.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { SqliteSaver } from "@langchain/langgraph-checkpoint-sqlite";
import { SynthgraphError } from "../data/errors.ts";
import { readMetadataFile } from "../data/metadata.ts";
import { readTable } from "../data/read.ts";
import { type AccountingSnapshot, emptySnapshot, mergeSnapshots } from "../models/accounting.ts";
import type { Env } from "../models/factory.ts";
import { DEFAULT_CONCURRENCY, parseModelSpec } from "../models/spec.ts";
import { ArtifactStore } from "../state/artifacts.ts";
import type { RunConfig } from "../state/config.ts";
import { createRun, type RunFile, readRunFile, runPaths, updateRunFile } from "../state/run-dir.ts";
import type { SynthiaStateT } from "../engines/synthia/state.ts";
import type { EngineStateBase } from "./engine.ts";
import { engineFor } from "./registry.ts";
import type { EngineRuntime, RealData } from "./runtime.ts";
import { UnusableReplyBudget } from "../models/unusable-budget.ts";
import { firstFailure } from "./recover.ts";
import { finishStoppedRun, prepareCheckpoint } from "./resume-guard.ts";

/** One node's update as streamed, plus running totals for progress displays. */
export interface RunEvent {
  node: string;
  update: Record<string, unknown>;
  usage: AccountingSnapshot;
  rowsDone: number;
  rowsRequested: number;
}

export interface RunOptions {
  /** The input table, when the caller already loaded (and so checked) it with realLoader. */
  real?: () => Promise<RealData>;
  env?: Env;
  onEvent?: (e: RunEvent) => void;
  /** Recoveries the user should know about (a damaged checkpoint set aside, a damaged artifact redone). */
  onWarning?: (message: string) => void;
  signal?: AbortSignal;
}

/** S: the state type of the run's engine (the caller knows which engine it started; default SYNTHIA's). */
export interface RunResult<S extends EngineStateBase = SynthiaStateT> {
  dir: string;
  run: RunFile;
  state: S;
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
      });
      return {
        table,
        metadata,
        notes: warnings,
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
  return gen.maxConcurrency ?? DEFAULT_CONCURRENCY[parseModelSpec(gen.spec).provider];
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
  return executeRun<S>(dir, opts, real);
}

/** Continues a run from its last checkpoint (or from the start if it died before the first one). */
export async function resumeRun<S extends EngineStateBase = SynthiaStateT>(
  dir: string,
  opts: RunOptions = {},
): Promise<RunResult<S>> {
  const run = await readRunFile(dir);
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
  const runtime: EngineRuntime = {
    config,
    store: new ArtifactStore(paths.artifacts),
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
  const saver = await prepareCheckpoint(paths, run, opts.onWarning).then(() =>
    SqliteSaver.fromConnString(paths.checkpoints),
  );
  try {
    const app = engine.compile(runtime, saver);
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
    const input = fresh ? engine.input(paths.dir, config) : null;
    let usage = fresh
      ? emptySnapshot()
      : ((snapshot.values as Partial<EngineStateBase>).usage ?? emptySnapshot());
    let rowsDone = fresh ? 0 : ((snapshot.values as Partial<EngineStateBase>).accepted ?? 0);
    let iterations = fresh ? 0 : ((snapshot.values as Partial<EngineStateBase>).iteration ?? 0);
    // A stopped final generation continues from its stored batches, not from LangGraph's replay of the
    // fan-out superstep that failed (graph/recover.ts).
    const recovered = fresh
      ? undefined
      : await finishStoppedRun<S>({ runtime, values: snapshot.values, onEvent: opts.onEvent, usage });
    if (recovered) {
      const done = await updateRunFile(paths.dir, {
        status: "done",
        progress: { iterations: recovered.iteration, rows_done: config.rows, rows_requested: config.rows },
      });
      return { dir: paths.dir, run: done, state: recovered };
    }
    const stream = await app.stream(input, {
      ...cfg,
      streamMode: "updates",
      recursionLimit: RECURSION_LIMIT,
      maxConcurrency: runtime.concurrency,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    for await (const chunk of stream) {
      for (const [node, raw] of Object.entries(chunk as Record<string, unknown>)) {
        const update = (raw ?? {}) as Record<string, unknown>;
        if (update.usage) usage = mergeSnapshots(usage, update.usage as AccountingSnapshot);
        if (typeof update.accepted === "number") rowsDone += update.accepted;
        if (typeof update.iteration === "number") iterations = update.iteration;
        opts.onEvent?.({
          node,
          update,
          usage,
          rowsDone: Math.min(rowsDone, config.rows),
          rowsRequested: config.rows,
        });
        if (engine.progressNodes.includes(node)) {
          await updateRunFile(paths.dir, {
            progress: { iterations, rows_done: Math.min(rowsDone, config.rows), rows_requested: config.rows },
          });
        }
      }
    }
    let final = (await app.getState(cfg)).values as S;
    if (final.phase !== "done" || final.output === null) {
      // The stream ended early without raising: report what stopped it, or finish from the artifacts.
      const failure = firstFailure(runtime.store);
      if (failure !== undefined) throw failure;
      final = (await finishStoppedRun<S>({ runtime, values: final, onEvent: opts.onEvent, usage })) ?? final;
    }
    if (final.phase !== "done" || final.output === null) {
      throw new SynthgraphError(`run ${run.id} stopped before writing its output (phase ${final.phase})`, {
        hint: `continue it with \`synthgraph resume ${paths.dir}\``,
      });
    }
    const done = await updateRunFile(paths.dir, {
      status: "done",
      progress: { iterations: final.iteration, rows_done: final.output.rows, rows_requested: config.rows },
    });
    return { dir: paths.dir, run: done, state: final };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const hint = err instanceof SynthgraphError ? err.hint : undefined;
    await updateRunFile(paths.dir, { status: "failed", error: { message, ...(hint ? { hint } : {}) } }).catch(
      () => undefined,
    );
    throw err;
  } finally {
    saver.db.close();
  }
}
