/**
 * Where a run keeps its checkpoints and artifacts: its run directory (SqliteSaver in checkpoints.sqlite, JSON
 * files under artifacts/; the embedded default) or PostgreSQL (`--store postgres://…`: PostgresSaver from
 * @langchain/langgraph-checkpoint-postgres, state/postgres.ts for the artifacts and the run.json mirror). A
 * run records which one in its config (config.store), never the URL (it may hold a password): every command
 * on a Postgres-backed run gets the URL from --store or SYNTHGRAPH_DATABASE_URL.
 */
import { mkdir } from "node:fs/promises";
import { basename } from "node:path";
import type { BaseCheckpointSaver } from "@langchain/langgraph";
import { PostgresSaver } from "@langchain/langgraph-checkpoint-postgres";
import { SqliteSaver } from "@langchain/langgraph-checkpoint-sqlite";
import { SynthgraphError } from "../data/errors.ts";
import { ArtifactStore } from "../state/artifacts.ts";
import {
  checkConnection,
  mirrorRun,
  openPool,
  PostgresArtifactBackend,
  readMirroredRun,
  setupTables,
  storeUrlOf,
  withSetupLock,
} from "../state/postgres.ts";
import {
  mirrorRunFile,
  type RunFile,
  type RunPaths,
  readRunFile,
  runPaths,
  writeRunFile,
} from "../state/run-dir.ts";
import { PgBossBatches, queueTiming } from "./batch-queue.ts";
import type { RemoteBatches } from "./runtime.ts";

export interface RunBackend {
  saver: BaseCheckpointSaver;
  store: ArtifactStore;
  /** Set for a run started with workers: final batches go through the queue. */
  batchQueue?: RemoteBatches;
  close(): Promise<void>;
}

/** The store URL of a runner call: the option, else the environment's SYNTHGRAPH_DATABASE_URL. */
export function storeUrlFor(o: {
  storeUrl?: string;
  env?: Readonly<Record<string, string | undefined>>;
}): string | undefined {
  return o.storeUrl ?? storeUrlOf(undefined, o.env ?? process.env);
}

function needUrl(run: RunFile): never {
  throw new SynthgraphError(
    `run ${run.id} keeps its checkpoints in PostgreSQL, and no database URL was given`,
    {
      hint: "pass --store postgres://… (or set SYNTHGRAPH_DATABASE_URL) with the URL the run was started with",
      exitCode: 2,
    },
  );
}

/**
 * The saver and artifact store of a run (opened; `close` releases them). `readOnly`: only to read the run's
 * state (no run.json mirroring, no job queue).
 */
export async function openRunBackend(
  paths: RunPaths,
  run: RunFile,
  storeUrl: string | undefined,
  env: Readonly<Record<string, string | undefined>> = process.env,
  readOnly = false,
): Promise<RunBackend> {
  if (run.config.store !== "postgres") {
    const saver = SqliteSaver.fromConnString(paths.checkpoints);
    return {
      saver,
      store: new ArtifactStore(paths.artifacts),
      close: async () => saver.db.close(),
    };
  }
  const url = storeUrl ?? needUrl(run);
  const pool = openPool(url, 6);
  let stopMirror = (): void => undefined;
  let queue: PgBossBatches | undefined;
  try {
    await checkConnection(pool, url);
    const saver = new PostgresSaver(pool);
    await withSetupLock(pool, async () => {
      await setupTables(pool);
      await saver.setup();
    });
    if (!readOnly) {
      await mirrorRun(pool, await readRunFile(paths.dir));
      stopMirror = mirrorRunFile(paths.dir, (r) => mirrorRun(pool, r));
    }
    if (run.config.workers && !readOnly) queue = await PgBossBatches.open(url, run.id, queueTiming(env));
    return {
      saver,
      store: new ArtifactStore(new PostgresArtifactBackend(pool, run.id)),
      ...(queue ? { batchQueue: queue } : {}),
      close: async () => {
        stopMirror();
        await queue?.close();
        await pool.end();
      },
    };
  } catch (e) {
    stopMirror();
    await queue?.close().catch(() => undefined);
    await pool.end().catch(() => undefined);
    throw e;
  }
}

/**
 * A run directory for `dir` on this machine: recreated from the runs table when it holds no run.json (the run id
 * is the directory's name), so a machine that never saw the run can resume it by id; a Postgres-backed run's
 * run.json is brought up to date when another machine has carried the run on since (a newer mirror).
 */
export async function ensureRunDir(dir: string, storeUrl: string | undefined): Promise<void> {
  const paths = runPaths(dir);
  let local: RunFile | undefined;
  try {
    local = await readRunFile(paths.dir);
  } catch (e) {
    if (storeUrl === undefined) throw e;
  }
  // (storeUrl is undefined only when run.json was read.)
  if (storeUrl === undefined || (local !== undefined && local.config.store !== "postgres")) return;
  const pool = openPool(storeUrl, 1);
  try {
    await checkConnection(pool, storeUrl);
    await withSetupLock(pool, () => setupTables(pool));
    const run = await readMirroredRun(pool, local?.id ?? basename(paths.dir));
    if (local !== undefined) {
      if (run !== undefined && run.updated > local.updated) await writeRunFile(paths.dir, run);
      return;
    }
    if (!run) {
      throw new SynthgraphError(`no run ${basename(paths.dir)} in the database`, {
        hint: "pass the run's directory, or a path ending in its id (e.g. runs/20261203-220000-a1b2c3)",
        exitCode: 2,
      });
    }
    await mkdir(paths.artifacts, { recursive: true });
    await writeRunFile(paths.dir, run);
  } finally {
    await pool.end();
  }
}

/** Runs `fn` with a finished run's artifact store (the summary reads it), opened and closed around it. */
export async function withRunStore<T>(
  dir: string,
  run: RunFile,
  storeUrl: string | undefined,
  fn: (store: ArtifactStore) => Promise<T>,
): Promise<T> {
  if (run.config.store !== "postgres") return fn(new ArtifactStore(runPaths(dir).artifacts));
  const pool = openPool(storeUrl ?? needUrl(run), 2);
  try {
    return await fn(new ArtifactStore(new PostgresArtifactBackend(pool, run.id)));
  } finally {
    await pool.end();
  }
}
