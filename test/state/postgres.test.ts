/**
 * The Postgres artifact backend and the runs table: what the file backend guarantees (a key names a complete
 * text or nothing, a rewrite replaces it whole), also under concurrent writers, and run.json's mirror.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type pg from "pg";
import { ArtifactStore, RowBatchSchema } from "../../state/artifacts.ts";
import { RunConfigSchema } from "../../state/config.ts";
import {
  mirrorRun,
  openPool,
  PostgresArtifactBackend,
  readMirroredRun,
  redactUrl,
  setupTables,
  storeUrlOf,
  withSetupLock,
} from "../../state/postgres.ts";
import type { RunFile } from "../../state/run-dir.ts";
import { emptySnapshot } from "../../models/accounting.ts";
import { loopbackModels } from "../support/harness.ts";
import { skipWithoutPostgres, useTestDatabase } from "../support/postgres.ts";

describe("store URLs", () => {
  it("takes the option, then SYNTHGRAPH_DATABASE_URL, and refuses what is not PostgreSQL", () => {
    expect(storeUrlOf("postgres://a@h/db", { SYNTHGRAPH_DATABASE_URL: "postgres://b@h/db" })).toBe(
      "postgres://a@h/db",
    );
    expect(storeUrlOf(undefined, { SYNTHGRAPH_DATABASE_URL: "postgresql://b@h/db" })).toBe(
      "postgresql://b@h/db",
    );
    expect(storeUrlOf(undefined, {})).toBeUndefined();
    expect(() => storeUrlOf("sqlite:runs.db", {})).toThrow(/not a PostgreSQL URL/);
    expect(redactUrl("postgres://u:secret@h:5432/db")).toBe("postgres://u:***@h:5432/db");
  });
});

describe.skipIf(skipWithoutPostgres("test/state/postgres.test.ts"))("on PostgreSQL", () => {
  const db = useTestDatabase();
  let pool: pg.Pool;
  beforeAll(async () => {
    pool = openPool(db.url, 8);
    // Twice, concurrently: the schema lock makes table creation safe to race.
    await Promise.all([
      withSetupLock(pool, () => setupTables(pool)),
      withSetupLock(pool, () => setupTables(pool)),
    ]);
  });
  afterAll(async () => {
    await pool?.end();
  });

  const batch = (seed: number, n: number) => ({
    requested: n,
    rows: Array.from({ length: n }, (_, i) => ({ a: i, b: `x${seed}` })),
    invalid: 0,
    exact_copies: 0,
    reasons: [],
    seed,
    usage: emptySnapshot(),
  });

  it("stores, reads back and replaces artifacts per run, and memo computes once", async () => {
    const one = new ArtifactStore(new PostgresArtifactBackend(pool, "run-one"));
    const two = new ArtifactStore(new PostgresArtifactBackend(pool, "run-two"));
    expect(await one.get("final/r001-b00000", RowBatchSchema)).toBeUndefined();
    await one.put("final/r001-b00000", batch(1, 3));
    expect((await one.require("final/r001-b00000", RowBatchSchema)).seed).toBe(1);
    // Another run's same key is another row.
    expect(await two.has("final/r001-b00000")).toBe(false);
    await one.put("final/r001-b00000", batch(2, 2));
    expect((await one.require("final/r001-b00000", RowBatchSchema)).rows).toHaveLength(2);
    let calls = 0;
    const compute = async () => {
      calls++;
      return batch(9, 1);
    };
    expect((await two.memo("final/r001-b00001", RowBatchSchema, compute)).cached).toBe(false);
    expect((await two.memo("final/r001-b00001", RowBatchSchema, compute)).cached).toBe(true);
    expect(calls).toBe(1);
    expect(await (two.backend as PostgresArtifactBackend).keys("final/")).toEqual(["final/r001-b00001"]);
    expect(one.pathOf("final/r001-b00000")).toContain("run-one/final/r001-b00000");
  });

  it("memo keeps the first stored value when two processes compute the same artifact", async () => {
    // Two stores on two pools: two processes that both took the same batch job.
    const other = openPool(db.url, 2);
    try {
      const p1 = new ArtifactStore(new PostgresArtifactBackend(pool, "run-dup"));
      const p2 = new ArtifactStore(new PostgresArtifactBackend(other, "run-dup"));
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      // Both compute before either stores; they disagree (a model is not deterministic).
      const [r1, r2] = await Promise.all([
        p1.memo("final/r001-b00003", RowBatchSchema, async () => {
          await gate;
          return batch(1, 4);
        }),
        p2.memo("final/r001-b00003", RowBatchSchema, async () => {
          release();
          return batch(2, 2);
        }),
      ]);
      expect(r1.value).toEqual(r2.value);
      expect([r1.cached, r2.cached].sort()).toEqual([false, true]);
      expect(await p1.require("final/r001-b00003", RowBatchSchema)).toEqual(r1.value);
    } finally {
      await other.end();
    }
  });

  it("keeps one complete text per key under 40 concurrent writers", async () => {
    const store = new ArtifactStore(new PostgresArtifactBackend(pool, "run-race"));
    await Promise.all(
      Array.from({ length: 40 }, (_, k) => store.put("final/r001-b00007", batch(k, 1 + (k % 5)))),
    );
    const got = await store.require("final/r001-b00007", RowBatchSchema);
    // Whichever writer won, its text is whole: the row count is the one that writer wrote.
    expect(got.rows).toHaveLength(1 + (got.seed % 5));
    const n = await pool.query(
      "SELECT count(*)::int AS n FROM synthgraph_artifacts WHERE run_id = 'run-race'",
    );
    expect(n.rows[0].n).toBe(1);
  });

  it("mirrors run files by id", async () => {
    const run: RunFile = {
      version: 1,
      id: "20261203-220000-abcdef",
      engine: "synthia",
      created: "2026-12-03T22:00:00.000Z",
      updated: "2026-12-03T22:00:00.000Z",
      status: "running",
      config: RunConfigSchema.parse({
        input: "/in.csv",
        rows: 5,
        out: "/out.csv",
        models: loopbackModels(
          { ollamaUrl: "http://127.0.0.1:9", openaiUrl: "http://127.0.0.1:9/v1" },
          "ollama",
        ),
        store: "postgres",
      }),
      progress: { iterations: 0, rows_done: 0, rows_requested: 5 },
    };
    expect(await readMirroredRun(pool, run.id)).toBeUndefined();
    await mirrorRun(pool, run);
    await mirrorRun(pool, { ...run, status: "paused" });
    expect(await readMirroredRun(pool, run.id)).toEqual({ ...run, status: "paused" });
  });
});
