/**
 * Durable runs: checkpoints stay small however many rows are requested, a run killed with SIGKILL mid-batch
 * resumes to exactly N rows without re-requesting or duplicating any written batch, and the same seed with
 * the same scripted responses gives a byte-identical CSV.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { SqliteSaver } from "@langchain/langgraph-checkpoint-sqlite";
import { describe, expect, it } from "vitest";
import { startRun } from "../../../graph/run.ts";
import { ArtifactStore, finalBatchKey, RowBatchSchema } from "../../../state/artifacts.ts";
import { batchSeed } from "../../../state/seeds.ts";
import { readRunFile } from "../../../state/run-dir.ts";
import {
  holdAfter,
  killThenResume,
  storedArtifacts,
  TEST_ENV,
  useLlmServer,
  useRunFiles,
} from "../../support/harness.ts";
import { PROVIDERS } from "../../support/llm-endpoints.ts";
import { kindOf, requestedRows, responder, seedOf, testConfig } from "../../support/synthia.ts";

const server = useLlmServer();
const files = useRunFiles("synthia-durable-");

/** Largest serialized checkpoint and largest pending write in a run's SQLite file. */
function checkpointBytes(runDir: string): { checkpoint: number; write: number; count: number } {
  const saver = SqliteSaver.fromConnString(join(runDir, "checkpoints.sqlite"));
  try {
    const c = saver.db
      .prepare("SELECT max(length(checkpoint)) AS m, count(*) AS n FROM checkpoints")
      .get() as { m: number; n: number };
    const w = saver.db.prepare("SELECT max(length(value)) AS m FROM writes").get() as { m: number };
    return { checkpoint: c.m, write: w.m, count: c.n };
  } finally {
    saver.db.close();
  }
}

function dirBytes(d: string): number {
  let total = 0;
  for (const name of readdirSync(d, { recursive: true }) as string[]) {
    const p = join(d, name);
    if (statSync(p).isFile()) total += statSync(p).size;
  }
  return total;
}

describe("checkpoint size", () => {
  it("does not grow with the requested rows or the probe rows", async () => {
    server.setDefault(responder());
    const small = { runDir: join(files.dir, "small"), out: join(files.dir, "small.csv") };
    const large = { runDir: join(files.dir, "large"), out: join(files.dir, "large.csv") };
    // 400 rows = 8 batches of 50 = one full fan-out wave (4 × concurrency 2), so both runs checkpoint a full
    // wave of pending Sends; the large run has 100 batches in 13 waves.
    await startRun(
      small.runDir,
      testConfig(server, "ollama", {
        input: files.input,
        out: small.out,
        rows: 400,
        probeRows: 20,
        batchRows: 50,
      }),
      { env: TEST_ENV },
    );
    await startRun(
      large.runDir,
      testConfig(server, "ollama", {
        input: files.input,
        out: large.out,
        rows: 5000,
        probeRows: 2000,
        batchRows: 50,
      }),
      { env: TEST_ENV },
    );
    const a = checkpointBytes(small.runDir);
    const b = checkpointBytes(large.runDir);
    // 12.5× the final rows and 100× the probe rows: the artifacts grow accordingly, the checkpoints by a few digits.
    expect(dirBytes(join(large.runDir, "artifacts"))).toBeGreaterThan(
      10 * dirBytes(join(small.runDir, "artifacts")),
    );
    expect(b.count).toBeGreaterThan(a.count);
    // Wider numbers (accepted 5000 vs 400, batch 99 vs 7, token counts) add a few bytes; one row batch held in
    // state would add kilobytes, the probe alone ~60 kB.
    expect(b.checkpoint).toBeLessThan(a.checkpoint * 1.05);
    expect(b.write).toBeLessThan(a.write * 1.05);
  });
});

describe.each(PROVIDERS)("determinism over %s", (provider) => {
  it("gives a byte-identical CSV for the same seed and scripted responses", async () => {
    server.setDefault(responder());
    const outs: string[] = [];
    for (const [i, seed] of [7, 7, 8].entries()) {
      const out = join(files.dir, `det-${provider}-${i}.csv`);
      await startRun(
        join(files.dir, `det-${provider}-${i}`),
        testConfig(server, provider, { input: files.input, out, rows: 45, seed }),
        { env: TEST_ENV },
      );
      outs.push(readFileSync(out, "utf8"));
    }
    expect(outs[1]).toBe(outs[0]);
    // A different seed gives different batches (the comparison above can fail).
    expect(outs[2]).not.toBe(outs[0]);
  });
});

// --- resume after kill -9, through the CLI in a child process ---------------------------------------------

const batchFiles = (runDir: string): string[] => storedArtifacts(runDir, "final");

describe("resume after kill -9", () => {
  it("ends with exactly N rows, no batch requested twice, none duplicated", async () => {
    // The first 5 final batches are answered; later ones hang until the kill, so the kill lands mid-run
    // (some batches written, others in flight) however loaded the machine is.
    const held = holdAfter(responder(), (req) => kindOf(req) === "generator" && requestedRows(req) === 10, 5);
    server.setDefault(held.responder);
    const served = { ...server.stats };
    const runDir = join(files.dir, "killed");
    const out = join(files.dir, "killed.csv");
    const json = join(files.dir, "killed.json");
    const args = [
      "generate",
      files.input,
      "--rows",
      "200",
      "--out",
      out,
      "--json",
      json,
      "--run-dir",
      runDir,
      "--model",
      "ollama:llama3.1:8b",
    ];
    args.push(
      "--seed",
      "11",
      "--probe-rows",
      "20",
      "--batch-rows",
      "10",
      "--examples",
      "8",
      "--max-iterations",
      "2",
      // The responder draws from 80 possible rows: 200 rows have duplicates, and this test counts batches.
      "--keep-duplicates",
    );
    const { atKill: writtenAtKill, requestsBefore } = await killThenResume({
      server,
      cwd: files.dir,
      args,
      runDir,
      stored: () => batchFiles(runDir),
      atLeast: 5,
      below: 20,
      timeoutMs: 30_000,
      pollMs: 10,
      afterKill: held.release,
    });

    const store = new ArtifactStore(join(runDir, "artifacts"));
    // Batch artifacts are written once and never changed: their seeds read now are those at the kill.
    const seedsAtKill = new Set<number>();
    for (const f of writtenAtKill)
      seedsAtKill.add((await store.require(`final/${f.replace(/\.json$/, "")}`, RowBatchSchema)).seed);

    const after = server
      .chatRequests()
      .slice(requestsBefore)
      .filter((r) => kindOf(r) === "generator");
    const seedsAfter = after.map(seedOf);
    // Nothing already written was asked for again, and nothing was asked twice after the resume.
    expect(seedsAfter.filter((s) => seedsAtKill.has(s))).toEqual([]);
    expect(new Set(seedsAfter).size).toBe(seedsAfter.length);
    // One round of 20 batches, each with its own seed, written once.
    expect(batchFiles(runDir)).toHaveLength(20);
    const rows: string[] = [];
    for (let b = 0; b < 20; b++) {
      const batch = await store.require(finalBatchKey(1, b), RowBatchSchema);
      expect(batch.seed).toBe(batchSeed(11, 1, b));
      for (const r of batch.rows) rows.push([r.age, r.sex, r.hours, r.income].join(","));
    }
    const lines = readFileSync(out, "utf8").trimEnd().split("\n");
    expect(lines[0]).toBe("age,sex,hours,income");
    expect(lines.slice(1)).toEqual(rows);
    expect(lines).toHaveLength(201);
    // Every call the server answered (the held ones never were) is counted once across the kill: the probe's,
    // the batches stored before it (their checkpoint writes kept or lost) and those made by the resume.
    const s = JSON.parse(readFileSync(json, "utf8"));
    expect(s.usage.calls).toBe(server.stats.completions - served.completions);
    expect(s.usage.prompt_tokens).toBe(server.stats.promptTokens - served.promptTokens);
    expect(s.usage.completion_tokens).toBe(server.stats.completionTokens - served.completionTokens);
    const run = await readRunFile(runDir);
    expect(run.status).toBe("done");
    expect(run.progress.rows_done).toBe(200);
  });
});
