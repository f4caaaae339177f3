/**
 * Final batches through a job queue on the run's PostgreSQL (pg-boss 10, the last line for Node 20): the
 * coordinating process (a run started with `--workers`) enqueues one job per batch and waits for the batch's
 * artifact; `synthgraph worker` processes (graph/worker.ts) take the jobs, generate the batch with the engine's
 * own code and store the artifact.
 *
 * Exactly once, whatever fails: a job's id is derived from (run, round, batch), so enqueueing it again (a
 * resumed coordinator) inserts nothing; the artifact key is the same (run, round, batch), written in one
 * upsert, and the producer's memo returns a stored batch without a model call, so a retried job (its worker
 * killed mid-batch, the job expired and handed to another worker) or a duplicated one stores the batch once.
 * The coordinator counts a batch from its artifact, once per Send, as the in-process path does.
 *
 * pg-boss rather than BullMQ's Postgres backend: pg-boss is built on PostgreSQL alone (SKIP LOCKED fetches,
 * caller-chosen job ids, expiry and retry of jobs whose worker died), and runs on Node 20.
 */
import { createHash } from "node:crypto";
import PgBoss from "pg-boss";
import { z } from "zod";
import { SynthgraphError } from "../data/errors.ts";
import { type ArtifactStore, finalBatchKey, type RowBatch, RowBatchSchema } from "../state/artifacts.ts";
import type { BatchTask } from "../state/finalize.ts";
import { openPool, withSetupLock } from "../state/postgres.ts";
import type { RemoteBatches } from "./runtime.ts";

export const FINAL_BATCH_QUEUE = "synthgraph-final-batch";

/** What a job carries: the run and the batch (the worker reads everything else from the database). */
export const BatchJobSchema = z.object({
  runId: z.string().min(1),
  task: z.object({
    round: z.number().int(),
    batch: z.number().int(),
    nRows: z.number().int(),
    group: z.number().int().optional(),
  }),
  /** The engine's artifact key of its final prompt inputs (as the in-process Send carries). */
  key: z.string(),
});
export type BatchJob = z.infer<typeof BatchJobSchema>;

/** A UUID (pg-boss ids are uuids) that is a function of (run, round, batch): the same batch, the same job. */
export function batchJobId(runId: string, round: number, batch: number): string {
  const h = createHash("sha256").update(`synthgraph-final-batch\0${runId}\0${round}\0${batch}`).digest("hex");
  // RFC 9562 layout with version 8 (custom) and the variant bits set.
  const v = `8${h.slice(13, 16)}`;
  const variant = ((parseInt(h[16], 16) & 0x3) | 0x8).toString(16) + h.slice(17, 20);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${v}-${variant}-${h.slice(20, 32)}`;
}

export interface QueueTiming {
  /** A job whose worker went silent for this long is handed to another worker. */
  expireInSeconds: number;
  /** How often pg-boss looks for expired jobs. */
  maintenanceIntervalSeconds: number;
  /** How often the coordinator looks for a batch's artifact. */
  pollMs: number;
  /** Attempts after the first before a batch fails the run. */
  retryLimit: number;
}

/** Defaults for slow local models; SYNTHGRAPH_WORKER_EXPIRE_SECONDS shortens the expiry (tests kill workers). */
export function queueTiming(env: Readonly<Record<string, string | undefined>>): QueueTiming {
  const expire = Number(env.SYNTHGRAPH_WORKER_EXPIRE_SECONDS ?? "");
  const expireInSeconds = Number.isInteger(expire) && expire >= 1 ? expire : 15 * 60;
  return {
    expireInSeconds,
    maintenanceIntervalSeconds: Math.max(1, Math.min(60, Math.floor(expireInSeconds / 2))),
    pollMs: 250,
    retryLimit: 4,
  };
}

/** A started pg-boss on the store URL with the final-batch queue created. */
export async function startBoss(url: string, timing: QueueTiming): Promise<PgBoss> {
  const boss = new PgBoss({
    connectionString: url,
    schema: "synthgraph_boss",
    max: 4,
    maintenanceIntervalSeconds: timing.maintenanceIntervalSeconds,
  });
  boss.on("error", () => undefined);
  // pg-boss's schema migration and queue creation deadlock when several processes start at once: serialised
  // under synthgraph's schema lock.
  const lockPool = openPool(url, 1);
  try {
    await withSetupLock(lockPool, async () => {
      await boss.start();
      if ((await boss.getQueue(FINAL_BATCH_QUEUE)) === null) await boss.createQueue(FINAL_BATCH_QUEUE);
    });
  } catch (e) {
    await boss.stop({ graceful: false, close: true }).catch(() => undefined);
    throw e;
  } finally {
    await lockPool.end();
  }
  return boss;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The coordinator's side: enqueue a batch, wait for its artifact. */
export class PgBossBatches implements RemoteBatches {
  readonly boss: PgBoss;
  readonly runId: string;
  readonly timing: QueueTiming;
  private constructor(boss: PgBoss, runId: string, timing: QueueTiming) {
    this.boss = boss;
    this.runId = runId;
    this.timing = timing;
  }

  static async open(url: string, runId: string, timing: QueueTiming): Promise<PgBossBatches> {
    return new PgBossBatches(await startBoss(url, timing), runId, timing);
  }

  async run(
    task: BatchTask,
    key: string,
    store: ArtifactStore,
  ): Promise<{ value: RowBatch; cached: boolean }> {
    const artifact = finalBatchKey(task.round, task.batch);
    const found = await store.get(artifact, RowBatchSchema);
    if (found !== undefined) return { value: found, cached: true };
    const id = batchJobId(this.runId, task.round, task.batch);
    const data: BatchJob = { runId: this.runId, task, key };
    const sent = await this.boss.send(FINAL_BATCH_QUEUE, data, {
      id,
      retryLimit: this.timing.retryLimit,
      retryDelay: 1,
      expireInSeconds: this.timing.expireInSeconds,
    });
    if (sent === null) {
      // The job exists already (a resumed coordinator): waited for like a new one, or retried once more when
      // it failed before (the run failed on it and the user resumed after fixing the cause).
      const job = await this.boss.getJobById<BatchJob>(FINAL_BATCH_QUEUE, id);
      if (job?.state === "failed") await this.boss.retry(FINAL_BATCH_QUEUE, id);
    }
    let checks = 0;
    for (;;) {
      const stored = await store.get(artifact, RowBatchSchema);
      if (stored !== undefined) return { value: stored, cached: false };
      // The job's state every few polls: a failed job (retries spent) fails the run with the worker's error.
      if (checks++ % 8 === 0) {
        const job = await this.boss.getJobById<BatchJob>(FINAL_BATCH_QUEUE, id);
        if (job?.state === "failed") {
          const again = await store.get(artifact, RowBatchSchema);
          if (again !== undefined) return { value: again, cached: false };
          throw new SynthgraphError(
            `final batch ${task.batch} of round ${task.round} failed in every worker: ${failureText(job.output)}`,
            {
              hint: `fix the cause (the workers' stderr says more), then \`synthgraph resume\` the run: the batch is retried`,
            },
          );
        }
        if (job?.state === "cancelled") {
          throw new SynthgraphError(
            `final batch ${task.batch} of round ${task.round} was cancelled in the queue`,
          );
        }
      }
      await sleep(this.timing.pollMs);
    }
  }

  async close(): Promise<void> {
    await this.boss.stop({ graceful: false, wait: true, close: true });
  }
}

function failureText(output: unknown): string {
  if (output && typeof output === "object" && "message" in output) return String(output.message);
  return JSON.stringify(output ?? null);
}
