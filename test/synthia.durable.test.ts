/**
 * Durable runs: checkpoints stay small however many rows are requested, a run killed with SIGKILL mid-batch
 * resumes to exactly N rows without re-requesting or duplicating any written batch, and the same seed with
 * the same scripted responses gives a byte-identical CSV.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { SqliteSaver } from "@langchain/langgraph-checkpoint-sqlite";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startRun } from "../graph/run.ts";
import { ArtifactStore, finalBatchKey, RowBatchSchema } from "../state/artifacts.ts";
import { batchSeed } from "../state/plan.ts";
import { readRunFile } from "../state/run-dir.ts";
import { PROVIDERS } from "./support/llm-endpoints.ts";
import { type LlmServer, reply, startLlmServer } from "./support/llm-server.ts";
import {
  goodRows,
  kindOf,
  requestedRows,
  responder,
  rowsReply,
  seedOf,
  TEST_ENV,
  testConfig,
  writeRealCsv,
} from "./support/synthia.ts";

let server: LlmServer;
let dir: string;
let input: string;

beforeAll(async () => {
  server = await startLlmServer();
  dir = mkdtempSync(join(tmpdir(), "synthia-durable-"));
  input = writeRealCsv(dir);
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => server.reset());

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
    const small = { runDir: join(dir, "small"), out: join(dir, "small.csv") };
    const large = { runDir: join(dir, "large"), out: join(dir, "large.csv") };
    // 400 rows = 8 batches of 50 = one full fan-out wave (4 × concurrency 2), so both runs checkpoint a full
    // wave of pending Sends; the large run has 100 batches in 13 waves.
    await startRun(
      small.runDir,
      testConfig(server, "ollama", { input, out: small.out, rows: 400, probeRows: 20, batchRows: 50 }),
      { env: TEST_ENV },
    );
    await startRun(
      large.runDir,
      testConfig(server, "ollama", { input, out: large.out, rows: 5000, probeRows: 2000, batchRows: 50 }),
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
      const out = join(dir, `det-${provider}-${i}.csv`);
      await startRun(
        join(dir, `det-${provider}-${i}`),
        testConfig(server, provider, { input, out, rows: 45, seed }),
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

const ROOT = resolve(import.meta.dirname, "..");
const registered = readFileSync(join(ROOT, "cli/commands.ts"), "utf8").includes("generateCommand");

/** `synthgraph <args>`: bin/synthgraph.js once the lead registers the commands, else the same actions directly. */
function cli(args: string[], env: Record<string, string>): ChildProcess {
  const childEnv = { ...process.env, ...env };
  if (registered)
    return spawn(process.execPath, [join(ROOT, "bin/synthgraph.js"), ...args], { env: childEnv, cwd: dir });
  const mod = pathToFileURL(join(ROOT, "cli/generate.ts")).href;
  const code = `
    import { Command } from "commander";
    import { generateCommand, resumeCommand, runsCommand } from ${JSON.stringify(mod)};
    const p = new Command("synthgraph").exitOverride();
    for (const m of [generateCommand, resumeCommand, runsCommand]) m.register(p);
    try { await p.parseAsync(process.argv.slice(1), { from: "user" }); }
    catch (e) {
      process.stderr.write("synthgraph: " + e.message + "\\n" + (e.hint ? "  what to do: " + e.hint + "\\n" : ""));
      process.exitCode = typeof e.exitCode === "number" && e.exitCode !== 0 ? e.exitCode : 1;
    }`;
  return spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code, ...args], {
    env: childEnv,
    cwd: ROOT,
  });
}

function exited(
  child: ChildProcess,
): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  let stderr = "";
  child.stderr?.on("data", (b: Buffer) => {
    stderr += b.toString();
  });
  return new Promise((res) => child.on("exit", (code, signal) => res({ code, signal, stderr })));
}

const batchFiles = (runDir: string): string[] => {
  const d = join(runDir, "artifacts", "final");
  return existsSync(d)
    ? readdirSync(d)
        .filter((f) => f.endsWith(".json") && !f.startsWith("."))
        .sort()
    : [];
};

describe("resume after kill -9", () => {
  it("ends with exactly N rows, no batch requested twice, none duplicated", async () => {
    const base = responder();
    // Final batches answer slowly so the kill lands while some are written and others are in flight.
    server.setDefault((req) => {
      if (kindOf(req) === "generator" && requestedRows(req) === 10) {
        return reply.text(rowsReply(goodRows(seedOf(req), 10)), { delayMs: 120 });
      }
      return base(req);
    });
    const runDir = join(dir, "killed");
    const out = join(dir, "killed.csv");
    const env = { OLLAMA_HOST: server.ollamaUrl };
    const args = [
      "generate",
      input,
      "--rows",
      "200",
      "--out",
      out,
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
    );
    const child = cli(args, env);
    const done = exited(child);
    const deadline = Date.now() + 30_000;
    while (batchFiles(runDir).length < 3 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    child.kill("SIGKILL");
    const killed = await done;
    expect(killed.signal).toBe("SIGKILL");
    expect((await readRunFile(runDir)).status).toBe("running");

    const store = new ArtifactStore(join(runDir, "artifacts"));
    const writtenAtKill = batchFiles(runDir);
    expect(writtenAtKill.length).toBeGreaterThanOrEqual(3);
    expect(writtenAtKill.length).toBeLessThan(20);
    const seedsAtKill = new Set<number>();
    for (const f of writtenAtKill)
      seedsAtKill.add((await store.require(`final/${f.replace(/\.json$/, "")}`, RowBatchSchema)).seed);
    const requestsBefore = server.chatRequests().length;

    const resumed = await exited(cli(["resume", runDir], env));
    expect(resumed.stderr).not.toMatch(/error/i);
    expect(resumed.code).toBe(0);

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
    const run = await readRunFile(runDir);
    expect(run.status).toBe("done");
    expect(run.progress.rows_done).toBe(200);
  });
});
