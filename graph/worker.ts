/**
 * `synthgraph worker`: takes final-batch jobs (graph/batch-queue.ts) of any run on the store's PostgreSQL and
 * generates each with the engine's own code: the run's config comes from the runs table, the engine's graph is
 * built over a runtime whose artifact store is the run's (so the engine's final prompt inputs, theta or
 * mini-batch inputs are read where the coordinator stored them), and the batch goes through the same producer
 * as the in-process node (graph/finalize.ts): condition check, privacy guard, memo into the artifact key.
 *
 * The input table is read from the path in the run's config (and its sha256 checked against the run's), so a
 * worker on another machine needs the same file at the same path. Model endpoints come from the run's model
 * config (and this process's environment for OLLAMA_HOST / OPENAI_* when the config has no baseUrl).
 */
import { MemorySaver } from "@langchain/langgraph";
import { PostgresSaver } from "@langchain/langgraph-checkpoint-postgres";
import type PgBoss from "pg-boss";
import type pg from "pg";
import { SynthgraphError } from "../data/errors.ts";
import type { Env } from "../models/factory.ts";
import { UnusableReplyBudget } from "../models/unusable-budget.ts";
import { ArtifactStore, type RowBatch } from "../state/artifacts.ts";
import {
  checkConnection,
  openPool,
  PostgresArtifactBackend,
  readMirroredRun,
  setupTables,
  withSetupLock,
} from "../state/postgres.ts";
import { BatchJobSchema, FINAL_BATCH_QUEUE, queueTiming, startBoss } from "./batch-queue.ts";
import { engineFor } from "./registry.ts";
import { finalBatchesOf, type FinalBatchRunner } from "./recover.ts";
import { realLoader } from "./run.ts";
import type { EngineRuntime } from "./runtime.ts";

export interface WorkerOptions {
  url: string;
  /** Jobs generated at once by this process. */
  concurrency: number;
  /** This machine's servers for the run's model (replace every role's base URLs in the run's config). */
  endpoints?: readonly string[];
  env: Env;
  signal?: AbortSignal;
  /** After `signal`, how long jobs in flight may take to finish (the others expire and go to another worker). */
  graceMs?: number;
  /** After each job (for the CLI's log line). */
  onJob?: (e: { runId: string; round: number; batch: number; rows: number; ms: number }) => void;
  onError?: (e: { runId: string; round: number; batch: number; error: unknown }) => void;
  /** Once connected and listening on the queue. */
  onReady?: () => void;
  /** When the database stops answering (with the error) and when it answers again. */
  onDatabase?: (e: { reachable: boolean; message?: string }) => void;
  /** How often the database is checked (default 5 s). */
  healthMs?: number;
}

/** The producer of a run's final batches in this process (built once per run). */
async function contextFor(
  pool: pg.Pool,
  runId: string,
  env: Env,
  concurrency: number,
  endpoints: readonly string[] | undefined,
): Promise<FinalBatchRunner> {
  const run = await readMirroredRun(pool, runId);
  if (!run) {
    throw new SynthgraphError(`a job names run ${runId}, which is not in synthgraph_runs`, {
      hint: "the run was started against another database",
    });
  }
  const config =
    endpoints === undefined || endpoints.length === 0
      ? run.config
      : {
          ...run.config,
          models: Object.fromEntries(
            Object.entries(run.config.models).map(([role, m]) => [role, { ...m, baseUrls: [...endpoints] }]),
          ) as typeof run.config.models,
        };
  const real = realLoader(config);
  // The same table as the coordinator's: its sha256 against the one the run's checkpoint recorded.
  const tuple = await new PostgresSaver(pool).getTuple({ configurable: { thread_id: runId } });
  const recorded = (tuple?.checkpoint.channel_values as { dataset?: { sha256?: string } } | undefined)
    ?.dataset;
  const here = (await real()).dataset;
  if (recorded?.sha256 !== undefined && recorded.sha256 !== here.sha256) {
    throw new SynthgraphError(`${config.input} on this machine is not the table run ${runId} started from`, {
      hint: "copy the run's input table to the same path on every worker machine",
    });
  }
  const runtime: EngineRuntime = {
    config,
    store: new ArtifactStore(new PostgresArtifactBackend(pool, runId)),
    real,
    env,
    concurrency,
    unusable: new UnusableReplyBudget(config.maxUnusableCalls, "the job is retried by another worker"),
  };
  // Building the graph registers the engine's final-batch code for this store (graph/finalize.ts); no
  // checkpointer is used. The runtime has no batch queue, so the batches are made here.
  engineFor(config.engine).compile(runtime, new MemorySaver());
  const produce = finalBatchesOf(runtime.store)?.run;
  if (!produce) {
    throw new SynthgraphError(
      `the ${config.engine} engine has no shared final generation to run in a worker`,
    );
  }
  return produce;
}

/** Runs until `signal` aborts: K job handlers on the queue. */
export async function runWorker(o: WorkerOptions): Promise<void> {
  const pool = openPool(o.url, Math.max(2, o.concurrency + 1));
  await checkConnection(pool, o.url);
  await withSetupLock(pool, () => setupTables(pool));
  const boss = await startBoss(o.url, queueTiming(o.env));
  const contexts = new Map<string, Promise<FinalBatchRunner>>();
  const handle = async (data: unknown): Promise<RowBatch> => {
    const job = BatchJobSchema.parse(data);
    let ctx = contexts.get(job.runId);
    if (!ctx) {
      ctx = contextFor(pool, job.runId, o.env, o.concurrency, o.endpoints);
      contexts.set(job.runId, ctx);
      ctx.catch(() => contexts.delete(job.runId));
    }
    const started = performance.now();
    try {
      const { value: batch } = await (await ctx)(job.task);
      o.onJob?.({
        runId: job.runId,
        round: job.task.round,
        batch: job.task.batch,
        rows: batch.rows.length,
        ms: performance.now() - started,
      });
      return batch;
    } catch (error) {
      o.onError?.({ runId: job.runId, round: job.task.round, batch: job.task.batch, error });
      throw error;
    }
  };
  const stopped = o.signal ?? new AbortController().signal;
  const slots = Array.from({ length: o.concurrency }, () => jobSlot(boss, handle, stopped));
  const watching = watchDatabase(pool, stopped, o.healthMs ?? 5000, o.onDatabase);
  o.onReady?.();
  try {
    await new Promise<void>((resolve) => {
      if (stopped.aborted) resolve();
      stopped.addEventListener("abort", () => resolve(), { once: true });
    });
    // Jobs in flight get the grace period; one still running after it is abandoned (it expires in the queue and
    // another worker takes it; the batch is stored once whoever finishes it).
    const grace = new AbortController();
    await Promise.race([Promise.all(slots), sleep(Math.max(0, o.graceMs ?? 30_000), grace.signal)]);
    grace.abort();
    await watching;
  } finally {
    await boss.stop({ graceful: false, wait: true, close: true }).catch(() => undefined);
    await pool.end().catch(() => undefined);
  }
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });

/** How long a health check may take before the database counts as not answering. */
const HEALTH_TIMEOUT_MS = 10_000;

/**
 * Checks every `everyMs` that the database answers and reports each change (pg-boss's fetch returns no job when
 * the database is gone, so the slots alone would wait without a word). Never rejects.
 */
async function watchDatabase(
  pool: pg.Pool,
  stopped: AbortSignal,
  everyMs: number,
  report: WorkerOptions["onDatabase"],
): Promise<void> {
  let reachable = true;
  while (!stopped.aborted) {
    await sleep(everyMs, stopped);
    if (stopped.aborted) return;
    const timeout = new AbortController();
    const failure = await Promise.race([
      pool.query("SELECT 1").then(
        () => undefined,
        (e: unknown) => (e instanceof Error ? e.message : String(e)),
      ),
      sleep(HEALTH_TIMEOUT_MS, timeout.signal).then(() => `no answer in ${HEALTH_TIMEOUT_MS / 1000} s`),
    ]);
    timeout.abort();
    if (failure !== undefined && reachable) report?.({ reachable: false, message: failure });
    if (failure === undefined && !reachable) report?.({ reachable: true });
    reachable = failure === undefined;
  }
}

/** How often an idle slot asks the queue for a job. */
const POLL_MS = 500;

/**
 * One job at a time until `stopped`: fetch, generate, complete or fail. Our own loop rather than pg-boss's
 * `work()`, whose loop completes and fails jobs without awaiting the query (a failed one became an unhandled
 * rejection that ends the process); here every database call is awaited and a failed one only lets the job expire
 * and go to another worker. Never rejects.
 */
async function jobSlot(
  boss: PgBoss,
  handle: (data: unknown) => Promise<unknown>,
  stopped: AbortSignal,
): Promise<void> {
  while (!stopped.aborted) {
    const jobs = await boss.fetch(FINAL_BATCH_QUEUE, { batchSize: 1 }).catch(() => []);
    if (jobs.length === 0) {
      await sleep(POLL_MS, stopped);
      continue;
    }
    // A job fetched as the worker stops is still done (it is active in the queue, in no other worker's hands).
    for (const job of jobs) {
      try {
        await handle(job.data);
        // The job's output stays small: the batch itself is the artifact.
        await boss.complete(FINAL_BATCH_QUEUE, job.id, { stored: true }).catch(() => undefined);
      } catch (error) {
        await boss.fail(FINAL_BATCH_QUEUE, job.id, { message: failureMessage(error) }).catch(() => undefined);
      }
    }
  }
}

/** The message the coordinator reports when the job's retries are spent (PostgreSQL's jsonb refuses NUL). */
function failureMessage(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replaceAll("\u0000", "");
}
