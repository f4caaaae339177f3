/**
 * Postgres-backed runs and `synthgraph worker` (graph/worker.ts, graph/batch-queue.ts, graph/run-store.ts) on
 * examples/adult.csv (the kill test on harness.ts's small table), every model request answered by the generic
 * responder, whose replies are a function of
 * the request (its seed and prompt), so which process asks does not matter:
 *  - a run started with --store --workers as a child process, its final batches made by two worker processes;
 *    one worker is killed with SIGKILL while its batch's model call is in flight, then the coordinating process
 *    too; the run is resumed BY ID from a directory that never held it (another machine's view) while a fresh
 *    worker takes the jobs: exactly N rows, every batch stored once with its own seed, the same usage as the
 *    single-process run (no batch counted twice), and the same CSV as a single-process run;
 *  - a two-group conditions file through a worker (SYNTHIA, which also leaves duplicate rows out);
 *  - a Postgres-backed run paused at its pause point, steered (a new row count) and finished;
 *  - MALLM-GAN's and SynLLM's final batches through a worker;
 *  - a batch the model refuses in every attempt fails the run with the worker's message, and resume retries it;
 *  - a worker whose database goes away (a TCP proxy cut) says so, and says when it answers again.
 * Every run in them is compared with the same run on the run directory's SQLite in this process.
 */
import type { ChildProcess } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { type AddressInfo, connect, createServer, type Socket } from "node:net";
import { join, resolve } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GenerateSummary, runGenerate, runResume } from "../../cli/generate.ts";
import { runWorker } from "../../graph/worker.ts";
import { readRunState, steerRun } from "../../graph/steer.ts";
import { finalBatchKey, RowBatchSchema } from "../../state/artifacts.ts";
import { readMirroredRun } from "../../state/postgres.ts";
import { readRunFile, runPaths } from "../../state/run-dir.ts";
import { batchSeed } from "../../state/seeds.ts";
import {
  captureIo,
  csvLines,
  exited,
  loopbackModel,
  storedArtifacts,
  synthgraphChild,
  useLlmServer,
  useRunFiles,
} from "../support/harness.ts";
import {
  genericKindOf,
  genericResponder,
  type RealView,
  readRealView,
} from "../support/generic-responder.ts";
import type { RecordedRequest, Reply } from "../support/llm-server.ts";
import { skipWithoutPostgres, useTestDatabase } from "../support/postgres.ts";

const INPUT = resolve(import.meta.dirname, "../../examples/adult.csv");
const ROWS = 120;
const BATCH = 10;
const SEED = 13;
/** The job expiry of the run whose worker is killed: its job goes to another worker 4 s after it went silent. */
const KILLED_EXPIRE_SECONDS = 4;

/**
 * The first `passFirst` requests that `match` are answered at once, later ones wait until `release()` and are
 * then answered (a model server that stalls and recovers): a worker whose call waited finishes it and goes on.
 */
function gateAfter(
  base: (req: RecordedRequest) => string | Reply,
  match: (req: RecordedRequest) => boolean,
  passFirst: number,
): { responder: (req: RecordedRequest) => Promise<string | Reply>; release: () => void } {
  let passed = 0;
  let release!: () => void;
  const open = new Promise<void>((r) => (release = r));
  return {
    responder: async (req) => {
      if (match(req) && ++passed > passFirst) await open;
      return base(req);
    },
    release: () => release(),
  };
}

/**
 * A loopback TCP proxy to the database that can be cut (listener closed, every connection destroyed: the
 * database is gone for its clients) and restored on the same port.
 */
async function databaseProxy(target: number): Promise<{
  port: number;
  cut: () => Promise<void>;
  restore: () => Promise<void>;
}> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(target, "127.0.0.1");
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  const listen = (port: number): Promise<number> =>
    new Promise((res) => server.listen(port, "127.0.0.1", () => res((server.address() as AddressInfo).port)));
  const port = await listen(0);
  return {
    port,
    cut: async () => {
      const closed = new Promise<void>((res) => server.close(() => res()));
      for (const s of sockets) s.destroy();
      await closed;
    },
    restore: async () => {
      await listen(port);
    },
  };
}

const rowCount = (req: RecordedRequest): number =>
  Number(
    /Reply with exactly (\d+) rows/.exec(req.messages.find((m) => m.role === "user")?.content ?? "")?.[1],
  );
/** A SYNTHIA final batch request (probes ask for 20 rows, final batches for at most BATCH). */
const isFinal = (req: RecordedRequest): boolean =>
  genericKindOf(req) === "synthia-generator" && rowCount(req) <= BATCH;

describe.skipIf(skipWithoutPostgres("test/graph/worker.test.ts"))("Postgres-backed runs and workers", () => {
  const server = useLlmServer();
  const files = useRunFiles("synthgraph-workers-");
  const db = useTestDatabase();
  let view: RealView;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    view = await readRealView(INPUT, "income");
  });
  afterAll(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  });

  /**
   * The model server; no database from the environment (a run without --store stays in its directory). A job
   * whose worker went silent for `expireSeconds` goes to another worker (the default is 15 minutes): short where
   * a worker is killed, long elsewhere so that a batch slowed by a loaded machine is not done twice.
   */
  const env = (expireSeconds = 60): Record<string, string> => ({
    OLLAMA_HOST: server.ollamaUrl,
    SYNTHGRAPH_DATABASE_URL: "",
    SYNTHGRAPH_WORKER_EXPIRE_SECONDS: String(expireSeconds),
  });
  /** `generate` options (the CLI's, camel-cased) shared by a run and its reference. */
  const common = (extra: Record<string, unknown> = {}) => ({
    data: INPUT,
    model: loopbackModel("ollama"),
    target: "income",
    seed: String(SEED),
    probeRows: "20",
    batchRows: String(BATCH),
    examples: "8",
    maxIterations: "1",
    concurrency: "2",
    quiet: true,
    ...extra,
  });
  /** A run in this process with the given options; its SUMMARY.json. */
  const generate = async (name: string, o: Record<string, unknown>): Promise<GenerateSummary> => {
    const out = join(files.dir, `${name}.csv`);
    const json = join(files.dir, `${name}.json`);
    await runGenerate({ ...o, out, json, runDir: join(files.dir, name) } as never, captureIo(env()));
    return JSON.parse(readFileSync(json, "utf8")) as GenerateSummary;
  };
  /** A worker in this process until the returned function is called. */
  const inProcessWorker = (concurrency: number, expireSeconds?: number): (() => Promise<void>) => {
    const ac = new AbortController();
    const done = runWorker({
      url: db.url,
      concurrency,
      env: env(expireSeconds),
      signal: ac.signal,
      graceMs: 1000,
    });
    return async () => {
      ac.abort();
      await done;
    };
  };
  const withPool = async <T>(fn: (pool: pg.Pool) => Promise<T>): Promise<T> => {
    const pool = new pg.Pool({ connectionString: db.url, max: 2 });
    try {
      return await fn(pool);
    } finally {
      await pool.end();
    }
  };
  /** The final batches a run stored in PostgreSQL, by key. */
  const storedBatches = (runId: string): Promise<Map<string, unknown>> =>
    withPool(async (pool) => {
      const r = await pool
        .query<{ key: string; body: string }>(
          "SELECT key, body FROM synthgraph_artifacts WHERE run_id = $1 AND key ~ '^final/r[0-9]+-b[0-9]+$'",
          [runId],
        )
        .catch(() => ({ rows: [] as Array<{ key: string; body: string }> }));
      return new Map(r.rows.map((x) => [x.key, JSON.parse(x.body) as unknown]));
    });
  /** The final batches a single-process run stored in its directory, by key. */
  const directoryBatches = (runDir: string): Map<string, unknown> =>
    new Map(
      storedArtifacts(runDir, "final", /^r\d+-b\d+\.json$/).map((f) => [
        `final/${f.replace(/\.json$/, "")}`,
        JSON.parse(readFileSync(join(runDir, "artifacts", "final", f), "utf8")) as unknown,
      ]),
    );
  const rowsAndSeed = (b: unknown) => {
    const p = RowBatchSchema.parse(b);
    return { rows: p.rows, seed: p.seed, invalid: p.invalid, exact_copies: p.exact_copies };
  };
  const usageOf = (s: GenerateSummary) => ({
    calls: s.usage.calls,
    prompt_tokens: s.usage.prompt_tokens,
    completion_tokens: s.usage.completion_tokens,
  });
  const waitFor = async (cond: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (!(await cond())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  it("two worker processes, kill -9 of a worker mid-batch and of the coordinator, resumed by id elsewhere", async () => {
    // The small 4-column table (harness.ts): its synthetic rows repeat, so duplicate removal has work to do.
    const input = files.input;
    const small = await readRealView(input, "income");
    // The single-process reference: the run directory's SQLite, no workers.
    server.setDefault(genericResponder(small).respond);
    const ref = await generate("reference", common({ data: input, rows: String(ROWS) }));
    const refBatches = directoryBatches(join(files.dir, "reference"));
    expect(ref.rows).toBe(ROWS);
    // Some rows repeat, so the run's duplicate removal (and its recovery after the kill) has work to do.
    expect((ref.final as { duplicates_removed: number }).duplicates_removed).toBeGreaterThan(0);

    server.reset();
    // The first 6 final batches are answered; later ones wait until release, so both workers are mid-batch.
    const held = gateAfter(genericResponder(small).respond, isFinal, 6);
    server.setDefault(held.responder);
    const runId = "20261203-231500-1a2b3c";
    const out = join(files.dir, "workers.csv");
    const json = join(files.dir, "workers.json");
    const args = [
      "generate",
      input,
      "--out",
      out,
      "--json",
      json,
      "--run-dir",
      join(files.dir, "machine-a", runId),
      "--model",
      loopbackModel("ollama"),
      "--target",
      "income",
      "--seed",
      String(SEED),
      "--rows",
      String(ROWS),
      "--probe-rows",
      "20",
      "--batch-rows",
      String(BATCH),
      "--examples",
      "8",
      "--max-iterations",
      "1",
      "--concurrency",
      "2",
      "--quiet",
      "--store",
      db.url,
      "--workers",
    ];
    const spawn = (a: string[]): { child: ChildProcess; done: ReturnType<typeof exited> } => {
      const child = synthgraphChild(a, env(KILLED_EXPIRE_SECONDS), files.dir);
      children.push(child);
      return { child, done: exited(child) };
    };
    const workerArgs = ["worker", "--store", db.url, "--concurrency", "1", "--quiet", "--grace", "1"];
    const coordinator = spawn(args);
    const workerA = spawn(workerArgs);
    const workerB = spawn(workerArgs);
    // 6 batches stored and 2 more final requests in flight: one per worker (the coordinator waits for both).
    await waitFor(
      async () => (await storedBatches(runId)).size >= 6 && server.chatRequests().filter(isFinal).length >= 8,
      120_000,
      "two workers mid-batch",
    );
    const atKill = (await storedBatches(runId)).size;
    expect(atKill).toBeLessThan(refBatches.size);
    workerA.child.kill("SIGKILL");
    coordinator.child.kill("SIGKILL");
    expect((await workerA.done).signal).toBe("SIGKILL");
    expect((await coordinator.done).signal).toBe("SIGKILL");
    expect((await readRunFile(join(files.dir, "machine-a", runId))).status).toBe("running");
    held.release();

    // "Machine B": the run exists only in the database; its directory is recreated from the runs table. Worker B
    // goes on with a fresh worker beside it; the killed A's job expires and is retried.
    const stopWorker = inProcessWorker(2, KILLED_EXPIRE_SECONDS);
    const elsewhere = join(files.dir, "machine-b", runId);
    const io = captureIo(env(KILLED_EXPIRE_SECONDS));
    const resumed = (await runResume({ dir: elsewhere, store: db.url, quiet: true }, io)) as GenerateSummary;
    await stopWorker();
    workerB.child.kill("SIGTERM");
    // B stops between jobs (or after its grace period) and exits cleanly.
    expect((await workerB.done).code).toBe(0);
    expect(io.err()).toBe("");

    // Exactly N rows, the single-process run's CSV.
    expect(csvLines(out)).toHaveLength(ROWS + 1);
    expect(readFileSync(out, "utf8")).toBe(readFileSync(join(files.dir, "reference.csv"), "utf8"));
    // Every batch stored once, the single-process run's batches (same seeds, same rows), none extra.
    const stored = await storedBatches(runId);
    expect([...stored.keys()].sort()).toEqual([...refBatches.keys()].sort());
    for (const [key, b] of refBatches) expect(rowsAndSeed(stored.get(key))).toEqual(rowsAndSeed(b));
    expect(rowsAndSeed(stored.get(finalBatchKey(1, 3))).seed).toBe(batchSeed(SEED, 1, 3));
    // No batch counted twice: the run's usage and counters are the single-process run's.
    expect(resumed.rows).toBe(ROWS);
    expect(usageOf(resumed)).toEqual(usageOf(ref));
    expect(resumed.invalid_rows_dropped).toBe(ref.invalid_rows_dropped);
    expect(resumed.privacy).toEqual(ref.privacy);
    expect(resumed.final).toEqual(ref.final);
    // Nothing of the run went to a SQLite file; run.json and its mirror say done.
    expect(existsSync(runPaths(elsewhere).checkpoints)).toBe(false);
    expect((await readRunFile(elsewhere)).status).toBe("done");
    expect((await withPool((p) => readMirroredRun(p, runId)))?.status).toBe("done");
    // Machine A's run directory, left "running" by the kill, learns from the database that the run is done.
    const onA = captureIo(env(KILLED_EXPIRE_SECONDS));
    expect(await runResume({ dir: join(files.dir, "machine-a", runId), store: db.url }, onA)).toBeUndefined();
    expect(onA.out()).toBe(`already complete: ${ROWS} rows in ${out}\n`);
    await withPool(async (pool) => {
      // The killed worker's job expired and went to another worker.
      const retried = await pool.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM synthgraph_boss.job WHERE name = 'synthgraph-final-batch' AND retry_count > 0 AND data->>'runId' = $1",
        [runId],
      );
      expect(retried.rows[0].n).toBeGreaterThanOrEqual(1);
    });
  }, 300_000);

  it("a two-group conditions file through a worker: the single-process CSV, exact counts per group", async () => {
    const file = join(files.dir, "groups.json");
    writeFileSync(
      file,
      JSON.stringify([
        { where: 'sex == "Male"', rows: 14 },
        { where: 'age >= 30 and age <= 50 and sex == "Female"', rows: 9 },
      ]),
    );
    const o = common({ conditions: file, batchRows: "4" });
    server.setDefault(genericResponder(view).respond);
    const ref = await generate("groups-ref", o);
    server.reset();
    server.setDefault(genericResponder(view).respond);
    const stopWorker = inProcessWorker(2);
    const got = await generate("20261203-232000-c0c0c0", { ...o, store: db.url, workers: true });
    await stopWorker();
    expect(readFileSync(join(files.dir, "20261203-232000-c0c0c0.csv"), "utf8")).toBe(
      readFileSync(join(files.dir, "groups-ref.csv"), "utf8"),
    );
    expect(got.rows).toBe(23);
    expect(got.conditions).toEqual(ref.conditions);
    expect(usageOf(got)).toEqual(usageOf(ref));
    const stored = await storedBatches("20261203-232000-c0c0c0");
    const refBatches = directoryBatches(join(files.dir, "groups-ref"));
    // Batches of both groups and more than one round (the condition is met by ~70 % of the rows).
    expect([...stored.keys()].sort()).toEqual([...refBatches.keys()].sort());
    expect([...stored.keys()].some((k) => k.startsWith("final/r002-"))).toBe(true);
  }, 120_000);

  it("a batch that fails in every worker fails the run with the worker's error; resume retries it", async () => {
    const o = common({ rows: "20" });
    server.setDefault(genericResponder(view).respond);
    await generate("refused-ref", o);
    server.reset();
    const answer = genericResponder(view).respond;
    let refuse = true;
    // HTTP 400 is not retried by the model client: each attempt fails at once, and the queue retries the job.
    server.setDefault((req) =>
      refuse && isFinal(req)
        ? { kind: "error", status: 400, message: "request refused by the test server" }
        : answer(req),
    );
    const stopWorker = inProcessWorker(1);
    try {
      const runId = "20261204-091500-fa11ed";
      await expect(generate(runId, { ...o, store: db.url, workers: true })).rejects.toThrow(
        /failed in every worker: .*request refused by the test server/,
      );
      // Every attempt of the job reached the model: the first and its retries.
      expect(server.chatRequests().filter(isFinal).length).toBeGreaterThanOrEqual(5);
      refuse = false;
      const io = captureIo(env());
      const resumed = (await runResume(
        { dir: join(files.dir, runId), store: db.url, quiet: true },
        io,
      )) as GenerateSummary;
      expect(resumed.rows).toBe(20);
      expect(readFileSync(join(files.dir, `${runId}.csv`), "utf8")).toBe(
        readFileSync(join(files.dir, "refused-ref.csv"), "utf8"),
      );
    } finally {
      await stopWorker();
    }
  }, 120_000);

  it("a worker says when its database stops answering and when it answers again", async () => {
    const proxy = await databaseProxy(Number(new URL(db.url).port));
    const url = new URL(db.url);
    url.port = String(proxy.port);
    const events: Array<{ reachable: boolean; message?: string }> = [];
    let ready!: () => void;
    const started = new Promise<void>((r) => (ready = r));
    const ac = new AbortController();
    const done = runWorker({
      url: url.toString(),
      concurrency: 1,
      env: env(),
      signal: ac.signal,
      graceMs: 1000,
      healthMs: 100,
      onReady: ready,
      onDatabase: (e) => events.push(e),
    });
    try {
      await started;
      await new Promise((r) => setTimeout(r, 500));
      // Connected and answering: nothing to say.
      expect(events).toEqual([]);
      await proxy.cut();
      await waitFor(async () => events.length >= 1, 30_000, "the worker to notice the lost database");
      expect(events[0].reachable).toBe(false);
      expect(events[0].message).toMatch(/ECONNREFUSED|terminated|Connection/i);
      await proxy.restore();
      await waitFor(async () => events.length >= 2, 30_000, "the worker to notice the database is back");
      expect(events).toHaveLength(2);
      expect(events[1]).toEqual({ reachable: true });
    } finally {
      ac.abort();
      await done;
    }
  }, 120_000);

  it("a Postgres-backed run pauses, is steered (feedback, rows, stop) and finishes like the SQLite run", async () => {
    const steered = async (name: string, store: { store?: string }): Promise<void> => {
      server.reset();
      server.setDefault(genericResponder(view).respond);
      const dir = join(files.dir, name);
      const paused = await runGenerate(
        {
          ...common({ rows: "30", maxIterations: "3", pause: true, ...store }),
          out: join(files.dir, `${name}.csv`),
          runDir: dir,
        } as never,
        captureIo(env()),
      );
      expect("paused" in paused).toBe(true);
      const opts = { env: env(), ...(store.store ? { storeUrl: store.store } : {}) };
      // The pause point is read from the run's checkpoints, wherever they are.
      expect((await readRunState(dir, opts)).pause?.iteration).toBe(1);
      const outcome = await steerRun(
        dir,
        [
          { type: "feedback", text: "More rows with age over 60." },
          { type: "rows", rows: 24 },
          { type: "stop" },
        ],
        opts,
      );
      expect(outcome.status).toBe("resumed");
      expect(outcome.unapplied).toEqual([]);
      expect(outcome.result?.status).toBe("done");
      expect(csvLines(join(files.dir, `${name}.csv`))).toHaveLength(25);
    };
    await steered("steer-ref", {});
    const runId = "20261203-233000-5e5e5e";
    await steered(runId, { store: db.url });
    expect(readFileSync(join(files.dir, `${runId}.csv`), "utf8")).toBe(
      readFileSync(join(files.dir, "steer-ref.csv"), "utf8"),
    );
    expect(existsSync(runPaths(join(files.dir, runId)).checkpoints)).toBe(false);
    const mirrored = await withPool((p) => readMirroredRun(p, runId));
    expect(mirrored?.config.rows).toBe(24);
    expect(mirrored?.status).toBe("done");
  }, 120_000);

  // MALLM-GAN's final k-row calls and SynLLM's final mini-batches go through the same shared final generation:
  // a worker reads the engine's stored inputs (theta, prompt inputs) from the run's artifacts.
  it.each([
    ["mallm-gan", "3a3a3a", { epochs: "1", frozenEpochs: "1", mallmBatch: "20", examplesPerCall: "10" }],
    ["synllm", "5b5b5b", { promptType: "seedex", miniBatch: "10" }],
  ] as const)(
    "%s: final batches from a worker give the single-process CSV",
    async (engine, id, extra) => {
      const o = {
        data: INPUT,
        engine,
        model: loopbackModel("ollama"),
        target: "income",
        seed: "5",
        rows: "30",
        batchRows: "10",
        quiet: true,
        ...extra,
      };
      server.setDefault(genericResponder(view).respond);
      const ref = await generate(`${engine}-ref`, o);
      server.reset();
      server.setDefault(genericResponder(view).respond);
      const stopWorker = inProcessWorker(2);
      const runId = `20261203-234000-${id}`;
      const got = await generate(runId, { ...o, store: db.url, workers: true });
      await stopWorker();
      expect(readFileSync(join(files.dir, `${runId}.csv`), "utf8")).toBe(
        readFileSync(join(files.dir, `${engine}-ref.csv`), "utf8"),
      );
      expect(usageOf(got)).toEqual(usageOf(ref));
      const refBatches = directoryBatches(join(files.dir, `${engine}-ref`));
      expect(refBatches.size).toBeGreaterThan(0);
      expect([...(await storedBatches(runId)).keys()].sort()).toEqual([...refBatches.keys()].sort());
    },
    120_000,
  );
});
