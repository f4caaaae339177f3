/**
 * A run's durable state in PostgreSQL instead of its run directory (`--store postgres://…` or
 * SYNTHGRAPH_DATABASE_URL): the artifact texts (row batches, probes, pools) in `synthgraph_artifacts`, keyed
 * by (run id, artifact key) and written with one INSERT … ON CONFLICT DO UPDATE (atomic: a reader sees the
 * old text or the new one), memoised ones with ON CONFLICT DO NOTHING (the first writer's text stays: a batch
 * two workers generated is the one the coordinator counted), and a mirror of run.json in `synthgraph_runs`, so a machine that never saw the
 * run directory can recreate it and resume the run by id. The checkpoints go to the same database through
 * @langchain/langgraph-checkpoint-postgres (graph/run-store.ts).
 */
import pg from "pg";
import { SynthgraphError } from "../data/errors.ts";
import type { ArtifactBackend } from "./artifacts.ts";
import { type RunFile, RunFileSchema } from "./run-dir.ts";

/** A store URL is Postgres when it has one of libpq's schemes. */
export const isPostgresUrl = (url: string): boolean => /^postgres(ql)?:\/\//i.test(url);

/** The URL without its password, for messages and run.json. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== "") u.password = "***";
    return u.toString();
  } catch {
    return "postgres://(unparsable URL)";
  }
}

/** The store URL of a command: the option, else SYNTHGRAPH_DATABASE_URL; undefined means the run directory. */
export function storeUrlOf(
  option: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  const url = option ?? (env.SYNTHGRAPH_DATABASE_URL?.trim() || undefined);
  if (url === undefined) return undefined;
  if (!isPostgresUrl(url)) {
    throw new SynthgraphError(`--store ${JSON.stringify(url)} is not a PostgreSQL URL`, {
      hint: "pass postgres://USER:PASSWORD@HOST:PORT/DATABASE (or set SYNTHGRAPH_DATABASE_URL); without it the run directory's SQLite file is used",
      exitCode: 2,
    });
  }
  return url;
}

export function openPool(url: string, max = 4): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max });
  // An idle client that loses its server (a restarted database) must not crash the process.
  pool.on("error", () => undefined);
  return pool;
}

/** A clear error for a database that does not answer (the first query of every command goes through here). */
export async function checkConnection(pool: pg.Pool, url: string): Promise<void> {
  try {
    await pool.query("SELECT 1");
  } catch (e) {
    throw new SynthgraphError(`cannot connect to ${redactUrl(url)}: ${(e as Error).message}`, {
      hint: "check that PostgreSQL is running and the URL (user, password, host, port, database) is right",
      exitCode: 2,
    });
  }
}

// Schema creation races when several processes start at once: one session-level advisory lock serialises it.
const SETUP_LOCK = 0x53594e54; // "SYNT"

/** Runs `fn` while holding the schema lock (creating tables, the checkpointer's migrations). */
export async function withSetupLock<T>(pool: pg.Pool, fn: () => Promise<T>): Promise<T> {
  // Its own connection, not one of the pool's: `fn` uses the pool, which may have a single connection.
  const client = new pg.Client(pool.options);
  client.on("error", () => undefined);
  await client.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1)", [SETUP_LOCK]);
    return await fn();
  } finally {
    // Ending the session releases its advisory lock.
    await client.end();
  }
}

/** Creates synthgraph's own tables when missing (idempotent). */
export async function setupTables(pool: pg.Pool): Promise<void> {
  await pool.query(`
    CREATE TABLE IF NOT EXISTS synthgraph_runs (
      id text PRIMARY KEY,
      run jsonb NOT NULL,
      updated timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE IF NOT EXISTS synthgraph_artifacts (
      run_id text NOT NULL,
      key text NOT NULL,
      body text NOT NULL,
      written timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (run_id, key)
    );`);
}

/** One run's artifacts in `synthgraph_artifacts`. */
export class PostgresArtifactBackend implements ArtifactBackend {
  readonly pool: pg.Pool;
  readonly runId: string;
  constructor(pool: pg.Pool, runId: string) {
    this.pool = pool;
    this.runId = runId;
  }
  locate(key: string): string {
    return `postgres:synthgraph_artifacts[${this.runId}/${key}]`;
  }
  async read(key: string): Promise<string | undefined> {
    const r = await this.pool.query<{ body: string }>(
      "SELECT body FROM synthgraph_artifacts WHERE run_id = $1 AND key = $2",
      [this.runId, key],
    );
    return r.rows[0]?.body;
  }
  async write(key: string, text: string): Promise<void> {
    // One statement: the row is replaced whole or not at all, whoever else writes the same key.
    await this.pool.query(
      `INSERT INTO synthgraph_artifacts (run_id, key, body) VALUES ($1, $2, $3)
       ON CONFLICT (run_id, key) DO UPDATE SET body = EXCLUDED.body, written = now()`,
      [this.runId, key, text],
    );
  }
  async writeIfAbsent(key: string, text: string): Promise<string> {
    await this.pool.query(
      `INSERT INTO synthgraph_artifacts (run_id, key, body) VALUES ($1, $2, $3)
       ON CONFLICT (run_id, key) DO NOTHING`,
      [this.runId, key, text],
    );
    // Whoever won, the row holds the text every later reader sees (rows are never deleted).
    return (await this.read(key)) ?? text;
  }
  /** Keys under a prefix (tests and the worker's accounting). */
  async keys(prefix: string): Promise<string[]> {
    const r = await this.pool.query<{ key: string }>(
      "SELECT key FROM synthgraph_artifacts WHERE run_id = $1 AND key LIKE $2 ORDER BY key",
      [this.runId, `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`],
    );
    return r.rows.map((x) => x.key);
  }
}

/** Stores the run file's current text (run.json's mirror). */
export async function mirrorRun(pool: pg.Pool, run: RunFile): Promise<void> {
  await pool.query(
    `INSERT INTO synthgraph_runs (id, run, updated) VALUES ($1, $2, now())
     ON CONFLICT (id) DO UPDATE SET run = EXCLUDED.run, updated = now()`,
    [run.id, JSON.stringify(run)],
  );
}

/** The mirrored run file of a run id, or undefined. */
export async function readMirroredRun(pool: pg.Pool, id: string): Promise<RunFile | undefined> {
  const r = await pool.query<{ run: unknown }>("SELECT run FROM synthgraph_runs WHERE id = $1", [id]);
  if (r.rows.length === 0) return undefined;
  const parsed = RunFileSchema.safeParse(r.rows[0].run);
  if (!parsed.success) {
    throw new SynthgraphError(`run ${id} in synthgraph_runs is not a synthgraph run file`, {
      hint: "the database was written by another synthgraph version; start a new run",
      exitCode: 2,
    });
  }
  return parsed.data;
}
